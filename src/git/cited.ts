/**
 * Looking up the commits a summary cites in a repository a reviewer names (`verify --repo`). The repository is
 * untrusted: only reads (cat-file, log, rev-list, symbolic-ref), through the one runner (run.ts), bounded and timed.
 */
import { existingCommits, readLog } from './log';
import { GitError, gitText } from './run';
import type { RawCommit } from '../core/outcomes/commits';

export interface DefaultBranch {
  /** What to give git (a full ref name, or HEAD). */
  ref: string;
  /** How a person reads which branch it was and how it was chosen, e.g. `origin/main (origin/HEAD)`. */
  name: string;
}

/** Whether a ref exists and names a commit. */
async function hasCommit(repo: string, ref: string): Promise<boolean> {
  try {
    await gitText(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], repo, {
      timeoutMs: 30_000,
      maxBytes: 4096,
    });
    return true;
  } catch (e) {
    if (e instanceof GitError) return false;
    throw e;
  }
}

/** The repository's default branch: origin/HEAD, else main, else master, else HEAD (undefined: no commit at all). */
export async function defaultBranch(repo: string): Promise<DefaultBranch | undefined> {
  try {
    const target = (
      await gitText(['symbolic-ref', '--quiet', 'refs/remotes/origin/HEAD'], repo, {
        timeoutMs: 30_000,
        maxBytes: 4096,
      })
    ).trim();
    if (/^refs\/remotes\/[^\s]+$/.test(target) && (await hasCommit(repo, target)))
      return { ref: target, name: `${target.slice('refs/remotes/'.length)} (origin/HEAD)` };
  } catch (e) {
    if (!(e instanceof GitError)) throw e;
  }
  for (const b of ['main', 'master'])
    if (await hasCommit(repo, `refs/heads/${b}`)) return { ref: `refs/heads/${b}`, name: `${b} (no origin/HEAD)` };
  if (await hasCommit(repo, 'HEAD')) return { ref: 'HEAD', name: 'HEAD (no origin/HEAD, main or master)' };
  return undefined;
}

/** Checks that `repo` is a git repository git will read (not one of another user's it refuses), naming why not. */
export async function repositoryProblem(repo: string): Promise<string | undefined> {
  try {
    await gitText(['rev-parse', '--git-dir'], repo, { timeoutMs: 30_000, maxBytes: 4096 });
    return undefined;
  } catch (e) {
    if (e instanceof GitError) return e.message.replace(/^fatal: /, '');
    throw e;
  }
}

/** The commits of `shas` present in `repo`, with their author, time, subject and changed files (as the linker reads them). */
export async function citedCommits(repo: string, shas: readonly string[]): Promise<Map<string, RawCommit>> {
  const present = await existingCommits(repo, shas);
  const out = new Map<string, RawCommit>();
  if (present.size === 0) return out;
  for (const c of await readLog(repo, { include: [...present], noWalk: true }, 256 << 20)) out.set(c.sha, c);
  return out;
}

/** Of `shas` (present in `repo`), those not reachable from `ref`: one `git rev-list ^ref sha…`. */
export async function notReachable(repo: string, shas: readonly string[], ref: string): Promise<Set<string>> {
  if (shas.length === 0) return new Set();
  const out = await gitText(['rev-list', '--stdin'], repo, {
    input: `${shas.join('\n')}\n^${ref}\n`,
    timeoutMs: 300_000,
    maxBytes: 256 << 20,
  });
  const unreachable = new Set(out.split('\n').filter(Boolean));
  return new Set(shas.filter((s) => unreachable.has(s)));
}
