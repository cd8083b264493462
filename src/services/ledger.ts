/**
 * The ledger as the shells reach it. The extension may not import src/store (eslint.config.mjs): what it needs of the
 * store — opening the ledger, the errors it tells the user about, its permissions, price aliases and saving a file it
 * exported — comes through here, with how each failure is told in words.
 */
import { DiskFaultError, diskFaultOf, diskFaultState, withDiskFaults } from '../store/diskFault';
import { LedgerWriteError } from '../store/ledger';
import { LockTimeoutError } from '../store/lock';
import {
  describeFix,
  fixPermissions,
  permissionProblems,
  permissionWarning,
  type PermissionProblem,
} from '../store/permissions';
import { SchemaTooNewError } from '../store/schema';
import { writeFileAtomic } from '../store/atomic';

export { Ledger, LedgerWriteError } from '../store/ledger';
export { DiskFaultError } from '../store/diskFault';
export { LockTimeoutError } from '../store/lock';
export { defaultLedgerHome } from '../store/home';
export { applyPriceConfig } from '../store/prices';
export type { PermissionProblem } from '../store/permissions';

/** A failure to tell the user once per kind: `folder` is the one to offer opening, `level` how loudly. */
export interface LedgerProblem {
  kind: 'ledger-read-only' | 'schema' | 'ledger-write' | 'ledger-locked' | 'unexpected';
  level: 'warning' | 'error';
  message: string;
  folder?: string;
}

/** How a failure of the ledger in `home` is told: a plain message per kind, never a stack. */
export function ledgerProblem(e: unknown, home: string): LedgerProblem {
  if (e instanceof DiskFaultError) {
    return {
      kind: 'ledger-read-only',
      level: 'warning',
      message: `Outcome Ledger shows the ledger read-only, as last saved: ${diskFaultState(e.code, e.folder)}. New log lines are not recorded until it can be written again; they are read then, so nothing is lost.`,
      folder: home,
    };
  }
  if (e instanceof SchemaTooNewError) return { kind: 'schema', level: 'error', message: e.message };
  if (e instanceof LedgerWriteError) return { kind: 'ledger-write', level: 'error', message: e.message, folder: home };
  if (e instanceof LockTimeoutError) return { kind: 'ledger-locked', level: 'error', message: e.message, folder: home };
  return {
    kind: 'unexpected',
    level: 'error',
    message: `Outcome Ledger hit an unexpected error: ${(e as Error).message ?? String(e)}`,
  };
}

/** The ledger home, keys/ or the private key open to other users: the warning to show (with `fix` as the remedy), or undefined. */
export function permissionNotice(
  home: string,
  fix: string,
): { problems: PermissionProblem[]; warning: string | undefined } {
  const problems = permissionProblems(home);
  return { problems, warning: problems.length > 0 ? permissionWarning(problems, fix) : undefined };
}

/** Makes the ledger home and its keys private (700/600); says what changed. Throws DiskFaultError when it cannot. */
export function makeLedgerPrivate(home: string): { fixed: PermissionProblem[]; text: string } {
  const fixed = withDiskFaults('fix the permissions', home, () => fixPermissions(home));
  return {
    fixed,
    text:
      fixed.length === 0
        ? `Nothing to fix: ${home} and its keys are private.`
        : `Made the ledger private: ${fixed.map(describeFix).join(', ')}.`,
  };
}

/** Saves a file the user exported (a summary), atomically; a refusing disk is one plain line, e.g. "Cannot write the summary: …". */
export function saveExport(file: string, text: string, what: string): { ok: true } | { ok: false; message: string } {
  try {
    writeFileAtomic(file, text, { mode: 0o644 });
    return { ok: true };
  } catch (e) {
    const fault = diskFaultOf(e, `write ${what}`, file);
    return { ok: false, message: fault ? fault.message : `${what} was not saved: ${(e as Error).message}` };
  }
}
