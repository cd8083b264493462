import * as fs from 'node:fs';
import type { Database } from 'sql.js';
import { isRejection, type SourceName } from '../core/model';
import { RepoFinder } from '../git/repo';
import { claudeCode } from '../sources/claude';
import { codex } from '../sources/codex';
import { copilotChat } from '../sources/copilot';
import { isWholeJson, readLines } from '../sources/lines';
import type { LogFile, SourceReader } from '../sources/parser';
import { CursorWriter, loadCursors, saveRejects, type FileCursor } from '../store/files';
import type { Ledger, WriteContext } from '../store/ledger';
import { RecordWriter } from '../store/records';
import { getMeta, setMeta } from '../store/schema';

/** Every source this build can read, in display order. */
export const READERS: readonly SourceReader[] = [claudeCode, codex, copilotChat];

export interface ExtraSource {
  source: SourceName;
  path: string;
}

export interface ImportOptions {
  env?: NodeJS.ProcessEnv;
  /** Paths given with `--source NAME=PATH` or the extension's settings, read in addition to the detected roots. */
  extra?: ExtraSource[];
  /** Sources to leave out (disabled in settings). */
  disabled?: ReadonlySet<SourceName>;
  storePromptText?: boolean;
  /** Bytes read so far of the bytes that need reading. */
  onProgress?: (done: number, total: number) => void;
  /** Save progress after this many bytes read (a killed cold import keeps what it finished). */
  checkpointBytes?: number;
  /** An unterminated last line is only taken once its file has been quiet this long (the tool may still be writing). */
  quietMs?: number;
  now?: () => number;
  /** How long to wait for another writer before giving up (LockTimeoutError). */
  timeoutMs?: number;
}

export interface SourceSummary {
  source: SourceName;
  roots: string[];
  found: boolean;
  files: number;
  filesRead: number;
  interactionsAdded: number;
  duplicatesSkipped: number;
  linesRejected: number;
  reasons: string[];
}

export interface ImportSummary {
  sources: SourceSummary[];
  bytesRead: number;
  elapsedMs: number;
}

const MAX_REASONS = 5;

interface Planned {
  file: LogFile;
  reader: SourceReader;
  stat: fs.Stats;
  cursor: FileCursor | undefined;
}

/** The folders each enabled source is read from: its own detected roots plus any extra paths. */
export function sourceRoots(env: NodeJS.ProcessEnv, extra: ExtraSource[] = [], disabled: ReadonlySet<SourceName> = new Set()): Map<SourceName, string[]> {
  const out = new Map<SourceName, string[]>();
  for (const reader of READERS) {
    if (disabled.has(reader.source)) continue;
    // The same folder given twice (a detected root also named in the settings) is listed once.
    out.set(reader.source, [...new Set([...reader.roots(env), ...extra.filter((e) => e.source === reader.source).map((e) => e.path)])]);
  }
  return out;
}

/** A folder to watch for live changes, and which changed files (relative to it) are logs worth an import. */
export interface WatchTarget {
  dir: string;
  /** The file-name pattern for VS Code's watcher (relative to `dir`). */
  glob: string;
  accepts(relative: string): boolean;
}

const JSONL = (f: string): boolean => f.endsWith('.jsonl');
const SESSION_JSON = (f: string): boolean => f.endsWith('.jsonl') || f.endsWith('.json');

/**
 * What live capture watches. Sources inside VS Code's user folder (Copilot Chat) watch only where sessions are kept,
 * never the whole user folder (busy, and many folders: a recursive watch there would be costly).
 */
export function watchTargets(env: NodeJS.ProcessEnv, extra: ExtraSource[] = [], disabled: ReadonlySet<SourceName> = new Set()): WatchTarget[] {
  const out: WatchTarget[] = [];
  for (const [source, roots] of sourceRoots(env, extra, disabled)) {
    for (const root of roots) {
      if (source !== 'copilot-chat') {
        out.push({ dir: root, glob: '**/*.jsonl', accepts: JSONL });
        continue;
      }
      const base = root.split(/[\\/]/).pop();
      if (base === 'chatSessions' || base === 'emptyWindowChatSessions') {
        out.push({ dir: root, glob: '*.{json,jsonl}', accepts: SESSION_JSON });
        continue;
      }
      out.push(
        { dir: `${root}/workspaceStorage`, glob: '*/chatSessions/*.{json,jsonl}', accepts: (f) => SESSION_JSON(f) && /(^|[\\/])chatSessions[\\/][^\\/]+$/.test(f) },
        { dir: `${root}/globalStorage/emptyWindowChatSessions`, glob: '*.{json,jsonl}', accepts: SESSION_JSON },
      );
    }
  }
  return out;
}

function discoverAll(env: NodeJS.ProcessEnv, extra: ExtraSource[], disabled: ReadonlySet<SourceName>): Map<SourceReader, { roots: string[]; files: LogFile[] }> {
  const out = new Map<SourceReader, { roots: string[]; files: LogFile[] }>();
  const rootsBySource = sourceRoots(env, extra, disabled);
  for (const reader of READERS) {
    const roots = rootsBySource.get(reader.source);
    if (!roots) continue;
    const files: LogFile[] = [];
    const seen = new Set<string>();
    for (const root of roots) {
      let isFile: boolean;
      try {
        isFile = fs.statSync(root).isFile();
      } catch {
        continue;
      }
      const found = isFile ? [{ source: reader.source, path: root, root }] : reader.discover([root]);
      for (const f of found) {
        if (seen.has(f.path)) continue;
        seen.add(f.path);
        files.push(f);
      }
    }
    out.set(reader, { roots, files });
  }
  return out;
}

/**
 * Imports every detected source into the ledger, incrementally: per file the ledger remembers identity, size, mtime
 * and the offset after the last complete line, so unchanged files cost one stat and changed ones resume where they
 * stopped. Everything happens in one ledger write (one lock), checkpointed as it goes.
 */
export async function importAll(ledger: Ledger, options: ImportOptions = {}): Promise<ImportSummary> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const discovered = discoverAll(env, options.extra ?? [], options.disabled ?? new Set());
  return ledger.write((db, ctx) => runImport(db, ctx, discovered, options, started), options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
}

function runImport(
  db: Database,
  ctx: WriteContext,
  discovered: Map<SourceReader, { roots: string[]; files: LogFile[] }>,
  options: ImportOptions,
  started: number,
): ImportSummary {
  const now = options.now ?? Date.now;
  const quietMs = options.quietMs ?? 60_000;
  const checkpointBytes = options.checkpointBytes ?? 128 << 20;
  const cursors = loadCursors(db);
  const cursorWriter = new CursorWriter(db);
  const summaries: SourceSummary[] = [];
  const plan: Planned[] = [];
  let totalBytes = 0;
  for (const [reader, { roots, files }] of discovered) {
    const summary: SourceSummary = {
      source: reader.source, roots, found: files.length > 0, files: 0, filesRead: 0,
      interactionsAdded: 0, duplicatesSkipped: 0, linesRejected: 0, reasons: [],
    };
    summaries.push(summary);
    for (const file of files) {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file.path);
      } catch {
        continue; // deleted between discovery and now
      }
      summary.files++;
      const cursor = cursors.get(file.path);
      if (file.skip) {
        if (cursor?.status !== file.skip) cursorWriter.save({ ...blankCursor(file, stat), status: file.skip });
        continue;
      }
      const unchanged =
        cursor && cursor.status === null && cursor.ino === stat.ino && cursor.dev === stat.dev &&
        cursor.size === stat.size && cursor.mtimeMs === Math.floor(stat.mtimeMs);
      // An unchanged file costs one stat; one with an unterminated last line is looked at again once it is quiet.
      if (unchanged && (cursor.offset === stat.size || now() - stat.mtimeMs < quietMs)) continue;
      // Whole-file formats are read from the start whenever they changed (natural keys keep re-reads from counting twice).
      const resumable = !reader.readWhole && cursor && cursor.status === null && cursor.ino === stat.ino && cursor.dev === stat.dev && stat.size >= cursor.offset;
      plan.push({ file, reader, stat, cursor: resumable ? cursor : undefined });
      totalBytes += stat.size - (resumable ? cursor.offset : 0);
    }
  }

  const bySource = new Map(summaries.map((s) => [s.source, s]));
  const repos = new RepoFinder();
  const writer = new RecordWriter(db, { repoOf: (cwd) => repos.rootOf(cwd), storePromptText: options.storePromptText ?? false });
  let done = 0;
  let sinceCheckpoint = 0;
  try {
    for (const item of plan) {
      const summary = bySource.get(item.reader.source);
      if (!summary) continue;
      const read = importFile(item, writer, summary, now, quietMs, (n) => {
        done += n;
        sinceCheckpoint += n;
        options.onProgress?.(done, totalBytes);
      });
      cursorWriter.save(read.cursor);
      // A whole file's rejects are those of its latest read, not added to the earlier ones.
      if (item.reader.readWhole) db.run('DELETE FROM rejects WHERE path = ?', [item.file.path]);
      saveRejects(db, item.reader.source, item.file.path, read.rejects);
      summary.filesRead++;
      if (sinceCheckpoint >= checkpointBytes) {
        sinceCheckpoint = 0;
        writer.checkpoint();
        ctx.checkpoint();
      }
    }
  } finally {
    writer.free();
    cursorWriter.free();
  }
  if (summaries.some((s) => s.filesRead > 0)) {
    const at = new Date(now()).toISOString();
    if (!getMeta(db, 'first_import')) setMeta(db, 'first_import', at);
    setMeta(db, 'last_new_data', at);
  }
  return { sources: summaries, bytesRead: done, elapsedMs: Date.now() - started };
}

function blankCursor(file: LogFile, stat: fs.Stats): FileCursor {
  return {
    path: file.path, source: file.source, dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: Math.floor(stat.mtimeMs),
    offset: 0, lineNo: 0, state: null, rejected: 0, status: null,
  };
}

function importFile(
  item: Planned,
  writer: RecordWriter,
  summary: SourceSummary,
  now: () => number,
  quietMs: number,
  onBytes: (n: number) => void,
): { cursor: FileCursor; rejects: Array<{ lineNo: number; reason: string }> } {
  const { file, reader, stat } = item;
  if (reader.readWhole) return importWholeFile(item, reader.readWhole.bind(reader), writer, summary, now, quietMs, onBytes);
  const base = item.cursor ?? blankCursor(file, stat);
  if (!reader.createParser) throw new Error(`${reader.source} has no parser`);
  const parser = reader.createParser(file, item.cursor ? item.cursor.state : null);
  const rejects: Array<{ lineNo: number; reason: string }> = [];
  let rejectedHere = 0;
  const reject = (lineNo: number, reason: string): void => {
    rejectedHere++;
    summary.linesRejected++;
    if (rejects.length < MAX_REASONS) rejects.push({ lineNo, reason });
    if (summary.reasons.length < MAX_REASONS) summary.reasons.push(`${file.path}:${lineNo}: ${reason}`);
  };
  let fd: number;
  try {
    fd = fs.openSync(file.path, 'r');
  } catch (e) {
    reject(0, `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return { cursor: { ...base, rejected: base.rejected + rejectedHere }, rejects };
  }
  let result;
  try {
    const quiet = now() - stat.mtimeMs >= quietMs;
    result = readLines(
      fd,
      base.offset,
      stat.size,
      base.lineNo,
      (buf, start, end, lineNo) => {
        let outcome;
        try {
          outcome = parser.parse(buf, start, end);
        } catch (e) {
          reject(lineNo, `unreadable line (${(e as Error).message})`);
          return;
        }
        if (outcome === null) return;
        if (isRejection(outcome)) {
          reject(lineNo, outcome.reason);
          return;
        }
        for (const record of outcome) {
          const r = writer.add(record, file.path);
          if (r === 'added') summary.interactionsAdded++;
          else if (r === 'duplicate') summary.duplicatesSkipped++;
        }
      },
      { acceptTail: quiet ? isWholeJson : undefined, onProgress: onBytes },
    );
  } finally {
    fs.closeSync(fd);
  }
  for (const lineNo of result.overlong) reject(lineNo, 'line longer than 64 MB (skipped)');
  return {
    cursor: {
      ...base,
      dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: Math.floor(stat.mtimeMs),
      offset: result.offset, lineNo: result.lineNo, state: parser.state(), rejected: base.rejected + rejectedHere, status: null,
    },
    rejects,
  };
}

/** Whole files over this size are not session documents (they are skipped with a reason, not read into memory). */
export const MAX_WHOLE_FILE_BYTES = 256 << 20;

/**
 * A file read whole (a JSON document, a mutation log to replay): its bytes are handed to the reader at once; what it
 * finds is written with the same natural-key dedup as any line, so a re-read adds only what is new. A file that looks
 * half-written keeps offset 0 and is read again once it has been quiet.
 */
function importWholeFile(
  item: Planned,
  readWhole: NonNullable<SourceReader['readWhole']>,
  writer: RecordWriter,
  summary: SourceSummary,
  now: () => number,
  quietMs: number,
  onBytes: (n: number) => void,
): { cursor: FileCursor; rejects: Array<{ lineNo: number; reason: string }> } {
  const { file, stat } = item;
  const rejects: Array<{ lineNo: number; reason: string }> = [];
  let rejectedHere = 0;
  const reject = (lineNo: number, reason: string): void => {
    rejectedHere++;
    summary.linesRejected++;
    if (rejects.length < MAX_REASONS) rejects.push({ lineNo, reason });
    if (summary.reasons.length < MAX_REASONS) summary.reasons.push(`${file.path}${lineNo > 0 ? `:${lineNo}` : ''}: ${reason}`);
  };
  const cursorOf = (offset: number, lineNo: number): FileCursor => ({
    ...blankCursor(file, stat), offset, lineNo, rejected: rejectedHere,
  });
  if (stat.size > MAX_WHOLE_FILE_BYTES) {
    reject(0, `file larger than ${MAX_WHOLE_FILE_BYTES >> 20} MB (skipped)`);
    return { cursor: cursorOf(stat.size, 0), rejects };
  }
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file.path);
  } catch (e) {
    reject(0, `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return { cursor: cursorOf(0, 0), rejects };
  }
  onBytes(buf.length);
  const quiet = now() - stat.mtimeMs >= quietMs;
  let result;
  try {
    result = readWhole(file, buf, quiet);
  } catch (e) {
    reject(0, `unreadable file (${(e as Error).message})`);
    return { cursor: cursorOf(buf.length, 0), rejects };
  }
  for (const r of result.rejects) reject(r.lineNo, r.reason);
  for (const record of result.records) {
    const r = writer.add(record, file.path);
    if (r === 'added') summary.interactionsAdded++;
    else if (r === 'duplicate') summary.duplicatesSkipped++;
  }
  let lines = 0;
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) lines++;
  // Size as read (the file may have grown since the stat): a later change is seen as a change.
  return { cursor: { ...cursorOf(result.complete ? stat.size : 0, lines) }, rejects };
}
