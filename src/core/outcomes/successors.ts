/**
 * Where a commit's work went when the commit itself did not stay (pure): rebased or amended commits (gone from every
 * branch, replaced by a commit with the same author time), the same patch under a new sha (patch-id), and squash
 * merges (one commit on the trunk holding exactly the files of a branch's commits). A session linked to the original
 * is linked to the successor too, so squash-merge and rebase workflows keep their outcomes.
 */
import { COMMIT_MERGE, type CommitInfo } from './commits';
import type { History } from './history';
import { prOf } from './tasks';
import { maxOf, minOf } from '../common/numbers';
import { pushAll } from '../common/numbers';

export type SuccessorKind = 'rebased' | 'amended' | 'same-patch' | 'squash';

export interface SuccessorEdge {
  original: string;
  successor: string;
  kind: SuccessorKind;
}

/** How far after the original a squash or a patch-identical commit is looked for. */
export const SUCCESSOR_WINDOW_MS = 30 * 24 * 3_600_000;

function isMerge(c: CommitInfo): boolean {
  return (c.flags & COMMIT_MERGE) !== 0;
}

function sameFiles(a: CommitInfo, b: CommitInfo): boolean {
  if (a.files.length !== b.files.length) return false;
  const set = new Set(a.files.map((f) => f.path));
  return b.files.every((f) => set.has(f.path));
}

/**
 * Successor edges in one repository. `patchIds` (sha → `git patch-id --stable`) is optional: the service computes
 * it only for gone commits that no author-time match explains, and for their plausible successors. `squashesAmong`
 * limits the squash search to these commits (the new ones: older squashes were found when they were new).
 */
export function findSuccessors(
  h: History,
  patchIds: ReadonlyMap<string, string> = new Map(),
  squashesAmong?: ReadonlySet<string>,
): SuccessorEdge[] {
  const edges: SuccessorEdge[] = [];
  const byAuthorTime = new Map<number, CommitInfo[]>();
  const byPatch = new Map<string, CommitInfo[]>();
  for (const c of h.bySha.values()) {
    if (isMerge(c) || !h.reachable.has(c.sha)) continue;
    const list = byAuthorTime.get(c.authorTime);
    if (list) list.push(c);
    else byAuthorTime.set(c.authorTime, [c]);
    const pid = patchIds.get(c.sha);
    if (pid) {
      const pl = byPatch.get(pid);
      if (pl) pl.push(c);
      else byPatch.set(pid, [c]);
    }
  }
  // Gone commits: rebase and amend keep the author time; cherry-picks and some rebases keep only the patch.
  for (const g of h.bySha.values()) {
    if (isMerge(g) || h.reachable.has(g.sha)) continue;
    const sameTime = (byAuthorTime.get(g.authorTime) ?? []).filter((r) => r.sha !== g.sha);
    const rebased = sameTime.find((r) => r.subject === g.subject);
    if (rebased) {
      edges.push({ original: g.sha, successor: rebased.sha, kind: 'rebased' });
      continue;
    }
    const amended = sameTime.find((r) => sameFiles(r, g));
    if (amended) {
      edges.push({ original: g.sha, successor: amended.sha, kind: 'amended' });
      continue;
    }
    const pid = patchIds.get(g.sha);
    const same = pid
      ? (byPatch.get(pid) ?? []).find((r) => r.sha !== g.sha && r.authorTime >= g.authorTime - SUCCESSOR_WINDOW_MS)
      : undefined;
    if (same) edges.push({ original: g.sha, successor: same.sha, kind: 'same-patch' });
  }
  pushAll(edges, findSquashes(h, squashesAmong));
  return edges;
}

/**
 * Squash merges: a reachable commit naming a PR ("Title (#45)") whose files are exactly the union of the files of a
 * chain of earlier commits that never reached the trunk (an unmerged or deleted branch).
 */
function findSquashes(h: History, among?: ReadonlySet<string>): SuccessorEdge[] {
  const edges: SuccessorEdge[] = [];
  const ownPr = (c: CommitInfo): number | null => (isMerge(c) ? null : prOf(c.subject));
  const squashes = (
    among
      ? [...among].map((x) => h.bySha.get(x)).filter((c): c is CommitInfo => c !== undefined)
      : [...h.bySha.values()]
  ).filter((s) => ownPr(s) !== null && h.reachable.has(s.sha) && s.files.length > 0);
  if (squashes.length === 0) return edges;
  // Originals come from the 30 days before a squash: index only those (their files are decoded on demand).
  const from = minOf(squashes.map((s) => s.commitTime)) - SUCCESSOR_WINDOW_MS;
  const to = maxOf(squashes.map((s) => s.commitTime));
  const byFile = new Map<string, CommitInfo[]>();
  for (const c of h.between(from, to)) {
    if (isMerge(c)) continue;
    for (const f of c.files) {
      const l = byFile.get(f.path);
      if (l) l.push(c);
      else byFile.set(f.path, [c]);
    }
  }
  // Side commits of PR merges were merged already: not the originals of a squash.
  const mergedByPr = (c: CommitInfo): boolean => h.prs.has(c.sha) && ownPr(c) === null;
  for (const s of squashes) {
    const files = new Set(s.files.map((f) => f.path));
    const onTrunk = (c: CommitInfo): boolean => [...h.branchesOf(c.sha)].some((b) => h.trunks.has(b));
    const q = new Map<string, CommitInfo>();
    for (const path of files) {
      for (const o of byFile.get(path) ?? []) {
        if (o.sha === s.sha || q.has(o.sha)) continue;
        if (o.authorTime > s.commitTime || s.commitTime - o.authorTime > SUCCESSOR_WINDOW_MS) continue;
        if (onTrunk(o) || mergedByPr(o) || ownPr(o) !== null) continue;
        if (!o.files.every((f) => files.has(f.path))) continue;
        q.set(o.sha, o);
      }
    }
    if (q.size === 0) continue;
    // Chains: connected by first parents within the qualifying commits.
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      let r = x;
      while (parent.has(r) && parent.get(r) !== r) r = parent.get(r) as string;
      return r;
    };
    for (const o of q.values()) {
      if (!parent.has(o.sha)) parent.set(o.sha, o.sha);
      const p = o.parents[0];
      if (p && q.has(p)) {
        if (!parent.has(p)) parent.set(p, p);
        parent.set(find(o.sha), find(p));
      }
    }
    const groups = new Map<string, CommitInfo[]>();
    for (const o of q.values()) {
      const r = find(o.sha);
      const g = groups.get(r);
      if (g) g.push(o);
      else groups.set(r, [o]);
    }
    let best: CommitInfo[] | undefined;
    let bestTime = -Infinity;
    const squashTasks = new Set(s.tasks);
    for (const g of groups.values()) {
      const union = new Set(g.flatMap((o) => o.files.map((f) => f.path)));
      if (union.size !== files.size) continue;
      // A squash subject naming a task must be that chain's task (keys from messages and branch names): the same
      // files alone can be a coincidence.
      if (squashTasks.size > 0) {
        const chainTasks = new Set(g.flatMap((o) => o.tasks));
        if (chainTasks.size > 0 && ![...chainTasks].some((k) => squashTasks.has(k))) continue;
      }
      const latest = Math.max(...g.map((o) => o.authorTime));
      if (latest > bestTime) {
        best = g;
        bestTime = latest;
      }
    }
    for (const o of best ?? []) edges.push({ original: o.sha, successor: s.sha, kind: 'squash' });
  }
  return edges;
}
