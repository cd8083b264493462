/**
 * The team report for engines organisations already run (pure): OTLP JSON lines for an OpenTelemetry Collector
 * (`otlpjsonfile` receiver → Prometheus, ClickHouse, …) and NDJSON rows for a warehouse (BigQuery, Snowflake, DuckDB).
 * Only what the team report shows leaves: team totals and the k-anonymous breakdown rows (each covers at least k
 * members). A withheld report (fewer than k members, or a differencing risk) exports nothing.
 */
import type { TeamReportJson } from './merge';
import { renderTeamHtml, renderTeamMarkdown } from './render';
import { periodRange } from '../usage/time';

/** The formats of the team report: Markdown (the default), HTML, its JSON, OTLP JSON lines and NDJSON rows. */
export const TEAM_REPORT_FORMATS = ['md', 'html', 'json', 'otlp', 'ndjson'] as const;
export type TeamReportFormat = (typeof TEAM_REPORT_FORMATS)[number];

export function isTeamReportFormat(v: string): v is TeamReportFormat {
  return (TEAM_REPORT_FORMATS as readonly string[]).includes(v);
}

/** The team report as the text of a format (what `rollup merge --format` writes and the extension shows). */
export function teamReportText(r: TeamReportJson, format: TeamReportFormat, ctx: TeamExportContext): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(r, null, 2)}\n`;
    case 'html':
      return renderTeamHtml(r);
    case 'otlp':
      return renderTeamOtlp(r, ctx);
    case 'ndjson':
      return renderTeamNdjson(r, ctx);
    default:
      return renderTeamMarkdown(r);
  }
}

export interface TeamExportContext {
  /** The team's name: the resource attribute `outcome_ledger.team` and the NDJSON `team` column. */
  team: string;
  /** The version of Outcome Ledger (the instrumentation scope's version). */
  version: string;
}

type Figures = NonNullable<TeamReportJson['totals']>;
type Row = NonNullable<TeamReportJson['bySource']>[number] | NonNullable<TeamReportJson['byModel']>[number];

/** The grouped rows' label in machine formats: their source or model is `other` and `grouped` is true. */
const OTHER = 'other';

const isGroupedModel = (model: string): boolean => model.startsWith('other models (');

/** The period's bounds as epoch milliseconds: local midnights of the report's zone (UTC when members used several). */
function bounds(r: TeamReportJson): { start: number; end: number } {
  const zone = r.period.timezones.length === 1 ? (r.period.timezones[0] as string) : 'UTC';
  const since = r.period.since as string;
  const until = r.period.until as string;
  try {
    const { from, to } = periodRange(zone, since, until);
    return { start: from, end: to };
  } catch {
    const { from, to } = periodRange('UTC', since, until);
    return { start: from, end: to };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// NDJSON

/** The columns of every NDJSON row, in order (a warehouse table has exactly these; docs/team.md lists their types). */
export const NDJSON_COLUMNS = [
  'record',
  'team',
  'period_start',
  'period_end',
  'generated_at',
  'k',
  'source',
  'model',
  'grouped',
  'members',
  'input_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  'output_tokens',
  'reasoning_tokens',
  'total_tokens',
  'estimated_tokens',
  'cost_usd',
  'requests',
  'sessions',
  'commits',
  'tasks',
  'prs',
  'shipped_sessions',
  'yield',
  'tokens_per_commit',
  'cost_per_commit',
  'cost_per_task',
  'kept_lines_per_1k_output',
  'metric',
  'q1',
  'median',
  'q3',
] as const;

type NdjsonRow = Record<(typeof NDJSON_COLUMNS)[number], string | number | boolean | null>;

function figureColumns(f: Figures): Partial<NdjsonRow> {
  return {
    input_tokens: f.input,
    cache_read_tokens: f.cacheRead,
    cache_write_tokens: f.cacheWrite,
    output_tokens: f.output,
    reasoning_tokens: f.reasoning,
    total_tokens: f.total,
    estimated_tokens: f.estimatedTokens,
    cost_usd: f.costUSD,
    requests: f.interactions,
    sessions: f.sessions,
  };
}

/**
 * One JSON object per line: a `team` row (totals, outcomes, value metrics), a `source` row per tool and a `model` row
 * per model as the report shows them (k-anonymous; grouped rows have `grouped: true` and source or model `other`), and
 * a `distribution` row per value metric whose quartiles the report shows. Every row has every column (null when it
 * does not apply), so a warehouse loads them into one table.
 */
export function renderTeamNdjson(r: TeamReportJson, ctx: TeamExportContext): string {
  if (r.withheld || !r.totals || !r.outcomes) return '';
  const empty = Object.fromEntries(NDJSON_COLUMNS.map((c) => [c, null])) as NdjsonRow;
  const base: Partial<NdjsonRow> = {
    team: ctx.team,
    period_start: r.period.since,
    period_end: r.period.until,
    generated_at: r.generatedAt,
    k: r.k,
    grouped: false,
  };
  const rows: NdjsonRow[] = [];
  const push = (row: Partial<NdjsonRow>): void => {
    rows.push({ ...empty, ...base, ...row });
  };
  const o = r.outcomes;
  push({
    record: 'team',
    members: r.members,
    ...figureColumns(r.totals),
    commits: o.commits,
    tasks: o.tasks,
    prs: o.prs,
    shipped_sessions: o.shippedSessions,
    yield: o.yield,
    tokens_per_commit: o.tokensPerCommit,
    cost_per_commit: o.costPerCommit,
    cost_per_task: o.costPerTask,
    kept_lines_per_1k_output: o.keptLinesPer1kOutput,
  });
  for (const s of r.bySource ?? [])
    push({ record: 'source', source: s.source, grouped: s.source === OTHER, members: s.members, ...figureColumns(s) });
  for (const m of r.byModel ?? []) {
    const grouped = isGroupedModel(m.model);
    push({
      record: 'model',
      source: m.source,
      model: grouped ? OTHER : m.model,
      grouped: grouped || m.source === OTHER,
      members: m.members,
      ...figureColumns(m),
    });
  }
  for (const d of r.distributions ?? [])
    if (d.median !== null)
      push({ record: 'distribution', metric: d.metric, members: d.members, q1: d.q1, median: d.median, q3: d.q3 });
  return rows.map((row) => `${JSON.stringify(row, NDJSON_COLUMNS as unknown as string[])}\n`).join('');
}

// ---------------------------------------------------------------------------------------------------------------
// OTLP JSON (MetricsData, one per line, as the OpenTelemetry file exporter writes and the otlpjsonfile receiver reads)

type AnyValue = { stringValue: string } | { intValue: string } | { boolValue: boolean };
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface NumberDataPoint {
  attributes: KeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  asInt?: string;
  asDouble?: number;
}
interface Metric {
  name: string;
  description: string;
  unit: string;
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean };
  gauge?: { dataPoints: NumberDataPoint[] };
}

/** AGGREGATION_TEMPORALITY_DELTA: each report's figures cover its own period, not a running total. */
const DELTA = 1;
export const OTLP_METRICS = {
  tokens: 'outcome_ledger.team.tokens',
  commits: 'outcome_ledger.team.commits',
  tasks: 'outcome_ledger.team.tasks',
  prs: 'outcome_ledger.team.prs',
  cost: 'outcome_ledger.team.cost_usd',
  members: 'outcome_ledger.team.members',
} as const;

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** Which breakdown a data point belongs to (`team`, `source` or `model`): sum one breakdown at a time, never all. */
function breakdownAttributes(row: Row | null): KeyValue[] {
  if (!row) return [str('outcome_ledger.breakdown', 'team')];
  if ('model' in row) {
    return [
      str('outcome_ledger.breakdown', 'model'),
      str('outcome_ledger.source', row.source),
      str('gen_ai.request.model', isGroupedModel(row.model) ? OTHER : row.model),
    ];
  }
  return [str('outcome_ledger.breakdown', 'source'), str('outcome_ledger.source', row.source)];
}

/**
 * The report as one OTLP JSON line (`MetricsData`): resource attributes `service.name` and `outcome_ledger.team`, scope
 * `outcome-ledger`, and the metrics of OTLP_METRICS with the period as every data point's start and end time. Token
 * data points carry `gen_ai.token.type` (input | cache_read | cache_write | output); every data point carries
 * `outcome_ledger.breakdown` (team | source | model) and the breakdown rows add `outcome_ledger.source` and
 * `gen_ai.request.model`. Nothing for a withheld report.
 */
export function renderTeamOtlp(r: TeamReportJson, ctx: TeamExportContext): string {
  if (r.withheld || !r.totals || !r.outcomes) return '';
  const { start, end } = bounds(r);
  const time = {
    startTimeUnixNano: (BigInt(start) * 1_000_000n).toString(),
    timeUnixNano: (BigInt(end) * 1_000_000n).toString(),
  };
  const point = (attributes: KeyValue[], value: number, integer: boolean): NumberDataPoint => ({
    attributes,
    ...time,
    ...(integer ? { asInt: String(Math.round(value)) } : { asDouble: value }),
  });
  const rows: Array<{ row: Row | null; figures: Figures; members: number }> = [
    { row: null, figures: r.totals, members: r.members },
    ...(r.bySource ?? []).map((s) => ({ row: s, figures: s, members: s.members })),
    ...(r.byModel ?? []).map((m) => ({ row: m, figures: m, members: m.members })),
  ];
  const tokenTypes = [
    ['input', 'input'],
    ['cache_read', 'cacheRead'],
    ['cache_write', 'cacheWrite'],
    ['output', 'output'],
  ] as const;
  const sum = (name: string, description: string, unit: string, dataPoints: NumberDataPoint[]): Metric => ({
    name,
    description,
    unit,
    sum: { dataPoints, aggregationTemporality: DELTA, isMonotonic: true },
  });
  const team = breakdownAttributes(null);
  const o = r.outcomes;
  const metrics: Metric[] = [
    sum(
      OTLP_METRICS.tokens,
      "Tokens the team's AI assistants used in the period, by token type (input not cached, cache read, cache write, output)",
      '{token}',
      rows.flatMap(({ row, figures }) =>
        tokenTypes.map(([type, k]) =>
          point([str('gen_ai.token.type', type), ...breakdownAttributes(row)], figures[k], true),
        ),
      ),
    ),
    sum(OTLP_METRICS.commits, "Commits the team's AI sessions produced in the period", '{commit}', [
      point(team, o.commits, true),
    ]),
    sum(OTLP_METRICS.tasks, "Tasks the team's AI sessions delivered in the period", '{task}', [
      point(team, o.tasks, true),
    ]),
    sum(OTLP_METRICS.prs, "Pull requests the team's AI sessions produced in the period", '{pull_request}', [
      point(team, o.prs, true),
    ]),
    sum(
      OTLP_METRICS.cost,
      "Estimated cost of the team's AI use in the period at list prices, USD",
      '{USD}',
      rows.map(({ row, figures }) => point(breakdownAttributes(row), figures.costUSD, false)),
    ),
    {
      name: OTLP_METRICS.members,
      description: 'Members whose rollups (with at least one request) the figures cover',
      unit: '{member}',
      gauge: { dataPoints: rows.map(({ row, members }) => point(breakdownAttributes(row), members, true)) },
    },
  ];
  const data = {
    resourceMetrics: [
      {
        resource: { attributes: [str('service.name', 'outcome-ledger'), str('outcome_ledger.team', ctx.team)] },
        scopeMetrics: [{ scope: { name: 'outcome-ledger', version: ctx.version }, metrics }],
      },
    ],
  };
  return `${JSON.stringify(data)}\n`;
}
