/**
 * What the sidebar's actions look up about one session (relink, open its log, open a commit): the queries live here,
 * not in the extension, so the shells stay free of SQL.
 */
import type { Database } from 'sql.js';
import { loadRepoPaths } from '../store/outcomes';
import { linksOf, resolveSession, type LinkJson } from './queries';
import { sessionLogPathSql } from '../store/paths';

const DAY_MS = 86_400_000;

/** A commit a session may have produced: a candidate of "relink" (newest first). */
export interface CommitChoice {
  sha: string;
  subject: string;
  authorTs: number;
  /** The session's current link to it, when it has one. */
  link: LinkJson | undefined;
}

/**
 * "This session produced another commit": the session's repository, its current automatic link, and the commits of
 * that repository from a day before the session to a week after it (at most 100, newest first).
 */
export function relinkChoices(
  db: Database,
  sessionId: string,
  identities: readonly string[],
): { repo: string | null; previous: LinkJson | undefined; commits: CommitChoice[] } {
  const s = resolveSession(db, sessionId);
  const row = db.exec(
    'SELECT s.repo, min(u.first_ts), max(u.last_ts) FROM sessions s LEFT JOIN usage_rollup u ON u.session_ref = s.id WHERE s.id = ? GROUP BY s.id',
    [s.ref],
  )[0]?.values[0];
  const repo = row?.[0] === null || row?.[0] === undefined ? null : String(row[0]);
  const start = Number(row?.[1] ?? 0);
  const end = Number(row?.[2] ?? 0);
  const links = linksOf(db, [s.ref], undefined, identities).get(s.ref) ?? [];
  const previous = links.find((l) => l.state === 'auto');
  const commits: CommitChoice[] = [];
  const repoRef = repo ? loadRepoPaths(db).get(repo)?.repoRef : undefined;
  if (repoRef !== undefined && repoRef !== null) {
    const rows =
      db.exec(
        'SELECT sha, subject, author_ts FROM commits WHERE repo_ref = ? AND author_ts >= ? AND author_ts <= ? ORDER BY author_ts DESC LIMIT 100',
        [repoRef, start - DAY_MS, end + 7 * DAY_MS],
      )[0]?.values ?? [];
    for (const [sha, subject, at] of rows)
      commits.push({
        sha: String(sha),
        subject: String(subject),
        authorTs: Number(at),
        link: links.find((x) => x.commit === String(sha)),
      });
  }
  return { repo, previous, commits };
}

/** The log file a session was read from, or null when none is on record. */
export function sessionLogPath(db: Database, sessionId: string): string | null {
  const s = resolveSession(db, sessionId);
  const p = db.exec(`SELECT ${sessionLogPathSql()} FROM sessions s WHERE id = ?`, [s.ref])[0]?.values[0]?.[0];
  return p === null || p === undefined ? null : String(p);
}

/** Whether the ledger knows this repository root (or path): git runs only where the ledger already points. */
export function isKnownRepository(db: Database, root: string): boolean {
  return (
    (db.exec(
      "SELECT 1 FROM repos WHERE root = ?1 UNION SELECT 1 FROM repo_paths WHERE path = ?1 AND state = 'ok' LIMIT 1",
      [root],
    )[0]?.values.length ?? 0) > 0
  );
}
