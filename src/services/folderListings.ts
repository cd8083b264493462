/**
 * @fileoverview The folder listings a discovery walk keeps between runs (`folder-listings.json` in the ledger home),
 * so a warm import stats an unchanged log folder instead of reading it (sources/walk.ts, docs/ledger.md "How discovery
 * skips unchanged folders"). Only a cache: a file that is missing, unreadable, corrupt, truncated or of another version
 * or platform is ignored (and replaced by the next walk's), and deleting it only costs speed. It never makes a walk miss
 * a file: a listing is used only for a folder whose identity and times still match it, taken safely after its mtime.
 * Several processes may walk at once: each reads the file once, and writes what it saw whole and atomically, with the
 * listings of folders outside its own roots that it read (another process's, whose settings or home differ).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FolderListings, type FolderListing } from '../sources/walk';
import { writeFileAtomic } from '../store/atomic';

const FORMAT = 'outcome-ledger folder listings';
/** Bumped whenever the layout or the meaning of an entry changes: a file of another version is ignored. */
const VERSION = 1;

/**
 * One folder as saved: the index of its parent folder among those saved before it and its name (or -1 and its whole
 * path: a walk's root), dev, ino, mtimeMs, ctimeMs, listedAt, entries. A year's session folders hold long paths: each
 * is written once, as its last part.
 */
type SavedFolder = [number, string, number, number, number, number, number, string[]];

interface SavedListings {
  format: string;
  version: number;
  /** Listings are only valid where they were taken (separators, identities). */
  platform: string;
  folders: SavedFolder[];
}

/**
 * Where a long-lived process (a VS Code window: services/importer.ts RescanMemo) keeps the listings it last read or
 * wrote, with the file's identity then: its walks every minute reuse them while the file is unchanged instead of
 * parsing MBs of JSON again. The CLI keeps none (one walk per run: nothing to reuse, memory to spare).
 */
export interface ListingsHolder {
  kept?: { file: string; stamp: string; listings: ReadonlyMap<string, FolderListing> };
}

function stampOf(file: string): string | undefined {
  const s = fs.statSync(file, { throwIfNoEntry: false });
  return s ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}` : undefined;
}

/**
 * The listings saved in `file`, ready for a walk; none (a walk that reads every folder) when the file is not usable.
 * `trustBefore` (a light rescan): settled folders whose listing shows an mtime before it are reused without a stat.
 */
export function loadFolderListings(
  file: string,
  now: () => number = Date.now,
  options: { trustBefore?: number; holder?: ListingsHolder } = {},
): FolderListings {
  const { holder } = options;
  let previous: ReadonlyMap<string, FolderListing>;
  try {
    const stamp = holder ? stampOf(file) : undefined;
    if (holder && stamp !== undefined && holder.kept?.file === file && holder.kept.stamp === stamp)
      previous = holder.kept.listings;
    else {
      previous = parse(fs.readFileSync(file, 'utf8'));
      if (holder) holder.kept = stamp === undefined ? undefined : { file, stamp, listings: previous };
    }
  } catch {
    previous = new Map();
  }
  return new FolderListings(previous, now, options.trustBefore);
}

/** Saves what the walk saw when it differs from what it started from; a failure is ignored (the cache is optional). */
export function saveFolderListings(file: string, listings: FolderListings, holder?: ListingsHolder): boolean {
  if (!listings.changed()) return false;
  // What this walk saw, then what it kept of another process's (a window and the CLI with other sources or homes).
  const saved = new Map(chain(listings.seen, listings.others()));
  try {
    if (!writeFileAtomic(file, savedText(saved))) return false;
    if (holder) {
      const stamp = stampOf(file);
      holder.kept = stamp === undefined ? undefined : { file, stamp, listings: saved };
    }
    return true;
  } catch {
    return false; // a read-only or full disk: the next walk reads the folders again
  }
}

/** The file's text in pieces of about 64 KB (a year's listings are MBs: never held as one string). */
function* savedText(saved: ReadonlyMap<string, FolderListing>): Generator<string> {
  const head: Omit<SavedListings, 'folders'> = { format: FORMAT, version: VERSION, platform: process.platform };
  let text = `${JSON.stringify(head).slice(0, -1)},"folders":[`;
  let count = 0;
  const indexOf = new Map<string, number>();
  for (const [dir, l] of saved) {
    // A relative root (an extra path given so) means another folder from another working folder: not kept.
    if (!path.isAbsolute(dir)) continue;
    const cut = dir.lastIndexOf(path.sep);
    const parent = cut > 0 ? indexOf.get(dir.slice(0, cut)) : undefined;
    indexOf.set(dir, count);
    const [at, name] = parent === undefined ? [-1, dir] : [parent, dir.slice(cut + 1)];
    const folder: SavedFolder = [at, name, l.dev, l.ino, l.mtimeMs, l.ctimeMs, l.listedAt, l.entries];
    text += `${count++ > 0 ? ',' : ''}${JSON.stringify(folder)}`;
    if (text.length >= 1 << 16) {
      yield text;
      text = '';
    }
  }
  yield `${text}]}`;
}

function* chain<T>(...parts: Iterable<T>[]): Generator<T> {
  for (const p of parts) yield* p;
}

/** The listings in a saved file's text; throws on anything that is not exactly what `saveFolderListings` writes. */
function parse(text: string): Map<string, FolderListing> {
  const saved = JSON.parse(text) as Partial<SavedListings> | null;
  if (
    typeof saved !== 'object' ||
    saved === null ||
    saved.format !== FORMAT ||
    saved.version !== VERSION ||
    saved.platform !== process.platform ||
    !Array.isArray(saved.folders)
  )
    throw new Error('not a folder listings file of this version');
  const out = new Map<string, FolderListing>();
  const dirs: string[] = [];
  for (const f of saved.folders as unknown[]) {
    if (!Array.isArray(f) || f.length !== 8) throw new Error('bad folder');
    const [parent, name] = f as unknown[];
    let dir: string;
    if (parent === -1 && typeof name === 'string' && path.isAbsolute(name)) dir = name;
    else if (Number.isInteger(parent) && typeof name === 'string' && isName(name))
      dir = `${dirs[parent as number] ?? fail('bad parent')}${path.sep}${name}`;
    else throw new Error('bad folder');
    for (let i = 2; i < 7; i++) if (typeof f[i] !== 'number' || !Number.isFinite(f[i])) throw new Error('bad folder');
    const entries = f[7] as unknown;
    if (!Array.isArray(entries) || !entries.every(isEntry)) throw new Error('bad entry');
    dirs.push(dir);
    out.set(dir, {
      dev: f[2] as number,
      ino: f[3] as number,
      mtimeMs: f[4] as number,
      ctimeMs: f[5] as number,
      listedAt: f[6] as number,
      entries: entries as string[],
    });
  }
  return out;
}

/** What a name in a listing may not hold: a separator (a sub-folder's name is followed by one, nothing else is). */
const NOT_IN_A_NAME = process.platform === 'win32' ? /[/\\\0]/ : /[/\0]/;

function fail(why: string): never {
  throw new Error(why);
}

/** One path segment: never empty, `.` or `..`, no separator. */
function isName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !NOT_IN_A_NAME.test(name);
}

/** A name as a folder listing holds it: one path segment, a sub-folder's followed by the separator. */
function isEntry(e: unknown): boolean {
  return typeof e === 'string' && isName(e.endsWith(path.sep) ? e.slice(0, -1) : e);
}
