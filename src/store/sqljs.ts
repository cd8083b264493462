import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic } from 'sql.js';
import type { PagedFile } from './pagedFile';

let loading: Promise<SqlJsStatic> | undefined;

/** Where the wasm lives: beside the bundle in dist/ (and in the .vsix), or in node_modules when running from sources. */
function wasmPath(): string {
  const candidates = [path.join(__dirname, 'sql-wasm.wasm'), path.join(__dirname, '..', 'sql-wasm.wasm')];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  const fromSources = 'sql.js/dist/sql-wasm.wasm'; // not a literal: the bundle never resolves it
  return require.resolve(fromSources);
}

/** sql.js is loaded once per process, from bytes read once (never fetched). */
export function loadSqlJs(): Promise<SqlJsStatic> {
  if (!loading) {
    const bytes = fs.readFileSync(wasmPath());
    const wasmBinary = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    // useOldExtensionFunctions: false opts out of sql.js's deprecated JS string functions (and their warning).
    const config = { wasmBinary, useOldExtensionFunctions: false } as unknown as Parameters<typeof initSqlJs>[0];
    loading = initSqlJs(config);
  }
  return loading;
}

/**
 * A database the ledger writes (the ledger itself, an archive file being built), from a file's bytes or empty, with
 * SQLite's rollback journal kept in its own memory instead of a second in-memory file beside the database: sql.js's
 * files grow by reallocating and copying, which a big transaction (an import's checkpoint, a fold's archive pass)
 * repeats many times. Nothing is lost by it: the database itself lives in memory, and what is durable is the snapshot
 * and the ledger's own journal on disk; ROLLBACK and savepoints work the same.
 */
export function writableDatabase(SQL: SqlJsStatic, bytes?: Uint8Array | PagedFile): Database {
  // A PagedFile stands in for the bytes (store/pagedFile.ts): sql.js's file system only uses what it provides.
  const db = new SQL.Database(bytes as Uint8Array | undefined);
  try {
    db.exec('PRAGMA journal_mode = MEMORY');
  } catch (e) {
    db.close(); // bytes that are not a database: the caller says so
    throw e;
  }
  return db;
}

let empty: Uint8Array | undefined;

/** The bytes of an empty database (one page): what a new ledger's PagedFile starts from. */
export function emptyDatabaseImage(SQL: SqlJsStatic): Uint8Array {
  if (!empty) {
    const db = new SQL.Database();
    try {
      empty = db.export();
    } finally {
      db.close();
    }
  }
  return empty.slice();
}
