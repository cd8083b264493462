/**
 * What counts as an outcome (pure; docs/outcomes.md): which commits are reverts, which were reverted, which never
 * reached the default branch, and whose they are.
 *
 * - A revert is a commit that undoes an earlier one it contains: its message names it (`This reverts commit <sha>`,
 *   as `git revert` writes), its subject is `Revert "<subject of an ancestor>"` (a squash-merged revert PR), or its
 *   patch is exactly the reverse of the earlier commit's (a hand-made or squashed revert), found with `git patch-id`
 *   over the reversed patch. A revert of a revert restores the original.
 * - A commit is merged when the default branch reaches it, or reaches a successor of it (squash, rebase).
 * - A commit is the engineer's when its author email is one of their identities, or a `Co-authored-by:` trailer names
 *   one of them.
 */
import {
  COMMIT_MERGE,
  COMMIT_OTHER_AUTHOR,
  COMMIT_REVERT,
  COMMIT_REVERTED,
  COMMIT_UNMERGED,
  type CommitInfo,
  type FileStat,
} from './commits';
import type { History } from './history';

/** Branch names taken for the default branch when no remote HEAD says which it is (the first that exists wins). */
const FALLBACK_DEFAULTS = ['main', 'master', 'trunk'];

/** The default branch names of a repository: what the remote HEAD points at, else main, master or trunk; [] when none. */
export function defaultBranchesOf(history: History, remoteHeads: readonly string[]): string[] {
  const known = remoteHeads.filter((b) => history.tipsByBranch.has(b));
  if (known.length > 0) return [...new Set(known)];
  const fallback = FALLBACK_DEFAULTS.find((b) => history.tipsByBranch.has(b));
  return fallback ? [fallback] : [];
}

/** Commits the default branch reaches (its local and remote-tracking tips), within what was read. */
export function reachableFrom(history: History, branches: readonly string[]): Set<string> {
  const out = new Set<string>();
  const stack = branches.flatMap((b) => history.tipsByBranch.get(b) ?? []);
  while (stack.length > 0) {
    const sha = stack.pop() as string;
    if (out.has(sha)) continue;
    const c = history.bySha.get(sha);
    if (!c) continue;
    out.add(sha);
    for (const p of c.parents) if (!out.has(p)) stack.push(p);
  }
  return out;
}

/** Ancestry searched for a revert's target: a revert lands soon after what it undoes. */
const ANCESTRY_LIMIT = 20_000;

/** The nearest ancestor of `from` (itself excluded) that `match` accepts, breadth first and bounded; or null. */
function nearestAncestor(history: History, from: CommitInfo, match: (c: CommitInfo) => boolean): CommitInfo | null {
  let frontier = [...from.parents];
  const seen = new Set<string>();
  while (frontier.length > 0 && seen.size < ANCESTRY_LIMIT) {
    const next: string[] = [];
    for (const sha of frontier) {
      if (seen.has(sha)) continue;
      seen.add(sha);
      const c = history.bySha.get(sha);
      if (!c) continue;
      if (match(c)) return c;
      next.push(...c.parents);
    }
    frontier = next;
  }
  return null;
}

/** Whether `ancestor` is reachable from `sha` along parents (bounded). */
function isAncestor(history: History, ancestor: string, sha: string): boolean {
  const c = history.bySha.get(sha);
  if (!c) return false;
  return nearestAncestor(history, c, (x) => x.sha === ancestor) !== null;
}

const REVERT_SUBJECT = /^Revert "(.+)"(?: \(#\d+\))?$/;

/** The commits each revert undoes, by what its message says (trailer first, else its subject). */
export function messageReverts(history: History): Array<readonly [string, string]> {
  const out: Array<readonly [string, string]> = [];
  for (const c of history.byTime) {
    if ((c.flags & COMMIT_MERGE) !== 0) continue;
    const named = c.reverts;
    let target: CommitInfo | null = null;
    if (named) target = nearestAncestor(history, c, (x) => x.sha.startsWith(named));
    if (!target) {
      const inner = REVERT_SUBJECT.exec(c.subject)?.[1];
      if (inner !== undefined)
        target = nearestAncestor(history, c, (x) => x.subject === inner && (x.flags & COMMIT_MERGE) === 0);
    }
    if (target) out.push([c.sha, target.sha]);
  }
  return out;
}

function signature(files: readonly FileStat[], reverse: boolean): string {
  const n = (v: number | null): string => (v === null ? '-' : String(v));
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.path}\t${n(reverse ? f.removed : f.added)}\t${n(reverse ? f.added : f.removed)}`)
    .join('\n');
}

/**
 * Pairs [later commit, target] worth a patch-id check: the later commit changes the same files with the added and
 * removed line counts swapped, comes after the target, and contains it or is on the default branch. Cheap (numstat
 * only): git is asked about these few pairs alone.
 */
export function reversePatchCandidates(
  history: History,
  targets: Iterable<string>,
  onDefault: ReadonlySet<string>,
  limit = 500,
): Array<[string, string]> {
  const bySignature = new Map<string, CommitInfo[]>();
  for (const c of history.byTime) {
    if ((c.flags & COMMIT_MERGE) !== 0 || c.files.length === 0) continue;
    const key = signature(c.files, false);
    const list = bySignature.get(key);
    if (list) list.push(c);
    else bySignature.set(key, [c]);
  }
  const out: Array<[string, string]> = [];
  for (const sha of targets) {
    const t = history.bySha.get(sha);
    if (!t || (t.flags & COMMIT_MERGE) !== 0 || t.files.length === 0) continue;
    for (const r of bySignature.get(signature(t.files, true)) ?? []) {
      if (r.sha === t.sha || r.authorTime < t.authorTime) continue;
      if (!onDefault.has(r.sha) && !isAncestor(history, t.sha, r.sha)) continue;
      out.push([r.sha, t.sha]);
      if (out.length >= limit) return out;
    }
  }
  return out;
}

export interface StandingInput {
  history: History;
  /** Default branch names (defaultBranchesOf); empty when the repository has none: nothing is judged unmerged. */
  defaultBranches: readonly string[];
  /** [revert, undone] pairs: from messages and from reversed patches. */
  reverts: ReadonlyArray<readonly [string, string]>;
  /** Successor edges (original → successor), by sha. */
  successors: ReadonlyArray<{ original: string; successor: string }>;
  /** Commits committed before this were not read (their merged state is unknown); null: everything was read. */
  horizon: number | null;
}

/** The derived flags (COMMIT_REVERT, COMMIT_REVERTED, COMMIT_UNMERGED) of every commit in the history. */
export function standings(input: StandingInput): Map<string, number> {
  const { history } = input;
  const undoneBy = new Map<string, string[]>();
  const isRevert = new Set<string>();
  for (const [r, t] of input.reverts) {
    if (r === t) continue;
    isRevert.add(r);
    const list = undoneBy.get(t);
    if (list) {
      if (!list.includes(r)) list.push(r);
    } else undoneBy.set(t, [r]);
  }
  const memo = new Map<string, boolean>();
  const reverted = (sha: string, depth = 0): boolean => {
    const hit = memo.get(sha);
    if (hit !== undefined) return hit;
    if (depth > 20) return false;
    memo.set(sha, false); // a cycle (never from real ancestry) resolves to "not reverted"
    const v = (undoneBy.get(sha) ?? []).some((r) => !reverted(r, depth + 1));
    memo.set(sha, v);
    return v;
  };
  const merged = input.defaultBranches.length > 0 ? reachableFrom(history, input.defaultBranches) : null;
  const succ = new Map<string, string[]>();
  for (const e of input.successors) {
    const list = succ.get(e.original);
    if (list) list.push(e.successor);
    else succ.set(e.original, [e.successor]);
  }
  /** The commit and its successors (a squash of a rebased commit is two hops). */
  const family = (sha: string): string[] => {
    const out = [sha];
    let frontier = [sha];
    for (let hop = 0; hop < 3 && frontier.length > 0; hop++) {
      frontier = frontier.flatMap((s) => succ.get(s) ?? []).filter((s) => !out.includes(s));
      out.push(...frontier);
    }
    return out;
  };
  const out = new Map<string, number>();
  for (const c of history.bySha.values()) {
    let flags = 0;
    const fam = family(c.sha);
    if (isRevert.has(c.sha)) flags |= COMMIT_REVERT;
    if (fam.some((s) => reverted(s))) flags |= COMMIT_REVERTED;
    const judged = input.horizon === null || c.commitTime >= input.horizon;
    if (merged && judged && !fam.some((s) => merged.has(s))) flags |= COMMIT_UNMERGED;
    out.set(c.sha, flags);
  }
  return out;
}

/** Why a linked commit is not counted as the engineer's outcome, or null when it is. */
export type SetAside = 'revert' | 'others' | 'reverted' | 'unmerged';

export interface CommitStanding {
  /** The author email (lower case), else the author name, else '' when the ledger does not know it yet. */
  author: string;
  authoredByEngineer: boolean;
  /** The engineer is the commit's co-author (a `Co-authored-by:` trailer names them), not its author. */
  coAuthored: boolean;
  revert: boolean;
  reverted: boolean;
  merged: boolean;
  setAside: SetAside | null;
}

export interface AuthorFacts {
  flags: number;
  authorEmail?: string | null;
  authorName?: string | null;
  coAuthors?: readonly string[];
}

/** A normalised identity set (lower-case emails). */
export function identitySet(emails: Iterable<string | null | undefined>): Set<string> {
  const out = new Set<string>();
  for (const e of emails) {
    const v = (e ?? '').trim().toLowerCase();
    if (v && v.includes('@')) out.add(v);
  }
  return out;
}

/**
 * Whose a commit is and whether it counts. A row stored before authors were (schema 5) and not filled yet falls back
 * to the flag the linker set from the repository's configured email.
 */
export function standingOf(c: AuthorFacts, identities: ReadonlySet<string>): CommitStanding {
  const email = (c.authorEmail ?? '').toLowerCase();
  const known = c.authorEmail !== null && c.authorEmail !== undefined && c.authorEmail !== '';
  const own = known ? identities.has(email) : (c.flags & COMMIT_OTHER_AUTHOR) === 0;
  const coAuthored = !own && (c.coAuthors ?? []).some((e) => identities.has(e.toLowerCase()));
  const revert = (c.flags & COMMIT_REVERT) !== 0;
  const reverted = (c.flags & COMMIT_REVERTED) !== 0;
  const merged = (c.flags & COMMIT_UNMERGED) === 0;
  const mine = own || coAuthored;
  const setAside: SetAside | null = revert
    ? 'revert'
    : !mine
      ? 'others'
      : reverted
        ? 'reverted'
        : !merged
          ? 'unmerged'
          : null;
  return {
    author: known ? email : (c.authorName ?? ''),
    authoredByEngineer: mine,
    coAuthored,
    revert,
    reverted,
    merged,
    setAside,
  };
}

/** A link's standing in words for text views: " — reverted later", " — assisted, authored by someone else (x@y)"; '' when plain. */
export function standingSuffix(l: Omit<CommitStanding, 'setAside'>): string {
  const parts: string[] = [];
  if (l.revert) parts.push('a revert, never an outcome');
  else if (!l.authoredByEngineer) parts.push(`assisted, authored by someone else${l.author ? ` (${l.author})` : ''}`);
  else if (l.reverted) parts.push('reverted later');
  else if (!l.merged) parts.push('not merged into the default branch');
  if (l.coAuthored) parts.push(`co-authored by you${l.author ? `, authored by ${l.author}` : ''}`);
  return parts.length > 0 ? ` — ${parts.join('; ')}` : '';
}
