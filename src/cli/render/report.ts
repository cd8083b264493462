import { accuracyOf, type ReportJson, type UsageFigures } from '../../core/outcomes/report';
import type { PlanCost } from '../../core/usage/plans';
import { fmtCredits, noun } from '../../core/usage/format';
import { toolList } from '../../core/usage/model';
import { TOKEN_FIGURES } from '../../core/usage/tokens';
import { fmtInt, fmtPercent, fmtTokens, fmtTokensMarked, fmtUSD, table } from '../format';

function figureCells(f: UsageFigures): string[] {
  return [
    fmtTokensMarked(f.total, f.tokenAccuracy),
    fmtTokens(f.input),
    fmtTokens(f.output),
    fmtTokens(f.cacheRead),
    fmtTokens(f.cacheWrite),
    fmtUSD(f.costUSD) + (f.unpricedInteractions > 0 ? '*' : ''),
    fmtInt(f.interactions),
    fmtInt(f.sessions),
  ];
}

/** The period a report covers, as its heading names it. */
function periodLabel(r: ReportJson): string {
  return r.period.since || r.period.until
    ? `${r.period.since ?? 'start'} … ${r.period.until ?? 'today'}`
    : 'all recorded history';
}

const FIGURE_HEADER = ['total', 'input', 'output', 'cache read', 'cache write', 'est. cost', 'requests', 'sessions'];
/** The columns kept when the full table does not fit the terminal. */
const COMPACT = [0, 5, 6] as const;

/** The plan cost line, labelled so it is never read as the list-price estimate. */
function planLine(p: PlanCost): string {
  const per = [
    p.perCommit !== null ? `${fmtUSD(p.perCommit)} per commit` : '',
    p.perTask !== null ? `${fmtUSD(p.perTask)} per task` : '',
  ].filter(Boolean);
  return `plan cost (amortised): ${fmtUSD(p.periodUsd)} of ${p.label} at ${fmtUSD(p.monthlyUsd)}/month over ${fmtInt(p.days)} days${per.length > 0 ? ` · ${per.join(' · ')}` : ''}`;
}

/** A table of usage figures; on a terminal narrower than it, only total, cost and requests. */
function figureTable(title: string, rows: ReadonlyArray<readonly [string, UsageFigures]>, columns?: number): string {
  const full = table(
    [title, ...FIGURE_HEADER],
    rows.map(([k, f]) => [k, ...figureCells(f)]),
  );
  if (!columns || full.split('\n').every((l) => l.length <= columns)) return full;
  return table(
    [title, ...COMPACT.map((i) => FIGURE_HEADER[i] ?? '')],
    rows.map(([k, f]) => [k, ...COMPACT.map((i) => figureCells(f)[i] ?? '')]),
  );
}

/** What `report --by` groups by. */
export const GROUPINGS = ['day', 'week', 'month', 'session', 'model', 'source', 'task'] as const;
export type Grouping = (typeof GROUPINGS)[number];

function modelLabel(r: ReportJson): (m: ReportJson['byModel'][number]) => string {
  const modelSources = new Map<string, number>();
  for (const m of r.byModel) modelSources.set(m.model, (modelSources.get(m.model) ?? 0) + 1);
  return (m) =>
    `${m.model}${(modelSources.get(m.model) ?? 0) > 1 ? ` (${m.source})` : ''}${m.priced ? '' : ' (unpriced)'}`;
}

/** The usage rows of a grouping, keyed (every grouping but task). */
function groupRows(r: ReportJson, by: Exclude<Grouping, 'task'>): Array<[string, UsageFigures]> {
  switch (by) {
    case 'day':
      return r.byDay.map((d) => [d.date, d]);
    case 'week':
      return r.byWeek.map((w) => [w.week, w]);
    case 'month':
      return r.byMonth.map((m) => [m.month, m]);
    case 'source':
      return r.bySource.map((s) => [s.source, s]);
    case 'model': {
      const label = modelLabel(r);
      return r.byModel.map((m) => [label(m), m]);
    }
    case 'session':
      return (r.bySession ?? []).map((s) => [`${s.session} · ${s.start.slice(0, 10)} · ${s.status}`, s]);
  }
}

/** `report --by G`: the period's headline and one table grouped by G, with its total. */
export function renderGrouped(r: ReportJson, by: Grouping, columns?: number): string {
  const period = periodLabel(r);
  const out = [`Outcome Ledger — ${period} (${r.period.timezone}), by ${by}`, ''];
  if (r.totals.interactions === 0) return [...out, 'No AI-assistant usage recorded for this period.'].join('\n');
  if (by === 'task') {
    out.push(
      table(
        ['task', 'tokens', 'est. cost', 'sessions', 'commits', 'delivered', 'tools'],
        r.outcomes.byTask.map((t) => [
          t.task,
          fmtTokensMarked(t.tokens, accuracyOf(t.tokens, t.estimatedTokens)),
          fmtUSD(t.costUSD),
          fmtInt(t.sessions),
          fmtInt(t.commits),
          t.delivered ? 'yes' : 'no',
          t.sources.join('+'),
        ]),
      ),
    );
    if (r.outcomes.byTask.length === 0)
      out.push('(no session names a task yet: tasks come from branch names, commit messages and labels)');
  } else {
    out.push(figureTable(`by ${by}`, [...groupRows(r, by), ['all', r.totals]], columns));
  }
  out.push('');
  out.push(
    `Costs are list-price estimates (price table ${r.pricing.version}). Tokens are not value: \`outcome-ledger report\` shows the outcomes.`,
  );
  return out.join('\n');
}

/** A CSV field: quoted when needed; a leading = + - @ is prefixed with ' so a spreadsheet never runs it as a formula. */
function csvField(v: string | number | boolean | null): string {
  let s = v === null ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const CSV_FIGURES = [
  ...TOKEN_FIGURES,
  'costUSD',
  'interactions',
  'sessions',
  'estimatedTokens',
  'unpricedInteractions',
] as const;

/** `report --csv`: a header row and one line per group, numbers unformatted (tokens as integers, dollars as decimals). */
export function renderCsv(r: ReportJson, by: Grouping): string {
  const lines: string[] = [];
  const row = (cells: Array<string | number | boolean | null>): void => {
    lines.push(cells.map(csvField).join(','));
  };
  const figures = (f: UsageFigures): number[] => CSV_FIGURES.map((k) => f[k]);
  switch (by) {
    case 'task':
      row(['task', 'tokens', 'estimatedTokens', 'costUSD', 'sessions', 'commits', 'delivered', 'sources']);
      for (const t of r.outcomes.byTask)
        row([t.task, t.tokens, t.estimatedTokens, t.costUSD, t.sessions, t.commits, t.delivered, t.sources.join('+')]);
      break;
    case 'model':
      row(['source', 'model', 'priced', ...CSV_FIGURES]);
      for (const m of r.byModel) row([m.source, m.model, m.priced, ...figures(m)]);
      break;
    case 'session':
      row(['session', 'source', 'start', 'status', ...CSV_FIGURES]);
      for (const s of r.bySession ?? []) row([s.session, s.source, s.start, s.status, ...figures(s)]);
      break;
    default: {
      row([by, ...CSV_FIGURES]);
      for (const [key, f] of groupRows(r, by)) row([key, ...figures(f)]);
    }
  }
  return lines.join('\n');
}

export function renderReport(r: ReportJson, maxDays = 31, columns?: number): string {
  const out: string[] = [];
  const period = periodLabel(r);
  out.push(`Outcome Ledger — ${period} (${r.period.timezone})`);
  out.push('');
  if (r.totals.interactions === 0) {
    out.push('No AI-assistant usage recorded for this period.');
    out.push(`Run \`outcome-ledger import\` to read the logs of ${toolList('and')} on this machine.`);
    return out.join('\n');
  }
  const o = r.outcomes;
  out.push('Outcomes');
  out.push(
    `  ${fmtInt(o.commits)} commits · ${fmtInt(o.tasks)} tasks · yield ${fmtPercent(o.yield)} of tokens in shipped sessions` +
      (o.tokensPerCommit !== null ? ` · ${fmtTokens(o.tokensPerCommit)} tokens per commit` : ''),
  );
  out.push(
    `  sessions: ${fmtInt(o.shippedSessions)} shipped, ${fmtInt(o.openSessions)} open, ${fmtInt(o.unlinkedSessions)} without outcome, ` +
      `${fmtInt(o.labelledSessions)} labelled · ${fmtTokensMarked(o.tokensWithoutOutcome, accuracyOf(o.tokensWithoutOutcome, o.estimatedTokensWithoutOutcome))} tokens without outcome`,
  );
  const aside = [
    o.reverted > 0 ? `${fmtInt(o.reverted)} reverted` : '',
    o.unmerged > 0 ? `${fmtInt(o.unmerged)} not merged` : '',
    o.authoredByOthers > 0 ? `${fmtInt(o.authoredByOthers)} authored by someone else (assisted)` : '',
  ].filter(Boolean);
  if (aside.length > 0) out.push(`  not counted: ${aside.join(' · ')}`);
  if (o.commits === 0 && aside.length === 0)
    out.push('  (no sessions are linked to commits yet: `outcome-ledger link` reads your repositories)');
  else {
    const per: string[] = [];
    if (o.costPerCommit !== null)
      per.push(
        `list-price estimate ${fmtUSD(o.costPerCommit)} per commit (median ${fmtUSD(o.costPerCommitMedian ?? 0)})`,
      );
    if (o.costPerTask !== null)
      per.push(`${fmtUSD(o.costPerTask)} per task (median ${fmtUSD(o.costPerTaskMedian ?? 0)})`);
    if (o.prs > 0) per.push(`${fmtInt(o.prs)} PRs`);
    if (per.length > 0) out.push(`  ${per.join(' · ')}`);
    out.push(
      o.keptLinesPer1kOutput !== null
        ? `  ${fmtInt(o.keptLines)} lines kept at HEAD after ${o.durabilityDays} days · ${o.keptLinesPer1kOutput} kept lines per 1k output tokens` +
            (o.pendingCommits > 0
              ? ` · ${fmtInt(o.pendingCommits)} commits pending (younger than ${o.durabilityDays} days)`
              : '')
        : `  kept lines: pending (${fmtInt(o.pendingCommits)} commits younger than ${o.durabilityDays} days)`,
    );
    if (r.planCost) out.push(`  ${planLine(r.planCost)}`);
    const tasks = o.byTask.filter((t) => t.delivered).slice(0, 5);
    if (tasks.length > 0)
      out.push(
        `  top tasks: ${tasks.map((t) => `${t.task} ${fmtUSD(t.costUSD)} (${t.sources.join('+')})`).join(' · ')}`,
      );
  }
  const sc = r.selfCheck;
  const flags: string[] = [];
  if (sc.repeatedPrompts.prompts > 0)
    flags.push(`${fmtInt(sc.repeatedPrompts.prompts)} prompts repeated ${fmtInt(sc.repeatedPrompts.repeats)} times`);
  if (sc.contextPadding.sessions > 0)
    flags.push(
      `${fmtInt(sc.contextPadding.sessions)} sessions padded with context (${fmtTokens(sc.contextPadding.tokens)} tokens)`,
    );
  if (sc.loopsWithoutEdits.sessions > 0)
    flags.push(
      `${fmtInt(sc.loopsWithoutEdits.sessions)} call loops without edits (${fmtTokens(sc.loopsWithoutEdits.tokens)} tokens)`,
    );
  if (sc.longWithoutOutcome.sessions > 0)
    flags.push(
      `${fmtInt(sc.longWithoutOutcome.sessions)} long sessions that shipped nothing (${fmtTokens(sc.longWithoutOutcome.tokens)} tokens)`,
    );
  out.push('');
  out.push('Self-check (private: only you see this)');
  out.push(flags.length > 0 ? flags.map((f) => `  ${f}`).join('\n') : '  nothing stands out');
  out.push('');
  out.push(figureTable('by source', [...groupRows(r, 'source'), ['all', r.totals]], columns));
  out.push('');
  // One row per source and model: a model used through two tools is two rows, each naming its tool.
  out.push(figureTable('by model', groupRows(r, 'model'), columns));
  out.push('');
  const days = r.byDay.slice(-maxDays);
  const dayTitle =
    r.byDay.length > days.length ? `by day (last ${days.length}; --by week or month for more)` : 'by day';
  out.push(
    figureTable(
      dayTitle,
      days.map((d) => [d.date, d]),
      columns,
    ),
  );
  out.push('');
  out.push('Coverage');
  for (const c of r.coverage) {
    const range = c.first && c.last ? `${c.first.slice(0, 10)} … ${c.last.slice(0, 10)}` : 'no records in this period';
    const extras: string[] = [];
    if (c.rejectedLines > 0) extras.push(`${fmtInt(c.rejectedLines)} ${noun(c.rejectedLines, 'line')} rejected`);
    if (c.unpricedModels.length > 0) extras.push(`unpriced: ${c.unpricedModels.join(', ')}`);
    if (c.assumedModelInteractions > 0)
      extras.push(`${fmtInt(c.assumedModelInteractions)} requests with an assumed model`);
    if (c.estimatedTokens > 0)
      extras.push(`${c.tokenAccuracy === 'estimated' ? 'all' : fmtTokens(c.estimatedTokens)} tokens estimated`);
    const credits = r.bySource.find((s) => s.source === c.source)?.credits;
    if (credits !== undefined) extras.push(`${fmtCredits(credits)} credits`);
    out.push(`  ${c.source}: ${range}, ${fmtInt(c.files)} files${extras.length ? ` · ${extras.join(' · ')}` : ''}`);
  }
  out.push('');
  out.push('Cost');
  out.push(
    `  list-price estimate: ${fmtUSD(r.totals.costUSD)}${r.totals.unpricedInteractions > 0 ? ` (leaves out ${fmtInt(r.totals.unpricedInteractions)} unpriced requests)` : ''}`,
  );
  if (r.totals.recordedCostUsd !== undefined) {
    out.push(
      `  recorded by the tools: ${fmtUSD(r.totals.recordedCostUsd)} for the ${fmtInt(r.totals.recordedInteractions ?? 0)} requests that recorded their own cost (${r.bySource
        .filter((s) => s.recordedCostUsd !== undefined)
        .map((s) => `${s.source} ${fmtUSD(s.recordedCostUsd ?? 0)}`)
        .join(', ')})`,
    );
  }
  if (r.planCost) out.push(`  ${planLine(r.planCost)}`);
  out.push('');
  out.push(
    `Costs are list-price estimates (price table ${r.pricing.version})${r.totals.unpricedInteractions > 0 ? '; * leaves out unpriced models' : ''}.`,
  );
  if (r.totals.estimatedTokens > 0) {
    out.push(
      `~ marks token figures that are partly or wholly estimated (counted from text or rounded by the tool): ${fmtTokens(r.totals.estimatedTokens)} of ${fmtTokens(r.totals.total)}.`,
    );
  }
  if (r.totals.credits !== undefined) {
    out.push(
      `Credits (${fmtCredits(r.totals.credits)}) are what tools that bill in credits (Kiro, Amp) metered, as they recorded them: priced at their documented price per credit, never counted as tokens.`,
    );
  }
  out.push('Tokens are not value: more tokens for the same outcomes is worse, never better.');
  return out.join('\n');
}
