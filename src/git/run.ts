/**
 * THE ONE DOOR TO GIT. Every git process Outcome Ledger starts (CLI, extension, services, demo) is started here;
 * the lint rule in eslint.config.mjs forbids `child_process` anywhere else in src.
 *
 * The rule: repositories are untrusted input. A repository's `.git/config`, its `.gitattributes`, its hooks and the
 * user's own git configuration must never make us run a program or change the output we parse. So every call:
 *  - runs without a shell, with a fixed environment built from scratch (no GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE,
 *    GIT_CONFIG_*, GIT_EXTERNAL_DIFF, GIT_SSH*, GIT_ASKPASS... can leak in), system config off (GIT_CONFIG_NOSYSTEM),
 *    no terminal prompts, no optional locks, no lazy fetch, no replace refs, no protocol at all (GIT_ALLOW_PROTOCOL);
 *  - overrides with `-c` (command-line config beats repository and user config) every key that can start a program
 *    or alter output: HARDENING below;
 *  - only runs the read-only subcommands in READS, each with the flags that keep it reading history alone
 *    (`--no-textconv`, `--no-ext-diff`, `--no-show-signature`, ...): textconv is what would run `filter.<x>.*`
 *    (clean, smudge, process) and `diff.<x>.textconv` from `* diff=x filter=x` in a `.gitattributes`;
 *  - prefers plumbing and explicit formats (`%H`, `--numstat`, `--incremental`) that no configuration alters.
 * Adding a git call? Use runGit/gitText; add the subcommand to READS with its neutralising flags, and extend
 * test/integration/hostileRepo.test.ts so the armed repository proves the new call runs nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

/** The git executable was not found: linking and the meter's "since last commit" need it. */
export class GitMissingError extends Error {
  constructor() {
    super('git was not found on PATH; install git to see figures since the last commit');
  }
}

/** git ran but failed (not a repository, a bad revision, output over the bound, a timeout). */
export class GitError extends Error {
  constructor(
    message: string,
    readonly code: number | null,
  ) {
    super(message);
  }
}

/** A path no program can be run from: what every "program to run" key is pointed at. */
const NO_PROGRAM = os.devNull;

/**
 * `-c` overrides on every call. Keys that name a program are pointed at nothing; keys that change what git prints
 * are pinned to git's defaults. (Per-driver keys such as `filter.<x>.process` cannot be listed in advance: the
 * flags in READS keep git from ever consulting them.)
 */
const HARDENING: readonly string[] = [
  // programs
  'core.fsmonitor=false',
  `core.hooksPath=${NO_PROGRAM}`,
  'diff.external=',
  'core.pager=cat',
  'core.askPass=',
  `core.sshCommand=${NO_PROGRAM}`,
  'credential.helper=',
  'core.alternateRefsCommand=',
  'uploadpack.packObjectsHook=',
  `gpg.program=${NO_PROGRAM}`,
  `gpg.openpgp.program=${NO_PROGRAM}`,
  `gpg.x509.program=${NO_PROGRAM}`,
  `gpg.ssh.program=${NO_PROGRAM}`,
  'gpg.ssh.allowedSignersFile=',
  'log.showSignature=false',
  'gc.auto=0',
  'gc.autoDetach=false',
  'maintenance.auto=false',
  'protocol.allow=never',
  'protocol.ext.allow=never',
  'protocol.file.allow=never',
  'protocol.ssh.allow=never',
  'protocol.git.allow=never',
  'protocol.http.allow=never',
  'protocol.https.allow=never',
  'fetch.recurseSubmodules=false',
  'submodule.recurse=false',
  'core.untrackedCache=false',
  // output
  'core.quotepath=off',
  'color.ui=never',
  'i18n.logOutputEncoding=UTF-8',
  'log.decorate=false',
  'log.mailmap=false',
  'log.follow=false',
  'log.showRoot=true',
  'diff.noprefix=false',
  'diff.mnemonicPrefix=false',
  'diff.relative=false',
  'diff.renames=false',
  `diff.orderFile=${os.devNull}`,
  'diff.ignoreSubmodules=all',
  'blame.markUnblamableLines=false',
  'blame.markIgnoredLines=false',
  'blame.coloring=none',
];

/**
 * The subcommands we run (all read-only) and the flags forced on each, right after the subcommand. A subcommand
 * missing here is refused: adding one is a decision (see the rule at the top of this file).
 */
const READS: Readonly<Record<string, readonly string[]>> = {
  'rev-parse': [],
  var: [],
  'for-each-ref': [],
  'cat-file': [],
  'patch-id': [],
  // verify --repo: which cited commits the default branch reaches (revisions on stdin) and where origin/HEAD points.
  'rev-list': [],
  'symbolic-ref': [],
  // Reads only: callers issue `config --get NAME` (user.email, gpg.format, user.signingkey), never a write.
  config: [],
  log: ['--no-textconv', '--no-ext-diff', '--no-show-signature', '--no-color', '--no-mailmap'],
  show: ['--no-textconv', '--no-ext-diff', '--no-show-signature', '--no-color', '--no-mailmap'],
  diff: ['--no-textconv', '--no-ext-diff', '--no-color'],
  blame: ['--no-textconv'],
};

/** Variables passed through from our own environment: where git is, whose config (HOME, or the user's own GIT_CONFIG_GLOBAL: the -c overrides beat it as they beat ~/.gitconfig), and nothing that steers git. */
const PASSED_ENV = [
  'PATH',
  'HOME',
  'GIT_CONFIG_GLOBAL',
  'USERPROFILE',
  'HOMEDRIVE',
  'HOMEPATH',
  'XDG_CONFIG_HOME',
  'SYSTEMROOT',
  'WINDIR',
  'TMPDIR',
  'TEMP',
  'TMP',
  'EMAIL',
  'GIT_AUTHOR_NAME',
  'GIT_AUTHOR_EMAIL',
  'GIT_COMMITTER_NAME',
  'GIT_COMMITTER_EMAIL',
];

/** The fixed environment every git call gets (from `from`, only the PASSED_ENV names). */
function gitEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_ENV) {
    const v = from[name];
    if (v !== undefined) env[name] = v;
  }
  return {
    ...env,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_ASKPASS: NO_PROGRAM,
    SSH_ASKPASS: NO_PROGRAM,
    GIT_SSH_COMMAND: NO_PROGRAM,
    GIT_EDITOR: NO_PROGRAM,
    GIT_ALLOW_PROTOCOL: 'none',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_NO_LAZY_FETCH: '1',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_ATTR_NOSYSTEM: '1',
  };
}

/** The full argument list for a read: global overrides, the subcommand, its forced flags, then the caller's. */
function hardenedArgs(args: readonly string[]): string[] {
  const [sub = '', ...rest] = args;
  const forced = READS[sub];
  if (forced === undefined)
    throw new GitError(`git ${sub} is not one of the read-only commands Outcome Ledger runs`, null);
  return ['--no-pager', ...HARDENING.flatMap((c) => ['-c', c]), sub, ...forced, ...rest];
}

export interface RunOptions {
  /** Written to git's stdin (revisions for `--stdin`, a patch for `patch-id`). */
  input?: string | Buffer;
  /** Output bound in bytes: past it git is stopped and the call fails (never an unbounded buffer). */
  maxBytes?: number;
  timeoutMs?: number;
}

/**
 * Runs a read-only git subcommand hardened as described at the top of this file, without a shell, with a bounded
 * output and a timeout. Resolves stdout as a Buffer.
 */
export function runGit(args: readonly string[], cwd: string, options: RunOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? 64 << 20;
  return new Promise((resolve, reject) => {
    let argv: string[];
    try {
      argv = hardenedArgs(args);
    } catch (e) {
      reject(e);
      return;
    }
    // spawn reports a missing cwd as ENOENT too: tell it apart from a missing git.
    if (!fs.existsSync(cwd)) {
      reject(new GitError(`no such directory: ${cwd}`, null));
      return;
    }
    let child;
    try {
      child = spawn('git', argv, { cwd, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
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
      else if (code !== 0)
        reject(new GitError(stderr.trim().split('\n')[0] || `git ${args[0] ?? ''} exited with ${code}`, code));
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

/**
 * Writes to a repository this program created itself (the demo world): any subcommand, synchronously, with the same
 * fixed environment and overrides plus signing off (hooks, filters and signing programs never run). Never call it
 * on a repository a user or a log pointed at: those are read with runGit only.
 */
export function gitOwnRepoSync(
  args: readonly string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
  input?: string,
): string {
  const argv = [
    '--no-pager',
    ...HARDENING.flatMap((c) => ['-c', c]),
    '-c',
    'commit.gpgsign=false',
    '-c',
    'tag.gpgSign=false',
    '-c',
    'init.defaultBranch=main',
    ...args,
  ];
  const r = spawnSync('git', argv, {
    cwd,
    env: { ...gitEnv(), ...extraEnv },
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  if (r.error) throw (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? new GitMissingError() : r.error;
  if (r.status !== 0)
    throw new GitError(r.stderr.trim().split('\n')[0] || `git ${args[0] ?? ''} exited with ${r.status}`, r.status);
  return r.stdout.trim();
}
