import * as path from 'node:path';
import type { LedgerRecord, ParseOutcome, SessionContext } from '../core/usage/model';
import {
  fromOpenAiUsage,
  OPENAI_USAGE_FIELDS,
  readOpenAiUsage,
  sameOpenAiUsage,
  type OpenAiUsage,
} from '../core/usage/tokens';
import {
  isObject,
  has,
  looksLikeJsonObject,
  jsonObjectLine,
  parseTimestamp,
  rejected,
  restoreState,
  StatefulLineParser,
  type LogFile,
  type SourceReader,
} from './parser';
import { homeDir, isDirectory, isWithin, uniqueDirs, walkFiles } from './walk';

/** Builds without turn_context never say which model ran; this is the CLI's default of that era (flagged as assumed). */
export const CODEX_DEFAULT_MODEL = 'gpt-5';

const NEEDLES = ['"token_count"', '"session_meta"', '"turn_context"', 'apply_patch', '"user_message"'].map((s) =>
  Buffer.from(s),
);
const PAYLOAD_TYPE = Buffer.from('"payload":{"type":"');
/** Payload types worth a parse; every other line (outputs of tens of KB, reasoning, messages) is skipped unscanned. */
const WANTED = new Set([
  'token_count',
  'session_meta',
  'turn_context',
  'user_message',
  'custom_tool_call',
  'function_call',
]);
const HEAD_BYTES = 256;
const QUOTE = 0x22;

/**
 * The string that follows `opening` (a key and its opening quote) in the first bytes of a compact line, up to its
 * closing quote, without parsing the line; undefined when the line's head does not have it. The payload type
 * (`{"timestamp":…,"type":…,"payload":{"type":"…"`) and the time are read this way.
 */
function headString(line: Buffer, opening: Buffer): string | undefined {
  const head = line.length > HEAD_BYTES ? line.subarray(0, HEAD_BYTES) : line;
  const at = head.indexOf(opening);
  if (at === -1) return undefined;
  const from = at + opening.length;
  const to = head.indexOf(QUOTE, from);
  return to === -1 ? undefined : head.toString('latin1', from, to);
}

/**
 * A forked rollout (`forked_from_id`, or a subagent spawned from a thread) opens with the parent's rollout copied in,
 * every copied line stamped as it was written: one burst at the fork instant. The copy ends at the first line written
 * after a pause longer than this (the child's first model response takes longer than the burst's gaps).
 */
export const FORK_BURST_GAP_MS = 1000;
const TIMESTAMP_HEAD = Buffer.from('"timestamp":"');
const UUID_IN_NAME = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i;
const PATCH_FILE = /^\*\*\* (?:Update|Add|Delete) File: (.+)$|^\*\*\* Move to: (.+)$/gm;

interface CodexState {
  sessionId?: string;
  cwd?: string;
  branch?: string;
  model?: string;
  /** Cumulative totals at the last counted (or baseline) event. */
  last?: OpenAiUsage;
  /** Counted token events so far: part of each interaction's natural key. */
  ordinal: number;
  /** The rollout's own session_meta (its FIRST) was read: later ones are ancestors' metas copied into a fork. */
  own?: boolean;
  /** A fork's copied history is being read: its events are the parent's (counted in the parent's own rollout). */
  copying?: boolean;
  /** Time of the last line of the copy seen so far (ms). */
  copyStamp?: number;
}

/**
 * Codex CLI: `${CODEX_HOME:-~/.codex}/sessions/YYYY/MM/DD/rollout-*.jsonl` and `archived_sessions/`.
 * token_count events carry CUMULATIVE totals and are re-emitted unchanged: count deltas, skip re-emits, and take a
 * drop as a new baseline (counting that event's last_token_usage).
 */
export const codex: SourceReader = {
  source: 'codex',

  roots(env) {
    return uniqueDirs([
      env.CODEX_HOME && env.CODEX_HOME.trim() ? env.CODEX_HOME.trim() : path.join(homeDir(env), '.codex'),
    ]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      const sessions = path.join(root, 'sessions');
      const archived = path.join(root, 'archived_sessions');
      const hasLayout = isDirectory(sessions) || isDirectory(archived);
      const accept = (n: string): boolean => n.endsWith('.jsonl');
      if (!hasLayout) {
        if (isDirectory(root))
          for (const p of walkFiles(root, accept, 4)) files.push({ source: 'codex', path: p, root });
        continue;
      }
      const active = walkFiles(sessions, accept, 4);
      const activeNames = new Set(active.map((p) => path.basename(p)));
      for (const p of active) files.push({ source: 'codex', path: p, root });
      for (const p of walkFiles(archived, accept, 4)) {
        const copy = activeNames.has(path.basename(p));
        files.push({
          source: 'codex',
          path: p,
          root,
          ...(copy ? { skip: 'archived copy of an active session (counted once)' } : {}),
        });
      }
    }
    return files;
  },

  // A new rollout under sessions/ reads alone; archived_sessions/ is left to discovery, which knows when an archived
  // rollout is a copy of an active one.
  sessionFile(roots, p) {
    if (!p.endsWith('.jsonl')) return undefined;
    const root = roots.find((r) => isWithin(path.join(r, 'sessions'), p, 4));
    return root === undefined ? undefined : { source: 'codex', path: p, root };
  },

  createParser(file, state) {
    return new CodexParser(file.path, state);
  },
};

class CodexParser extends StatefulLineParser<CodexState> {
  constructor(file: string, state: string | null) {
    const restored = restoreState<CodexState>(state);
    super(restored ?? { ordinal: 0 });
    if (!this.s.sessionId) {
      const m = UUID_IN_NAME.exec(path.basename(file));
      this.s.sessionId = m?.[1] ?? path.basename(file, '.jsonl');
    }
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const line = buf.subarray(start, end);
    if (this.s.copying) this.followCopy(line);
    const type = headString(line, PAYLOAD_TYPE);
    // A line laid out otherwise, and session_meta and turn_context payloads (no type of their own), take the needle
    // scan (small lines).
    const wanted = type === undefined ? NEEDLES.some((n) => has(line, n)) : WANTED.has(type);
    if (!wanted) {
      return looksLikeJsonObject(buf, start, end) ? null : rejected('not JSON');
    }
    const parsed = jsonObjectLine(buf, start, end);
    if ('reason' in parsed) return parsed;
    const value = parsed.value;
    const payload = value.payload;
    if (!isObject(payload)) return null;
    switch (value.type) {
      case 'session_meta':
        return this.meta(payload, parseTimestamp(value.timestamp));
      case 'turn_context':
        if (typeof payload.model === 'string' && payload.model) this.s.model = payload.model;
        if (!this.s.copying && typeof payload.cwd === 'string' && payload.cwd) this.s.cwd = payload.cwd;
        return null;
      case 'event_msg':
        if (payload.type === 'token_count') return this.tokenCount(value, payload);
        if (payload.type === 'user_message') return this.s.copying ? null : this.prompt(value, payload);
        return null;
      case 'response_item':
        return this.s.copying ? null : this.edits(value, payload);
      default:
        return null;
    }
  }

  private context(): SessionContext {
    const ctx: SessionContext = { source: 'codex', sessionId: this.s.sessionId ?? 'unknown' };
    if (this.s.cwd) ctx.cwd = this.s.cwd;
    if (this.s.branch) ctx.branch = this.s.branch;
    return ctx;
  }

  /**
   * While a fork's copied history is read: the copy goes on while lines keep coming within FORK_BURST_GAP_MS of each
   * other, and ends for good at the first line after a longer pause (the child's own work).
   */
  private followCopy(line: Buffer): void {
    const t = headTimestamp(line);
    if (t === undefined) return;
    if (this.s.copyStamp !== undefined && t - this.s.copyStamp > FORK_BURST_GAP_MS) {
      this.s.copying = false;
      delete this.s.copyStamp;
      return;
    }
    this.s.copyStamp = Math.max(this.s.copyStamp ?? t, t);
  }

  private meta(payload: Record<string, unknown>, stamp: number | undefined): ParseOutcome {
    // A rollout's own session is its FIRST session_meta; a fork copies its ancestors' metas in after it.
    if (this.s.own) return null;
    this.s.own = true;
    if (isFork(payload)) {
      this.s.copying = true;
      if (stamp !== undefined) this.s.copyStamp = stamp;
    }
    if (typeof payload.id === 'string' && payload.id) this.s.sessionId = payload.id;
    if (typeof payload.cwd === 'string' && payload.cwd) this.s.cwd = payload.cwd;
    if (isObject(payload.git) && typeof payload.git.branch === 'string' && payload.git.branch)
      this.s.branch = payload.git.branch;
    return null;
  }

  private tokenCount(line: Record<string, unknown>, payload: Record<string, unknown>): ParseOutcome {
    const info = payload.info;
    if (info === null || info === undefined) return null;
    if (!isObject(info)) return rejected('token_count info is not an object');
    const total = readOpenAiUsage(info.total_token_usage);
    if (!total) return rejected('token_count total_token_usage has non-numeric counts');
    const timestamp = parseTimestamp(line.timestamp);
    if (timestamp === undefined) return rejected('timestamp missing or not a date');
    const prev = this.s.last;
    if (this.s.copying) {
      // The parent's request, copied with the parent's running total: the child's own totals continue from it.
      this.s.last = total;
      return null;
    }
    let counted: OpenAiUsage;
    if (!prev) {
      counted = total;
    } else if (sameOpenAiUsage(prev, total)) {
      return null; // re-emitted: nothing new was billed
    } else {
      const delta = subtract(total, prev);
      if (delta) counted = delta;
      else {
        // The total dropped (resume, compaction): a new baseline; this event's own usage is what was billed.
        const last = readOpenAiUsage(info.last_token_usage);
        if (!last) {
          this.s.last = total;
          return rejected('token_count reset without a usable last_token_usage');
        }
        counted = last;
      }
    }
    this.s.last = total;
    this.s.ordinal++;
    const model = this.s.model;
    return [
      {
        kind: 'interaction',
        key: `codex:${this.s.sessionId}:${this.s.ordinal}:${total.total_tokens}`,
        session: this.context(),
        timestamp,
        model: model ?? CODEX_DEFAULT_MODEL,
        tokens: fromOpenAiUsage(counted),
        cacheWrite1h: 0,
        sidechain: false,
        ...(model ? {} : { modelAssumed: true }),
      },
    ];
  }

  private prompt(line: Record<string, unknown>, payload: Record<string, unknown>): ParseOutcome {
    const text = payload.message;
    const timestamp = parseTimestamp(line.timestamp);
    if (typeof text !== 'string' || !text.trim() || timestamp === undefined) return null;
    return [
      {
        kind: 'prompt',
        key: `codex:prompt:${this.s.sessionId}:${timestamp}:${text.length}`,
        session: this.context(),
        timestamp,
        text,
      },
    ];
  }

  private edits(line: Record<string, unknown>, payload: Record<string, unknown>): ParseOutcome {
    let patch: string | undefined;
    if (payload.type === 'custom_tool_call' && payload.name === 'apply_patch' && typeof payload.input === 'string') {
      patch = payload.input;
    } else if (
      payload.type === 'function_call' &&
      typeof payload.arguments === 'string' &&
      payload.arguments.includes('apply_patch')
    ) {
      try {
        const args: unknown = JSON.parse(payload.arguments);
        const command = isObject(args) ? args.command : undefined;
        if (Array.isArray(command)) patch = command.filter((c): c is string => typeof c === 'string').join('\n');
        else if (isObject(args) && typeof args.input === 'string') patch = args.input;
      } catch {
        return rejected('function_call arguments are not JSON');
      }
    }
    if (!patch) return null;
    const timestamp = parseTimestamp(line.timestamp) ?? 0;
    const session = this.context();
    const records: LedgerRecord[] = [];
    for (const m of patch.matchAll(PATCH_FILE)) {
      const p = (m[1] ?? m[2] ?? '').trim();
      if (p) records.push({ kind: 'edit', session, timestamp, path: p });
    }
    return records;
  }
}

/** A rollout started from another thread's history: forked (`forked_from_id`) or spawned as a subagent of it. */
function isFork(payload: Record<string, unknown>): boolean {
  if (typeof payload.forked_from_id === 'string' && payload.forked_from_id) return true;
  if (typeof payload.parent_thread_id === 'string' && payload.parent_thread_id) return true;
  const source = payload.source;
  return isObject(source) && isObject(source.subagent) && isObject(source.subagent.thread_spawn);
}

/** The line's own time from its first bytes (`{"timestamp":"…"`), without parsing it; undefined when not there. */
function headTimestamp(line: Buffer): number | undefined {
  const text = headString(line, TIMESTAMP_HEAD);
  if (text === undefined || text.length > 40) return undefined;
  const t = Date.parse(text);
  return Number.isFinite(t) ? t : undefined;
}

/** Field-wise difference, or undefined when any counter went down (a reset). */
function subtract(now: OpenAiUsage, before: OpenAiUsage): OpenAiUsage | undefined {
  const d = {} as OpenAiUsage;
  for (const f of OPENAI_USAGE_FIELDS) {
    d[f] = now[f] - before[f];
    if (d[f] < 0) return undefined;
  }
  return d;
}
