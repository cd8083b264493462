import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Files under `dir` (to `maxDepth` levels) whose name passes `accept`; unreadable folders are skipped. */
export function walkFiles(dir: string, accept: (name: string) => boolean, maxDepth: number): string[] {
  const out: string[] = [];
  const visit = (d: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (depth < maxDepth) visit(p, depth + 1);
      } else if (accept(e.name)) {
        // Anything but a folder: a FIFO, a device or a symlink to one is listed too, and refused with its reason
        // (data health) when opened — never read (regular.ts).
        out.push(p);
      }
    }
  };
  visit(dir, 0);
  return out.sort();
}

/** Whether `p` is a file `walkFiles(dir, …, maxDepth)` could list: below `dir`, at most `maxDepth` folders down. */
export function isWithin(dir: string, p: string, maxDepth: number): boolean {
  const rel = path.relative(dir, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(/[\\/]/).length <= maxDepth + 1;
}

export function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}

export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The names in a folder, sorted; none when it cannot be read. */
export function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * Whether a path is there and not a folder: a log file to hand to the importer, which reads only regular files
 * (regular.ts) and names anything else (a FIFO, a device, a socket) in data health instead of skipping it silently.
 */
export function isLogCandidate(p: string): boolean {
  try {
    return !fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Removes duplicates that are the same folder reached by two paths (symlinks, trailing slashes). */
export function uniqueDirs(dirs: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const d of dirs) {
    const resolved = path.resolve(d);
    let real = resolved;
    try {
      real = fs.realpathSync(resolved);
    } catch {
      // not there (yet): keep the plain path
    }
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(resolved);
  }
  return out;
}
