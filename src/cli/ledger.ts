import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll, pendingImport, type PendingImport } from '../services/importer';
import { linkAll } from '../services/linker';
import { DiskFaultError, diskFaultState } from '../store/diskFault';
import { defaultLedgerHome } from '../store/home';
import { permissionProblems, permissionWarning } from '../store/permissions';
import { Ledger, LedgerWriteError } from '../store/ledger';
import { LockTimeoutError } from '../store/lock';
import { plural } from '../core/usage/format';
import { durabilityDaysOf, str, UsageError, type Parsed } from './args';
import { ProgressBar } from './format';
import type { CliIo } from './io';
import { collectGarbage } from './v8';

/** New log bytes from which a reading command's import shows its progress on a terminal (about a second's work). */
const PROGRESS_FROM_BYTES = 16 << 20;

export const GIT_MISSING = 'git was not found on PATH (install git to link sessions to commits)';

/** The ledger home: --home, else $OUTCOME_LEDGER_HOME or the platform data dir. */
export function homeOf(p: Parsed, env: NodeJS.ProcessEnv): string {
  const home = str(p, 'home');
  const dir = home ? path.resolve(home) : defaultLedgerHome(env);
  // A file named as the home would read as an empty ledger and exit 0: say so instead.
  if (fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory() === false)
    throw new UsageError(`${home ? '--home' : 'the ledger home'} ${dir} is a file, not a folder`);
  return dir;
}

/** Opens the ledger of --home, runs `use` with it and closes it, whatever happens. */
export async function withLedger<T>(p: Parsed, io: CliIo, use: (ledger: Ledger) => Promise<T> | T): Promise<T> {
  const home = homeOf(p, io.env);
  warnPermissions(home, io);
  const ledger = await Ledger.open(home, { onWarning: (m) => io.err(`outcome-ledger: ${m}`) });
  try {
    return await use(ledger);
  } finally {
    ledger.close();
  }
}

/** One stderr line when the ledger home, keys/ or the private key is open to other users (store/permissions.ts). */
function warnPermissions(home: string, io: CliIo): void {
  const problems = permissionProblems(home);
  if (problems.length > 0)
    io.err(
      `outcome-ledger: ${permissionWarning(problems, `run \`outcome-ledger health --fix-permissions${homeArg(home, io)}\``)}`,
    );
}

/** ` --home DIR` when the home is not the default one, so the suggested command fixes the right folder. */
function homeArg(home: string, io: CliIo): string {
  return path.resolve(home) === defaultLedgerHome(io.env) ? '' : ` --home ${home}`;
}

/**
 * `OUTCOME_LEDGER_CHECKPOINT_MB` (docs/ledger.md "Environment variables"): how much an import reads between saves of
 * its progress, for `import` and for the import every reading command runs first.
 */
export function checkpointOption(env: NodeJS.ProcessEnv): { checkpointBytes?: number } {
  const mb = Number(env.OUTCOME_LEDGER_CHECKPOINT_MB);
  return mb > 0 ? { checkpointBytes: mb * (1 << 20) } : {};
}

/**
 * `report`, `sessions`, `summary` and `rollup export` read new log lines first (incremental: unchanged files cost a
 * stat), so what they print is current. When another process holds the ledger (a long import in VS Code), they show
 * the last saved state. `--no-import` skips this.
 */
export async function refresh(ledger: Ledger, p: Parsed, io: CliIo): Promise<void> {
  if (p.values['no-import'] === true) return;
  // A first run on a long history reads it all before the report (a year of heavy use: about half a minute): on a
  // terminal, a progress line on stderr says so. A few new lines show nothing.
  const bar = io.tty ? new ProgressBar(io.tty, "reading your assistants' logs") : undefined;
  try {
    await importAll(ledger, {
      env: io.env,
      timeoutMs: 3000,
      projectDirs: [process.cwd()],
      ...checkpointOption(io.env),
      ...(bar
        ? { onProgress: (done: number, total: number) => total >= PROGRESS_FROM_BYTES && bar.update(done, total) }
        : {}),
      afterCheckpoint: collectGarbage,
    });
  } catch (e) {
    if (e instanceof DiskFaultError) {
      // A read-only ledger home (or a full disk): the saved ledger is still read and shown, with one line.
      io.err(`outcome-ledger: ${readOnlyLine(e, pendingImport(ledger.database, { env: io.env }))}`);
      return;
    }
    if (e instanceof LockTimeoutError || e instanceof LedgerWriteError) {
      io.err(`outcome-ledger: showing the ledger as last saved; new log lines were not read (${e.message})`);
      return;
    }
    throw e;
  } finally {
    bar?.done();
  }
  // What the import let go is collected before linking and reporting grow on top of it (cli/v8.ts).
  collectGarbage();
  // Linking is incremental: when no ref moved and no session changed it costs one `git for-each-ref` per repository.
  try {
    // Kept lines of what a commit touched are brought up to date here; a first pass over a big history is `link`'s.
    const linked = await linkAll(ledger, {
      timeoutMs: 3000,
      durabilityDays: durabilityDaysOf(p),
      durabilityBudgetMs: 1000,
      durabilityMaxFiles: 8,
      betweenSteps: collectGarbage,
    });
    if (linked.gitMissing) io.err(`outcome-ledger: ${GIT_MISSING}; sessions were not linked to commits`);
    collectGarbage();
  } catch (e) {
    if (e instanceof LockTimeoutError || e instanceof LedgerWriteError || e instanceof DiskFaultError) {
      io.err(`outcome-ledger: links were not updated (${e.message})`);
      return;
    }
    throw e;
  }
}

/**
 * The one line a read shows when the ledger cannot be written: that it shows the ledger read-only as last saved,
 * why, and what was not imported. "showing the ledger read-only, as last saved: /x is on a read-only file system
 * (EROFS); not imported: 2 new or changed log files (claude-code 1, codex 1); links not updated."
 */
export function readOnlyLine(fault: DiskFaultError, pending: PendingImport): string {
  const what =
    pending.files === 0
      ? 'no new log lines were waiting'
      : `not imported: ${plural(pending.files, 'new or changed log file')} (${pending.bySource.map((s) => `${s.source} ${s.files}`).join(', ')})`;
  return `showing the ledger read-only, as last saved: ${diskFaultState(fault.code, fault.folder)}; ${what}; links not updated.`;
}
