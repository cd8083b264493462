import { GitError, GitMissingError, gitText } from './run';

/** Commit time of HEAD (epoch ms), or null for a repository without commits. Through the hardened runner. */
export async function headCommitTime(repo: string): Promise<number | null> {
  try {
    const out = (
      await gitText(['log', '-1', '--format=%ct', 'HEAD'], repo, { maxBytes: 1 << 10, timeoutMs: 10_000 })
    ).trim();
    return out ? Number(out) * 1000 : null;
  } catch (e) {
    if (e instanceof GitMissingError) throw e;
    return null; // no commits yet, or not a repository any more
  }
}

/** The repository's git dir (for watching HEAD and refs: a worktree's differs from the main one). */
export async function gitDir(repo: string): Promise<string | null> {
  try {
    return (
      (await gitText(['rev-parse', '--absolute-git-dir'], repo, { maxBytes: 64 << 10, timeoutMs: 10_000 })).trim() ||
      null
    );
  } catch (e) {
    if (e instanceof GitMissingError || !(e instanceof GitError)) throw e;
    return null;
  }
}

/**
 * A commit as `git show` text (stat and patch) for the commit view's fallback: hardened like every call (no textconv,
 * no external diff, no filters, no signature check), bounded to `maxBytes`.
 */
export async function showCommit(repo: string, sha: string, maxBytes = 4 << 20): Promise<string> {
  if (!/^[0-9a-f]{4,64}$/i.test(sha)) throw new GitError(`not a commit id: ${sha}`, null);
  return gitText(['show', '--stat', '--patch', '--format=fuller', sha, '--'], repo, { maxBytes, timeoutMs: 30_000 });
}
