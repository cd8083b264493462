/**
 * OTLP/HTTP JSON → ledger records: the pure half of the local OpenTelemetry receiver (services/otel.ts serves it).
 *
 * What is read, per tool (docs/otel.md):
 *  - Claude Code: the log event `claude_code.api_request` — `model`, `input_tokens`, `output_tokens`,
 *    `cache_read_tokens`, `cache_creation_tokens`, `cost_usd`, `session.id`, `event.timestamp` (Anthropic semantics:
 *    input excludes the cache, as in its log files);
 *  - Codex: the log event `codex.sse_event` (a `response.completed` carries the counts) — `input_token_count`,
 *    `output_token_count`, `cached_token_count`, `reasoning_token_count`, `conversation.id`, `model` (OpenAI
 *    semantics: input includes the cached input, output the reasoning);
 *  - Gemini CLI: the log event `gemini_cli.api_response` — `input_token_count`, `output_token_count`,
 *    `cached_content_token_count`, `thoughts_token_count`, `tool_token_count`, `session.id`, `model` (the chat files'
 *    canonicalisation). Its metric `gemini_cli.token.usage` is a running sum of the same requests: counted as seen,
 *    never recorded (it would count them twice);
 *  - Copilot CLI (and any service named copilot): chat spans with the gen_ai conventions — `gen_ai.usage.input_tokens`,
 *    `gen_ai.usage.output_tokens`, `gen_ai.usage.cache_read.input_tokens`, `gen_ai.request.model`/`gen_ai.response.model`,
 *    `gen_ai.conversation.id` — keyed like the OTel file export, so the two never count twice.
 *
 * Everything in a body is untrusted: strings through `cleanText`, counts must be integers (OTLP writes int64 as a
 * decimal string) within the plausibility bounds, and a body holding more than MAX_ITEMS records is cut off there.
 * Prompt text (`claude_code.user_prompt`'s `prompt`, …) is never read.
 */
import { cleanText } from '../common/text';
import { boundedCost, boundedTokens, implausible } from './bounds';
import type { InteractionRecord, SourceName } from './model';
import { fromAnthropicUsage, fromCopilotTokens, fromGeminiTokens, fromOpenAiUsage, type Tokens } from './tokens';

export type OtlpSignal = 'logs' | 'metrics' | 'traces';

/** What one OTLP body gave. `rejected` are items of a known event whose figures could not be used (with why). */
export interface OtlpMapped {
  records: InteractionRecord[];
  rejected: string[];
  /** Items read that are not usage (other events, spans, metrics): accepted and not recorded. */
  ignored: number;
}

/** The most log records, spans or data points read from one body (a body is at most a few MB). */
export const MAX_ITEMS = 20_000;
/** Longest id or model name kept. */
const MAX_NAME = 200;
/** Dates a record may carry: 2015 to 2100 (anything else is a broken clock or a hostile body). */
const MIN_TS = Date.UTC(2015, 0, 1);
const MAX_TS = Date.UTC(2100, 0, 1);

type Attrs = Map<string, unknown>;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** An attribute that is there but holds no scalar (an array, a map, bytes, a wrong type): never read as 0. */
const UNREADABLE = Symbol('unreadable');

/** An OTLP AnyValue as a scalar: string, number (int64 arrives as a decimal string), boolean; UNREADABLE otherwise. */
function scalar(v: unknown): unknown {
  if (!isObj(v)) return UNREADABLE;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (v.intValue !== undefined)
    return typeof v.intValue === 'string' || typeof v.intValue === 'number' ? intOf(v.intValue) : UNREADABLE;
  if (typeof v.doubleValue === 'number' || typeof v.doubleValue === 'string') return Number(v.doubleValue);
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  return UNREADABLE;
}

function intOf(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  return /^-?\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
}

/** The attributes of an item (and of its resource), keys cleaned; later ones do not override earlier ones. */
function attrsOf(...lists: unknown[]): Attrs {
  const out: Attrs = new Map();
  for (const list of lists) {
    for (const kv of arr(list)) {
      if (!isObj(kv) || typeof kv.key !== 'string' || out.has(kv.key)) continue;
      out.set(kv.key, scalar(kv.value));
    }
  }
  return out;
}

function text(a: Attrs, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = a.get(k);
    if (typeof v === 'string' && v.trim()) return cleanText(v).trim().slice(0, MAX_NAME) || undefined;
  }
  return undefined;
}

/**
 * A token count: an integer (or a decimal string of one — Claude Code writes its counts as strings) within the bounds.
 * Absent reads as 0; `null` marks a count present but unusable.
 */
function count(a: Attrs, key: string): number | null {
  const v = a.get(key);
  if (v === undefined) return 0;
  const n = typeof v === 'string' && /^\d{1,16}$/.test(v.trim()) ? Number(v.trim()) : v;
  return boundedTokens(n) ?? null;
}

/**
 * Several counts, each named as the usage reader it goes to names it (`{ input_tokens: 'input_token_count' }`: the
 * field, then the attribute that holds it); null when one of them is unusable.
 */
function counts<K extends string>(a: Attrs, attributes: Record<K, string>): Record<K, number> | null {
  const out = {} as Record<K, number>;
  for (const k of Object.keys(attributes) as K[]) {
    const n = count(a, attributes[k]);
    if (n === null) return null;
    out[k] = n;
  }
  return out;
}

/** Nanoseconds since the epoch (a decimal string or a number) → ms. */
function nanos(v: unknown): number | undefined {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return Math.floor(Number(v) / 1e6);
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return Math.floor(v / 1e6);
  return undefined;
}

function timeOf(a: Attrs, item: Record<string, unknown>, ...fields: string[]): number | undefined {
  const iso = a.get('event.timestamp');
  const candidates = [typeof iso === 'string' ? Date.parse(iso) : undefined, ...fields.map((f) => nanos(item[f]))];
  return candidates.find((t): t is number => t !== undefined && Number.isFinite(t) && t >= MIN_TS && t < MAX_TS);
}

/** The event an OTLP log record is: `eventName`, the `event.name` attribute, or the body (Claude Code writes it there). */
function eventNameOf(item: Record<string, unknown>, a: Attrs): string {
  const names = [item.eventName, a.get('event.name'), scalar(item.body)].filter(
    (x): x is string => typeof x === 'string',
  );
  for (const n of names) if (KNOWN_EVENTS.has(n)) return n;
  // `event.name` without its prefix (some builds): the service says which tool it is.
  const service = a.get('service.name');
  if (names.includes('api_request') && typeof service === 'string' && /claude/i.test(service))
    return 'claude_code.api_request';
  if (names.includes('sse_event') && typeof service === 'string' && /codex/i.test(service)) return 'codex.sse_event';
  return names[0] ?? '';
}

const KNOWN_EVENTS = new Set(['claude_code.api_request', 'codex.sse_event', 'gemini_cli.api_response']);

function sessionKey(
  source: SourceName,
  session: string | undefined,
  ts: number,
  t: Tokens,
): { sessionId: string; key: (id?: string) => string } {
  // No session id: the request still counts, in a session of its own day (the tool did not say which it was).
  const sessionId = session ?? `otlp-${new Date(ts).toISOString().slice(0, 10)}`;
  return {
    sessionId,
    key: (id) => `${source}:otlp:${id ?? `${sessionId}:${ts}:${t.input}:${t.output}:${t.cacheRead}:${t.cacheWrite}`}`,
  };
}

function record(
  source: SourceName,
  key: string,
  sessionId: string,
  ts: number,
  model: string | undefined,
  tokens: Tokens,
  extra: Partial<InteractionRecord> = {},
): InteractionRecord {
  return {
    kind: 'interaction',
    key,
    session: { source, sessionId },
    timestamp: ts,
    model: model ?? 'auto',
    tokens,
    cacheWrite1h: 0,
    sidechain: false,
    ...(model ? {} : { modelAssumed: true }),
    ...extra,
    viaOtlp: true,
  };
}

const isZero = (t: Tokens): boolean => t.input + t.output + t.cacheRead + t.cacheWrite === 0;

/** One log record → a record, a reason it cannot be used, or null (not usage). */
function logRecord(item: Record<string, unknown>, resource: unknown): InteractionRecord | string | null {
  const a = attrsOf(item.attributes, resource);
  const name = eventNameOf(item, a);
  if (!KNOWN_EVENTS.has(name)) return null;
  const ts = timeOf(a, item, 'timeUnixNano', 'observedTimeUnixNano');
  if (ts === undefined) return `${name} without a usable time`;
  const model = text(a, 'model', 'gen_ai.response.model', 'gen_ai.request.model');
  if (name === 'claude_code.api_request') {
    const c = counts(a, {
      input_tokens: 'input_tokens',
      output_tokens: 'output_tokens',
      cache_read_input_tokens: 'cache_read_tokens',
      cache_creation_input_tokens: 'cache_creation_tokens',
    });
    if (!c) return `${name}: token counts are not integers from 0 to 10^9`;
    const usage = fromAnthropicUsage(c);
    if (!usage) return `${name}: token counts are not integers`;
    const { cacheWrite1h, ...tokens } = usage;
    if (isZero(tokens)) return null;
    const cost = a.get('cost_usd');
    const costNum = typeof cost === 'string' && /^\d+(\.\d+)?(e-?\d+)?$/i.test(cost.trim()) ? Number(cost) : cost;
    if (cost !== undefined && boundedCost(costNum) === undefined) return `${name}: cost_usd is not a plausible cost`;
    const s = sessionKey('claude-code', text(a, 'session.id'), ts, tokens);
    return record('claude-code', s.key(text(a, 'request_id', 'request.id')), s.sessionId, ts, model, tokens, {
      cacheWrite1h,
      ...(cost !== undefined ? { recordedCostUSD: costNum as number } : {}),
    });
  }
  if (name === 'codex.sse_event') {
    const kind = a.get('event.kind');
    if (kind !== undefined && kind !== 'response.completed') return null;
    const c = counts(a, {
      input_tokens: 'input_token_count',
      cached_input_tokens: 'cached_token_count',
      output_tokens: 'output_token_count',
      reasoning_output_tokens: 'reasoning_token_count',
    });
    if (!c) return `${name}: token counts are not integers from 0 to 10^9`;
    const tokens = fromOpenAiUsage({ ...c, total_tokens: 0 });
    if (isZero(tokens)) return null;
    const s = sessionKey('codex', text(a, 'conversation.id', 'session.id'), ts, tokens);
    return record('codex', s.key(), s.sessionId, ts, model, tokens);
  }
  // gemini_cli.api_response
  const c = counts(a, {
    input: 'input_token_count',
    output: 'output_token_count',
    cached: 'cached_content_token_count',
    thoughts: 'thoughts_token_count',
    tool: 'tool_token_count',
  });
  if (!c) return `${name}: token counts are not integers from 0 to 10^9`;
  const tokens = fromGeminiTokens(c);
  if (!tokens) return `${name}: token counts are not integers`;
  if (isZero(tokens)) return null;
  const s = sessionKey('gemini-cli', text(a, 'session.id'), ts, tokens);
  return record('gemini-cli', s.key(), s.sessionId, ts, model, tokens);
}

/** A span with the gen_ai conventions from a Copilot service → a record keyed as the OTel file export keys it. */
function span(item: Record<string, unknown>, resource: unknown): InteractionRecord | string | null {
  const a = attrsOf(item.attributes, resource);
  const service = a.get('service.name');
  const chat =
    a.get('gen_ai.operation.name') === 'chat' || (typeof item.name === 'string' && item.name.startsWith('chat '));
  if (!chat || typeof service !== 'string' || !/copilot/i.test(service)) return null;
  const c = counts(a, {
    input: 'gen_ai.usage.input_tokens',
    output: 'gen_ai.usage.output_tokens',
    cacheRead: 'gen_ai.usage.cache_read.input_tokens',
    cacheWrite: 'gen_ai.usage.cache_creation.input_tokens',
    reasoning: 'gen_ai.usage.reasoning.output_tokens',
  });
  if (!c) return 'gen_ai.usage attributes are not integers from 0 to 10^9';
  const tokens = fromCopilotTokens(c.input, c.output, c.cacheRead, c.cacheWrite, c.reasoning);
  if (!tokens || isZero(tokens)) return null;
  const ts = timeOf(a, item, 'endTimeUnixNano', 'startTimeUnixNano');
  if (ts === undefined) return 'chat span without a usable time';
  const traceId = typeof item.traceId === 'string' && /^[\w-]{1,64}$/.test(item.traceId) ? item.traceId : undefined;
  const spanId = typeof item.spanId === 'string' && /^[\w-]{1,64}$/.test(item.spanId) ? item.spanId : undefined;
  if (!traceId || !spanId) return 'chat span without traceId and spanId';
  const source: SourceName = /vscode|copilot[-_ ]?chat/i.test(service) ? 'copilot-chat' : 'copilot-cli';
  const sessionId = text(a, 'gen_ai.conversation.id', 'session.id') ?? traceId;
  return record(
    source,
    `${source}:otel:${traceId}:${spanId}`,
    sessionId,
    ts,
    text(a, 'gen_ai.response.model', 'gen_ai.request.model'),
    tokens,
  );
}

/** The items of a signal's body: [item, its resource's attributes]. At most MAX_ITEMS; `more` says some were left. */
function* items(signal: OtlpSignal, body: Record<string, unknown>): Generator<[Record<string, unknown>, unknown]> {
  const [top, scopes, list] =
    signal === 'logs'
      ? ['resourceLogs', 'scopeLogs', 'logRecords']
      : signal === 'traces'
        ? ['resourceSpans', 'scopeSpans', 'spans']
        : ['resourceMetrics', 'scopeMetrics', 'metrics'];
  for (const r of arr(body[top])) {
    if (!isObj(r)) continue;
    const resource = isObj(r.resource) ? r.resource.attributes : undefined;
    for (const s of arr(r[scopes])) {
      if (!isObj(s)) continue;
      for (const item of arr(s[list])) if (isObj(item)) yield [item, resource];
    }
  }
}

/**
 * Maps one OTLP JSON body (already parsed) of a signal. A body that is not an object maps to nothing with one
 * rejection; a record outside the plausibility bounds is rejected with the bounds' reason.
 */
export function mapOtlp(signal: OtlpSignal, body: unknown): OtlpMapped {
  const out: OtlpMapped = { records: [], rejected: [], ignored: 0 };
  if (!isObj(body)) {
    out.rejected.push('the body is not a JSON object');
    return out;
  }
  let n = 0;
  for (const [item, resource] of items(signal, body)) {
    if (++n > MAX_ITEMS) {
      out.rejected.push(`more than ${MAX_ITEMS} items in one body: the rest was not read`);
      break;
    }
    if (signal === 'metrics') {
      out.ignored++; // gemini_cli.token.usage and the like: running sums of requests the events already count
      continue;
    }
    const r = signal === 'logs' ? logRecord(item, resource) : span(item, resource);
    if (r === null) out.ignored++;
    else if (typeof r === 'string') out.rejected.push(r);
    else {
      const why = implausible(r);
      if (why) out.rejected.push(why);
      else out.records.push(r);
    }
  }
  return out;
}
