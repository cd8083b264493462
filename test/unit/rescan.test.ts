import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendClaudeTurn, buildWorld, type World } from '../../src/demo/world';
import { importAll, RescanMemo, type ImportSummary } from '../../src/services/importer';
import { pathKey } from '../../src/store/hash';
import { Ledger } from '../../src/store/ledger';
import { ledgerTokens, tempDirEach, truthTotal } from '../helpers';

/** Sets every file's and folder's times two hours back (deepest first: a child's times do not touch its parent's). */
function age(dir: string): void {
  const old = new Date(Date.now() - 2 * 3_600_000);
  const all = fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .map((e) => path.join(e.parentPath, e.name))
    .sort((a, b) => b.length - a.length);
  for (const p of [...all, dir]) fs.utimesSync(p, old, old);
}

const claudeRead = (s: ImportSummary): number => s.sources.find((x) => x.source === 'claude-code')?.filesRead ?? 0;

describe('light rescans: what a full scan found settled is not stat-ed again until the next full scan', function () {
  const tmp = tempDirEach('ol-rescan-');
  let world: World;
  let ledger: Ledger;
  const total = (): number => ledgerTokens(ledger);

  beforeEach(async () => {
    world = buildWorld({ root: path.join(tmp.dir, 'world'), seed: 5, repos: 0 });
    age(path.join(tmp.dir, 'world'));
    ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
  });
  afterEach(() => ledger.close());

  it('a light rescan reads what changed in recent files and folders; an old file or folder waits for a full scan or its watcher', async () => {
    const memo = new RescanMemo(60_000, 60_000);
    // Light before any full scan: a full scan all the same (nothing learnt yet).
    await importAll(ledger, { env: world.env, memo, light: true });
    assert.equal(total(), truthTotal(world.truth.interactions));
    assert.ok(memo.filled);
    // Every old file read to its end (not those the world left with a half-written last line).
    const sessions = Object.keys(world.state.claude);
    const settled = sessions.filter((k) => memo.isSettled(world.state.claude[k]?.file ?? ''));
    assert.ok(settled.length >= sessions.length - 3 && settled.length > 2, `${settled.length} of ${sessions.length}`);

    const [a, b] = settled;
    const fileA = world.state.claude[a ?? '']?.file ?? '';
    // An append to a settled file: a light rescan does not look (its watcher would have reported it)...
    appendClaudeTurn(world, a ?? '');
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo, light: true })), 0);
    // ...a full scan does, and the file, written a moment ago, is no longer settled.
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo })), 1);
    assert.equal(total(), truthTotal(world.truth.interactions));
    assert.ok(!memo.isSettled(fileA));
    // A recent file is stat-ed by every light rescan.
    appendClaudeTurn(world, a ?? '');
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo, light: true })), 1);
    assert.equal(total(), truthTotal(world.truth.interactions));

    // A file its watcher reported is read at once and is no longer settled: the next light rescans stat it.
    const fileB = world.state.claude[b ?? '']?.file ?? '';
    appendClaudeTurn(world, b ?? '');
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo, changed: [fileB] })), 1);
    assert.ok(!memo.isSettled(fileB));
    appendClaudeTurn(world, b ?? '');
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo, light: true })), 1);
    assert.equal(total(), truthTotal(world.truth.interactions));

    // A new session in a project folder (a folder of folders): every light rescan stats those, so it is found.
    const copy = path.join(path.dirname(fileA), 'another-session.jsonl');
    fs.copyFileSync(fileA, copy);
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo, light: true })), 1);
    // A folder of files only (a session's subagents/), untouched for long: a light rescan reuses its listing without a
    // stat, so a new file there waits for its watcher or the next full scan.
    const agents = path.join(path.dirname(fileA), String(b), 'subagents');
    fs.mkdirSync(agents, { recursive: true });
    fs.copyFileSync(fileB, path.join(agents, 'agent-1.jsonl'));
    age(path.dirname(agents));
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo })), 1, 'a full scan reads the agent file');
    fs.copyFileSync(fileB, path.join(agents, 'agent-2.jsonl'));
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo, light: true })), 0);
    assert.equal(claudeRead(await importAll(ledger, { env: world.env, memo })), 1);
  });

  it('keeps settled files as 53-bit keys: 200,000 paths shaped like a year of logs, no two alike', () => {
    const keys = new Set<number>();
    const hex = (n: number): string => n.toString(16).padStart(8, '0');
    for (let i = 0; i < 200_000; i++) {
      const id = `${hex(i * 2654435761)}-${hex(i)}-4${hex(i * 40503).slice(1, 4)}-${hex(i ^ 0x5bd1).slice(0, 4)}`;
      const p =
        i % 3 === 0
          ? `/home/dev/.codex/sessions/2026/${String((i % 12) + 1).padStart(2, '0')}/${String((i % 28) + 1).padStart(2, '0')}/rollout-${id}.jsonl`
          : `/home/dev/.claude/projects/-home-dev-src-project-${i % 40}/${id}${i % 2 ? '' : `/subagents/agent-${hex(i)}`}.jsonl`;
      const k = pathKey(p);
      assert.ok(Number.isSafeInteger(k) && k >= 0);
      keys.add(k);
    }
    assert.equal(keys.size, 200_000);
    assert.notEqual(pathKey('/a/b.jsonl'), pathKey('/a/c.jsonl'));
    assert.equal(pathKey('/a/b.jsonl'), pathKey(['', 'a', 'b.jsonl'].join('/')), 'a key depends on the text only');
  });

  it('with nothing changed, a light rescan and a full scan leave the ledger the same', async () => {
    const memo = new RescanMemo(60_000, 60_000);
    await importAll(ledger, { env: world.env, memo });
    const before = ledger.version;
    const light = await importAll(ledger, { env: world.env, memo, light: true });
    const full = await importAll(ledger, { env: world.env, memo });
    assert.deepEqual(
      light.sources.map((s) => [s.source, s.files, s.filesRead, s.interactionsAdded]),
      full.sources.map((s) => [s.source, s.files, s.filesRead, s.interactionsAdded]),
      'the same files counted, none read',
    );
    assert.equal(total(), truthTotal(world.truth.interactions));
    assert.ok(ledger.version >= before);
  });
});
