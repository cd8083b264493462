import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendClaudeTurn, buildWorld } from '../../src/demo/world';
import { loadFolderListings, saveFolderListings, type ListingsHolder } from '../../src/services/folderListings';
import { importAll } from '../../src/services/importer';
import { FolderListings, RACY_MS, walkFiles, withFolderListings, type FolderListing } from '../../src/sources/walk';
import { Ledger } from '../../src/store/ledger';
import { ledgerTokens, tempDirEach, truthTotal } from '../helpers';

const jsonl = (n: string): boolean => n.endsWith('.jsonl');

/** What the walk did before folder listings: read every folder, join every path, sort them all at the end. */
function plainWalk(dir: string, accept: (name: string) => boolean, maxDepth: number): string[] {
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
      } else if (accept(e.name)) out.push(p);
    }
  };
  visit(dir, 0);
  return out.sort();
}

function write(file: string, text = '{}\n'): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** Every folder under `dir` (itself included). */
function foldersUnder(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isDirectory()) out.push(path.join(e.parentPath, e.name));
  return out;
}

/** Sets every folder's mtime an hour back: a listing taken now is safely after it (not racy). */
function ageFolders(dir: string): void {
  const old = new Date(Date.now() - 3_600_000);
  // Deepest first: setting a folder's times does not change its parent's.
  for (const d of foldersUnder(dir).reverse()) fs.utimesSync(d, old, old);
}

/** One walk with the listings saved in `cache`, saving what it saw; the files found and the counts. */
function cachedWalk(
  cache: string,
  dir: string,
  maxDepth = 4,
): { files: string[]; listed: number; reused: number; saved: boolean } {
  fs.mkdirSync(path.dirname(cache), { recursive: true }); // the ledger home, there once an import has written
  const listings = loadFolderListings(cache);
  const files = withFolderListings(listings, () => walkFiles(dir, jsonl, maxDepth));
  const saved = saveFolderListings(cache, listings);
  return { files, listed: listings.listed, reused: listings.reused, saved };
}

/**
 * A VS Code window and the CLI sharing one ledger home (`cache`) but walking other roots (other settings, another
 * HOME): each root holds `files` (relative paths), its folders aged.
 */
function twoProcesses(dir: string, files: string[]): { cli: string; win: string; cache: string } {
  const cli = path.join(dir, 'cli', 'projects');
  const win = path.join(dir, 'window', 'projects');
  for (const r of [cli, win]) {
    for (const f of files) write(path.join(r, ...f.split('/')));
    ageFolders(r);
  }
  return { cli, win, cache: path.join(dir, 'home', 'folder-listings.json') };
}

function pick(w: { listed: number; reused: number; saved: boolean }): {
  listed: number;
  reused: number;
  saved: boolean;
} {
  return { listed: w.listed, reused: w.reused, saved: w.saved };
}

/** The folders a cache file holds listings of (through a walk over nothing, which reuses none of them). */
function loadFolderListingsMap(cache: string): Map<string, FolderListing> {
  const l = loadFolderListings(cache);
  return new Map(l.others());
}

describe('walk: files in the order of their paths, and folder listings reused while a folder is unchanged', function () {
  const tmp = tempDirEach('ol-walk-');

  it('lists the same files in the same order as reading every folder and sorting every path', () => {
    const root = path.join(tmp.dir, 'logs');
    // Names whose characters sort around the separator ('-' and '.' before '/', letters after), nested, and deep.
    for (const rel of [
      'a.jsonl',
      'a/x.jsonl',
      'a-b/x.jsonl',
      'a.b/y.jsonl',
      'a/b/c/d/e.jsonl',
      'a/b/c/d/f/too-deep.jsonl',
      'A/Z.jsonl',
      'é/ü.jsonl',
      'b/notes.txt',
      'b/s p a c e.jsonl',
      'b/b.jsonl',
      'b-/c.jsonl',
      'b0/c.jsonl',
    ])
      write(path.join(root, rel));
    for (const depth of [0, 1, 4]) {
      const expected = plainWalk(root, jsonl, depth);
      assert.deepEqual(walkFiles(root, jsonl, depth), expected, `depth ${depth}`);
      assert.deepEqual(walkFiles(`${root}${path.sep}`, jsonl, depth), expected, 'a trailing separator');
      const listings = new FolderListings();
      assert.deepEqual(
        withFolderListings(listings, () => walkFiles(root, jsonl, depth)),
        expected,
        'with listings',
      );
      // The second walk reuses what the first saw (the folders are new: their listings are racy, so read again).
      assert.deepEqual(
        withFolderListings(new FolderListings(listings.seen), () => walkFiles(root, jsonl, depth)),
        expected,
      );
    }
    assert.deepEqual(walkFiles(path.join(tmp.dir, 'missing'), jsonl, 4), []);
  });

  it('stats an unchanged folder instead of reading it, and reads again a folder an entry was added to or removed from', () => {
    const root = path.join(tmp.dir, 'projects');
    const cache = path.join(tmp.dir, 'home', 'folder-listings.json');
    write(path.join(root, 'p1', 's1.jsonl'));
    write(path.join(root, 'p1', 's1', 'subagents', 'agent-1.jsonl'));
    write(path.join(root, 'p2', 's2.jsonl'));
    ageFolders(root);
    const folders = 5; // projects, p1, p1/s1, p1/s1/subagents, p2
    const first = cachedWalk(cache, root);
    assert.equal(first.listed, folders, 'no listings yet: every folder is read');
    assert.ok(first.saved && fs.existsSync(cache), 'what the walk saw is saved in the ledger home');
    const second = cachedWalk(cache, root);
    assert.deepEqual(second.files, first.files);
    assert.equal(second.reused, folders, 'every folder reused: one stat each');
    assert.equal(second.listed, 0);
    assert.equal(second.saved, false, 'nothing new: nothing written');

    // A new file: its folder's mtime moves on, so that folder (only) is read again.
    write(path.join(root, 'p2', 's3.jsonl'));
    const added = cachedWalk(cache, root);
    assert.ok(added.files.includes(path.join(root, 'p2', 's3.jsonl')), 'the new file is found');
    assert.equal(added.listed, 1);
    assert.equal(added.reused, folders - 1);

    // A file deleted.
    fs.rmSync(path.join(root, 'p1', 's1.jsonl'));
    const deleted = cachedWalk(cache, root);
    assert.ok(!deleted.files.includes(path.join(root, 'p1', 's1.jsonl')), 'the deleted file is gone');
    assert.ok(deleted.files.includes(path.join(root, 'p1', 's1', 'subagents', 'agent-1.jsonl')));

    // A new sub-folder with a file in it (a new session's subagents).
    write(path.join(root, 'p2', 's3', 'subagents', 'agent-2.jsonl'));
    const sub = cachedWalk(cache, root);
    assert.ok(
      sub.files.includes(path.join(root, 'p2', 's3', 'subagents', 'agent-2.jsonl')),
      'the new folder is walked',
    );
    assert.deepEqual(sub.files, plainWalk(root, jsonl, 4));

    // A file renamed.
    fs.renameSync(path.join(root, 'p2', 's2.jsonl'), path.join(root, 'p2', 's2-renamed.jsonl'));
    const renamed = cachedWalk(cache, root);
    assert.deepEqual(renamed.files, plainWalk(root, jsonl, 4));
  });

  it('reads again a folder whose listing was taken within the racy window of its mtime', () => {
    const root = path.join(tmp.dir, 'projects');
    write(path.join(root, 'old.jsonl'));
    write(path.join(root, 'new.jsonl'));
    const at = new Date('2026-01-01T00:00:00Z');
    fs.utimesSync(root, at, at);
    const st = fs.statSync(root);
    // A listing of this very folder (same identity and times) that misses new.jsonl: what a listing taken in the same
    // clock tick as new.jsonl's creation could hold.
    const stale = (listedAt: number): Map<string, FolderListing> =>
      new Map([
        [
          root,
          { dev: st.dev, ino: st.ino, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, listedAt, entries: ['old.jsonl'] },
        ],
      ]);
    const walk = (previous: Map<string, FolderListing>): { files: string[]; listings: FolderListings } => {
      const listings = new FolderListings(previous);
      return { files: withFolderListings(listings, () => walkFiles(root, jsonl, 0)), listings };
    };
    const racy = walk(stale(st.mtimeMs + RACY_MS / 2));
    assert.deepEqual(racy.files, [path.join(root, 'new.jsonl'), path.join(root, 'old.jsonl')], 'read again');
    assert.equal(racy.listings.listed, 1);
    const sameMoment = walk(stale(st.mtimeMs));
    assert.equal(sameMoment.listings.listed, 1, 'a listing taken at the mtime itself is racy too');
    // The same listing taken safely later is trusted (which is why a stale one must never look safe).
    const safe = walk(stale(st.mtimeMs + RACY_MS + 1000));
    assert.deepEqual(safe.files, [path.join(root, 'old.jsonl')]);
    assert.equal(safe.listings.reused, 1);
    // Times or identity that differ: read again.
    const moved = new Map([[root, { ...stale(st.mtimeMs + RACY_MS + 1000).get(root)!, mtimeMs: st.mtimeMs - 1 }]]);
    assert.equal(walk(moved).listings.listed, 1);
    const otherInode = new Map([[root, { ...stale(st.mtimeMs + RACY_MS + 1000).get(root)!, ino: st.ino + 1 }]]);
    assert.equal(walk(otherInode).listings.listed, 1);
  });

  it('a stale cache saved last by a slower process never hides a file', () => {
    const root = path.join(tmp.dir, 'projects');
    const cache = path.join(tmp.dir, 'home', 'folder-listings.json');
    write(path.join(root, 'p1', 's1.jsonl'));
    write(path.join(root, 'p2', 's2.jsonl'));
    ageFolders(root);
    // A slow process (a VS Code window) walks first and saves last; another (the CLI) walks after a new session file.
    const slow = loadFolderListings(cache);
    const slowFiles = withFolderListings(slow, () => walkFiles(root, jsonl, 4));
    write(path.join(root, 'p2', 's3.jsonl'));
    const fast = cachedWalk(cache, root);
    assert.ok(fast.files.includes(path.join(root, 'p2', 's3.jsonl')));
    assert.equal(saveFolderListings(cache, slow), true, 'the older listings win the rename');
    assert.ok(!slowFiles.includes(path.join(root, 'p2', 's3.jsonl')));
    const next = cachedWalk(cache, root);
    assert.deepEqual(next.files, plainWalk(root, jsonl, 4), 'the new file is found all the same');
    assert.equal(next.listed, 1, 'its folder no longer matches the old listing: read again');
  });

  it("keeps another process's listings (other roots) and drops folders that are gone", () => {
    const { cli, win, cache } = twoProcesses(tmp.dir, ['p1/s1.jsonl', 'p2/s2.jsonl']);
    assert.equal(cachedWalk(cache, cli).listed, 3);
    assert.equal(cachedWalk(cache, win).listed, 3);
    // Each saved after the other: neither's listings were lost to the other's save.
    assert.deepEqual(pick(cachedWalk(cache, cli)), { listed: 0, reused: 3, saved: false });
    assert.deepEqual(pick(cachedWalk(cache, win)), { listed: 0, reused: 3, saved: false });
    const savedDirs = (): string[] => [...loadFolderListingsMap(cache).keys()].sort();
    assert.equal(savedDirs().length, 6);
    // A folder removed below a root the walk covers is dropped by that walk's save.
    fs.rmSync(path.join(cli, 'p2'), { recursive: true });
    const after = cachedWalk(cache, cli);
    assert.deepEqual(after.files, plainWalk(cli, jsonl, 4));
    assert.ok(!savedDirs().includes(path.join(cli, 'p2')));
    assert.ok(savedDirs().includes(path.join(win, 'p2')), "the window's folders are still there");
    // Another process's root that is gone (a removed temporary home) goes with the next save.
    fs.rmSync(path.join(tmp.dir, 'window'), { recursive: true });
    write(path.join(cli, 'p3', 's3.jsonl'));
    assert.equal(cachedWalk(cache, cli).saved, true);
    assert.deepEqual(
      savedDirs(),
      [cli, path.join(cli, 'p1'), path.join(cli, 'p3')].sort(),
      'only the folders still there are kept',
    );
  });

  it('a window keeps the parsed listings while the file is unchanged, and reads it again once another process saved', () => {
    const { cli, win, cache } = twoProcesses(tmp.dir, ['p1/s1.jsonl']);
    fs.mkdirSync(path.dirname(cache), { recursive: true });
    const holder: ListingsHolder = {};
    const walk = (): FolderListings => {
      const l = loadFolderListings(cache, Date.now, { holder });
      withFolderListings(l, () => walkFiles(win, jsonl, 4));
      saveFolderListings(cache, l, holder);
      return l;
    };
    walk();
    const kept = holder.kept;
    assert.ok(kept, 'kept after the save');
    assert.equal(walk().reused, 2);
    assert.equal(holder.kept, kept, 'not parsed again: the file did not change');
    // The CLI (no holder) saves its own folders: the window reads the file again and keeps them.
    cachedWalk(cache, cli);
    walk();
    assert.notEqual(holder.kept, kept);
    assert.ok(holder.kept?.listings.has(path.join(cli, 'p1')), "the CLI's listings are read and kept");
  });

  it('ignores a corrupt, truncated or foreign cache file and writes a good one in its place', () => {
    const root = path.join(tmp.dir, 'projects');
    const cache = path.join(tmp.dir, 'home', 'folder-listings.json');
    write(path.join(root, 'p1', 's1.jsonl'));
    write(path.join(root, 'p2', 's2.jsonl'));
    ageFolders(root);
    const expected = plainWalk(root, jsonl, 4);
    cachedWalk(cache, root);
    const good = fs.readFileSync(cache, 'utf8');
    const saved = JSON.parse(good) as { version: number; folders: unknown[][] };
    const escape = structuredClone(saved);
    (escape.folders[0]![7] as string[]).push('../../../etc/passwd.jsonl');
    const climb = structuredClone(saved);
    climb.folders[1]![1] = '..';
    const orphan = structuredClone(saved);
    orphan.folders[1]![0] = 7;
    const notANumber = structuredClone(saved);
    notANumber.folders[0]![4] = 'not a number';
    for (const [what, text] of [
      ['garbage', 'not json at all'],
      ['truncated', good.slice(0, Math.floor(good.length / 2))],
      ['empty', ''],
      ['another version', JSON.stringify({ ...saved, version: saved.version + 1 })],
      ['a name that leaves its folder', JSON.stringify(escape)],
      ['a time that is not a number', JSON.stringify(notANumber)],
      ['a folder named ..', JSON.stringify(climb)],
      ['a folder whose parent is not there', JSON.stringify(orphan)],
      ['null', 'null'],
    ] as const) {
      fs.writeFileSync(cache, text);
      const walk = cachedWalk(cache, root);
      assert.deepEqual(walk.files, expected, what);
      assert.equal(walk.reused, 0, `${what}: nothing taken from it`);
      assert.equal(walk.saved, true, `${what}: replaced`);
      assert.equal(cachedWalk(cache, root).reused, 3, `${what}: the file written in its place is used`);
    }
    fs.rmSync(cache);
    assert.deepEqual(cachedWalk(cache, root).files, expected, 'deleted: only costs a read of each folder');
  });

  it('an import stats the folders it listed before, and still reads a file appended to in one of them', async () => {
    const world = buildWorld({ root: path.join(tmp.dir, 'world'), seed: 3, repos: 0 });
    ageFolders(path.join(tmp.dir, 'world'));
    const home = path.join(tmp.dir, 'ledger');
    const ledger = await Ledger.open(home);
    const total = (): number => ledgerTokens(ledger);
    try {
      await importAll(ledger, { env: world.env });
      assert.equal(total(), truthTotal(world.truth.interactions));
      const cache = path.join(home, 'folder-listings.json');
      const written = fs.statSync(cache).ino;
      await importAll(ledger, { env: world.env });
      assert.equal(fs.statSync(cache).ino, written, 'a warm import reused every listing (nothing to save)');

      const session = Object.keys(world.state.claude)[0] ?? '';
      const before = total();
      const added = appendClaudeTurn(world, session);
      assert.ok(truthTotal(added) > 0);
      const summary = await importAll(ledger, { env: world.env });
      assert.equal(total(), before + truthTotal(added), 'the appended turn is read');
      assert.equal(total(), truthTotal(world.truth.interactions));
      assert.equal(summary.sources.find((s) => s.source === 'claude-code')?.filesRead, 1);
      assert.equal(fs.statSync(cache).ino, written, "the file's folder was not read again: its listing held");

      // A new session file in a folder whose listing is kept: found, and that folder's listing saved anew.
      const file = world.state.claude[session]?.file ?? '';
      const copy = path.join(path.dirname(file), 'new-session.jsonl');
      fs.copyFileSync(file, copy);
      const after = await importAll(ledger, { env: world.env });
      assert.equal(after.sources.find((s) => s.source === 'claude-code')?.filesRead, 1, 'the new file is read');
      assert.notEqual(fs.statSync(cache).ino, written);
    } finally {
      ledger.close();
    }
  });
});
