import { sessionsOf } from '../../services/queries';
import { LINK_VIEW_OPTIONS, PERIOD_OPTIONS, periodQueryOf } from '../args';
import type { Command } from '../command';
import { jsonArrayPrinter } from '../format';
import { refresh, withLedger } from '../ledger';
import { sessionLines } from '../render/sessions';

export const sessionsCommand: Command = {
  name: 'sessions',
  summary: 'one row per session with its status and links',
  help: `Usage: outcome-ledger sessions [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json] [--no-import] [--threshold X]

One row per session active in the period: tool, branch, tokens, estimated cost, edited files, counted commits,
status. New log lines are imported and new commits linked first (incremental).

  --since DATE    first day included (in --tz)
  --until DATE    last day included (in --tz)
  --json          print JSON (one object per session, with its links and tasks)
  --no-import     list the ledger as it is, without reading new log lines or git history
  --threshold X   confidence from which an automatic link counts (0..1, default 0.6)
  --identity EMAIL  also count commits authored by EMAIL as yours (repeatable)`,
  examples: [
    ['outcome-ledger sessions --since 2026-11-01', "this month's sessions, their tokens, cost and commits"],
    [
      'outcome-ledger sessions --json | jq \'.[] | select(.status=="unlinked")\'',
      'sessions without an outcome, for a script',
    ],
  ],
  options: { ...PERIOD_OPTIONS, ...LINK_VIEW_OPTIONS, 'no-import': { type: 'boolean' } },
  positionals: false,
  async run(p, io) {
    const query = periodQueryOf(p, io.env);
    return withLedger(p, io, async (ledger) => {
      await refresh(ledger, p, io);
      if (p.values.json) {
        // Printed as each session is read: a long history is never held as one list (services/queries.ts).
        const printer = jsonArrayPrinter(io.out);
        for (const s of sessionsOf(ledger.database, query)) {
          printer.add(s);
          // A slow reader (a pipe into jq) is waited for, so what is printed does not pile up in memory.
          await io.drained?.();
        }
        printer.end();
      } else {
        // Drawn once every session is read (the columns fit the widest cell), then printed in blocks of lines.
        let block: string[] = [];
        for (const line of sessionLines(sessionsOf(ledger.database, query))) {
          block.push(line);
          if (block.length < 512) continue;
          io.out(block.join('\n'));
          block = [];
          await io.drained?.();
        }
        if (block.length > 0) io.out(block.join('\n'));
      }
      return 0;
    });
  },
};
