/**
 * Internal consistency of a summary (issue 14, item 4): every headline figure recomputed from the records the same
 * signed file carries — the tools and models add up to the totals, the weeks to the period, the cited outcomes to the
 * outcome figures, the session groups to the sessions — so a file whose figures do not add up is rejected even when
 * its signature holds (a key holder can sign anything). Pure.
 *
 * Figures that are sums of rounded parts (costs, per-task averages) are compared within their rounding; every count
 * and token figure must agree exactly.
 */
import { TOKEN_FIGURES, TOKEN_WORDS } from '../usage/tokens';
import type { Summary, SummaryOutcome } from './schema';
import { int } from './numbers';

/** At most this many disagreements are named (a forged file can disagree everywhere). */
const LIMIT = 12;
const USD = 1e-6;

type Usage = Summary['totals'];
const ADDITIVE = [...TOKEN_FIGURES, 'interactions', 'unpricedInteractions'] as const;

const WORDS: Record<string, string> = {
  ...TOKEN_WORDS,
  interactions: 'requests',
  unpricedInteractions: 'unpriced requests',
  sessions: 'sessions',
  costUSD: 'estimated cost',
  estimatedTokens: 'estimated tokens',
};

function show(v: number | null): string {
  if (v === null) return 'none';
  return Number.isInteger(v) ? int(v) : String(Math.round(v * 1e6) / 1e6);
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** What does not add up, one sentence each naming the figure, what the file says and what its records give. */
export function inconsistencies(s: Summary): string[] {
  const out: string[] = [];
  const exact = (what: string, says: number | null, records: number | null, from: string): void => {
    if (says !== records) out.push(`${what}: the file says ${show(says)}, but ${from} give ${show(records)}`);
  };
  const near = (what: string, says: number | null, records: number | null, tolerance: number, from: string): void => {
    if (says === null || records === null ? says !== records : Math.abs(says - records) > tolerance + 1e-9)
      out.push(`${what}: the file says ${show(says)}, but ${from} give ${show(records)}`);
  };
  const t = s.totals;
  const o = s.outcomes;

  // The tools and the models add up to the totals.
  const sums = (rows: readonly Usage[], from: string, withSessions: boolean): void => {
    if (rows.length === 0 && t.interactions === 0) return;
    for (const k of ADDITIVE)
      exact(
        `the ${WORDS[k]} in the totals`,
        t[k],
        rows.reduce((a, r) => a + r[k], 0),
        from,
      );
    if (withSessions)
      exact(
        'the number of sessions in the totals',
        t.sessions,
        rows.reduce((a, r) => a + r.sessions, 0),
        from,
      );
    exact(
      'the estimated tokens in the totals',
      t.estimatedTokens ?? 0,
      rows.reduce((a, r) => a + (r.estimatedTokens ?? 0), 0),
      from,
    );
    near(
      'the estimated cost in the totals',
      t.costUSD,
      rows.reduce((a, r) => a + r.costUSD, 0),
      USD * (rows.length + 1),
      from,
    );
  };
  sums(s.bySource, 'the figures by tool', true);
  sums(s.byModel, 'the figures by model', false);
  exact(
    'the total tokens',
    t.total,
    t.input + t.output + t.cacheRead + t.cacheWrite,
    'its input, output, cache-read and cache-write tokens',
  );
  exact('the number of requests in the records digest', s.records.interactions, t.interactions, 'the totals');
  exact('the number of sessions in the records digest', s.records.sessions, t.sessions, 'the totals');

  // The weeks add up to the period.
  if (s.trend.length > 0) {
    exact(
      'the total tokens',
      t.total,
      s.trend.reduce((a, w) => a + w.tokens, 0),
      'the weeks of the trend',
    );
    exact(
      'the tokens without outcome',
      o.tokensWithoutOutcome,
      s.trend.reduce((a, w) => a + w.tokensWithoutOutcome, 0),
      'the weeks of the trend',
    );
    near(
      'the estimated cost in the totals',
      t.costUSD,
      s.trend.reduce((a, w) => a + w.costUSD, 0),
      USD * (s.trend.length + 1),
      'the weeks of the trend',
    );
  }

  // The sessions: shipped, open, unlinked and labelled are all of them; the groups are what the outcome figures say.
  const groups = s.withoutOutcome.groups;
  const group = (status: string) => groups.find((g) => g.status === status);
  for (const g of groups)
    exact(`the number of ${g.status} sessions`, g.sessions, g.sessionIds.length, 'the sessions the group cites');
  exact('the number of unlinked sessions', o.unlinkedSessions, group('unlinked')?.sessions ?? 0, 'the unlinked group');
  exact(
    'the number of labelled sessions',
    o.labelledSessions,
    groups.filter((g) => g.status !== 'unlinked').reduce((a, g) => a + g.sessions, 0),
    'the labelled groups',
  );
  exact('the number of open sessions', o.openSessions, s.withoutOutcome.open.sessions, 'the open sessions');
  exact(
    'the number of sessions in the totals',
    t.sessions,
    o.shippedSessions + o.openSessions + o.unlinkedSessions + o.labelledSessions,
    'the shipped, open, unlinked and labelled sessions',
  );
  exact(
    'the tokens without outcome',
    o.tokensWithoutOutcome,
    groups.reduce((a, g) => a + g.tokens, 0),
    'the unlinked and labelled groups',
  );
  exact('the tokens without outcome', s.withoutOutcome.tokens, o.tokensWithoutOutcome, 'the outcome figures');
  near(
    'the cost without outcome',
    s.withoutOutcome.costUSD,
    groups.reduce((a, g) => a + g.costUSD, 0),
    USD * (groups.length + 1),
    'the unlinked and labelled groups',
  );

  // The outcomes the tasks cite (an outcome cited by several tasks counts once).
  const outcomes = new Map<string, SummaryOutcome>();
  for (const task of s.tasks) {
    exact(
      `the number of outcomes of ${taskName(task.task)}`,
      task.commits,
      task.outcomes.length,
      'the outcomes it cites',
    );
    exact(
      `the pending outcomes of ${taskName(task.task)}`,
      task.pendingCommits,
      task.outcomes.filter((x) => x.pending).length,
      'the outcomes it cites',
    );
    exact(
      `the kept lines of ${taskName(task.task)}`,
      task.keptLines,
      task.outcomes.reduce((a, x) => a + (x.keptLines ?? 0), 0),
      'the outcomes it cites',
    );
    exact(
      `the number of sessions of ${taskName(task.task)}`,
      task.sessions,
      task.citedSessions.length,
      'the sessions it cites',
    );
    for (const x of task.outcomes) outcomes.set(x.commits.map((c) => `${c.repo}\u0000${c.sha}`).join(' '), x);
  }
  const cited = [...outcomes.values()];
  exact('the number of outcomes (commits)', o.commits, cited.length, 'the distinct outcomes the tasks cite');
  exact(
    'the number of pending outcomes',
    o.pendingCommits,
    cited.filter((x) => x.pending).length,
    'the distinct outcomes the tasks cite',
  );
  exact(
    'the kept lines',
    o.keptLines,
    cited.reduce((a, x) => a + (x.keptLines ?? 0), 0),
    'the distinct outcomes the tasks cite',
  );
  exact(
    'the number of pull requests',
    o.prs,
    new Set(cited.flatMap((x) => x.commits.filter((c) => c.pr !== null).map((c) => `${c.repo}#${c.pr}`))).size,
    'the distinct outcomes the tasks cite',
  );
  exact(
    'the number of shipped sessions',
    o.shippedSessions,
    new Set(cited.flatMap((x) => x.sessions)).size,
    'the sessions the outcomes cite',
  );

  // Tasks delivered and the per-task figures.
  const delivered = s.tasks.filter((x) => x.task !== null && x.delivered);
  exact('the number of tasks delivered', o.tasks, delivered.length, 'the delivered tasks listed');
  const taskTokens = delivered.map((x) => x.tokens);
  const taskCost = delivered.map((x) => x.costUSD);
  const n = delivered.length;
  near(
    'the tokens per task',
    o.tokensPerTask,
    n > 0 ? taskTokens.reduce((a, b) => a + b, 0) / n : null,
    1,
    'the delivered tasks',
  );
  near(
    'the cost per task',
    o.costPerTask,
    n > 0 ? taskCost.reduce((a, b) => a + b, 0) / n : null,
    2 * USD,
    'the delivered tasks',
  );
  near('the median tokens per task', o.tokensPerTaskMedian, median(taskTokens), 1, 'the delivered tasks');
  near('the median cost per task', o.costPerTaskMedian, median(taskCost), 2 * USD, 'the delivered tasks');

  // Yield and the per-commit figures from the tokens of shipped sessions (all but those without outcome and open).
  const shippedTokens = t.total - o.tokensWithoutOutcome - s.withoutOutcome.open.tokens;
  near(
    'the yield',
    o.yield,
    t.total > 0 ? shippedTokens / t.total : null,
    1e-9,
    'the tokens of shipped sessions over all tokens',
  );
  exact(
    'the tokens per commit',
    o.tokensPerCommit,
    o.commits > 0 ? Math.round(shippedTokens / o.commits) : null,
    'the tokens of shipped sessions over the outcomes',
  );
  near(
    'the cost per commit',
    o.costPerCommit,
    o.commits > 0 ? t.costUSD / o.commits : null,
    2 * USD,
    'the estimated cost over the outcomes',
  );
  if ((o.tokensPerCommitMedian === null) !== (o.commits === 0))
    out.push(
      `the median tokens per commit: the file says ${show(o.tokensPerCommitMedian)} for ${int(o.commits)} outcomes`,
    );
  // The plan cost: the monthly price over the period's days, over the outcomes.
  const plan = s.planCost;
  if (plan) {
    exact('the days of the plan cost', plan.days, s.period.days, 'the period');
    near(
      'the plan cost of the period',
      plan.periodUsd,
      (plan.monthlyUsd * plan.days) / 30.4,
      2 * USD,
      'its monthly price over the days',
    );
    near(
      'the plan cost per commit',
      plan.perCommit,
      o.commits > 0 ? plan.periodUsd / o.commits : null,
      2 * USD,
      'the plan cost over the outcomes',
    );
    near(
      'the plan cost per task',
      plan.perTask,
      o.tasks > 0 ? plan.periodUsd / o.tasks : null,
      2 * USD,
      'the plan cost over the tasks delivered',
    );
  }
  if (shippedTokens < 0)
    out.push(
      `the tokens without outcome and of open sessions (${int(o.tokensWithoutOutcome + s.withoutOutcome.open.tokens)}) are more than all tokens (${int(t.total)})`,
    );

  return out.length > LIMIT
    ? [...out.slice(0, LIMIT), `and ${out.length - LIMIT} more figures that do not add up`]
    : out;
}

function taskName(task: string | null): string {
  return task === null ? 'the outcomes without a task key' : `task ${task}`;
}
