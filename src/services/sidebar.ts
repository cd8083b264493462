/**
 * The sidebar's snapshot: every figure the view shows for a period and scope, computed from the ledger's indexed
 * aggregate tables — the usage rollup (per session, model and 15-minute bucket, read through its bucket index for the
 * period and the one before it, in one pass), links, commits and sessions — never by loading interactions. The value
 * metrics are core/outcomes/report.ts's, the same the CLI prints, so the sidebar and `report --json` cannot disagree.
 */
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { isCounted, DEFAULT_THRESHOLD } from '../core/outcomes/linking';
import { standingSuffix } from '../core/outcomes/standing';
import { SOURCE_TITLES, type SessionStatus, type SourceName } from '../core/usage/model';
import { PERIOD_NAMES, PeriodError, resolvePeriod, type ResolvedPeriod } from '../core/usage/periods';
import { PRICING_VERSION } from '../core/usage/pricing';
import { buildReport, roundUSD, type ReportJson, type UsageRow } from '../core/outcomes/report';
import { fmtTokens, fmtUSD, plural } from '../core/usage/format';
import type { Plan, PlanCost } from '../core/usage/plans';
import { shortDate } from '../core/sidebar/format';
import type {
  ChartBar,
  CommitRef,
  Coverage,
  DecisionRow,
  Figure,
  HealthSource,
  ScopeOption,
  SidebarQuery,
  SidebarSnapshot,
  TaskRow,
} from '../core/sidebar/protocol';
import { addDays, LocalDayMapper, localDate, periodRange } from '../core/usage/time';
import { fromNanoUSD } from '../core/usage/pricing';
import { sourceHealth } from '../store/files';
import { loadLinkFacts } from '../store/outcomes';
import { getMeta } from '../store/schema';
import { sessionCwdSql, sessionLogPathSql } from '../store/paths';
import { dataHealth } from './health';
import type { ExtraSource } from './importer';
import { DEFAULT_DURABILITY_DAYS } from './linker';
import {
  bucketsOf,
  countedOutcomes,
  linksOf,
  outcomeFacts,
  promptHashes,
  sessionInfo,
  sessionTaskKeys,
  statusResolver,
  usageRows,
} from './queries';

export interface SidebarInput {
  timeZone: string;
  query: SidebarQuery;
  now?: number;
  threshold?: number;
  durabilityDays?: number;
  /** More author emails that are the engineer's (the `outcomeLedger.identities` setting). */
  identities?: readonly string[];
  /** The subscription plan amortised beside the list-price estimate (the `outcomeLedger.plan` settings, prices.json). */
  plan?: Plan | null;
  /** For the data-health card: where the ledger is, and where the sources are looked for. */
  health: { ledgerFile: string; env: NodeJS.ProcessEnv; extra?: ExtraSource[]; disabled?: ReadonlySet<SourceName> };
}

/** Everything but `seq`, which the host numbers. */
export type SnapshotBody = Omit<SidebarSnapshot, 'seq'>;

/** An automatic link below this confidence is listed for a decision even when it counts. */
export const LOW_CONFIDENCE = 0.8;
/** Long ranges are drawn per week: a bar stays wide enough to see at sidebar width. */
const MAX_DAY_BARS = 92;
const MAX_TASKS = 12;
const MAX_TASK_COMMITS = 5;
const MAX_SCOPES = 30;
const LABELLED: ReadonlySet<SessionStatus> = new Set<SessionStatus>(['exploration', 'learning', 'review', 'abandoned']);

function tilde(p: string, home: string | undefined): string {
  return home && (p === home || p.startsWith(`${home}/`)) ? `~${p.slice(home.length)}` : p;
}

function list(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

interface Scope {
  refs: ReadonlySet<number> | null;
  notice: string | null;
}

/** Sessions a scope selects (null: all). Only values the snapshot offers are accepted. */
function scopeOf(
  db: Database,
  scope: string,
  sessionTasks: ReadonlyMap<number, readonly string[]>,
  counted: ReadonlyMap<number, readonly number[]>,
  commitTasks: ReadonlyMap<number, readonly string[]>,
): Scope {
  if (scope === '') return { refs: null, notice: null };
  if (scope.startsWith('repo:')) {
    const refs = new Set(
      (db.exec('SELECT id FROM sessions WHERE repo = ?', [scope.slice(5)])[0]?.values ?? []).map((v) => Number(v[0])),
    );
    return refs.size > 0
      ? { refs, notice: null }
      : { refs: null, notice: 'That repository has no sessions in the ledger: showing everything.' };
  }
  if (scope.startsWith('task:')) {
    const key = scope.slice(5);
    const refs = new Set<number>();
    for (const [ref, keys] of sessionTasks) if (keys.includes(key)) refs.add(ref);
    for (const [ref, ids] of counted) if (ids.some((id) => commitTasks.get(id)?.includes(key))) refs.add(ref);
    // The task keys at hand are those of the periods shown; a task only older sessions worked on is looked up in all.
    if (refs.size === 0) for (const [ref, keys] of sessionTaskKeys(db)) if (keys.includes(key)) refs.add(ref);
    return refs.size > 0
      ? { refs, notice: null }
      : { refs: null, notice: `No session worked on ${key}: showing everything.` };
  }
  return { refs: null, notice: 'Unknown filter: showing everything.' };
}

function repoLabels(repos: readonly string[]): Map<string, string> {
  const base = new Map<string, number>();
  for (const r of repos) base.set(path.basename(r), (base.get(path.basename(r)) ?? 0) + 1);
  // Two checkouts called "api" read as "work/api" and "old/api".
  return new Map(
    repos.map((r) => [
      r,
      (base.get(path.basename(r)) ?? 0) > 1
        ? `${path.basename(path.dirname(r))}/${path.basename(r)}`
        : path.basename(r),
    ]),
  );
}

export function sidebarSnapshot(db: Database, input: SidebarInput): SnapshotBody {
  const t0 = performance.now();
  const tz = input.timeZone;
  const now = input.now ?? Date.now();
  const threshold = input.threshold ?? DEFAULT_THRESHOLD;
  const q = input.query;
  const today = localDate(tz, now);
  const notices: string[] = [];
  let period: ResolvedPeriod;
  try {
    period = resolvePeriod(q.period, today, { since: q.since, until: q.until });
  } catch (e) {
    if (!(e instanceof PeriodError)) throw e;
    notices.push(`${e.message} Showing ${PERIOD_NAMES['7d']}.`);
    period = resolvePeriod('7d', today);
  }
  const cur = periodRange(tz, period.since, period.until);
  const prev = periodRange(tz, period.previous.since, period.previous.until);
  const curBuckets = bucketsOf(cur);

  // Links once: what counts (the engineer's own, unreverted, merged commits), every session's status, and the
  // commits behind the value metrics.
  // Per-session work (status, task keys) for the sessions of both periods only, read with the rollup's rows once.
  const rangeRows = usageRows(db, bucketsOf({ from: prev.from, to: cur.to }));
  const rangeRefs = new Set(rangeRows.map((r) => r.sessionRef));
  const linkFacts = loadLinkFacts(db);
  const co = countedOutcomes(db, threshold, input.identities);
  const counted = co.counted;
  const statusOf = statusResolver(db, now, threshold, counted, rangeRefs);
  const facts = outcomeFacts(db, counted, now, input.durabilityDays ?? DEFAULT_DURABILITY_DAYS, co.setAside, rangeRefs);
  const commitTasks = new Map<number, readonly string[]>([...facts.commits].map(([id, c]) => [id, c.tasks]));
  const scope = scopeOf(db, q.scope, facts.sessionTasks, counted, commitTasks);
  if (scope.notice) notices.push(scope.notice);

  // One pass over the rollup for both periods, through its bucket index.
  const curRows: UsageRow[] = [];
  const prevRows: UsageRow[] = [];
  const periodSessions = new Map<number, number>(); // every session of the current period, unscoped: for the filters
  for (const r of rangeRows) {
    const inCur = r.bucket >= curBuckets.from;
    const tokens = r.input + r.output + r.cacheRead + r.cacheWrite;
    if (inCur) periodSessions.set(r.sessionRef, (periodSessions.get(r.sessionRef) ?? 0) + tokens);
    if (scope.refs && !scope.refs.has(r.sessionRef)) continue;
    (inCur ? curRows : prevRows).push(r);
  }
  const curRefs = new Set(curRows.map((r) => r.sessionRef));
  const files = sourceHealth(db);
  const pricingVersion = getMeta(db, 'pricing_version') ?? PRICING_VERSION;
  const prompts = promptHashes(db, cur.from, cur.to);
  if (scope.refs) for (const ref of [...prompts.keys()]) if (!scope.refs.has(ref)) prompts.delete(ref);
  const common = {
    statusOf,
    outcomes: facts,
    threshold,
    files,
    timeZone: tz,
    pricingVersion,
    identities: co.identities,
    plan: input.plan ?? null,
  };
  const current = buildReport({
    ...common,
    rows: curRows,
    sessionInfo: sessionInfo(db, curRefs),
    prompts,
    since: period.since,
    until: period.until,
  });
  const previous = buildReport({
    ...common,
    rows: prevRows,
    since: period.previous.since,
    until: period.previous.until,
  });

  const empty = (db.exec('SELECT 1 FROM usage_rollup LIMIT 1')[0]?.values.length ?? 0) === 0;
  const health = sidebarHealth(db, input, files.length > 0);
  const figures = figuresOf(current, previous, period, health.sources, health.linking.unreadRepos);
  const chart = chartOf(curRows, statusOf, facts, counted, period, tz);
  const tasks = tasksOf(db, current, curRefs, counted, facts);
  const decisions = decisionsOf(db, curRefs, statusOf, linkFacts, threshold, q.decisions);
  const scopes = scopesOf(db, periodSessions, facts.sessionTasks, counted, commitTasks, q.scope);

  return {
    generatedAt: new Date(now).toISOString(),
    computeMs: Math.round((performance.now() - t0) * 10) / 10,
    query: q,
    period,
    timeZone: tz,
    pricingVersion,
    threshold,
    empty,
    figures,
    interactions: current.totals.interactions,
    sessions: current.totals.sessions,
    chart,
    tasks,
    decisions,
    selfCheck: { ...current.selfCheck, tokens: current.totals.total },
    health,
    scopes,
    notice: notices.length > 0 ? notices.join(' ') : null,
  };
}

// ---- figures and their coverage ---------------------------------------------------------------------------------

function figuresOf(
  cur: ReportJson,
  prev: ReportJson,
  period: ResolvedPeriod,
  sources: readonly HealthSource[],
  unreadRepos: number,
): Figure[] {
  const o = cur.outcomes;
  const p = prev.outcomes;
  const hasPrev = prev.totals.interactions > 0;
  const none = (note: string): Coverage => ({ level: 'none', note });
  const hasData = cur.totals.interactions > 0;
  const used = cur.bySource.map((s) => SOURCE_TITLES[s.source]);
  const from = (s: HealthSource): string => (s.first ? shortDate(s.first.slice(0, 10), true) : '');

  // Tokens: which logs they come from, and whether a source's history may have been deleted before we first read it.
  const gapped = sources.filter(
    (s) =>
      s.found &&
      s.gaps.some((g) => g.startsWith('history before')) &&
      s.first !== null &&
      period.since <= s.first.slice(0, 10),
  );
  const tokenCov: Coverage = !hasData
    ? none('No usage recorded in this period.')
    : gapped.length > 0
      ? {
          level: 'partial',
          note: `${list(gapped.map((s) => `${s.name} history before ${from(s)}`))} may have been deleted before the first import.`,
        }
      : { level: 'complete', note: `From ${list(used)} logs.` };
  const costCov: Coverage = !hasData
    ? tokenCov
    : cur.totals.unpricedInteractions > 0
      ? {
          level: 'partial',
          note: `List-price estimate (prices ${cur.pricing.version}); ${plural(cur.totals.unpricedInteractions, 'request')} of models without a price are not in it.`,
        }
      : {
          level: tokenCov.level,
          note: `List-price estimate (prices ${cur.pricing.version}). ${tokenCov.level === 'partial' ? tokenCov.note : ''}`.trim(),
        };
  const pending: string[] = [];
  if (o.openSessions > 0)
    pending.push(`${plural(o.openSessions, 'session is', 'sessions are')} still open and may yet link to a commit`);
  if (unreadRepos > 0)
    pending.push(`${plural(unreadRepos, 'repository has', 'repositories have')} not been read for commits yet`);
  // Linked commits that are not the engineer's outcomes are named beside the figures (docs/outcomes.md).
  const aside = [
    o.reverted > 0 ? `${plural(o.reverted, 'reverted commit')}` : '',
    o.unmerged > 0 ? `${plural(o.unmerged, 'commit')} not merged` : '',
    o.authoredByOthers > 0 ? `${plural(o.authoredByOthers, 'commit')} authored by someone else (assisted)` : '',
  ].filter(Boolean);
  const asideNote = aside.length > 0 ? ` Not counted: ${list(aside)}.` : '';
  const outcomeCov: Coverage = !hasData
    ? none('No sessions in this period.')
    : pending.length > 0
      ? { level: 'partial', note: `${pending.join('; ')}.${asideNote}` }
      : {
          level: 'complete',
          note: `Your own commits, linked at ${Math.round(o.threshold * 100)}% confidence or more, or confirmed by you.${asideNote}`,
        };
  const keptCov: Coverage =
    o.commits === 0
      ? none('No linked commits in this period.')
      : o.keptLinesPer1kOutput === null
        ? none(
            `All ${plural(o.pendingCommits, 'commit')} are younger than ${o.durabilityDays} days: their lines are judged later.`,
          )
        : o.pendingCommits > 0
          ? {
              level: 'partial',
              note: `${o.pendingCommits} of ${o.commits} commits are younger than ${o.durabilityDays} days and not judged yet.`,
            }
          : {
              level: 'complete',
              note: `Lines of linked commits still present at HEAD after ${o.durabilityDays} days.`,
            };
  const v = (value: number | null, before: number | null): Pick<Figure, 'value' | 'previous'> => ({
    value,
    previous: hasPrev ? before : null,
  });
  // Token figures say whether they are exact: estimated tokens (counted from text, or rounded by a tool) are marked.
  const est = cur.totals.estimatedTokens;
  const acc: Pick<Figure, 'accuracy' | 'estimatedTokens'> = {
    accuracy: cur.totals.tokenAccuracy,
    estimatedTokens: est,
  };
  const estNote =
    est > 0
      ? ` ${cur.totals.tokenAccuracy === 'estimated' ? 'All' : `${fmtTokens(est)} of ${fmtTokens(cur.totals.total)}`} tokens are estimated (counted from text or rounded by the tool), not reported exactly.`
      : '';
  const withEst = (c: Coverage): Coverage =>
    estNote && c.level !== 'none' ? { level: c.level, note: `${c.note}${estNote}` } : c;
  return [
    { id: 'commits', label: 'Commits', ...v(o.commits, p.commits), better: 'neutral', coverage: outcomeCov },
    { id: 'tasks', label: 'Tasks', ...v(o.tasks, p.tasks), better: 'neutral', coverage: outcomeCov },
    { id: 'prs', label: 'PRs', ...v(o.prs, p.prs), better: 'neutral', coverage: outcomeCov },
    {
      id: 'tokens',
      label: 'Tokens',
      ...v(cur.totals.total, prev.totals.total),
      better: 'neutral',
      coverage: withEst(tokenCov),
      ...acc,
    },
    ...(cur.totals.credits !== undefined || prev.totals.credits !== undefined
      ? [
          {
            id: 'credits' as const,
            label: 'Credits',
            ...v(cur.totals.credits ?? 0, prev.totals.credits ?? 0),
            better: 'neutral' as const,
            coverage: creditsCov(cur.totals.credits ?? 0),
          },
        ]
      : []),
    {
      id: 'cost',
      label: 'Est. cost',
      ...v(cur.totals.costUSD, prev.totals.costUSD),
      better: 'neutral',
      coverage: withEst(costCov),
      ...acc,
    },
    // A plan's cost beside the list-price estimate, never instead of it (docs/measurement.md, "Plan cost").
    ...(cur.planCost
      ? [
          {
            id: 'planCost' as const,
            label: 'Plan cost (amortised)',
            ...v(cur.planCost.periodUsd, prev.planCost?.periodUsd ?? null),
            better: 'neutral' as const,
            coverage: planCov(cur.planCost),
          },
        ]
      : []),
    { id: 'yield', label: 'Yield', ...v(o.yield, p.yield), better: 'higher', coverage: outcomeCov },
    {
      id: 'tokensPerCommit',
      label: 'Tokens per commit',
      ...v(o.tokensPerCommit, p.tokensPerCommit),
      better: 'lower',
      coverage: withEst(outcomeCov),
      ...acc,
    },
    {
      id: 'keptPer1k',
      label: 'Kept lines per 1k output',
      ...v(o.keptLinesPer1kOutput, p.keptLinesPer1kOutput),
      better: 'higher',
      coverage: keptCov,
    },
    {
      id: 'withoutOutcome',
      label: 'Tokens without outcome',
      ...v(o.tokensWithoutOutcome, p.tokensWithoutOutcome),
      better: 'lower',
      coverage: withEst(outcomeCov),
      ...acc,
    },
  ];
}

/** The plan cost: what the engineer pays, spread over the period and its outcomes, next to the list-price estimate. */
function planCov(p: PlanCost): Coverage {
  const per = [
    p.perCommit !== null ? `${fmtUSD(p.perCommit)} per commit` : '',
    p.perTask !== null ? `${fmtUSD(p.perTask)} per task` : '',
  ].filter(Boolean);
  return {
    level: 'complete',
    note: `${p.label} at ${fmtUSD(p.monthlyUsd)}/month over ${p.days} days${per.length > 0 ? ` (${per.join(', ')})` : ''}: what you pay, amortised, beside the list-price estimate (Est. cost), not instead of it.`,
  };
}

/** Credits are what tools that bill in credits (Kiro, Amp) metered: exact, and priced at the tool's documented rate. */
function creditsCov(credits: number): Coverage {
  return credits > 0
    ? {
        level: 'complete',
        note: 'Credits metered by tools that bill in credits (Kiro, Amp), as they recorded them; in the cost at their documented price per credit, never counted as tokens.',
      }
    : { level: 'none', note: 'No credits in this period.' };
}

// ---- chart ------------------------------------------------------------------------------------------------------

function chartOf(
  rows: readonly UsageRow[],
  statusOf: (ref: number) => SessionStatus,
  facts: ReturnType<typeof outcomeFacts>,
  counted: ReadonlyMap<number, readonly number[]>,
  period: ResolvedPeriod,
  tz: string,
): SidebarSnapshot['chart'] {
  const unit = period.days > MAX_DAY_BARS ? 'week' : 'day';
  const step = unit === 'week' ? 7 : 1;
  const bars: ChartBar[] = [];
  const index = new Map<string, ChartBar>();
  for (let d = period.since, i = 0; d <= period.until; d = addDays(d, 1), i++) {
    if (i % step === 0) bars.push({ date: d, shipped: 0, open: 0, without: 0, commits: 0 });
    index.set(d, bars[bars.length - 1] as ChartBar);
  }
  const days = new LocalDayMapper(tz);
  const status = new Map<number, SessionStatus>();
  for (const r of rows) {
    const bar = index.get(days.dateOfBucket(r.bucket));
    if (!bar) continue;
    let s = status.get(r.sessionRef);
    if (s === undefined) {
      s = statusOf(r.sessionRef);
      status.set(r.sessionRef, s);
    }
    const tokens = r.input + r.output + r.cacheRead + r.cacheWrite;
    if (s === 'shipped') bar.shipped += tokens;
    else if (s === 'open') bar.open += tokens;
    else bar.without += tokens;
  }
  // Commits the period's shipped sessions produced, on the day they were authored.
  const seen = new Set<number>();
  for (const [ref, s] of status) {
    if (s !== 'shipped') continue;
    for (const id of counted.get(ref) ?? []) {
      const c = facts.commits.get(id);
      if (!c || seen.has(id)) continue;
      seen.add(id);
      const bar = index.get(days.date(c.authorTime));
      if (bar) bar.commits++;
    }
  }
  return { unit, bars };
}

// ---- tasks ------------------------------------------------------------------------------------------------------

function commitRefs(db: Database, ids: readonly number[]): Map<number, CommitRef> {
  const out = new Map<number, CommitRef>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids
      .slice(i, i + 500)
      .map(Number)
      .join(',');
    for (const [id, sha, subject, pr, root] of db.exec(
      `SELECT c.id, c.sha, c.subject, c.pr, r.root FROM commits c JOIN repos r ON r.id = c.repo_ref WHERE c.id IN (${chunk})`,
    )[0]?.values ?? []) {
      out.set(Number(id), {
        repo: String(root),
        sha: String(sha),
        subject: String(subject),
        pr: pr === null ? null : Number(pr),
      });
    }
  }
  return out;
}

function tasksOf(
  db: Database,
  cur: ReportJson,
  refs: ReadonlySet<number>,
  counted: ReadonlyMap<number, readonly number[]>,
  facts: ReturnType<typeof outcomeFacts>,
): SidebarSnapshot['tasks'] {
  const byTask = cur.outcomes.byTask.slice(0, MAX_TASKS);
  const wanted = new Set(byTask.map((t) => t.task));
  // A task's commits: counted commits naming it, and those of shipped sessions whose branch names it.
  const commitsOf = new Map<string, Set<number>>();
  for (const ref of refs) {
    const ids = counted.get(ref) ?? [];
    if (ids.length === 0) continue;
    const branchTasks = facts.sessionTasks.get(ref) ?? [];
    for (const id of ids) {
      const c = facts.commits.get(id);
      if (!c) continue;
      for (const k of new Set([...c.tasks, ...branchTasks])) {
        if (!wanted.has(k)) continue;
        const set = commitsOf.get(k) ?? new Set<number>();
        set.add(id);
        commitsOf.set(k, set);
      }
    }
  }
  const shown = new Set<number>();
  for (const ids of commitsOf.values())
    [...ids]
      .sort((a, b) => (facts.commits.get(b)?.authorTime ?? 0) - (facts.commits.get(a)?.authorTime ?? 0))
      .slice(0, MAX_TASK_COMMITS)
      .forEach((id) => shown.add(id));
  const refsById = commitRefs(db, [...shown]);
  const rows: TaskRow[] = byTask.map((t) => {
    const ids = [...(commitsOf.get(t.task) ?? [])];
    const prs = [
      ...new Set(ids.map((id) => facts.commits.get(id)?.pr).filter((pr): pr is number => typeof pr === 'number')),
    ].sort((a, b) => a - b);
    return {
      task: t.task,
      tokens: t.tokens,
      ...(t.estimatedTokens > 0 ? { estimated: true } : {}),
      costUSD: t.costUSD,
      sessions: t.sessions,
      delivered: t.delivered,
      commits: ids.map((id) => refsById.get(id)).filter((c): c is CommitRef => c !== undefined),
      prs,
    };
  });
  return { total: cur.outcomes.byTask.length, rows };
}

// ---- sessions needing a decision ---------------------------------------------------------------------------------

/**
 * `link pending`: the sidebar's "Needs a decision" list for a period (the sessions with no counted commit, a
 * low-confidence link or a possible commit below the threshold), costliest first, with the same rows and evidence.
 */
export function pendingDecisions(
  db: Database,
  q: {
    timeZone: string;
    since?: string;
    until?: string;
    threshold?: number;
    identities?: readonly string[];
    limit: number;
    now?: number;
  },
): SidebarSnapshot['decisions'] {
  const threshold = q.threshold ?? DEFAULT_THRESHOLD;
  const range = periodRange(q.timeZone, q.since, q.until);
  const rows = q.since === undefined && q.until === undefined ? usageRows(db) : usageRows(db, bucketsOf(range));
  const refs = new Set(rows.map((r) => r.sessionRef));
  const counted = countedOutcomes(db, threshold, q.identities).counted;
  const statusOf = statusResolver(db, q.now ?? Date.now(), threshold, counted, refs);
  return decisionsOf(db, refs, statusOf, loadLinkFacts(db), threshold, q.limit);
}

function decisionsOf(
  db: Database,
  refs: ReadonlySet<number>,
  statusOf: (ref: number) => SessionStatus,
  linkFacts: ReturnType<typeof loadLinkFacts>,
  threshold: number,
  limit: number,
): SidebarSnapshot['decisions'] {
  const links = new Map<number, { confirmed: boolean; countedAuto: number; candidate: number }>();
  for (const l of linkFacts) {
    if (!refs.has(l.sessionRef)) continue;
    const e = links.get(l.sessionRef) ?? { confirmed: false, countedAuto: 0, candidate: 0 };
    if (l.state === 'confirmed') e.confirmed = true;
    else if (l.state === 'auto') {
      if (isCounted(l.state, l.confidence, threshold)) e.countedAuto = Math.max(e.countedAuto, l.confidence);
      else e.candidate = Math.max(e.candidate, l.confidence);
    }
    links.set(l.sessionRef, e);
  }
  const listed: Array<{ ref: number; reason: DecisionRow['reason']; status: SessionStatus }> = [];
  for (const ref of refs) {
    const status = statusOf(ref);
    if (LABELLED.has(status)) continue; // a label is a decision
    const e = links.get(ref);
    if (status === 'unlinked') listed.push({ ref, reason: 'unlinked', status });
    else if (status === 'shipped' && e && !e.confirmed && e.countedAuto > 0 && e.countedAuto < LOW_CONFIDENCE)
      listed.push({ ref, reason: 'low-confidence', status });
    else if (status === 'open' && e && e.candidate > 0) listed.push({ ref, reason: 'candidate', status });
  }
  if (listed.length === 0) return { total: 0, rows: [] };
  // Whole-session figures (a decision is about the session, not the part of it inside the period): the per-session
  // totals.
  const totals = new Map<number, unknown[]>();
  for (let i = 0; i < listed.length; i += 500) {
    const chunk = listed
      .slice(i, i + 500)
      .map((t) => t.ref)
      .join(',');
    for (const v of db.exec(
      `SELECT session_ref, first_ts, last_ts, input + output + cache_read + cache_write, cost_nusd, estimated FROM session_totals WHERE session_ref IN (${chunk})`,
    )[0]?.values ?? [])
      totals.set(Number(v[0]), v);
  }
  // The costliest first: a decision on a big session moves the figures most.
  const tokensOf = (ref: number): number => Number(totals.get(ref)?.[3] ?? 0);
  listed.sort((a, b) => tokensOf(b.ref) - tokensOf(a.ref) || a.ref - b.ref);
  const top = listed.slice(0, limit);
  const ids = top.map((t) => t.ref);
  const info = new Map<number, unknown[]>();
  for (const v of db.exec(
    `SELECT id, source, session_key, ${sessionCwdSql()}, repo, branch, ${sessionLogPathSql()} FROM sessions s WHERE id IN (${ids.join(',')})`,
  )[0]?.values ?? [])
    info.set(Number(v[0]), v);
  const linkLists = linksOf(db, ids, threshold);
  const out: DecisionRow[] = [];
  for (const t of top) {
    const s = info.get(t.ref);
    const u = totals.get(t.ref);
    if (!s || !u) continue;
    const source = String(s[1]) as SourceName;
    const repo = s[4] === null ? null : String(s[4]);
    const cwd = s[3] === null ? null : String(s[3]);
    const branch = s[5] === null ? null : String(s[5]);
    const where = repo ? path.basename(repo) : cwd ? path.basename(cwd) : 'no folder';
    const ls = linkLists.get(t.ref) ?? [];
    const best = ls.find((l) => l.state !== 'rejected');
    out.push({
      sessionId: `${source}:${String(s[2])}`,
      source,
      title: branch ? `${where} · ${branch}` : where,
      repo,
      start: new Date(Number(u[1])).toISOString(),
      end: new Date(Number(u[2])).toISOString(),
      tokens: Number(u[3]),
      costUSD: roundUSD(fromNanoUSD(Number(u[4]))),
      status: t.status,
      reason: t.reason,
      hasLog: s[6] !== null,
      estimated: Number(u[5] ?? 0) > 0,
      candidate: best
        ? {
            repo: best.repo,
            sha: best.commit,
            subject: best.subject,
            pr: best.pr,
            committed: best.committed,
            confidence: best.confidence,
            counted: best.counted,
            state: best.state,
            why: best.why,
            ...(standingSuffix(best) ? { standing: standingSuffix(best).replace(/^ — /, '') } : {}),
          }
        : null,
      rejected: ls.filter((l) => l.state === 'rejected').length,
    });
  }
  return { total: listed.length, rows: out };
}

// ---- data health and filters ------------------------------------------------------------------------------------

function sidebarHealth(db: Database, input: SidebarInput, anyFiles: boolean): SidebarSnapshot['health'] {
  const h = dataHealth(db, input.health.ledgerFile, {
    env: input.health.env,
    extra: input.health.extra,
    disabled: input.health.disabled,
  });
  const home = input.health.env.HOME;
  const repos = Number(db.exec('SELECT count(*) FROM repos')[0]?.values[0]?.[0] ?? 0);
  const unreadRepos = Number(
    db.exec('SELECT count(*) FROM repo_totals WHERE repo NOT IN (SELECT path FROM repo_paths)')[0]?.values[0]?.[0] ?? 0,
  );
  return {
    sources: h.sources.map((s) => ({
      source: s.source,
      name: SOURCE_TITLES[s.source],
      enabled: s.enabled,
      found: s.found,
      roots: s.roots.map((r) => ({ path: tilde(r.path, home), exists: r.exists })),
      files: s.files,
      interactions: s.interactions,
      first: s.first,
      last: s.last,
      rejectedLines: s.rejectedLines,
      reasons: s.reasons.slice(0, 3).map((r) => ({ ...r, path: tilde(r.path, home) })),
      gaps: s.gaps,
      estimatedTokens: s.estimatedTokens,
      viaOtlp: s.viaOtlp,
    })),
    ledger: {
      file: tilde(h.ledger.file, home),
      bytes: h.ledger.bytes,
      firstImport: h.ledger.firstImport,
      lastNewData: h.ledger.lastNewData,
    },
    linking: {
      repos,
      unreadRepos,
      note: !anyFiles
        ? null
        : unreadRepos > 0
          ? `${plural(unreadRepos, 'repository', 'repositories')} not read for commits yet.`
          : null,
    },
    otel: h.otel
      ? {
          address: `${h.otel.host}:${h.otel.port}`,
          since: h.otel.since,
          stopped: h.otel.stopped ?? null,
          updated: h.otel.updated,
          bodies: h.otel.bodies,
          refused: h.otel.refused,
          recorded: h.otel.recorded,
          duplicates: h.otel.duplicates,
          rejected: h.otel.rejected,
          forwardUrl: h.otel.forwardUrl,
          forwarded: h.otel.forwarded,
          forwardFailed: h.otel.forwardFailed,
        }
      : null,
  };
}

function scopesOf(
  db: Database,
  periodSessions: ReadonlyMap<number, number>,
  sessionTasks: ReadonlyMap<number, readonly string[]>,
  counted: ReadonlyMap<number, readonly number[]>,
  commitTasks: ReadonlyMap<number, readonly string[]>,
  selected: string,
): SidebarSnapshot['scopes'] {
  const repoRows = (
    db.exec(`SELECT repo, sessions AS n FROM repo_totals ORDER BY n DESC, repo LIMIT ${MAX_SCOPES}`)[0]?.values ?? []
  ).map((v) => String(v[0]));
  const labels = repoLabels(repoRows);
  const repos: ScopeOption[] = repoRows
    .map((r) => ({ value: `repo:${r}`, label: labels.get(r) ?? r }))
    .sort((a, b) => a.label.localeCompare(b.label));
  // Tasks worked on in the period, the costliest first.
  const taskTokens = new Map<string, number>();
  for (const [ref, tokens] of periodSessions) {
    const keys = new Set([
      ...(sessionTasks.get(ref) ?? []),
      ...(counted.get(ref) ?? []).flatMap((id) => commitTasks.get(id) ?? []),
    ]);
    for (const k of keys) taskTokens.set(k, (taskTokens.get(k) ?? 0) + tokens);
  }
  const tasks: ScopeOption[] = [...taskTokens]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_SCOPES)
    .map(([k]) => ({ value: `task:${k}`, label: k }));
  // The selected scope stays selectable even when the period no longer has it.
  if (selected.startsWith('task:') && !tasks.some((t) => t.value === selected))
    tasks.unshift({ value: selected, label: selected.slice(5) });
  if (selected.startsWith('repo:') && !repos.some((r) => r.value === selected))
    repos.unshift({ value: selected, label: path.basename(selected.slice(5)) });
  return { repos, tasks };
}
