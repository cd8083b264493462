import { dataHealth, renderHealth } from '../../services/health';
import type { Command } from '../command';
import { withLedger } from '../ledger';

export const healthCommand: Command = {
  name: 'health',
  summary: 'data health: per source found or not, files, first and last record, rejected lines, known gaps',
  help: `Usage: outcome-ledger health [--json]

Per source: found or not (and where it looked), log files, first and last record, rejected lines with the first
reasons, and known gaps (for example Claude Code history deleted before the first import).

  --json   print JSON`,
  options: { json: { type: 'boolean' } },
  positionals: false,
  async run(p, io) {
    return withLedger(p, io, (ledger) => {
      const h = dataHealth(ledger.database, ledger.paths.file, { env: io.env });
      io.out(p.values.json ? JSON.stringify(h, null, 2) : renderHealth(h));
      return 0;
    });
  },
};
