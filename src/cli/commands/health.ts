import * as fs from 'node:fs';
import { dataHealth, renderHealth } from '../../services/health';
import { pendingImport } from '../../services/importer';
import { withDiskFaults, writeRefusal } from '../../store/diskFault';
import { describeFix, fixPermissions } from '../../store/permissions';
import { str, UsageError } from '../args';
import type { Command } from '../command';
import { homeOf, readOnlyLine, withLedger } from '../ledger';

export const healthCommand: Command = {
  name: 'health',
  summary: 'data health: per source found or not, files, first and last record, rejected lines, known gaps',
  help: `Usage: outcome-ledger health [--json] [--format text|md]
       outcome-ledger health --fix-permissions

Per source: found or not (and where it looked), log files, first and last record, rejected lines with the first
reasons, and known gaps (for example Claude Code history deleted before the first import).

  --json                print JSON
  --format text|md      plain text (the default on a terminal) or Markdown (the default when piped, for notes and issues)
  --fix-permissions     make the ledger home and its keys private when other users may change them or read the
                        private key (folders 700, the key 600); prints what it changed`,
  examples: [
    ['outcome-ledger health', 'which tools were found, where, and what could not be read'],
    ['outcome-ledger health --fix-permissions', 'make the ledger home readable by you only'],
  ],
  options: { json: { type: 'boolean' }, format: { type: 'string' }, 'fix-permissions': { type: 'boolean' } },
  positionals: false,
  async run(p, io) {
    if (p.values['fix-permissions'] === true) {
      if (p.values.json !== undefined || p.values.format !== undefined)
        throw new UsageError('--fix-permissions takes no --json or --format');
      const home = homeOf(p, io.env);
      const fixed = withDiskFaults('fix the permissions', home, () => fixPermissions(home));
      io.out(
        fixed.length === 0
          ? `Nothing to fix: ${home} and its keys are private.`
          : `Made private:\n${fixed.map((f) => `  ${describeFix(f)}`).join('\n')}`,
      );
      return 0;
    }
    return withLedger(p, io, (ledger) => {
      // Health only reads; on a ledger that cannot be written it says so, like the commands that import first.
      const refused = fs.existsSync(ledger.paths.home) ? writeRefusal(ledger.paths.home) : undefined;
      if (refused) io.err(`outcome-ledger: ${readOnlyLine(refused, pendingImport(ledger.database, { env: io.env }))}`);
      const h = dataHealth(ledger.database, ledger.paths.file, { env: io.env });
      const format = str(p, 'format') ?? (io.tty !== undefined && process.stdout.isTTY === true ? 'text' : 'md');
      if (format !== 'text' && format !== 'md') throw new UsageError(`--format needs text or md, got "${format}"`);
      io.out(
        p.values.json ? JSON.stringify(h, null, 2) : format === 'md' ? renderHealth(h) : plainText(renderHealth(h)),
      );
      return 0;
    });
  },
};

/** The Markdown of data health as plain terminal text: headings without their #, paths without backticks. */
function plainText(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line
        .replace(/^#{1,6} /, '')
        .replace(/`([^`]*)`/g, '$1')
        .replace(/\*\*([^*]*)\*\*/g, '$1'),
    )
    .join('\n');
}
