import type { SessionLabel, SessionStatus, SourceName } from '../usage/model';
import { dateOfDayNumber, isoUtc, isoWeekOf, LocalDayMapper } from '../usage/time';
import { fromMicroCredits, fromNanoUSD } from '../usage/pricing';
import { planCost, type Plan, type PlanCost } from '../usage/plans';
import { computeOutcomes, type OutcomeFacts, type OutcomeFigures, type SessionUsage } from './outcomes';
import { selfCheck, type RepeatedPrompts, type SelfCheck } from './selfcheck';

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
  }

  /** `merge`, with the tools' recorded cost too (what a source's or the period's total is made of). */
  mergeAll(o: Acc): void {
    this.merge(o);
    this.recordedNano += o.recordedNano;
    this.recorded += o.recorded;
  }

  get total(): number {
    return this.input + this.output + this.cacheRead + this.cacheWrite;
  }

  /** The figures, with the distinct sessions behind them (counted apart: SessionPairs). */
  figures(sessions: number): UsageFigures {
    return {
      input: this.input,
      output: this.output,
      cacheRead: this.cacheRead,
      cacheWrite: this.cacheWrite,
      reasoning: this.reasoning,
      total: this.total,
      costUSD: roundUSD(fromNanoUSD(this.costNano)),
      interactions: this.interactions,
      sessions,
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

/**
 * Day accumulators merged into coarser keys (weeks, months), in key order, each with its distinct sessions: those of
 * its days' (session, day) pairs (`days`: sorted and distinct, as SessionPairs gives them).
 */
function regroup(
  byDay: ReadonlyMap<number, Acc>,
  days: Float64Array,
  keyOf: (date: string) => string,
): Array<[key: string, acc: Acc, sessions: number]> {
  // Each coarser key's index (its group in the pairs), its accumulator, and each day's group.
  const indexOf = new Map<string, number>();
  const accs: Acc[] = [];
  const groupOf = new Map<number, number>();
  for (const [day, acc] of byDay) {
    const key = keyOf(dateOfDayNumber(day));
    let i = indexOf.get(key);
    if (i === undefined) {
      i = accs.push(new Acc()) - 1;
      indexOf.set(key, i);
    }
    (accs[i] as Acc).merge(acc);
    groupOf.set(day, i);
  }
  const counts = SessionPairs.countsBy(days, (day) => groupOf.get(day) ?? 0);
  return [...indexOf]
    .map(([key, i]): [string, Acc, number] => [key, accs[i] as Acc, counts.get(i) ?? 0])
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * Which sessions had rows in which group (a day, a model), for distinct-session counts: one number per (group,
 * session) pair in a growing Float64Array, sorted and counted once at the end. A Set per group held every session
 * again (a year of heavy use: 47,000 sessions in each of the totals', sources', models', days', weeks' and months'
 * sets, 250,000 insertions); the pairs are ~60,000 numbers. `session` is the session's index in the report (dense),
 * `group` a small non-negative integer.
 */
class SessionPairs {
  private keys = new Float64Array(1024);
  private n = 0;
  private last = -1;

  add(group: number, session: number): void {
    const key = group * PAIR + session;
    if (key === this.last) return; // a session's rows mostly come together
    this.last = key;
    if (this.n === this.keys.length) {
      const grown = new Float64Array(this.n * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    this.keys[this.n++] = key;
  }

  /** The pairs, sorted (by group, then session) and each once. */
  distinct(): Float64Array {
    const keys = this.keys.subarray(0, this.n).sort();
    let w = 0;
    for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[w - 1]) keys[w++] = keys[i] as number;
    this.n = w;
    return keys.subarray(0, w);
  }

  static groupOf(pair: number): number {
    return Math.floor(pair / PAIR);
  }

  static sessionOf(pair: number): number {
    return pair % PAIR;
  }

  /** Distinct sessions per group, from distinct pairs. */
  static counts(distinct: Float64Array): Map<number, number> {
    const out = new Map<number, number>();
    for (const pair of distinct) {
      const g = SessionPairs.groupOf(pair);
      out.set(g, (out.get(g) ?? 0) + 1);
    }
    return out;
  }

  /** Distinct sessions per coarser group, from distinct pairs: each pair's group mapped by `to` (a day to its week). */
  static countsBy(distinct: Float64Array, to: (group: number) => number): Map<number, number> {
    const pairs = new SessionPairs();
    for (const pair of distinct) pairs.add(to(SessionPairs.groupOf(pair)), SessionPairs.sessionOf(pair));
    return SessionPairs.counts(pairs.distinct());
  }
}

/** A pair's group is its key's multiple of this, its session the rest (sessions in one report: far fewer than 2^32). */
const PAIR = 0x1_0000_0000;

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
  sessionInfo?: ReadonlyMap<number, { id?: string; editedFiles: number; start: number; end: number }>;
  /** The id of a session `sessionInfo` gives none for, asked only for the sessions the report names. */
  sessionId?: (sessionRef: number) => string | undefined;
  /** Prompt hashes typed in the period, per session. */
  prompts?: ReadonlyMap<number, readonly number[]>;
  /** Or, in their place, what the self-check makes of them (counted from the ledger: services/queries.ts). */
  repeatedPrompts?: RepeatedPrompts;
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
  const builder = new ReportBuilder(input.timeZone, input.bySession === true);
  for (const r of input.rows) builder.add(r);
  return builder.finish(input);
}

/** What a report needs beside its rows: the period, the sessions' statuses and facts, the outcomes. */
export type ReportContext = Omit<ReportInput, 'rows' | 'timeZone' | 'bySession'>;

/** One session's usage in the period (what the value metrics and the self-check read), its source and its row. */
interface SessionAcc extends SessionUsage {
  /** Its index among the report's sessions (in the order first seen). */
  index: number;
  estimated: number;
  source: SourceName;
  /** Its `bySession` figures (only when asked for). */
  acc: Acc | null;
}

/** One source's figures and the span, unpriced models and assumed-model requests its coverage line shows. */
interface SourceAcc {
  acc: Acc;
  first: number;
  last: number;
  unpriced: Set<string>;
  assumed: number;
}

/** One source and model's figures, and what its source's coverage line takes from it. */
interface ModelAcc {
  /** Its index in the builder's `models`. */
  index: number;
  source: SourceName;
  model: string;
  priced: boolean;
  acc: Acc;
  first: number;
  last: number;
  /** Some request of it was unpriced. */
  unpriced: boolean;
  assumed: number;
}

/**
 * A report built from rows as they come (one pass, nothing kept per row): `add` each row of the period, then `finish`
 * with what the report needs about sessions and outcomes. Rows are read, never kept, so a caller can hand the same
 * object back refilled. The sums do not depend on the order of the rows; the order sessions and models are first seen
 * in breaks ties, as an array's order did. `buildReport` is this over an array.
 */
export class ReportBuilder {
  private readonly days: LocalDayMapper;
  /** Source and model pairs in the order first seen (ties in the report keep it), found through `modelIndex`. */
  private readonly models: ModelAcc[] = [];
  private readonly modelIndex = new Map<SourceName, Map<string, ModelAcc>>();
  /** By local day number (LocalDayMapper.dayOfBucket). */
  private readonly byDay = new Map<number, Acc>();
  private readonly sessions = new Map<number, SessionAcc>();
  /** (model, session) and (day, session) pairs, for the distinct-session counts. */
  private readonly modelSessions = new SessionPairs();
  private readonly daySessions = new SessionPairs();
  private lastSession: SessionAcc | null = null;
  private lastSessionRef = Number.NaN;
  private lastModel: ModelAcc | null = null;

  constructor(
    private readonly timeZone: string,
    private readonly withSessions = false,
  ) {
    this.days = new LocalDayMapper(timeZone);
  }

  add(r: UsageRow): void {
    const tokens = r.input + r.output + r.cacheRead + r.cacheWrite;
    let u = this.lastSession;
    if (u === null || this.lastSessionRef !== r.sessionRef) {
      u = this.sessions.get(r.sessionRef) ?? null;
      if (u === null) {
        u = {
          index: this.sessions.size,
          tokens: 0,
          output: 0,
          sent: 0,
          costNano: 0,
          interactions: 0,
          estimated: 0,
          source: r.source,
          acc: this.withSessions ? new Acc() : null,
        };
        this.sessions.set(r.sessionRef, u);
      }
      this.lastSession = u;
      this.lastSessionRef = r.sessionRef;
    }
    u.tokens += tokens;
    u.estimated += r.estimatedTokens;
    u.output += r.output;
    u.sent += r.input + r.cacheRead + r.cacheWrite;
    u.costNano += r.costNano;
    u.interactions += r.interactions;
    u.source = r.source;
    u.acc?.add(r);

    // The period's and each source's figures are their models' (summed in finish), so a row is added once here.
    const m = this.modelOf(r);
    m.acc.add(r);
    this.modelSessions.add(m.index, u.index);
    if (r.firstTs < m.first) m.first = r.firstTs;
    if (r.lastTs > m.last) m.last = r.lastTs;
    if (r.unpriced > 0) m.unpriced = true;
    m.assumed += r.assumedModel;

    const day = this.days.dayOfBucket(r.bucket);
    let d = this.byDay.get(day);
    if (d === undefined) {
      d = new Acc();
      this.byDay.set(day, d);
    }
    d.add(r);
    this.daySessions.add(day, u.index);
  }

  private modelOf(r: UsageRow): ModelAcc {
    const last = this.lastModel;
    if (last !== null && last.model === r.model && last.source === r.source) return last;
    let bySource = this.modelIndex.get(r.source);
    if (bySource === undefined) {
      bySource = new Map();
      this.modelIndex.set(r.source, bySource);
    }
    let m = bySource.get(r.model);
    if (m === undefined) {
      m = {
        index: this.models.length,
        source: r.source,
        model: r.model,
        priced: r.priced,
        acc: new Acc(),
        first: r.firstTs,
        last: r.lastTs,
        unpriced: false,
        assumed: 0,
      };
      bySource.set(r.model, m);
      this.models.push(m);
    }
    this.lastModel = m;
    return m;
  }

  /** The sessions the rows added so far belong to (whose status and facts `finish` will ask for). */
  sessionRefs(): IterableIterator<number> {
    return this.sessions.keys();
  }

  /** The period's and each source's figures, from their models', and the distinct sessions of each model and source. */
  private sums(): {
    totals: Acc;
    bySource: Map<SourceName, SourceAcc>;
    sessionsOfModel: (m: ModelAcc) => number;
    sessionsOfSource: (source: SourceName) => number;
  } {
    const totals = new Acc();
    const bySource = new Map<SourceName, SourceAcc>();
    // Distinct sessions per model, and per source (a source's are its models').
    const modelPairs = this.modelSessions.distinct();
    const perModel = SessionPairs.counts(modelPairs);
    const sources = [...new Set(this.models.map((m) => m.source))];
    const perSource = SessionPairs.countsBy(modelPairs, (g) => sources.indexOf((this.models[g] as ModelAcc).source));
    for (const m of this.models) {
      totals.mergeAll(m.acc);
      let s = bySource.get(m.source);
      if (s === undefined) {
        s = { acc: new Acc(), first: m.first, last: m.last, unpriced: new Set<string>(), assumed: 0 };
        bySource.set(m.source, s);
      }
      s.acc.mergeAll(m.acc);
      if (m.first < s.first) s.first = m.first;
      if (m.last > s.last) s.last = m.last;
      if (m.unpriced) s.unpriced.add(m.model);
      s.assumed += m.assumed;
    }
    return {
      totals,
      bySource,
      sessionsOfModel: (m) => perModel.get(m.index) ?? 0,
      sessionsOfSource: (source) => perSource.get(sources.indexOf(source)) ?? 0,
    };
  }

  finish(input: ReportContext): ReportJson {
    const { days, sessions: usage } = this;
    const { totals, bySource, sessionsOfModel, sessionsOfSource } = this.sums();
    let shipped = 0;
    let open = 0;
    let unlinked = 0;
    let labelled = 0;
    let shippedTokens = 0;
    let withoutOutcome = 0;
    let estimatedWithoutOutcome = 0;
    // Each session's status, asked once (the value metrics, the outcomes and the self-check all read it).
    const statuses = new Map<number, SessionStatus>();
    for (const [ref, u] of usage) {
      const status = input.statusOf(ref);
      statuses.set(ref, status);
      if (status === 'shipped') {
        shipped++;
        shippedTokens += u.tokens;
      } else if (status === 'open') {
        open++;
      } else if (status === 'unlinked') {
        unlinked++;
        withoutOutcome += u.tokens;
        estimatedWithoutOutcome += u.estimated;
      } else if (LABELS.has(status)) {
        labelled++;
        withoutOutcome += u.tokens;
        estimatedWithoutOutcome += u.estimated;
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
    const statusOf = (ref: number): SessionStatus => statuses.get(ref) ?? input.statusOf(ref);
    const figures = computeOutcomes(usage, statusOf, (ref) => usage.get(ref)?.source ?? 'manual', facts);
    const commits = figures.commits;
    const total = totals.total;
    const info =
      input.sessionInfo ?? new Map<number, { id?: string; editedFiles: number; start: number; end: number }>();
    const idOf = (ref: number): string => info.get(ref)?.id ?? input.sessionId?.(ref) ?? String(ref);
    const signals = selfCheck(
      [...usage].map(([ref, u]) => {
        const i = info.get(ref);
        return {
          ref,
          tokens: u.tokens,
          sent: u.sent,
          output: u.output,
          interactions: u.interactions,
          editedFiles: i?.editedFiles ?? 0,
          start: i?.start ?? 0,
          end: i?.end ?? 0,
          status: statusOf(ref),
        };
      }),
      input.repeatedPrompts ?? input.prompts ?? new Map(),
      idOf,
    );
    const costUSD = fromNanoUSD(totals.costNano);

    const fileInfo = new Map(input.files.map((f) => [f.source, f]));
    const coverageSources = new Set<SourceName>([...bySource.keys(), ...fileInfo.keys()]);
    const dayPairs = this.daySessions.distinct();
    const perDay = SessionPairs.counts(dayPairs);

    return {
      period: { since: input.since ?? null, until: input.until ?? null, timezone: this.timeZone },
      identities: [...(input.identities ?? [])],
      pricing: {
        version: input.pricingVersion,
        note: 'Costs are list-price estimates from the embedded price table (@pydantic/genai-prices); models not in the table are left unpriced.',
      },
      planCost: input.plan ? planCost(input.plan, periodDays(input, days, bySource), commits, figures.tasks) : null,
      totals: totals.figures(usage.size),
      bySource: [...bySource]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([source, s]) => ({ source, ...s.acc.figures(sessionsOfSource(source)) })),
      byModel: [...this.models]
        .sort((a, b) => b.acc.total - a.acc.total || a.model.localeCompare(b.model))
        .map((m) => ({ source: m.source, model: m.model, priced: m.priced, ...m.acc.figures(sessionsOfModel(m)) })),
      byDay: [...this.byDay]
        .sort(([a], [b]) => a - b)
        .map(([day, acc]) => ({ date: dateOfDayNumber(day), ...acc.figures(perDay.get(day) ?? 0) })),
      byWeek: regroup(this.byDay, dayPairs, isoWeekOf).map(([week, acc, n]) => ({ week, ...acc.figures(n) })),
      byMonth: regroup(this.byDay, dayPairs, (date) => date.slice(0, 7)).map(([month, acc, n]) => ({
        month,
        ...acc.figures(n),
      })),
      ...(this.withSessions
        ? {
            bySession: [...usage]
              .map(([ref, u]) => {
                const i = info.get(ref);
                return {
                  session: idOf(ref),
                  source: u.source,
                  start: isoUtc(i?.start ?? 0),
                  status: statusOf(ref),
                  ...(u.acc as Acc).figures(1),
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
        const s = bySource.get(source);
        const f = fileInfo.get(source);
        return {
          source,
          first: s ? isoUtc(s.first) : null,
          last: s ? isoUtc(s.last) : null,
          files: f?.files ?? 0,
          rejectedLines: f?.rejectedLines ?? 0,
          unpricedModels: s ? [...s.unpriced].sort() : [],
          assumedModelInteractions: s?.assumed ?? 0,
          estimatedTokens: s?.acc.estimated ?? 0,
          tokenAccuracy: accuracyOf(s?.acc.total ?? 0, s?.acc.estimated ?? 0),
        };
      }),
    };
  }
}

/**
 * Days a plan cost is spread over: the period's days (since..until, both included); an open end stops at the first or
 * last record. No records and no bounds: 0 days.
 */
function periodDays(
  input: ReportContext,
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
