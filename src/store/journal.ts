import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { BindParams, Database, SqlValue, Statement } from 'sql.js';

/**
 * The ledger's journal: an append-only file of the SQL each write executed (statement text and bound values), in
 * checksummed blocks, beside the database snapshot. A write appends one block and fsyncs it (a few KB for a captured
 * line, where saving the snapshot rewrites every byte of history); opening replays the blocks onto the snapshot;
 * another process picks up a change by reading the blocks after the offset it last read. Past a size the journal is
 * folded into a new snapshot (store/ledger.ts).
 *
 * Replay is exact because SQLite is deterministic: the same statements with the same values on the same database give
 * the same rows (rowids included), and every value the JS computed (ids, times, costs) is recorded, not recomputed.
 * Each block also records how many rows its statements changed; a replay that changes a different number stops there.
 *
 * Layout: a 64-byte header (magic, journal format, schema version, the id of the snapshot the blocks apply to, the
 * id of the snapshot before it), then blocks: "OLB1", payload length (u32 BE), SHA-256 of the payload, payload
 * (UTF-8 JSON). A block cut short (a writer killed mid-append) or failing its checksum ends the usable journal.
 */
export const JOURNAL_FORMAT = 1;
const MAGIC = 'OLJRNL01';
export const HEADER_BYTES = 64;
const BLOCK_MAGIC = 'OLB1';
const BLOCK_HEAD = 4 + 4 + 32;

export interface JournalHeader {
  format: number;
  schema: number;
  /** Snapshot the blocks apply to (its meta `snapshot_id`). */
  id: string;
  /** The snapshot before it (the backup's id), '' when there was none. */
  prev: string;
}

/** A statement as recorded: index into the block's statement texts, and its values (absent: executed as a script). */
type Entry = [number, EncodedParams?];
type EncodedParams = unknown[] | Record<string, unknown>;

export interface Block {
  /** Distinct statement texts. */
  q: string[];
  s: Entry[];
  /** Rows changed by the block (SQLite's total_changes() difference). */
  c: number;
}

export function encodeHeader(h: JournalHeader): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.write(MAGIC, 0, 'latin1');
  buf.writeUInt32BE(h.format, 8);
  buf.writeUInt32BE(h.schema, 12);
  buf.write(h.id.padEnd(24).slice(0, 24), 16, 'latin1');
  buf.write(h.prev.padEnd(24).slice(0, 24), 40, 'latin1');
  return buf;
}

export function decodeHeader(buf: Uint8Array): JournalHeader | undefined {
  if (buf.length < HEADER_BYTES) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset, HEADER_BYTES);
  if (b.toString('latin1', 0, 8) !== MAGIC) return undefined;
  return {
    format: b.readUInt32BE(8),
    schema: b.readUInt32BE(12),
    id: b.toString('latin1', 16, 40).trim(),
    prev: b.toString('latin1', 40, 64).trim(),
  };
}

export function encodeBlock(block: Block): Buffer {
  const payload = Buffer.from(JSON.stringify(block), 'utf8');
  const head = Buffer.alloc(BLOCK_HEAD);
  head.write(BLOCK_MAGIC, 0, 'latin1');
  head.writeUInt32BE(payload.length, 4);
  createHash('sha256').update(payload).digest().copy(head, 8);
  return Buffer.concat([head, payload]);
}

export interface ReadBlocks {
  blocks: Block[];
  /** Offset after the last whole, intact block. */
  end: number;
  /** A block failed its checksum with more data after it: the journal is damaged, not just cut short. */
  damaged?: string;
}

/** Reads the blocks of `bytes` (a journal's content from `start`, at file offset `base`). */
export function readBlocks(bytes: Uint8Array, base: number): ReadBlocks {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks: Block[] = [];
  let at = 0;
  while (at + BLOCK_HEAD <= buf.length) {
    if (buf.toString('latin1', at, at + 4) !== BLOCK_MAGIC) {
      return { blocks, end: base + at, damaged: `no block starts at byte ${base + at}` };
    }
    const len = buf.readUInt32BE(at + 4);
    const bodyAt = at + BLOCK_HEAD;
    if (bodyAt + len > buf.length) break; // cut short: being written, or a writer killed mid-append
    const payload = buf.subarray(bodyAt, bodyAt + len);
    const sum = createHash('sha256').update(payload).digest();
    const last = bodyAt + len === buf.length;
    if (!sum.equals(buf.subarray(at + 8, at + BLOCK_HEAD))) {
      // The last block of a file a crash cut (its length written, not all of its bytes) is a torn tail, not damage.
      return last
        ? { blocks, end: base + at }
        : { blocks, end: base + at, damaged: `a block at byte ${base + at} fails its checksum` };
    }
    let block: Block;
    try {
      block = JSON.parse(payload.toString('utf8')) as Block;
    } catch {
      return { blocks, end: base + at, damaged: `a block at byte ${base + at} is not readable` };
    }
    blocks.push(block);
    at = bodyAt + len;
  }
  return { blocks, end: base + at };
}

function encodeValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return { $b: Buffer.from(v).toString('base64') };
  if (typeof v === 'bigint') return { $n: v.toString() };
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === undefined) return null;
  return v;
}

function decodeValue(v: unknown): SqlValue {
  if (v !== null && typeof v === 'object') {
    const o = v as { $b?: string; $n?: string };
    if (typeof o.$b === 'string') return new Uint8Array(Buffer.from(o.$b, 'base64'));
    if (typeof o.$n === 'string') return Number(o.$n);
  }
  return v as SqlValue;
}

function encodeParams(p: BindParams | undefined): EncodedParams | undefined {
  if (p === undefined || p === null) return undefined;
  if (Array.isArray(p)) return p.map(encodeValue);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[k] = encodeValue(v);
  return out;
}

function decodeParams(p: EncodedParams): BindParams {
  if (Array.isArray(p)) return p.map(decodeValue);
  const out: Record<string, SqlValue> = {};
  for (const [k, v] of Object.entries(p)) out[k] = decodeValue(v);
  return out;
}

/** Only a single plain read is left out; anything else (writes, DDL, pragmas, scripts) is recorded. */
function mayWrite(sql: string): boolean {
  const s = sql.trim().replace(/;\s*$/, '');
  if (s.includes(';')) return true;
  if (/^(SELECT|VALUES|EXPLAIN)\b/i.test(s)) return false;
  if (/^WITH\b/i.test(s)) return /\b(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(s);
  return !/^(BEGIN|COMMIT|END|ROLLBACK)\b/i.test(s);
}

/**
 * Records the statements executed on one sql.js database while active: `exec`, `run` and prepared statements that
 * may write. At most `limitBytes` of SQL and values are kept; past it the block is marked overflowed (the writer then
 * folds the whole database instead of journaling).
 */
export class Recorder {
  private texts: string[] = [];
  private index = new Map<string, number>();
  private entries: Entry[] = [];
  private bytes = 0;
  private depth = 0;
  private active = false;
  overflowed = false;

  constructor(
    db: Database,
    private readonly limitBytes: number,
  ) {
    const exec = db.exec.bind(db);
    const run = db.run.bind(db);
    const prepare = db.prepare.bind(db);
    db.exec = (sql: string, params?: BindParams) => {
      const r = this.inner(() => exec(sql, params));
      if (mayWrite(sql)) this.add(sql, params, true);
      return r;
    };
    db.run = (sql: string, params?: BindParams) => {
      this.inner(() => run(sql, params));
      if (mayWrite(sql)) this.add(sql, params, params === undefined);
      return db;
    };
    db.prepare = (sql: string, params?: BindParams): Statement => {
      const stmt = prepare(sql, params);
      if (mayWrite(sql)) this.watch(stmt, sql, params);
      return stmt;
    };
  }

  private inner<T>(f: () => T): T {
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private watch(stmt: Statement, sql: string, initial: BindParams | undefined): void {
    let bound: BindParams | undefined = initial ?? undefined;
    const bind = stmt.bind.bind(stmt);
    const step = stmt.step.bind(stmt);
    const reset = stmt.reset.bind(stmt);
    stmt.bind = (values?: BindParams) => {
      const r = bind(values);
      if (values !== undefined && values !== null) bound = values;
      return r;
    };
    stmt.reset = () => {
      reset();
      bound = undefined;
    };
    stmt.step = () => {
      const r = step();
      if (this.depth === 0) this.add(sql, bound ?? [], false);
      return r;
    };
  }

  private add(sql: string, params: BindParams | undefined, script: boolean): void {
    if (!this.active || this.depth > 0 || this.overflowed) return;
    let qi = this.index.get(sql);
    if (qi === undefined) {
      qi = this.texts.length;
      this.texts.push(sql);
      this.index.set(sql, qi);
      this.bytes += sql.length;
    }
    const encoded = script && (params === undefined || params === null) ? undefined : encodeParams(params ?? []);
    this.entries.push(encoded === undefined ? [qi] : [qi, encoded]);
    this.bytes += 8 + (encoded ? JSON.stringify(encoded).length : 0);
    if (this.bytes > this.limitBytes) {
      this.overflowed = true;
      this.clear();
    }
  }

  private clear(): void {
    this.texts = [];
    this.index = new Map();
    this.entries = [];
    this.bytes = 0;
  }

  start(): void {
    this.clear();
    this.overflowed = false;
    this.active = true;
  }

  /** What was recorded since `start()` (or the last `take()`); recording goes on. */
  take(changes: number): Block | 'overflow' | undefined {
    const over = this.overflowed;
    const block: Block = { q: this.texts, s: this.entries, c: changes };
    this.clear();
    this.overflowed = false;
    if (over) return 'overflow';
    return block.s.length === 0 ? undefined : block;
  }

  stop(): void {
    this.active = false;
    this.clear();
    this.overflowed = false;
  }
}

export function totalChanges(db: Database): number {
  return Number(db.exec('SELECT total_changes()')[0]?.values[0]?.[0] ?? 0);
}

/** Applies blocks in order; returns how many applied before one failed or changed a different number of rows. */
export function replay(db: Database, blocks: readonly Block[]): { applied: number; problem?: string } {
  if (blocks.length === 0) return { applied: 0 };
  // One transaction for all blocks (a savepoint each): a transaction per block would cost a commit each.
  db.exec('BEGIN');
  try {
    return replayBlocks(db, blocks);
  } finally {
    db.exec('COMMIT');
  }
}

function replayBlocks(db: Database, blocks: readonly Block[]): { applied: number; problem?: string } {
  // Statements prepared once per text for all blocks (an import's blocks repeat the same few).
  const stmts = new Map<string, Statement>();
  try {
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i] as Block;
      const before = totalChanges(db);
      db.exec('SAVEPOINT journal_replay');
      try {
        for (const [qi, params] of block.s) {
          const sql = block.q[qi];
          if (sql === undefined) throw new Error('a statement the block does not hold');
          if (params === undefined) {
            db.exec(sql);
            continue;
          }
          let stmt = stmts.get(sql);
          if (!stmt) {
            stmt = db.prepare(sql);
            stmts.set(sql, stmt);
          }
          stmt.run(decodeParams(params));
        }
        const changed = totalChanges(db) - before;
        if (changed !== block.c) throw new Error(`it changed ${changed} rows where its writer changed ${block.c}`);
        db.exec('RELEASE journal_replay');
      } catch (e) {
        db.exec('ROLLBACK TO journal_replay');
        db.exec('RELEASE journal_replay');
        return { applied: i, problem: (e as Error).message };
      }
    }
    return { applied: blocks.length };
  } finally {
    for (const s of stmts.values()) s.free();
  }
}

/** Reads `file` from `offset` to its end (through one descriptor, with its stat). */
export function readTail(file: string, offset: number): { bytes: Buffer; stat: fs.Stats } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const stat = fs.fstatSync(fd);
    const length = Math.max(0, stat.size - offset);
    const bytes = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, bytes, got, length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return { bytes: bytes.subarray(0, got), stat };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Appends one block at `at` (cutting off any torn tail after it first) and fsyncs; returns the new end. A write that
 * fails (a full disk) is cut off again, so the journal ends where it did and readers see no torn block.
 */
export function appendBlock(file: string, at: number, block: Buffer): number {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    if (size !== at) fs.ftruncateSync(fd, at);
    try {
      let written = 0;
      while (written < block.length) written += fs.writeSync(fd, block, written, block.length - written, at + written);
      fs.fsyncSync(fd);
    } catch (e) {
      try {
        fs.ftruncateSync(fd, at);
      } catch {
        // the torn tail stays; its checksum fails and the next append cuts it off
      }
      throw e;
    }
  } finally {
    fs.closeSync(fd);
  }
  return at + block.length;
}
