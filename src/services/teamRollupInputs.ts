/**
 * What a team merge's inputs name (services/teamRollup.ts): files, folders (every *.json below them) and glob
 * patterns (* ? and ** in any segment), listed one at a time in a stable order, so the files stream through the merge
 * and the same inputs always merge in the same order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** An input of the merge: a file to check, or an input already refused (with its reason) while listing the files. */
export type MergeItem = { file: string } | { input: string; reason: string };

export const GLOB = /[*?[]/;

function globRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        re += `[${segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function* walkJson(dir: string): Generator<string> {
  for (const e of dirEntries(dir)) {
    if (e.name.startsWith('.')) continue; // .git and friends
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walkJson(p);
    // Symbolic links to folders are not followed (a link loop cannot trap the walk); every other *.json entry is read,
    // so a link to a rollup counts and a link to a device, a FIFO or nothing is refused with its reason.
    else if (e.name.endsWith('.json') && !(e.isSymbolicLink() && isDirectory(p))) yield p;
  }
}

export function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function dirEntries(dir: string): fs.Dirent[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

function* globFiles(base: string, segments: readonly string[]): Generator<string> {
  if (segments.length === 0) {
    // A pattern that names folders takes every rollup below them, like a folder given by name.
    // Anything else that exists (a FIFO, a device, a dangling or looping link) is read and refused with its reason.
    if (isDirectory(base)) yield* walkJson(base);
    else if (fs.lstatSync(base, { throwIfNoEntry: false })) yield base;
    return;
  }
  const [head, ...rest] = segments as [string, ...string[]];
  if (head === '**') {
    yield* globFiles(base, rest);
    for (const e of dirEntries(base))
      if (e.isDirectory() && !e.name.startsWith('.')) yield* globFiles(path.join(base, e.name), segments);
    return;
  }
  if (!GLOB.test(head)) {
    yield* globFiles(path.join(base, head), rest);
    return;
  }
  const re = globRegex(head);
  for (const e of dirEntries(base)) {
    if (!re.test(e.name) || (e.name.startsWith('.') && !head.startsWith('.'))) continue;
    if (rest.length === 0 || e.isDirectory()) yield* globFiles(path.join(base, e.name), rest);
  }
}

/** What a merge input names: a file, every *.json under a folder, or the files a pattern matches (or a reason). */
export function* expandRollupInputs(inputs: readonly string[], cwd = process.cwd()): Generator<MergeItem> {
  // A file named twice (by two inputs, or by a pattern with **) is read once. One folder or a pattern without ** cannot
  // name a file twice: no set of every path is kept then (100,000 paths would be 15 MB).
  const seen = inputs.length > 1 || inputs.some((i) => i.includes('**')) ? new Set<string>() : undefined;
  for (const input of inputs) {
    const abs = path.resolve(cwd, input);
    let found = 0;
    const emit = function* (p: string): Generator<{ file: string }> {
      found++;
      if (seen?.has(p)) return;
      seen?.add(p);
      yield { file: p };
    };
    if (GLOB.test(input) && !fs.existsSync(abs)) {
      const parts = abs.split(path.sep);
      const first = parts.findIndex((s) => GLOB.test(s));
      const base = parts.slice(0, first).join(path.sep) || path.sep;
      for (const p of globFiles(base, parts.slice(first))) yield* emit(p);
      if (found === 0) yield { input, reason: 'the pattern matches no file' };
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      yield { input, reason: 'no such file or folder' };
      continue;
    }
    if (st.isDirectory()) {
      for (const p of walkJson(abs)) yield* emit(p);
      if (found === 0) yield { input, reason: 'the folder holds no .json file' };
    } else {
      yield* emit(abs);
    }
  }
}

/** How a file is named in the report: relative to the working folder when below it. */
export function label(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}
