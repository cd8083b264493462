import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AtomicWriteOptions {
  /** Keep the current file as this backup (a hard link, so the target never goes missing) before replacing it. */
  backup?: string;
  /** Mode of the new file (default 0o600: owner only). */
  mode?: number;
  /**
   * Never replace an existing file: the temp file is hard-linked into place, so of several processes racing to
   * create it exactly one wins. Returns false when the target already existed (nothing was written).
   */
  exclusive?: boolean;
  /** Create the folder first when it is missing (with this mode, e.g. 0o700). */
  mkdirMode?: number;
}

/**
 * THE way Outcome Ledger writes a file (the ledger snapshot and journal headers, summaries, rollups, team reports and
 * their state, keys, the machine id, caches): a crash or a failure at any moment leaves either the old or the new
 * file, never a mix, and never a temp file. Write a temp file in the same folder (same file system, so the rename is
 * atomic), fsync it, keep the current file as `backup` when asked, rename the temp over the target (or hard-link it
 * for `exclusive`), fsync the folder. On ANY failure the temp file is removed and the error (an errno error: see
 * store/diskFault.ts for turning it into one plain line) is thrown; the target is untouched.
 */
export function writeFileAtomic(
  target: string,
  /** The content, or its pieces in order (written as they come: a large file need not be held whole). */
  data: Uint8Array | string | Iterable<Uint8Array | string>,
  options: AtomicWriteOptions = {},
): boolean {
  const pieces = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
  return writeAtomicWith(
    target,
    (fd) => {
      for (const piece of pieces) {
        const bytes = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
        let written = 0;
        while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
      }
    },
    options,
  );
}

/**
 * The same, with the content written by `write` to the temp file's descriptor (a snapshot written from its pages, never
 * held whole in memory). `write` throwing leaves nothing behind.
 */
export function writeAtomicWith(
  target: string,
  write: (fd: number) => void,
  options: AtomicWriteOptions = {},
): boolean {
  const dir = path.dirname(path.resolve(target));
  if (options.mkdirMode !== undefined) fs.mkdirSync(dir, { recursive: true, mode: options.mkdirMode });
  const tmp = tempNameFor(target);
  let created = false;
  try {
    const fd = fs.openSync(tmp, 'wx', options.mode ?? 0o600);
    created = true;
    try {
      write(fd);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (options.exclusive) {
      try {
        fs.linkSync(tmp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
      fs.unlinkSync(tmp);
      created = false;
    } else {
      if (options.backup) keepBackup(target, options.backup);
      fs.renameSync(tmp, target);
      created = false;
    }
  } finally {
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }
  fsyncDir(dir);
  return true;
}

/** `.<name>.<pid>.<time>.tmp` beside the target: hidden, and recognisable by `removeStaleTemps`. */
function tempNameFor(target: string): string {
  return path.join(
    path.dirname(path.resolve(target)),
    `.${path.basename(target)}.${process.pid}.${Date.now()}.${Math.floor(Math.random() * 1e6)}.tmp`,
  );
}

function keepBackup(target: string, backup: string): void {
  if (!fs.existsSync(target)) return;
  const backupTmp = `${backup}.${process.pid}.tmp`;
  try {
    fs.unlinkSync(backupTmp);
  } catch {
    // not there
  }
  try {
    try {
      fs.linkSync(target, backupTmp);
    } catch {
      fs.copyFileSync(target, backupTmp); // file systems without hard links
    }
    fs.renameSync(backupTmp, backup);
  } catch (e) {
    try {
      fs.unlinkSync(backupTmp);
    } catch {
      // never made
    }
    throw e;
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported on every platform (Windows): the rename is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Leftover temp files of `targets` (files of one folder) from writers that were killed mid-save (older than an hour:
 * not a save in progress). One readdir.
 */
export function removeStaleTemps(...targets: string[]): void {
  if (targets.length === 0) return;
  const dir = path.dirname(targets[0]!);
  const prefixes = targets.map((t) => `.${path.basename(t)}.`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const hourAgo = Date.now() - 3_600_000;
  for (const n of names) {
    if (!n.endsWith('.tmp') || !prefixes.some((prefix) => n.startsWith(prefix))) continue;
    const p = path.join(dir, n);
    try {
      if (fs.statSync(p).mtimeMs < hourAgo) fs.unlinkSync(p);
    } catch {
      // raced with another cleaner
    }
  }
}
