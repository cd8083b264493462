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

const SELECT_TOTALS = `
  SELECT session_ref, min(first_ts), max(last_ts), sum(input), sum(output), sum(cache_read), sum(cache_write), sum(reasoning),
         sum(cost_nusd), sum(n), sum(unpriced), sum(assumed), sum(estimated), sum(credits_u)
  FROM usage_rollup`;

/** Schema 7's migration: the table, its index, and the totals of every session already in the ledger. */
export function addSessionTotals(db: Database): void {
  db.exec(SESSION_TOTALS_DDL);
  rebuildSessionTotals(db, 'all');
}

/** Recomputes the totals of the given sessions (or all) from the rollup; a session left without usage loses its row. */
export function rebuildSessionTotals(db: Database, sessions: readonly number[] | 'all'): void {
  if (sessions === 'all') {
    db.exec('DELETE FROM session_totals');
    db.exec(`INSERT INTO session_totals ${SELECT_TOTALS} GROUP BY session_ref`);
    return;
  }
  for (let i = 0; i < sessions.length; i += 500) {
    const chunk = sessions
      .slice(i, i + 500)
      .map(Number)
      .join(',');
    db.exec(`DELETE FROM session_totals WHERE session_ref IN (${chunk})`);
    db.exec(`INSERT INTO session_totals ${SELECT_TOTALS} WHERE session_ref IN (${chunk}) GROUP BY session_ref`);
  }
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
