import * as fs from 'node:fs';
import * as path from 'node:path';

export interface AtomicWriteOptions {
  /** Keep the file being replaced here (a hard link, so `target` never goes missing). */
  backup?: string;
  /** Mode of a new file (default 0o600: the ledger is private; shared outputs pass 0o644). */
  mode?: number;
  /** Create the target's folder (and its parents) when missing. */
  makeFolder?: boolean;
}

/**
 * Replaces `target` with `bytes` so that a crash at any moment leaves either the old or the new file, never a mix:
 * write a temp file beside it, fsync, keep the current file as `backup` (when asked), rename the temp over the
 * target, fsync the directory. The one atomic writer: the ledger, summaries, rollups and team reports use it.
 */
export function writeFileAtomic(target: string, bytes: Uint8Array | string, options: AtomicWriteOptions = {}): void {
  const { backup } = options;
  const dir = path.dirname(target);
  if (options.makeFolder) fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
  const fd = fs.openSync(tmp, 'w', options.mode ?? 0o600);
  try {
    let written = 0;
    while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    if (backup && fs.existsSync(target)) {
      const backupTmp = `${backup}.${process.pid}.tmp`;
      try {
        fs.unlinkSync(backupTmp);
      } catch {
        // not there
      }
      try {
        fs.linkSync(target, backupTmp);
      } catch {
        fs.copyFileSync(target, backupTmp); // file systems without hard links
      }
      fs.renameSync(backupTmp, backup);
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // best effort
    }
    throw e;
  }
  fsyncDir(dir);
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

/** Leftover temp files from writers that were killed mid-save. */
export function removeStaleTemps(target: string): void {
  const dir = path.dirname(target);
  const prefix = `.${path.basename(target)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  const hourAgo = Date.now() - 3_600_000;
  for (const n of names) {
    if (!n.startsWith(prefix) || !n.endsWith('.tmp')) continue;
    const p = path.join(dir, n);
    try {
      if (fs.statSync(p).mtimeMs < hourAgo) fs.unlinkSync(p);
    } catch {
      // raced with another cleaner
    }
  }
}
