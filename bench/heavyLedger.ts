import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildHeavyLedger } from '../src/demo/heavyLedger';
import { Ledger } from '../src/store/ledger';
import type { Figure } from './import';

/**
 * Measures on a year of heavy use: a fresh work folder, the heavy ledger built in it (`buildHeavyLedger`: sessions,
 * interactions, commits and links in every state) and open while `measure` runs; then closed and the folder removed.
 */
export async function onHeavyLedger(
  o: { workDir: string; sessions: number; interactions: number },
  log: (s: string) => void,
  measure: (ledger: Ledger, home: string) => Figure[] | Promise<Figure[]>,
): Promise<Figure[]> {
  fs.rmSync(o.workDir, { recursive: true, force: true });
  fs.mkdirSync(o.workDir, { recursive: true });
  const home = path.join(o.workDir, 'ledger');
  const ledger = await Ledger.open(home);
  try {
    const built = await buildHeavyLedger(ledger, {
      sessions: o.sessions,
      interactions: o.interactions,
      root: path.join(o.workDir, 'repos'),
    });
    log(
      `  ledger: ${built.interactions} interactions, ${built.sessions} sessions, ${built.commits} commits, ${built.links} links (built in ${(built.buildMs / 1000).toFixed(1)} s)`,
    );
    return await measure(ledger, home);
  } finally {
    ledger.close();
    fs.rmSync(o.workDir, { recursive: true, force: true });
  }
}
