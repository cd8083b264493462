import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildWorld } from '../demo/world';
import { importAll } from '../services/importer';
import { linkAll } from '../services/linker';
import { addDays, localDate } from '../core/usage/time';
import { report } from '../services/queries';
import { exportSummary } from '../services/summary';
import { writeFileAtomic } from '../store/atomic';
import { Ledger } from '../store/ledger';
import type { CliIo } from './io';
import { renderReport } from './render/report';
import { renderImport } from './render/sessions';

/** `npm run demo`: a realistic world in a temp folder, imported into its own ledger, reported. */
export async function runDemo(opts: { keep: boolean; timeZone: string; io: CliIo }): Promise<number> {
  const { io } = opts;
  const self = io.self ?? 'outcome-ledger';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'outcome-ledger-demo-'));
  try {
    io.out(`Building a demo world in ${root} …`);
    const world = buildWorld({ root: path.join(root, 'world'), end: new Date(), seed: 7, copilotSessions: 6 });
    fs.mkdirSync(path.join(root, 'world'), { recursive: true });
    io.out(
      `  ${world.repos.length} git repositories, ${world.files} log files (${(world.bytes / (1 << 20)).toFixed(1)} MB) ` +
        `from Claude Code, Codex and Copilot Chat, ${world.truth.interactions.length} billed requests.`,
    );
    const ledger = await Ledger.open(path.join(root, 'ledger'));
    try {
      const summary = await importAll(ledger, { env: world.env });
      // The demo's git repositories are real: link the sessions to the commits they produced.
      await linkAll(ledger, {});
      io.out('');
      io.out(renderImport(summary));
      io.out('');
      io.out(renderReport(report(ledger.database, { timeZone: opts.timeZone })));
      if (opts.keep) {
        // A signed outcome summary of the demo's two weeks, signed by a key in the demo's own ledger home.
        const until = localDate(opts.timeZone, world.end);
        const since = addDays(until, -13);
        const written: string[] = [];
        for (const format of ['md', 'html'] as const) {
          const file = path.join(root, `outcome-summary.${format}`);
          writeFileAtomic(
            file,
            exportSummary(ledger.database, path.join(root, 'ledger'), {
              since,
              until,
              timeZone: opts.timeZone,
              format,
              env: world.env,
              ledgerFile: ledger.paths.file,
            }).text,
            { mode: 0o644 },
          );
          written.push(file);
        }
        io.out('');
        io.out(`Outcome summary for ${since} – ${until}: ${written.join(' and ')}`);
        io.out(`  check it: ${self} verify ${written[0]} --ledger --home ${path.join(root, 'ledger')}`);
      }
    } finally {
      ledger.close();
    }
    io.out('');
    io.out(
      opts.keep
        ? `Kept the demo in ${root}. Try: ${self} report --by week --no-import --home ${path.join(root, 'ledger')}`
        : `For your own logs: \`${self} report\` (it imports them first into your own ledger; the demo's is gone).`,
    );
    return 0;
  } finally {
    if (!opts.keep) fs.rmSync(root, { recursive: true, force: true });
  }
}
