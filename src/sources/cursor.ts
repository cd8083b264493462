import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { LedgerRecord, SessionContext } from '../core/usage/model';
import { optionalCount } from '../core/usage/tokens';
import { workspaceStorageFolder } from './copilot';
import {
  interactionRecord,
  isObject,
  parseTimestamp,
  type LogFile,
  type SourceReader,
  type WholeContext,
  type WholeResult,
} from './parser';
import { platformBase } from './platform';
import { readRegularFile } from './regular';
import { columnsOf, readSqliteCopy, SqliteCopyParser, stampOf, textOf, sqliteLogFile } from './sqliteCopy';
import { estimateTokens } from './tokenize';
import { isDirectory, isLogCandidate, listDir, uniqueDirs } from './walk';

/**
 * Cursor. Its chats live in the global `state.vscdb` of its user folder (`~/.config/Cursor/User/globalStorage`, macOS
 * `~/Library/Application Support/Cursor/User/globalStorage`, Windows `%APPDATA%\Cursor\User\globalStorage`), a SQLite
 * key-value table `cursorDiskKV`: `composerData:<composerId>` (a conversation: its model, times and the ordered
 * headers of its messages) and `bubbleId:<composerId>:<bubbleId>` (one message: `type` 1 user, 2 assistant, its
 * `text`, and `tokenCount{inputTokens, outputTokens}`).
 *
 * The database can be gigabytes: it is copied with its write-ahead log and read in memory (never opened in place), and
 * only the two key ranges are read (`key >= 'bubbleId:' AND key < 'bubbleId;'`, which the key index answers) — no
 * `LIKE` scan of the whole table. Newer builds write `{0, 0}` token placeholders: zeros mean "not recorded", and
 * those replies are estimated from their text (and the prompt before them) with the tokenizer and marked estimated.
 *
 * The global database does not say which folder a chat was in: each workspace's own
 * `<User>/workspaceStorage/<id>/state.vscdb` lists its chats (`ItemTable` key `composer.composerData`,
 * `allComposers[].composerId`) and its `workspace.json` names the folder, so every composer is mapped to its
 * workspace folder (the session's cwd, which links it to the repository). Those databases are small; they are copied
 * with their WAL and read in memory too, and read again only when they change.
 */
export const cursor: SourceReader = {
  source: 'cursor',

  roots(env) {
    return uniqueDirs([path.join(platformBase('config', env), 'Cursor', 'User')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      const db = isLogCandidate(root)
        ? root
        : [path.join(root, 'globalStorage', 'state.vscdb'), path.join(root, 'state.vscdb')].find(isLogCandidate);
      if (db && (isLogCandidate(root) || isDirectory(root))) files.push(sqliteLogFile('cursor', db, root));
    }
    return files;
  },

  createParser(file) {
    // <User>/globalStorage/state.vscdb: the workspaces are in <User>/workspaceStorage.
    const storage = path.join(path.dirname(path.dirname(file.path)), 'workspaceStorage');
    return new SqliteCopyParser(file.path, 'Cursor state database', (db, ctx) => {
      const refused: string[] = [];
      const out = readCursorDatabase(db, cursorWorkspaces(storage, ctx, refused));
      // A workspace database that is no regular file (a FIFO, a device) is named in data health, as other sources'.
      out.rejects.unshift(...refused.map((reason) => ({ entry: 0, reason })));
      return out;
    });
  },
};

/** The rows of one key range (`prefix:` up to the next character after ':'), read through the key index. */
function range(db: Database, prefix: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stmt = db.prepare('SELECT key, value FROM cursorDiskKV WHERE key >= ? AND key < ?');
  try {
    stmt.bind([`${prefix}:`, `${prefix};`]);
    while (stmt.step()) {
      const [k, v] = stmt.get();
      const text = textOf(v);
      if (typeof k === 'string' && text !== undefined) out.push([k, text]);
    }
  } finally {
    stmt.free();
  }
  return out;
}

interface Composer {
  model?: string;
  createdAt?: number;
  updatedAt?: number;
  /** Bubble ids in conversation order. */
  order: string[];
}

/** What one workspace database said, kept while its files are unchanged. */
interface WorkspaceRead {
  stamp: string;
  folder: string | undefined;
  composers: string[];
  /** Why the workspace database was not read (not a regular file, unreadable), said on every read of Cursor. */
  refused?: string;
}

const workspaceReads = new Map<string, WorkspaceRead>();

/** The composer ids a workspace database lists (`ItemTable` `composer.composerData` → `allComposers[].composerId`). */
export function workspaceComposers(db: Database): string[] {
  if (!columnsOf(db, 'ItemTable').has('key')) return [];
  const r = db.exec("SELECT value FROM ItemTable WHERE key = 'composer.composerData'");
  const text = textOf(r[0]?.values[0]?.[0]);
  if (text === undefined) return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return [];
  }
  const all = isObject(v) && Array.isArray(v.allComposers) ? v.allComposers : [];
  return all.map((c) => (isObject(c) && typeof c.composerId === 'string' ? c.composerId : '')).filter(Boolean);
}

/**
 * Composer id → workspace folder, from every `workspaceStorage/<id>` that has a `workspace.json` and a state
 * database. A workspace database that cannot be read now (mid-write) maps nothing this time; the next read retries.
 * One that is not a regular file (a FIFO, a device, a folder) or cannot be opened is never read: why goes to `refused`
 * (`<path>: <reason>`).
 */
export function cursorWorkspaces(storage: string, ctx: WholeContext, refused: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of listDir(storage)) {
    const dir = path.join(storage, id);
    const dbFile = path.join(dir, 'state.vscdb');
    const stamp = stampOf([dbFile, `${dbFile}-wal`, path.join(dir, 'workspace.json')]);
    let read = workspaceReads.get(dir);
    if (!read || read.stamp !== stamp) {
      const folder = workspaceStorageFolder(dir);
      let composers: string[] = [];
      let settled = true;
      let why: string | undefined;
      const bytes = folder ? readRegularFile(dbFile, 256 << 20) : { refused: 'no folder' };
      // A workspace without a database yet (or without workspace.json) is no problem: nothing to say about it.
      if ('refused' in bytes && folder && bytes.refused !== 'no such file') why = `${dbFile}: ${bytes.refused}`;
      if ('bytes' in bytes) {
        try {
          composers = readSqliteCopy(bytes.bytes, dbFile, ctx, workspaceComposers, 256 << 20);
        } catch {
          settled = false; // mid-write or not a database: nothing mapped from it now, read again next time
        }
      }
      read = { stamp, folder, composers, ...(why ? { refused: why } : {}) };
      if (workspaceReads.size > 4096) workspaceReads.clear();
      if (settled) workspaceReads.set(dir, read);
    }
    if (read.refused) refused.push(read.refused);
    if (read.folder) for (const c of read.composers) if (!out.has(c)) out.set(c, read.folder);
  }
  return out;
}

/**
 * Reads a copied Cursor state database: one interaction per assistant message with tokens or text. `workspaces` maps
 * a composer id to the folder of the workspace it was in (its session's cwd).
 */
export function readCursorDatabase(db: Database, workspaces: ReadonlyMap<string, string> = new Map()): WholeResult {
  if (!columnsOf(db, 'cursorDiskKV').has('key')) throw new Error('no cursorDiskKV table');
  const out: WholeResult = { records: [], rejects: [] };
  const composers = new Map<string, Composer>();
  const parse = (key: string, text: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(text);
      return isObject(v) ? v : undefined;
    } catch {
      out.rejects.push({ entry: 0, reason: `${key}: value is not JSON` });
      return undefined;
    }
  };
  for (const [key, text] of range(db, 'composerData')) {
    const v = parse(key, text);
    if (!v) continue;
    const config = isObject(v.modelConfig) ? v.modelConfig : {};
    const headers = Array.isArray(v.fullConversationHeadersOnly) ? v.fullConversationHeadersOnly : [];
    composers.set(key.slice('composerData:'.length), {
      model: typeof config.modelName === 'string' && config.modelName ? config.modelName : undefined,
      createdAt: parseTimestamp(v.createdAt),
      updatedAt: parseTimestamp(v.lastUpdatedAt),
      order: headers.map((h) => (isObject(h) && typeof h.bubbleId === 'string' ? h.bubbleId : '')).filter(Boolean),
    });
  }
  // Bubbles grouped per composer, so an unrecorded reply is estimated with the prompt before it.
  const bubbles = new Map<string, Map<string, Record<string, unknown>>>();
  for (const [key, text] of range(db, 'bubbleId')) {
    const [, composerId = '', bubbleId = ''] = key.split(':');
    if (!text.includes('"type"')) continue;
    const v = parse(key, text);
    if (!v) continue;
    let m = bubbles.get(composerId);
    if (!m) bubbles.set(composerId, (m = new Map()));
    m.set(bubbleId, v);
  }
  for (const [composerId, list] of bubbles) {
    const c = composers.get(composerId) ?? { order: [] };
    const ordered = [
      ...c.order.filter((id) => list.has(id)),
      ...[...list.keys()].filter((id) => !c.order.includes(id)).sort(),
    ];
    const cwd = workspaces.get(composerId);
    const session: SessionContext = { source: 'cursor', sessionId: composerId, ...(cwd ? { cwd } : {}) };
    let prompt = '';
    for (const bubbleId of ordered) {
      const b = list.get(bubbleId) as Record<string, unknown>;
      const text = typeof b.text === 'string' ? b.text : '';
      if (b.type === 1) {
        prompt = text;
        continue;
      }
      if (b.type !== 2) continue;
      const r = bubbleRecord(composerId, bubbleId, b, c, session, text, prompt);
      if (typeof r === 'string') out.rejects.push({ entry: 0, reason: `bubbleId:${composerId}:${bubbleId}: ${r}` });
      else if (r) {
        out.records.push(r);
        prompt = '';
      }
    }
  }
  return out;
}

function bubbleRecord(
  composerId: string,
  bubbleId: string,
  b: Record<string, unknown>,
  c: Composer,
  session: SessionContext,
  text: string,
  prompt: string,
): LedgerRecord | string | undefined {
  const count = isObject(b.tokenCount)
    ? b.tokenCount
    : b.tokenCount === undefined || b.tokenCount === null
      ? {}
      : undefined;
  if (!count) return 'tokenCount is not an object';
  const input = optionalCount(count.inputTokens);
  const output = optionalCount(count.outputTokens);
  if (input === undefined || output === undefined) return 'tokenCount holds no non-negative integers';
  const recorded = input + output > 0;
  const tool = isObject(b.toolFormerData)
    ? JSON.stringify(b.toolFormerData.rawArgs ?? b.toolFormerData.params ?? '')
    : '';
  if (!recorded && !text && !tool) return undefined; // an empty placeholder bubble (a tool step still streaming)
  const timing = isObject(b.timingInfo) ? b.timingInfo : {};
  const ts =
    parseTimestamp(b.createdAt) ??
    parseTimestamp(timing.clientEndTime) ??
    parseTimestamp(timing.clientStartTime) ??
    c.updatedAt ??
    c.createdAt;
  if (ts === undefined) return 'no time (createdAt) on the message or its conversation';
  const info = isObject(b.modelInfo) ? b.modelInfo : {};
  const model = typeof info.modelName === 'string' && info.modelName ? info.modelName : c.model;
  const tokens = recorded
    ? { input, output, cacheRead: 0, cacheWrite: 0, reasoning: 0 }
    : { input: estimateTokens(prompt), output: estimateTokens(text + tool), cacheRead: 0, cacheWrite: 0, reasoning: 0 };
  return interactionRecord({
    key: `cursor:${composerId}:${bubbleId}`,
    session,
    timestamp: ts,
    model,
    tokens,
    estimated: !recorded,
  });
}
