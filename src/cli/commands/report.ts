import { DEFAULT_DURABILITY_DAYS } from '../../services/linker';
import { report } from '../../services/queries';
import { PLAN_NAMES } from '../../core/usage/plans';
import { durabilityDaysOf, LINK_VIEW_OPTIONS, PERIOD_OPTIONS, periodQueryOf, planArg } from '../args';
import type { Command } from '../command';
import { refresh, withLedger } from '../ledger';
import { renderReport } from '../render';

export const reportCommand: Command = {
  name: 'report',
  summary: 'token totals, estimated cost and value metrics for a period',
  help: `Usage: outcome-ledger report [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json] [--no-import] [--threshold X]

Totals (tokens in canonical fields, estimated cost), by source, model and day, outcomes (commits, tasks, PRs,
yield, cost per commit and per task, kept lines per 1k output tokens), self-check signals and coverage.
New log lines are imported and new commits linked first (incremental), so the report is current.

  --since DATE            first day included (in --tz)
  --until DATE            last day included (in --tz)
  --json                  print JSON (the stable shape documented in docs/cli.md)
  --no-import             report the ledger as it is, without reading new log lines or git history
  --threshold X           confidence from which an automatic link counts (0..1, default 0.6)
  --durability-days N     age from which a commit's kept lines are judged (default ${DEFAULT_DURABILITY_DAYS})
  --identity EMAIL        also count commits authored by EMAIL as yours (repeatable; see docs/outcomes.md)
  --plan NAME[:USD]       show your subscription's cost amortised over the period beside the list-price estimate:
                          ${PLAN_NAMES.join(', ')}
                          (USD: your monthly amount; default: the plan in the ledger home's prices.json, if any)`,
  options: { ...PERIOD_OPTIONS, ...LINK_VIEW_OPTIONS, 'no-import': { type: 'boolean' }, plan: { type: 'string' } },
  positionals: false,
  async run(p, io) {
    const query = { ...periodQueryOf(p, io.env), durabilityDays: durabilityDaysOf(p) };
    const plan = planArg(p);
    return withLedger(p, io, async (ledger) => {
      await refresh(ledger, p, io);
      const r = report(ledger.database, { ...query, plan: plan === undefined ? ledger.plan : plan });
      io.out(p.values.json ? JSON.stringify(r, null, 2) : renderReport(r));
      return 0;
    });
  },
};
