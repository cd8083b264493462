import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The repository root of a working directory: walk up to the first folder holding `.git` (a folder, or a file for
 * worktrees and submodules — then that folder is the root the session worked in). Null when there is none or the
 * directory no longer exists. Cached: thousands of sessions share a handful of directories.
 */
export class RepoFinder {
  private readonly cache = new Map<string, string | null>();

  rootOf(cwd: string): string | null {
    const start = path.resolve(cwd);
    const hit = this.cache.get(start);
    if (hit !== undefined) return hit;
    const visited: string[] = [];
    let dir = start;
    let found: string | null = null;
    for (;;) {
      const cached = this.cache.get(dir);
      if (cached !== undefined) {
        found = cached;
        break;
      }
      visited.push(dir);
      if (fs.existsSync(path.join(dir, '.git'))) {
        found = dir;
        break;
      }
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
    for (const v of visited) this.cache.set(v, found);
    return found;
  }
}
