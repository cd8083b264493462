import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { applyWal, fromOpenCodeTokens, opencode, readOpenCodeDatabase } from '../../src/sources/opencode';
import { Ledger } from '../../src/store/ledger';
import { loadSqlJs } from '../../src/store/sqljs';
import { writeOpenCode } from '../fixtures/sources';
import { importExactly, ledgerSums, repoFolder, tempDirEach } from '../helpers';

describe('OpenCode reader', () => {
  const tmp = tempDirEach('ol-opencode-');

  it('honours XDG_DATA_HOME, else ~/.local/share; counts message tokens with reasoning on top of output', () => {
    assert.deepEqual(opencode.roots({ HOME: '/h' }), ['/h/.local/share/opencode']);
    assert.deepEqual(opencode.roots({ HOME: '/h', XDG_DATA_HOME: '/d' }), ['/d/opencode']);
    assert.deepEqual(fromOpenCodeTokens({ input: 10, output: 5, reasoning: 3, cache: { read: 100, write: 7 } }), {
      input: 10,
      output: 8,
      reasoning: 3,
      cacheRead: 100,
      cacheWrite: 7,
    });
    assert.equal(fromOpenCodeTokens({ input: 1, output: -5 }), undefined);
  });

  it('reads messages still only in the write-ahead log; the database file alone misses them; a torn log tail is ignored', async () => {
    const fx = writeOpenCode(path.join(tmp.dir, 'data'), path.join(tmp.dir, 'proj'));
    const SQL = await loadSqlJs();
    const main = fs.readFileSync(fx.db);
    const wal = fs.readFileSync(`${fx.db}-wal`);
    assert.ok(wal.length > 32, 'the fixture left a write-ahead log');
    const count = (bytes: Buffer): number => {
      const db = new SQL.Database(bytes);
      try {
        return readOpenCodeDatabase(db).records.length;
      } finally {
        db.close();
      }
    };
    assert.equal(count(applyWal(main, undefined)), 4);
    assert.equal(count(applyWal(main, wal)), 5);
    // A frame being appended right now: the committed ones still count, the torn one does not break anything.
    assert.equal(count(applyWal(main, Buffer.concat([wal, wal.subarray(32, 32 + 100)]))), 5);
    assert.equal(count(applyWal(main, wal.subarray(0, wal.length - 10))), 4);
  });

  it('imports the database (never written) and legacy files: totals equal the truth; a migrated message counts once; parts are not added', async () => {
    const project = repoFolder(path.join(tmp.dir, 'proj'));
    const fx = writeOpenCode(path.join(tmp.dir, 'data'), project);
    const before = fs.readFileSync(fx.db);
    const beforeWal = fs.readFileSync(`${fx.db}-wal`);
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const env = { HOME: path.join(tmp.dir, 'home'), XDG_DATA_HOME: path.join(tmp.dir, 'data') };
    await importExactly(ledger, env, 'opencode', fx);
    assert.ok(
      fs.readFileSync(fx.db).equals(before) && fs.readFileSync(`${fx.db}-wal`).equals(beforeWal),
      'the database and its log are untouched',
    );
    assert.equal((await importAll(ledger, { env, quietMs: 0 })).bytesRead, 0);
    const cwds = ledger.database.exec("SELECT DISTINCT repo FROM sessions WHERE source = 'opencode'")[0]?.values;
    assert.deepEqual(cwds, [[project]]);
    ledger.close();
  });

  it('a database that is not one (or caught mid-write) is retried while busy, then rejected with a reason; nothing read is lost', async () => {
    const fx = writeOpenCode(path.join(tmp.dir, 'data'), path.join(tmp.dir, 'proj'));
    const env = { HOME: path.join(tmp.dir, 'home'), XDG_DATA_HOME: path.join(tmp.dir, 'data') };
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    await importAll(ledger, { env, quietMs: 0 });
    const good = ledgerSums(ledger.database, 'opencode');
    fs.rmSync(`${fx.db}-wal`);
    fs.writeFileSync(fx.db, Buffer.concat([Buffer.from('SQLite format 3\u0000'), Buffer.alloc(4000, 7)]));
    const busy = await importAll(ledger, { env, quietMs: 60_000 });
    assert.equal(busy.sources.find((x) => x.source === 'opencode')?.linesRejected, 0);
    const quiet = await importAll(ledger, { env, quietMs: 0 });
    assert.match(
      quiet.sources.find((x) => x.source === 'opencode')?.reasons.join('\n') ?? '',
      /opencode\.db: not a readable OpenCode database right now/,
    );
    assert.deepEqual(ledgerSums(ledger.database, 'opencode'), good);
    ledger.close();
  });
  it("a message without time.created takes its row's time_created; a row whose data is not JSON is rejected, never skipped", async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    try {
      db.run(
        'CREATE TABLE session (id text PRIMARY KEY, directory text NOT NULL); CREATE TABLE message (id text PRIMARY KEY, session_id text NOT NULL, time_created integer NOT NULL, time_updated integer NOT NULL, data text NOT NULL)',
      );
      db.run("INSERT INTO session VALUES ('ses_1', '/w/app')");
      const t0 = Date.parse('2026-06-01T08:00:00.000Z');
      const tokens = { input: 100, output: 20, reasoning: 0, cache: { read: 0, write: 0 } };
      const insert = (id: string, ts: number, data: string): void =>
        void db.run('INSERT INTO message VALUES (?, ?, ?, ?, ?)', [id, 'ses_1', ts, ts, data]);
      insert('msg_a', t0, JSON.stringify({ role: 'assistant', time: { created: t0 - 5 }, modelID: 'gpt-5', tokens }));
      insert('msg_b', t0 + 1000, JSON.stringify({ role: 'assistant', modelID: 'gpt-5', tokens })); // no time at all
      insert(
        'msg_c',
        t0 + 2000,
        JSON.stringify({ role: 'assistant', time: { completed: t0 + 2500 }, modelID: 'gpt-5', tokens }),
      );
      insert('msg_d', t0 + 3000, '\u0000\u0007 not json'); // no "assistant" in it: still a row that could not be read
      insert('msg_e', t0 + 4000, JSON.stringify({ role: 'user', time: { created: t0 + 4000 } }));
      const r = readOpenCodeDatabase(db);
      assert.deepEqual(
        r.records.map((x) => x.timestamp),
        [t0 - 5, t0 + 1000, t0 + 2000],
      );
      assert.deepEqual(
        r.rejects.map((x) => x.reason),
        ['message msg_d: data is not JSON'],
      );
    } finally {
      db.close();
    }
  });
});
