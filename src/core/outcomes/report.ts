import type { SessionLabel, SessionStatus, SourceName } from '../usage/model';
import { isoUtc, isoWeekOf, LocalDayMapper } from '../usage/time';
import { fromMicroCredits, fromNanoUSD } from '../usage/pricing';
import { planCost, type Plan, type PlanCost } from '../usage/plans';
import { computeOutcomes, type OutcomeFacts, type OutcomeFigures, type SessionUsage } from './outcomes';
import { selfCheck, type SelfCheck } from './selfcheck';

/** Token fields of every report row (docs/cli.md). */
export interface UsageFigures {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  total: number;
  costUSD: number;
  interactions: number;
  sessions: number;
  /** Interactions whose model is not in the price table: their cost is not in costUSD. */
  unpricedInteractions: number;
  /** Tokens in `total` that were estimated (counted from text or rounded by the tool), not reported exactly. */
  estimatedTokens: number;
  /** Whether `total` is exact, estimated, or partly estimated (compatible extension of docs/cli.md). */
  tokenAccuracy: TokenAccuracy;
  /** Credits metered by tools that bill in credits (Kiro, Amp), beside the tokens; present only when there are some. */
  credits?: number;
  /**
   * What the tools themselves recorded as the cost of their requests (Cline/Roo, Aider, OpenCode, Continue, Claude
   * Code's costUSD), beside the list-price estimate `costUSD`; present only when some request recorded one.
   */
  recordedCostUsd?: number;
  /** How many requests recorded their own cost (those behind recordedCostUsd). */
  recordedInteractions?: number;
}

export type TokenAccuracy = 'exact' | 'estimated' | 'mixed';

/** `exact` when nothing was estimated, `estimated` when everything was, else `mixed`. */
export function accuracyOf(total: number, estimated: number): TokenAccuracy {
  if (estimated <= 0) return 'exact';
  return estimated >= total ? 'estimated' : 'mixed';
}

/** The outcome counts a report carries, as the summary and the team rollup copy them. */
export function outcomeCounts(
  o: ReportJson['outcomes'],
): Pick<
  ReportJson['outcomes'],
  'commits' | 'tasks' | 'prs' | 'shippedSessions' | 'openSessions' | 'unlinkedSessions' | 'labelledSessions'
> {
  return {
    commits: o.commits,
    tasks: o.tasks,
    prs: o.prs,
    shippedSessions: o.shippedSessions,
    openSessions: o.openSessions,
    unlinkedSessions: o.unlinkedSessions,
    labelledSessions: o.labelledSessions,
  };
}

export interface ReportJson {
  period: { since: string | null; until: string | null; timezone: string };
  /** The author emails taken for the engineer's when judging whose a commit is (docs/outcomes.md). */
  identities: string[];
  pricing: { version: string; note: string };
  /** The subscription plan's cost amortised over the period, beside the list-price estimate; null without a plan. */
  planCost: PlanCost | null;
  totals: UsageFigures;
  bySource: Array<{ source: SourceName } & UsageFigures>;
  byModel: Array<{ source: SourceName; model: string; priced: boolean } & UsageFigures>;
  byDay: Array<{ date: string } & UsageFigures>;
  /** By ISO week of the local date (`2026-W49`); the rows sum exactly to `totals`. */
  byWeek: Array<{ week: string } & UsageFigures>;
  /** By calendar month of the local date (`2026-12`); the rows sum exactly to `totals`. */
  byMonth: Array<{ month: string } & UsageFigures>;
  /** Per session (only when asked for: `report --by session`), largest first; the rows sum exactly to `totals`. */
  bySession?: Array<{ session: string; source: SourceName; start: string; status: SessionStatus } & UsageFigures>;
  /** docs/cli.md's outcome fields, plus compatible extensions (PRs, medians, per task, durability, the threshold used). */
  outcomes: OutcomeFigures & {
    shippedSessions: number;
    openSessions: number;
    unlinkedSessions: number;
    labelledSessions: number;
    yield: number | null;
    tokensPerCommit: number | null;
    costPerCommit: number | null;
    tokensWithoutOutcome: number;
    /** Of `tokensWithoutOutcome`, those estimated rather than reported by their tool. */
    estimatedTokensWithoutOutcome: number;
    threshold: number;
  };
  /** The engineer's private self-check signals (never exported by default). */
  selfCheck: SelfCheck;
  coverage: Array<{
    source: SourceName;
    first: string | null;
    last: string | null;
    files: number;
    rejectedLines: number;
    unpricedModels: string[];
    assumedModelInteractions: number;
    /** Tokens of this source in the period that were estimated, and what that makes its figures. */
    estimatedTokens: number;
    tokenAccuracy: TokenAccuracy;
  }>;
}

/** One aggregate row from the ledger: a session's usage of one model within one 15-minute bucket. */
export interface UsageRow {
  sessionRef: number;
  source: SourceName;
  model: string;
  priced: boolean;
  bucket: number;
  firstTs: number;
  lastTs: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  costNano: number;
  interactions: number;
  unpriced: number;
  assumedModel: number;
  /** Tokens of this row that were estimated. */
  estimatedTokens: number;
  /** Micro-credits metered by the tool (0 for tools that bill no credits). */
  creditsMicro?: number;
  /** Nano-dollars the tool recorded as its own cost, and of how many requests (absent: none recorded). */
  recordedNano?: number;
  recordedInteractions?: number;
}

export interface SourceFiles {
  source: SourceName;
  files: number;
  rejectedLines: number;
}

class Acc {
  input = 0;
  output = 0;
  cacheRead = 0;
  cacheWrite = 0;
  reasoning = 0;
  costNano = 0;
  interactions = 0;
  unpriced = 0;
  estimated = 0;
  creditsMicro = 0;
  recordedNano = 0;
  recorded = 0;
  readonly sessions = new Set<number>();

  add(r: UsageRow): void {
    this.input += r.input;
    this.output += r.output;
    this.cacheRead += r.cacheRead;
    this.cacheWrite += r.cacheWrite;
    this.reasoning += r.reasoning;
    this.costNano += r.costNano;
    this.interactions += r.interactions;
    this.unpriced += r.unpriced;
    this.estimated += r.estimatedTokens;
    this.creditsMicro += r.creditsMicro ?? 0;
    this.recordedNano += r.recordedNano ?? 0;
    this.recorded += r.recordedInteractions ?? 0;
    this.sessions.add(r.sessionRef);
  }

  merge(o: Acc): void {
    this.input += o.input;
    this.output += o.output;
    this.cacheRead += o.cacheRead;
    this.cacheWrite += o.cacheWrite;
    this.reasoning += o.reasoning;
    this.costNano += o.costNano;
    this.interactions += o.interactions;
    this.unpriced += o.unpriced;
    this.estimated += o.estimated;
    this.creditsMicro += o.creditsMicro;
    for (const ref of o.sessions) this.sessions.add(ref);
  }

  get total(): number {
    return this.input + this.output + this.cacheRead + this.cacheWrite;
  }

  figures(): UsageFigures {
    return {
      input: this.input,
      output: this.output,
      cacheRead: this.cacheRead,
      cacheWrite: this.cacheWrite,
      reasoning: this.reasoning,
      total: this.total,
      costUSD: roundUSD(fromNanoUSD(this.costNano)),
      interactions: this.interactions,
      sessions: this.sessions.size,
      unpricedInteractions: this.unpriced,
      estimatedTokens: this.estimated,
      tokenAccuracy: accuracyOf(this.total, this.estimated),
      ...creditsField(this.creditsMicro),
      ...(this.recorded > 0
        ? { recordedCostUsd: roundUSD(fromNanoUSD(this.recordedNano)), recordedInteractions: this.recorded }
        : {}),
    };
  }
}

/** `{ credits }` when a figure holds credits, else nothing (tools that bill no credits show no credits field). */
export function creditsField(micro: number): { credits?: number } {
  return micro > 0 ? { credits: fromMicroCredits(micro) } : {};
}

export function roundUSD(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/** Day accumulators merged into coarser keys (weeks, months), in key order. */
function regroup(byDay: ReadonlyMap<string, Acc>, keyOf: (date: string) => string): Array<[string, Acc]> {
  const out = new Map<string, Acc>();
  for (const [date, acc] of byDay) getOrCreate(out, keyOf(date), () => new Acc()).merge(acc);
  return [...out].sort(([a], [b]) => a.localeCompare(b));
}

function getOrCreate<K, V>(m: Map<K, V>, k: K, make: () => V): V {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
}

export interface ReportInput {
  rows: readonly UsageRow[];
  statusOf: (sessionRef: number) => SessionStatus;
  files: readonly SourceFiles[];
  timeZone: string;
  since?: string;
  until?: string;
  pricingVersion: string;
  /** Links, commits and tasks behind the value metrics; without them every outcome figure is zero. */
  outcomes?: OutcomeFacts;
  /** Per session: its id, edited-file count and whole-session span (self-check signals). */
  sessionInfo?: ReadonlyMap<number, { id: string; editedFiles: number; start: number; end: number }>;
  /** Prompt hashes typed in the period, per session. */
  prompts?: ReadonlyMap<number, readonly number[]>;
  threshold?: number;
  /** The engineer's identities the outcomes were judged with (shown in the report). */
  identities?: readonly string[];
  /** The subscription plan to amortise over the period (null or absent: none). */
  plan?: Plan | null;
  /** Add `bySession` (one row per session; large for a year of history, so only on request). */
  bySession?: boolean;
}

const LABELS: ReadonlySet<SessionStatus> = new Set<SessionLabel>(['exploration', 'learning', 'review', 'abandoned']);

/** Totals and value metrics for a period, from aggregate rows (pure: the SQL does the heavy lifting). */
export function buildReport(input: ReportInput): ReportJson {
  const days = new LocalDayMapper(input.timeZone);
  const totals = new Acc();
  const bySource = new Map<SourceName, Acc>();
  const byModel = new Map<string, { source: SourceName; model: string; priced: boolean; acc: Acc }>();
  const byDay = new Map<string, Acc>();
  const bySession = new Map<number, Acc>();
  const span = new Map<SourceName, { first: number; last: number; unpriced: Set<string>; assumed: number }>();
  const sessionTokens = new Map<number, number>();
  const sessionEstimated = new Map<number, number>();
  const usage = new Map<number, SessionUsage>();
  const sessionSource = new Map<number, SourceName>();
  for (const r of input.rows) {
    const u = getOrCreate(usage, r.sessionRef, () => ({
      tokens: 0,
      output: 0,
      sent: 0,
      costNano: 0,
      interactions: 0,
      estimated: 0,
    }));
    u.tokens += r.input + r.output + r.cacheRead + r.cacheWrite;
    u.estimated = (u.estimated ?? 0) + r.estimatedTokens;
    u.output += r.output;
    u.sent += r.input + r.cacheRead + r.cacheWrite;
    u.costNano += r.costNano;
    u.interactions += r.interactions;
    sessionSource.set(r.sessionRef, r.source);
    totals.add(r);
    getOrCreate(bySource, r.source, () => new Acc()).add(r);
    getOrCreate(byModel, `${r.source}\u0000${r.model}`, () => ({
      source: r.source,
      model: r.model,
      priced: r.priced,
      acc: new Acc(),
    })).acc.add(r);
    getOrCreate(byDay, days.dateOfBucket(r.bucket), () => new Acc()).add(r);
    if (input.bySession) getOrCreate(bySession, r.sessionRef, () => new Acc()).add(r);
    const s = getOrCreate(span, r.source, () => ({
      first: r.firstTs,
      last: r.lastTs,
      unpriced: new Set<string>(),
      assumed: 0,
    }));
    s.first = Math.min(s.first, r.firstTs);
    s.last = Math.max(s.last, r.lastTs);
    if (r.unpriced > 0) s.unpriced.add(r.model);
    s.assumed += r.assumedModel;
    sessionTokens.set(
      r.sessionRef,
      (sessionTokens.get(r.sessionRef) ?? 0) + r.input + r.output + r.cacheRead + r.cacheWrite,
    );
    sessionEstimated.set(r.sessionRef, (sessionEstimated.get(r.sessionRef) ?? 0) + r.estimatedTokens);
  }

  let shipped = 0;
  let open = 0;
  let unlinked = 0;
  let labelled = 0;
  let shippedTokens = 0;
  let withoutOutcome = 0;
  let estimatedWithoutOutcome = 0;
  for (const [ref, tokens] of sessionTokens) {
    const status = input.statusOf(ref);
    if (status === 'shipped') {
      shipped++;
      shippedTokens += tokens;
    } else if (status === 'open') {
      open++;
    } else if (status === 'unlinked') {
      unlinked++;
      withoutOutcome += tokens;
      estimatedWithoutOutcome += sessionEstimated.get(ref) ?? 0;
    } else if (LABELS.has(status)) {
      labelled++;
      withoutOutcome += tokens;
      estimatedWithoutOutcome += sessionEstimated.get(ref) ?? 0;
    }
  }
  const facts: OutcomeFacts = input.outcomes ?? {
    counted: new Map(),
    commits: new Map(),
    successors: [],
    sessionTasks: new Map(),
    now: 0,
    durabilityDays: 30,
  };
  const figures = computeOutcomes(usage, input.statusOf, (ref) => sessionSource.get(ref) ?? 'manual', facts);
  const commits = figures.commits;
  const total = totals.total;
  const info = input.sessionInfo ?? new Map<number, { id: string; editedFiles: number; start: number; end: number }>();
  const signals = selfCheck(
    [...usage].map(([ref, u]) => {
      const i = info.get(ref);
      return {
        ref,
        id: i?.id ?? String(ref),
        tokens: u.tokens,
        sent: u.sent,
        output: u.output,
        interactions: u.interactions,
        editedFiles: i?.editedFiles ?? 0,
        start: i?.start ?? 0,
        end: i?.end ?? 0,
        status: input.statusOf(ref),
      };
    }),
    input.prompts ?? new Map(),
  );
  const costUSD = fromNanoUSD(totals.costNano);

  const fileInfo = new Map(input.files.map((f) => [f.source, f]));
  const coverageSources = new Set<SourceName>([...span.keys(), ...fileInfo.keys()]);

  return {
    period: { since: input.since ?? null, until: input.until ?? null, timezone: input.timeZone },
    identities: [...(input.identities ?? [])],
    pricing: {
      version: input.pricingVersion,
      note: 'Costs are list-price estimates from the embedded price table (@pydantic/genai-prices); models not in the table are left unpriced.',
    },
    planCost: input.plan ? planCost(input.plan, periodDays(input, days, span), commits, figures.tasks) : null,
    totals: totals.figures(),
    bySource: [...bySource]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([source, acc]) => ({ source, ...acc.figures() })),
    byModel: [...byModel.values()]
      .sort((a, b) => b.acc.total - a.acc.total || a.model.localeCompare(b.model))
      .map((m) => ({ source: m.source, model: m.model, priced: m.priced, ...m.acc.figures() })),
    byDay: [...byDay].sort(([a], [b]) => a.localeCompare(b)).map(([date, acc]) => ({ date, ...acc.figures() })),
    byWeek: regroup(byDay, isoWeekOf).map(([week, acc]) => ({ week, ...acc.figures() })),
    byMonth: regroup(byDay, (date) => date.slice(0, 7)).map(([month, acc]) => ({ month, ...acc.figures() })),
    ...(input.bySession
      ? {
          bySession: [...bySession]
            .map(([ref, acc]) => {
              const i = info.get(ref);
              return {
                session: i?.id ?? String(ref),
                source: sessionSource.get(ref) ?? 'manual',
                start: isoUtc(i?.start ?? 0),
                status: input.statusOf(ref),
                ...acc.figures(),
              };
            })
            .sort((a, b) => b.total - a.total || a.session.localeCompare(b.session)),
        }
      : {}),
    outcomes: {
      commits,
      tasks: figures.tasks,
      shippedSessions: shipped,
      openSessions: open,
      unlinkedSessions: unlinked,
      labelledSessions: labelled,
      yield: total > 0 ? shippedTokens / total : null,
      tokensPerCommit: commits > 0 ? Math.round(shippedTokens / commits) : null,
      costPerCommit: commits > 0 ? roundUSD(costUSD / commits) : null,
      tokensWithoutOutcome: withoutOutcome,
      estimatedTokensWithoutOutcome: estimatedWithoutOutcome,
      prs: figures.prs,
      threshold: input.threshold ?? 0.6,
      tokensPerCommitMedian: figures.tokensPerCommitMedian,
      costPerCommitMedian: figures.costPerCommitMedian,
      tokensPerTask: figures.tokensPerTask,
      costPerTask: figures.costPerTask,
      tokensPerTaskMedian: figures.tokensPerTaskMedian,
      costPerTaskMedian: figures.costPerTaskMedian,
      keptLines: figures.keptLines,
      keptLinesPer1kOutput: figures.keptLinesPer1kOutput,
      keptLinesOutput: figures.keptLinesOutput,
      pendingCommits: figures.pendingCommits,
      durabilityDays: figures.durabilityDays,
      byTask: figures.byTask,
      reverted: figures.reverted,
      unmerged: figures.unmerged,
      authoredByOthers: figures.authoredByOthers,
    },
    selfCheck: signals,
    coverage: [...coverageSources].sort().map((source) => {
      const s = span.get(source);
      const f = fileInfo.get(source);
      const src = bySource.get(source);
      return {
        source,
        first: s ? isoUtc(s.first) : null,
        last: s ? isoUtc(s.last) : null,
        files: f?.files ?? 0,
        rejectedLines: f?.rejectedLines ?? 0,
        unpricedModels: s ? [...s.unpriced].sort() : [],
        assumedModelInteractions: s?.assumed ?? 0,
        estimatedTokens: src?.estimated ?? 0,
        tokenAccuracy: accuracyOf(src?.total ?? 0, src?.estimated ?? 0),
      };
    }),
  };
}

/**
 * Days a plan cost is spread over: the period's days (since..until, both included); an open end stops at the first or
 * last record. No records and no bounds: 0 days.
 */
function periodDays(
  input: ReportInput,
  days: LocalDayMapper,
  span: ReadonlyMap<SourceName, { first: number; last: number }>,
): number {
  const spans = [...span.values()];
  const first = input.since ?? (spans.length > 0 ? days.date(Math.min(...spans.map((s) => s.first))) : undefined);
  const last = input.until ?? (spans.length > 0 ? days.date(Math.max(...spans.map((s) => s.last))) : undefined);
  if (first === undefined || last === undefined) return 0;
  const d = Math.round((Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / 86_400_000) + 1;
  return Math.max(0, d);
}

/** How long after its last reply a session without a commit still counts as "open" rather than unlinked. */
export const OPEN_WINDOW_MS = 24 * 3_600_000;

export function sessionStatus(s: { label: string | null; shipped: boolean; end: number }, now: number): SessionStatus {
  if (s.label && LABELS.has(s.label as SessionStatus)) return s.label as SessionLabel;
  if (s.shipped) return 'shipped';
  if (now - s.end < OPEN_WINDOW_MS) return 'open';
  return 'unlinked';
}
