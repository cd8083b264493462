import { DEFAULT_DURABILITY_DAYS } from '../../services/linker';
import { report } from '../../services/queries';
import { PLAN_NAMES } from '../../core/usage/plans';
import { didYouMean } from '../suggest';
import {
  durabilityDaysOf,
  LINK_VIEW_OPTIONS,
  PERIOD_OPTIONS,
  periodQueryOf,
  planArg,
  str,
  UsageError,
  type Parsed,
} from '../args';
import type { Command } from '../command';
import { refresh, withLedger } from '../ledger';
import { GROUPINGS, renderCsv, renderGrouped, renderReport, type Grouping } from '../render/report';
import { printJson } from '../format';

function groupingOf(p: Parsed): Grouping | undefined {
  const by = str(p, 'by');
  if (by === undefined) return undefined;
  if ((GROUPINGS as readonly string[]).includes(by)) return by as Grouping;
  throw new UsageError(`--by takes ${GROUPINGS.join(', ')}; got "${by}"${didYouMean(by, [...GROUPINGS])}`);
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'token totals, estimated cost and value metrics for a period',
  help: `Usage: outcome-ledger report [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--by GROUP] [--json | --csv] [--no-import]

Totals (tokens in canonical fields, estimated cost), by source, model and day, outcomes (commits, tasks, PRs,
yield, cost per commit and per task, kept lines per 1k output tokens), self-check signals and coverage.
New log lines are imported and new commits linked first (incremental), so the report is current.

  --since DATE            first day included (in --tz)
  --until DATE            last day included (in --tz)
  --by GROUP              one table grouped by day, week (ISO), month, session, model, source or task, with its total
  --json                  print JSON (the stable shape documented in docs/cli.md; byDay, byWeek and byMonth always,
                          bySession with --by session)
  --csv                   print CSV for the grouping (default: by day): a header row, numbers unformatted
  --no-import             report the ledger as it is, without reading new log lines or git history
  --threshold X           confidence from which an automatic link counts (0..1, default 0.6)
  --durability-days N     age from which a commit's kept lines are judged (default ${DEFAULT_DURABILITY_DAYS})
  --identity EMAIL        also count commits authored by EMAIL as yours (repeatable; see docs/outcomes.md)
  --plan NAME[:USD]       show your subscription's cost amortised over the period beside the list-price estimate:
                          ${PLAN_NAMES.join(', ')}
                          (USD: your monthly amount; default: the plan in the ledger home's prices.json, if any)`,
  examples: [
    ['outcome-ledger report', "this ledger's whole history, outcomes first"],
    ['outcome-ledger report --since 2026-11-01 --by week', 'weekly totals since November'],
    ['outcome-ledger report --by month --csv > usage.csv', 'monthly figures for a spreadsheet'],
    ['outcome-ledger report --by task', 'tokens and cost per task, and whether it shipped'],
    ['outcome-ledger report --json | jq .outcomes', 'the value metrics for a script'],
  ],
  options: {
    ...PERIOD_OPTIONS,
    ...LINK_VIEW_OPTIONS,
    'no-import': { type: 'boolean' },
    by: { type: 'string' },
    csv: { type: 'boolean' },
    plan: { type: 'string' },
  },
  positionals: false,
  async run(p, io) {
    const by = groupingOf(p);
    if (p.values.json && p.values.csv) throw new UsageError('--json and --csv: choose one output format');
    const query = { ...periodQueryOf(p, io.env), durabilityDays: durabilityDaysOf(p), bySession: by === 'session' };
    const plan = planArg(p);
    return withLedger(p, io, async (ledger) => {
      await refresh(ledger, p, io);
      const r = report(ledger.database, { ...query, plan: plan === undefined ? ledger.plan : plan });
      // A year's report by session is tens of MB of JSON: printed a session at a time, never as one string.
      if (p.values.json) await printJson(r, io.out, io.drained);
      else if (p.values.csv) io.out(renderCsv(r, by ?? 'day'));
      else io.out(by ? renderGrouped(r, by, io.columns) : renderReport(r, 31, io.columns));
      return 0;
    });
  },
};
