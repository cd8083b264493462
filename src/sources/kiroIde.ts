import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { LedgerRecord, SessionContext } from '../core/usage/model';
import {
  interactionRecord,
  isNonEmptyString,
  isObject,
  WholeJsonParser,
  type LogFile,
  type WholeResult,
} from './parser';
import { platformBase } from './platform';
import { creditsOf } from './qConversation';
import { readRegularText } from './regular';
import { estimateTokens } from './tokenize';
import { isDirectory, listDir, walkFiles } from './walk';

/**
 * Kiro IDE (the VS Code-based editor): its agent keeps everything in the global storage of its `kiro.kiroagent`
 * extension (`~/.config/Kiro/User/globalStorage/kiro.kiroagent`, macOS `~/Library/Application Support/Kiro/…`,
 * Windows `%APPDATA%\Kiro\…`):
 *
 * - `workspace-sessions/<workspace path in base64, '=' written '_'>/sessions.json` (`[{sessionId, title,
 *   dateCreated, workspaceDirectory}]`) and `<sessionId>.json` (the chat; its assistant entries are placeholders
 *   naming an `executionId`);
 * - `<first 32 hex of sha256(workspace path)>/…/<32 hex>`: extension-less JSON files, one per agent EXECUTION
 *   (`{executionId, chatSessionId, startTime, endTime, usageSummary[{unit:"credit", usage}], actions[],
 *   context.messages[]}`) beside index files (`{executions: [...]}`, nothing to count).
 *
 * Each execution is one interaction: its credits exactly as metered (`usageSummary`); Kiro records no token counts,
 * so its tokens are counted from the context it sent (`context.messages`, input) and the reply (the last `bot`
 * message, output) with the tokenizer and marked estimated — priced from the credits, never from those estimates.
 * The session's folder is the workspace the execution-store folder hashes to (found through workspace-sessions), and
 * the files of accepted edits (`actions[]` with `actionState` accepted and an `input.file`) are its edited files.
 */
export function kiroIdeRoots(env: NodeJS.ProcessEnv): string[] {
  return [path.join(platformBase('config', env), 'Kiro', 'User', 'globalStorage', 'kiro.kiroagent')];
}

const HASH = /^[0-9a-f]{32}$/;

/** Whether a folder is (or holds) Kiro IDE's agent storage: it has `workspace-sessions` or hash-named folders. */
export function isKiroAgentDir(dir: string): boolean {
  return path.basename(dir) === 'kiro.kiroagent' || isDirectory(path.join(dir, 'workspace-sessions'));
}

/** The execution files (and execution indexes, which yield nothing) under a `kiro.kiroagent` folder. */
export function discoverKiroIde(agentDir: string, root: string): LogFile[] {
  const files: LogFile[] = [];
  for (const name of listDir(agentDir)) {
    if (!HASH.test(name)) continue;
    for (const p of walkFiles(path.join(agentDir, name), (n) => HASH.test(n), 2))
      files.push({ source: 'kiro', path: p, root, whole: true });
  }
  return files;
}

/** A workspace-sessions folder name back to the workspace path (base64 with '=' written '_'); undefined if not one. */
export function decodeWorkspaceFolder(name: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+$/.test(name)) return undefined;
  const text = Buffer.from(name.replace(/_/g, '=').replace(/-/g, '+'), 'base64').toString('utf8');
  // A workspace is an absolute path (POSIX, or a Windows drive); anything else is not a folder name Kiro wrote.
  return /^(?:\/|[A-Za-z]:[\\/])/.test(text) && ![...text].some((c) => c.charCodeAt(0) < 0x20) ? text : undefined;
}

const workspaceHash = (p: string): string => createHash('sha256').update(p).digest('hex').slice(0, 32);

/**
 * The workspace whose execution-store folder is `hash`: every workspace Kiro lists in workspace-sessions (its folder
 * name, and the `workspaceDirectory` of its sessions.json) hashed the way Kiro names the store.
 */
export function workspaceOfHash(agentDir: string, hash: string): string | undefined {
  const dir = path.join(agentDir, 'workspace-sessions');
  for (const name of listDir(dir)) {
    const candidates = new Set<string>();
    const decoded = decodeWorkspaceFolder(name);
    if (decoded) candidates.add(decoded);
    try {
      const index: unknown = JSON.parse(readRegularText(path.join(dir, name, 'sessions.json'), 4 << 20) ?? 'null');
      if (Array.isArray(index)) {
        for (const e of index)
          if (isObject(e) && typeof e.workspaceDirectory === 'string' && e.workspaceDirectory)
            candidates.add(e.workspaceDirectory);
      }
    } catch {
      // being written, or not JSON: the folder name still says
    }
    for (const c of candidates) if (workspaceHash(c) === hash) return c;
  }
  return undefined;
}

/** Where an execution file sits: the `kiro.kiroagent` folder and the workspace hash folder right below it. */
function storeOf(file: string): { agentDir: string; hash: string } | undefined {
  let dir = path.dirname(file);
  for (let i = 0; i < 3; i++) {
    const parent = path.dirname(dir);
    if (HASH.test(path.basename(dir)) && !HASH.test(path.basename(parent)))
      return { agentDir: parent, hash: path.basename(dir) };
    dir = parent;
  }
  return undefined;
}

/** The text of one context message (`entries[]` of text, tool uses and documents, which all take context). */
function messageText(m: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof m.content === 'string') parts.push(m.content);
  for (const e of Array.isArray(m.entries) ? m.entries : []) {
    if (!isObject(e)) continue;
    if (typeof e.text === 'string') parts.push(e.text);
    else if (e.args !== undefined) parts.push(JSON.stringify(e.args));
    else if (e.document !== undefined) parts.push(JSON.stringify(e.document));
  }
  return parts.join('\n');
}

const ACCEPTED = /^accept/i;

export class KiroIdeExecutionParser extends WholeJsonParser {
  constructor(private readonly file: string) {
    super();
  }

  parseDoc(doc: unknown): WholeResult | { incomplete: string } {
    if (!isObject(doc))
      return { records: [], rejects: [{ entry: 0, reason: 'not a Kiro execution (not a JSON object)' }] };
    const out: WholeResult = { records: [], rejects: [] };
    if (Array.isArray(doc.executions) && doc.executionId === undefined) return out; // an execution index
    const executionId = typeof doc.executionId === 'string' && doc.executionId ? doc.executionId : undefined;
    if (!executionId) return { records: [], rejects: [{ entry: 0, reason: 'not a Kiro execution (no executionId)' }] };
    const credits = creditsOf(doc.usageSummary);
    if ('bad' in credits) return { records: [], rejects: [{ entry: 0, reason: `usageSummary: ${credits.bad}` }] };
    const sessionId = typeof doc.chatSessionId === 'string' && doc.chatSessionId ? doc.chatSessionId : executionId;
    const store = storeOf(this.file);
    const cwd = store ? workspaceOfHash(store.agentDir, store.hash) : undefined;
    const session: SessionContext = { source: 'kiro', sessionId, ...(cwd ? { cwd } : {}) };
    const time = (v: unknown): number | undefined =>
      typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
    const meta = isObject(doc.metadata) ? doc.metadata : {};
    const ts = time(doc.endTime) ?? time(meta.endTime) ?? time(doc.startTime);
    const messages = (isObject(doc.context) && Array.isArray(doc.context.messages) ? doc.context.messages : []).filter(
      isObject,
    );
    if (credits.credits === 0 && messages.length === 0) return out; // nothing metered, nothing said (a run still starting)
    if (ts === undefined) return { records: [], rejects: [{ entry: 0, reason: 'no startTime or endTime' }] };
    const last = messages[messages.length - 1];
    const replied = last !== undefined && last.role === 'bot';
    const input = (replied ? messages.slice(0, -1) : messages).map(messageText).join('\n');
    const output = replied ? messageText(last) : '';
    const model = [doc.modelId, doc.model, meta.modelId, meta.model].find(isNonEmptyString);
    const records: LedgerRecord[] = [
      interactionRecord({
        key: `kiro:ide:${executionId}`,
        session,
        timestamp: ts,
        model,
        tokens: {
          input: estimateTokens(input),
          output: estimateTokens(output),
          cacheRead: 0,
          cacheWrite: 0,
          reasoning: 0,
        },
        estimated: true,
        credits: credits.credits,
      }),
    ];
    // The engineer's prompt: the last human message before the run.
    const human = [...messages].reverse().find((m) => m.role === 'human' || m.role === 'user');
    const prompt = human ? messageText(human) : '';
    if (prompt.trim())
      records.push({
        kind: 'prompt',
        key: `kiro:ide:prompt:${executionId}`,
        session,
        timestamp: time(doc.startTime) ?? ts,
        text: prompt,
      });
    for (const a of Array.isArray(doc.actions) ? doc.actions : []) {
      if (!isObject(a) || typeof a.actionState !== 'string' || !ACCEPTED.test(a.actionState)) continue;
      const input = isObject(a.input) ? a.input : {};
      const file = [input.file, input.path, input.filePath].find(isNonEmptyString);
      if (!file) continue;
      const abs = path.isAbsolute(file) || !cwd ? file : path.join(cwd, file);
      records.push({ kind: 'edit', session, timestamp: time(a.emittedAt) ?? ts, path: abs });
    }
    out.records = records;
    return out;
  }
}
