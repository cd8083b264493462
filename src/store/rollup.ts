import type { Database } from 'sql.js';
import { BUCKET_MS } from '../core/usage/time';
import { rebuildSessionTotals } from './aggregates';
import { FLAG_ESTIMATED, FLAG_MODEL_ASSUMED, getMeta, setMeta } from './schema';

const STALE = 'rollup_stale';

/** A checkpoint of a big import saved interactions whose sums are not regrouped yet. */
export function markRollupStale(db: Database): void {
  setMeta(db, STALE, '1');
}

export function isRollupStale(db: Database): boolean {
  return getMeta(db, STALE) === '1';
}

/** Anyone loading a ledger saved mid-import (then killed) regroups it before reading sums. */
export function ensureRollupFresh(db: Database): void {
  if (isRollupStale(db)) rebuildRollup(db, 'all');
}

const SELECT_GROUPED = `
  SELECT session_ref, model_ref, ts / ${BUCKET_MS}, min(ts), max(ts), sum(input), sum(output), sum(cache_read),
         sum(cache_write), sum(reasoning), sum(coalesce(cost_nusd, 0)), count(*), count(*) - count(cost_nusd),
         sum((flags & ${FLAG_MODEL_ASSUMED}) != 0),
         sum(CASE WHEN (flags & ${FLAG_ESTIMATED}) != 0 THEN input + output + cache_read + cache_write ELSE 0 END),
         sum(credits_u), sum(coalesce(recorded_cost_nusd, 0)), count(recorded_cost_nusd)
  FROM interactions`;

/**
 * Recomputes the per-session/model/bucket sums for the given sessions (or all), and the per-session totals derived
 * from them (store/aggregates.ts). Called inside the write that changed the interactions, so readers always see sums
 * that match the rows.
 */
export function rebuildRollup(db: Database, sessions: ReadonlySet<number> | 'all'): void {
  if (sessions === 'all') {
    // Archived sessions (store/archive.ts) keep their rows: their requests are not in the ledger to regroup from.
    const archive = db.exec("SELECT 1 FROM sqlite_master WHERE type='table' AND name='archived_sessions'").length > 0;
    db.exec(
      archive
        ? 'DELETE FROM usage_rollup WHERE session_ref NOT IN (SELECT session_ref FROM archived_sessions)'
        : 'DELETE FROM usage_rollup',
    );
    db.exec(`INSERT INTO usage_rollup ${SELECT_GROUPED} GROUP BY session_ref, model_ref, ts / ${BUCKET_MS}`);
    rebuildSessionTotals(db, 'all');
    if (isRollupStale(db)) setMeta(db, STALE, '0');
    return;
  }
  if (sessions.size === 0) return;
  const ids = [...sessions];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids
      .slice(i, i + 500)
      .map(Number)
      .join(',');
    db.exec(`DELETE FROM usage_rollup WHERE session_ref IN (${chunk})`);
    db.exec(
      `INSERT INTO usage_rollup ${SELECT_GROUPED} WHERE session_ref IN (${chunk}) GROUP BY session_ref, model_ref, ts / ${BUCKET_MS}`,
    );
  }
  rebuildSessionTotals(db, ids.map(Number));
}
