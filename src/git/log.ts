/**
 * Reading a repository's history for linking: ref tips, commits with their files (numstat), patch-ids and blame.
 * Everything goes through `runGit` (the one hardened door: no shell, no repository program, bounded output).
 * Parsing is here; scoring is in core.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileStat, RawCommit } from '../core/outcomes/commits';
import type { Tip } from '../core/outcomes/history';
import { cleanText } from '../core/common/text';
import { GitError, gitText, runGit } from './run';

export interface RepoIdentity {
  /** Main working tree root (or the git dir of a bare repository): how the repository is shown. */
  root: string;
  /** The shared git dir: worktrees of one repository have the same one, so history is read once. */
  commonDir: string;
  shallow: boolean;
  /** user.email as git would use it for a commit here (lower case), or null when none is configured. */
  me: string | null;
}

/** Identifies the repository a working tree belongs to; null when `dir` is not (or no longer) in a repository. */
export async function identify(dir: string): Promise<RepoIdentity | null> {
  let out: string;
  try {
    out = await gitText(['rev-parse', '--git-common-dir', '--is-shallow-repository'], dir, { timeoutMs: 15_000 });
  } catch (e) {
    if (e instanceof GitError) return null;
    throw e;
  }
  const [common = '', shallow = 'false'] = out.trim().split('\n');
  let commonDir = path.resolve(dir, common.trim());
  try {
    commonDir = fs.realpathSync(commonDir);
  } catch {
    // keep the resolved path
  }
  const root = path.basename(commonDir) === '.git' ? path.dirname(commonDir) : commonDir;
  let me: string | null = null;
  try {
    const ident = await gitText(['var', 'GIT_AUTHOR_IDENT'], dir, { timeoutMs: 15_000 });
    const m = /<([^>]*)>/.exec(ident);
    me = m?.[1] ? m[1].toLowerCase() : null;
  } catch (e) {
    if (!(e instanceof GitError)) throw e;
  }
  return { root, commonDir, shallow: shallow.trim() === 'true', me };
}

export interface TipsRead {
  tips: Tip[];
  /** The sha HEAD of the main working tree points at (for durability), or null in an empty repository. */
  head: string | null;
  /** Branch names the remote HEAD points at (the default branch: a trunk). */
  defaultBranches: string[];
}

function readHeadFile(file: string): { sha?: string; ref?: string } {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (text.startsWith('ref: ')) return { ref: text.slice(5).trim() };
    if (/^[0-9a-f]{40,64}$/.test(text)) return { sha: text };
  } catch {
    // no such worktree any more
  }
  return {};
}

/**
 * Branch and remote-tracking tips (from the ref files, else one `git for-each-ref`), plus detached HEADs of the main
 * tree and of every worktree (read from their HEAD files). Tags are left out: they mark releases, and the commits
 * they point at are on branches.
 */
const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const TIP_PREFIXES = ['refs/heads/', 'refs/remotes/'];

/**
 * Branch and remote-tracking refs read straight from the files backend (packed-refs, then loose refs over them):
 * no process to start, so a run where nothing moved costs no git call at all. Null when the repository stores refs
 * another way (reftable) or anything looks unusual: then git is asked.
 */
function refsFromFiles(commonDir: string): Array<{ ref: string; sha?: string; symref?: string }> | null {
  try {
    if (fs.existsSync(path.join(commonDir, 'reftable'))) return null;
    const refs = new Map<string, { sha?: string; symref?: string }>();
    let packed = '';
    try {
      packed = fs.readFileSync(path.join(commonDir, 'packed-refs'), 'utf8');
    } catch {
      packed = '';
    }
    for (const line of packed.split('\n')) {
      if (!line || line.startsWith('#') || line.startsWith('^')) continue;
      const sp = line.indexOf(' ');
      const sha = line.slice(0, sp);
      const ref = line.slice(sp + 1);
      if (!SHA.test(sha)) return null;
      if (TIP_PREFIXES.some((p) => ref.startsWith(p))) refs.set(ref, { sha });
    }
    const walk = (rel: string): void => {
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(path.join(commonDir, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const child = `${rel}/${e.name}`;
        if (e.isDirectory()) walk(child);
        else if (e.isFile() && !e.name.endsWith('.lock')) {
          const text = fs.readFileSync(path.join(commonDir, child), 'utf8').trim();
          if (text.startsWith('ref: ')) refs.set(child, { symref: text.slice(5).trim() });
          else if (SHA.test(text)) refs.set(child, { sha: text });
        }
      }
    };
    walk('refs/heads');
    walk('refs/remotes');
    return [...refs].map(([ref, v]) => ({ ref, ...v }));
  } catch {
    return null;
  }
}

async function refsFromGit(repoDir: string): Promise<Array<{ ref: string; sha?: string; symref?: string }>> {
  const out = await gitText(
    ['for-each-ref', '--format=%(objectname) %(objecttype) %(refname) %(symref)', 'refs/heads', 'refs/remotes'],
    repoDir,
    {
      timeoutMs: 30_000,
      maxBytes: 32 << 20,
    },
  );
  const refs: Array<{ ref: string; sha?: string; symref?: string }> = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [sha = '', type = '', ref = '', symref = ''] = line.split(' ');
    if (symref) refs.push({ ref, symref });
    else if (type === 'commit') refs.push({ ref, sha });
  }
  return refs;
}

export async function readTips(repoDir: string, commonDir: string): Promise<TipsRead> {
  const refs = refsFromFiles(commonDir) ?? (await refsFromGit(repoDir));
  const tips: Tip[] = [];
  const byRef = new Map<string, string>();
  const defaultBranches: string[] = [];
  for (const r of refs) {
    if (r.symref) {
      const m = /^refs\/remotes\/[^/]+\/(.+)$/.exec(r.symref);
      if (m?.[1] && r.ref.endsWith('/HEAD')) defaultBranches.push(m[1]);
      continue;
    }
    if (!r.sha) continue;
    tips.push({ ref: r.ref, sha: r.sha });
    byRef.set(r.ref, r.sha);
  }
  let head: string | null = null;
  const main = readHeadFile(path.join(commonDir, 'HEAD'));
  if (main.sha) {
    head = main.sha;
    tips.push({ ref: 'HEAD', sha: main.sha });
  } else if (main.ref) head = byRef.get(main.ref) ?? null;
  let worktrees: string[];
  try {
    worktrees = fs.readdirSync(path.join(commonDir, 'worktrees'));
  } catch {
    worktrees = [];
  }
  for (const w of worktrees) {
    const h = readHeadFile(path.join(commonDir, 'worktrees', w, 'HEAD'));
    if (h.sha) tips.push({ ref: 'HEAD', sha: h.sha });
  }
  tips.sort((a, b) => (a.ref === b.ref ? (a.sha < b.sha ? -1 : 1) : a.ref < b.ref ? -1 : 1));
  return { tips, head, defaultBranches };
}

/** Canonical text of a tip list (what the ledger remembers to tell "nothing moved" with one comparison). */
export function tipsKey(tips: readonly Tip[]): string {
  return tips.map((t) => `${t.sha} ${t.ref}`).join('\n');
}

export function parseTipsKey(text: string): Tip[] {
  if (!text) return [];
  return text.split('\n').map((line) => {
    const sp = line.indexOf(' ');
    return { sha: line.slice(0, sp), ref: line.slice(sp + 1) };
  });
}

const FORMAT = '--format=%x1e%H%x00%P%x00%at%x00%ct%x00%an%x00%ae%x00%s%x00%b%x00';
/** Message bodies beyond this are cut: trailers and keys live near the top or the very end. */
const MAX_BODY = 16 << 10;

/** Undoes git's C-style quoting of unusual paths ("a\tb" → a<TAB>b). */
function unquote(p: string): string {
  if (!p.startsWith('"') || !p.endsWith('"')) return p;
  const body = p.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const next = body[++i] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else
      bytes.push(
        ({ n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 } as Record<string, number>)[next] ??
          next.charCodeAt(0),
      );
  }
  return Buffer.from(bytes).toString('utf8');
}

function parseLog(out: string): RawCommit[] {
  const commits: RawCommit[] = [];
  for (const rec of out.split('\u001e')) {
    if (!rec) continue;
    const fields = rec.split('\u0000');
    if (fields.length < 9) continue;
    const [sha = '', parents = '', at = '0', ct = '0', an = '', ae = '', subject = '', body = ''] = fields;
    const tail = fields.slice(8).join('\u0000');
    const files: FileStat[] = [];
    for (const line of tail.split('\n')) {
      if (!line) continue;
      const a = line.indexOf('\t');
      const b = line.indexOf('\t', a + 1);
      if (a < 0 || b < 0) continue;
      const added = line.slice(0, a);
      const removed = line.slice(a + 1, b);
      files.push({
        path: unquote(line.slice(b + 1)),
        added: added === '-' ? null : Number(added),
        removed: removed === '-' ? null : Number(removed),
      });
    }
    commits.push({
      sha,
      parents: parents ? parents.split(' ') : [],
      authorTime: Number(at) * 1000,
      commitTime: Number(ct) * 1000,
      // A repository's names and messages are untrusted text: no escape sequence or bidi override gets through.
      authorName: cleanText(an),
      authorEmail: cleanText(ae),
      subject: cleanText(subject),
      body: cleanText(body.length > MAX_BODY ? body.slice(0, MAX_BODY) : body.trim(), true),
      files,
    });
  }
  return commits;
}

export interface LogRange {
  /** Read commits reachable from these... */
  include: readonly string[];
  /** ...and not from these (the tips read last time). */
  exclude?: readonly string[];
  /** Only commits committed at or after this instant (epoch ms): older history cannot be a session's outcome. */
  since?: number;
  until?: number;
  /** Read exactly the given commits, not their ancestors. */
  noWalk?: boolean;
  /**
   * Also start from every commit the reflogs mention: commits rebased, amended or squashed away locally are still
   * there, and a session's link can follow them to their successor.
   */
  reflog?: boolean;
}

/** Commits of a range with their files (numstat, renames off so paths are plain). Bounded output. */
export async function readLog(repoDir: string, range: LogRange, maxBytes = 512 << 20): Promise<RawCommit[]> {
  if (range.include.length === 0) return [];
  const args = ['log', '--stdin', '--no-renames', '--numstat', FORMAT];
  if (range.since !== undefined) args.push(`--since=@${Math.floor(range.since / 1000)}`);
  if (range.until !== undefined) args.push(`--until=@${Math.floor(range.until / 1000)}`);
  if (range.noWalk === true) args.push('--no-walk');
  if (range.reflog === true) args.push('--reflog');
  // `^sha` rather than `--not`: git before 2.42 accepts no options on stdin.
  const input = [...range.include, ...(range.exclude ?? []).map((s) => `^${s}`)].join('\n') + '\n';
  const out = await runGit(args, repoDir, { input, maxBytes, timeoutMs: 300_000 });
  return parseLog(out.toString('utf8'));
}

/** Which of these shas still exist as commits in the object store (one `git cat-file --batch-check`). */
export async function existingCommits(repoDir: string, shas: readonly string[]): Promise<Set<string>> {
  if (shas.length === 0) return new Set();
  const out = await gitText(['cat-file', '--batch-check=%(objectname) %(objecttype)'], repoDir, {
    input: `${shas.join('\n')}\n`,
    timeoutMs: 60_000,
  });
  const ok = new Set<string>();
  for (const line of out.split('\n')) {
    const [sha = '', type = ''] = line.split(' ');
    if (type === 'commit') ok.add(sha);
  }
  return ok;
}

/** `git patch-id --stable` of each commit (merges and empty commits have none). Two git calls for any number. */
export async function patchIds(repoDir: string, shas: readonly string[]): Promise<Map<string, string>> {
  if (shas.length === 0) return new Map();
  const present = await existingCommits(repoDir, shas);
  if (present.size === 0) return new Map();
  const args = ['log', '--no-walk=unsorted', '--stdin', '-p', '--no-renames', '--format=commit %H'];
  return patchIdsOfLog(repoDir, args, [...present]);
}

/** Runs `git <logArgs>` over `shas` (given on its input) and `git patch-id --stable` over the patches it prints. */
async function patchIdsOfLog(
  repoDir: string,
  logArgs: string[],
  shas: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const patches = await runGit(logArgs, repoDir, {
    input: `${shas.join('\n')}\n`,
    maxBytes: 256 << 20,
    timeoutMs: 120_000,
  });
  const ids = await gitText(['patch-id', '--stable'], repoDir, { input: patches, timeoutMs: 120_000 });
  for (const line of ids.split('\n')) {
    const [pid, sha] = line.split(' ');
    if (pid && sha) out.set(sha, pid);
  }
  return out;
}

/** `git patch-id --stable` of each commit's patch, reversed when asked, without path prefixes (so a reversed patch and a revert's compare equal). */
async function noPrefixPatchIds(
  repoDir: string,
  shas: readonly string[],
  reverse: boolean,
): Promise<Map<string, string>> {
  if (shas.length === 0) return new Map();
  const args = [
    'log',
    '--no-walk=unsorted',
    '--stdin',
    '-p',
    '--no-prefix',
    '--no-renames',
    '--no-ext-diff',
    '--no-textconv',
    '--no-color',
    '--format=commit %H',
  ];
  if (reverse) args.splice(4, 0, '-R');
  return patchIdsOfLog(repoDir, args, shas);
}

/**
 * Of [later, target] pairs, those where the later commit's patch is exactly the target's patch reversed (it undoes
 * it: a revert made by hand or squashed). Four git calls for any number of pairs.
 */
export async function patchUndoes(
  repoDir: string,
  pairs: ReadonlyArray<readonly [string, string]>,
): Promise<Array<[string, string]>> {
  if (pairs.length === 0) return [];
  const present = await existingCommits(repoDir, [...new Set(pairs.flat())]);
  const ok = pairs.filter(([r, t]) => present.has(r) && present.has(t));
  if (ok.length === 0) return [];
  const forward = await noPrefixPatchIds(repoDir, [...new Set(ok.map(([r]) => r))], false);
  const reversed = await noPrefixPatchIds(repoDir, [...new Set(ok.map(([, t]) => t))], true);
  return ok
    .filter(([r, t]) => forward.get(r) !== undefined && forward.get(r) === reversed.get(t))
    .map(([r, t]) => [r, t]);
}

/** The global user.email (lower case), or null when none is set: one of the engineer's identities. */
export async function globalEmail(cwd: string): Promise<string | null> {
  try {
    const v = (await gitText(['config', '--global', '--get', 'user.email'], cwd, { timeoutMs: 15_000 }))
      .trim()
      .toLowerCase();
    return v || null;
  } catch (e) {
    if (e instanceof GitError) return null; // not set (exit 1)
    throw e;
  }
}

/** Lines of `file` at `rev` per commit that last touched them (`git blame --incremental`); null when the file is gone. */
export function blameCounts(repoDir: string, rev: string, file: string): Promise<Map<string, number> | null> {
  return blameLines(repoDir, rev, file, []);
}

/** `git blame --incremental` (with `lineArgs` such as `-L a,+n`) summed per commit; null when git cannot blame it. */
async function blameLines(
  repoDir: string,
  rev: string,
  file: string,
  lineArgs: string[],
): Promise<Map<string, number> | null> {
  let out: string;
  try {
    out = await gitText(['blame', '--incremental', ...lineArgs, rev, '--', file], repoDir, {
      maxBytes: 64 << 20,
      timeoutMs: 120_000,
    });
  } catch (e) {
    if (e instanceof GitError) return null; // deleted or renamed since: none of its lines are kept under this name
    throw e;
  }
  const counts = new Map<string, number>();
  for (const line of out.split('\n')) {
    const m = /^([0-9a-f]{40,64}) \d+ \d+ (\d+)$/.exec(line);
    if (m?.[1] && m[2]) counts.set(m[1], (counts.get(m[1]) ?? 0) + Number(m[2]));
  }
  return counts;
}

/**
 * Files between two revisions that lost or changed lines (`git diff --numstat`): a file that only gained lines keeps
 * every earlier line's blame, so only these need blaming again. Null when git cannot compare them (a HEAD gone).
 */
export async function changedFiles(repoDir: string, from: string, to: string): Promise<Set<string> | null> {
  try {
    const out = await gitText(['diff', '--numstat', '--no-renames', '-z', from, to], repoDir, {
      maxBytes: 64 << 20,
      timeoutMs: 60_000,
    });
    const changed = new Set<string>();
    for (const rec of out.split('\u0000')) {
      const m = /^(\d+|-)\t(\d+|-)\t(.+)$/s.exec(rec);
      if (m?.[3] && m[2] !== '0') changed.add(m[3]);
    }
    return changed;
  } catch (e) {
    if (e instanceof GitError) return null;
    throw e;
  }
}

/**
 * Line ranges of `file` at `from` that are gone or changed at `to` (`git diff -U0`): start and count, 1-based.
 * Null when git cannot compare the two revisions.
 */
export async function removedRanges(
  repoDir: string,
  from: string,
  to: string,
  file: string,
): Promise<Array<[number, number]> | null> {
  let out: string;
  try {
    out = await gitText(['diff', '-U0', '--no-renames', from, to, '--', file], repoDir, {
      maxBytes: 64 << 20,
      timeoutMs: 60_000,
    });
  } catch (e) {
    if (e instanceof GitError) return null;
    throw e;
  }
  const ranges: Array<[number, number]> = [];
  for (const m of out.matchAll(/^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/gm)) {
    const count = m[2] === undefined ? 1 : Number(m[2]);
    if (count > 0) ranges.push([Number(m[1]), count]);
  }
  return ranges;
}

/** Lines of `file` at `rev` in these ranges, per commit that last touched them (`git blame -L`). */
export async function blameRanges(
  repoDir: string,
  rev: string,
  file: string,
  ranges: ReadonlyArray<[number, number]>,
): Promise<Map<string, number> | null> {
  if (ranges.length === 0) return new Map();
  return blameLines(
    repoDir,
    rev,
    file,
    ranges.flatMap(([a, n]) => ['-L', `${a},+${n}`]),
  );
}
