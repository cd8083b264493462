import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld, type World } from '../../src/demo/world';
import { importAll } from '../../src/services/importer';
import { Ledger } from '../../src/store/ledger';
import { sessionLogPathSql } from '../../src/store/paths';
import { ledgerTokens, tempDirEach, truthTotal } from '../helpers';

/** Everything an import writes about sessions, by natural key (ids may differ between two ledgers). */
function sessionsDump(ledger: Ledger): string {
  const db = ledger.database;
  const q = (sql: string): unknown => db.exec(sql)[0]?.values ?? [];
  return JSON.stringify({
    sessions: q(
      `SELECT s.source, s.session_key, (SELECT text FROM paths WHERE id = s.cwd_ref), s.repo, s.branch,
              ${sessionLogPathSql()} FROM sessions s ORDER BY 1, 2`,
    ),
    files: q(
      `SELECT s.source, s.session_key, f.path FROM session_files f JOIN sessions s ON s.id = f.session_ref ORDER BY 1, 2, 3`,
    ),
    branches: q(
      `SELECT s.source, s.session_key, b.branch FROM session_branches b JOIN sessions s ON s.id = b.session_ref
       ORDER BY 1, 2, 3`,
    ),
    rollup: q(
      `SELECT s.source, s.session_key, r.bucket, r.input, r.output, r.cache_read, r.cache_write, r.n
       FROM usage_rollup r JOIN sessions s ON s.id = r.session_ref ORDER BY 1, 2, 3`,
    ),
  });
}

describe('an import that saves its progress often', function () {
  this.timeout(60_000);
  const tmp = tempDirEach('ol-checkpoint-');
  let world: World;

  beforeEach(() => {
    // Real git repositories: sessions with working folders, branches and edited files, some over several log files.
    world = buildWorld({ root: path.join(tmp.dir, 'world'), seed: 11, repos: 2 });
  });

  it('ends with the same sessions, edited files, branches and sums as one that saves once (the writer forgets its caches at each save)', async () => {
    const once = await Ledger.open(path.join(tmp.dir, 'once'));
    const often = await Ledger.open(path.join(tmp.dir, 'often'));
    try {
      await importAll(once, { env: world.env });
      let saves = 0;
      // A checkpoint after every file read: each one lets go of the sessions, files and branches seen so far.
      await importAll(often, { env: world.env, checkpointBytes: 1, afterCheckpoint: () => saves++ });
      assert.ok(saves >= world.files / 2, `a save after (almost) every file (${saves} for ${world.files} files)`);
      assert.equal(ledgerTokens(often), truthTotal(world.truth.interactions));
      const dump = sessionsDump(often);
      assert.equal(dump, sessionsDump(once));
      assert.match(dump, /"files":\[\[/, 'the world has edited files');
      assert.match(dump, /"branches":\[\[/, 'the world has branches');
    } finally {
      once.close();
      often.close();
    }
  });

  it('ends with a fold: what it wrote is read back from the saved snapshot, not held in memory, and the journal is empty', async () => {
    const ledger = await Ledger.open(path.join(tmp.dir, 'often'));
    try {
      // Checkpoints every 64 KB of logs: the last part of the import is small, and was appended to the journal before.
      await importAll(ledger, { env: world.env, checkpointBytes: 64 << 10 });
      assert.equal(ledgerTokens(ledger), truthTotal(world.truth.interactions));
      const memory = ledger.snapshotMemory;
      assert.equal(memory.onDemand, true, 'pages are read from the saved snapshot');
      assert.equal(memory.held, 0, 'no written page is held in memory once the import ends');
      assert.equal(fs.statSync(ledger.paths.journal).size, 64, 'the journal holds its header only: nothing to replay');
    } finally {
      ledger.close();
    }
    // Another process opening it reads the snapshot alone, and sees the same.
    const again = await Ledger.open(path.join(tmp.dir, 'often'));
    try {
      assert.equal(ledgerTokens(again), truthTotal(world.truth.interactions));
    } finally {
      again.close();
    }
  });

  it('a small write after it is journaled as before (only a write that checkpointed ends with a fold)', async () => {
    const ledger = await Ledger.open(path.join(tmp.dir, 'often'));
    try {
      await importAll(ledger, { env: world.env, checkpointBytes: 64 << 10 });
      await ledger.write((db) => {
        db.run("INSERT INTO meta (key, value) VALUES ('checkpoint_test', '1')");
        return Promise.resolve();
      });
      assert.ok(fs.statSync(ledger.paths.journal).size > 64, 'the small write went to the journal');
    } finally {
      ledger.close();
    }
  });
});
