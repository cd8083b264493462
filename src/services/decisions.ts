/**
 * The engineer's decisions on links: confirm, reject, or forget a decision. Decisions are stored on the pair and
 * never changed by a re-link; a confirmed or rejected commit that is later rebased or squash-merged passes its
 * decision on to the successor (services/linker.ts).
 */
import type { Database } from 'sql.js';
import { reduceCommit } from '../core/outcomes/commits';
import type { Evidence, LinkState } from '../core/outcomes/linking';
import { GitError } from '../git/run';
import { identify, readLog } from '../git/log';
import type { Ledger } from '../store/ledger';
import {
  findCommits,
  insertCommits,
  loadRepoPaths,
  saveRepoPath,
  setDecision,
  upsertRepo,
  type StoredCommit,
} from '../store/outcomes';
import { linkConfigOf } from './linker';
import { resolveSession, SessionNotFoundError } from './queries';

export class CommitNotFoundError extends Error {}

export interface Decision {
  sessionId: string;
  sha: string;
  subject: string;
  state: LinkState;
}

function sessionRepo(db: Database, ref: number): string | null {
  const v = db.exec('SELECT repo FROM sessions WHERE id = ?', [ref])[0]?.values[0]?.[0];
  return v === null || v === undefined ? null : String(v);
}

/**
 * Records a decision on (session, commit). The commit is looked up by sha or unique prefix among the commits read
 * so far; when it is not there yet (older than the history read, or a repository never linked), git is asked.
 */
export async function decide(
  ledger: Ledger,
  sessionQuery: string,
  shaQuery: string,
  state: LinkState,
): Promise<Decision> {
  if (!/^[0-9a-fA-F]{4,64}$/.test(shaQuery))
    throw new CommitNotFoundError(`"${shaQuery}" is not a commit sha (give at least 4 hex digits)`);
  // Look the session up first: a typo in its id should not cost a git call.
  const found = resolveSession(ledger.database, sessionQuery);
  const repoPath = sessionRepo(ledger.database, found.ref);
  const paths = loadRepoPaths(ledger.database);
  const repoRef = repoPath ? (paths.get(repoPath)?.repoRef ?? undefined) : undefined;
  let matches: StoredCommit[] = findCommits(ledger.database, shaQuery, repoRef ?? undefined);
  let fromGit:
    | { ident: NonNullable<Awaited<ReturnType<typeof identify>>>; commits: ReturnType<typeof reduceCommit>[] }
    | undefined;
  if (matches.length === 0 && repoPath) {
    const ident = await identify(repoPath);
    if (ident) {
      try {
        const raws = await readLog(repoPath, { include: [shaQuery], noWalk: true });
        const patterns = { patterns: linkConfigOf(ledger.database).taskPatterns };
        fromGit = { ident, commits: raws.map((r) => reduceCommit(r, patterns, ident.me)) };
      } catch (e) {
        if (!(e instanceof GitError)) throw e;
      }
    }
  }
  return ledger.write((db) => {
    const s = resolveSession(db, sessionQuery);
    if (fromGit && fromGit.commits.length > 0) {
      const id = upsertRepo(db, { commonDir: fromGit.ident.commonDir, root: fromGit.ident.root, me: fromGit.ident.me });
      insertCommits(db, id, fromGit.commits);
      if (repoPath && !loadRepoPaths(db).has(repoPath)) saveRepoPath(db, { path: repoPath, repoRef: id, state: 'ok' });
      matches = findCommits(db, fromGit.commits[0]?.sha ?? shaQuery, id);
    } else {
      matches = findCommits(db, shaQuery, repoRef ?? undefined);
    }
    if (matches.length === 0) {
      throw new CommitNotFoundError(
        `no commit ${shaQuery} in ${repoPath ?? 'the repositories read so far'} (run \`outcome-ledger link\` first, or check the sha)`,
      );
    }
    if (matches.length > 1)
      throw new CommitNotFoundError(`"${shaQuery}" matches several commits; give more of the sha`);
    const c = matches[0] as StoredCommit;
    const manual: Evidence[] = [
      { kind: 'manual', text: state === 'rejected' ? 'rejected by you' : 'confirmed by you', weight: 0 },
    ];
    setDecision(db, s.ref, c.id, state, manual);
    return { sessionId: s.id, sha: c.sha, subject: c.subject, state };
  });
}

export { SessionNotFoundError };
