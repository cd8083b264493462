import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { implausible } from '../core/usage/bounds';
import { duplicateKeyIn } from '../core/common/json';
import { cleanText } from '../core/common/text';
import { isRejection, type LedgerRecord, type SourceName } from '../core/usage/model';
import { RepoFinder } from '../git/repo';
import { claudeCode } from '../sources/claude';
import { codex } from '../sources/codex';
import { copilotChat } from '../sources/copilot';
import { aider, AIDER_HISTORY } from '../sources/aider';
import { cline, rooCode } from '../sources/cline';
import { continueDev } from '../sources/continue';
import { geminiCli } from '../sources/gemini';
import { opencode } from '../sources/opencode';
import { kiro } from '../sources/kiro';
import { amazonQ } from '../sources/amazonQ';
import { cursor } from '../sources/cursor';
import { copilotCli } from '../sources/copilotCli';
import { amp } from '../sources/amp';
import { droid } from '../sources/droid';
import { qwenCode } from '../sources/qwen';
import { kimi } from '../sources/kimi';
import { isWholeJson, readLines } from '../sources/lines';
import { looksLikeJsonObject, type LogFile, type SourceReader, type WholeContext } from '../sources/parser';
import { type FolderListings, isLogCandidate, isWithin, withFolderListings } from '../sources/walk';
import { pathKey } from '../store/hash';
import { loadFolderListings, saveFolderListings, type ListingsHolder } from './folderListings';
import {
  CompactCursors,
  CursorsByKey,
  CursorWriter,
  cursorsOf,
  loadCursors,
  saveRejects,
  type Cursors,
  type FileCursor,
} from '../store/files';
import type { Ledger, WriteContext } from '../store/ledger';
import { RecordWriter } from '../store/records';
import { getMeta, setMeta } from '../store/schema';
import { sessionFolders } from '../store/paths';
import { loadSqlJs } from '../store/sqljs';
import { openRegular, readRegularFile } from '../sources/regular';

/** Every source this build can read, in display order. */
export const READERS: readonly SourceReader[] = [
  claudeCode,
  codex,
  copilotChat,
  geminiCli,
  opencode,
  cline,
  rooCode,
  continueDev,
  aider,
  kiro,
  amazonQ,
  cursor,
  copilotCli,
  amp,
  droid,
  qwenCode,
  kimi,
];

/** Names of files whose change means new usage may be there (for watchers): logs, whole-file sessions, databases. */
export const LOG_FILE_GLOB = '**/*.{jsonl,json,db,db-wal,sqlite3,sqlite3-wal,vscdb,vscdb-wal}';
const LOG_FILE_NAME = /\.(?:jsonl|json|db|db-wal|sqlite3|sqlite3-wal|vscdb|vscdb-wal)$/;

export function isLogFileName(name: string): boolean {
  return LOG_FILE_NAME.test(name);
}

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
  /** Called after each checkpoint's save (the CLI collects garbage there: cli/v8.ts). */
  afterCheckpoint?: () => void;
  /** An unterminated last line is only taken once its file has been quiet this long (the tool may still be writing). */
  quietMs?: number;
  now?: () => number;
  /** How long to wait for another writer before giving up (LockTimeoutError). */
  timeoutMs?: number;
  /**
   * Project folders to look in for logs kept inside projects (Aider's chat history): the open workspace folders or
   * the CLI's working folder. The repositories and folders of sessions already in the ledger are always looked in.
   */
  projectDirs?: string[];
  /**
   * The files a watcher (or `import --file`) reported changed. When each is an append log (Claude Code, Codex) the
   * ledger follows, or a new session's file where that tool writes them, only those files are read — no discovery, one
   * stat and one cursor each — so a captured line costs the same in a year's ledger as in an empty one. Otherwise (a
   * whole-file source, a file elsewhere) everything is scanned as usual.
   */
  changed?: readonly string[];
  /**
   * What full scans learn for the light rescans after them (the extension's periodic safety net): a full scan fills
   * it; with `light`, files it names settled are taken as unchanged without a stat (see RescanMemo).
   */
  memo?: RescanMemo;
  /** A light rescan (with a `memo` a full scan has filled; otherwise this import is a full scan). */
  light?: boolean;
}

/** A file read to its end and untouched for this long is settled: a light rescan does not stat it (1 hour). */
export const SETTLED_MS = 60 * 60_000;
/** A folder of files only, untouched for this long, is settled: a light rescan reuses its listing unseen (2 days). */
export const FOLDER_SETTLED_MS = 48 * 60 * 60_000;

/**
 * What a full scan learnt for the light rescans after it: the log files it found read to their end and untouched for
 * `settledMs`. A light rescan takes those as unchanged without a `stat`, and reuses without a `stat` the listings of
 * folders of files only untouched for `folderSettledMs` (sources/walk.ts); everything else it checks as a full scan
 * does: on a year of heavy use, a rescan of 0.2 s instead of 0.9 s (docs/ledger.md "Light rescans"). An append to a
 * settled file (a session resumed after an hour) is seen at once by the watcher that reports changed files; one the
 * watcher missed waits for the next full scan (the extension runs one every 15 minutes).
 */
export class RescanMemo {
  /** The settled files by a 53-bit hash of their path: numbers, not a year's 53,000 path strings (12 MB → 2 MB). */
  private readonly settled = new Set<number>();
  /** The parsed folder listings, reused while their file is unchanged. */
  readonly listings: ListingsHolder = {};
  /** A full scan has filled it: light rescans may rely on it. */
  filled = false;

  constructor(
    readonly settledMs = SETTLED_MS,
    readonly folderSettledMs = FOLDER_SETTLED_MS,
  ) {}

  /** Whether a light rescan may take `file` as unchanged. A hash collision would only delay it to the next full scan. */
  isSettled(file: string): boolean {
    return this.settled.has(pathKey(file));
  }

  /**
   * What a scan found of `file`: settled when read to its end (`complete`) and untouched for `settledMs` at `now`,
   * otherwise checked again by the next light rescans.
   */
  observe(file: string, complete: boolean, mtimeMs: number, now: number): void {
    if (complete && now - mtimeMs >= this.settledMs) this.settled.add(pathKey(file));
    else this.unsettle(file);
  }

  unsettle(file: string): void {
    this.settled.delete(pathKey(file));
  }

  get settledFiles(): number {
    return this.settled.size;
  }

  /** The settled files' keys, to hand a full scan's findings from a worker thread to the memo that will use them. */
  settledKeys(): Float64Array {
    return Float64Array.from(this.settled);
  }

  /** Takes what a full scan elsewhere (a worker thread) learnt, in place of what this memo knew: it is then filled. */
  adopt(keys: Float64Array): void {
    this.settled.clear();
    for (const k of keys) this.settled.add(k);
    this.filled = true;
  }
}

/** The memo a light rescan relies on: only once a full scan has filled it (before that, the import is a full scan). */
function lightMemo(options: ImportOptions): RescanMemo | undefined {
  return options.light === true && options.memo?.filled === true ? options.memo : undefined;
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

/** What the cursor compares: a file's identity, size and time (for a database, with its write-ahead log's). */
interface FileStat {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

interface Planned {
  file: LogFile;
  reader: SourceReader;
  stat: FileStat;
  cursor: FileCursor | undefined;
}

function statOf(file: LogFile): FileStat {
  const st = fs.statSync(file.path);
  const out = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  for (const c of file.companions ?? []) {
    try {
      const cs = fs.statSync(c);
      out.size += cs.size;
      out.mtimeMs = Math.max(out.mtimeMs, cs.mtimeMs);
    } catch {
      // no companion right now (a checkpointed write-ahead log is removed)
    }
  }
  return out;
}

/**
 * Why a parsed line's records cannot be stored (the issue-12 rules, docs/security.md), or null: a figure outside the
 * plausibility bounds (core/usage/bounds.ts), or a JSON line with a key twice in one object (JSON.parse keeps the last,
 * so the line could show one figure and count another: the whole line is rejected). Only lines that give records
 * are scanned for keys, so tool output lines cost nothing more.
 */
function lineProblem(records: readonly LedgerRecord[], buf: Buffer, start: number, end: number): string | null {
  if (records.length === 0) return null;
  for (const record of records) {
    const why = implausible(record);
    if (why !== null) return why;
  }
  if (!looksLikeJsonObject(buf, start, end)) return null;
  const twice = duplicateKeyIn(buf, start, end);
  return twice === undefined ? null : duplicateKeyReason(twice);
}

function duplicateKeyReason(key: string): string {
  return `the key ${JSON.stringify(key).slice(0, 60)} appears twice in one object (which one counts is ambiguous: rejected)`;
}

/** Whether a whole file is JSON text (a document or JSON lines), not a database. */
function looksLikeJsonText(buf: Buffer): boolean {
  for (let i = 0; i < buf.length && i < 64; i++) {
    const c = buf[i];
    if (c === 0x7b || c === 0x5b) return true;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xef && c !== 0xbb && c !== 0xbf) return false;
  }
  return false;
}

/**
 * The names a log gives (model, session id, branch) as they are stored: escape sequences, control characters and
 * bidi overrides removed (core/common/text.ts). Paths stay as written (they name real files); prompt text is only ever
 * stored when the user opted in, as typed, and never printed.
 */
function cleanRecord(record: LedgerRecord): LedgerRecord {
  const s = record.session;
  const sessionId = cleanText(s.sessionId);
  const branch = s.branch === undefined ? undefined : cleanText(s.branch);
  const model = record.kind === 'interaction' ? cleanText(record.model) : '';
  if (sessionId === s.sessionId && branch === s.branch && (record.kind !== 'interaction' || model === record.model))
    return record; // the usual case: no copy
  const session = { ...s, sessionId, ...(branch !== undefined ? { branch } : {}) };
  return record.kind === 'interaction' ? { ...record, session, model } : { ...record, session };
}

/** Largest whole-file document read into memory at once. */
const MAX_WHOLE_BYTES = 512 << 20;

/**
 * Folders that may hold a tool's in-project logs: the given ones (and the repositories they are in), and the
 * repositories and working folders of the sessions in the ledger.
 */
export function projectDirs(db: Database, given: readonly string[] = []): string[] {
  const dirs = new Set<string>();
  const repos = new RepoFinder();
  for (const d of given) {
    dirs.add(d);
    const root = repos.rootOf(d);
    if (root) dirs.add(root);
  }
  for (const d of sessionFolders(db)) if (d) dirs.add(d);
  return [...dirs];
}

/**
 * The logs some tools keep inside project folders, not already discovered: looked for in the repositories and working
 * folders of the sessions in the ledger and in the given folders (one stat each; nothing is walked).
 */
function projectFiles(db: Database, discovered: Discovered, given: string[]): Map<SourceReader, LogFile[]> {
  const out = new Map<SourceReader, LogFile[]>();
  const readers = [...discovered.keys()].filter((r) => r.discoverInProjects);
  if (readers.length === 0) return out;
  const dirs = projectDirs(db, given);
  for (const reader of readers) {
    const seen = new Set(Array.from(discovered.get(reader)?.files ?? [], (f) => f.path));
    const files: LogFile[] = [];
    for (const f of reader.discoverInProjects?.(dirs) ?? []) {
      if (seen.has(f.path)) continue;
      seen.add(f.path);
      files.push(f);
    }
    out.set(reader, files);
  }
  return out;
}

/** The folders each enabled source is read from: its own detected roots plus any extra paths. */
export function sourceRoots(
  env: NodeJS.ProcessEnv,
  extra: ExtraSource[] = [],
  disabled: ReadonlySet<SourceName> = new Set(),
): Map<SourceName, string[]> {
  const out = new Map<SourceName, string[]>();
  for (const reader of READERS) {
    if (disabled.has(reader.source)) continue;
    // The same folder given twice (a detected root also named in the settings) is listed once.
    out.set(reader.source, [
      ...new Set([...reader.roots(env), ...extra.filter((e) => e.source === reader.source).map((e) => e.path)]),
    ]);
  }
  return out;
}

/** A folder to watch for live changes, and which changed files (relative to it) are logs worth an import. */
export interface WatchTarget {
  dir: string;
  /** The file-name pattern for VS Code's watcher (relative to `dir`). */
  glob: string;
  accepts(relative: string): boolean;
  /** Whether files in sub-folders matter (false: only the folder's own files, e.g. a repository's Aider history). */
  recursive: boolean;
  /**
   * Where a recursive watch is not the platform's own (services/treeWatch.ts): how many folder levels below `dir` new
   * log files appear (default: TreeWatch's). Deeper changes are left to VS Code's watcher and the rescan.
   */
  depth?: number;
}

const SESSION_JSON = (f: string): boolean => f.endsWith('.jsonl') || f.endsWith('.json');

/** A folder's own Aider chat history (never its sub-folders: a repository is large, and only its root holds it). */
function aiderTarget(dir: string, name = AIDER_HISTORY): WatchTarget {
  return { dir, glob: name, accepts: (f) => f === name, recursive: false };
}

/**
 * What live capture watches. Sources inside VS Code's user folder (Copilot Chat) watch only where sessions are kept,
 * never the whole user folder (busy, and many folders: a recursive watch there would be costly). Aider keeps its
 * history inside repositories: the given project folders (the open workspace folders) and Aider's extra paths are
 * watched for that one file, not recursively; histories in other repositories are found by the periodic rescan.
 */
export function watchTargets(
  env: NodeJS.ProcessEnv,
  extra: ExtraSource[] = [],
  disabled: ReadonlySet<SourceName> = new Set(),
  projectFolders: readonly string[] = [],
): WatchTarget[] {
  const out: WatchTarget[] = [];
  const aiderDirs = new Set<string>();
  /** History files named directly (aider's `--chat-history-file` may give them another name). */
  const aiderFiles = new Set<string>();
  for (const [source, roots] of sourceRoots(env, extra, disabled)) {
    for (const root of roots) {
      if (source === 'aider') {
        // An extra path: a repository (or the history file itself), or a folder of repositories (one level down).
        if (path.basename(root) === AIDER_HISTORY) aiderDirs.add(path.dirname(root));
        else if (isLogCandidate(root)) aiderFiles.add(root);
        else {
          aiderDirs.add(root);
          for (const f of aider.discover([root])) aiderDirs.add(path.dirname(f.path));
        }
        continue;
      }
      if (source === 'cursor') {
        // Cursor's user folder is busy: only its global state database (and its write-ahead log) is watched.
        const db = /\.vscdb$/.test(root) ? path.dirname(root) : `${root}/globalStorage`;
        out.push({
          dir: db,
          glob: 'state.vscdb{,-wal}',
          accepts: (f) => f === 'state.vscdb' || f === 'state.vscdb-wal',
          recursive: false,
        });
        continue;
      }
      if (source === 'kiro' && path.basename(root) === 'kiro.kiroagent') {
        // Kiro IDE's executions are extension-less files named by a hash.
        out.push({ dir: root, glob: '**/*', accepts: (f) => /^[0-9a-f]{32}$/.test(path.basename(f)), recursive: true });
        continue;
      }
      if (source !== 'copilot-chat' && isLogCandidate(root)) {
        // A log file named directly (an extra path, Copilot CLI's OTel export file): its folder, for that file only.
        const name = path.basename(root);
        out.push({ dir: path.dirname(root), glob: name, accepts: (f) => f === name, recursive: false });
        continue;
      }
      if (source !== 'copilot-chat') {
        out.push({
          dir: root,
          glob: LOG_FILE_GLOB,
          accepts: isLogFileName,
          recursive: true,
          // Claude Code's new sessions appear in projects/<project>/ (a year holds a folder per session below that).
          ...(source === 'claude-code' ? { depth: 2 } : {}),
        });
        continue;
      }
      const base = root.split(/[\\/]/).pop();
      if (base === 'chatSessions' || base === 'emptyWindowChatSessions') {
        out.push({ dir: root, glob: '*.{json,jsonl}', accepts: SESSION_JSON, recursive: true });
        continue;
      }
      out.push(
        {
          dir: `${root}/workspaceStorage`,
          glob: '*/chatSessions/*.{json,jsonl}',
          accepts: (f) => SESSION_JSON(f) && /(^|[\\/])chatSessions[\\/][^\\/]+$/.test(f),
          recursive: true,
          depth: 2,
        },
        {
          dir: `${root}/globalStorage/emptyWindowChatSessions`,
          glob: '*.{json,jsonl}',
          accepts: SESSION_JSON,
          recursive: true,
        },
        // Copilot Chat's OpenTelemetry store (exact counts of the session files' requests).
        {
          dir: `${root}/globalStorage/github.copilot-chat`,
          glob: 'agent-traces.db{,-wal}',
          accepts: (f) => f === 'agent-traces.db' || f === 'agent-traces.db-wal',
          recursive: false,
        },
      );
    }
  }
  if (!disabled.has('aider')) {
    const repos = new RepoFinder();
    for (const d of projectFolders) {
      aiderDirs.add(d);
      const root = repos.rootOf(d);
      if (root) aiderDirs.add(root);
    }
  }
  for (const d of aiderDirs) out.push(aiderTarget(d));
  for (const f of aiderFiles) out.push(aiderTarget(path.dirname(f), path.basename(f)));
  return out;
}

/** Each source's roots and its log files: a list, or (a full scan's) files found as they are taken. */
type Discovered = Map<SourceReader, { roots: string[]; files: Iterable<LogFile> }>;

/**
 * Each enabled source's roots and log files. The files of a source that keeps many (Claude Code's sessions) come one
 * at a time as they are taken, walking as they go: a caller takes them inside the folder listings it walks with
 * (`withFolderListings`), once. Those of a source that also looks into projects are a list (`projectFiles` reads
 * them again).
 */
function discoverAll(env: NodeJS.ProcessEnv, extra: ExtraSource[], disabled: ReadonlySet<SourceName>): Discovered {
  const out: Discovered = new Map();
  const rootsBySource = sourceRoots(env, extra, disabled);
  for (const reader of READERS) {
    const roots = rootsBySource.get(reader.source);
    if (!roots) continue;
    const files = filesUnder(reader, roots);
    out.set(reader, { roots, files: reader.discoverInProjects ? [...files] : files });
  }
  return out;
}

/** A source's files under its roots, each once; a root that is a file the reader finds nothing in is read as lines. */
function* filesUnder(reader: SourceReader, roots: readonly string[]): Generator<LogFile> {
  // Roots that do not contain one another cannot give one path twice: only nested ones need the paths remembered.
  const nested = roots.some((a, i) => roots.some((b, j) => i !== j && (a === b || isWithin(a, b, Infinity))));
  const seen = nested ? new Set<string>() : undefined;
  for (const root of roots) {
    let rootIsFile: boolean;
    try {
      rootIsFile = fs.statSync(root).isFile();
    } catch {
      continue;
    }
    let found = false;
    for (const f of reader.discover([root])) {
      found = true;
      if (seen?.has(f.path)) continue;
      seen?.add(f.path);
      yield f;
    }
    // A file given directly: the reader says how to read it (a whole-file format), else it is read as lines.
    if (rootIsFile && !found && !seen?.has(root)) {
      seen?.add(root);
      yield { source: reader.source, path: root, root };
    }
  }
}

/**
 * Imports every detected source into the ledger, incrementally: per file the ledger remembers identity, size, mtime
 * and the offset after the last complete line, so unchanged files cost one stat and changed ones resume where they
 * stopped. Everything happens in one ledger write (one lock), checkpointed as it goes.
 */
export async function importAll(ledger: Ledger, options: ImportOptions = {}): Promise<ImportSummary> {
  const started = Date.now();
  const env = options.env ?? process.env;
  const SQL = await loadSqlJs(); // already loaded by the ledger: lent to parsers of tools that keep a database
  const whole: WholeContext = { openSqlite: (bytes) => new SQL.Database(bytes) };
  const lock = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const changed = options.changed;
  // What the last walk saw per folder (folder-listings.json): an unchanged folder is stat'ed, not read again. What this
  // walk saw is saved once the import succeeded (a walk of nothing new saves nothing; a failed import leaves the
  // ledger home as it was).
  let listings: FolderListings | undefined;
  const light = lightMemo(options);
  // The walk: each file is planned as it is found (runImport), so the whole import runs inside the listings.
  const scan = (db: Database, ctx: WriteContext): ImportSummary => {
    const now = options.now ?? Date.now;
    const walked = loadFolderListings(ledger.paths.folderListings, now, {
      ...(light ? { trustBefore: now() - light.folderSettledMs } : {}),
      ...(options.memo ? { holder: options.memo.listings } : {}),
    });
    listings = walked;
    return withFolderListings(walked, () =>
      runImport(db, ctx, discoverAll(env, options.extra ?? [], options.disabled ?? new Set()), options, started, whole),
    );
  };
  // Files a watcher reported changed are no longer settled: light rescans stat them again.
  for (const p of changed ?? []) options.memo?.unsettle(p);
  const summary = await ledger.write((db, ctx) => {
    const targeted =
      changed && changed.length > 0
        ? targetedPlan(db, changed, options.disabled ?? new Set(), env, options.extra ?? [])
        : undefined;
    if (targeted) return runImport(db, ctx, targeted.discovered, options, started, whole, targeted.cursors);
    return scan(db, ctx);
  }, lock);
  if (listings) saveFolderListings(ledger.paths.folderListings, listings, options.memo?.listings);
  return summary;
}

/** What an import would read now: the log files with lines the ledger does not hold yet, per source. */
export interface PendingImport {
  files: number;
  bytes: number;
  bySource: Array<{ source: SourceName; files: number }>;
}

/**
 * What an import would read, without writing anything: discovery and one stat per file, compared with the ledger's
 * cursors (the same test `importAll` uses). For a ledger that cannot be written (a read-only or full disk), so the
 * user is told what was not imported. Logs kept inside projects (Aider's) are not looked for here.
 */
export function pendingImport(
  db: Database,
  options: Pick<ImportOptions, 'env' | 'extra' | 'disabled'> = {},
): PendingImport {
  const cursors = new CompactCursors(db);
  const counts = new Map<SourceName, number>();
  let files = 0;
  let bytes = 0;
  for (const [reader, { files: found }] of discoverAll(
    options.env ?? process.env,
    options.extra ?? [],
    options.disabled ?? new Set(),
  )) {
    for (const file of found) {
      if (file.skip) continue;
      let stat: FileStat;
      try {
        stat = statOf(file);
      } catch {
        continue;
      }
      const cursor = cursors.facts(file.path);
      const same = cursor && cursor.status === null && cursor.ino === stat.ino && cursor.dev === stat.dev;
      if (same && cursor.size === stat.size && cursor.mtimeMs === Math.floor(stat.mtimeMs)) continue;
      files++;
      bytes += Math.max(0, stat.size - (same && !file.whole && stat.size >= cursor.offset ? cursor.offset : 0));
      counts.set(reader.source, (counts.get(reader.source) ?? 0) + 1);
    }
  }
  cursors.free();
  return { files, bytes, bySource: [...counts].map(([source, n]) => ({ source, files: n })) };
}

/**
 * The plan for a capture of append logs only (Claude Code, Codex): the files the ledger follows, and new session
 * files where their tool writes them; undefined when any changed file needs the full scan (a whole-file source, a file
 * elsewhere, one deliberately skipped, a disabled source).
 */
function targetedPlan(
  db: Database,
  changed: readonly string[],
  disabled: ReadonlySet<SourceName>,
  env: NodeJS.ProcessEnv,
  extra: ExtraSource[],
): { discovered: Discovered; cursors: Map<string, FileCursor> } | undefined {
  const paths = [...new Set(changed)];
  const cursors = loadCursors(db, paths);
  const discovered = new Map<SourceReader, { roots: string[]; files: LogFile[] }>();
  let roots: Map<SourceName, string[]> | undefined;
  for (const p of paths) {
    const cursor = cursors.get(p);
    let file: LogFile | undefined;
    if (cursor) {
      if (cursor.status !== null || disabled.has(cursor.source)) return undefined;
      file = { source: cursor.source, path: p, root: path.dirname(p) };
    } else {
      // Disabled sources have no roots here, so no file of theirs is taken.
      const found = (roots ??= sourceRoots(env, extra, disabled));
      file = READERS.map((r) => r.sessionFile?.(found.get(r.source) ?? [], p)).find((f) => f !== undefined);
      if (!file) return undefined;
    }
    // Only append logs whose files read alone (their reader knows its session files); any other needs the full scan.
    const reader = READERS.find((r) => r.source === file.source);
    if (!reader?.sessionFile) return undefined;
    const entry = discovered.get(reader) ?? { roots: [], files: [] };
    entry.files.push(file);
    discovered.set(reader, entry);
  }
  return { discovered, cursors };
}

function runImport(
  db: Database,
  ctx: WriteContext,
  discovered: Discovered,
  options: ImportOptions,
  started: number,
  whole: WholeContext,
  /** A targeted capture: the cursors of its files only, and no look into project folders. */
  only?: Map<string, FileCursor>,
): ImportSummary {
  const now = options.now ?? Date.now;
  const quietMs = options.quietMs ?? 60_000;
  const checkpointBytes = options.checkpointBytes ?? 32 << 20;
  const memo = only ? undefined : options.memo;
  const light = only ? undefined : lightMemo(options);
  // A light rescan stats a few files: their cursors are looked up by key rather than every file's read.
  const compact = only || light ? undefined : new CompactCursors(db);
  const byKey = light ? new CursorsByKey(db) : undefined;
  const cursors: Cursors = compact ?? byKey ?? cursorsOf(only ?? new Map());
  const cursorWriter = new CursorWriter(db);
  const summaries: SourceSummary[] = [];
  let plan: Array<Planned | undefined> = [];
  let totalBytes = 0;
  const planFile = (reader: SourceReader, summary: SourceSummary, file: LogFile): void => {
    if (light?.isSettled(file.path)) {
      summary.files++;
      summary.found = true;
      return;
    }
    let stat: FileStat;
    try {
      stat = statOf(file);
    } catch {
      return; // deleted between discovery and now
    }
    summary.files++;
    summary.found = true;
    const cursor = cursors.facts(file.path);
    if (file.skip) {
      if (cursor?.status !== file.skip) cursorWriter.save({ ...blankCursor(file, stat), status: file.skip });
      return;
    }
    const unchanged =
      cursor &&
      cursor.status === null &&
      cursor.ino === stat.ino &&
      cursor.dev === stat.dev &&
      cursor.size === stat.size &&
      cursor.mtimeMs === Math.floor(stat.mtimeMs);
    // Read to its end and untouched for a while: the next light rescans need not stat it.
    memo?.observe(file.path, unchanged === true && cursor.offset === stat.size, stat.mtimeMs, now());
    // An unchanged file costs one stat; one with an unterminated last line is looked at again once it is quiet.
    if (unchanged && (cursor.offset === stat.size || now() - stat.mtimeMs < quietMs)) return;
    // A whole-file format is read again from the start (its records dedupe by key); an append log resumes.
    const resumable =
      !file.whole &&
      cursor &&
      cursor.status === null &&
      cursor.ino === stat.ino &&
      cursor.dev === stat.dev &&
      stat.size >= cursor.offset;
    // A whole file keeps its cursor for the parser's state; it is read from the start all the same.
    const keep = resumable || (file.whole && cursor?.status === null);
    // The full cursor (the parser's state) is read only now, for a file that will be read.
    plan.push({ file, reader, stat, cursor: keep ? cursors.cursor(file.path) : undefined });
    totalBytes += stat.size - (resumable ? cursor.offset : 0);
  };
  for (const [reader, { roots, files }] of discovered) {
    const summary: SourceSummary = {
      source: reader.source,
      roots,
      found: false,
      files: 0,
      filesRead: 0,
      interactionsAdded: 0,
      duplicatesSkipped: 0,
      linesRejected: 0,
      reasons: [],
    };
    summaries.push(summary);
    for (const file of files) planFile(reader, summary, file);
  }

  const bySource = new Map(summaries.map((s) => [s.source, s]));
  const repos = new RepoFinder();
  const writer = new RecordWriter(db, {
    repoOf: (cwd) => repos.rootOf(cwd),
    storePromptText: options.storePromptText ?? false,
  });
  let done = 0;
  let sinceCheckpoint = 0;
  const runPlan = (): void => {
    for (let i = 0; i < plan.length; i++) {
      const item = plan[i];
      if (!item) continue;
      // Each file's plan is let go once it is read: a first import's plan covers every file of the history.
      plan[i] = undefined;
      const summary = bySource.get(item.reader.source);
      if (!summary) continue;
      const read = importFile(item, writer, summary, now, quietMs, whole, (n) => {
        done += n;
        sinceCheckpoint += n;
        options.onProgress?.(done, totalBytes);
      });
      cursorWriter.save(read.cursor);
      // Read to its end, and untouched for a while before: settled from now on, like an unchanged one (planFile).
      memo?.observe(
        item.file.path,
        read.cursor.status === null && read.cursor.offset === item.stat.size,
        item.stat.mtimeMs,
        now(),
      );
      // A whole file's rejects are those of its latest read, not added to the earlier ones.
      if (item.file.whole) db.run('DELETE FROM rejects WHERE path = ?', [item.file.path]);
      saveRejects(db, item.reader.source, item.file.path, read.rejects);
      summary.filesRead++;
      if (sinceCheckpoint >= checkpointBytes) {
        sinceCheckpoint = 0;
        writer.checkpoint();
        ctx.checkpoint();
        options.afterCheckpoint?.();
      }
    }
  };
  try {
    runPlan();
    // Then the logs some tools keep inside projects, looked for in the folders known now (this import's included).
    plan = [];
    for (const [reader, files] of only ? [] : projectFiles(db, discovered, options.projectDirs ?? [])) {
      const summary = bySource.get(reader.source);
      if (summary) for (const file of files) planFile(reader, summary, file);
    }
    runPlan();
  } finally {
    writer.free();
    cursorWriter.free();
    compact?.free();
    byKey?.free();
  }
  // A full scan went through every file: light rescans may rely on what it learnt.
  if (memo && !light) memo.filled = true;
  if (summaries.some((s) => s.filesRead > 0)) {
    const at = new Date(now()).toISOString();
    if (!getMeta(db, 'first_import')) setMeta(db, 'first_import', at);
    setMeta(db, 'last_new_data', at);
  }
  return { sources: summaries, bytesRead: done, elapsedMs: Date.now() - started };
}

function blankCursor(file: LogFile, stat: FileStat): FileCursor {
  return {
    path: file.path,
    source: file.source,
    dev: stat.dev,
    ino: stat.ino,
    size: stat.size,
    mtimeMs: Math.floor(stat.mtimeMs),
    offset: 0,
    lineNo: 0,
    state: null,
    rejected: 0,
    status: null,
  };
}

function importFile(
  item: Planned,
  writer: RecordWriter,
  summary: SourceSummary,
  now: () => number,
  quietMs: number,
  whole: WholeContext,
  onBytes: (n: number) => void,
): { cursor: FileCursor; rejects: Array<{ lineNo: number; reason: string }> } {
  const { file, reader, stat } = item;
  const base = item.cursor ?? blankCursor(file, stat);
  const parser = reader.createParser(file, item.cursor ? item.cursor.state : null);
  const rejects: Array<{ lineNo: number; reason: string }> = [];
  let rejectedHere = 0;
  const reject = (lineNo: number, reason: string): void => {
    rejectedHere++;
    summary.linesRejected++;
    if (rejects.length < MAX_REASONS) rejects.push({ lineNo, reason });
    if (summary.reasons.length < MAX_REASONS)
      summary.reasons.push(`${file.path}${lineNo > 0 ? `:${lineNo}` : ''}: ${reason}`);
  };
  /** The cursor after a read that got to `offset` (line `lineNo`), the file as it is now and the parser's state. */
  const readTo = (offset: number, lineNo: number, rejected: number): FileCursor => ({
    ...base,
    dev: stat.dev,
    ino: stat.ino,
    size: stat.size,
    mtimeMs: Math.floor(stat.mtimeMs),
    offset,
    lineNo,
    state: parser.state(),
    rejected,
    status: null,
  });
  // Keys added by this read, for a format that may withdraw them again in the same read (a Gemini CLI rewind).
  const addedHere = parser.retracted ? new Set<string>() : undefined;
  const addRecords = (records: readonly LedgerRecord[]): void => {
    for (const raw of records) {
      const record = cleanRecord(raw);
      const r = writer.add(record, file.path);
      if (r === 'added') {
        summary.interactionsAdded++;
        if (record.kind === 'interaction') addedHere?.add(record.key);
      } else if (r === 'duplicate') summary.duplicatesSkipped++;
    }
  };
  const retract = (): void => {
    for (const key of parser.retracted?.() ?? []) {
      writer.retract(key);
      if (addedHere?.delete(key)) summary.interactionsAdded--;
    }
  };
  if (file.whole) {
    const quiet = now() - stat.mtimeMs >= quietMs;
    // A whole file is read again whole on its next change, so only this read's rejects count.
    const done = (): { cursor: FileCursor; rejects: Array<{ lineNo: number; reason: string }> } => ({
      cursor: readTo(stat.size, 0, rejectedHere),
      rejects,
    });
    if (stat.size > MAX_WHOLE_BYTES) {
      reject(0, `file larger than ${MAX_WHOLE_BYTES >> 20} MB (skipped)`);
      return done();
    }
    // Only a regular file, opened without blocking (a FIFO in a log folder must not hang the import): regular.ts.
    const read = readRegularFile(file.path, MAX_WHOLE_BYTES);
    if (!('bytes' in read)) {
      reject(0, read.refused);
      return { cursor: { ...base, rejected: rejectedHere }, rejects };
    }
    const buf = read.bytes;
    onBytes(buf.length);
    let result: ReturnType<NonNullable<typeof parser.parseWhole>>;
    try {
      result = parser.parseWhole
        ? parser.parseWhole(buf, whole)
        : { incomplete: 'no whole-file reader for this format' };
    } catch (e) {
      result = { incomplete: `unreadable (${(e as Error).message})` };
    }
    if ('incomplete' in result) {
      // Being written right now: leave the file as it was and look again; once quiet, it is broken: say so.
      // (size -1 never matches a real file, so it is read again next time)
      if (!quiet) return { cursor: item.cursor ?? { ...blankCursor(file, stat), size: -1 }, rejects: [] };
      reject(0, result.incomplete);
      return done();
    }
    for (const r of result.rejects) reject(r.entry, r.reason);
    // A JSON document with a key twice in one object could show one figure and count another: none of it is stored.
    const twice = looksLikeJsonText(buf) ? duplicateKeyIn(buf) : undefined;
    if (twice !== undefined) reject(0, duplicateKeyReason(twice));
    else
      addRecords(
        result.records.filter((record) => {
          const why = implausible(record);
          if (why !== null) reject(0, why);
          return why === null;
        }),
      );
    retract();
    return done();
  }
  const opened = openRegular(file.path);
  if ('refused' in opened) {
    reject(0, opened.refused);
    return { cursor: { ...base, rejected: base.rejected + rejectedHere }, rejects };
  }
  const fd = opened.fd;
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
        const why = lineProblem(outcome, buf, start, end);
        if (why !== null) {
          reject(lineNo, why);
          return;
        }
        addRecords(outcome);
        retract();
      },
      { acceptTail: quiet ? isWholeJson : undefined, onProgress: onBytes },
    );
  } finally {
    fs.closeSync(fd);
  }
  for (const lineNo of result.overlong) reject(lineNo, 'line longer than 64 MB (skipped)');
  return { cursor: readTo(result.offset, result.lineNo, base.rejected + rejectedHere), rejects };
}
