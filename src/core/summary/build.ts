/**
 * Building the summary (pure): from the period's report, the weekly reports and the facts behind the outcomes.
 * The document's shape is in schema.ts, its manifest in manifest.ts, its rendering in render.ts.
 */
import type { EvidenceKind, LinkState } from '../outcomes/linking';
import type { SessionStatus } from '../usage/model';
import { outcomeOf, type OutcomeCommit } from '../outcomes/outcomes';
import type { CommitStanding, SetAside } from '../outcomes/standing';
import { outcomeCounts, type ReportJson } from '../outcomes/report';
import { noun } from '../usage/format';
import { int } from './numbers';
import {
  CLAIM,
  EVIDENCE_KINDS,
  STATUSES,
  type Summary,
  type SummaryCommit,
  type SummaryOutcome,
  type SummarySetAside,
  type SummaryTask,
  type SummaryWeek,
} from './schema';

export interface SummarySession {
  ref: number;
  /** How the summary cites it: `source:session-key`, or `source:#<hash>` when the key is not a plain id (services/summary.ts citedId). */
  id: string;
  /** `source:session-key` as the ledger knows it (never written into a summary). */
  ledgerId: string;
  source: string;
  status: SessionStatus;
  /** Tokens and cost within the period. */
  tokens: number;
  /** Tokens of `tokens` that were estimated (counted from text or rounded), not reported exactly. */
  estimatedTokens: number;
  costNano: number;
  models: readonly string[];
  branchTasks: readonly string[];
  /** Counted commits (ledger ids). */
  counted: readonly number[];
  /** Linked commits whose link counts but that are not the engineer's outcome (ledger ids), and why. */
  setAside?: ReadonlyArray<{ id: number; why: SetAside }>;
}

export interface SummaryCommitFacts extends OutcomeCommit {
  sha: string;
  repoRoot: string;
  subject: string;
  /** The changed files' count and the SHA-256 of their sorted paths (services/summary.ts filesDigest). */
  files: { count: number; sha256: string };
  standing?: CommitStanding;
}

export interface SummaryInput {
  generatedAt: string;
  toolVersion: string;
  period: { since: string; until: string; timezone: string };
  redact: { repos: boolean; subjects: boolean };
  report: ReportJson;
  weeks: ReadonlyArray<{ since: string; until: string; report: ReportJson }>;
  sessions: readonly SummarySession[];
  commits: ReadonlyMap<number, SummaryCommitFacts>;
  successors: ReadonlyArray<readonly [number, number]>;
  /** Evidence kinds and state of each counted link, by `sessionRef:commitRef`. */
  links: ReadonlyMap<string, { kinds: readonly EvidenceKind[]; state: LinkState }>;
  now: number;
  durabilityDays: number;
  openWindowHours: number;
  gaps: readonly string[];
  records: Summary['records'];
  /** The engineer's identities the outcomes were judged with. */
  identities?: readonly string[];
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;
const DAY = 86_400_000;

/** Whether tokens were reported exactly or estimated: carried over when the report has it (its own fields first). */
interface Accuracy {
  estimatedTokens?: number;
  tokenAccuracy?: 'exact' | 'estimated' | 'mixed';
}

/** Why a source's tokens can be estimates (docs/sources.md), for the summary's coverage. */
const ESTIMATE_REASONS: Record<string, string> = {
  'copilot-chat':
    'older Copilot Chat files record no token counts, so the visible prompt and reply were counted with a tokenizer (a floor)',
  aider: 'aider writes rounded counts such as 1.2k',
  continue: "Continue's dev data holds its own estimates",
  manual: 'manual entries estimated from pasted text',
  'amazon-q':
    'Amazon Q Developer records no token counts, so its prompts and replies were counted with a tokenizer (a floor)',
  cursor:
    'newer Cursor builds record 0 tokens for some replies, so those were counted from their text with a tokenizer',
};

/** `{ estimatedTokens }` when some tokens of a figure were estimated, else nothing (an exact figure carries no field). */
function estimated(n: number): { estimatedTokens?: number } {
  return n > 0 ? { estimatedTokens: Math.round(n) } : {};
}

function accuracyOf(x: object): Accuracy {
  const a = x as Accuracy;
  return a.estimatedTokens === undefined
    ? {}
    : { estimatedTokens: a.estimatedTokens, ...(a.tokenAccuracy ? { tokenAccuracy: a.tokenAccuracy } : {}) };
}

/** The usage figures a summary carries, field by field (a report may have more fields than this version knows). */
function usageOf(x: ReportJson['totals']): Summary['totals'] {
  return {
    input: x.input,
    output: x.output,
    cacheRead: x.cacheRead,
    cacheWrite: x.cacheWrite,
    reasoning: x.reasoning,
    total: x.total,
    costUSD: x.costUSD,
    interactions: x.interactions,
    sessions: x.sessions,
    unpricedInteractions: x.unpricedInteractions,
    ...accuracyOf(x),
    ...(x.credits !== undefined ? { credits: x.credits } : {}),
    ...(x.recordedCostUsd !== undefined
      ? { recordedCostUsd: x.recordedCostUsd, recordedInteractions: x.recordedInteractions ?? 0 }
      : {}),
  };
}

function baseName(root: string): string {
  const parts = root.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? root;
}

/** A date's day count since the epoch, for the number of days in a period. */
function dayNumber(date: string): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / DAY);
}

/**
 * The tasks and the outcomes under them, as computeOutcomes (outcomes.ts) decides membership, and the linked commits
 * that do not count (set aside, with the sessions that assisted them).
 */
function buildTasks(input: SummaryInput): { tasks: SummaryTask[]; notCounted: SummarySetAside[] } {
  const r = input.report;
  const find = outcomeOf(input.commits, input.successors);
  const mature = input.now - input.durabilityDays * DAY;
  const repoRoots = [...new Set([...input.commits.values()].map((c) => c.repoRoot))].sort();
  const repoLabel = new Map(
    repoRoots.map((root, i) => [root, input.redact.repos ? `repository ${i + 1}` : baseName(root)]),
  );

  // Task membership, as computeOutcomes (outcomes.ts) decides it: a shipped session's branch tasks get all its
  // counted commits; a counted commit's own task keys get that commit; a session belongs to every task either names.
  interface TaskAcc {
    sessions: Set<number>;
    outcomes: Set<number>;
    models: Set<string>;
  }
  const tasks = new Map<string | null, TaskAcc>();
  const taskAcc = (k: string | null): TaskAcc => {
    let t = tasks.get(k);
    if (!t) tasks.set(k, (t = { sessions: new Set(), outcomes: new Set(), models: new Set() }));
    return t;
  };
  const outcomeMembers = new Map<number, Set<number>>();
  const outcomeSessions = new Map<number, Set<number>>();
  const sessionById = new Map(input.sessions.map((s) => [s.ref, s]));
  let noTaskTokens = 0;
  /** How many tasks share each session's tokens (as computeOutcomes splits them), for the estimated share of a task. */
  const taskCount = new Map<number, number>();
  let noTaskCostNano = 0;
  for (const s of input.sessions) {
    const shipped = s.status === 'shipped';
    const ids = shipped ? s.counted.filter((id) => input.commits.has(id)) : [];
    const names = new Set(s.branchTasks);
    for (const id of ids) {
      const o = find(id);
      const members = outcomeMembers.get(o) ?? new Set<number>();
      members.add(id);
      outcomeMembers.set(o, members);
      const cited = outcomeSessions.get(o) ?? new Set<number>();
      cited.add(s.ref);
      outcomeSessions.set(o, cited);
      for (const k of (input.commits.get(id) as SummaryCommitFacts).tasks) {
        names.add(k);
        taskAcc(k).outcomes.add(o);
      }
    }
    if (shipped) for (const k of s.branchTasks) for (const id of ids) taskAcc(k).outcomes.add(find(id));
    taskCount.set(s.ref, names.size);
    for (const k of names) {
      const t = taskAcc(k);
      t.sessions.add(s.ref);
      for (const m of s.models) t.models.add(m);
    }
    if (names.size === 0 && ids.length > 0) {
      const t = taskAcc(null);
      t.sessions.add(s.ref);
      for (const m of s.models) t.models.add(m);
      for (const id of ids) t.outcomes.add(find(id));
      noTaskTokens += s.tokens;
      noTaskCostNano += s.costNano;
    }
  }

  const standingOf = (
    c: SummaryCommitFacts,
  ): Pick<SummaryCommit, 'author' | 'authoredByEngineer' | 'coAuthored' | 'reverted' | 'merged'> => {
    const st = c.standing;
    if (!st) return {};
    return {
      author: st.author,
      authoredByEngineer: st.authoredByEngineer,
      ...(st.coAuthored ? { coAuthored: true } : {}),
      reverted: st.reverted,
      merged: st.merged,
    };
  };
  /** What every cited commit says, counted or not: its full sha, where, what, when, its PR, whose and what became of it. */
  const citedOf = (c: SummaryCommitFacts): Omit<SummaryCommit, 'keptLines' | 'authoredAt' | 'files'> => ({
    sha: c.sha,
    repo: repoLabel.get(c.repoRoot) ?? 'repository',
    subject: input.redact.subjects ? null : c.subject,
    committed: new Date(c.authorTime).toISOString().slice(0, 10),
    pr: c.pr,
    ...standingOf(c),
  });
  const commitOf = (id: number): SummaryCommit => {
    const c = input.commits.get(id) as SummaryCommitFacts;
    return {
      ...citedOf(c),
      authoredAt: isoSecond(c.authorTime),
      files: { ...c.files },
      keptLines: c.authorTime < mature ? c.kept : null,
    };
  };
  // Linked commits that do not count, shown apart with the sessions that assisted them (never in a headline figure).
  const asideSessions = new Map<number, { why: SetAside; sessions: Set<string> }>();
  for (const s of input.sessions) {
    if (s.status !== 'shipped' && s.status !== 'open' && s.status !== 'unlinked') continue;
    for (const a of s.setAside ?? []) {
      if (a.why === 'revert' || !input.commits.has(a.id)) continue;
      const e = asideSessions.get(a.id) ?? { why: a.why, sessions: new Set<string>() };
      e.sessions.add(s.id);
      asideSessions.set(a.id, e);
    }
  }
  const notCounted: SummarySetAside[] = [...asideSessions]
    .map(([id, e]) => ({
      ...citedOf(input.commits.get(id) as SummaryCommitFacts),
      reason: e.why as SummarySetAside['reason'],
      sessions: [...e.sessions].sort(),
    }))
    .sort((a, b) => a.committed.localeCompare(b.committed) || a.sha.localeCompare(b.sha));
  const outcomeOfRoot = (o: number): SummaryOutcome & { firstTime: number } => {
    const members = [...(outcomeMembers.get(o) ?? [])].sort(
      (a, b) => (input.commits.get(a)?.authorTime ?? 0) - (input.commits.get(b)?.authorTime ?? 0) || a - b,
    );
    const sessions = [...(outcomeSessions.get(o) ?? [])].map((ref) => sessionById.get(ref) as SummarySession);
    const kinds = new Set<EvidenceKind>();
    let confirmed = false;
    for (const s of sessions) {
      for (const id of members) {
        const l = input.links.get(`${s.ref}:${id}`);
        if (!l) continue;
        for (const k of l.kinds) kinds.add(k);
        if (l.state === 'confirmed') {
          kinds.add('manual');
          confirmed = true;
        }
      }
    }
    const facts = members.map((id) => input.commits.get(id) as SummaryCommitFacts);
    const judged = facts.filter((c) => c.authorTime < mature && c.kept !== null).map((c) => c.kept as number);
    return {
      commits: members.map(commitOf),
      sessions: sessions.map((s) => s.id).sort(),
      evidence: EVIDENCE_KINDS.filter((k) => kinds.has(k)),
      confirmed,
      keptLines: judged.length > 0 ? judged.reduce((a, b) => a + b, 0) : null,
      pending: judged.length === 0,
      firstTime: facts[0]?.authorTime ?? 0,
    };
  };

  const byTask = new Map(r.outcomes.byTask.map((t) => [t.task, t]));
  const taskList: SummaryTask[] = [];
  const keys = [...tasks.keys()].filter((k): k is string => k !== null);
  // The report's order (tokens, then key) for tasks; the outcomes without a task key last.
  const order = (k: string): number => r.outcomes.byTask.findIndex((t) => t.task === k);
  keys.sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  for (const k of [...keys, ...(tasks.has(null) ? [null] : [])]) {
    const acc = tasks.get(k) as TaskAcc;
    const figures = k === null ? undefined : byTask.get(k);
    const outcomes = [...acc.outcomes]
      .map(outcomeOfRoot)
      .sort((a, b) => a.firstTime - b.firstTime || a.commits[0]!.sha.localeCompare(b.commits[0]!.sha));
    const sessions = [...acc.sessions].map((ref) => sessionById.get(ref) as SummarySession);
    taskList.push({
      task: k,
      delivered: k === null ? true : (figures?.delivered ?? false),
      tokens: k === null ? noTaskTokens : (figures?.tokens ?? 0),
      costUSD: k === null ? round6(noTaskCostNano / 1e9) : (figures?.costUSD ?? 0),
      sessions: k === null ? sessions.length : (figures?.sessions ?? sessions.length),
      commits: k === null ? outcomes.length : (figures?.commits ?? outcomes.length),
      sources: k === null ? [...new Set(sessions.map((s) => s.source))].sort() : (figures?.sources ?? []),
      models: [...acc.models].sort(),
      keptLines: outcomes.reduce((a, o) => a + (o.keptLines ?? 0), 0),
      pendingCommits: outcomes.filter((o) => o.pending).length,
      outcomes: outcomes.map((o) => withoutFirstTime(o)),
      citedSessions: sessions.map((s) => s.id).sort(),
      ...estimated(
        Math.ceil(
          sessions.reduce(
            (a, x) => a + x.estimatedTokens / (k === null ? 1 : Math.max(1, taskCount.get(x.ref) ?? 1)),
            0,
          ),
        ),
      ),
    });
  }
  // Delivered tasks first; a task only named by a branch with nothing counted yet comes after them.
  taskList.sort((a, b) => Number(b.delivered) - Number(a.delivered));
  return { tasks: taskList, notCounted };
}

/** The tokens that led to no counted outcome, by session status, and the open sessions apart. */
function buildWithoutOutcome(input: SummaryInput): Summary['withoutOutcome'] {
  const groups = STATUSES.map((status) => {
    const list = input.sessions.filter((s) => s.status === status);
    return {
      status,
      sessions: list.length,
      tokens: list.reduce((a, s) => a + s.tokens, 0),
      costUSD: round6(list.reduce((a, s) => a + s.costNano, 0) / 1e9),
      sessionIds: list.map((s) => s.id).sort(),
      ...estimated(list.reduce((a, s) => a + s.estimatedTokens, 0)),
    };
  }).filter((g) => g.sessions > 0);
  const open = input.sessions.filter((s) => s.status === 'open');
  return {
    tokens: input.report.outcomes.tokensWithoutOutcome,
    costUSD: round6(groups.reduce((a, g) => a + g.costUSD, 0)),
    groups,
    open: {
      sessions: open.length,
      tokens: open.reduce((a, s) => a + s.tokens, 0),
      costUSD: round6(open.reduce((a, s) => a + s.costNano, 0) / 1e9),
      ...estimated(open.reduce((a, s) => a + s.estimatedTokens, 0)),
    },
    ...estimated(groups.reduce((a, g) => a + (g.estimatedTokens ?? 0), 0)),
  };
}

/** One row a week: the trend of tokens, cost and outcomes over the period. */
function buildTrend(input: SummaryInput): SummaryWeek[] {
  return input.weeks.map((w) => ({
    since: w.since,
    until: w.until,
    tokens: w.report.totals.total,
    costUSD: w.report.totals.costUSD,
    commits: w.report.outcomes.commits,
    yield: w.report.outcomes.yield,
    tokensPerCommit: w.report.outcomes.tokensPerCommit,
    costPerCommit: w.report.outcomes.costPerCommit,
    tokensWithoutOutcome: w.report.outcomes.tokensWithoutOutcome,
    tasks: w.report.outcomes.tasks,
    tokensPerTask: w.report.outcomes.tokensPerTask,
    costPerTask: w.report.outcomes.costPerTask,
    ...estimated((w.report.totals as Accuracy).estimatedTokens ?? 0),
  }));
}

/** What the coverage section says is estimated: list prices, unpriced and assumed models, estimated tokens, credits, open and young outcomes. */
function buildEstimates(input: SummaryInput): string[] {
  const r = input.report;
  const o = r.outcomes;
  const open = input.sessions.filter((s) => s.status === 'open');
  const estimates: string[] = [
    `Every cost is a list-price estimate from the embedded price table ${r.pricing.version}, not an invoice.`,
  ];
  if (r.totals.unpricedInteractions > 0) {
    const models = [...new Set(r.coverage.flatMap((c) => c.unpricedModels))].sort();
    estimates.push(
      `${int(r.totals.unpricedInteractions)} requests used models the price table does not know (${models.join(', ')}): their cost is not in the totals.`,
    );
  }
  const assumed = r.coverage.reduce((a, c) => a + c.assumedModelInteractions, 0);
  if (assumed > 0)
    estimates.push(
      `${int(assumed)} requests came from tool builds that did not record the model: the default model was assumed for their cost.`,
    );
  const estimatedTokens = (r.totals as Accuracy).estimatedTokens ?? 0;
  if (estimatedTokens > 0) {
    const parts = r.coverage
      .filter((c) => ((c as Accuracy).estimatedTokens ?? 0) > 0)
      .map(
        (c) =>
          `${c.source}: ${int((c as Accuracy).estimatedTokens ?? 0)}, ${ESTIMATE_REASONS[c.source] ?? 'counted from text or rounded by the tool'}`,
      );
    estimates.push(
      `${int(estimatedTokens)} of the ${int(r.totals.total)} tokens were estimated, not reported exactly (${parts.join('; ')}): figures that include them are marked ≈.`,
    );
  }
  if (r.totals.credits !== undefined) {
    const parts = r.bySource.filter((x) => x.credits !== undefined).map((x) => `${x.source}: ${x.credits}`);
    estimates.push(
      `${r.totals.credits} credits were metered by tools that bill in credits (${parts.join('; ')}): they are priced at the tool's documented price per credit and never counted as tokens.`,
    );
  }
  if (open.length > 0)
    estimates.push(
      `${open.length} ${noun(open.length, 'session')} ended less than ${input.openWindowHours} hours before the export and may still lead to a commit: they are counted as open, neither shipped nor without outcome.`,
    );
  if (o.pendingCommits > 0)
    estimates.push(
      `${o.pendingCommits} outcomes are younger than ${input.durabilityDays} days: their kept lines are not judged yet.`,
    );
  return estimates;
}

export function buildSummary(input: SummaryInput): Summary {
  const r = input.report;
  const { tasks, notCounted } = buildTasks(input);
  const o = r.outcomes;
  return {
    generatedAt: input.generatedAt,
    tool: { name: 'outcome-ledger', version: input.toolVersion },
    period: { ...input.period, days: dayNumber(input.period.until) - dayNumber(input.period.since) + 1 },
    redacted: { ...input.redact },
    settings: {
      threshold: o.threshold,
      durabilityDays: o.durabilityDays,
      openWindowHours: input.openWindowHours,
      ...(input.identities ? { identities: [...input.identities] } : {}),
    },
    pricing: { version: r.pricing.version, note: r.pricing.note },
    ...(r.planCost ? { planCost: { ...r.planCost } } : {}),
    totals: usageOf(r.totals),
    outcomes: {
      ...outcomeCounts(o),
      yield: o.yield,
      tokensPerCommit: o.tokensPerCommit,
      costPerCommit: o.costPerCommit,
      tokensPerCommitMedian: o.tokensPerCommitMedian,
      costPerCommitMedian: o.costPerCommitMedian,
      tokensPerTask: o.tokensPerTask,
      costPerTask: o.costPerTask,
      tokensPerTaskMedian: o.tokensPerTaskMedian,
      costPerTaskMedian: o.costPerTaskMedian,
      tokensWithoutOutcome: o.tokensWithoutOutcome,
      keptLines: o.keptLines,
      keptLinesPer1kOutput: o.keptLinesPer1kOutput,
      pendingCommits: o.pendingCommits,
      reverted: o.reverted,
      unmerged: o.unmerged,
      authoredByOthers: o.authoredByOthers,
    },
    tasks,
    notCounted,
    trend: buildTrend(input),
    withoutOutcome: buildWithoutOutcome(input),
    bySource: r.bySource.map((x) => ({ source: x.source, ...usageOf(x) })),
    byModel: r.byModel.map((x) => ({ source: x.source, model: x.model, priced: x.priced, ...usageOf(x) })),
    coverage: {
      sources: r.coverage.map((c) => ({
        source: c.source,
        first: c.first,
        last: c.last,
        files: c.files,
        rejectedLines: c.rejectedLines,
        unpricedModels: [...c.unpricedModels],
        assumedModelInteractions: c.assumedModelInteractions,
        ...accuracyOf(c),
      })),
      gaps: [...input.gaps],
      estimates: buildEstimates(input),
    },
    claim: { ...CLAIM },
    records: { ...input.records },
  };
}

/** An instant as ISO 8601 UTC to the second (git keeps author times in whole seconds). */
export function isoSecond(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function withoutFirstTime(o: SummaryOutcome & { firstTime: number }): SummaryOutcome {
  const copy: Partial<SummaryOutcome & { firstTime: number }> = { ...o };
  delete copy.firstTime;
  return copy as SummaryOutcome;
}

/** Periods of seven days from `since` (the last one may be shorter), for the trend. */
export function weeksOf(since: string, until: string): Array<{ since: string; until: string }> {
  const out: Array<{ since: string; until: string }> = [];
  const first = dayNumber(since);
  const last = dayNumber(until);
  const day = (n: number): string => new Date(n * DAY).toISOString().slice(0, 10);
  for (let d = first; d <= last; d += 7) out.push({ since: day(d), until: day(Math.min(d + 6, last)) });
  return out;
}

/**
 * Differences between two summaries' figures (the file's and the ledger's), as `path: file says X, ledger gives Y`.
 * The export time and the tool version are not figures.
 */
export function figureDifferences(file: Summary, ledger: Summary, limit = 12): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, at: string): void => {
    if (out.length >= limit) return;
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) {
        out.push(`${at}: the file lists ${a.length} entries, the ledger gives ${b.length}`);
        return;
      }
      a.forEach((x, i) => walk(x, b[i], `${at}[${i}]`));
      return;
    }
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      for (const k of keys)
        walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], at ? `${at}.${k}` : k);
      return;
    }
    if (a !== b)
      out.push(`${at}: the file says ${JSON.stringify(a ?? null)}, the ledger gives ${JSON.stringify(b ?? null)}`);
  };
  walk({ ...file, generatedAt: null, tool: null }, { ...ledger, generatedAt: null, tool: null }, '');
  return out;
}
