import * as fs from 'node:fs';
import type { Database } from 'sql.js';
import { readRegularFile } from './regular';
import type { SourceName } from '../core/usage/model';
import { type LogFile, type WholeContext, WholeFileParser, type WholeResult } from './parser';

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
      if (
        s0 === wal.readUInt32BE(24) &&
        s1 === wal.readUInt32BE(28) &&
        pageSize >= 512 &&
        (pageSize & (pageSize - 1)) === 0
      ) {
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

/** A SQLite store found by discovery: read whole, and read again when its write-ahead log (`-wal`) changes too. */
export function sqliteLogFile(source: SourceName, db: string, root: string): LogFile {
  return { source, path: db, root, whole: true, companions: [`${db}-wal`] };
}

/**
 * A SQLite database a tool keeps (OpenCode, Kiro CLI, Amazon Q CLI, Cursor, Copilot CLI): copied into memory with its
 * write-ahead log applied and read there with sql.js — never opened in place, never written, never locked. A copy
 * caught mid-write or mid-checkpoint does not open: the importer reads it again once it settles.
 */
export class SqliteCopyParser extends WholeFileParser {
  constructor(
    private readonly file: string,
    private readonly what: string,
    private readonly read: (db: Database, ctx: WholeContext) => WholeResult,
  ) {
    super();
  }

  parseWhole(buf: Buffer, ctx: WholeContext): WholeResult | { incomplete: string } {
    try {
      return readSqliteCopy(buf, this.file, ctx, (db) => this.read(db, ctx));
    } catch (e) {
      return { incomplete: `not a readable ${this.what} right now (${(e as Error).message})` };
    }
  }
}

/**
 * Opens `buf` (the bytes of the database at `file`) in memory with the committed part of its write-ahead log applied,
 * gives it to `read` and closes it. Throws as the open or `read` does: a copy caught mid-write may not open.
 */
export function readSqliteCopy<T>(
  buf: Buffer,
  file: string,
  ctx: WholeContext,
  read: (db: Database) => T,
  maxWalBytes = 512 << 20,
): T {
  // checkpointed and removed, or never written: no write-ahead log (a FIFO or device there is refused too)
  const walRead = readRegularFile(`${file}-wal`, maxWalBytes);
  let db: Database | undefined;
  try {
    db = ctx.openSqlite(applyWal(buf, 'bytes' in walRead ? walRead.bytes : undefined));
    return read(db);
  } finally {
    db?.close();
  }
}

/** What a set of files is now (size and time of each, `-` for one missing): a read is kept until this changes. */
export function stampOf(files: string[]): string {
  return files
    .map((f) => {
      try {
        const st = fs.statSync(f);
        return `${st.size}:${st.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

/** The names of a table's columns (none when the table is not there). */
export function columnsOf(db: Database, table: string): Set<string> {
  return new Set((db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).map((r) => String(r[1])));
}

/** A column value as text (SQLite TEXT, or a BLOB holding UTF-8 as Cursor writes its values). */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return undefined;
}
