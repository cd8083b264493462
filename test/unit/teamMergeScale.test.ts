import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HexTable } from '../../src/core/team/hexTable';
import { reduceRollup, TeamMerger, type StoredContribution } from '../../src/core/team/merge';
import { Rng } from '../../src/demo/rng';
import { syntheticRollup } from '../../src/demo/teamRollups';
import { mergeTeamRollups, mergeTeamRollupsAsync, readRoster } from '../../src/services/teamRollup';
import { foldFiles } from '../../src/services/teamRollupPool';
import { SpillContributionStore } from '../../src/store/contributionSpill';
import { ephemeralSigningKey, type SigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';

const spillFolders = (): string[] => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('outcome-ledger-merge-'));

/** The periods the synthetic rollups cover: a month, a week inside it, a month across it, the month before. */
const PERIODS = [
  ['2026-11-01', '2026-11-30'],
  ['2026-11-01', '2026-11-07'],
  ['2026-11-05', '2026-12-05'],
  ['2026-10-01', '2026-10-31'],
] as const;

describe('team merge at scale', () => {
  it('the hex table of digests and machines finds every key it was given (with its number), and no other', () => {
    const rng = new Rng(11);
    const hex = (n: number): string =>
      Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rng.next() * 16)]).join('');
    const table = new HexTable(32);
    const model = new Map<string, number>();
    const keys: Array<[string, number]> = [];
    for (let i = 0; i < 5000; i++) {
      // Some machine ids come back with another member's number: a different key.
      const [id, member] =
        i % 7 === 0 && keys.length > 0 ? [(keys[i % keys.length] as [string, number])[0], i] : [hex(32), i % 50];
      keys.push([id, member]);
      const e = table.entry(id, member);
      assert.equal(table.value(e), model.has(`${member}/${id}`) ? model.get(`${member}/${id}`) : -1);
      table.setValue(e, i);
      model.set(`${member}/${id}`, i);
    }
    for (const [id, member] of keys) assert.equal(table.value(table.find(id, member)), model.get(`${member}/${id}`));
    for (let i = 0; i < 500; i++) assert.equal(table.find(hex(32), i), -1);
    assert.equal(table.find((keys[0] as [string, number])[0], 999_999), -1);
    assert.throws(() => table.find('ABCDEF'.repeat(5) + 'AB'), /lowercase hex/);
    assert.throws(() => table.find('abc'), /32 hex digits/);
  });

  it('the spill store gives back every record exactly, from memory and from its temporary file, and leaves nothing behind', () => {
    const before = new Set(spillFolders());
    const store = new SpillContributionStore(4096);
    const rng = new Rng(7);
    const records: StoredContribution[] = [];
    const handles: number[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        const figures = new Float64Array(25 + 12 * (i % 9));
        for (let j = 0; j < figures.length; j++)
          figures[j] = j % 7 === 6 ? rng.next() * 1e3 : Math.floor(rng.next() * 1e9);
        const c: StoredContribution = {
          file: `team-${i % 5}/membre-é-${i}.json`,
          displayName: i % 3 === 0 ? 'Zoë O’Brien' : null,
          timezone: i % 2 ? 'Europe/Paris' : 'UTC',
          figures,
          sources: ['claude-code', 'codex'].slice(0, 1 + (i % 2)),
          models: [`claude-code\u0000model-${i % 4}`],
          // One record larger than a chunk (4 KB here): written on its own.
          shared:
            i === 200
              ? { subjects: Array.from({ length: 50 }, (_, j) => `${j} ${'é'.repeat(290)}`) }
              : i % 4 === 0
                ? { repos: [`repo-${i}`], subjects: ['fix: a "quoted" subject'] }
                : undefined,
        };
        records.push(c);
        handles.push(store.put(c));
      }
      // Most records are past the 4 KB kept in memory: in the file (written in chunks, the last one still pending).
      if (process.platform !== 'win32')
        assert.deepEqual(
          spillFolders().filter((n) => !before.has(n)),
          [],
          'the temporary file is removed from its folder while open',
        );
      const order = handles.map((h, i) => [h, i] as const).sort(() => rng.next() - 0.5);
      for (const [h, i] of order) assert.deepEqual(store.get(h), records[i], `record ${i}`);
    } finally {
      store.close();
    }
    assert.deepEqual(
      spillFolders().filter((n) => !before.has(n)),
      [],
    );
  });

  it('a merge through the spill store gives the same report as in memory: duplicates, superseded, overlapping and copies included', () => {
    const keys: SigningKey[] = Array.from({ length: 6 }, () => ephemeralSigningKey());
    const rollups = [];
    for (let i = 0; i < 60; i++) {
      const member = i % 6;
      const machine = `${String(member).padStart(2, '0')}${'a'.repeat(29)}${i % 2}`;
      const [since, until] = PERIODS[Math.floor(i / 6) % PERIODS.length] as readonly [string, string];
      rollups.push(
        syntheticRollup({
          key: keys[member] as SigningKey,
          seed: i + 1,
          machineId: machine,
          since,
          until,
          displayName: member % 2 ? 'Ana' : null,
        }).rollup,
      );
    }
    rollups.push(rollups[3] as (typeof rollups)[number], rollups[17] as (typeof rollups)[number]);
    const inMemory = new TeamMerger();
    const store = new SpillContributionStore(2048);
    try {
      const spilled = new TeamMerger({ store });
      rollups.forEach((r, i) => {
        inMemory.add(`f${i}.json`, r);
        spilled.addReduced(`f${i}.json`, reduceRollup(r));
      });
      const a = inMemory.result(3, 'now');
      const b = spilled.result(3, 'now');
      assert.ok(a.files.counted > 0 && a.notCounted.length > 0, 'the fixture counts some files and sets others aside');
      assert.deepEqual(b, a);
      assert.deepEqual([...spilled.memberSet()], [...inMemory.memberSet()]);
    } finally {
      store.close();
    }
  });

  it('a merge in worker threads gives the report of a merge in one thread: order, duplicates, copies, roster and refusals alike', async () => {
    const dir = tempDir('ol-merge-workers-');
    const keys: SigningKey[] = Array.from({ length: 12 }, () => ephemeralSigningKey());
    let written = 0;
    for (let i = 0; i < 420; i++) {
      const member = i % 12;
      const machine = `${String(member).padStart(2, '0')}${'b'.repeat(29)}${i % 3}`;
      const [since, until] = PERIODS[Math.floor(i / 12) % PERIODS.length] as readonly [string, string];
      const f = syntheticRollup({
        key: keys[member] as SigningKey,
        seed: i + 1,
        machineId: machine,
        since,
        until,
        displayName: member % 4 === 0 ? 'Ana' : null,
      });
      const folder = path.join(dir, `team-${member % 3}`, `member-${member}`);
      fs.mkdirSync(folder, { recursive: true });
      const text = `${JSON.stringify(f, null, 2)}\n`;
      fs.writeFileSync(path.join(folder, `rollup-${i}.json`), text);
      written++;
      // Copies under another name, edited files and files that are not rollups, among the others: each in its place.
      if (i % 37 === 0) fs.writeFileSync(path.join(folder, `rollup-${i}-again.json`), text);
      if (i % 53 === 0)
        fs.writeFileSync(
          path.join(folder, `rollup-${i}-edited.json`),
          text.replace(/"commits": \d+/, '"commits": 100000000'),
        );
      if (i % 71 === 0) fs.writeFileSync(path.join(folder, `rollup-${i}-broken.json`), text.slice(0, 100));
    }
    // One member's key is not on the roster: their rollups are refused, in the same places.
    fs.writeFileSync(
      path.join(dir, 'roster.txt'),
      `${keys
        .slice(1)
        .map((k) => k.fingerprint)
        .join('\n')}\n`,
    );
    const o = {
      k: 3,
      cwd: dir,
      now: Date.parse('2026-12-06T00:00:00Z'),
      roster: readRoster(path.join(dir, 'roster.txt')),
    };
    const one = mergeTeamRollups([dir], o);
    assert.ok(
      one.files.read > written &&
        one.files.counted > 0 &&
        one.files.refused > 0 &&
        one.files.duplicates > 0 &&
        one.files.superseded > 0,
      JSON.stringify(one.files),
    );
    // Workers from the start, and after the first hundred files checked in this thread (the switch mid-merge).
    for (const inThreadFirst of [0, 100]) {
      const done: number[] = [];
      const workers = await mergeTeamRollupsAsync([dir], {
        ...o,
        threads: 2,
        inThreadFirst,
        onFile: (n) => done.push(n),
      });
      assert.deepEqual(workers, one);
      assert.deepEqual(
        done,
        Array.from({ length: one.files.read }, (_, i) => i + 1),
        'progress counts every file once, in order',
      );
    }
    const cancelled = await mergeTeamRollupsAsync([dir], { ...o, threads: 2, inThreadFirst: 0, cancelled: () => true });
    assert.equal(cancelled, undefined);
    // Checking workers that fail (one ends after its first batch, one throws at once): the batches they held are
    // checked in the merging thread, and the report is the same.
    const failing = path.join(tempDir('ol-failing-worker-'), 'worker.js');
    fs.writeFileSync(
      failing,
      [
        "const { parentPort, threadId } = require('node:worker_threads');",
        `const { checkBatch } = require(${JSON.stringify(require.resolve('../../src/services/teamRollupFile'))});`,
        'let batches = 0;',
        "parentPort.on('message', (m) => {",
        "  if (threadId % 2 === 0) throw new Error('a checking worker that fails');",
        '  if (++batches > 1) process.exit(3);',
        '  const { results, buffer } = checkBatch(m.files);',
        '  parentPort.postMessage({ seq: m.seq, results }, [buffer]);',
        '});',
      ].join('\n'),
    );
    const store = new SpillContributionStore();
    try {
      const merger = new TeamMerger({ store, roster: o.roster });
      assert.equal(await foldFiles(merger, [dir], { cwd: dir, threads: 2, inThreadFirst: 0, script: failing }), true);
      assert.deepEqual(merger.result(3, one.generatedAt), one);
    } finally {
      store.close();
    }
  });
});
