import assert from 'node:assert/strict';
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
});
