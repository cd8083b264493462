import * as path from 'node:path';
import type { ParseOutcome, SessionContext } from '../core/usage/model';
import { countsOf, type Tokens } from '../core/usage/tokens';
import {
  agentEvent,
  has,
  interactionRecord,
  isNonEmptyString,
  isObject,
  jsonLine,
  looksLikeJsonObject,
  parseTimestamp,
  rejected,
  restoreState,
  StatefulLineParser,
  type LogFile,
  type SourceReader,
  WholeJsonParser,
  type WholeResult,
} from './parser';
import { platformBase } from './platform';
import { readRegularFile } from './regular';
import { discoverKiroIde, isKiroAgentDir, KiroIdeExecutionParser, kiroIdeRoots } from './kiroIde';
import { creditsOf, readConversationDatabase } from './qConversation';
import { SqliteCopyParser, sqliteLogFile } from './sqliteCopy';
import { homeDir, isDirectory, isLogCandidate, listDir, uniqueDirs, walkFiles } from './walk';

/**
 * Kiro (CLI and IDE). Kiro meters work in credits: they are kept as credits (priced at Kiro's documented $0.04 per
 * credit), never turned into tokens; token counts are taken only where Kiro writes non-zero ones.
 *
 * - v1, Kiro CLI's SQLite `data.sqlite3` in its data folder (`~/.local/share/kiro-cli`, macOS
 *   `~/Library/Application Support/kiro-cli`, Windows `%LOCALAPPDATA%\kiro-cli`): table `conversations_v2`, the
 *   conversation state Amazon Q Developer's CLI also writes, with the current turn's credits in
 *   `user_turn_metadata.usage_info` (see qConversation.ts). Copied with its write-ahead log and read in memory.
 * - v2, `~/.kiro/sessions/cli/<id>.json` (+ `<id>.jsonl`, the messages): `session_state.conversation_metadata.
 *   user_turn_metadatas[]` with `{model, input_token_count, output_token_count, metering_usage[{value, unit}],
 *   end_timestamp, message_ids}` per user turn. Read whole when it changes.
 * - v3, `~/.kiro/sessions/<workspace>/sess_<id>/session.json` + `messages.jsonl` (CLI 2.x and the IDE): every turn
 *   ends with a `usage_summary` line whose `promptTurnSummaries[]` carry `{unit: "credit", usage}`; the model and the
 *   workspace come from `session.json`. Read as an append-only log.
 * - Kiro IDE, `<config>/Kiro/User/globalStorage/kiro.kiroagent`: one JSON file per agent execution with its credits,
 *   the context it sent (tokens estimated from it) and its accepted edits; see kiroIde.ts.
 */
export const kiro: SourceReader = {
  source: 'kiro',

  roots(env) {
    return uniqueDirs([
      path.join(homeDir(env), '.kiro', 'sessions'),
      path.join(platformBase('data', env), 'kiro-cli'),
      ...kiroIdeRoots(env),
    ]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      const base = path.basename(root);
      if (isLogCandidate(root)) {
        // One file given directly: a database, a v2 session document or a v3 message log.
        if (base.endsWith('.sqlite3')) files.push(sqliteLogFile('kiro', root, root));
        else if (base.endsWith('.json')) files.push({ source: 'kiro', path: root, root, whole: true });
        else if (base === 'messages.jsonl') files.push({ source: 'kiro', path: root, root });
        else if (/^[0-9a-f]{32}$/.test(base)) files.push({ source: 'kiro', path: root, root, whole: true }); // an IDE execution
        continue;
      }
      if (!isDirectory(root)) continue;
      // Kiro IDE's agent storage, or the Kiro user folder (or its User folder) above it.
      const agent = [
        root,
        path.join(root, 'globalStorage', 'kiro.kiroagent'),
        path.join(root, 'User', 'globalStorage', 'kiro.kiroagent'),
      ].find((d) => isDirectory(d) && isKiroAgentDir(d));
      if (agent) {
        files.push(...discoverKiroIde(agent, root));
        continue;
      }
      const db = path.join(root, 'data.sqlite3');
      if (isLogCandidate(db)) files.push(sqliteLogFile('kiro', db, root));
      // A sessions folder (or the ~/.kiro above it).
      const sessions = isDirectory(path.join(root, 'sessions')) ? path.join(root, 'sessions') : root;
      for (const p of walkFiles(path.join(sessions, 'cli'), (n) => n.endsWith('.json'), 0))
        files.push({ source: 'kiro', path: p, root, whole: true });
      for (const ws of listDir(sessions)) {
        if (ws === 'cli') continue;
        const wsDir = path.join(sessions, ws);
        // `<workspace>/sess_<id>/messages.jsonl`, or a session folder given directly.
        const candidates = isLogCandidate(path.join(wsDir, 'messages.jsonl'))
          ? [wsDir]
          : listDir(wsDir).map((s) => path.join(wsDir, s));
        for (const dir of candidates) {
          const log = path.join(dir, 'messages.jsonl');
          if (isLogCandidate(log)) files.push({ source: 'kiro', path: log, root });
        }
      }
      if (isLogCandidate(path.join(root, 'messages.jsonl')))
        files.push({ source: 'kiro', path: path.join(root, 'messages.jsonl'), root });
    }
    return files;
  },

  createParser(file, state) {
    if (file.path.endsWith('.sqlite3'))
      return new SqliteCopyParser(file.path, 'Kiro CLI database', (db) =>
        readConversationDatabase(db, { source: 'kiro', estimate: false }),
      );
    if (file.path.endsWith('.jsonl')) return new KiroLogParser(file.path, state);
    if (/^[0-9a-f]{32}$/.test(path.basename(file.path))) return new KiroIdeExecutionParser(file.path);
    return new KiroSessionParser();
  },
};

// ------------------------------------------------------------------------------------------------------------- v2

/** Turn tokens as Kiro writes them; zeros (what Kiro writes today) mean "not recorded", never a count of zero. */
function turnTokens(t: Record<string, unknown>): Tokens | undefined {
  const c = countsOf(t, [
    'input_token_count',
    'output_token_count',
    'cache_read_input_token_count',
    'cache_write_input_token_count',
  ]);
  if (!c) return undefined;
  return {
    input: c.input_token_count,
    output: c.output_token_count,
    cacheRead: c.cache_read_input_token_count,
    cacheWrite: c.cache_write_input_token_count,
    reasoning: 0,
  };
}

class KiroSessionParser extends WholeJsonParser {
  parseDoc(doc: unknown): WholeResult | { incomplete: string } {
    if (!isObject(doc) || !isObject(doc.session_state)) return { incomplete: 'not a Kiro session (no session_state)' };
    const out: WholeResult = { records: [], rejects: [] };
    const sessionId = typeof doc.session_id === 'string' && doc.session_id ? doc.session_id : undefined;
    if (!sessionId) return { records: [], rejects: [{ entry: 0, reason: 'session_id missing' }] };
    const state = doc.session_state;
    const modelInfo =
      isObject(state.rts_model_state) && isObject(state.rts_model_state.model_info)
        ? state.rts_model_state.model_info
        : {};
    const sessionModel = typeof modelInfo.model_id === 'string' && modelInfo.model_id ? modelInfo.model_id : undefined;
    const cwd = typeof doc.cwd === 'string' && doc.cwd ? doc.cwd : undefined;
    const session: SessionContext = { source: 'kiro', sessionId, ...(cwd ? { cwd } : {}) };
    const fallbackTs = parseTimestamp(doc.updated_at) ?? parseTimestamp(doc.created_at);
    // A session still running (or killed) has no turn accounting yet: nothing to count, nothing wrong.
    const turns =
      isObject(state.conversation_metadata) && Array.isArray(state.conversation_metadata.user_turn_metadatas)
        ? state.conversation_metadata.user_turn_metadatas
        : [];
    turns.forEach((turn, i) => {
      const where = `turn ${i}`;
      if (!isObject(turn)) {
        out.rejects.push({ entry: 0, reason: `${where}: not an object` });
        return;
      }
      const tokens = turnTokens(turn);
      const credits = creditsOf(turn.metering_usage);
      if (!tokens) {
        out.rejects.push({ entry: 0, reason: `${where}: token counts are not non-negative integers` });
        return;
      }
      if ('bad' in credits) {
        out.rejects.push({ entry: 0, reason: `${where}: metering_usage: ${credits.bad}` });
        return;
      }
      if (tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite === 0 && credits.credits === 0) return; // nothing metered
      const ts = kiroTime(turn.end_timestamp) ?? fallbackTs;
      if (ts === undefined) {
        out.rejects.push({ entry: 0, reason: `${where}: no end_timestamp` });
        return;
      }
      const ids = Array.isArray(turn.message_ids) ? turn.message_ids.filter(isNonEmptyString) : [];
      const model = typeof turn.model === 'string' && turn.model ? turn.model : sessionModel;
      out.records.push(
        interactionRecord({
          key: `kiro:${sessionId}:turn:${ids[0] ?? i}`,
          session,
          timestamp: ts,
          model,
          tokens,
          credits: credits.credits,
        }),
      );
    });
    return out;
  }
}

/** Kiro writes times as RFC 3339 strings, or epoch seconds or milliseconds. */
function kiroTime(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v < 1e12 ? Math.round(v * 1000) : Math.round(v);
  return parseTimestamp(v);
}

// ------------------------------------------------------------------------------------------------------------- v3

interface LogState {
  sessionId: string;
  model?: string;
  cwd?: string;
}

const USAGE = Buffer.from('"usage_summary"');
const USER = Buffer.from('"user"');
const TOOL_CALL = Buffer.from('"tool_call"');
/** Tools whose `path` argument is a file the agent wrote. */
const WRITE_TOOLS = /^(?:fs_write|write_file|create_file|str_replace|edit_file|replace_in_file|write|edit|create)$/;

class KiroLogParser extends StatefulLineParser<LogState> {
  constructor(file: string, state: string | null) {
    // session.json beside the log names the session, its model and its workspace; it is re-read each time (cheap)
    // because the IDE writes it after the first lines.
    const restored = restoreState<LogState>(state);
    const dir = path.dirname(file);
    super(restored ?? { sessionId: path.basename(dir) });
    let meta: unknown;
    const metaRead = readRegularFile(path.join(dir, 'session.json'), 4 << 20);
    try {
      meta = 'bytes' in metaRead ? JSON.parse(metaRead.bytes.toString('utf8')) : undefined;
    } catch {
      meta = undefined; // not written yet (the IDE writes it late) or mid-write: the folder name is the session
    }
    if (isObject(meta)) {
      const id = [meta.id, meta.sessionId, meta.session_id].find(isNonEmptyString);
      if (id && !restored) this.s.sessionId = id;
      const model = [meta.modelId, meta.model].find(isNonEmptyString);
      if (model) this.s.model = model;
      const paths = [meta.workspacePaths, meta.workspaceFolders].find(Array.isArray) as unknown[] | undefined;
      const cwd = [paths?.[0], meta.cwd, meta.workspaceDirectory].find(isNonEmptyString);
      if (cwd) this.s.cwd = cwd;
    }
  }

  private get session(): SessionContext {
    return { source: 'kiro', sessionId: this.s.sessionId, ...(this.s.cwd ? { cwd: this.s.cwd } : {}) };
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const line = buf.subarray(start, end);
    if (!has(line, USAGE) && !has(line, USER) && !has(line, TOOL_CALL))
      return looksLikeJsonObject(buf, start, end) ? null : rejected('not JSON');
    const parsed = jsonLine(buf, start, end);
    if ('reason' in parsed) return parsed;
    const v = parsed.value;
    if (!isObject(v) || !isObject(v.payload)) return null;
    const p = v.payload;
    const ts = kiroTime(v.timestamp);
    const id = typeof v.id === 'string' && v.id ? v.id : undefined;
    switch (p.type) {
      case 'usage_summary':
        return this.usage(p, ts, id);
      case 'user':
        return agentEvent.prompt(`kiro:${this.s.sessionId}`, this.session, ts, id, p.content);
      case 'tool_call':
        return agentEvent.edit(this.session, ts, p.toolName, WRITE_TOOLS, p.args, ['path', 'targetFile', 'file_path']);
      default:
        return null;
    }
  }

  private usage(p: Record<string, unknown>, ts: number | undefined, id: string | undefined): ParseOutcome {
    // An aborted turn may carry no summaries: nothing was metered.
    if (p.promptTurnSummaries === undefined || p.promptTurnSummaries === null) return null;
    if (!Array.isArray(p.promptTurnSummaries)) return rejected('promptTurnSummaries is not a list');
    const credits = creditsOf(p.promptTurnSummaries);
    if ('bad' in credits) return rejected(`promptTurnSummaries: ${credits.bad}`);
    if (credits.credits === 0) return null;
    if (ts === undefined) return rejected('usage_summary without a timestamp');
    const key = id ?? (typeof p.executionId === 'string' && p.executionId ? p.executionId : undefined);
    if (!key) return rejected('usage_summary without an id');
    const tokens = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
    return [
      interactionRecord({
        key: `kiro:${this.s.sessionId}:${key}`,
        session: this.session,
        timestamp: ts,
        model: this.s.model,
        tokens,
        credits: credits.credits,
      }),
    ];
  }
}
