import type { Database } from 'sql.js';
import { fromNanoUSD } from '../core/usage/pricing';
import { accuracyOf, roundUSD, type TokenAccuracy } from '../core/outcomes/report';
import { FLAG_ESTIMATED } from '../store/schema';

export interface UsageSince {
  total: number;
  costUSD: number;
  interactions: number;
  sessions: number;
  /** Whether `total` is exact, estimated or mixed (estimated: counted from text or rounded by the tool). */
  tokenAccuracy: TokenAccuracy;
}

/**
 * Tokens and estimated cost of the sessions that worked in `repo` since an instant (the status-bar meter: "what the
 * current work has cost since the last commit"). Walks the (session, ts) index of the repo's sessions only.
 */
export function usageSince(db: Database, repo: string, sinceMs: number): UsageSince {
  const r = db.exec(
    `SELECT coalesce(sum(input + output + cache_read + cache_write), 0), coalesce(sum(cost_nusd), 0), count(*), count(DISTINCT session_ref),
            coalesce(sum(CASE WHEN (flags & ${FLAG_ESTIMATED}) != 0 THEN input + output + cache_read + cache_write ELSE 0 END), 0)
     FROM interactions WHERE session_ref IN (SELECT id FROM sessions WHERE repo = ?) AND ts > ?`,
    [repo, sinceMs],
  );
  const v = r[0]?.values[0] ?? [0, 0, 0, 0, 0];
  return {
    total: Number(v[0]),
    costUSD: roundUSD(fromNanoUSD(Number(v[1]))),
    interactions: Number(v[2]),
    sessions: Number(v[3]),
    tokenAccuracy: accuracyOf(Number(v[0]), Number(v[4])),
  };
}
