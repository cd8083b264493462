/**
 * What the sidebar's actions look up about one session or repository (the extension runs no SQL of its own):
 * the commits a session could be relinked to, its log file, and whether the ledger knows a repository.
 */
import type { Database } from 'sql.js';
import { loadRepoPaths } from '../store/outcomes';
import { linksOf, resolveSession, type LinkJson } from './queries';

const DAY_MS = 86_400_000;

export interface RelinkCandidate {
  sha: string;
  subject: string;
  /** Author time, epoch ms. */
  at: number;
  /** The session's link to it, when there is one. */
  link?: LinkJson;
}

export interface RelinkChoice {
  /** The session's repository root, or null. */
  repo: string | null;
  /** Its automatic link, which a relink to another commit rejects. */
  previous?: LinkJson;
  /** Commits of its repository from a day before the session to a week after it, newest first (at most 100). */
  candidates: RelinkCandidate[];
}

export function relinkChoice(db: Database, sessionId: string): RelinkChoice {
  const s = resolveSession(db, sessionId);
  const row = db.exec('SELECT s.repo, min(u.first_ts), max(u.last_ts) FROM sessions s LEFT JOIN usage_rollup u ON u.session_ref = s.id WHERE s.id = ? GROUP BY s.id', [s.ref])[0]?.values[0];
  const repo = row?.[0] === null || row?.[0] === undefined ? null : String(row[0]);
  const start = Number(row?.[1] ?? 0);
  const end = Number(row?.[2] ?? 0);
  const links = linksOf(db, [s.ref]).get(s.ref) ?? [];
  const previous = links.find((l) => l.state === 'auto');
  const candidates: RelinkCandidate[] = [];
  const repoRef = repo ? loadRepoPaths(db).get(repo)?.repoRef : undefined;
  if (repoRef !== undefined && repoRef !== null) {
    const rows = db.exec(
      'SELECT sha, subject, author_ts FROM commits WHERE repo_ref = ? AND author_ts >= ? AND author_ts <= ? ORDER BY author_ts DESC LIMIT 100',
      [repoRef, start - DAY_MS, end + 7 * DAY_MS],
    )[0]?.values ?? [];
    for (const [sha, subject, at] of rows) {
      const link = links.find((x) => x.commit === String(sha));
      candidates.push({ sha: String(sha), subject: String(subject), at: Number(at), ...(link ? { link } : {}) });
    }
  }
  return { repo, ...(previous ? { previous } : {}), candidates };
}

/** The log file a session was read from, or null when the ledger has none on record. */
export function sessionLogPath(db: Database, sessionId: string): string | null {
  const s = resolveSession(db, sessionId);
  const p = db.exec('SELECT log_path FROM sessions WHERE id = ?', [s.ref])[0]?.values[0]?.[0];
  return p === null || p === undefined ? null : String(p);
}

/** Whether the ledger knows this repository (a root, or a working folder resolved to one). */
export function isKnownRepo(db: Database, repo: string): boolean {
  const rows = db.exec("SELECT 1 FROM repos WHERE root = ?1 UNION SELECT 1 FROM repo_paths WHERE path = ?1 AND state = 'ok' LIMIT 1", [repo])[0]?.values.length ?? 0;
  return rows > 0;
}
