import * as fs from 'node:fs';
import { keyPaths } from './signing';

/**
 * The ledger home holds the usage history and the private signing key: another user who may write the home or the
 * keys folder can swap the ledger or the key (and sign as you); one who may read the key can sign as you. Checked on
 * every open (one stat each); `health --fix-permissions` (and the extension's "Fix permissions" button) makes them
 * private: folders 700, the key 600. Not on Windows, where POSIX modes mean nothing.
 */
export interface PermissionProblem {
  path: string;
  kind: 'ledger home' | 'keys folder' | 'private key';
  /** The mode now (permission bits). */
  mode: number;
  /** The mode the fix sets. */
  want: number;
  /** "writable by other users", "readable by other users". */
  problem: string;
}

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(3, '0');

function modeOf(p: string): number | undefined {
  try {
    return fs.statSync(p).mode & 0o777;
  } catch {
    return undefined;
  }
}

/** What is too open in `home`: the home or keys/ writable by group or others, the private key readable by them. */
export function permissionProblems(home: string, platform: NodeJS.Platform = process.platform): PermissionProblem[] {
  if (platform === 'win32') return [];
  const out: PermissionProblem[] = [];
  const keys = keyPaths(home);
  for (const [p, kind] of [
    [home, 'ledger home'],
    [keys.dir, 'keys folder'],
  ] as const) {
    const mode = modeOf(p);
    if (mode !== undefined && (mode & 0o022) !== 0)
      out.push({ path: p, kind, mode, want: 0o700, problem: 'writable by other users' });
  }
  const keyMode = modeOf(keys.privateKey);
  if (keyMode !== undefined && (keyMode & 0o077) !== 0) {
    out.push({
      path: keys.privateKey,
      kind: 'private key',
      mode: keyMode,
      want: 0o600,
      problem: (keyMode & 0o044) !== 0 ? 'readable by other users' : 'open to other users',
    });
  }
  return out;
}

/** One line for all of them: what is open to whom, and how to fix it (`fix` names the command or the button). */
export function permissionWarning(problems: readonly PermissionProblem[], fix: string): string {
  const what = problems.map((p) => `the ${p.kind} ${p.path} is ${p.problem} (mode ${octal(p.mode)})`).join('; ');
  return `${what.charAt(0).toUpperCase()}${what.slice(1)}. Other users could alter your ledger or sign summaries as you: ${fix} to make them private (folders 700, the key 600).`;
}

/** chmods every problem to its wanted mode; returns what was changed (a mode that cannot be set throws). */
export function fixPermissions(home: string, platform: NodeJS.Platform = process.platform): PermissionProblem[] {
  const problems = permissionProblems(home, platform);
  for (const p of problems) fs.chmodSync(p.path, p.want);
  return problems;
}

export function describeFix(p: PermissionProblem): string {
  return `${p.path}: ${octal(p.mode)} → ${octal(p.want)}`;
}
