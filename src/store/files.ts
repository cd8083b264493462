import type { Database, Statement } from 'sql.js';
import type { SourceName } from '../core/usage/model';

/** What the ledger remembers per log file so unchanged files cost one stat and changed ones resume where they stopped. */
export interface FileCursor {
  path: string;
  source: SourceName;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** Byte offset after the last complete line read. */
  offset: number;
  lineNo: number;
  /** Parser state carried between reads (Codex: the cumulative totals seen so far). */
  state: string | null;
  rejected: number;
  /** Why the file is not read (for example an archived copy of an active file), or null. */
  status: string | null;
}

/**
 * The cursors of every file, or of the given paths only (a capture of the files a watcher reported reads a few rows,
 * not one per log file ever seen).
 */
export function loadCursors(db: Database, only?: readonly string[]): Map<string, FileCursor> {
  const out = new Map<string, FileCursor>();
  const select = 'SELECT path, source, dev, ino, size, mtime_ms, offset, line_no, state, rejected, status FROM files';
  const stmt = db.prepare(only ? `${select} WHERE path IN (SELECT value FROM json_each(?))` : select);
  if (only) stmt.bind([JSON.stringify(only)]);
  try {
    while (stmt.step()) {
      const [p, source, dev, ino, size, mtimeMs, offset, lineNo, state, rejected, status] = stmt.get();
      out.set(String(p), {
        path: String(p),
        source: String(source) as SourceName,
        dev: Number(dev),
        ino: Number(ino),
        size: Number(size),
        mtimeMs: Number(mtimeMs),
        offset: Number(offset),
        lineNo: Number(lineNo),
        state: state === null ? null : String(state),
        rejected: Number(rejected),
        status: status === null ? null : String(status),
      });
    }
  } finally {
    stmt.free();
  }
  return out;
}

const SAVE_CURSOR =
  'INSERT OR REPLACE INTO files (path, source, dev, ino, size, mtime_ms, offset, line_no, state, rejected, status) VALUES (?,?,?,?,?,?,?,?,?,?,?)';

/** Saves cursors with one prepared statement (an import saves one per file read). */
export class CursorWriter {
  private readonly stmt: Statement;
  constructor(db: Database) {
    this.stmt = db.prepare(SAVE_CURSOR);
  }

  save(c: FileCursor): void {
    this.stmt.run([
      c.path,
      c.source,
      c.dev,
      c.ino,
      c.size,
      Math.floor(c.mtimeMs),
      c.offset,
      c.lineNo,
      c.state,
      c.rejected,
      c.status,
    ]);
  }

  free(): void {
    this.stmt.free();
  }
}

/** The first reasons per source are kept for the data-health view; beyond that only counts. */
export const MAX_REJECT_REASONS_PER_SOURCE = 20;

export function saveRejects(
  db: Database,
  source: SourceName,
  path: string,
  rejects: ReadonlyArray<{ lineNo: number; reason: string }>,
): void {
  if (rejects.length === 0) return;
  const have = Number(db.exec('SELECT count(*) FROM rejects WHERE source = ?', [source])[0]?.values[0]?.[0] ?? 0);
  const room = MAX_REJECT_REASONS_PER_SOURCE - have;
  for (const r of rejects.slice(0, Math.max(0, room))) {
    db.run('INSERT INTO rejects (source, path, line_no, reason) VALUES (?,?,?,?)', [source, path, r.lineNo, r.reason]);
  }
}

export interface SourceHealth {
  source: SourceName;
  files: number;
  rejectedLines: number;
  reasons: Array<{ path: string; lineNo: number; reason: string }>;
}

export function sourceHealth(db: Database): SourceHealth[] {
  const bySource = new Map<string, SourceHealth>();
  const r = db.exec('SELECT source, count(*), sum(rejected) FROM files WHERE status IS NULL GROUP BY source');
  for (const [source, files, rejected] of r[0]?.values ?? []) {
    bySource.set(String(source), {
      source: String(source) as SourceName,
      files: Number(files),
      rejectedLines: Number(rejected ?? 0),
      reasons: [],
    });
  }
  const reasons = db.exec('SELECT source, path, line_no, reason FROM rejects ORDER BY rowid');
  for (const [source, p, lineNo, reason] of reasons[0]?.values ?? []) {
    bySource.get(String(source))?.reasons.push({ path: String(p), lineNo: Number(lineNo), reason: String(reason) });
  }
  return [...bySource.values()].sort((a, b) => a.source.localeCompare(b.source));
}
