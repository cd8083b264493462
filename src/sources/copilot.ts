import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EditRecord, InteractionRecord, LedgerRecord, PromptRecord, SessionContext } from '../core/usage/model';
import { isCount } from '../core/usage/tokens';
import { copilotTracesDb, exactPerRequest, readCopilotTraces, type ExactRequest, type TraceRead } from './copilotOtel';
import {
  isObject,
  rejected,
  type LineParser,
  type LogFile,
  type SourceReader,
  type WholeContext,
  type WholeResult,
} from './parser';
import { estimateTokens } from './tokenize';
import { vscodeUserDirs } from './vscodeUser';
import { isDirectory, isLogCandidate, uniqueDirs, walkFiles } from './walk';
import { readRegularText } from './regular';
import { pushAll } from '../core/common/numbers';

/**
 * GitHub Copilot Chat inside VS Code. No extension API exposes another extension's chats, so the files VS Code keeps
 * in its user folder are read:
 *
 * - `<User>/workspaceStorage/<id>/chatSessions/<sessionId>.json` (before VS Code 1.109): one session document,
 *   rewritten whole on every change;
 * - `<User>/workspaceStorage/<id>/chatSessions/<sessionId>.jsonl` (1.109+): an append-only MUTATION LOG replayed in
 *   order — `{kind:0, v}` initial state, `{kind:1, k, v}` set at path k, `{kind:2, k, v, i?}` push onto the array at
 *   k (truncated to length i first), `{kind:3, k}` delete — compacted into one kind:0 line from time to time;
 * - `<User>/globalStorage/emptyWindowChatSessions/` for chats in windows without a folder;
 * - `<User>/workspaceStorage/<id>/workspace.json` maps the workspace id to its folder (the session's cwd).
 *
 * Both formats are read whole whenever the file changed (a replay needs every line; compaction rewrites the file),
 * and every request has a natural key (`requestId`), so a rewritten or compacted file never double counts.
 * Tokens come from `result.metadata.promptTokens/outputTokens` (older builds: `result.usage.promptTokens/
 * completionTokens`); files without counts are estimated from the visible text and marked estimated. Where Copilot
 * Chat's own OpenTelemetry store is on (`<User>/globalStorage/github.copilot-chat/agent-traces.db`, see
 * copilotOtel.ts), its exact per-call counts are summed per request and replace what the session file says (same
 * key: the request is counted once); the store is a companion of the session files that can still gain calls.
 */
export const copilotChat: SourceReader = {
  source: 'copilot-chat',

  roots(env) {
    return uniqueDirs(vscodeUserDirs(env));
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      // One session file given directly (`--source copilot-chat=FILE`, extra paths).
      if (isSessionFile(path.basename(root)) && isLogCandidate(root)) {
        files.push(sessionFile(root, root));
        continue;
      }
      if (!isDirectory(root)) continue;
      const base = path.basename(root);
      if (base === 'chatSessions' || base === 'emptyWindowChatSessions') {
        for (const p of walkFiles(root, isSessionFile, 0)) files.push(sessionFile(p, root));
        continue;
      }
      // A User folder (or a folder holding workspaceStorage/globalStorage-like trees): session files sit in folders
      // named chatSessions / emptyWindowChatSessions; workspace.json and other storage files are not sessions.
      const ws = path.join(root, 'workspaceStorage');
      const gs = path.join(root, 'globalStorage', 'emptyWindowChatSessions');
      const scan = isDirectory(ws) || isDirectory(gs) ? [ws, gs] : [root];
      for (const dir of scan) {
        for (const p of walkFiles(dir, isSessionFile, 3)) {
          const parent = path.basename(path.dirname(p));
          if (parent === 'chatSessions' || parent === 'emptyWindowChatSessions') files.push(sessionFile(p, root));
        }
      }
    }
    return files;
  },

  createParser(file) {
    return new CopilotParser(file.path);
  },
};

/** The User folder a session file is in (`workspaceStorage/<id>/chatSessions/…`, `globalStorage/emptyWindowChatSessions/…`). */
function userDirOf(file: string): string | undefined {
  const dir = path.dirname(file);
  if (path.basename(dir) === 'chatSessions' && path.basename(path.dirname(path.dirname(dir))) === 'workspaceStorage')
    return path.dirname(path.dirname(path.dirname(dir)));
  if (path.basename(dir) === 'emptyWindowChatSessions' && path.basename(path.dirname(dir)) === 'globalStorage')
    return path.dirname(path.dirname(dir));
  return undefined;
}

/** The store keeps 7 days of calls: a session file untouched for longer gains none, and is not re-read for them. */
const TRACE_WINDOW_MS = 8 * 86_400_000;

function recentSession(p: string): boolean {
  try {
    return Date.now() - fs.statSync(p).mtimeMs < TRACE_WINDOW_MS;
  } catch {
    return false;
  }
}

function sessionFile(p: string, root: string): LogFile {
  const user = userDirOf(p);
  const db = user ? copilotTracesDb(user) : undefined;
  let recent: boolean;
  try {
    recent = db !== undefined && isLogCandidate(db) && Date.now() - fs.statSync(p).mtimeMs < TRACE_WINDOW_MS;
  } catch {
    recent = false;
  }
  return {
    source: 'copilot-chat',
    path: p,
    root,
    whole: true,
    ...(recent && db ? { companions: [db, `${db}-wal`] } : {}),
  };
}

/**
 * Both formats are read whole (`LogFile.whole`). A `.json` caught mid-rewrite is incomplete (the importer looks again,
 * and reports it once the file has been quiet); a `.jsonl` whose last line is still being written yields what the
 * complete lines say (the next write completes the line, and the file is read again then).
 */
class CopilotParser implements LineParser {
  constructor(private readonly file: string) {}

  parse(): ReturnType<LineParser['parse']> {
    return rejected('Copilot Chat sessions are read whole');
  }

  state(): string | null {
    return null;
  }

  parseWhole(buf: Buffer, ctx: WholeContext): WholeResult | { incomplete: string } {
    const user = userDirOf(this.file);
    const traces = user ? readCopilotTraces(copilotTracesDb(user), ctx) : undefined;
    const r = readCopilotFile(this.file, buf, false, traces);
    if (!r.complete && !this.file.endsWith('.jsonl')) return { incomplete: 'not a complete JSON document' };
    // A store that cannot be read is named with the sessions it could give exact counts to (the recent ones).
    if (traces?.unreadable && r.records.length > 0 && recentSession(this.file))
      r.rejects.unshift({
        lineNo: 0,
        reason: `${traces.unreadable} (its exact counts for this session are not read; estimates stand until it can be)`,
      });
    return { records: r.records, rejects: r.rejects.map((x) => ({ entry: x.lineNo, reason: x.reason })) };
  }
}

function isSessionFile(name: string): boolean {
  return name.endsWith('.json') || name.endsWith('.jsonl');
}

// ---- reading one file ----------------------------------------------------------------------------------------------

const MODEL_PREFIXES = ['copilot/', 'github.copilot-chat/'];
/** Copilot Chat's default model when older files do not say (flagged as assumed). */
export const COPILOT_DEFAULT_MODEL = 'gpt-4o';

/** What one session file holds: its records, the lines or parts that could not be used, and whether it was whole. */
export interface CopilotFileResult {
  records: LedgerRecord[];
  /** lineNo 0: the document as a whole, or the request named in the reason. */
  rejects: Array<{ lineNo: number; reason: string }>;
  /** False when the file looks half-written (a write in progress): read it again later. */
  complete: boolean;
}

/**
 * Reads one session file (`.json` document or `.jsonl` mutation log). `quiet`: the file has not changed for a while,
 * so a half-written document or last line will not be completed any more and is reported.
 */
export function readCopilotFile(file: string, buf: Buffer, quiet: boolean, traces?: TraceRead): CopilotFileResult {
  const rejects: CopilotFileResult['rejects'] = [];
  let state: unknown;
  let complete = true;
  if (file.endsWith('.jsonl')) {
    const r = replayMutationLog(buf, quiet);
    state = r.state;
    complete = r.complete;
    pushAll(rejects, r.rejects);
  } else {
    try {
      state = JSON.parse(buf.toString('utf8'));
    } catch {
      // VS Code rewrites the whole file: a failed parse while it is fresh is a write in progress, read again later.
      if (!quiet) return { records: [], rejects: [], complete: false };
      return { records: [], rejects: [{ lineNo: 0, reason: 'not a complete JSON document' }], complete: true };
    }
  }
  if (state === undefined) return { records: [], rejects, complete };
  if (!isObject(state)) {
    rejects.push({ lineNo: 0, reason: 'session is not a JSON object' });
    return { records: [], rejects, complete };
  }
  const out = sessionRecords(state, file, rejects, traces);
  return { records: out, rejects, complete };
}

interface Replay {
  state: unknown;
  rejects: Array<{ lineNo: number; reason: string }>;
  complete: boolean;
}

/** Replays a `.jsonl` mutation log in order. A half-written last line is left for later unless the file is quiet. */
export function replayMutationLog(buf: Buffer, quiet: boolean): Replay {
  const rejects: Replay['rejects'] = [];
  let state: unknown;
  let complete = true;
  let start = 0;
  let lineNo = 0;
  while (start < buf.length) {
    let nl = buf.indexOf(0x0a, start);
    const terminated = nl !== -1;
    if (!terminated) nl = buf.length;
    lineNo++;
    const text = buf.toString('utf8', start, nl).trim();
    start = nl + 1;
    if (!text) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      if (!terminated && !quiet) {
        complete = false; // being written right now
        break;
      }
      rejects.push({ lineNo, reason: terminated ? 'not JSON' : 'half-written last line' });
      continue;
    }
    const err = applyMutation(
      entry,
      (s) => (state = s),
      () => state,
    );
    if (err) rejects.push({ lineNo, reason: err });
  }
  return { state, rejects, complete };
}

type Key = string | number;

/** Applies one mutation; returns a rejection reason, or undefined when applied. */
function applyMutation(entry: unknown, set: (s: unknown) => void, get: () => unknown): string | undefined {
  if (!isObject(entry)) return 'not a JSON object';
  const kind = entry.kind;
  if (kind === 0) {
    if (!('v' in entry)) return 'initial state (kind 0) without v';
    set(entry.v);
    return undefined;
  }
  if (kind !== 1 && kind !== 2 && kind !== 3) return `unknown mutation kind ${JSON.stringify(kind)}`;
  const k = entry.k;
  if (
    !Array.isArray(k) ||
    !k.every((x): x is Key => typeof x === 'string' || (typeof x === 'number' && Number.isInteger(x) && x >= 0))
  ) {
    return 'mutation path k is not a list of keys';
  }
  const root = get();
  if (root === undefined) return 'mutation before the initial state';
  if (k.length === 0) {
    if (kind === 1) {
      set(entry.v);
      return undefined;
    }
    if (kind === 3) return 'cannot delete the whole state';
  }
  const parentPath = kind === 2 ? k : k.slice(0, -1);
  let node: unknown = root;
  for (const key of parentPath) {
    node = child(node, key);
    if (node === undefined) return `mutation path ${JSON.stringify(k)} does not exist`;
  }
  if (kind === 2) {
    if (!Array.isArray(node)) return `push target ${JSON.stringify(k)} is not an array`;
    if (entry.i !== undefined) {
      if (!isCount(entry.i)) return 'push index i is not a non-negative integer';
      node.length = Math.min(node.length, entry.i);
    }
    if (entry.v !== undefined) {
      if (!Array.isArray(entry.v)) return 'push values v are not an array';
      pushAll(node, entry.v as unknown[]);
    }
    return undefined;
  }
  const last = k[k.length - 1] as Key;
  if (Array.isArray(node)) {
    if (typeof last !== 'number') return `array index ${JSON.stringify(last)} is not a number`;
    if (kind === 1) node[last] = entry.v;
    else node.splice(last, 1);
    return undefined;
  }
  if (!isObject(node)) return `mutation path ${JSON.stringify(k)} runs through a value`;
  if (kind === 1) node[String(last)] = entry.v;
  else delete node[String(last)];
  return undefined;
}

function child(node: unknown, key: Key): unknown {
  if (Array.isArray(node)) return typeof key === 'number' ? node[key] : undefined;
  if (isObject(node)) return node[String(key)];
  return undefined;
}

// ---- session → records ---------------------------------------------------------------------------------------------

function sessionRecords(
  session: Record<string, unknown>,
  file: string,
  rejects: CopilotFileResult['rejects'],
  traces: TraceRead | undefined,
): LedgerRecord[] {
  const sessionId =
    typeof session.sessionId === 'string' && session.sessionId
      ? session.sessionId
      : path.basename(file).replace(/\.jsonl?$/, '');
  const ctx: SessionContext = { source: 'copilot-chat', sessionId };
  const cwd = workspaceFolderOf(file);
  if (cwd) ctx.cwd = cwd;
  const created =
    typeof session.creationDate === 'number' && Number.isFinite(session.creationDate)
      ? session.creationDate
      : undefined;
  const requests = session.requests;
  if (requests === undefined) return [];
  if (!Array.isArray(requests)) {
    rejects.push({ lineNo: 0, reason: 'requests is not a list' });
    return [];
  }
  const out: LedgerRecord[] = [];
  // Exact counts from Copilot Chat's OpenTelemetry store, given to the request running when each call started.
  const calls = traces?.sessions.get(sessionId);
  const exact = calls
    ? exactPerRequest(
        calls,
        requests.map((r) => (isObject(r) ? requestTime(r, created) : undefined)),
      )
    : [];
  for (const x of traces?.rejects ?? []) if (x.session === sessionId) rejects.push({ lineNo: 0, reason: x.reason });
  requests.forEach((req, index) => {
    const r = requestRecords(req, ctx, created, exact[index]);
    if (typeof r === 'string') rejects.push({ lineNo: 0, reason: `requests[${index}]: ${r}` });
    else pushAll(out, r);
  });
  return out;
}

function requestTime(req: Record<string, unknown>, created: number | undefined): number | undefined {
  return typeof req.timestamp === 'number' && Number.isFinite(req.timestamp) && req.timestamp > 0
    ? req.timestamp
    : created;
}

/**
 * Records of one request, or why it was rejected (a request still running yields nothing yet, unless the
 * OpenTelemetry store already has its calls: `exact`, which then stands for the request's counts).
 */
function requestRecords(
  req: unknown,
  ctx: SessionContext,
  created: number | undefined,
  exact: ExactRequest | undefined,
): LedgerRecord[] | string {
  if (!isObject(req)) return 'not an object';
  const requestId = typeof req.requestId === 'string' && req.requestId ? req.requestId : undefined;
  if (!requestId) return 'no requestId';
  const result = req.result ?? (exact ? {} : undefined);
  if (result === undefined || result === null) return []; // still running (or never answered): nothing billed to read
  if (!isObject(result)) return 'result is not an object';
  const timestamp = requestTime(req, created);
  if (timestamp === undefined) return 'no timestamp';
  const counts = exact ? null : tokenCounts(result);
  if (typeof counts === 'string') return counts;
  const messageText = messageTextOf(req.message);
  let tokens: { input: number; output: number; cacheRead?: number; cacheWrite?: number; reasoning?: number } | null =
    exact ? exact.tokens : counts;
  let estimated = false;
  if (!tokens) {
    // No counts in the file: estimate from what was said (the visible prompt and reply; the tool's own context is not
    // in the file, so this is a floor, marked estimated everywhere). A request that got no reply at all (an error,
    // a cancel before the first token) has nothing to estimate from and is not counted.
    const reply = responseTextOf(req.response);
    if (!reply.trim()) return [];
    tokens = { input: estimateTokens(messageText), output: estimateTokens(reply) };
    estimated = true;
  }
  // The store names the model each call ran on (the one `auto` resolved to); else the session file's.
  const modelId = exact?.model ?? requestModel(req, result);
  const interaction: InteractionRecord = {
    kind: 'interaction',
    key: `copilot-chat:${requestId}`,
    session: ctx,
    timestamp: exact ? Math.max(timestamp, exact.timestamp) : timestamp,
    model: modelId ? normaliseModel(modelId) : COPILOT_DEFAULT_MODEL,
    tokens: {
      input: tokens.input,
      output: tokens.output,
      cacheRead: tokens.cacheRead ?? 0,
      cacheWrite: tokens.cacheWrite ?? 0,
      reasoning: tokens.reasoning ?? 0,
    },
    cacheWrite1h: 0,
    sidechain: false,
    ...(modelId ? {} : { modelAssumed: true }),
    ...(estimated ? { estimated: true } : {}),
  };
  const out: LedgerRecord[] = [interaction];
  if (messageText.trim()) {
    const prompt: PromptRecord = {
      kind: 'prompt',
      key: `copilot-chat:prompt:${requestId}`,
      session: ctx,
      timestamp,
      text: messageText,
    };
    out.push(prompt);
  }
  for (const p of editedPaths(req.response)) {
    const edit: EditRecord = { kind: 'edit', session: ctx, timestamp, path: p };
    out.push(edit);
  }
  return out;
}

/**
 * The model a request ran on. The model picker's `auto` (`copilot/auto`) is no model: the one it resolved to is taken
 * from `resolvedModel` (the result metadata's, or the request's), else the model the result metadata names.
 */
function requestModel(req: Record<string, unknown>, result: Record<string, unknown>): string | undefined {
  const named = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
  const modelId = named(req.modelId);
  if (!modelId || normaliseModel(modelId).toLowerCase() !== 'auto') return modelId;
  const meta = isObject(result.metadata) ? result.metadata : {};
  for (const candidate of [meta.resolvedModel, req.resolvedModel, meta.modelId, meta.model]) {
    const m = named(candidate);
    if (m && normaliseModel(m).toLowerCase() !== 'auto') return m;
  }
  return modelId;
}

/** Exact counts from `result.metadata` (current) or `result.usage` (older); null when the file has none. */
function tokenCounts(result: Record<string, unknown>): { input: number; output: number } | null | string {
  return (
    countPair(result, 'metadata', 'promptTokens', 'outputTokens') ??
    countPair(result, 'usage', 'promptTokens', 'completionTokens') ??
    null
  );
}

/** The input and output counts of `result[field]`; undefined when it names neither, the reason when one is no count. */
function countPair(
  result: Record<string, unknown>,
  field: string,
  inputKey: string,
  outputKey: string,
): { input: number; output: number } | string | undefined {
  const o = result[field];
  if (!isObject(o) || (o[inputKey] === undefined && o[outputKey] === undefined)) return undefined;
  const input = o[inputKey] ?? 0;
  const output = o[outputKey] ?? 0;
  if (!isCount(input) || !isCount(output)) return `result.${field} token counts are not non-negative integers`;
  return { input, output };
}

function normaliseModel(id: string): string {
  for (const p of MODEL_PREFIXES) if (id.startsWith(p)) return id.slice(p.length);
  return id;
}

function messageTextOf(message: unknown): string {
  if (typeof message === 'string') return message;
  if (isObject(message) && typeof message.text === 'string') return message.text;
  return '';
}

/** The reply's visible text: markdown parts (`{value}` in old files, `{kind:'markdownContent', content:{value}}`). */
function responseTextOf(response: unknown): string {
  if (!Array.isArray(response)) return '';
  const parts: string[] = [];
  for (const p of response) {
    if (!isObject(p)) continue;
    if (typeof p.value === 'string') parts.push(p.value);
    else if (isObject(p.content) && typeof p.content.value === 'string') parts.push(p.content.value);
  }
  return parts.join('');
}

/** Files changed through text-edit groups (`{kind:'textEditGroup', uri, edits}`). */
function editedPaths(response: unknown): string[] {
  if (!Array.isArray(response)) return [];
  const out = new Set<string>();
  for (const p of response) {
    if (!isObject(p) || p.kind !== 'textEditGroup') continue;
    const f = uriToPath(p.uri);
    if (f) out.add(f);
  }
  return [...out];
}

/**
 * A file path from a serialised VS Code URI (`{scheme, path, fsPath?}` or a `file://` string). Remote URIs
 * (`vscode-remote`) carry the path on the machine the server runs on, which is where their logs are read.
 */
export function uriToPath(uri: unknown): string | undefined {
  if (typeof uri === 'string') {
    try {
      const u = new URL(uri);
      if (u.protocol !== 'file:' && u.protocol !== 'vscode-remote:') return undefined;
      return localPath(decodeURIComponent(u.pathname));
    } catch {
      return undefined;
    }
  }
  if (!isObject(uri)) return undefined;
  if (uri.scheme !== 'file' && uri.scheme !== 'vscode-remote') return undefined;
  if (typeof uri.fsPath === 'string' && uri.fsPath && uri.scheme === 'file') return uri.fsPath;
  return typeof uri.path === 'string' && uri.path ? localPath(uri.path) : undefined;
}

/** `/c:/Users/me` → `c:\Users\me` on Windows; unchanged elsewhere. */
function localPath(p: string): string {
  if (process.platform === 'win32' && /^\/[a-zA-Z]:/.test(p)) return path.win32.normalize(p.slice(1));
  return p;
}

/** The folder a workspace-storage session belongs to, from `<id>/workspace.json` (`folder`, or a workspace file). */
export function workspaceFolderOf(sessionFile: string): string | undefined {
  const dir = path.dirname(sessionFile);
  if (path.basename(dir) !== 'chatSessions') return undefined;
  return workspaceStorageFolder(path.dirname(dir));
}

/** The folder a VS Code-style `workspaceStorage/<id>` belongs to, from its `workspace.json` (Copilot Chat, Cursor). */
export function workspaceStorageFolder(storageDir: string): string | undefined {
  let meta: unknown;
  try {
    meta = JSON.parse(readRegularText(path.join(storageDir, 'workspace.json'), 1 << 20) ?? '');
  } catch {
    return undefined;
  }
  if (!isObject(meta)) return undefined;
  if (meta.folder !== undefined) return uriToPath(meta.folder);
  const ws = uriToPath(meta.workspace);
  if (!ws) return undefined;
  // A multi-root workspace: its first folder (relative to the .code-workspace file), else the file's folder.
  try {
    const doc: unknown = JSON.parse(readRegularText(ws, 1 << 20) ?? '');
    const first = isObject(doc) && Array.isArray(doc.folders) ? doc.folders[0] : undefined;
    if (isObject(first) && typeof first.path === 'string') return path.resolve(path.dirname(ws), first.path);
  } catch {
    // comments or trailing commas (.code-workspace is JSONC), or gone: fall back to its folder
  }
  return path.dirname(ws);
}
