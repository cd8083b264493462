import * as path from 'node:path';
import type { Database } from 'sql.js';
import { countsOf, TOKEN_FIELDS, type Tokens } from '../core/usage/tokens';
import type { WholeContext } from './parser';
import { readRegularFile } from './regular';
import { columnsOf, readSqliteCopy, stampOf, textOf } from './sqliteCopy';

/**
 * Copilot Chat's own OpenTelemetry store. With `github.copilot.chat.otel.dbSpanExporter.enabled` (VS Code setting; the
 * extension's documented local span store), Copilot Chat writes every span it emits to
 * `<User>/globalStorage/github.copilot-chat/agent-traces.db`: table `spans` (`span_id, trace_id, start_time_ms,
 * end_time_ms, operation_name, request_model, response_model, input_tokens, output_tokens, cached_tokens,
 * reasoning_tokens, chat_session_id, …`, the OTel GenAI attributes `gen_ai.usage.*` denormalised) and
 * `span_attributes (span_id, key, value)` (every attribute, among them `gen_ai.usage.cache_creation.input_tokens`).
 * It keeps 7 days (and 100 sessions) of spans.
 *
 * Each `chat` span is one model call with exact counts; an agent request makes several (its tool-calling rounds), so
 * the calls of one chat session are given to the request of that session's file that was running then (from its
 * start to the next request's start) and summed: exact per-request counts that replace the estimate made from the
 * session file (same request, same key). `invoke_agent` spans repeat their calls' counts and are not read.
 *
 * Counts follow the OpenTelemetry GenAI conventions: `input_tokens` includes the cached and cache-creation tokens
 * (the ledger's input does not), `output_tokens` includes the reasoning tokens (as the ledger's output does).
 */
export function copilotTracesDb(userDir: string): string {
  return path.join(userDir, 'globalStorage', 'github.copilot-chat', 'agent-traces.db');
}

/** One model call read from the store. */
export interface TraceCall {
  spanId: string;
  start: number;
  end: number;
  model: string | undefined;
  tokens: Tokens;
}

/** What the store said (per chat session id, calls in time order), and the calls it could not use, with why. */
export interface TraceRead {
  sessions: Map<string, TraceCall[]>;
  rejects: Array<{ session: string; reason: string }>;
  /** Why the store is there but could not be read (not a regular file, not a database, mid-write): no calls then. */
  unreadable?: string;
}

const reads = new Map<string, { stamp: string; read: TraceRead }>();

/**
 * The store's calls, read from an in-memory copy (with its write-ahead log; never opened in place) once per change
 * of the files; undefined when there is no store. One that cannot be read (a FIFO or device in its place, not a
 * database, or caught mid-write) gives no calls and says why (`unreadable`); it is read again on its next change.
 */
export function readCopilotTraces(dbFile: string, ctx: WholeContext): TraceRead | undefined {
  const stamp = stampOf([dbFile, `${dbFile}-wal`]);
  if (stamp.startsWith('-')) return undefined;
  const cached = reads.get(dbFile);
  if (cached && cached.stamp === stamp) return cached.read;
  const bytes = readRegularFile(dbFile, 512 << 20);
  if (!('bytes' in bytes)) return { sessions: new Map(), rejects: [], unreadable: `${dbFile}: ${bytes.refused}` };
  let read: TraceRead;
  try {
    read = readSqliteCopy(bytes.bytes, dbFile, ctx, traceCalls);
  } catch (e) {
    const why = `not a readable agent-traces database right now (${(e as Error).message})`;
    return { sessions: new Map(), rejects: [], unreadable: `${dbFile}: ${why}` };
  }
  if (reads.size > 64) reads.clear();
  reads.set(dbFile, { stamp, read });
  return read;
}

/** The `chat` calls of a copied agent-traces database, per chat session id. */
export function traceCalls(db: Database): TraceRead {
  const columns = columnsOf(db, 'spans');
  for (const c of ['span_id', 'operation_name', 'chat_session_id', 'input_tokens', 'output_tokens', 'start_time_ms']) {
    if (!columns.has(c)) throw new Error(`no spans.${c} column`);
  }
  const creation = new Map<string, unknown>();
  if (columnsOf(db, 'span_attributes').has('key')) {
    const r = db.exec(
      "SELECT a.span_id, a.value FROM span_attributes a JOIN spans s ON s.span_id = a.span_id WHERE a.key = 'gen_ai.usage.cache_creation.input_tokens' AND s.operation_name = 'chat'",
    );
    for (const [id, v] of r[0]?.values ?? [])
      creation.set(String(id), typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v);
  }
  const out: TraceRead = { sessions: new Map(), rejects: [] };
  const r = db.exec(
    `SELECT span_id, chat_session_id, start_time_ms, ${columns.has('end_time_ms') ? 'end_time_ms' : 'start_time_ms'}, request_model, response_model, input_tokens, output_tokens, ${columns.has('cached_tokens') ? 'cached_tokens' : 'NULL'}, ${columns.has('reasoning_tokens') ? 'reasoning_tokens' : 'NULL'}
     FROM spans WHERE operation_name = 'chat' AND chat_session_id IS NOT NULL ORDER BY start_time_ms, span_id`,
  );
  for (const row of r[0]?.values ?? []) {
    const [spanId, session, start, end, requested, responded, input, output, cached, reasoning] = row;
    const id = textOf(spanId) ?? '';
    const key = textOf(session) ?? '';
    const where = `agent-traces.db span ${id.slice(0, 40)}`;
    const reject = (reason: string): void => void out.rejects.push({ session: key, reason: `${where}: ${reason}` });
    const c = countsOf({ input, output, cacheRead: cached, cacheWrite: creation.get(id), reasoning }, TOKEN_FIELDS);
    if (!c) {
      reject('token counts are not non-negative integers');
      continue;
    }
    const { cacheRead, cacheWrite } = c;
    if (cacheRead + cacheWrite > c.input) {
      reject(`cached tokens (${cacheRead + cacheWrite}) exceed the input tokens (${c.input})`);
      continue;
    }
    const t0 = typeof start === 'number' && Number.isFinite(start) && start > 0 ? start : undefined;
    if (t0 === undefined) {
      reject('no start time');
      continue;
    }
    const t1 = typeof end === 'number' && Number.isFinite(end) && end >= t0 ? end : t0;
    const model = [textOf(responded), textOf(requested)].find((m) => m !== undefined && m !== '');
    const call: TraceCall = {
      spanId: id,
      start: t0,
      end: t1,
      model,
      tokens: {
        input: c.input - cacheRead - cacheWrite,
        output: c.output,
        cacheRead,
        cacheWrite,
        reasoning: Math.min(c.reasoning, c.output),
      },
    };
    let list = out.sessions.get(key);
    if (!list) out.sessions.set(key, (list = []));
    list.push(call);
  }
  return out;
}

/** The exact counts of one request: its calls summed, dated by the last, the model that took most of the tokens. */
export interface ExactRequest {
  tokens: Tokens;
  timestamp: number;
  model: string | undefined;
  calls: number;
}

/**
 * Gives each call of a chat session to the request running when it started: request i owns the calls from its
 * start to the start of request i + 1 (a chat session runs one request at a time). Calls before the first request
 * belong to none. `starts` are the requests' start times, in the session's order.
 */
export function exactPerRequest(
  calls: readonly TraceCall[],
  starts: ReadonlyArray<number | undefined>,
): Array<ExactRequest | undefined> {
  const out: Array<ExactRequest | undefined> = starts.map(() => undefined);
  const byModel: Array<Map<string, number>> = starts.map(() => new Map());
  for (const call of calls) {
    let owner = -1;
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i];
      if (s !== undefined && s <= call.start) owner = i;
    }
    if (owner < 0) continue;
    const e = (out[owner] ??= {
      tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
      timestamp: call.end,
      model: undefined,
      calls: 0,
    });
    e.tokens.input += call.tokens.input;
    e.tokens.output += call.tokens.output;
    e.tokens.cacheRead += call.tokens.cacheRead;
    e.tokens.cacheWrite += call.tokens.cacheWrite;
    e.tokens.reasoning += call.tokens.reasoning;
    e.timestamp = Math.max(e.timestamp, call.end);
    e.calls++;
    if (call.model) {
      const m = byModel[owner] as Map<string, number>;
      m.set(
        call.model,
        (m.get(call.model) ?? 0) +
          call.tokens.input +
          call.tokens.output +
          call.tokens.cacheRead +
          call.tokens.cacheWrite,
      );
    }
  }
  out.forEach((e, i) => {
    if (!e) return;
    let best: [string, number] | undefined;
    for (const entry of byModel[i] as Map<string, number>) if (!best || entry[1] > best[1]) best = entry;
    e.model = best?.[0];
  });
  return out;
}
