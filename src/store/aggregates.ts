import type { Database } from 'sql.js';

/**
 * Per-session aggregates (schema 7): one row per session with its whole-session sums and span, derived from the
 * usage rollup inside the same write that regrouped it (store/rollup.ts), so every write path keeps it exact:
 * imports, retractions, manual entries and their removal, repricing, a regroup of a ledger saved mid-import, and
 * journal replay (which re-executes those very statements).
 *
 * Readers that need something per session (status, span, totals of `sessions`, the sidebar's list) read one row per
 * session they show instead of grouping every rollup row of the history, and find the sessions of a period through
 * the `last_ts` index, so their cost follows the period shown.
 */
export const SESSION_TOTALS_DDL = `
CREATE TABLE IF NOT EXISTS session_totals (
  session_ref INTEGER PRIMARY KEY,
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
  estimated INTEGER NOT NULL,
  credits_u INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS session_totals_last ON session_totals (last_ts);
CREATE INDEX IF NOT EXISTS prompts_ts ON prompts (ts);`;

const TOTALS_COLUMNS =
  'session_ref, first_ts, last_ts, input, output, cache_read, cache_write, reasoning, cost_nusd, n, unpriced, assumed, estimated, credits_u';

const SELECT_TOTALS = `
  SELECT session_ref, min(first_ts), max(last_ts), sum(input), sum(output), sum(cache_read), sum(cache_write), sum(reasoning),
         sum(cost_nusd), sum(n), sum(unpriced), sum(assumed), sum(estimated), sum(credits_u)
  FROM usage_rollup`;

/**
 * Schema 7's migration: the table and its indexes. The open that migrates regroups the rollup (the migration marks it
 * stale), which fills the totals once the ledger is at today's schema (with the per-source triggers of schema 11).
 */
export function addSessionTotals(db: Database): void {
  db.exec(SESSION_TOTALS_DDL);
  db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('rollup_stale', '1')");
}

/**
 * Recomputes the totals of the given sessions (or all) from the rollup; a session left without usage loses its row.
 * A session's row is updated in place (never deleted and inserted again), so the per-source triggers (schema 11) add
 * the difference and only a session whose span shrank makes its source's first or last record be looked up again.
 */
export function rebuildSessionTotals(db: Database, sessions: readonly number[] | 'all'): void {
  if (sessions === 'all') {
    // Every row again: the triggers are set aside and the per-source totals recomputed once from the result.
    db.exec(DROP_SOURCE_TRIGGERS);
    db.exec('DELETE FROM session_totals');
    db.exec(`INSERT INTO session_totals (${TOTALS_COLUMNS}) ${SELECT_TOTALS} GROUP BY session_ref`);
    rebuildSourceTotals(db);
    db.exec(SOURCE_TRIGGERS);
    return;
  }
  for (let i = 0; i < sessions.length; i += 500) {
    const chunk = sessions
      .slice(i, i + 500)
      .map(Number)
      .join(',');
    db.exec(
      `DELETE FROM session_totals WHERE session_ref IN (${chunk}) AND session_ref NOT IN (SELECT session_ref FROM usage_rollup WHERE session_ref IN (${chunk}))`,
    );
    db.exec(
      `INSERT INTO session_totals (${TOTALS_COLUMNS}) ${SELECT_TOTALS} WHERE session_ref IN (${chunk}) GROUP BY session_ref
       ON CONFLICT (session_ref) DO UPDATE SET first_ts = excluded.first_ts, last_ts = excluded.last_ts,
         input = excluded.input, output = excluded.output, cache_read = excluded.cache_read,
         cache_write = excluded.cache_write, reasoning = excluded.reasoning, cost_nusd = excluded.cost_nusd,
         n = excluded.n, unpriced = excluded.unpriced, assumed = excluded.assumed, estimated = excluded.estimated,
         credits_u = excluded.credits_u`,
    );
  }
  settleSourceBounds(db);
}

/**
 * Per-source aggregates (schema 11, docs/ledger.md): for each source its sessions, first and last record, requests,
 * assumed-model requests, estimated tokens and credits (from `session_totals`), and its log files and their rejected
 * lines (from `files`). Triggers keep them: every write that changes a session's totals or a file's cursor adds the
 * difference in the same statement, so journal replay (which re-executes the statements) keeps them too. Data health
 * and the sidebar read one row per source instead of grouping every session and file ever recorded.
 *
 * Sums are kept exactly by difference. The first and last record only move outwards by difference; when a session's
 * span shrinks or it is removed and it held its source's first or last record, the source is marked
 * (`bounds_stale`) and the write that did it looks them up again before it ends (settleSourceBounds), so readers
 * never see a stale bound.
 */
export const SOURCE_TOTALS_DDL = `
CREATE TABLE IF NOT EXISTS source_totals (
  source TEXT PRIMARY KEY,
  sessions INTEGER NOT NULL DEFAULT 0,
  first_ts INTEGER,
  last_ts INTEGER,
  n INTEGER NOT NULL DEFAULT 0,
  assumed INTEGER NOT NULL DEFAULT 0,
  estimated INTEGER NOT NULL DEFAULT 0,
  credits_u INTEGER NOT NULL DEFAULT 0,
  files INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  bounds_stale INTEGER NOT NULL DEFAULT 0
);`;

/**
 * The source of a session's totals row. A session's row in `sessions` outlives its totals: a session is removed only
 * after its usage is regrouped away (services/manual.ts), so the source is always there to look up.
 */
const SRC = (row: 'NEW' | 'OLD'): string => `(SELECT source FROM sessions WHERE id = ${row}.session_ref)`;

const ADD_SESSION = (row: 'NEW' | 'OLD', sign: '+' | '-'): string => `
  UPDATE source_totals SET sessions = sessions ${sign} 1, n = n ${sign} ${row}.n, assumed = assumed ${sign} ${row}.assumed,
    estimated = estimated ${sign} ${row}.estimated, credits_u = credits_u ${sign} ${row}.credits_u
  WHERE source = ${SRC(row)};`;

const WIDEN = `
  UPDATE source_totals SET first_ts = min(coalesce(first_ts, NEW.first_ts), NEW.first_ts),
    last_ts = max(coalesce(last_ts, NEW.last_ts), NEW.last_ts)
  WHERE source = ${SRC('NEW')};`;

/** A row leaving (or a span shrinking) that held its source's first or last record. */
const MARK_IF_BOUND = `
  UPDATE source_totals SET bounds_stale = 1
  WHERE source = ${SRC('OLD')} AND (OLD.first_ts <= first_ts OR OLD.last_ts >= last_ts);`;

const ADD_FILE = (row: 'NEW' | 'OLD', sign: '+' | '-'): string => `
  UPDATE source_totals SET files = files ${sign} (${row}.status IS NULL),
    rejected = rejected ${sign} CASE WHEN ${row}.status IS NULL THEN ${row}.rejected ELSE 0 END
  WHERE source = ${row}.source;`;

/**
 * The source's row, created on its first session or file. Not INSERT OR IGNORE: inside a trigger the outer statement's
 * conflict handling would override the IGNORE (a cursor's upsert would fail on the second file of a source).
 */
const ENSURE_SOURCE = (source: string): string => `
  INSERT INTO source_totals (source) SELECT s FROM (SELECT ${source} AS s)
  WHERE s IS NOT NULL AND NOT EXISTS (SELECT 1 FROM source_totals WHERE source = s);`;

const SOURCE_TRIGGERS = `
CREATE TRIGGER IF NOT EXISTS source_totals_session_in AFTER INSERT ON session_totals BEGIN
  ${ENSURE_SOURCE(SRC('NEW'))}
  ${ADD_SESSION('NEW', '+')}
  ${WIDEN}
END;
CREATE TRIGGER IF NOT EXISTS source_totals_session_out AFTER DELETE ON session_totals BEGIN
  ${ADD_SESSION('OLD', '-')}
  ${MARK_IF_BOUND}
END;
CREATE TRIGGER IF NOT EXISTS source_totals_session_change AFTER UPDATE ON session_totals BEGIN
  ${ADD_SESSION('OLD', '-')}
  UPDATE source_totals SET bounds_stale = 1
  WHERE source = ${SRC('OLD')} AND ((OLD.first_ts <= first_ts AND NEW.first_ts > OLD.first_ts)
    OR (OLD.last_ts >= last_ts AND NEW.last_ts < OLD.last_ts));
  ${ADD_SESSION('NEW', '+')}
  ${WIDEN}
END;
CREATE TRIGGER IF NOT EXISTS source_totals_file_in AFTER INSERT ON files BEGIN
  ${ENSURE_SOURCE('NEW.source')}
  ${ADD_FILE('NEW', '+')}
END;
CREATE TRIGGER IF NOT EXISTS source_totals_file_out AFTER DELETE ON files BEGIN
  ${ADD_FILE('OLD', '-')}
END;
CREATE TRIGGER IF NOT EXISTS source_totals_file_change AFTER UPDATE ON files BEGIN
  ${ADD_FILE('OLD', '-')}
  ${ENSURE_SOURCE('NEW.source')}
  ${ADD_FILE('NEW', '+')}
END;`;

const DROP_SOURCE_TRIGGERS = ['session_in', 'session_out', 'session_change', 'file_in', 'file_out', 'file_change']
  .map((t) => `DROP TRIGGER IF EXISTS source_totals_${t};`)
  .join('\n');

const SOURCE_SPANS = `
  SELECT s.source, count(*), min(t.first_ts), max(t.last_ts), sum(t.n), sum(t.assumed), sum(t.estimated), sum(t.credits_u)
  FROM session_totals t JOIN sessions s ON s.id = t.session_ref GROUP BY s.source`;

/** Every source's totals from the tables (the migration, a full regroup, and the tests' reference). */
export function rebuildSourceTotals(db: Database): void {
  db.exec('DELETE FROM source_totals');
  db.exec(
    `INSERT INTO source_totals (source, sessions, first_ts, last_ts, n, assumed, estimated, credits_u) ${SOURCE_SPANS}`,
  );
  db.exec(`INSERT OR IGNORE INTO source_totals (source) SELECT DISTINCT source FROM files`);
  db.exec(`
    UPDATE source_totals SET
      files = (SELECT count(*) FROM files f WHERE f.source = source_totals.source AND f.status IS NULL),
      rejected = coalesce((SELECT sum(rejected) FROM files f WHERE f.source = source_totals.source AND f.status IS NULL), 0)`);
}

/** Looks up again the first and last record of the sources a shrinking or removed session marked. */
export function settleSourceBounds(db: Database): void {
  db.exec(`
    UPDATE source_totals SET
      first_ts = (SELECT min(t.first_ts) FROM session_totals t JOIN sessions s ON s.id = t.session_ref
                  WHERE s.source = source_totals.source),
      last_ts = (SELECT max(t.last_ts) FROM session_totals t JOIN sessions s ON s.id = t.session_ref
                 WHERE s.source = source_totals.source),
      bounds_stale = 0
    WHERE bounds_stale != 0`);
}

/**
 * Repositories and their session counts (schema 11), kept by triggers on `sessions`: the sidebar's repository filter and
 * data health read a row per repository instead of grouping every session.
 */
const REPO_TOTALS_DDL = `
CREATE TABLE IF NOT EXISTS repo_totals (repo TEXT PRIMARY KEY, sessions INTEGER NOT NULL DEFAULT 0);
CREATE TRIGGER IF NOT EXISTS repo_totals_in AFTER INSERT ON sessions WHEN NEW.repo IS NOT NULL BEGIN
  INSERT INTO repo_totals (repo) SELECT NEW.repo WHERE NOT EXISTS (SELECT 1 FROM repo_totals WHERE repo = NEW.repo);
  UPDATE repo_totals SET sessions = sessions + 1 WHERE repo = NEW.repo;
END;
CREATE TRIGGER IF NOT EXISTS repo_totals_out AFTER DELETE ON sessions WHEN OLD.repo IS NOT NULL BEGIN
  UPDATE repo_totals SET sessions = sessions - 1 WHERE repo = OLD.repo;
  DELETE FROM repo_totals WHERE repo = OLD.repo AND sessions <= 0;
END;
CREATE TRIGGER IF NOT EXISTS repo_totals_change AFTER UPDATE OF repo ON sessions WHEN NEW.repo IS NOT OLD.repo BEGIN
  UPDATE repo_totals SET sessions = sessions - 1 WHERE repo = OLD.repo;
  DELETE FROM repo_totals WHERE repo = OLD.repo AND sessions <= 0;
  INSERT INTO repo_totals (repo) SELECT NEW.repo WHERE NEW.repo IS NOT NULL AND NOT EXISTS (SELECT 1 FROM repo_totals WHERE repo = NEW.repo);
  UPDATE repo_totals SET sessions = sessions + 1 WHERE repo = NEW.repo;
END;`;

/** Every repository's session count from `sessions` (the migration, and the tests' reference). */
export function rebuildRepoTotals(db: Database): void {
  db.exec('DELETE FROM repo_totals');
  db.exec(
    'INSERT INTO repo_totals (repo, sessions) SELECT repo, count(*) FROM sessions WHERE repo IS NOT NULL GROUP BY repo',
  );
}

/**
 * Schema 11's migration: the per-source and per-repository tables filled from what the ledger holds, the triggers
 * that keep them, and an index on the sessions' working folders (the folders data health looks in).
 */
export function addSourceTotals(db: Database): void {
  db.exec('CREATE INDEX IF NOT EXISTS sessions_cwd ON sessions (cwd_ref)');
  db.exec(SOURCE_TOTALS_DDL);
  db.exec(DROP_SOURCE_TRIGGERS);
  rebuildSourceTotals(db);
  db.exec(SOURCE_TRIGGERS);
  db.exec(REPO_TOTALS_DDL);
  rebuildRepoTotals(db);
}

export interface SourceTotals {
  source: string;
  sessions: number;
  first: number | null;
  last: number | null;
  n: number;
  assumed: number;
  estimated: number;
  credits: number;
  files: number;
  rejected: number;
}

/** The per-source aggregates, one row per source that has sessions or log files. */
export function sourceTotals(db: Database): SourceTotals[] {
  return (
    db.exec(
      'SELECT source, sessions, first_ts, last_ts, n, assumed, estimated, credits_u, files, rejected FROM source_totals ORDER BY source',
    )[0]?.values ?? []
  ).map(([source, sessions, first, last, n, assumed, estimated, credits, files, rejected]) => ({
    source: String(source),
    sessions: Number(sessions),
    first: first === null ? null : Number(first),
    last: last === null ? null : Number(last),
    n: Number(n),
    assumed: Number(assumed),
    estimated: Number(estimated),
    credits: Number(credits),
    files: Number(files),
    rejected: Number(rejected),
  }));
}

/** Past this many sessions a scan of the whole table is as cheap as the list: no clause (callers filter by the set). */
const MAX_LISTED = 5000;

/**
 * A `AND column IN (…)` clause over session ids (inline integers: ids are numbers from the ledger, never text); empty
 * for no set or a set so large that scanning the table costs no more.
 */
export function refsClause(column: string, refs: ReadonlySet<number> | readonly number[] | undefined): string {
  if (refs === undefined) return '';
  if (('size' in refs ? refs.size : refs.length) > MAX_LISTED) return '';
  const list = [...refs].map((r) => Math.trunc(Number(r))).filter(Number.isFinite);
  return list.length === 0 ? ' AND 0' : ` AND ${column} IN (${list.join(',')})`;
}
