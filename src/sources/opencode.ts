import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { LedgerRecord, SessionContext } from '../core/usage/model';
import { countsOf, type Tokens } from '../core/usage/tokens';
import {
  isNonEmptyString,
  isObject,
  type LogFile,
  type SourceReader,
  WholeJsonParser,
  type WholeResult,
} from './parser';
import { columnsOf, SqliteCopyParser, sqliteLogFile } from './sqliteCopy';

export { applyWal } from './sqliteCopy';
import { homeDir, isDirectory, uniqueDirs, walkFiles } from './walk';

/**
 * OpenCode message tokens `{input, output, reasoning, cache{read, write}}`: input excludes the cache, and OpenCode's
 * own total adds reasoning on top of output. Canonical: output = output + reasoning, reasoning = reasoning.
 */
export function fromOpenCodeTokens(t: Record<string, unknown>): Tokens | undefined {
  const c = countsOf(t, ['input', 'output', 'reasoning']);
  const cache = countsOf(isObject(t.cache) ? t.cache : {}, ['read', 'write']);
  if (!c || !cache) return undefined;
  return {
    input: c.input,
    output: c.output + c.reasoning,
    reasoning: c.reasoning,
    cacheRead: cache.read,
    cacheWrite: cache.write,
  };
}

/**
 * OpenCode: `${XDG_DATA_HOME:-~/.local/share}/opencode/opencode.db` (SQLite: tables session, message with a JSON
 * `data` column, part), copied into memory and read there (never opened in place, never written), its write-ahead log
 * applied; and the JSON files of builds before the database: `storage/message/<sessionID>/<messageID>.json` (and the
 * older `project/<project>/storage/session/message/…`). Only assistant message tokens count: step-finish parts and
 * session totals repeat them.
 */
export const opencode: SourceReader = {
  source: 'opencode',

  roots(env) {
    const data =
      env.XDG_DATA_HOME && env.XDG_DATA_HOME.trim()
        ? env.XDG_DATA_HOME.trim()
        : path.join(homeDir(env), '.local', 'share');
    return uniqueDirs([path.join(data, 'opencode')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (!isDirectory(root)) continue;
      const db = path.join(root, 'opencode.db');
      try {
        if (fs.statSync(db).isFile()) files.push(sqliteLogFile('opencode', db, root));
      } catch {
        // no database: a build from before it, or not installed
      }
      for (const base of [path.join(root, 'storage', 'message'), ...projectStores(root)]) {
        if (!isDirectory(base)) continue;
        for (const p of walkFiles(base, (n) => n.endsWith('.json'), 1))
          files.push({ source: 'opencode', path: p, root, whole: true });
      }
    }
    return files;
  },

  createParser(file) {
    return file.path.endsWith('.db')
      ? new SqliteCopyParser(file.path, 'OpenCode database', readOpenCodeDatabase)
      : new MessageFileParser();
  },
};

function projectStores(root: string): string[] {
  const project = path.join(root, 'project');
  let names: string[];
  try {
    names = fs.readdirSync(project);
  } catch {
    return [];
  }
  return names.map((n) => path.join(project, n, 'storage', 'session', 'message'));
}

/** One assistant message as an interaction (undefined: not an assistant message with tokens; a string: why it is bad). */
function messageRecord(
  id: string,
  sessionId: string,
  data: Record<string, unknown>,
  fallbackCwd?: string,
  rowCreated?: number,
): LedgerRecord | string | undefined {
  if (data.role !== 'assistant') return undefined;
  if (data.tokens === undefined || data.tokens === null) return undefined;
  if (!isObject(data.tokens)) return 'tokens is not an object';
  const tokens = fromOpenCodeTokens(data.tokens);
  if (!tokens) return 'token counts are not non-negative integers';
  if (tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite === 0) return undefined; // nothing billed (yet)
  const time = isObject(data.time) ? data.time : {};
  // Messages written without time.created: the database row's own time_created stands for it.
  const timestamp = typeof time.created === 'number' && Number.isFinite(time.created) ? time.created : rowCreated;
  if (timestamp === undefined) return 'time.created missing or not a number';
  const model = typeof data.modelID === 'string' && data.modelID ? data.modelID : undefined;
  if (!model) return 'modelID missing';
  const where = isObject(data.path) ? data.path : {};
  const cwd = [where.cwd, where.root].find(isNonEmptyString) ?? fallbackCwd;
  const session: SessionContext = { source: 'opencode', sessionId, ...(cwd ? { cwd } : {}) };
  const cost = data.cost;
  return {
    kind: 'interaction',
    key: `opencode:${id}`,
    session,
    timestamp,
    model,
    tokens,
    cacheWrite1h: 0,
    sidechain: false,
    ...(typeof cost === 'number' && Number.isFinite(cost) && cost > 0 ? { recordedCostUSD: cost } : {}),
  };
}

class MessageFileParser extends WholeJsonParser {
  parseDoc(data: unknown): WholeResult | { incomplete: string } {
    if (!isObject(data) || typeof data.id !== 'string' || typeof data.sessionID !== 'string')
      return { incomplete: 'not an OpenCode message (no id and sessionID)' };
    const r = messageRecord(data.id, data.sessionID, data);
    if (typeof r === 'string') return { records: [], rejects: [{ entry: 0, reason: r }] };
    return { records: r ? [r] : [], rejects: [] };
  }
}

/** Reads a copied OpenCode database: assistant messages (their tokens) and, for their folder, the session's directory. */
export function readOpenCodeDatabase(db: Database): WholeResult {
  const records: LedgerRecord[] = [];
  const rejects: WholeResult['rejects'] = [];
  const columns = (table: string): Set<string> => columnsOf(db, table);
  const messageCols = columns('message');
  if (!messageCols.has('data') || !messageCols.has('id')) throw new Error('no message table with a data column');
  const sessionCol = messageCols.has('session_id')
    ? 'session_id'
    : messageCols.has('sessionID')
      ? 'sessionID'
      : undefined;
  const dirs = new Map<string, string>();
  const sessionCols = columns('session');
  if (sessionCols.has('id') && sessionCols.has('directory')) {
    for (const [id, dir] of db.exec('SELECT id, directory FROM session')[0]?.values ?? [])
      if (typeof dir === 'string' && dir) dirs.set(String(id), dir);
  }
  const createdCol = messageCols.has('time_created') ? 'time_created' : 'NULL';
  const stmt = db.prepare(`SELECT id, ${sessionCol ?? "''"}, data, ${createdCol} FROM message`);
  try {
    while (stmt.step()) {
      const [id, sessionId, text, created] = stmt.get();
      // Every row is looked at: one whose data cannot be read is reported (data health), never skipped silently.
      let data: unknown;
      try {
        data = typeof text === 'string' ? JSON.parse(text) : undefined;
      } catch {
        rejects.push({ entry: 0, reason: `message ${String(id)}: data is not JSON` });
        continue;
      }
      if (!isObject(data)) {
        rejects.push({ entry: 0, reason: `message ${String(id)}: data is not a JSON object` });
        continue;
      }
      const sid = typeof data.sessionID === 'string' && data.sessionID ? data.sessionID : String(sessionId ?? '');
      const rowCreated = typeof created === 'number' && Number.isFinite(created) && created > 0 ? created : undefined;
      const r = messageRecord(String(id), sid, data, dirs.get(sid), rowCreated);
      if (typeof r === 'string') rejects.push({ entry: 0, reason: `message ${String(id)}: ${r}` });
      else if (r) records.push(r);
    }
  } finally {
    stmt.free();
  }
  return { records, rejects };
}
