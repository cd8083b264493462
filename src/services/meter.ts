import type { Database } from 'sql.js';
import { fromNanoUSD } from '../core/usage/pricing';
import { accuracyOf, roundUSD, type TokenAccuracy } from '../core/outcomes/report';
import { FLAG_ESTIMATED } from '../store/schema';
import { archiveReaches, requestsOfPeriod } from '../store/archive';

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
  // Since a time older than the archive horizon: the archive files of that time are read too (store/archive.ts).
  const period = archiveReaches(db, sinceMs + 1)
    ? requestsOfPeriod(db, sinceMs + 1, Number.MAX_SAFE_INTEGER)
    : undefined;
  let r: ReturnType<Database['exec']>;
  try {
    r = db.exec(
      `SELECT coalesce(sum(input + output + cache_read + cache_write), 0), coalesce(sum(cost_nusd), 0), count(*), count(DISTINCT session_ref),
            coalesce(sum(CASE WHEN (flags & ${FLAG_ESTIMATED}) != 0 THEN input + output + cache_read + cache_write ELSE 0 END), 0)
     FROM ${period?.table ?? 'interactions'} WHERE session_ref IN (SELECT id FROM sessions WHERE repo = ?) AND ts > ?`,
      [repo, sinceMs],
    );
  } finally {
    period?.drop();
  }
  const v = r[0]?.values[0] ?? [0, 0, 0, 0, 0];
  return {
    total: Number(v[0]),
    costUSD: roundUSD(fromNanoUSD(Number(v[1]))),
    interactions: Number(v[2]),
    sessions: Number(v[3]),
    tokenAccuracy: accuracyOf(Number(v[0]), Number(v[4])),
  };
}
