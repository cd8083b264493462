import * as path from 'node:path';
import type { LedgerRecord, SessionContext } from '../core/usage/model';
import { optionalCount, type Tokens, usageCounts } from '../core/usage/tokens';
import {
  interactionRecord,
  isObject,
  parseTimestamp,
  WholeJsonParser,
  type LogFile,
  type SourceReader,
  type WholeResult,
} from './parser';
import { platformBase } from './platform';
import { homeDir, isDirectory, isLogCandidate, uniqueDirs, walkFiles } from './walk';

/**
 * Amp (Sourcegraph's coding agent): one JSON document per thread, `<data>/amp/threads/T-<id>.json`, rewritten whole
 * as the thread grows. Two records of the same requests live in it:
 *
 * - `usageLedger.events[]`: one billing event per request `{id, timestamp, model, credits, tokens{input, output},
 *   operationType, fromMessageId, toMessageId}` — the authoritative one (it has the time and the credits);
 * - `messages[].usage` on assistant messages `{model, inputTokens, outputTokens, cacheCreationInputTokens,
 *   cacheReadInputTokens, totalInputTokens, credits}` — the cache split, which the ledger events lack.
 *
 * Each request is counted once: a ledger event takes the cache counts of the assistant message it points at
 * (`toMessageId`, else the one unmatched message with the same model and counts); a message no event accounts for
 * (builds before the ledger) counts on its own. Both are keyed by the assistant message's id when there is one, so an
 * event that appears in a later rewrite replaces the message it accounts for instead of adding to it. Credits are
 * Amp's own unit (US dollars), kept as credits, never turned into tokens.
 */
export const amp: SourceReader = {
  source: 'amp',

  roots(env) {
    const override = env.AMP_DATA_DIR?.trim();
    const xdg = env.XDG_DATA_HOME?.trim();
    return uniqueDirs([
      ...(override ? [override] : []),
      path.join(xdg || path.join(homeDir(env), '.local', 'share'), 'amp'),
      // Amp's own default, whatever XDG_DATA_HOME says.
      path.join(homeDir(env), '.local', 'share', 'amp'),
      ...(process.platform === 'win32' || process.platform === 'darwin'
        ? [path.join(platformBase('data', env), 'amp')]
        : []),
    ]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (isLogCandidate(root)) {
        if (root.endsWith('.json')) files.push({ source: 'amp', path: root, root, whole: true });
        continue;
      }
      if (!isDirectory(root)) continue;
      const threads = isDirectory(path.join(root, 'threads')) ? path.join(root, 'threads') : root;
      for (const p of walkFiles(threads, (n) => /^T-.+\.json$/.test(n), 0))
        files.push({ source: 'amp', path: p, root, whole: true });
    }
    return files;
  },

  createParser(file) {
    return new AmpThreadParser(file.path);
  },
};

interface Usage {
  model: string | undefined;
  tokens: Tokens;
  credits: number;
}

const USAGE_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheCreationInputTokens',
  'cacheReadInputTokens',
  'totalInputTokens',
  'credits',
];

/** A credit amount as Amp writes it: absent (0), or a finite non-negative number. */
function creditAmount(v: unknown): number | undefined {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * A message's usage. Anthropic semantics (input excludes the cache, `totalInputTokens` = the three added up); a
 * message whose `totalInputTokens` equals `inputTokens` while cache counts are there counted the cache inside the
 * input (OpenAI-style models), and is split accordingly. A usage object with none of the known fields is an unknown
 * shape: rejected with the reason, never read as zeros.
 */
function messageUsage(u: Record<string, unknown>): Usage | { bad: string } {
  const c = usageCounts(
    u,
    'usage',
    ['inputTokens', 'outputTokens', 'cacheCreationInputTokens', 'cacheReadInputTokens', 'totalInputTokens'],
    USAGE_FIELDS,
  );
  if ('bad' in c) return c;
  const credits = creditAmount(u.credits);
  if (credits === undefined) return { bad: 'usage credits is not a non-negative number' };
  const { inputTokens: input, cacheReadInputTokens: cacheRead, cacheCreationInputTokens: cacheWrite } = c;
  const totalInput = u.totalInputTokens === undefined || u.totalInputTokens === null ? undefined : c.totalInputTokens;
  const cacheInside =
    totalInput !== undefined && cacheRead + cacheWrite > 0 && totalInput === input && input >= cacheRead + cacheWrite;
  return {
    model: typeof u.model === 'string' && u.model ? u.model : undefined,
    tokens: {
      input: cacheInside ? input - cacheRead - cacheWrite : input,
      output: c.outputTokens,
      cacheRead,
      cacheWrite,
      reasoning: 0,
    },
    credits,
  };
}

/** `file:///home/me/app` → `/home/me/app` (the thread's first workspace tree); undefined for anything else. */
function treePath(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || !uri.startsWith('file://')) return undefined;
  try {
    const p = decodeURIComponent(new URL(uri).pathname);
    return /^\/[A-Za-z]:\//.test(p) ? p.slice(1) : p;
  } catch {
    return undefined;
  }
}

/** Tools whose `input.path` is a file the agent wrote. */
const EDIT_TOOLS = /^(?:edit_file|create_file|write_file|apply_patch|undo_edit)$/;

class AmpThreadParser extends WholeJsonParser {
  constructor(private readonly file: string) {
    super();
  }

  parseDoc(doc: unknown): WholeResult | { incomplete: string } {
    if (!isObject(doc) || (doc.messages !== undefined && !Array.isArray(doc.messages)))
      return { incomplete: 'not an Amp thread (no messages list)' };
    const out: WholeResult = { records: [], rejects: [] };
    const threadId = typeof doc.id === 'string' && doc.id ? doc.id : path.basename(this.file, '.json');
    const env = isObject(doc.env) && isObject(doc.env.initial) ? doc.env.initial : {};
    const trees = Array.isArray(env.trees) ? env.trees : [];
    const cwd = treePath(isObject(trees[0]) ? trees[0].uri : undefined);
    const session: SessionContext = { source: 'amp', sessionId: threadId, ...(cwd ? { cwd } : {}) };
    const created =
      typeof doc.created === 'number' && Number.isFinite(doc.created) && doc.created > 0 ? doc.created : undefined;

    // Assistant messages with usage, by message id.
    const messages = new Map<number, Usage & { ts: number | undefined }>();
    const order: number[] = [];
    (Array.isArray(doc.messages) ? doc.messages : []).forEach((m, i) => {
      if (!isObject(m) || m.role !== 'assistant') {
        if (isObject(m)) this.edits(m, session, created, out.records);
        return;
      }
      const id = typeof m.messageId === 'number' && Number.isInteger(m.messageId) ? m.messageId : i;
      const meta = isObject(m.meta) ? m.meta : {};
      const ts = parseTimestamp(meta.sentAt) ?? created;
      this.edits(m, session, ts, out.records);
      if (m.usage === undefined || m.usage === null) return;
      if (!isObject(m.usage)) {
        out.rejects.push({ entry: 0, reason: `message ${id}: usage is not an object` });
        return;
      }
      const u = messageUsage(m.usage);
      if ('bad' in u) {
        out.rejects.push({ entry: 0, reason: `message ${id}: ${u.bad}` });
        return;
      }
      messages.set(id, { ...u, ts });
      order.push(id);
    });

    const consumed = new Set<number>();
    const ledger = isObject(doc.usageLedger) ? doc.usageLedger.events : undefined;
    if (ledger !== undefined && ledger !== null && !Array.isArray(ledger))
      out.rejects.push({ entry: 0, reason: 'usageLedger.events is not a list' });
    (Array.isArray(ledger) ? ledger : []).forEach((e, i) => {
      const where = `usageLedger event ${i + 1}`;
      if (!isObject(e)) {
        out.rejects.push({ entry: 0, reason: `${where}: not an object` });
        return;
      }
      if (e.tokens !== undefined && e.tokens !== null && !isObject(e.tokens)) {
        out.rejects.push({ entry: 0, reason: `${where}: tokens is not an object` });
        return;
      }
      const t = isObject(e.tokens) ? e.tokens : undefined;
      if (!t && (e.credits === undefined || e.credits === null)) {
        out.rejects.push({ entry: 0, reason: `${where}: an unknown shape (neither tokens nor credits)` });
        return;
      }
      const input = optionalCount(t?.input);
      const output = optionalCount(t?.output);
      const credits = creditAmount(e.credits);
      if (input === undefined || output === undefined) {
        out.rejects.push({ entry: 0, reason: `${where}: token counts are not non-negative integers` });
        return;
      }
      if (credits === undefined) {
        out.rejects.push({ entry: 0, reason: `${where}: credits is not a non-negative number` });
        return;
      }
      const model = typeof e.model === 'string' && e.model ? e.model : undefined;
      // The assistant message this event paid for: named, else the one unmatched message with the same counts.
      let msgId =
        typeof e.toMessageId === 'number' && messages.has(e.toMessageId) && !consumed.has(e.toMessageId)
          ? e.toMessageId
          : undefined;
      msgId ??= order.find((id) => {
        const m = messages.get(id);
        return (
          !consumed.has(id) &&
          m !== undefined &&
          m.model === model &&
          m.tokens.output === output &&
          (m.tokens.input === input || m.tokens.input + m.tokens.cacheRead + m.tokens.cacheWrite === input)
        );
      });
      const msg = msgId === undefined ? undefined : messages.get(msgId);
      if (msgId !== undefined) consumed.add(msgId);
      const ts = parseTimestamp(e.timestamp) ?? msg?.ts;
      if (ts === undefined) {
        out.rejects.push({ entry: 0, reason: `${where}: no timestamp` });
        return;
      }
      if (input + output === 0 && credits === 0 && !msg) return; // nothing billed
      // The message's split wins (it names the cache counts); the event's counts stand when there is no message.
      const tokens: Tokens = msg ? msg.tokens : { input, output, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
      const key =
        msgId !== undefined
          ? `amp:${threadId}:m${msgId}`
          : `amp:${threadId}:e${typeof e.id === 'string' && e.id ? e.id : String(i)}`;
      out.records.push(
        interactionRecord({
          key,
          session,
          timestamp: ts,
          model: model ?? msg?.model,
          tokens,
          credits: credits || msg?.credits || 0,
        }),
      );
    });

    // Messages no ledger event accounts for (threads from builds before the ledger): each is one request.
    for (const id of order) {
      if (consumed.has(id)) continue;
      const m = messages.get(id);
      if (!m) continue;
      const sum = m.tokens.input + m.tokens.output + m.tokens.cacheRead + m.tokens.cacheWrite;
      if (sum === 0 && m.credits === 0) continue;
      if (m.ts === undefined) {
        out.rejects.push({ entry: 0, reason: `message ${id}: no time (no meta.sentAt and no thread created time)` });
        continue;
      }
      out.records.push(
        interactionRecord({
          key: `amp:${threadId}:m${id}`,
          session,
          timestamp: m.ts,
          model: m.model,
          tokens: m.tokens,
          credits: m.credits,
        }),
      );
    }
    return out;
  }

  /** Files an assistant message's tool calls wrote (`edit_file`, `create_file`: `input.path`). */
  private edits(
    m: Record<string, unknown>,
    session: SessionContext,
    ts: number | undefined,
    out: LedgerRecord[],
  ): void {
    if (ts === undefined || !Array.isArray(m.content)) return;
    for (const block of m.content) {
      if (
        !isObject(block) ||
        block.type !== 'tool_use' ||
        typeof block.name !== 'string' ||
        !EDIT_TOOLS.test(block.name) ||
        !isObject(block.input)
      )
        continue;
      const p = block.input.path ?? block.input.file_path;
      if (typeof p === 'string' && p) out.push({ kind: 'edit', session, timestamp: ts, path: p });
    }
  }
}
