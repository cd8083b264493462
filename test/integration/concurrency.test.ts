import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld, type World } from '../../src/demo/world';
import { tempDir } from '../helpers';
import { CLI, cliAsync, reportJson } from './cli';

const truthTotal = (w: World): number => w.truth.interactions.reduce((s, t) => s + t.input + t.output + t.cacheRead + t.cacheWrite, 0);

describe('several writers and crashes', function () {
  this.timeout(180_000);
  let dir: string;
  let world: World;

  before(() => {
    dir = tempDir('ol-conc-');
    // Big enough that an import takes a while and saves progress several times (1 MB checkpoints).
    world = buildWorld({ root: path.join(dir, 'world'), seed: 9, repos: 0, targetBytes: 40e6, toolResultBytes: 20_000 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('four importers started at once end with exactly the truth', async () => {
    const home = path.join(dir, 'concurrent');
    const env = { ...world.env, OUTCOME_LEDGER_CHECKPOINT_MB: '4' };
    const runs = await Promise.all([0, 1, 2, 3].map(() => cliAsync(['import', '--home', home], env)));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const report = reportJson(home, env);
    assert.equal(report.totals.total, truthTotal(world));
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
      const child = spawn(process.execPath, [CLI, 'import', '--home', home], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
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
      assert.ok(partial.totals.total <= truthTotal(world));
    }
    assert.ok(kills >= 2, `at least two imports were killed mid-way (${kills})`);
    const final = await cliAsync(['import', '--home', home], env);
    assert.equal(final.code, 0, final.stderr);
    const report = reportJson(home, env);
    assert.equal(report.totals.total, truthTotal(world));
    assert.equal(report.totals.interactions, world.truth.interactions.length);
    assert.equal(fs.existsSync(path.join(home, 'ledger.lock')), false, 'no lock left behind');
  });
});
