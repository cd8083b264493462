import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A folder's entries as a walk last read them, with what it takes to know they are still true: the folder's identity
 * and times when it was listed. Adding, removing or renaming an entry changes a folder's mtime (and ctime), so while
 * they are the same the listing is too — provided it was taken safely after that mtime (see RACY_MS).
 */
export interface FolderListing {
  dev: number;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
  /** When the listing was taken (this machine's clock, ms), just before the folder was read. */
  listedAt: number;
  /**
   * The entries in walk order: each entry's name, a sub-folder's followed by the path separator, sorted as strings —
   * the order of the full paths, so a walk needs no sort of its own (see `walkFiles`).
   */
  entries: string[];
}

/**
 * A listing is only trusted when the folder's mtime is this much older than the moment it was listed (git's "racy"
 * rule): a change made within the same clock tick as the listing (or, on a file system with coarse times — FAT's 2 s —
 * within its granularity) could leave the mtime as it was. Afterwards any change gives the folder a newer mtime.
 */
export const RACY_MS = 2_000;

/**
 * The folder listings one discovery reads and reuses: `previous` is what the last walk saw (a cache: it may be stale or
 * empty, never wrong for a folder whose identity and times still match), `seen` is what this walk saw, to be saved
 * for the next one. Each folder costs one stat when its listing is reused, a stat and a read otherwise.
 */
export class FolderListings {
  readonly seen = new Map<string, FolderListing>();
  /** The folders this walk started from: what the previous listings hold below them and it did not see is gone. */
  readonly roots = new Set<string>();
  /** Folders read this time (not reused). */
  listed = 0;
  /** Folders whose previous listing was reused (one stat and no read; a light rescan's settled folders: neither). */
  reused = 0;

  constructor(
    private readonly previous: ReadonlyMap<string, FolderListing> = new Map(),
    private readonly now: () => number = Date.now,
    /**
     * A light rescan's (services/importer.ts RescanMemo): a folder of files only (no sub-folder: a session's
     * `subagents/`, a past day of Codex sessions) two or more levels below its walk's root, whose listing shows an
     * mtime before this time, taken safely after it, is reused without even a stat. A root, its folders (a project)
     * and every folder holding folders (a month) are always stat-ed: new sessions and new days appear there. A new
     * file in a settled folder is left to its watcher or the next full scan.
     */
    private readonly trustBefore?: number,
  ) {}

  /** The entries of `dir` (`depth` levels below its walk's root) in walk order, or undefined when it is not a folder. */
  entries(dir: string, depth = 0): string[] | undefined {
    const settled = this.previous.get(dir);
    if (
      settled &&
      this.trustBefore !== undefined &&
      depth >= 2 &&
      settled.mtimeMs < this.trustBefore &&
      settled.mtimeMs + RACY_MS < settled.listedAt &&
      !settled.entries.some((e) => e.endsWith(path.sep))
    ) {
      this.reused++;
      this.seen.set(dir, settled);
      return settled.entries;
    }
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(dir, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
    if (!st || !st.isDirectory()) return undefined;
    const before = this.previous.get(dir);
    if (
      before &&
      before.mtimeMs === st.mtimeMs &&
      before.ctimeMs === st.ctimeMs &&
      before.ino === st.ino &&
      before.dev === st.dev &&
      before.mtimeMs + RACY_MS < before.listedAt
    ) {
      this.reused++;
      this.seen.set(dir, before);
      return before.entries;
    }
    const listedAt = this.now();
    const entries = readEntries(dir);
    if (entries === undefined) return undefined;
    this.listed++;
    this.seen.set(dir, { dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, listedAt, entries });
    return entries;
  }

  /** Whether what this walk saw differs from the previous listings (a folder read again, one no longer there). */
  changed(): boolean {
    if (this.listed > 0) return true;
    for (const dir of this.previous.keys()) if (!this.seen.has(dir) && !this.isOthers(dir)) return true;
    return false;
  }

  /**
   * The previous listings of folders outside every root of this walk, in their saved order (parents first): another
   * process's, whose settings or home differ (a VS Code window and the CLI share one ledger home), kept for it while
   * their root is there. A folder below one of this walk's roots that it did not see is gone, and is dropped.
   */
  *others(): Generator<[string, FolderListing]> {
    const kept = new Set<string>();
    for (const [dir, l] of this.previous) {
      if (this.seen.has(dir) || !this.isOthers(dir)) continue;
      // A folder goes with its parent; a top folder (a root of theirs) costs one stat, so a removed home or temporary
      // folder takes its listings with it.
      const parent = path.dirname(dir);
      const top = parent === dir || !this.previous.has(parent);
      if (top ? !isDirectory(dir) : !kept.has(parent)) continue;
      kept.add(dir);
      yield [dir, l];
    }
  }

  /** Whether `dir` is outside every root of this walk (and so another process's to keep). */
  private isOthers(dir: string): boolean {
    for (const r of this.roots) if (dir === r || isBelow(dir, r)) return false;
    return true;
  }
}

/** Whether `dir` is strictly below `parent`. */
function isBelow(dir: string, parent: string): boolean {
  return dir.length > parent.length && dir.startsWith(parent) && dir.startsWith(path.sep, parent.length);
}

/** A folder's entries in walk order (sub-folders marked with the separator), or undefined when it cannot be read. */
function readEntries(dir: string): string[] | undefined {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  const entries = new Array<string>(dirents.length);
  for (let i = 0; i < dirents.length; i++) {
    const e = dirents[i]!;
    // Anything but a folder counts as a file: a FIFO, a device or a symlink to one is listed too, and refused with its
    // reason (data health) when opened — never read (regular.ts).
    entries[i] = e.isDirectory() ? e.name + path.sep : e.name;
  }
  return entries.sort();
}

let active: FolderListings | undefined;

/** Runs `fn` (a discovery: synchronous) with its walks reading and reusing folder listings through `listings`. */
export function withFolderListings<T>(listings: FolderListings, fn: () => T): T {
  const outer = active;
  active = listings;
  try {
    return fn();
  } finally {
    active = outer;
  }
}

/**
 * Files under `dir` (to `maxDepth` levels) whose name passes `accept`, sorted; unreadable folders are skipped. Each
 * folder's entries are sorted with a sub-folder's name followed by the separator, which is the order of the full
 * paths: the files come out sorted without sorting them. Inside `withFolderListings`, an unchanged folder is
 * stat'ed instead of read.
 */
export function walkFiles(dir: string, accept: (name: string) => boolean, maxDepth: number): string[] {
  return [...eachFile(dir, accept, maxDepth)];
}

/**
 * `walkFiles`' files one at a time, as the walk finds them: a year of sessions (50,000 files) is planned as it is
 * walked, never held as a list. The folder listings are those in use when this is called, even when the files are
 * taken later.
 */
export function eachFile(dir: string, accept: (name: string) => boolean, maxDepth: number): Iterable<string> {
  const listings = active;
  listings?.roots.add(dir);
  const entriesOf = (d: string, depth: number): string[] | undefined =>
    listings ? listings.entries(d, depth) : readEntries(d);
  // The files' paths are normalised as path.join would: the root's once, then each is `folder + sep + name`.
  const root = path.join(dir, '.');
  const rootPrefix = root.endsWith(path.sep) ? root : root + path.sep;
  return {
    *[Symbol.iterator]() {
      // Depth first, in entry order: a stack of the folders being listed and how far each has got.
      const top = entriesOf(dir, 0);
      if (!top) return;
      const stack = [{ entries: top, at: 0, prefix: rootPrefix, depth: 0 }];
      while (stack.length > 0) {
        const f = stack[stack.length - 1]!;
        if (f.at >= f.entries.length) {
          stack.pop();
          continue;
        }
        const e = f.entries[f.at++]!;
        if (!e.endsWith(path.sep)) {
          if (accept(e)) yield f.prefix + e;
        } else if (f.depth < maxDepth) {
          const sub = f.prefix + e.slice(0, -1);
          const entries = entriesOf(sub, f.depth + 1);
          if (entries) stack.push({ entries, at: 0, prefix: sub + path.sep, depth: f.depth + 1 });
        }
      }
    },
  };
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
