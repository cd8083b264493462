// Finds compiled suite files without a glob library; shared by the harness (which windows to open) and the runner.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Every `*.test.js` below `dir`, sorted; those whose path relative to `dir` matches `pattern` when one is given. */
export function findTestFiles(dir: string, pattern?: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(p);
    }
  };
  walk(dir);
  const re = pattern ? new RegExp(pattern) : undefined;
  return found.filter((f) => !re || re.test(path.relative(dir, f))).sort();
}
