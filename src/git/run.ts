import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { GitMissingError } from './head';

export { GitMissingError } from './head';

/** git ran but failed (not a repository, a bad revision, output over the bound, a timeout). */
export class GitError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
  ) {
    super(message);
  }
}

export interface RunOptions {
  /** Written to git's stdin (revisions for `--stdin`, a patch for `patch-id`). */
  input?: string | Buffer;
  /** Output bound in bytes: past it git is stopped and the call fails (never an unbounded buffer). */
  maxBytes?: number;
  timeoutMs?: number;
}

/**
 * Runs git without a shell (spawn with an argument list), with C locale messages, no optional locks (a read must
 * never block the engineer's own git), a bounded output and a timeout. Resolves stdout as a Buffer.
 */
export function runGit(args: readonly string[], cwd: string, options: RunOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? 64 << 20;
  return new Promise((resolve, reject) => {
    // spawn reports a missing cwd as ENOENT too: tell it apart from a missing git.
    if (!fs.existsSync(cwd)) {
      reject(new GitError(`no such directory: ${cwd}`, null));
      return;
    }
    let child;
    try {
      child = spawn('git', ['-c', 'core.quotepath=off', ...args], {
        cwd,
        env: { ...process.env, LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0', GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat' },
        stdio: ['pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (e) {
      reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new GitMissingError() : e);
      return;
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    let stderr = '';
    let failed: Error | undefined;
    const timer = setTimeout(() => {
      failed = new GitError(`git ${args[0] ?? ''} timed out after ${options.timeoutMs ?? 60_000} ms`, null);
      child.kill();
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes > maxBytes) {
        if (!failed) failed = new GitError(`git ${args[0] ?? ''} wrote more than ${maxBytes} bytes`, null);
        child.kill();
        return;
      }
      chunks.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' ? new GitMissingError() : e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failed) reject(failed);
      else if (code !== 0) reject(new GitError(stderr.trim().split('\n')[0] || `git ${args[0] ?? ''} exited with ${code}`, code));
      else resolve(Buffer.concat(chunks));
    });
    child.stdin.on('error', () => undefined); // git may exit before reading all of its input
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export async function gitText(args: readonly string[], cwd: string, options: RunOptions = {}): Promise<string> {
  return (await runGit(args, cwd, options)).toString('utf8');
}
