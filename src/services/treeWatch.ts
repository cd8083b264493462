import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Whether Node's recursive `fs.watch` is the platform's own (macOS FSEvents, Windows): one handle for a whole tree.
 * Elsewhere (Linux, where inotify watches one folder at a time) Node emulates it in JavaScript: it walks the whole
 * tree before it returns and keeps every file of it in memory. On a year of heavy use (53,000 log files) that blocked
 * the extension host for 2.2 s at every start and kept ~110 MB of heap for as long as it watched.
 */
export const NATIVE_RECURSIVE_WATCH = process.platform === 'darwin' || process.platform === 'win32';

/** Folder levels followed below the root when the source does not say how deep its new files appear. */
export const DEFAULT_WATCH_DEPTH = 4;

/** Folders watched per tree at most: past it, deeper new folders are left to VS Code's watcher and the rescan. */
export const MAX_WATCHED_FOLDERS = 2_000;

/**
 * Watches a folder and its sub-folders down to `depth` levels, each with its own non-recursive `fs.watch` (one
 * inotify watch), and starts watching a sub-folder created later within that depth, reporting the files already in
 * it (a tool creates a folder and writes its first file at once). `onFile` receives paths relative to the root, as a
 * recursive `fs.watch` gives them. What it holds is one watcher per folder — a few hundred for a year of Claude Code
 * projects or Codex days — never a list of the files.
 */
export class TreeWatch {
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private closed = false;

  private readonly depth: number;

  constructor(
    private readonly root: string,
    depth: number | undefined,
    private readonly onFile: (relative: string) => void,
    private readonly maxFolders = MAX_WATCHED_FOLDERS,
  ) {
    this.depth = depth ?? DEFAULT_WATCH_DEPTH;
    this.watch(root, 0, false);
  }

  /** Folders watched now. */
  get folders(): number {
    return this.watchers.size;
  }

  private watch(dir: string, level: number, report: boolean): void {
    if (this.closed || this.watchers.has(dir) || this.watchers.size >= this.maxFolders) return;
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, { persistent: false }, (_event, name) => {
        if (typeof name === 'string' && name.length > 0) this.changed(dir, level, name);
      });
    } catch {
      return; // gone, or out of inotify watches: VS Code's watcher and the rescan remain
    }
    // The folder removed under us (or a watch error): stop watching it; its parent sees it come back.
    w.on('error', () => this.unwatch(dir));
    this.watchers.set(dir, w);
    // At the deepest level only a new folder's own files are of interest (a folder of a year's sessions is not read).
    if (level >= this.depth && !report) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (level < this.depth) this.watch(full, level + 1, report);
      } else if (report && e.isFile()) {
        this.onFile(path.relative(this.root, full));
      }
    }
  }

  private changed(dir: string, level: number, name: string): void {
    const full = path.join(dir, name);
    let isDir: boolean;
    try {
      isDir = fs.statSync(full).isDirectory();
    } catch {
      // removed (or renamed away): a watched folder stops being watched
      this.unwatch(full);
      return;
    }
    if (!isDir) this.onFile(path.relative(this.root, full));
    else if (level < this.depth) this.watch(full, level + 1, true);
  }

  private unwatch(dir: string): void {
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(dir + path.sep)) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }
}
