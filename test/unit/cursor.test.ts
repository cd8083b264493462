import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { cursor, readCursorDatabase } from '../../src/sources/cursor';
import { applyWal } from '../../src/sources/sqliteCopy';
import { Ledger } from '../../src/store/ledger';
import { loadSqlJs } from '../../src/store/sqljs';
import { total, writeCursor, writeCursorWorkspaces } from '../fixtures/sources';
import { ledgerSums, repoFolder, tempDirEach } from '../helpers';
import { sessionCwdSql } from '../../src/store/paths';

describe('Cursor reader', () => {
  const tmp = tempDirEach('ol-cursor-');

  it("finds the global state.vscdb in Cursor's user folder on each platform", () => {
    assert.deepEqual(cursor.roots({ HOME: '/h' }), ['/h/.config/Cursor/User']);
    assert.deepEqual(cursor.roots({ HOME: '/h', XDG_CONFIG_HOME: '/c' }), ['/c/Cursor/User']);
  });

  it('exact counts are taken; {0,0} placeholders are estimated from the reply and its prompt and marked; empty placeholders are skipped; the newest reply is in the WAL', async () => {
    const fx = writeCursor(path.join(tmp.dir, 'config'));
    const SQL = await loadSqlJs();
    const read = (bytes: Buffer): ReturnType<typeof readCursorDatabase> => {
      const db = new SQL.Database(bytes);
      try {
        return readCursorDatabase(db);
      } finally {
        db.close();
      }
    };
    const main = fs.readFileSync(fx.db);
    assert.equal(read(applyWal(main, undefined)).records.length, 2);
    const all = read(applyWal(main, fs.readFileSync(`${fx.db}-wal`)));
    assert.deepEqual(
      all.rejects.map((r) => r.reason),
      ['bubbleId:c-1:a4: tokenCount holds no non-negative integers'],
    );
    const got = all.records.flatMap((r) =>
      r.kind === 'interaction'
        ? [{ model: r.model, input: r.tokens.input, output: r.tokens.output, estimated: r.estimated === true }]
        : [],
    );
    assert.deepEqual(
      got,
      fx.truth.map((t) => ({ model: t.model, input: t.input, output: t.output, estimated: t.estimated === true })),
    );
  });

  it('imports a copy (the database and its WAL are never touched); totals equal the truth; re-import adds nothing', async () => {
    const fx = writeCursor(path.join(tmp.dir, 'config'));
    const before = [fs.readFileSync(fx.db), fs.readFileSync(`${fx.db}-wal`)];
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const env = { HOME: path.join(tmp.dir, 'home'), XDG_CONFIG_HOME: path.join(tmp.dir, 'config') };
    const s = await importAll(ledger, { env, quietMs: 0 });
    assert.equal(s.sources.find((x) => x.source === 'cursor')?.linesRejected, fx.rejects);
    assert.deepEqual(ledgerSums(ledger.database, 'cursor'), total(fx.truth));
    assert.ok(
      fs.readFileSync(fx.db).equals(before[0] as Buffer) && fs.readFileSync(`${fx.db}-wal`).equals(before[1] as Buffer),
    );
    assert.equal((await importAll(ledger, { env, quietMs: 0 })).bytesRead, 0);
    // Garbage in place of the database: retried while busy, then one clear reason; what was read stays.
    fs.rmSync(`${fx.db}-wal`);
    fs.writeFileSync(fx.db, Buffer.concat([Buffer.from('SQLite format 3\u0000'), Buffer.alloc(4000, 7)]));
    const quiet = await importAll(ledger, { env, quietMs: 0 });
    assert.match(
      quiet.sources.find((x) => x.source === 'cursor')?.reasons.join('\n') ?? '',
      /state\.vscdb: not a readable Cursor state database right now/,
    );
    assert.deepEqual(ledgerSums(ledger.database, 'cursor'), total(fx.truth));
    ledger.close();
  });

  it("maps each chat to its workspace folder (workspace.json + the workspace's composer list, read from a copy with its WAL), so its sessions link to the repository", async () => {
    const config = path.join(tmp.dir, 'config');
    const fx = writeCursor(config);
    const project = repoFolder(path.join(tmp.dir, 'app'));
    const { storage } = writeCursorWorkspaces(config, project, ['c-1']);
    const wsDb = path.join(storage, '7f3a9c0d1e2b4a5f6c7d8e9f0a1b2c3d', 'state.vscdb');
    const before = [fs.readFileSync(wsDb), fs.readFileSync(`${wsDb}-wal`)];
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const env = { HOME: path.join(tmp.dir, 'home'), XDG_CONFIG_HOME: config };
    const s = await importAll(ledger, { env, quietMs: 0 });
    assert.equal(s.sources.find((x) => x.source === 'cursor')?.linesRejected, fx.rejects);
    const rows =
      ledger.database.exec(`SELECT session_key, ${sessionCwdSql()}, repo FROM sessions s WHERE source = 'cursor'`)[0]
        ?.values ?? [];
    assert.deepEqual(rows, [['c-1', project, project]]);
    assert.deepEqual(ledgerSums(ledger.database, 'cursor'), total(fx.truth));
    // The workspace database and its WAL were read from copies, never touched.
    assert.ok(
      fs.readFileSync(wsDb).equals(before[0] as Buffer) && fs.readFileSync(`${wsDb}-wal`).equals(before[1] as Buffer),
    );
    ledger.close();
  });

  it('a chat no workspace lists keeps no folder (never a guessed one)', async () => {
    const config = path.join(tmp.dir, 'config');
    writeCursor(config);
    writeCursorWorkspaces(config, path.join(tmp.dir, 'app'), ['c-other']);
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    await importAll(ledger, { env: { HOME: path.join(tmp.dir, 'home'), XDG_CONFIG_HOME: config }, quietMs: 0 });
    assert.deepEqual(
      ledger.database.exec(`SELECT session_key, ${sessionCwdSql()} FROM sessions s WHERE source = 'cursor'`)[0]?.values,
      [['c-1', null]],
    );
    ledger.close();
  });
});
