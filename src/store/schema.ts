import type { Database } from 'sql.js';
import { addSessionTotals, addSourceTotals } from './aggregates';
import { ARCHIVE_DDL } from './archive';
import { storePathsOnce } from './paths';

/**
 * Versioned schema. Each migration moves the ledger one version up inside the write that opened it; a ledger from a
 * newer build (higher version) is never written by this one.
 *
 * Size matters (the target is under 300 bytes per interaction on disk): interactions are keyed by a 53-bit hash of
 * the source's natural key (the rowid itself, no extra key index), sessions and models are referenced by small
 * integers, costs are integer nano-dollars.
 *
 * `usage_rollup` holds the interactions summed per session, model and 15-minute bucket: reports read it instead of
 * grouping every interaction. It is derived, rebuilt for the sessions a write touched (store/rollup.ts).
 *
 * Version 2 (outcomes, store/outcomes.ts): repositories with the ref tips read last time (incremental reads),
 * commits within the linking horizon (subject and per-file line counts, no message bodies: flags and task keys are
 * derived), session → commit links with their evidence and the engineer's decision, successor edges (squash, rebase),
 * per-session link stamps (re-link only what changed), and kept-line counts per commit at a HEAD (version 3: per
 * file too).
 *
 * Version 4 (more sources): interactions whose counts were estimated (counted from text, or rounded by the tool) carry
 * FLAG_ESTIMATED; the rollup sums their tokens per bucket (`estimated`) so every figure can say exact, estimated or
 * mixed. Old ledgers hold no estimated interactions, so the column's default 0 is exact for them. `manual_entries`
 * holds what the engineer typed for an interaction logged by hand (the tool it was, an optional task); pasted text is
 * never stored, only the tokens counted from it.
 *
 * Version 5 (counted outcomes, docs/outcomes.md): commits carry their author (email, name), the emails their
 * `Co-authored-by:` trailers name, and the sha a `This reverts commit` line names, so authorship and reverts are judged
 * without keeping message bodies. Rows stored before are filled by the next link run (they read NULL until then).
 *
 * Version 6 (credits): tools that meter in credits of their own (Kiro) keep them per interaction as integer
 * micro-credits (`credits_u`), summed per bucket in the rollup, so credits are shown beside tokens, never turned into
 * tokens. Old ledgers hold no credits: the default 0 is right for them.
 *
 * Version 7 (aggregates, docs/ledger.md): `session_totals` holds each session's sums and span, kept by every write
 * that regroups the rollup (store/aggregates.ts) and filled from the rollup by the migration; an index on `last_ts`
 * finds the sessions of a period, and one on `prompts (ts)` the prompts of a period, so per-session work follows the
 * period shown, not the sessions ever recorded.
 *
 * Version 8 (aggregates): the rollup also sums what the tools recorded as their own cost (`recorded_nusd`, over the
 * `recorded_n` requests that recorded one), so a report never scans the per-request rows; the migration marks the
 * rollup stale, so the open that migrated regroups it (and the per-session totals) from the requests the ledger holds.
 * An index on `files (status, source, rejected)` answers data health without reading every path.
 *
 * Version 9 (the request archive, store/archive.ts): `archive_files`, `archived_sessions` and `archived_requests` (the
 * compact dedup keys of requests moved to archive files). The migration only adds the tables; the first fold after it
 * moves the request rows of sessions that ended before the previous month to the archive.
 *
 * Version 10 (paths stored once, store/paths.ts): `paths` holds each folder once (`id`, `text` unique); `files` is keyed
 * by (`dir_ref`, `name`), the folder keeping its trailing separator so that folder + name is the path exactly;
 * `sessions` refers to its working folder (`cwd_ref`) and to its log file's folder (`log_dir_ref`, with `log_name`)
 * instead of holding the strings. The migration moves the rows over in the write that opened the ledger (ids and
 * everything else unchanged); the fold that follows saves the smaller snapshot (vacuumed, as the old tables' pages are
 * free). The store reads and writes those columns and hands services whole paths.
 *
 * Version 11 (per-source aggregates, store/aggregates.ts): `session_totals` also keeps each session's `source`;
 * `source_totals` holds per source its sessions, first and last record, requests, estimated tokens, credits, log files
 * and rejected lines, kept by triggers on `session_totals` and `files` (a cursor is saved by upsert, so its update
 * fires them), so data health and the sidebar read a row per source instead of every session and file. Indexes on
 * `sessions (repo)` and `sessions (cwd_ref)` answer the repository filters and the project folders from the index.
 * Migration 7 now only creates its table and marks the rollup stale: the open regroups it with today's columns.
 */
export const SCHEMA_VERSION = 11;

const MIGRATIONS: ReadonlyArray<{ version: number; sql: string | ((db: Database) => void) }> = [
  {
    version: 1,
    sql: `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE models (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  session_key TEXT NOT NULL,
  cwd TEXT,
  repo TEXT,
  branch TEXT,
  label TEXT,
  log_path TEXT,
  UNIQUE (source, session_key)
);
CREATE TABLE interactions (
  id INTEGER PRIMARY KEY,
  session_ref INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  model_ref INTEGER NOT NULL,
  input INTEGER NOT NULL,
  output INTEGER NOT NULL,
  cache_read INTEGER NOT NULL,
  cache_write INTEGER NOT NULL,
  cache_write_1h INTEGER NOT NULL,
  reasoning INTEGER NOT NULL,
  cost_nusd INTEGER,
  recorded_cost_nusd INTEGER,
  flags INTEGER NOT NULL
);
CREATE INDEX interactions_session ON interactions (session_ref, ts);
CREATE TABLE usage_rollup (
  session_ref INTEGER NOT NULL,
  model_ref INTEGER NOT NULL,
  bucket INTEGER NOT NULL,
  first_ts INTEGER NOT NULL,
  last_ts INTEGER NOT NULL,
  input INTEGER NOT NULL,
  output INTEGER NOT NULL,
  cache_read INTEGER NOT NULL,
  cache_write INTEGER NOT NULL,
  reasoning INTEGER NOT NULL,
  cost_nusd INTEGER NOT NULL,
  n INTEGER NOT NULL,
  unpriced INTEGER NOT NULL,
  assumed INTEGER NOT NULL,
  PRIMARY KEY (session_ref, model_ref, bucket)
) WITHOUT ROWID;
CREATE INDEX usage_rollup_bucket ON usage_rollup (bucket);
CREATE TABLE session_files (session_ref INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (session_ref, path)) WITHOUT ROWID;
CREATE TABLE session_branches (session_ref INTEGER NOT NULL, branch TEXT NOT NULL, PRIMARY KEY (session_ref, branch)) WITHOUT ROWID;
CREATE TABLE prompts (id INTEGER PRIMARY KEY, session_ref INTEGER NOT NULL, ts INTEGER NOT NULL, hash INTEGER NOT NULL, text TEXT);
CREATE INDEX prompts_session ON prompts (session_ref);
CREATE TABLE files (
  path TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  dev INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  state TEXT,
  rejected INTEGER NOT NULL DEFAULT 0,
  status TEXT
) WITHOUT ROWID;
CREATE TABLE rejects (source TEXT NOT NULL, path TEXT NOT NULL, line_no INTEGER NOT NULL, reason TEXT NOT NULL);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE repos (
  id INTEGER PRIMARY KEY,
  common_dir TEXT NOT NULL UNIQUE,
  root TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'ok',
  note TEXT,
  me TEXT,
  tips TEXT NOT NULL DEFAULT '',
  head TEXT,
  horizon INTEGER,
  read_ms INTEGER
);
CREATE TABLE repo_paths (path TEXT PRIMARY KEY, repo_ref INTEGER, state TEXT NOT NULL DEFAULT 'ok') WITHOUT ROWID;
CREATE TABLE commits (
  id INTEGER PRIMARY KEY,
  repo_ref INTEGER NOT NULL,
  sha TEXT NOT NULL,
  parents TEXT NOT NULL,
  author_ts INTEGER NOT NULL,
  commit_ts INTEGER NOT NULL,
  subject TEXT NOT NULL,
  files TEXT NOT NULL,
  flags INTEGER NOT NULL,
  tasks TEXT NOT NULL DEFAULT '',
  pr INTEGER,
  merged_branch TEXT,
  UNIQUE (repo_ref, sha)
);
CREATE TABLE links (
  session_ref INTEGER NOT NULL,
  commit_ref INTEGER NOT NULL,
  confidence REAL NOT NULL,
  evidence TEXT NOT NULL,
  state INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (session_ref, commit_ref)
) WITHOUT ROWID;
CREATE INDEX links_commit ON links (commit_ref);
CREATE TABLE successors (original_ref INTEGER NOT NULL, successor_ref INTEGER NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (original_ref, successor_ref)) WITHOUT ROWID;
CREATE TABLE session_links (session_ref INTEGER PRIMARY KEY, stamp TEXT NOT NULL, codex_head TEXT);
CREATE TABLE kept_lines (commit_ref INTEGER PRIMARY KEY, head TEXT NOT NULL, kept INTEGER NOT NULL);
`,
  },
  {
    // Kept lines per file of a commit: when HEAD moves, only the files that changed are blamed again.
    version: 3,
    sql: `ALTER TABLE kept_lines ADD COLUMN per_file TEXT;`,
  },
  {
    version: 4,
    sql: `
ALTER TABLE usage_rollup ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0;
CREATE TABLE manual_entries (
  session_ref INTEGER PRIMARY KEY,
  tool TEXT NOT NULL,
  task TEXT,
  from_text INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
`,
  },
  {
    version: 5,
    // Column by column, each only when missing: a ledger relabelled to an older version keeps what it has.
    sql: addColumns('commits', [
      ['author_email', 'TEXT'],
      ['author_name', 'TEXT'],
      ['co_authors', "TEXT NOT NULL DEFAULT ''"],
      ['reverts', 'TEXT'],
    ]),
  },
  {
    version: 6,
    sql: (db) => {
      addColumns('interactions', [['credits_u', 'INTEGER NOT NULL DEFAULT 0']])(db);
      addColumns('usage_rollup', [['credits_u', 'INTEGER NOT NULL DEFAULT 0']])(db);
    },
  },
  {
    version: 7,
    sql: addSessionTotals,
  },
  {
    version: 8,
    sql: (db) => {
      addColumns('usage_rollup', [
        ['recorded_nusd', 'INTEGER NOT NULL DEFAULT 0'],
        ['recorded_n', 'INTEGER NOT NULL DEFAULT 0'],
      ])(db);
      // Regrouped from the requests by whoever opens it, right after the migration (store/rollup.ts, Ledger.load).
      db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('rollup_stale', '1')");
      // Data health (files per source and their rejected lines, every report) from a small covering index instead of
      // the files table with its paths and parser states.
      db.exec('CREATE INDEX IF NOT EXISTS files_health ON files (status, source, rejected)');
    },
  },
  {
    version: 9,
    sql: ARCHIVE_DDL,
  },
  {
    version: 10,
    sql: storePathsOnce,
  },
  {
    version: 11,
    sql: addSourceTotals,
  },
];

/** A migration step adding columns to a table, skipping those it already has (run through `migrate`). */
function addColumns(table: string, columns: ReadonlyArray<readonly [string, string]>): (db: Database) => void {
  return (db) => {
    const have = new Set((db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).map((v) => String(v[1])));
    for (const [name, type] of columns) if (!have.has(name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${name} ${type}`);
  };
}

/** Interaction flags (bit field). */
export const FLAG_SIDECHAIN = 1;
export const FLAG_MODEL_ASSUMED = 2;
/** Token counts were estimated (counted from text or rounded by the tool), not reported exactly. */
export const FLAG_ESTIMATED = 4;
/** Received over OTLP by the local receiver (services/otel.ts), not read from a log file: a log copy replaces it. */
export const FLAG_OTLP = 8;

export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    detail = `schema ${found}; this build knows ${SCHEMA_VERSION}`,
  ) {
    super(
      `the ledger was written by a newer Outcome Ledger (${detail}). ` +
        'Update Outcome Ledger; the ledger was left untouched.',
    );
  }
}

export function schemaVersion(db: Database): number {
  const hasMeta = db.exec("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'");
  if (hasMeta.length === 0) return 0;
  const r = db.exec("SELECT value FROM meta WHERE key='schema_version'");
  const v = r[0]?.values[0]?.[0];
  return v === undefined ? 0 : Number(v);
}

/** Brings the schema up to date. Returns true when something changed (the caller must save). */
export function migrate(db: Database): boolean {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current);
  if (current === SCHEMA_VERSION) return false;
  db.exec('BEGIN');
  try {
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      if (typeof m.sql === 'string') db.exec(m.sql);
      else m.sql(db);
    }
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", [String(SCHEMA_VERSION)]);
    if (current === 0)
      db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('created', ?)", [new Date().toISOString()]);
    db.exec('COMMIT');
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
  return true;
}

export function getMeta(db: Database, key: string): string | undefined {
  const stmt = db.prepare('SELECT value FROM meta WHERE key = ?');
  try {
    stmt.bind([key]);
    return stmt.step() ? String(stmt.get()[0]) : undefined;
  } finally {
    stmt.free();
  }
}

export function setMeta(db: Database, key: string, value: string): void {
  db.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', [key, value]);
}
