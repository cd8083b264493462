import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { LedgerRecord, ParseOutcome, SessionContext } from '../core/usage/model';
import { fromCopilotTokens, type Tokens } from '../core/usage/tokens';
import {
  agentEvent,
  interactionRecord,
  isNonEmptyString,
  isObject,
  jsonLine,
  parseTimestamp,
  rejected,
  restoreState,
  type LineParser,
  StatefulLineParser,
  type LogFile,
  type SourceReader,
  type WholeResult,
} from './parser';
import { columnsOf, SqliteCopyParser, textOf, sqliteLogFile } from './sqliteCopy';
import { homeDir, isDirectory, isLogCandidate, listDir, uniqueDirs, walkFiles } from './walk';

/**
 * GitHub Copilot CLI (`copilot`), three stores of the same requests, read with one precedence per session so nothing
 * is counted twice:
 *
 * 1. `~/.copilot/session-state/<id>/events.jsonl` (older builds: `session-state/<id>.jsonl`), the session's event log:
 *    `session.start` (cwd, branch), `user.message`, `assistant.usage` per request `{model, inputTokens, outputTokens,
 *    cacheReadTokens, cacheWriteTokens}` (input includes the cached input), and `session.shutdown` whose
 *    `modelMetrics{<model>: {usage}}` total each model's requests of the segment — counted only for a segment without
 *    `assistant.usage` events (builds that did not log them), else they would count twice.
 * 2. `~/.copilot/session-store.db` (SQLite, `assistant_usage_events` joined to `sessions`): used for sessions whose
 *    event log is gone.
 * 3. The OpenTelemetry file exporter (`~/.copilot/otel/*.jsonl`, or the file `$COPILOT_OTEL_FILE_EXPORTER_PATH`
 *    names): chat spans with `gen_ai.usage.*` attributes, used for sessions whose event log is not there.
 */
export const copilotCli: SourceReader = {
  source: 'copilot-cli',

  roots(env) {
    const otel = env.COPILOT_OTEL_FILE_EXPORTER_PATH?.trim();
    return uniqueDirs([path.join(homeDir(env), '.copilot'), ...(otel ? [otel] : [])]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (isLogCandidate(root)) {
        if (root.endsWith('.db')) files.push(sqliteLogFile('copilot-cli', root, root));
        else files.push({ source: 'copilot-cli', path: root, root }); // an event log or an OTel export given directly
        continue;
      }
      if (!isDirectory(root)) continue;
      const state = isDirectory(path.join(root, 'session-state')) ? path.join(root, 'session-state') : root;
      for (const name of listDir(state)) {
        const p = path.join(state, name);
        if (name.endsWith('.jsonl') && isLogCandidate(p)) files.push({ source: 'copilot-cli', path: p, root });
        else if (isLogCandidate(path.join(p, 'events.jsonl')))
          files.push({ source: 'copilot-cli', path: path.join(p, 'events.jsonl'), root });
      }
      const db = path.join(root, 'session-store.db');
      if (isLogCandidate(db)) files.push(sqliteLogFile('copilot-cli', db, root));
      for (const p of walkFiles(path.join(root, 'otel'), (n) => n.endsWith('.jsonl') || n.endsWith('.json'), 1))
        files.push({ source: 'copilot-cli', path: p, root });
    }
    return files;
  },

  createParser(file, state) {
    const stateDir = sessionStateDir(file.root);
    if (file.path.endsWith('.db'))
      return new SqliteCopyParser(file.path, 'Copilot CLI session store', (db) => readSessionStore(db, stateDir));
    const parent = path.basename(path.dirname(file.path));
    if (path.basename(file.path) === 'events.jsonl' || parent === 'session-state')
      return new EventLogParser(file.path, state);
    return new OtelParser(stateDir);
  },
};

function sessionStateDir(root: string): string {
  return path.join(isLogCandidate(root) ? path.dirname(root) : root, 'session-state');
}

/** Whether a session's own event log is on disk (it then wins over the store and the OTel export). */
function hasEventLog(stateDir: string, sessionId: string): boolean {
  return (
    /^[\w.-]+$/.test(sessionId) &&
    (isLogCandidate(path.join(stateDir, sessionId, 'events.jsonl')) ||
      isLogCandidate(path.join(stateDir, `${sessionId}.jsonl`)))
  );
}

const copilotTokens = fromCopilotTokens;

const sum = (t: Tokens): number => t.input + t.output + t.cacheRead + t.cacheWrite;

// ------------------------------------------------------------------------------------------------- events.jsonl

interface EventState {
  sessionId: string;
  cwd?: string;
  branch?: string;
  model?: string;
  /** This shutdown segment logged per-request usage: its shutdown totals repeat them. */
  usageInSegment?: boolean;
}

const EDIT_TOOLS = /^(?:edit|create|write|str_replace_editor|str_replace|apply_patch|write_file|create_file)$/;

class EventLogParser extends StatefulLineParser<EventState> {
  constructor(file: string, state: string | null) {
    const name = path.basename(file);
    super(
      restoreState<EventState>(state) ?? {
        sessionId: name === 'events.jsonl' ? path.basename(path.dirname(file)) : path.basename(name, '.jsonl'),
      },
    );
  }

  private get session(): SessionContext {
    return {
      source: 'copilot-cli',
      sessionId: this.s.sessionId,
      ...(this.s.cwd ? { cwd: this.s.cwd } : {}),
      ...(this.s.branch ? { branch: this.s.branch } : {}),
    };
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const line = jsonLine(buf, start, end);
    if ('reason' in line) return line;
    const v = line.value;
    if (!isObject(v) || typeof v.type !== 'string') return null;
    const data = isObject(v.data) ? v.data : {};
    const ts = parseTimestamp(v.timestamp);
    const id = typeof v.id === 'string' && v.id ? v.id : undefined;
    switch (v.type) {
      case 'session.start':
      case 'session.resume': {
        const context = isObject(data.context) ? data.context : {};
        if (typeof data.sessionId === 'string' && data.sessionId && v.type === 'session.start')
          this.s.sessionId = data.sessionId;
        const cwd = [context.cwd, context.gitRoot].find(isNonEmptyString);
        if (cwd) this.s.cwd = cwd;
        if (typeof context.branch === 'string' && context.branch) this.s.branch = context.branch;
        const model = [data.selectedModel, context.model].find(isNonEmptyString);
        if (model) this.s.model = model;
        return null;
      }
      case 'session.model_change':
        if (typeof data.newModel === 'string' && data.newModel) this.s.model = data.newModel;
        return null;
      case 'user.message':
        return agentEvent.prompt(`copilot-cli:${this.s.sessionId}`, this.session, ts, id, data.content);
      case 'tool.execution_start':
        return agentEvent.edit(this.session, ts, data.toolName, EDIT_TOOLS, data.arguments, [
          'path',
          'file_path',
          'filePath',
        ]);
      case 'assistant.usage':
        return this.usage(data, ts, id);
      case 'session.shutdown':
        return this.shutdown(data, ts, id);
      default:
        return null;
    }
  }

  private usage(d: Record<string, unknown>, ts: number | undefined, id: string | undefined): ParseOutcome {
    // Never an unrecognised shape read as zeros: it is a rejected line with the reason.
    if (d.inputTokens === undefined && d.outputTokens === undefined)
      return rejected('assistant.usage in an unknown shape (no inputTokens or outputTokens)');
    const tokens = copilotTokens(
      d.inputTokens,
      d.outputTokens,
      d.cacheReadTokens,
      d.cacheWriteTokens,
      d.reasoningTokens,
    );
    if (!tokens) return rejected('assistant.usage counts are not non-negative integers');
    this.s.usageInSegment = true;
    if (sum(tokens) === 0) return null;
    if (ts === undefined || !id) return rejected('assistant.usage without an id and a timestamp');
    const model = typeof d.model === 'string' && d.model ? d.model : this.s.model;
    return [interaction(`copilot-cli:${this.s.sessionId}:${id}`, this.session, ts, model, tokens)];
  }

  private shutdown(d: Record<string, unknown>, ts: number | undefined, id: string | undefined): ParseOutcome {
    const counted = this.s.usageInSegment === true;
    this.s.usageInSegment = false;
    if (counted || !isObject(d.modelMetrics)) return null;
    if (ts === undefined || !id) return rejected('session.shutdown without an id and a timestamp');
    const out: LedgerRecord[] = [];
    for (const [model, m] of Object.entries(d.modelMetrics)) {
      const u = isObject(m) && isObject(m.usage) ? m.usage : undefined;
      if (!u) continue; // a model with request counts only (older builds): no tokens to count
      const tokens = copilotTokens(
        u.inputTokens ?? u.input,
        u.outputTokens ?? u.output,
        u.cacheReadTokens,
        u.cacheWriteTokens,
        u.reasoningTokens,
      );
      if (!tokens)
        return rejected(
          `session.shutdown modelMetrics.${model.slice(0, 80)}.usage counts are not non-negative integers`,
        );
      if (sum(tokens) > 0)
        out.push(interaction(`copilot-cli:${this.s.sessionId}:${id}:${model}`, this.session, ts, model, tokens));
    }
    return out.length > 0 ? out : null;
  }
}

function interaction(
  key: string,
  session: SessionContext,
  timestamp: number,
  model: string | undefined,
  tokens: Tokens,
): LedgerRecord {
  return interactionRecord({ key, session, timestamp, model, tokens });
}

// ------------------------------------------------------------------------------------------------- OTel export

const MODEL_ATTRS = ['gen_ai.response.model', 'gen_ai.request.model'];
const SESSION_ATTRS = ['gen_ai.conversation.id', 'session.id', 'copilot_chat.session_id'];

/** OTel's time: `[seconds, nanoseconds]` (HrTime), epoch ms or ns, or an ISO string. */
function otelTime(v: unknown): number | undefined {
  if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number')
    return v[0] * 1000 + Math.floor(v[1] / 1e6);
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e15 ? Math.floor(v / 1e6) : v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return otelTime(Number(v));
  return parseTimestamp(v);
}

class OtelParser implements LineParser {
  /** Sessions known to have their own event log (looked up once per read of the file). */
  private readonly checked = new Map<string, boolean>();

  constructor(private readonly stateDir: string) {}

  state(): string | null {
    return null;
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const line = jsonLine(buf, start, end);
    if ('reason' in line) return line;
    const v = line.value;
    if (!isObject(v) || !isObject(v.attributes)) return null;
    const a = v.attributes;
    const chat = a['gen_ai.operation.name'] === 'chat' || (typeof v.name === 'string' && v.name.startsWith('chat '));
    if (!chat || (v.type !== undefined && v.type !== 'span')) return null;
    const tokens = copilotTokens(
      a['gen_ai.usage.input_tokens'],
      a['gen_ai.usage.output_tokens'],
      a['gen_ai.usage.cache_read.input_tokens'],
      a['gen_ai.usage.cache_creation.input_tokens'] ?? a['gen_ai.usage.cache_write.input_tokens'],
      a['gen_ai.usage.reasoning.output_tokens'],
    );
    if (!tokens) return rejected('gen_ai.usage attributes are not non-negative integers');
    if (sum(tokens) === 0) return null;
    const context = isObject(v.spanContext) ? v.spanContext : {};
    const traceId = [v.traceId, context.traceId].find(isNonEmptyString);
    const spanId = [v.spanId, v.id, context.spanId].find(isNonEmptyString);
    if (!traceId || !spanId) return rejected('chat span without traceId and spanId');
    const sessionId = SESSION_ATTRS.map((k) => a[k]).find(isNonEmptyString) ?? traceId;
    if (!this.checked.has(sessionId)) this.checked.set(sessionId, hasEventLog(this.stateDir, sessionId));
    if (this.checked.get(sessionId)) return null; // the session's own event log counts these requests
    const ts = otelTime(v.endTime) ?? otelTime(v.startTime) ?? otelTime(v.timestamp);
    if (ts === undefined) return rejected('chat span without a time');
    const model = MODEL_ATTRS.map((k) => a[k]).find(isNonEmptyString);
    return [
      interaction(`copilot-cli:otel:${traceId}:${spanId}`, { source: 'copilot-cli', sessionId }, ts, model, tokens),
    ];
  }
}

// ------------------------------------------------------------------------------------------------ session-store.db

/** Reads a copied `session-store.db`: usage events of sessions whose event log is gone. */
export function readSessionStore(db: Database, stateDir: string): WholeResult {
  const cols = columnsOf(db, 'assistant_usage_events');
  if (!cols.has('session_id') || !cols.has('input_tokens')) throw new Error('no assistant_usage_events table');
  const sessions = columnsOf(db, 'sessions');
  const join = sessions.has('id') ? 'LEFT JOIN sessions s ON s.id = e.session_id' : '';
  const col = (c: string, from: Set<string>, alias: string): string => (from.has(c) ? `${alias}.${c}` : 'NULL');
  const sql = `SELECT e.id, e.session_id, ${col('model', cols, 'e')}, ${col('copilot_usage_model', cols, 'e')}, e.input_tokens, ${col('output_tokens', cols, 'e')},
      ${col('cache_read_tokens', cols, 'e')}, ${col('cache_write_tokens', cols, 'e')}, ${col('reasoning_tokens', cols, 'e')}, ${col('created_at', cols, 'e')},
      ${join ? col('cwd', sessions, 's') : 'NULL'}, ${join ? col('branch', sessions, 's') : 'NULL'}, ${join ? col('created_at', sessions, 's') : 'NULL'}
    FROM assistant_usage_events e ${join} ORDER BY e.id`;
  const out: WholeResult = { records: [], rejects: [] };
  const own = new Map<string, boolean>();
  for (const row of db.exec(sql)[0]?.values ?? []) {
    const [
      id,
      sid,
      model,
      usageModel,
      input,
      output,
      cacheRead,
      cacheWrite,
      reasoning,
      created,
      cwd,
      branch,
      sessionCreated,
    ] = row;
    const sessionId = textOf(sid) ?? '';
    if (!sessionId) continue;
    if (!own.has(sessionId)) own.set(sessionId, hasEventLog(stateDir, sessionId));
    if (own.get(sessionId)) continue;
    const where = `assistant_usage_events ${String(id)}`;
    const tokens = copilotTokens(input, output, cacheRead, cacheWrite, reasoning);
    if (!tokens) {
      out.rejects.push({ entry: 0, reason: `${where}: token counts are not non-negative integers` });
      continue;
    }
    if (sum(tokens) === 0) continue;
    const ts = storeTime(created) ?? storeTime(sessionCreated);
    if (ts === undefined) {
      out.rejects.push({ entry: 0, reason: `${where}: created_at is not a time` });
      continue;
    }
    const name = [textOf(usageModel), textOf(model)].find((x) => x !== undefined && x.trim() !== '');
    const session: SessionContext = {
      source: 'copilot-cli',
      sessionId,
      ...(textOf(cwd) ? { cwd: textOf(cwd) as string } : {}),
      ...(textOf(branch) ? { branch: textOf(branch) as string } : {}),
    };
    out.records.push(interaction(`copilot-cli:store:${sessionId}:${String(id)}`, session, ts, name, tokens));
  }
  return out;
}

/** The store's times: ISO strings, or SQLite's `YYYY-MM-DD HH:MM:SS` (UTC). */
function storeTime(v: unknown): number | undefined {
  const s = textOf(v);
  if (s && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(s)) return parseTimestamp(`${s.replace(' ', 'T')}Z`);
  return typeof v === 'number' ? v : parseTimestamp(s);
}
