import { execFile } from 'node:child_process';

/** The git executable was not found: linking and the meter's "since last commit" need it. */
export class GitMissingError extends Error {
  constructor() {
    super('git was not found on PATH; install git to see figures since the last commit');
  }
}

/**
 * Runs git without a shell, with bounded output and a timeout. Resolves stdout; rejects with GitMissingError when git
 * is not installed, or with git's own message.
 */
export function git(args: string[], cwd: string, options: { maxBuffer?: number; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      { cwd, maxBuffer: options.maxBuffer ?? 1 << 20, timeout: options.timeoutMs ?? 10_000, env: { ...process.env, LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' }, windowsHide: true },
      (error, stdout, stderr) => {
        if (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') reject(new GitMissingError());
          else reject(new Error(String(stderr).trim() || error.message));
          return;
        }
        resolve(String(stdout));
      },
    );
  });
}

/** Commit time of HEAD (epoch ms), or null for a repository without commits. */
export async function headCommitTime(repo: string): Promise<number | null> {
  try {
    const out = (await git(['log', '-1', '--format=%ct', 'HEAD'], repo)).trim();
    return out ? Number(out) * 1000 : null;
  } catch (e) {
    if (e instanceof GitMissingError) throw e;
    return null; // no commits yet, or not a repository any more
  }
}

/** The repository's git dir (for watching HEAD and refs: a worktree's differs from the main one). */
export async function gitDir(repo: string): Promise<string | null> {
  try {
    return (await git(['rev-parse', '--absolute-git-dir'], repo)).trim() || null;
  } catch (e) {
    if (e instanceof GitMissingError) throw e;
    return null;
  }
}
