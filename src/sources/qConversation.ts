import type { Database } from 'sql.js';
import type { SessionContext, SourceName } from '../core/usage/model';
import { optionalCount, type Tokens } from '../core/usage/tokens';
import { interactionRecord, isNonEmptyString, isObject, parseTimestamp, type WholeResult } from './parser';
import { columnsOf, textOf } from './sqliteCopy';
import { estimateTokens } from './tokenize';
import { pushAll } from '../core/common/numbers';

/**
 * The conversation state Amazon Q Developer's CLI (and Kiro CLI before its session files, which is the same program
 * renamed) saves in its SQLite database, one JSON document per row (`conversations`: key = working folder, one row per
 * folder, overwritten by each new conversation there; `conversations_v2`: key + conversation_id). `history[]` holds one
 * `{user, assistant, request_metadata}` per request; `request_metadata` names the model, the request's times and the
 * prompt and response sizes, and no token counts (their token fields, where present, are null); `file_line_tracker`
 * holds the lines the agent wrote per file; Kiro adds `user_turn_metadata.usage_info[]` (credits of the current turn).
 *
 * Every row is read each time the database changes, and each request's record is keyed by conversation and message
 * id: a conversation overwritten in its row keeps the requests imported from it before (capture happens on every
 * change while live capture runs, and the ledger keeps what it captured).
 */
export interface ConversationOptions {
  source: SourceName;
  /** Without token counts in the file, estimate them from the text with the tokenizer (and mark them estimated). */
  estimate: boolean;
}

interface Row {
  /** The row's key (the working folder). */
  key: string;
  conversationId?: string;
  value: string;
  updatedAt?: number;
}

/** Reads every conversation row of a copied database (tables `conversations_v2` and `conversations`). */
export function readConversationDatabase(db: Database, options: ConversationOptions): WholeResult {
  const rows: Row[] = [];
  const v2 = columnsOf(db, 'conversations_v2');
  const v1 = columnsOf(db, 'conversations');
  if (!v2.has('value') && !v1.has('value')) throw new Error('no conversations table');
  if (v2.has('value')) {
    const cols = [
      'key',
      v2.has('conversation_id') ? 'conversation_id' : 'NULL',
      'value',
      v2.has('updated_at') ? 'updated_at' : 'NULL',
    ];
    for (const [key, id, value, updated] of db.exec(`SELECT ${cols.join(', ')} FROM conversations_v2`)[0]?.values ??
      []) {
      rows.push({
        key: String(key),
        conversationId: id === null ? undefined : String(id),
        value: textOf(value) ?? '',
        updatedAt: typeof updated === 'number' ? updated : undefined,
      });
    }
  }
  if (v1.has('value')) {
    for (const [key, value] of db.exec('SELECT key, value FROM conversations')[0]?.values ?? [])
      rows.push({ key: String(key), value: textOf(value) ?? '' });
  }
  const out: WholeResult = { records: [], rejects: [] };
  for (const row of rows) {
    let doc: unknown;
    try {
      doc = JSON.parse(row.value);
    } catch {
      out.rejects.push({ entry: 0, reason: `conversation of ${row.key}: value is not JSON` });
      continue;
    }
    if (!isObject(doc)) {
      out.rejects.push({ entry: 0, reason: `conversation of ${row.key}: value is not an object` });
      continue;
    }
    const r = conversationRecords(doc, row, options);
    pushAll(out.records, r.records);
    pushAll(out.rejects, r.rejects);
  }
  return out;
}

/** The text of a user message (a prompt, or the tool results sent back), for estimates. */
function userText(user: Record<string, unknown>): { text: string; prompt?: string } {
  const content = isObject(user.content) ? user.content : {};
  if (isObject(content.Prompt) && typeof content.Prompt.prompt === 'string')
    return { text: content.Prompt.prompt, prompt: content.Prompt.prompt };
  const results =
    isObject(content.ToolUseResults) && Array.isArray(content.ToolUseResults.tool_use_results)
      ? content.ToolUseResults.tool_use_results
      : [];
  const parts: string[] = [];
  for (const r of results) {
    if (!isObject(r) || !Array.isArray(r.content)) continue;
    for (const c of r.content) {
      if (!isObject(c)) continue;
      if (typeof c.Text === 'string') parts.push(c.Text);
      else if (c.Json !== undefined) parts.push(JSON.stringify(c.Json));
    }
  }
  return { text: parts.join('\n') };
}

function assistantText(assistant: unknown): { text: string; messageId?: string } {
  if (!isObject(assistant)) return { text: '' };
  const body = isObject(assistant.Response)
    ? assistant.Response
    : isObject(assistant.ToolUse)
      ? assistant.ToolUse
      : undefined;
  if (!body) return { text: '' };
  let text = typeof body.content === 'string' ? body.content : '';
  if (Array.isArray(body.tool_uses))
    text += body.tool_uses.map((t) => (isObject(t) ? JSON.stringify(t.args ?? {}) : '')).join('\n');
  return { text, messageId: typeof body.message_id === 'string' ? body.message_id : undefined };
}

/** Credits of `[{value, unit}]` entries (Kiro's `usage_info` and `metering_usage`); undefined when an entry is unusable. */
export function creditsOf(list: unknown): { credits: number } | { bad: string } {
  if (list === undefined || list === null) return { credits: 0 };
  const entries = Array.isArray(list) ? list : [list];
  let credits = 0;
  for (const e of entries) {
    if (!isObject(e)) return { bad: 'usage entry is not an object' };
    const unit = typeof e.unit === 'string' ? e.unit.toLowerCase() : undefined;
    const value = e.value ?? e.usage;
    if (unit !== undefined && unit !== 'credit' && unit !== 'credits')
      return { bad: `usage in an unknown unit "${String(e.unit).slice(0, 40)}"` };
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      return { bad: 'usage value is not a non-negative number' };
    credits += value;
  }
  return { credits };
}

/** The token counts a request_metadata may carry (later builds; null in the ones seen so far). */
function metadataTokens(meta: Record<string, unknown>): Tokens | undefined | 'bad' {
  const fields = [
    'uncached_input_tokens',
    'input_tokens',
    'output_tokens',
    'cache_read_input_tokens',
    'cache_write_input_tokens',
  ];
  if (!fields.some((f) => meta[f] !== undefined && meta[f] !== null)) return undefined;
  const input = optionalCount(meta.uncached_input_tokens ?? meta.input_tokens);
  const output = optionalCount(meta.output_tokens);
  const cacheRead = optionalCount(meta.cache_read_input_tokens);
  const cacheWrite = optionalCount(meta.cache_write_input_tokens);
  if (input === undefined || output === undefined || cacheRead === undefined || cacheWrite === undefined) return 'bad';
  return { input, output, cacheRead, cacheWrite, reasoning: 0 };
}

function conversationRecords(doc: Record<string, unknown>, row: Row, o: ConversationOptions): WholeResult {
  const out: WholeResult = { records: [], rejects: [] };
  const conversation =
    typeof doc.conversation_id === 'string' && doc.conversation_id ? doc.conversation_id : row.conversationId;
  if (!conversation) {
    out.rejects.push({ entry: 0, reason: `conversation of ${row.key}: no conversation_id` });
    return out;
  }
  const history = Array.isArray(doc.history) ? doc.history : [];
  const modelInfo = isObject(doc.model_info) ? doc.model_info : {};
  const defaultModel = [modelInfo.model_id, doc.model].find(isNonEmptyString);
  const cwd = row.key.startsWith('/') || /^[A-Za-z]:[\\/]/.test(row.key) ? row.key : undefined;
  const session: SessionContext = { source: o.source, sessionId: conversation, ...(cwd ? { cwd } : {}) };
  // Kiro's credits of the current user turn: on the turn's first request (a stable key while the turn grows).
  const turnStart = lastPromptIndex(history);
  const credits = creditsOf(isObject(doc.user_turn_metadata) ? doc.user_turn_metadata.usage_info : undefined);
  if ('bad' in credits)
    out.rejects.push({
      entry: 0,
      reason: `conversation ${conversation}: user_turn_metadata.usage_info: ${credits.bad}`,
    });
  let lastTs: number | undefined;
  history.forEach((entry, i) => {
    if (!isObject(entry)) return;
    const where = `conversation ${conversation}: history ${i}`;
    const meta = isObject(entry.request_metadata) ? entry.request_metadata : undefined;
    const user = isObject(entry.user) ? entry.user : {};
    const asked = userText(user);
    const userTs = parseTimestamp(user.timestamp);
    if (asked.prompt && userTs !== undefined)
      out.records.push({
        kind: 'prompt',
        key: `${o.source}:${conversation}:prompt:${i}`,
        session,
        timestamp: userTs,
        text: asked.prompt,
      });
    if (!meta) return; // a request the tool kept no metadata for (older builds): nothing to count it by
    const answer = assistantText(entry.assistant);
    const id = typeof meta.message_id === 'string' && meta.message_id ? meta.message_id : (answer.messageId ?? `#${i}`);
    const ts =
      [meta.stream_end_timestamp_ms, meta.request_start_timestamp_ms]
        .map(parseTimestamp)
        .find((t) => t !== undefined) ??
      userTs ??
      lastTs ??
      row.updatedAt;
    if (ts === undefined) {
      out.rejects.push({ entry: 0, reason: `${where}: no request time` });
      return;
    }
    lastTs = ts;
    const exact = metadataTokens(meta);
    if (exact === 'bad') {
      out.rejects.push({ entry: 0, reason: `${where}: token counts are not non-negative integers` });
      return;
    }
    let tokens: Tokens;
    let estimated = false;
    if (exact) tokens = exact;
    else if (o.estimate) {
      // No counts recorded: the text of this request's message and reply, counted with the tokenizer (a floor: the
      // context the tool sent with it is not in the file), or the sizes it recorded (characters / 4) without text.
      const promptLen = optionalCount(meta.user_prompt_length) ?? 0;
      const responseLen = optionalCount(meta.response_size) ?? 0;
      tokens = {
        input: asked.text ? estimateTokens(asked.text) : Math.ceil(promptLen / 4),
        output: answer.text ? estimateTokens(answer.text) : Math.ceil(responseLen / 4),
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
      };
      estimated = true;
    } else tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    const turnCredits = i === turnStart && 'credits' in credits ? credits.credits : 0;
    if (tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite === 0 && turnCredits === 0 && !o.estimate)
      return;
    const model = typeof meta.model_id === 'string' && meta.model_id ? meta.model_id : defaultModel;
    out.records.push(
      interactionRecord({
        key: `${o.source}:${conversation}:${id}`,
        session,
        timestamp: ts,
        model,
        tokens,
        estimated,
        credits: turnCredits,
      }),
    );
  });
  // Files the agent wrote lines into (its own tracker): edits of the session, at its last request.
  const tracker = isObject(doc.file_line_tracker) ? doc.file_line_tracker : {};
  if (lastTs !== undefined) {
    for (const [file, t] of Object.entries(tracker)) {
      const added = isObject(t) ? optionalCount(t.lines_added_by_agent) : 1;
      const removed = isObject(t) ? optionalCount(t.lines_removed_by_agent) : 0;
      if ((added ?? 0) + (removed ?? 0) > 0) out.records.push({ kind: 'edit', session, timestamp: lastTs, path: file });
    }
  }
  return out;
}

/** The index of the history entry that began the current user turn (the last typed prompt). */
function lastPromptIndex(history: readonly unknown[]): number {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (isObject(e) && isObject(e.user) && isObject(e.user.content) && isObject(e.user.content.Prompt)) return i;
  }
  return 0;
}
