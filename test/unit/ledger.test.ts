import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InteractionRecord } from '../../src/core/usage/model';
import { Ledger } from '../../src/store/ledger';
import { acquireLock, LockTimeoutError } from '../../src/store/lock';
import { RecordWriter } from '../../src/store/records';
import { SchemaTooNewError } from '../../src/store/schema';
import { addRecords, tempDir } from '../helpers';

function interaction(key: string, output: number, over: Partial<InteractionRecord> = {}): InteractionRecord {
  return {
    kind: 'interaction',
    key,
    session: { source: 'claude-code', sessionId: 's1', cwd: '/nowhere' },
    timestamp: Date.parse('2026-05-01T10:00:00Z'),
    model: 'claude-sonnet-4-5',
    tokens: { input: 10, output, cacheRead: 100, cacheWrite: 0, reasoning: 0 },
    cacheWrite1h: 0,
    sidechain: false,
    ...over,
  };
}

const scalar = (ledger: Ledger, sql: string): number => Number(ledger.database.exec(sql)[0]?.values[0]?.[0] ?? 0);

/** One figure as a fresh open of the ledger reads it (another window, the CLI), closed again. */
async function freshScalar(home: string, sql: string): Promise<number> {
  const ledger = await Ledger.open(home);
  try {
    return scalar(ledger, sql);
  } finally {
    ledger.close();
  }
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('ledger', () => {
  let home: string;
  beforeEach(() => {
    home = tempDir();
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('keeps one copy per natural key: the larger token total, a non-sidechain copy winning a tie', async () => {
    const ledger = await Ledger.open(home);
    const results = await addRecords(ledger, [
      interaction('k1', 5),
      interaction('k1', 240), // the final streamed usage
      interaction('k1', 100),
      interaction('k2', 50, { sidechain: true }),
      interaction('k2', 50),
    ]);
    assert.deepEqual(results, ['added', 'duplicate', 'duplicate', 'added', 'duplicate']);
    assert.equal(scalar(ledger, 'SELECT count(*) FROM interactions'), 2);
    assert.equal(scalar(ledger, 'SELECT sum(output) FROM interactions'), 290);
    assert.equal(scalar(ledger, 'SELECT sum(flags & 1) FROM interactions'), 0);
    ledger.close();
  });

  it('saves a write as a small journal block, readable by another instance; folding keeps the previous snapshot and journal as the backup', async () => {
    const a = await Ledger.open(home);
    await addRecords(a, [interaction('k1', 1)]);
    const snapshot = fs.statSync(path.join(home, 'ledger.sqlite'));
    await addRecords(a, [interaction('k2', 1)]);
    const after = fs.statSync(path.join(home, 'ledger.sqlite'));
    assert.equal(after.mtimeMs, snapshot.mtimeMs, 'the snapshot is not rewritten for a small write');
    assert.ok(fs.statSync(path.join(home, 'ledger.journal')).size < 4096, 'the journal holds a few KB');
    const b = await Ledger.open(home);
    assert.equal(scalar(b, 'SELECT count(*) FROM interactions'), 2);
    await a.compact();
    assert.ok(fs.existsSync(path.join(home, 'ledger.sqlite.bak')));
    assert.ok(fs.existsSync(path.join(home, 'ledger.journal.bak')));
    for (const name of ['ledger.sqlite', 'ledger.journal'])
      assert.equal(fs.statSync(path.join(home, name)).mode & 0o077, 0, `${name}: owner-only permissions`);
    const c = await Ledger.open(home);
    assert.equal(scalar(c, 'SELECT count(*) FROM interactions'), 2);
    for (const l of [a, b, c]) l.close();
  });

  it('reloads before writing when another writer saved since it loaded: nothing is lost', async () => {
    const a = await Ledger.open(home);
    const b = await Ledger.open(home);
    await addRecords(a, [interaction('from-a', 1)]);
    await addRecords(b, [interaction('from-b', 1)]);
    await addRecords(a, [interaction('from-a-2', 1)]);
    const c = await Ledger.open(home);
    assert.equal(scalar(c, 'SELECT count(*) FROM interactions'), 3);
    for (const l of [a, b, c]) l.close();
  });

  it('recovers a lock left by a dead process', async () => {
    fs.writeFileSync(
      path.join(home, 'ledger.lock'),
      JSON.stringify({ pid: deadPid(), host: os.hostname(), nonce: 'x', since: 'then' }),
    );
    const ledger = await Ledger.open(home, { timeoutMs: 2000 });
    await addRecords(ledger, [interaction('k', 1)]);
    assert.equal(fs.existsSync(path.join(home, 'ledger.lock')), false);
    ledger.close();
  });

  it('waits for a live lock and then says plainly who holds it', async () => {
    const held = await acquireLock(path.join(home, 'ledger.lock'));
    const ledger = await Ledger.open(home, { timeoutMs: 300 });
    await assert.rejects(addRecords(ledger, [interaction('k', 1)]), (e: unknown) => {
      assert.ok(e instanceof LockTimeoutError);
      assert.match(e.message, new RegExp(`locked by another writer \\(pid ${process.pid}`));
      return true;
    });
    held.release();
    await addRecords(ledger, [interaction('k', 1)]);
    ledger.close();
  });

  it('moves a damaged ledger aside and restores the backup and both journals: nothing is lost, with a plain message', async () => {
    const a = await Ledger.open(home);
    await addRecords(a, [interaction('k1', 1)]);
    await addRecords(a, [interaction('k2', 1)]);
    await a.compact(); // backup: k1 and the journal with k2; the snapshot: k1, k2
    await addRecords(a, [interaction('k3', 1)]); // in the new journal
    a.close();
    fs.writeFileSync(path.join(home, 'ledger.sqlite'), 'garbage, not a database');
    const warnings: string[] = [];
    const b = await Ledger.open(home, { onWarning: (m) => warnings.push(m) });
    assert.equal(scalar(b, 'SELECT count(*) FROM interactions'), 3);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /damaged .*moved to .*restored from the backup\. 2 writes were replayed from the journal\./,
    );
    assert.ok(
      fs.readdirSync(home).some((n) => n.startsWith('ledger.sqlite.damaged-')),
      'the damaged file is kept',
    );
    b.close();
    // The restore sticks: a later open (another window, the CLI) sees the restored ledger, and writes go on from it.
    const c = await Ledger.open(home);
    assert.equal(scalar(c, 'SELECT count(*) FROM interactions'), 3);
    await addRecords(c, [interaction('k4', 1)]);
    c.close();
    assert.equal(await freshScalar(home, 'SELECT count(*) FROM interactions'), 4);
  });

  it('right after the first save the backup is a copy of it: a damaged snapshot is rebuilt with its journal, nothing lost', async () => {
    const a = await Ledger.open(home);
    await addRecords(a, [interaction('k1', 1)]);
    await addRecords(a, [interaction('k2', 1)]);
    a.close();
    fs.writeFileSync(path.join(home, 'ledger.sqlite'), Buffer.alloc(8192, 'this is not a database. '));
    const warnings: string[] = [];
    const b = await Ledger.open(home, { onWarning: (m) => warnings.push(m) });
    assert.equal(scalar(b, 'SELECT count(*) FROM interactions'), 2);
    assert.match(warnings[0] ?? '', /restored from the backup\. 1 write was replayed from the journal\./);
    b.close();
  });

  it('restores the backup alone when the journal folded into the damaged snapshot is gone', async () => {
    const a = await Ledger.open(home);
    await addRecords(a, [interaction('k1', 1)]);
    await addRecords(a, [interaction('k2', 1)]);
    await a.compact();
    await addRecords(a, [interaction('k3', 1)]);
    a.close();
    fs.rmSync(path.join(home, 'ledger.journal.bak'));
    fs.writeFileSync(path.join(home, 'ledger.sqlite'), 'garbage, not a database');
    const warnings: string[] = [];
    const b = await Ledger.open(home, { onWarning: (m) => warnings.push(m) });
    assert.equal(
      scalar(b, 'SELECT count(*) FROM interactions'),
      1,
      'the backup: k1 (the newer journal needs the missing one first)',
    );
    assert.match(warnings[0] ?? '', /restored from the backup\. Run an import/);
    b.close();
  });

  it('detects a truncated ledger and starts over when no backup is usable', async () => {
    const a = await Ledger.open(home);
    await addRecords(a, [interaction('k1', 1)]);
    a.close();
    const file = path.join(home, 'ledger.sqlite');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1000));
    fs.writeFileSync(path.join(home, 'ledger.sqlite.bak'), 'not usable either'); // the first save's backup is a copy of it
    const warnings: string[] = [];
    const b = await Ledger.open(home, { onWarning: (m) => warnings.push(m) });
    assert.match(warnings[0] ?? '', /truncated.*new ledger was started.*Run an import/);
    assert.equal(scalar(b, 'SELECT count(*) FROM interactions'), 0);
    assert.equal(
      String(b.database.exec('PRAGMA journal_mode')[0]?.values[0]?.[0]),
      'memory',
      "the new ledger keeps SQLite's rollback journal in memory like any other",
    );
    b.close();
  });

  it('refuses to touch a ledger written by a newer version', async () => {
    const a = await Ledger.open(home);
    await a.write((db) => db.run("UPDATE meta SET value = '99' WHERE key = 'schema_version'"));
    a.close();
    const before = fs.readFileSync(path.join(home, 'ledger.sqlite'));
    await assert.rejects(
      Ledger.open(home),
      (e: unknown) => e instanceof SchemaTooNewError && /newer Outcome Ledger \(schema 99/.test(e.message),
    );
    assert.deepEqual(fs.readFileSync(path.join(home, 'ledger.sqlite')), before);
  });

  it('regroups the usage sums of a ledger saved mid-import (stale rollup) before anyone reads them', async () => {
    const a = await Ledger.open(home);
    await addRecords(a, [interaction('k1', 10), interaction('k2', 20)]);
    // What a killed import leaves: rows saved at a checkpoint, sums not regrouped yet.
    await a.write((db) => {
      db.run('DELETE FROM usage_rollup');
      db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('rollup_stale', '1')");
    });
    a.close();
    assert.equal(await freshScalar(home, 'SELECT sum(output) FROM usage_rollup'), 30);
  });

  it('stores edited files relative to the repository and drops files outside it', async () => {
    const ledger = await Ledger.open(home);
    await ledger.write((db) => {
      const w = new RecordWriter(db, { repoOf: () => '/repo' });
      const session = { source: 'codex' as const, sessionId: 's', cwd: '/repo/pkg' };
      w.add({ kind: 'edit', session, timestamp: 1, path: 'src/a.ts' }, '/l');
      w.add({ kind: 'edit', session, timestamp: 1, path: '/repo/README.md' }, '/l');
      w.add({ kind: 'edit', session, timestamp: 1, path: '/etc/passwd' }, '/l');
      w.add({ kind: 'edit', session, timestamp: 1, path: '../../outside.txt' }, '/l');
      w.free();
    });
    const paths = ledger.database.exec('SELECT path FROM session_files ORDER BY path')[0]?.values.map((v) => v[0]);
    assert.deepEqual(paths, ['README.md', 'pkg/src/a.ts']);
    ledger.close();
  });
});
