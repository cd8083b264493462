import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Replaces `target` with `bytes` so that a crash at any moment leaves either the old or the new file, never a mix:
 * write a temp file beside it, fsync, keep the current file as `backup` (a hard link, so `target` never goes
 * missing), rename the temp over the target, fsync the directory.
 */
export function writeFileAtomic(target: string, bytes: Uint8Array, backup?: string): void {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
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
