import type { Database, SqlValue, Statement } from 'sql.js';
import type { SourceName } from '../core/usage/model';
import { PathInterner, PATH_ID_SQL, splitPath } from './paths';

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

function cursorOfRow(row: SqlValue[]): FileCursor {
  const [p, source, dev, ino, size, mtimeMs, offset, lineNo, state, rejected, status] = row;
  return {
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
  };
}

const CURSOR_COLUMNS =
  'p.text || f.name, f.source, f.dev, f.ino, f.size, f.mtime_ms, f.offset, f.line_no, f.state, f.rejected, f.status';
/** One file's cursor by its key: the folder through its unique text, then the file by folder and name. */
const CURSOR_BY_KEY = `SELECT ${CURSOR_COLUMNS} FROM paths p JOIN files f ON f.dir_ref = p.id WHERE p.text = ? AND f.name = ?`;

/** The cursor of `path` through a prepared CURSOR_BY_KEY statement (reset after, ready for the next path). */
function cursorByKey(stmt: Statement, path: string): FileCursor | undefined {
  try {
    stmt.bind(splitPath(path));
    return stmt.step() ? cursorOfRow(stmt.get()) : undefined;
  } finally {
    stmt.reset();
  }
}

/**
 * The cursors of every file, or of the given paths only (a capture of the files a watcher reported reads a few rows,
 * not one per log file ever seen). Files are keyed by folder and name (schema 10, store/paths.ts): a path given is
 * found through the folder's unique index and the files' key, never by reading every row.
 */
export function loadCursors(db: Database, only?: readonly string[]): Map<string, FileCursor> {
  const out = new Map<string, FileCursor>();
  const stmt = db.prepare(
    only ? CURSOR_BY_KEY : `SELECT ${CURSOR_COLUMNS} FROM files f JOIN paths p ON p.id = f.dir_ref`,
  );
  try {
    if (!only)
      while (stmt.step()) {
        const cursor = cursorOfRow(stmt.get());
        out.set(cursor.path, cursor);
      }
    // One lookup per path asked for, by its key.
    else
      for (const path of only) {
        const cursor = cursorByKey(stmt, path);
        if (cursor) out.set(cursor.path, cursor);
      }
  } finally {
    stmt.free();
  }
  return out;
}

/** What the unchanged test needs of a file's cursor (the full cursor is read only for a file about to be read). */
export interface CursorFacts {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  offset: number;
  status: string | null;
}

/** The cursors an import plans with: the facts of each known file, and the full cursor of one about to be read. */
export interface Cursors {
  facts(path: string): CursorFacts | undefined;
  cursor(path: string): FileCursor | undefined;
}

/** Cursors already loaded whole (a capture's few files: `loadCursors(db, paths)`). */
export function cursorsOf(loaded: ReadonlyMap<string, FileCursor>): Cursors {
  return { facts: (p) => loaded.get(p), cursor: (p) => loaded.get(p) };
}

/**
 * Cursors looked up one file at a time by key (a light rescan plans the few files it stats: reading every file's row
 * would cost more than its whole scan).
 */
export class CursorsByKey implements Cursors {
  private readonly got = new Map<string, FileCursor | undefined>();
  private stmt: Statement | undefined;

  constructor(private readonly db: Database) {}

  facts(path: string): CursorFacts | undefined {
    return this.cursor(path);
  }

  cursor(path: string): FileCursor | undefined {
    if (this.got.has(path)) return this.got.get(path);
    const found = cursorByKey((this.stmt ??= this.db.prepare(CURSOR_BY_KEY)), path);
    this.got.set(path, found);
    return found;
  }

  free(): void {
    this.stmt?.free();
    this.stmt = undefined;
  }
}

/**
 * Every file's cursor facts, held compactly: one index per path and a column of numbers per fact, read without the
 * join, the parser state or the other columns (a year's ledger holds ~50,000 files and MBs of Codex state, and a warm
 * import needs the state of none of them). A full cursor is looked up by key for each file about to be read.
 */
export class CompactCursors implements Cursors {
  /** Folder, then name (as the ledger keeps them): no key string per file beyond the names the rows give. */
  private readonly at = new Map<string, Map<string, number>>();
  private readonly numbers: Float64Array;
  /** The few statuses set (null for every file that is read). */
  private readonly statuses = new Map<number, string>();
  private lookup: Statement | undefined;

  constructor(private readonly db: Database) {
    const count = Number(db.exec('SELECT count(*) FROM files')[0]?.values[0]?.[0] ?? 0);
    // Every path row (the folders of files, and the few of sessions' working folders): cheaper than asking which are
    // files' folders, which reads the files table once more.
    const folders = new Map<number, string>();
    const paths = db.prepare('SELECT id, text FROM paths');
    try {
      while (paths.step()) {
        const [id, text] = paths.get();
        folders.set(Number(id), String(text));
      }
    } finally {
      paths.free();
    }
    this.numbers = new Float64Array(count * FACTS);
    const rows = db.prepare('SELECT dir_ref, name, dev, ino, size, mtime_ms, offset, status FROM files');
    try {
      let i = 0;
      while (i < count && rows.step()) {
        const [dirRef, name, dev, ino, size, mtimeMs, offset, status] = rows.get();
        const folder = folders.get(Number(dirRef));
        if (folder === undefined) continue; // as the join would: a file whose folder has no row is not known
        let names = this.at.get(folder);
        if (!names) this.at.set(folder, (names = new Map()));
        names.set(String(name), i);
        const n = i * FACTS;
        this.numbers[n] = Number(dev);
        this.numbers[n + 1] = Number(ino);
        this.numbers[n + 2] = Number(size);
        this.numbers[n + 3] = Number(mtimeMs);
        this.numbers[n + 4] = Number(offset);
        if (status !== null) this.statuses.set(i, String(status));
        i++;
      }
    } finally {
      rows.free();
    }
  }

  private indexOf(path: string): number | undefined {
    const [folder, name] = splitPath(path);
    return this.at.get(folder)?.get(name);
  }

  facts(path: string): CursorFacts | undefined {
    const i = this.indexOf(path);
    if (i === undefined) return undefined;
    const n = i * FACTS;
    return {
      dev: this.numbers[n]!,
      ino: this.numbers[n + 1]!,
      size: this.numbers[n + 2]!,
      mtimeMs: this.numbers[n + 3]!,
      offset: this.numbers[n + 4]!,
      status: this.statuses.get(i) ?? null,
    };
  }

  cursor(path: string): FileCursor | undefined {
    if (this.indexOf(path) === undefined) return undefined;
    return cursorByKey((this.lookup ??= this.db.prepare(CURSOR_BY_KEY)), path);
  }

  free(): void {
    this.lookup?.free();
    this.lookup = undefined;
  }
}

/** dev, ino, size, mtimeMs, offset */
const FACTS = 5;

/**
 * An upsert, not INSERT OR REPLACE: the update of a known file fires the per-source triggers with its old and new
 * counts (a REPLACE deletes without firing them), so `source_totals` stays exact (store/aggregates.ts).
 */
const SAVE_CURSOR = `INSERT INTO files (dir_ref, name, source, dev, ino, size, mtime_ms, offset, line_no, state, rejected, status) VALUES (${PATH_ID_SQL},?,?,?,?,?,?,?,?,?,?,?)
  ON CONFLICT (dir_ref, name) DO UPDATE SET source = excluded.source, dev = excluded.dev, ino = excluded.ino,
    size = excluded.size, mtime_ms = excluded.mtime_ms, offset = excluded.offset, line_no = excluded.line_no,
    state = excluded.state, rejected = excluded.rejected, status = excluded.status`;

/**
 * Saves cursors with prepared statements (an import saves one per file read): the file's folder is interned first
 * (store/paths.ts), then the row refers to it.
 */
export class CursorWriter {
  private readonly stmt: Statement;
  private readonly paths: PathInterner;
  constructor(db: Database) {
    this.paths = new PathInterner(db);
    this.stmt = db.prepare(SAVE_CURSOR);
  }

  save(c: FileCursor): void {
    const [folder, name] = splitPath(c.path);
    this.paths.intern(folder);
    this.stmt.run([
      folder,
      name,
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
    this.paths.free();
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
  // From the per-source aggregates (store/aggregates.ts): a row per source, not a pass over every file.
  const r = db.exec('SELECT source, files, rejected FROM source_totals WHERE files > 0');
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
