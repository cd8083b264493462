import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LedgerRecord, ParseOutcome, SessionContext } from '../core/usage/model';
import { optionalCount, type Tokens } from '../core/usage/tokens';
import {
  isObject,
  jsonObjectLine,
  StatefulLineParser,
  type LogFile,
  parseTimestamp,
  rejected,
  restoreState,
  type SourceReader,
  WholeJsonParser,
  type WholeResult,
} from './parser';
import { homeDir, isDirectory, listDir, uniqueDirs, walkFiles } from './walk';
import { readRegularFile, readRegularText } from './regular';

/** The model when a session names none: flagged as assumed. */
export const CONTINUE_UNKNOWN_MODEL = 'unknown';

const EDIT_TOOLS = new Set(['edit_existing_file', 'create_new_file', 'single_find_and_replace', 'multi_edit']);
const DEV_DATA_NAMES = new Set(['tokensGenerated.jsonl', 'tokens_generated.jsonl']);

/**
 * Continue's usage object: `promptTokens`, `completionTokens`, `promptTokensDetails{cachedTokens, cacheWriteTokens}`.
 * With `cacheWriteTokens` present the counts came from Anthropic (prompt tokens exclude the cache: the four add up);
 * otherwise OpenAI semantics (cached tokens are part of the prompt tokens).
 */
export function fromContinueUsage(u: Record<string, unknown>): Tokens | undefined {
  const prompt = optionalCount(u.promptTokens);
  const completion = optionalCount(u.completionTokens);
  if (prompt === undefined || completion === undefined) return undefined;
  const details = isObject(u.promptTokensDetails) ? u.promptTokensDetails : {};
  const cached = optionalCount(details.cachedTokens);
  const write = optionalCount(details.cacheWriteTokens);
  const out = isObject(u.completionTokensDetails) ? u.completionTokensDetails : {};
  const reasoning = optionalCount(out.reasoningTokens);
  if (cached === undefined || write === undefined || reasoning === undefined) return undefined;
  const anthropic = details.cacheWriteTokens !== undefined && details.cacheWriteTokens !== null;
  const cacheRead = anthropic ? cached : Math.min(cached, prompt);
  return {
    input: anthropic ? prompt : prompt - cacheRead,
    cacheRead,
    cacheWrite: write,
    output: completion,
    reasoning: Math.min(reasoning, completion),
  };
}

/**
 * Continue 1.2.16 session files: the provider's usage as sent, in snake_case — `{prompt_tokens, completion_tokens,
 * total_tokens, model, cost_cents}` (OpenAI semantics: `prompt_tokens_details.cached_tokens` is part of the prompt).
 */
function fromSnakeUsage(u: Record<string, unknown>): Tokens | undefined {
  const prompt = optionalCount(u.prompt_tokens);
  const completion = optionalCount(u.completion_tokens);
  if (prompt === undefined || completion === undefined) return undefined;
  const details = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const cached = optionalCount(details.cached_tokens);
  const out = isObject(u.completion_tokens_details) ? u.completion_tokens_details : {};
  const reasoning = optionalCount(out.reasoning_tokens);
  if (cached === undefined || reasoning === undefined) return undefined;
  const cacheRead = Math.min(cached, prompt);
  return {
    input: prompt - cacheRead,
    cacheRead,
    cacheWrite: 0,
    output: completion,
    reasoning: Math.min(reasoning, completion),
  };
}

/** What one usage object of a session file says: tokens (with the model and cost it names), or why it is unusable. */
export type ContinueUsage = { tokens: Tokens; model?: string; costUSD?: number } | { reason: string };

/**
 * Reads a usage object in either shape Continue writes (camelCase, or the snake_case of 1.2.16). A shape with neither
 * is never read as zeros: it is a reason.
 */
export function readContinueUsage(u: Record<string, unknown>): ContinueUsage {
  const camel = u.promptTokens !== undefined || u.completionTokens !== undefined;
  const snake = u.prompt_tokens !== undefined || u.completion_tokens !== undefined;
  if (!camel && !snake)
    return {
      reason:
        'usage in a shape Continue is not known to write (no promptTokens/completionTokens or prompt_tokens/completion_tokens)',
    };
  const tokens = camel ? fromContinueUsage(u) : fromSnakeUsage(u);
  if (!tokens) return { reason: 'usage counts are not non-negative integers' };
  const model = typeof u.model === 'string' && u.model ? u.model : undefined;
  const cents = u.cost_cents;
  const costUSD = typeof cents === 'number' && Number.isFinite(cents) && cents >= 0 ? cents / 100 : undefined;
  return { tokens, ...(model ? { model } : {}), ...(costUSD !== undefined ? { costUSD } : {}) };
}

function billed(t: Tokens): boolean {
  return t.input + t.output + t.cacheRead + t.cacheWrite > 0;
}

/** Whether a session document holds any exact non-zero usage (a message's, or the session's total). */
export function hasExactUsage(doc: unknown): boolean {
  if (!isObject(doc)) return false;
  if (Array.isArray(doc.history)) {
    for (const item of doc.history) {
      const usage = isObject(item) && isObject(item.message) ? item.message.usage : undefined;
      if (!isObject(usage)) continue;
      const r = readContinueUsage(usage);
      if ('tokens' in r && billed(r.tokens)) return true;
    }
  }
  if (isObject(doc.usage)) {
    const r = readContinueUsage(doc.usage);
    if ('tokens' in r && billed(r.tokens)) return true;
  }
  return false;
}

/**
 * Continue: `${CONTINUE_GLOBAL_DIR:-~/.continue}/sessions/<sessionId>.json` (one session, rewritten whole; newer
 * versions keep `usage` on each assistant message) and `dev_data/0.2.0/tokensGenerated.jsonl` (the extension's own
 * tokenizer ESTIMATES of every request: marked estimated, and counted only from before the first session with exact
 * usage, so one request is never counted twice).
 */
export const continueDev: SourceReader = {
  source: 'continue',

  roots(env) {
    const override = env.CONTINUE_GLOBAL_DIR && env.CONTINUE_GLOBAL_DIR.trim();
    return uniqueDirs([override || path.join(homeDir(env), '.continue')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      const sessions = path.basename(root) === 'sessions' ? root : path.join(root, 'sessions');
      if (isDirectory(sessions)) {
        for (const n of listDir(sessions)) {
          if (n.endsWith('.json') && n !== 'sessions.json')
            files.push({ source: 'continue', path: path.join(sessions, n), root, whole: true });
        }
      }
      const devData = path.join(root, 'dev_data');
      if (isDirectory(devData)) {
        for (const p of walkFiles(devData, (n) => DEV_DATA_NAMES.has(n), 2))
          files.push({ source: 'continue', path: p, root });
      }
    }
    return files;
  },

  createParser(file, state) {
    return DEV_DATA_NAMES.has(path.basename(file.path)) ? new DevDataParser(file, state) : new SessionParser(file);
  },
};

/** `sessions/sessions.json`: the index of sessions with their creation time (ms since epoch, as a string or number). */
function sessionIndex(sessionsDir: string): Map<string, number> {
  const out = new Map<string, number>();
  let list: unknown;
  try {
    list = JSON.parse(readRegularText(path.join(sessionsDir, 'sessions.json')) ?? '');
  } catch {
    return out;
  }
  if (!Array.isArray(list)) return out;
  for (const s of list) {
    if (!isObject(s) || typeof s.sessionId !== 'string') continue;
    const t =
      typeof s.dateCreated === 'string' && /^\d+$/.test(s.dateCreated)
        ? Number(s.dateCreated)
        : parseTimestamp(s.dateCreated);
    if (t !== undefined) out.set(s.sessionId, t);
  }
  return out;
}

function folderOf(dir: unknown): string | undefined {
  if (typeof dir !== 'string' || !dir) return undefined;
  if (dir.startsWith('file://')) {
    try {
      return fileURLToPath(dir);
    } catch {
      return undefined;
    }
  }
  return dir;
}

class SessionParser extends WholeJsonParser {
  constructor(private readonly file: LogFile) {
    super();
  }

  parseDoc(doc: unknown): WholeResult | { incomplete: string } {
    if (!isObject(doc) || !Array.isArray(doc.history))
      return { incomplete: 'not a Continue session (no history list)' };
    const sessionId =
      typeof doc.sessionId === 'string' && doc.sessionId ? doc.sessionId : path.basename(this.file.path, '.json');
    let created = sessionIndex(path.dirname(this.file.path)).get(sessionId);
    if (created === undefined) {
      try {
        const st = fs.statSync(this.file.path);
        created = Math.floor(st.birthtimeMs > 0 ? st.birthtimeMs : st.mtimeMs);
      } catch {
        created = 0;
      }
    }
    const cwd = folderOf(doc.workspaceDirectory);
    const session: SessionContext = { source: 'continue', sessionId, ...(cwd ? { cwd } : {}) };
    const sessionModel = typeof doc.chatModelTitle === 'string' && doc.chatModelTitle ? doc.chatModelTitle : undefined;
    const records: LedgerRecord[] = [];
    const rejects: WholeResult['rejects'] = [];
    let exact = 0;
    doc.history.forEach((item, i) => {
      if (!isObject(item) || !isObject(item.message)) return;
      const m = item.message;
      if (m.role !== 'assistant') return;
      const entry = i + 1;
      const timestamp = (created ?? 0) + i; // no per-message times are written: keep their order within the session
      if (Array.isArray(m.toolCalls)) {
        for (const call of m.toolCalls) {
          const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
          if (!fn || typeof fn.name !== 'string' || !EDIT_TOOLS.has(fn.name) || typeof fn.arguments !== 'string')
            continue;
          try {
            const args: unknown = JSON.parse(fn.arguments);
            const p = isObject(args) ? (args.filepath ?? args.filePath) : undefined;
            if (typeof p === 'string' && p) records.push({ kind: 'edit', session, timestamp, path: folderOf(p) ?? p });
          } catch {
            // arguments still streaming: the edit shows up when the file is written again
          }
        }
      }
      if (m.usage === undefined || m.usage === null) return;
      if (!isObject(m.usage)) {
        rejects.push({ entry: 0, reason: `history ${entry}: usage is not an object` });
        return;
      }
      const usage = readContinueUsage(m.usage);
      if ('reason' in usage) {
        rejects.push({ entry: 0, reason: `history ${entry}: ${usage.reason}` });
        return;
      }
      exact++;
      // All zeros: the provider reported nothing (the tokenizer estimate in dev_data stands for this request).
      if (!billed(usage.tokens)) return;
      const model = usage.model ?? modelOf(item) ?? sessionModel;
      records.push({
        kind: 'interaction',
        key: `continue:${sessionId}:${i}`,
        session,
        timestamp,
        model: model ?? CONTINUE_UNKNOWN_MODEL,
        tokens: usage.tokens,
        cacheWrite1h: 0,
        sidechain: false,
        ...(usage.costUSD !== undefined ? { recordedCostUSD: usage.costUSD } : {}),
        ...(model ? {} : { modelAssumed: true }),
      });
    });
    // Builds that kept one usage total per session (and its cost) rather than per message.
    if (exact === 0 && isObject(doc.usage)) {
      const usage = readContinueUsage(doc.usage);
      const tokens = 'tokens' in usage ? usage.tokens : undefined;
      if ('reason' in usage) rejects.push({ entry: 0, reason: `session ${usage.reason}` });
      else if (tokens && billed(tokens)) {
        const cost = doc.usage.totalCost;
        records.push({
          kind: 'interaction',
          key: `continue:${sessionId}:session`,
          session,
          timestamp: created ?? 0,
          model: sessionModel ?? CONTINUE_UNKNOWN_MODEL,
          tokens,
          cacheWrite1h: 0,
          sidechain: false,
          ...(typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? { recordedCostUSD: cost } : {}),
          ...(sessionModel ? {} : { modelAssumed: true }),
        });
      }
    }
    return { records, rejects };
  }
}

function modelOf(item: Record<string, unknown>): string | undefined {
  const logs = item.promptLogs;
  if (!Array.isArray(logs)) return undefined;
  for (let j = logs.length - 1; j >= 0; j--) {
    const log: unknown = logs[j];
    if (!isObject(log)) continue;
    const opts = log.completionOptions;
    if (isObject(opts) && typeof opts.model === 'string' && opts.model) return opts.model;
    if (typeof log.modelTitle === 'string' && log.modelTitle) return log.modelTitle;
  }
  return undefined;
}

interface DevDataState {
  /** Creation time of the first session with exact usage: estimates from then on are not counted. */
  cutoff?: number;
  /** Session files modified up to this time were already looked at for exact usage. */
  scannedUntil: number;
  ordinal: number;
}

const USAGE_NEEDLES = [Buffer.from('"promptTokens"'), Buffer.from('"prompt_tokens"')];

class DevDataParser extends StatefulLineParser<DevDataState> {
  constructor(file: LogFile, state: string | null) {
    const restored = restoreState<DevDataState>(state);
    super(restored ?? { scannedUntil: 0, ordinal: 0 });
    if (this.s.cutoff === undefined) this.findCutoff(path.join(file.root, 'sessions'));
  }

  /** Looks at session files changed since the last look for the first one carrying exact usage. */
  private findCutoff(dir: string): void {
    if (!isDirectory(dir)) return;
    const index = sessionIndex(dir);
    let newest = this.s.scannedUntil;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.endsWith('.json') || n === 'sessions.json') continue;
      const p = path.join(dir, n);
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        continue;
      }
      if (st.mtimeMs <= this.s.scannedUntil) continue;
      newest = Math.max(newest, st.mtimeMs);
      const read = readRegularFile(p);
      if (!('bytes' in read)) continue;
      const bytes = read.bytes;
      if (!USAGE_NEEDLES.some((n) => bytes.indexOf(n) !== -1)) continue;
      // Only exact NON-ZERO usage starts the cut-off: a session whose counts are all zero recorded nothing.
      let doc: unknown;
      try {
        doc = JSON.parse(bytes.toString('utf8'));
      } catch {
        continue;
      }
      if (!hasExactUsage(doc)) continue;
      const created =
        index.get(n.slice(0, -'.json'.length)) ?? Math.floor(st.birthtimeMs > 0 ? st.birthtimeMs : st.mtimeMs);
      this.s.cutoff = Math.min(this.s.cutoff ?? Infinity, created);
    }
    this.s.scannedUntil = newest;
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const parsed = jsonObjectLine(buf, start, end);
    if ('reason' in parsed) return parsed;
    const v = parsed.value;
    const prompt = optionalCount(v.promptTokens);
    const generated = optionalCount(v.generatedTokens);
    if (prompt === undefined || generated === undefined) return rejected('token counts are not non-negative integers');
    const timestamp = parseTimestamp(v.timestamp);
    if (timestamp === undefined) return rejected('timestamp missing or not a date');
    if (this.s.cutoff !== undefined && timestamp >= this.s.cutoff) return null; // the session files hold this request exactly
    const model = typeof v.model === 'string' && v.model ? v.model : undefined;
    this.s.ordinal++;
    return [
      {
        kind: 'interaction',
        key: `continue:dev:${timestamp}:${this.s.ordinal}:${prompt}:${generated}`,
        session: { source: 'continue', sessionId: `dev-data-${new Date(timestamp).toISOString().slice(0, 10)}` },
        timestamp,
        model: model ?? CONTINUE_UNKNOWN_MODEL,
        tokens: { input: prompt, output: generated, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
        cacheWrite1h: 0,
        sidechain: false,
        estimated: true,
        ...(model ? {} : { modelAssumed: true }),
      },
    ];
  }
}
