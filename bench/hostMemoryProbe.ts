/**
 * Where the extension host's memory goes on a year's ledger, step by step, in a plain Node process doing what the
 * extension does when its ledger is switched (V8's default flags, as in the extension host): open the ledger, a full
 * rescan (services/importer.ts with a RescanMemo), the sidebar's snapshot of its default period, a light rescan.
 * Prints resident memory, V8's heap (used / reserved) and memory outside it (sql.js's wasm memory) after each step.
 *
 *   node out/bench/hostMemoryProbe.js LEDGER_HOME WORLD_HOME
 *
 * with the year bench's ledger and world (`.cache/bench/year/ledger`, `.cache/bench/year/world/home`). A diagnostic
 * for docs/ledger.md "Benchmarks"; the figure the target is checked on is the bench's, measured in the real VS Code.
 */
import * as path from 'node:path';
import { DEFAULT_QUERY } from '../src/core/sidebar/protocol';
import { importAll, RescanMemo } from '../src/services/importer';
import { sidebarSnapshot } from '../src/services/sidebar';
import { Ledger } from '../src/store/ledger';

function line(step: string): string {
  const m = process.memoryUsage();
  const mb = (n: number): string => (n / 1048576).toFixed(0).padStart(4);
  return `${step.padEnd(22)} rss ${mb(m.rss)} MB   heap ${mb(m.heapUsed)} / ${mb(m.heapTotal)} MB   outside the heap ${mb(m.external)} MB`;
}

async function main(): Promise<void> {
  const [home, world] = process.argv.slice(2);
  if (!home || !world) throw new Error('usage: hostMemoryProbe LEDGER_HOME WORLD_HOME');
  const env = {
    HOME: world,
    CLAUDE_CONFIG_DIR: [path.join(world, '.claude'), path.join(world, '.config', 'claude')].join(','),
    CODEX_HOME: path.join(world, '.codex'),
    TZ: 'UTC',
  };
  console.log(line('started'));
  const ledger = await Ledger.open(home);
  try {
    console.log(line('ledger open'));
    const memo = new RescanMemo();
    await importAll(ledger, { env, memo });
    console.log(line('full rescan'));
    sidebarSnapshot(ledger.database, {
      timeZone: 'UTC',
      query: DEFAULT_QUERY,
      health: { ledgerFile: ledger.paths.file, env, extra: [], disabled: new Set() },
    });
    console.log(line('sidebar snapshot'));
    await importAll(ledger, { env, memo, light: true });
    console.log(line('light rescan'));
    // What V8 keeps once the host is idle for a while (it gives memory back on its own schedule).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    console.log(line('3 s later'));
  } finally {
    ledger.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
