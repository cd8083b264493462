// Helpers for suites inside the extension host: commits in the test world's workspace repository, and reading the
// shared ledger the way another process would.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listSessions } from '../../src/services/queries';
import { Ledger } from '../../src/store/ledger';
import { waitFor, world } from './host';

/** A commit in the workspace with pinned dates (git has one-second resolution; tests don't sleep for it). */
export function commit(files: Record<string, string>, message: string, at: Date): string {
  const w = world();
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(w.workspace, rel)), { recursive: true });
    fs.writeFileSync(path.join(w.workspace, rel), content);
  }
  const date = `${Math.floor(at.getTime() / 1000)} +0000`;
  const env = { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  execFileSync('git', ['add', '--', ...Object.keys(files)], { cwd: w.workspace, env });
  execFileSync('git', ['commit', '-q', '-m', message], { cwd: w.workspace, env });
  return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: w.workspace, encoding: 'utf8' }).trim();
}

/** Opens the shared ledger on its own (as the CLI or another window would), reads, closes. */
export async function withLedger<T>(read: (l: Ledger) => T): Promise<T> {
  const ledger = await Ledger.open(world().ledgerHome);
  try {
    return read(ledger);
  } finally {
    ledger.close();
  }
}

/** Waits (15 s at most) until the shared ledger shows the session as shipped (linked to a counted commit). */
export async function shipped(sessionId: string, timeZone: string, what: string): Promise<void> {
  await waitFor(
    what,
    async () =>
      (await withLedger((l) => listSessions(l.database, { timeZone }))).find((x) => x.sessionId === sessionId)
        ?.status === 'shipped',
    15_000,
  );
}
