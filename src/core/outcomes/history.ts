/**
 * The commit graph of one repository, in memory (pure): which branches each commit is on (also after its branch was
 * merged and deleted), which commits are still reachable, which PR merged a commit, and ancestry near a commit.
 *
 * Computed from the parent links git gave us, never by asking git per commit: one pass over the history beats
 * thousands of `git branch --contains` calls.
 */
import { COMMIT_MERGE, type CommitInfo } from './commits';
import { lowerBound } from '../common/sorted';
import { tasksInBranch, type TaskPatterns } from './tasks';

/** Branch names treated as the shared trunk: a match there says little about who made a commit. */
const TRUNK_NAMES = new Set(['main', 'master', 'develop', 'development', 'dev', 'trunk']);

export interface Tip {
  /** `refs/heads/x`, `refs/remotes/origin/x`, or `HEAD` (a detached head, of the main tree or a worktree). */
  ref: string;
  sha: string;
}

/** `refs/heads/feature/PAY-7` and `refs/remotes/origin/feature/PAY-7` → `feature/PAY-7`; null for HEAD and remote HEADs. */
export function branchName(ref: string): string | null {
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/remotes/')) {
    const rest = ref.slice('refs/remotes/'.length);
    const slash = rest.indexOf('/');
    if (slash < 0) return null;
    const name = rest.slice(slash + 1);
    return name === 'HEAD' ? null : name;
  }
  return null;
}

export class History {
  readonly bySha = new Map<string, CommitInfo>();
  /** Branch names per commit sha. */
  readonly labels = new Map<string, Set<string>>();
  /** PR that merged a commit (merge commits' side commits, squash commits themselves). */
  readonly prs = new Map<string, number>();
  readonly reachable = new Set<string>();
  /** Commits sorted by author time (linking candidates come from a time window). */
  readonly byTime: CommitInfo[];
  readonly tipsByBranch = new Map<string, string[]>();
  /** Trunk names in this repository (the defaults plus the branch HEAD points at, when given). */
  readonly trunks: ReadonlySet<string>;

  constructor(commits: Iterable<CommitInfo>, tips: readonly Tip[], extraTrunks: readonly string[] = []) {
    for (const c of commits) this.bySha.set(c.sha, c);
    this.byTime = [...this.bySha.values()].sort((a, b) => a.authorTime - b.authorTime || (a.sha < b.sha ? -1 : 1));
    this.trunks = new Set([...TRUNK_NAMES, ...extraTrunks]);
    for (const t of tips) {
      const name = branchName(t.ref);
      if (!name) continue;
      const list = this.tipsByBranch.get(name);
      if (list) {
        if (!list.includes(t.sha)) list.push(t.sha);
      } else this.tipsByBranch.set(name, [t.sha]);
    }
    this.computeReachable(tips);
    this.computeLabels();
  }

  private label(sha: string, name: string): boolean {
    let set = this.labels.get(sha);
    if (!set) {
      set = new Set();
      this.labels.set(sha, set);
    }
    if (set.has(name)) return false;
    set.add(name);
    return true;
  }

  private onTrunk(sha: string): boolean {
    const set = this.labels.get(sha);
    if (!set) return false;
    for (const n of set) if (this.trunks.has(n)) return true;
    return false;
  }

  /** Labels a first-parent chain with a branch name; non-trunk walks stop where they reach the trunk. */
  private walkFirstParents(start: string | undefined, name: string, trunk: boolean, pr: number | null): void {
    let sha = start;
    let first = true;
    while (sha) {
      const c = this.bySha.get(sha);
      if (!c) return; // beyond what was read (older than the horizon)
      if (!trunk && !first && this.onTrunk(sha)) return;
      if (!trunk && first && this.onTrunk(sha) && pr === null) {
        // A branch whose tip is on the trunk (fast-forwarded, or not diverged): only the tip is known to be its own.
        this.label(sha, name);
        return;
      }
      if (!this.label(sha, name) && !first) return;
      if (pr !== null && !this.prs.has(sha) && (c.flags & COMMIT_MERGE) === 0) this.prs.set(sha, pr);
      first = false;
      sha = c.parents[0];
    }
  }

  private computeLabels(): void {
    const branches = [...this.tipsByBranch.entries()];
    for (const [name, shas] of branches)
      if (this.trunks.has(name)) for (const s of shas) this.walkFirstParents(s, name, true, null);
    // Merges name the branch they merged (kept after the branch is deleted): oldest first, so nested merges label
    // their own sides before an outer merge would walk into them.
    const merges = this.byTime.filter((c) => (c.flags & COMMIT_MERGE) !== 0 && c.parents.length > 1);
    for (const m of merges) {
      const side = m.parents[1];
      if (m.mergedBranch) this.walkFirstParents(side, m.mergedBranch, false, m.pr);
      else if (m.pr !== null) this.walkFirstParents(side, `#${m.pr}`, false, m.pr);
    }
    for (const [name, shas] of branches)
      if (!this.trunks.has(name)) for (const s of shas) this.walkFirstParents(s, name, false, null);
    for (const c of this.bySha.values())
      if (c.pr !== null && (c.flags & COMMIT_MERGE) === 0 && !this.prs.has(c.sha)) this.prs.set(c.sha, c.pr);
  }

  private computeReachable(tips: readonly Tip[]): void {
    const stack = tips.map((t) => t.sha);
    while (stack.length > 0) {
      const sha = stack.pop() as string;
      if (this.reachable.has(sha)) continue;
      const c = this.bySha.get(sha);
      if (!c) continue;
      this.reachable.add(sha);
      for (const p of c.parents) if (!this.reachable.has(p)) stack.push(p);
    }
  }

  /** Branch names of a commit: the chains it is on, plus being reachable from a (non-trunk) branch's tip. */
  branchesOf(sha: string): ReadonlySet<string> {
    return this.labels.get(sha) ?? EMPTY;
  }

  /**
   * Whether `sha` is reachable from the tip of `branch`, looking only at commits authored at or after `notBefore`
   * (a session's start: older commits cannot be its outcome). Catches fast-forward merges that labels cannot see.
   */
  onBranch(sha: string, branch: string, notBefore: number): boolean {
    if (this.branchesOf(sha).has(branch)) return true;
    const tips = this.tipsByBranch.get(branch);
    if (!tips || this.trunks.has(branch)) return false;
    const key = `${branch}\u0000${notBefore}`;
    let set = this.reachCache.get(key);
    if (!set) {
      set = new Set();
      const stack = [...tips];
      let budget = 5000; // a branch tip far past the session would walk the trunk: bounded, labels cover that case
      while (stack.length > 0 && budget-- > 0) {
        const s = stack.pop() as string;
        if (set.has(s)) continue;
        const c = this.bySha.get(s);
        if (!c || Math.max(c.authorTime, c.commitTime) < notBefore) continue;
        set.add(s);
        for (const p of c.parents) stack.push(p);
      }
      this.reachCache.set(key, set);
    }
    return set.has(sha);
  }

  private readonly reachCache = new Map<string, Set<string>>();

  /** Steps from `sha` back to `ancestor` along any parents (breadth first), or null beyond `limit` commits. */
  distanceTo(sha: string, ancestor: string, limit = 50): number | null {
    let frontier = [sha];
    const seen = new Set<string>();
    for (let depth = 0; depth <= limit && frontier.length > 0; depth++) {
      const next: string[] = [];
      for (const s of frontier) {
        if (s === ancestor) return depth;
        if (seen.has(s)) continue;
        seen.add(s);
        const c = this.bySha.get(s);
        if (c) next.push(...c.parents);
        else if (depth === 0) return null;
      }
      if (seen.size > limit * 4) return null;
      frontier = next;
    }
    return null;
  }

  /** Task keys of a commit: named in its message, or in the name of a (non-trunk) branch it was made on. */
  tasksOf(c: CommitInfo, patterns: TaskPatterns): string[] {
    const out = new Set(c.tasks);
    for (const b of this.branchesOf(c.sha)) {
      if (this.trunks.has(b) || b.startsWith('#')) continue;
      // Thousands of commits share a few hundred branch names: parse each name once.
      let keys = this.branchTasks.get(b);
      if (!keys) {
        keys = tasksInBranch(b, patterns);
        this.branchTasks.set(b, keys);
      }
      for (const k of keys) out.add(k);
    }
    return [...out].sort();
  }

  private readonly branchTasks = new Map<string, string[]>();

  /** Commits with author time in [from, to], in time order (binary search on the sorted list). */
  between(from: number, to: number): CommitInfo[] {
    const list = this.byTime;
    const out: CommitInfo[] = [];
    for (let i = lowerBound(list, (c) => c.authorTime < from); i < list.length; i++) {
      const c = list[i] as CommitInfo;
      if (c.authorTime > to) break;
      out.push(c);
    }
    return out;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
