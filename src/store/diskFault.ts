import * as fs from 'node:fs';
import * as path from 'node:path';

/** The errno codes of a disk that will not take a write: no permission, read-only, full, over quota. */
export const DISK_FAULT_CODES = ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT'] as const;
export type DiskFaultCode = (typeof DISK_FAULT_CODES)[number];

const isFaultCode = (code: unknown): code is DiskFaultCode =>
  typeof code === 'string' && (DISK_FAULT_CODES as readonly string[]).includes(code);

/**
 * A write the disk refused, as ONE plain line naming the folder and what to do, e.g. "Cannot save the ledger: the
 * disk holding /x is full (ENOSPC). Free some space and run the command again." The CLI prints it and exits 1 (no
 * stack trace); the extension shows it once.
 */
export class DiskFaultError extends Error {
  constructor(
    readonly code: DiskFaultCode,
    /** The folder that could not be written. */
    readonly folder: string,
    /** What could not be done ("save the ledger", "write the summary"). */
    readonly action: string,
  ) {
    super(diskFaultMessage(code, folder, action));
    this.name = 'DiskFaultError';
  }

  /** A read-only ledger home or one we may not write: reads still work (a full disk is not read-only). */
  get readOnly(): boolean {
    return this.code === 'EROFS' || this.code === 'EACCES' || this.code === 'EPERM';
  }
}

/** What is wrong with the folder, in words: "/x is on a read-only file system (EROFS)". */
export function diskFaultState(code: DiskFaultCode, folder: string): string {
  switch (code) {
    case 'EROFS':
      return `${folder} is on a read-only file system (${code})`;
    case 'ENOSPC':
      return `the disk holding ${folder} is full (${code})`;
    case 'EDQUOT':
      return `your disk quota for ${folder} is used up (${code})`;
    default:
      return `you have no permission to write in ${folder} (${code})`;
  }
}

function diskFaultMessage(code: DiskFaultCode, folder: string, action: string): string {
  const what = diskFaultState(code, folder);
  switch (code) {
    case 'EROFS':
      return `Cannot ${action}: ${what}. Remount it read-write, or use a writable ledger home (--home or $OUTCOME_LEDGER_HOME), and run the command again.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `Cannot ${action}: ${what}. Free some space and run the command again.`;
    default:
      return `Cannot ${action}: ${what}. Give your user write access to it (or use a folder you own) and run the command again.`;
  }
}

/**
 * The folder to name for a failed write: the folder of the path the error names (for a file: its folder; for a
 * folder that could not be created: its nearest existing parent), else the folder of `fallback`.
 */
function folderOf(e: NodeJS.ErrnoException, fallback: string): string {
  const p = typeof e.path === 'string' ? path.resolve(e.path) : path.resolve(fallback);
  let dir = p;
  try {
    if (!fs.statSync(p).isDirectory()) dir = path.dirname(p);
  } catch {
    dir = path.dirname(p);
  }
  // mkdir of a missing folder fails on its parent: name the closest folder that exists.
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** The disk fault `e` is, as a DiskFaultError for `action` on `target` (a file or folder), or undefined. */
export function diskFaultOf(e: unknown, action: string, target: string): DiskFaultError | undefined {
  if (e instanceof DiskFaultError) return e;
  const err = e as NodeJS.ErrnoException | undefined;
  if (!err || typeof err !== 'object' || !isFaultCode(err.code)) return undefined;
  return new DiskFaultError(err.code, folderOf(err, target), action);
}

/** Runs `write`; a disk fault becomes a DiskFaultError for `action` (other errors pass unchanged). */
export function withDiskFaults<T>(action: string, target: string, write: () => T): T {
  try {
    return write();
  } catch (e) {
    throw diskFaultOf(e, action, target) ?? e;
  }
}

/**
 * Whether a write into `folder` would be refused, without writing: read-only or not permitted (access(2)), or a disk
 * with no free block (statfs). For commands that only read (data health), to say the ledger is read-only.
 */
export function writeRefusal(folder: string, action = 'save the ledger'): DiskFaultError | undefined {
  try {
    fs.accessSync(folder, fs.constants.W_OK);
  } catch (e) {
    return diskFaultOf(e, action, folder);
  }
  try {
    const s = fs.statfsSync(folder);
    // Root may still use the blocks reserved for it; everyone else only what is available.
    const free = process.getuid?.() === 0 ? s.bfree : s.bavail;
    if (s.blocks > 0 && free === 0) return new DiskFaultError('ENOSPC', folder, action);
  } catch {
    // statfs is not available everywhere: the write itself will say
  }
  return undefined;
}
