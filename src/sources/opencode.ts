import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { LedgerRecord, SessionContext } from '../core/usage/model';
import { optionalCount, type Tokens } from '../core/usage/tokens';
import { isObject, type LineParser, type LogFile, type SourceReader, type WholeContext, WholeFileParser, wholeJson, type WholeResult } from './parser';
import { homeDir, isDirectory, uniqueDirs, walkFiles } from './walk';

/**
 * OpenCode message tokens `{input, output, reasoning, cache{read, write}}`: input excludes the cache, and OpenCode's
 * own total adds reasoning on top of output. Canonical: output = output + reasoning, reasoning = reasoning.
 */
export function fromOpenCodeTokens(t: Record<string, unknown>): Tokens | undefined {
  const input = optionalCount(t.input);
  const output = optionalCount(t.output);
  const reasoning = optionalCount(t.reasoning);
  const cache = isObject(t.cache) ? t.cache : {};
  const read = optionalCount(cache.read);
  const write = optionalCount(cache.write);
  if (input === undefined || output === undefined || reasoning === undefined || read === undefined || write === undefined) return undefined;
  return { input, output: output + reasoning, reasoning, cacheRead: read, cacheWrite: write };
}

const WAL_MAGIC_LE = 0x377f0682;
const WAL_MAGIC_BE = 0x377f0683;
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

/**
 * The database as a reader sees it: the main file with the committed frames of its write-ahead log applied (OpenCode
 * runs SQLite in WAL mode; recent messages live in `opencode.db-wal` until a checkpoint). Frames are taken up to the
 * last commit whose salts and running checksum are valid, as SQLite's own recovery does; a torn tail is ignored.
 */
export function applyWal(db: Buffer, wal: Buffer | undefined): Buffer {
  let out = db;
  if (wal && wal.length >= WAL_HEADER) {
    const magic = wal.readUInt32BE(0);
    if (magic === WAL_MAGIC_LE || magic === WAL_MAGIC_BE) {
      const big = magic === WAL_MAGIC_BE;
      const pageSize = wal.readUInt32BE(8);
      const salt1 = wal.readUInt32BE(16);
      const salt2 = wal.readUInt32BE(20);
      let [s0, s1] = walChecksum(wal, 0, 24, 0, 0, big);
      if (s0 === wal.readUInt32BE(24) && s1 === wal.readUInt32BE(28) && pageSize >= 512 && (pageSize & (pageSize - 1)) === 0) {
        const frames: Array<{ page: number; at: number }> = [];
        let committed: { count: number; pages: number } | undefined;
        for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
          if (wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
          [s0, s1] = walChecksum(wal, at, 8, s0, s1, big);
          [s0, s1] = walChecksum(wal, at + FRAME_HEADER, pageSize, s0, s1, big);
          if (s0 !== wal.readUInt32BE(at + 16) || s1 !== wal.readUInt32BE(at + 20)) break;
          frames.push({ page: wal.readUInt32BE(at), at: at + FRAME_HEADER });
          const size = wal.readUInt32BE(at + 4);
          if (size > 0) committed = { count: frames.length, pages: size };
        }
        if (committed) {
          out = Buffer.alloc(committed.pages * pageSize);
          db.copy(out, 0, 0, Math.min(db.length, out.length));
          for (const f of frames.slice(0, committed.count)) {
            if (f.page >= 1 && f.page <= committed.pages) wal.copy(out, (f.page - 1) * pageSize, f.at, f.at + pageSize);
          }
        }
      }
    }
  }
  // A copy in rollback-journal mode: the in-memory engine must not look for a write-ahead log of its own.
  if (out.length >= 100 && out[18] === 2 && out[19] === 2) {
    if (out === db) out = Buffer.from(db);
    out[18] = 1;
    out[19] = 1;
  }
  return out;
}

function walChecksum(buf: Buffer, at: number, len: number, s0: number, s1: number, big: boolean): [number, number] {
  let a = s0;
  let b = s1;
  for (let i = at; i < at + len; i += 8) {
    const x0 = big ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const x1 = big ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    a = (a + x0 + b) >>> 0;
    b = (b + x1 + a) >>> 0;
  }
  return [a, b];
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
    const data = env.XDG_DATA_HOME && env.XDG_DATA_HOME.trim() ? env.XDG_DATA_HOME.trim() : path.join(homeDir(env), '.local', 'share');
    return uniqueDirs([path.join(data, 'opencode')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (!isDirectory(root)) continue;
      const db = path.join(root, 'opencode.db');
      try {
        if (fs.statSync(db).isFile()) files.push({ source: 'opencode', path: db, root, whole: true, companions: [`${db}-wal`] });
      } catch {
        // no database: a build from before it, or not installed
      }
      for (const base of [path.join(root, 'storage', 'message'), ...projectStores(root)]) {
        if (!isDirectory(base)) continue;
        for (const p of walkFiles(base, (n) => n.endsWith('.json'), 1)) files.push({ source: 'opencode', path: p, root, whole: true });
      }
    }
    return files;
  },

  createParser(file) {
    return file.path.endsWith('.db') ? new DatabaseParser(file.path) : new MessageFileParser();
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
function messageRecord(id: string, sessionId: string, data: Record<string, unknown>, fallbackCwd?: string): LedgerRecord | string | undefined {
  if (data.role !== 'assistant') return undefined;
  if (data.tokens === undefined || data.tokens === null) return undefined;
  if (!isObject(data.tokens)) return 'tokens is not an object';
  const tokens = fromOpenCodeTokens(data.tokens);
  if (!tokens) return 'token counts are not non-negative integers';
  if (tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite === 0) return undefined; // nothing billed (yet)
  const time = isObject(data.time) ? data.time : {};
  const timestamp = typeof time.created === 'number' && Number.isFinite(time.created) ? time.created : undefined;
  if (timestamp === undefined) return 'time.created missing or not a number';
  const model = typeof data.modelID === 'string' && data.modelID ? data.modelID : undefined;
  if (!model) return 'modelID missing';
  const where = isObject(data.path) ? data.path : {};
  const cwd = typeof where.cwd === 'string' && where.cwd ? where.cwd : typeof where.root === 'string' && where.root ? where.root : fallbackCwd;
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

class MessageFileParser extends WholeFileParser {
  parseWhole(buf: Buffer): WholeResult | { incomplete: string } {
    const read = wholeJson(buf);
    if ('incomplete' in read) return read;
    const data = read.doc;
    if (!isObject(data) || typeof data.id !== 'string' || typeof data.sessionID !== 'string') return { incomplete: 'not an OpenCode message (no id and sessionID)' };
    const r = messageRecord(data.id, data.sessionID, data);
    if (typeof r === 'string') return { records: [], rejects: [{ entry: 0, reason: r }] };
    return { records: r ? [r] : [], rejects: [] };
  }
}

class DatabaseParser implements LineParser {
  constructor(private readonly file: string) {}

  state(): string | null {
    return null;
  }

  parse(): null {
    return null; // a database: see parseWhole
  }

  parseWhole(buf: Buffer, ctx: WholeContext): WholeResult | { incomplete: string } {
    let wal: Buffer | undefined;
    try {
      wal = fs.readFileSync(`${this.file}-wal`);
    } catch {
      wal = undefined; // checkpointed and removed, or never written
    }
    let db: Database | undefined;
    try {
      db = ctx.openSqlite(applyWal(buf, wal));
      return readOpenCodeDatabase(db);
    } catch (e) {
      // Copied in the middle of a write or a checkpoint: read again once it settles.
      return { incomplete: `not a readable OpenCode database right now (${(e as Error).message})` };
    } finally {
      db?.close();
    }
  }
}

/** Reads a copied OpenCode database: assistant messages (their tokens) and, for their folder, the session's directory. */
export function readOpenCodeDatabase(db: Database): WholeResult {
  const records: LedgerRecord[] = [];
  const rejects: WholeResult['rejects'] = [];
  const columns = (table: string): Set<string> => new Set((db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).map((r) => String(r[1])));
  const messageCols = columns('message');
  if (!messageCols.has('data') || !messageCols.has('id')) throw new Error('no message table with a data column');
  const sessionCol = messageCols.has('session_id') ? 'session_id' : messageCols.has('sessionID') ? 'sessionID' : undefined;
  const dirs = new Map<string, string>();
  const sessionCols = columns('session');
  if (sessionCols.has('id') && sessionCols.has('directory')) {
    for (const [id, dir] of db.exec('SELECT id, directory FROM session')[0]?.values ?? []) if (typeof dir === 'string' && dir) dirs.set(String(id), dir);
  }
  const stmt = db.prepare(`SELECT id, ${sessionCol ?? "''"}, data FROM message`);
  try {
    while (stmt.step()) {
      const [id, sessionId, text] = stmt.get();
      if (typeof text !== 'string' || !text.includes('"assistant"')) continue;
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        rejects.push({ entry: 0, reason: `message ${String(id)}: data is not JSON` });
        continue;
      }
      if (!isObject(data)) continue;
      const sid = typeof data.sessionID === 'string' && data.sessionID ? data.sessionID : String(sessionId ?? '');
      const r = messageRecord(String(id), sid, data, dirs.get(sid));
      if (typeof r === 'string') rejects.push({ entry: 0, reason: `message ${String(id)}: ${r}` });
      else if (r) records.push(r);
    }
  } finally {
    stmt.free();
  }
  return { records, rejects };
}
