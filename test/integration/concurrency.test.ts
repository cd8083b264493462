import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld, type World } from '../../src/demo/world';
import { Ledger } from '../../src/store/ledger';
import { requestsOfPeriod } from '../../src/store/archive';
import { tempDir, truthTotal } from '../helpers';
import { CLI, cliAsync, reportJson } from './cli';

describe('several writers and crashes', function () {
  this.timeout(180_000);
  let dir: string;
  let world: World;

  before(() => {
    dir = tempDir('ol-conc-');
    // Big enough that an import takes a while and saves progress several times (1 MB checkpoints).
    world = buildWorld({
      root: path.join(dir, 'world'),
      seed: 9,
      repos: 0,
      targetBytes: 40e6,
      toolResultBytes: 20_000,
    });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('four importers started at once end with exactly the truth', async () => {
    const home = path.join(dir, 'concurrent');
    const env = { ...world.env, OUTCOME_LEDGER_CHECKPOINT_MB: '4' };
    const runs = await Promise.all([0, 1, 2, 3].map(() => cliAsync(['import', '--home', home], env)));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const report = reportJson(home, env);
    assert.equal(report.totals.total, truthTotal(world.truth.interactions));
    assert.equal(report.totals.interactions, world.truth.interactions.length);
  });

  it('an import killed with SIGKILL at any moment leaves a ledger that opens, and the next import completes it exactly', async () => {
    const home = path.join(dir, 'killed');
    const env = { ...world.env, OUTCOME_LEDGER_CHECKPOINT_MB: '1' };
    // Kill at moments spread over a full import's duration (measured here, on this machine).
    const timed = path.join(dir, 'timed');
    const t0 = Date.now();
    assert.equal((await cliAsync(['import', '--home', timed], env)).code, 0);
    const fullMs = Date.now() - t0;
    let kills = 0;
    for (let attempt = 0, fraction = 0.25; kills < 4 && attempt < 16; attempt++) {
      const child = spawn(process.execPath, [CLI, 'import', '--home', home], {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.round(fullMs * fraction));
      const code = await exited;
      clearTimeout(timer);
      if (code === null) {
        kills++;
        fraction = Math.min(0.9, fraction + 0.15);
      } else {
        fraction = fraction / 2; // it finished first: each run has less left to do, so strike earlier
      }
      // Whatever moment it died at, the ledger opens and never holds more than the truth.
      const partial = reportJson(home, env);
      assert.ok(partial.totals.total <= truthTotal(world.truth.interactions));
    }
    assert.ok(kills >= 2, `at least two imports were killed mid-way (${kills})`);
    const final = await cliAsync(['import', '--home', home], env);
    assert.equal(final.code, 0, final.stderr);
    const report = reportJson(home, env);
    assert.equal(report.totals.total, truthTotal(world.truth.interactions));
    assert.equal(report.totals.interactions, world.truth.interactions.length);
    assert.equal(fs.existsSync(path.join(home, 'ledger.lock')), false, 'no lock left behind');
  });

  /** Three writer processes (journalWriter.ts), one killed; `archiveBefore`: folds archive (and writes restore) too. */
  async function threeWriters(home: string, archiveBefore?: number): Promise<void> {
    const options = archiveBefore === undefined ? {} : { archiveBefore, archiveMinRequests: 0 };
    const script = path.join(__dirname, 'journalWriter.js');
    const reader = await Ledger.open(home, options);
    const confirmed = new Map<string, string[]>();
    const start = (prefix: string, count: number): { done: Promise<number | null>; kill: () => void } => {
      const child = spawn(process.execPath, [script, home, prefix, String(count)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, OL_TEST_ARCHIVE_BEFORE: archiveBefore === undefined ? '' : String(archiveBefore) },
      });
      const keys: string[] = [];
      confirmed.set(prefix, keys);
      let buffer = '';
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        keys.push(...lines);
      });
      return {
        done: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
        kill: () => child.kill('SIGKILL'),
      };
    };
    const a = start('a', 60);
    const b = start('b', 60);
    const c = start('c', 400);
    // Kill c once it has confirmed some writes, while a and b still append (and fold) around it.
    while ((confirmed.get('c')?.length ?? 0) < 15) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      reader.refresh();
    }
    c.kill();
    assert.equal(await c.done, null, 'c was killed');
    while (reader.refresh() || (confirmed.get('a')?.length ?? 0) < 60 || (confirmed.get('b')?.length ?? 0) < 60) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(await a.done, 0);
    assert.equal(await b.done, 0);
    reader.refresh();
    const fresh = await Ledger.open(home, options);
    // Every request, from the ledger's rows and its archive files (store/archive.ts).
    const all = <T>(l: Ledger, f: (table: string) => T): T => {
      const p = requestsOfPeriod(l.database, 0, Number.MAX_SAFE_INTEGER);
      try {
        return f(p.table);
      } finally {
        p.drop();
      }
    };
    const count = (l: Ledger, prefix: string): number =>
      all(l, (t) =>
        Number(
          l.database.exec(
            `SELECT count(*) FROM ${t} i JOIN sessions s ON s.id = i.session_ref WHERE s.session_key LIKE '${prefix}-%'`,
          )[0]?.values[0]?.[0],
        ),
      );
    assert.equal(count(fresh, 'a'), 60);
    assert.equal(count(fresh, 'b'), 60);
    const killedHas = count(fresh, 'c');
    const cConfirmed = confirmed.get('c')?.length ?? 0;
    assert.ok(
      killedHas >= cConfirmed && killedHas <= cConfirmed + 1,
      `the killed writer: its ${cConfirmed} confirmed writes (and at most the one in flight), found ${killedHas}`,
    );
    const sums = (l: Ledger): unknown =>
      all(
        l,
        (t) =>
          l.database.exec(`SELECT count(*), sum(output), (SELECT sum(output) FROM usage_rollup) FROM ${t}`)[0]?.values,
      );
    assert.deepEqual(
      sums(reader),
      sums(fresh),
      'the window that read along by journal tails sees what a fresh open sees',
    );
    assert.equal(fs.existsSync(path.join(home, 'ledger.sqlite.bak')), true, 'folds happened during the run');
    if (archiveBefore !== undefined) {
      assert.ok(fs.readdirSync(path.join(home, 'archive')).length > 0, 'folds archived during the run');
      assert.ok(
        Number(fresh.database.exec('SELECT count(*) FROM archived_requests')[0]?.values[0]?.[0]) > 0,
        'some requests are in the archive at the end',
      );
    }
    reader.close();
    fresh.close();
  }

  it('three writers capturing line by line into the journal, one killed with SIGKILL mid-way, and a window reading along: every confirmed write is there, once', async () => {
    await threeWriters(path.join(dir, 'journal'));
  });

  it('the same with the request archive: folds move sessions to archive files and the next writes restore them, while one writer is killed: every confirmed write is there, once', async () => {
    // Every session ends before this horizon: each fold archives them all, and the next capture restores its own.
    await threeWriters(path.join(dir, 'archive'), Date.parse('2027-01-01T00:00:00Z'));
  });
});
