/**
 * Value metrics (docs/outcomes.md) from sessions' usage and their counted links (pure).
 *
 * - A squash merge or a rebase makes several commits of one piece of work: commits joined by successor edges count
 *   as one outcome ("commits" counts outcomes, not shas).
 * - Per-commit and per-task figures split a session's tokens evenly over the outcomes (or tasks) it is linked to,
 *   so totals add up across tools and sessions and nothing is counted twice.
 * - Kept lines per 1k output tokens uses only outcomes old enough (N days); younger ones are reported as pending.
 */
import type { SessionStatus } from '../usage/model';
import type { SetAside } from './standing';

export interface SessionUsage {
  tokens: number;
  output: number;
  /** input + cacheRead + cacheWrite: what was sent. */
  sent: number;
  costNano: number;
  interactions: number;
  /** Of `tokens`, those estimated rather than reported by the tool. */
  estimated?: number;
}

export interface OutcomeCommit {
  /** Any stable key (the ledger row id). */
  id: number;
  repo: number;
  tasks: readonly string[];
  pr: number | null;
  authorTime: number;
  /** Lines still present at HEAD, null when not computed (yet). */
  kept: number | null;
}

export interface OutcomeFacts {
  /** Counted commits per session. */
  counted: ReadonlyMap<number, readonly number[]>;
  commits: ReadonlyMap<number, OutcomeCommit>;
  /** Successor edges (original → successor), joining commits into one outcome. */
  successors: ReadonlyArray<readonly [number, number]>;
  /** Task keys from each session's branch names. */
  sessionTasks: ReadonlyMap<number, readonly string[]>;
  now: number;
  durabilityDays: number;
  /** Per session, linked commits whose link counts but that are not the engineer's outcome (docs/outcomes.md). */
  setAside?: ReadonlyMap<number, ReadonlyArray<{ id: number; why: SetAside }>>;
}

export interface TaskFigures {
  task: string;
  sessions: number;
  sources: string[];
  tokens: number;
  /** Of `tokens`, those estimated rather than reported by the tool (split like the tokens). */
  estimatedTokens: number;
  costUSD: number;
  commits: number;
  /** A counted commit carries this task, or a shipped session's branch names it. */
  delivered: boolean;
}

export interface OutcomeFigures {
  commits: number;
  tasks: number;
  prs: number;
  tokensPerCommitMedian: number | null;
  costPerCommitMedian: number | null;
  tokensPerTask: number | null;
  costPerTask: number | null;
  tokensPerTaskMedian: number | null;
  costPerTaskMedian: number | null;
  keptLines: number;
  keptLinesPer1kOutput: number | null;
  /** Output tokens (rounded) of the outcomes whose kept lines were judged: the denominator of the figure above. */
  keptLinesOutput: number;
  /** Outcomes younger than the durability period (their lines are not judged yet). */
  pendingCommits: number;
  durabilityDays: number;
  byTask: TaskFigures[];
  /** Distinct commits of the period's sessions that were reverted later (not outcomes, not in `commits`). */
  reverted: number;
  /** Distinct commits of the period's sessions the default branch never reached (not outcomes). */
  unmerged: number;
  /** Distinct commits of the period's sessions authored by someone else: assisted, not the engineer's outcomes. */
  authoredByOthers: number;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Union-find over successor edges: the outcome each commit belongs to. */
export function outcomeOf(
  commits: ReadonlyMap<number, OutcomeCommit>,
  successors: ReadonlyArray<readonly [number, number]>,
): (id: number) => number {
  const parent = new Map<number, number>();
  const find = (x: number): number => {
    let r = x;
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r) as number;
    let y = x;
    while (y !== r) {
      const p = parent.get(y) as number;
      parent.set(y, r);
      y = p;
    }
    return r;
  };
  for (const [a, b] of successors) {
    if (!commits.has(a) || !commits.has(b)) continue;
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  }
  return find;
}

const nanoToUSD = (n: number): number => n / 1e9;
const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

export function computeOutcomes(
  usage: ReadonlyMap<number, SessionUsage>,
  statusOf: (ref: number) => SessionStatus,
  sourceOf: (ref: number) => string,
  f: OutcomeFacts,
): OutcomeFigures {
  const find = outcomeOf(f.commits, f.successors);
  const mature = f.now - f.durabilityDays * 24 * 3_600_000;
  const perOutcome = new Map<number, { tokens: number; costNano: number; output: number }>();
  const outcomeCommits = new Map<number, Set<number>>();
  const prs = new Set<string>();
  const tasks = new Map<
    string,
    {
      sessions: Set<number>;
      sources: Set<string>;
      tokens: number;
      estimated: number;
      costNano: number;
      outcomes: Set<number>;
      delivered: boolean;
    }
  >();
  const task = (k: string): NonNullable<ReturnType<typeof tasks.get>> => {
    let t = tasks.get(k);
    if (!t) {
      t = {
        sessions: new Set(),
        sources: new Set(),
        tokens: 0,
        estimated: 0,
        costNano: 0,
        outcomes: new Set(),
        delivered: false,
      };
      tasks.set(k, t);
    }
    return t;
  };

  for (const [ref, u] of usage) {
    const shipped = statusOf(ref) === 'shipped';
    // Most sessions of a long period neither shipped nor name a task: nothing to add up (and nothing allocated).
    if (!shipped && !f.sessionTasks.has(ref)) continue;
    const ids = shipped ? (f.counted.get(ref) ?? []).filter((id) => f.commits.has(id)) : [];
    const outcomes = [...new Set(ids.map(find))];
    for (const o of outcomes) {
      const acc = perOutcome.get(o) ?? { tokens: 0, costNano: 0, output: 0 };
      acc.tokens += u.tokens / outcomes.length;
      acc.costNano += u.costNano / outcomes.length;
      acc.output += u.output / outcomes.length;
      perOutcome.set(o, acc);
    }
    const sessionTasks = new Set(f.sessionTasks.get(ref) ?? []);
    // A shipped session delivered (part of) the task its branch names, also when the commit that landed it does
    // not say so (a squash titled after the PR).
    if (shipped) {
      for (const k of sessionTasks) {
        const t = task(k);
        t.delivered = true;
        for (const id of ids) t.outcomes.add(find(id));
      }
    }
    for (const id of ids) {
      const c = f.commits.get(id) as OutcomeCommit;
      const o = find(id);
      const members = outcomeCommits.get(o) ?? new Set<number>();
      members.add(id);
      outcomeCommits.set(o, members);
      if (c.pr !== null) prs.add(`${c.repo}#${c.pr}`);
      for (const k of c.tasks) {
        sessionTasks.add(k);
        const t = task(k);
        t.delivered = true;
        t.outcomes.add(o);
      }
    }
    if (sessionTasks.size > 0) {
      for (const k of sessionTasks) {
        const t = task(k);
        t.sessions.add(ref);
        t.sources.add(sourceOf(ref));
        t.tokens += u.tokens / sessionTasks.size;
        t.estimated += (u.estimated ?? 0) / sessionTasks.size;
        t.costNano += u.costNano / sessionTasks.size;
      }
    }
  }

  // Commits set aside, per reason, distinct (a squash and its original are one), from sessions not labelled otherwise.
  const aside = { reverted: new Set<number>(), unmerged: new Set<number>(), others: new Set<number>() };
  if (f.setAside) {
    const ids = new Map<number, OutcomeCommit>();
    for (const [ref, list] of f.setAside)
      if (usage.has(ref))
        for (const a of list) ids.set(a.id, { id: a.id, repo: 0, tasks: [], pr: null, authorTime: 0, kept: null });
    const findAside = outcomeOf(ids, f.successors);
    for (const [ref, list] of f.setAside) {
      if (!usage.has(ref)) continue;
      const status = statusOf(ref);
      if (status !== 'shipped' && status !== 'open' && status !== 'unlinked') continue;
      for (const a of list) if (a.why !== 'revert') aside[a.why].add(findAside(a.id));
    }
  }

  let keptLines = 0;
  let keptOutput = 0;
  let judged = 0;
  let pending = 0;
  for (const [o, members] of outcomeCommits) {
    const list = [...members].map((id) => f.commits.get(id) as OutcomeCommit);
    if (!list.some((c) => c.authorTime < mature)) {
      pending++;
      continue;
    }
    const counts = list.filter((c) => c.authorTime < mature && c.kept !== null).map((c) => c.kept as number);
    if (counts.length === 0) {
      pending++;
      continue;
    }
    judged++;
    keptLines += counts.reduce((a, b) => a + b, 0);
    keptOutput += perOutcome.get(o)?.output ?? 0;
  }

  const delivered = [...tasks.entries()].filter(([, t]) => t.delivered);
  const taskTokens = delivered.map(([, t]) => t.tokens);
  const taskCost = delivered.map(([, t]) => nanoToUSD(t.costNano));
  const outcomeTokens = [...perOutcome.values()].map((v) => v.tokens);
  const outcomeCost = [...perOutcome.values()].map((v) => nanoToUSD(v.costNano));
  const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
  const med = median(outcomeTokens);
  const medCost = median(outcomeCost);
  const medTask = median(taskTokens);
  const medTaskCost = median(taskCost);
  return {
    commits: outcomeCommits.size,
    tasks: delivered.length,
    prs: prs.size,
    tokensPerCommitMedian: med === null ? null : Math.round(med),
    costPerCommitMedian: medCost === null ? null : round6(medCost),
    tokensPerTask: delivered.length > 0 ? Math.round(sum(taskTokens) / delivered.length) : null,
    costPerTask: delivered.length > 0 ? round6(sum(taskCost) / delivered.length) : null,
    tokensPerTaskMedian: medTask === null ? null : Math.round(medTask),
    costPerTaskMedian: medTaskCost === null ? null : round6(medTaskCost),
    keptLines,
    keptLinesPer1kOutput:
      judged > 0 && keptOutput > 0 ? Math.round((keptLines / (keptOutput / 1000)) * 100) / 100 : null,
    keptLinesOutput: Math.round(keptOutput),
    pendingCommits: pending,
    durabilityDays: f.durabilityDays,
    byTask: [...tasks.entries()]
      .map(([k, t]) => ({
        task: k,
        sessions: t.sessions.size,
        sources: [...t.sources].sort(),
        tokens: Math.round(t.tokens),
        estimatedTokens: Math.round(t.estimated),
        costUSD: round6(nanoToUSD(t.costNano)),
        commits: t.outcomes.size,
        delivered: t.delivered,
      }))
      .sort((a, b) => b.tokens - a.tokens || a.task.localeCompare(b.task)),
    reverted: aside.reverted.size,
    unmerged: aside.unmerged.size,
    authoredByOthers: aside.others.size,
  };
}
