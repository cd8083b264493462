import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addManualEntry, deleteManualEntry, editManualEntry } from '../../src/services/manual';
import { listSessions, report } from '../../src/services/queries';
import { Ledger } from '../../src/store/ledger';
import { CursorWriter } from '../../src/store/files';
import { RecordWriter } from '../../src/store/records';
import { rebuildRollup } from '../../src/store/rollup';
import { SCHEMA_VERSION } from '../../src/store/schema';
import { addRecords, saveAsSchema, syntheticRequest, tempDir } from '../helpers';

/** A small deterministic generator (the sequences differ per seed, and a failure names its seed). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const T0 = Date.parse('2026-03-01T00:00:00Z');

/** What the tools recorded as their cost, per rollup row, from the detail and from the maintained rollup. */
function recordedFromDetail(ledger: Ledger): string {
  return JSON.stringify(
    ledger.database.exec(`
    SELECT session_ref, model_ref, ts / 900000, sum(coalesce(recorded_cost_nusd, 0)), count(recorded_cost_nusd)
    FROM interactions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`)[0]?.values ?? [],
  );
}

function recordedFromRollup(ledger: Ledger): string {
  return JSON.stringify(
    ledger.database.exec(
      'SELECT session_ref, model_ref, bucket, recorded_nusd, recorded_n FROM usage_rollup ORDER BY 1, 2, 3',
    )[0]?.values ?? [],
  );
}

/** The per-session totals as the detail (every interaction) gives them, and as the maintained table holds them. */
function fromDetail(ledger: Ledger): string {
  return JSON.stringify(
    ledger.database.exec(`
    SELECT session_ref, min(ts), max(ts), sum(input), sum(output), sum(cache_read), sum(cache_write), sum(reasoning),
           sum(coalesce(cost_nusd, 0)), count(*), count(*) - count(cost_nusd), sum(credits_u)
    FROM interactions GROUP BY session_ref ORDER BY session_ref`)[0]?.values ?? [],
  );
}

function fromAggregate(ledger: Ledger): string {
  return JSON.stringify(
    ledger.database.exec(`
    SELECT session_ref, first_ts, last_ts, input, output, cache_read, cache_write, reasoning, cost_nusd, n, unpriced, credits_u
    FROM session_totals ORDER BY session_ref`)[0]?.values ?? [],
  );
}

/** Per source and per repository, as grouping every session and file gives them, and as the maintained tables hold them. */
function sourcesFromScratch(ledger: Ledger): string {
  const db = ledger.database;
  return JSON.stringify([
    db.exec(`
    SELECT s.source, count(*), min(t.first_ts), max(t.last_ts), sum(t.n), sum(t.assumed), sum(t.estimated), sum(t.credits_u)
    FROM session_totals t JOIN sessions s ON s.id = t.session_ref GROUP BY s.source ORDER BY s.source`)[0]?.values ??
      [],
    db.exec('SELECT source, count(*), sum(rejected) FROM files WHERE status IS NULL GROUP BY source ORDER BY source')[0]
      ?.values ?? [],
    db.exec('SELECT repo, count(*) FROM sessions WHERE repo IS NOT NULL GROUP BY repo ORDER BY repo')[0]?.values ?? [],
  ]);
}

function sourcesFromAggregate(ledger: Ledger): string {
  const db = ledger.database;
  return JSON.stringify([
    db.exec(`
    SELECT source, sessions, first_ts, last_ts, n, assumed, estimated, credits_u FROM source_totals
    WHERE sessions > 0 ORDER BY source`)[0]?.values ?? [],
    db.exec('SELECT source, files, rejected FROM source_totals WHERE files > 0 ORDER BY source')[0]?.values ?? [],
    db.exec('SELECT repo, sessions FROM repo_totals ORDER BY repo')[0]?.values ?? [],
  ]);
}

function rollupFromDetail(ledger: Ledger): string {
  return JSON.stringify(ledger.database.exec('SELECT * FROM usage_rollup ORDER BY session_ref, model_ref, bucket'));
}

describe('maintained aggregates (schemas 7 and 8)', () => {
  let home: string;
  beforeEach(() => (home = tempDir()));
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  for (const seed of [1, 7, 42]) {
    it(`per-session totals equal the detail after a random sequence of writes, in the writer, a follower and a fresh open (seed ${seed})`, async () => {
      const r = rng(seed);
      const writer = await Ledger.open(home, { journalLimitBytes: 24_000 });
      const follower = await Ledger.open(home);
      const keys: string[] = [];
      const manual: string[] = [];
      for (let step = 0; step < 40; step++) {
        const what = r();
        if (what < 0.55) {
          // An import: new lines, repeats (the better copy wins), lines of other sessions.
          await writer.write((db) => {
            const w = new RecordWriter(db, { repoOf: () => null });
            try {
              for (let i = 0, n = 1 + Math.floor(r() * 6); i < n; i++) {
                const again = keys.length > 0 && r() < 0.3;
                const key = again ? (keys[Math.floor(r() * keys.length)] as string) : `k${step}-${i}`;
                if (!again) keys.push(key);
                const session = `s${Math.floor(r() * 6)}`;
                w.add(
                  syntheticRequest(key, session, T0 + Math.floor(r() * 20 * 86_400_000), 1 + Math.floor(r() * 900)),
                  `/logs/${session}.jsonl`,
                );
              }
            } finally {
              w.free();
            }
          });
        } else if (what < 0.7 && keys.length > 0) {
          // A log withdrawing a request (Gemini CLI's rewind).
          const key = keys.splice(Math.floor(r() * keys.length), 1)[0] as string;
          await writer.write((db) => {
            const w = new RecordWriter(db, { repoOf: () => null });
            try {
              w.retract(key);
            } finally {
              w.free();
            }
          });
        } else if (what < 0.82) {
          const e = await addManualEntry(writer, {
            tool: 'web chat',
            model: 'claude-sonnet-4-5',
            inputTokens: 100 + step,
            outputTokens: 50,
            at: T0 + step * 3_600_000,
          });
          manual.push(e.id);
        } else if (what < 0.9 && manual.length > 0) {
          await editManualEntry(writer, manual[Math.floor(r() * manual.length)] as string, { outputTokens: 7 + step });
        } else if (manual.length > 0) {
          await deleteManualEntry(writer, manual.splice(Math.floor(r() * manual.length), 1)[0] as string);
        }
        if (step % 9 === 0) follower.refresh();
        assert.equal(fromAggregate(writer), fromDetail(writer), `seed ${seed}, step ${step}: the writer's totals`);
        assert.equal(
          recordedFromRollup(writer),
          recordedFromDetail(writer),
          `seed ${seed}, step ${step}: the writer's recorded cost`,
        );
      }
      follower.refresh();
      const fresh = await Ledger.open(home);
      for (const l of [follower, fresh]) {
        assert.equal(fromAggregate(l), fromDetail(l), `seed ${seed}: totals after replaying the journal`);
        assert.equal(
          recordedFromRollup(l),
          recordedFromDetail(l),
          `seed ${seed}: recorded cost after replaying the journal`,
        );
        assert.equal(fromDetail(l), fromDetail(writer), 'the same detail everywhere');
      }
      // The maintained rollup equals a regroup from scratch too.
      const kept = rollupFromDetail(fresh);
      await fresh.write((db) => rebuildRollup(db, 'all'));
      assert.equal(rollupFromDetail(fresh), kept);
      assert.equal(fromAggregate(fresh), fromDetail(fresh));
      for (const l of [writer, follower, fresh]) l.close();
    });
  }

  for (const seed of [3, 11]) {
    it(`per-source and per-repository totals (schema 11) equal a regroup of every session and file after random writes, in the writer, a follower and a fresh open (seed ${seed})`, async () => {
      const r = rng(seed);
      const writer = await Ledger.open(home, { journalLimitBytes: 24_000 });
      const follower = await Ledger.open(home);
      const keys: Array<{ key: string; ts: number }> = [];
      const manual: string[] = [];
      const repos = ['/src/api', '/src/web', null];
      for (let step = 0; step < 45; step++) {
        const what = r();
        if (what < 0.5) {
          // An import: requests of a few sessions in two sources (some working in repositories), and their files' cursors.
          await writer.write((db) => {
            const w = new RecordWriter(db, { repoOf: (cwd) => repos[cwd.length % 3] ?? null });
            const c = new CursorWriter(db);
            try {
              for (let i = 0, n = 1 + Math.floor(r() * 5); i < n; i++) {
                const key = `k${step}-${i}`;
                const session = `s${Math.floor(r() * 5)}`;
                const ts = T0 + Math.floor(r() * 30 * 86_400_000);
                keys.push({ key, ts });
                const req = syntheticRequest(key, session, ts, 1 + Math.floor(r() * 900));
                const codex = r() < 0.3;
                w.add(
                  {
                    ...req,
                    session: {
                      ...req.session,
                      source: codex ? 'codex' : 'claude-code',
                      cwd: `/work/${'x'.repeat(Number(session.slice(1)))}`,
                    },
                  },
                  `/logs/${session}.jsonl`,
                );
                // A file seen again (an update of its cursor), its rejected lines changing, sometimes set aside.
                c.save({
                  path: `/logs/${codex ? 'codex' : 'claude'}/${session}.jsonl`,
                  source: codex ? 'codex' : 'claude-code',
                  dev: 1,
                  ino: step,
                  size: step * 10,
                  mtimeMs: T0 + step,
                  offset: step * 10,
                  lineNo: step,
                  state: null,
                  rejected: Math.floor(r() * 3),
                  status: r() < 0.15 ? 'an archived copy of an active file' : null,
                });
              }
            } finally {
              w.free();
              c.free();
            }
          });
        } else if (what < 0.68 && keys.length > 0) {
          // A request withdrawn: often a session's first or last (its source's bounds are looked up again).
          keys.sort((a, b) => a.ts - b.ts);
          const at = r() < 0.5 ? 0 : r() < 0.5 ? keys.length - 1 : Math.floor(r() * keys.length);
          const { key } = keys.splice(at, 1)[0] as { key: string };
          await writer.write((db) => {
            const w = new RecordWriter(db, { repoOf: () => null });
            try {
              w.retract(key);
            } finally {
              w.free();
            }
          });
        } else if (what < 0.82) {
          const e = await addManualEntry(writer, {
            tool: 'web chat',
            model: 'claude-sonnet-4-5',
            inputTokens: 100 + step,
            outputTokens: 50,
            at: T0 - step * 3_600_000,
          });
          manual.push(e.id);
        } else if (manual.length > 0) {
          await deleteManualEntry(writer, manual.splice(Math.floor(r() * manual.length), 1)[0] as string);
        }
        if (step % 7 === 0) follower.refresh();
        assert.equal(
          sourcesFromAggregate(writer),
          sourcesFromScratch(writer),
          `seed ${seed}, step ${step}: the writer`,
        );
      }
      follower.refresh();
      const fresh = await Ledger.open(home);
      for (const l of [follower, fresh]) {
        assert.equal(sourcesFromAggregate(l), sourcesFromScratch(l), `seed ${seed}: after replaying the journal`);
        assert.equal(sourcesFromScratch(l), sourcesFromScratch(writer), 'the same everywhere');
      }
      // A full regroup (a ledger saved mid-import) gives the same.
      await fresh.write((db) => rebuildRollup(db, 'all'));
      assert.equal(sourcesFromAggregate(fresh), sourcesFromScratch(fresh));
      assert.ok(JSON.parse(sourcesFromScratch(fresh))[2].length > 0, 'the world has repositories');
      for (const l of [writer, follower, fresh]) l.close();
    });
  }

  it('a version-10 ledger is migrated: per-source and per-repository totals are filled from what it holds', async () => {
    const a = await Ledger.open(home);
    await a.write((db) => {
      const w = new RecordWriter(db, { repoOf: () => '/src/api' });
      const c = new CursorWriter(db);
      try {
        for (let i = 0; i < 20; i++)
          w.add(syntheticRequest(`v${i}`, `s${i % 3}`, T0 + i * 3_600_000, 5 + i), '/l.jsonl');
        c.save({
          path: '/l.jsonl',
          source: 'claude-code',
          dev: 1,
          ino: 1,
          size: 9,
          mtimeMs: T0,
          offset: 9,
          lineNo: 2,
          state: null,
          rejected: 2,
          status: null,
        });
      } finally {
        w.free();
        c.free();
      }
    });
    await saveAsSchema(a, home, 10, ['DROP TABLE source_totals', 'DROP TABLE repo_totals', 'DROP INDEX sessions_cwd']);
    const b = await Ledger.open(home);
    assert.equal(sourcesFromAggregate(b), sourcesFromScratch(b));
    assert.deepEqual(b.database.exec('SELECT source, sessions, n, files, rejected FROM source_totals')[0]?.values, [
      ['claude-code', 3, 20, 1, 2],
    ]);
    assert.deepEqual(b.database.exec('SELECT repo, sessions FROM repo_totals')[0]?.values, [['/src/api', 3]]);
    b.close();
  });

  it('after a crash mid-append (a torn journal tail) the totals still equal the detail that survived', async () => {
    const a = await Ledger.open(home);
    const add = async (key: string, session: string, output: number): Promise<void> => {
      await addRecords(a, [syntheticRequest(key, session, T0 + output * 60_000, output)], '/logs/x.jsonl');
    };
    await add('a', 's1', 10);
    await add('b', 's2', 20);
    const journal = path.join(home, 'ledger.journal');
    const before = fs.statSync(journal).size;
    await add('c', 's1', 30);
    a.close();
    // Killed half-way through the last append.
    const size = fs.statSync(journal).size;
    fs.truncateSync(journal, before + Math.floor((size - before) / 2));
    const b = await Ledger.open(home);
    assert.equal(Number(b.database.exec('SELECT count(*) FROM interactions')[0]?.values[0]?.[0]), 2);
    assert.equal(fromAggregate(b), fromDetail(b));
    b.close();
  });

  it('a version-6 ledger is migrated: its totals are filled from what it holds, and reports read the same figures', async () => {
    const a = await Ledger.open(home);
    await addRecords(
      a,
      Array.from({ length: 30 }, (_, i) => syntheticRequest(`m${i}`, `s${i % 4}`, T0 + i * 3_600_000, 5 + i)),
      '/logs/m.jsonl',
    );
    const q = { timeZone: 'Europe/Berlin', now: T0 + 40 * 86_400_000 };
    const reportBefore = report(a.database, q);
    const sessionsBefore = listSessions(a.database, q);
    // Back to version 6 as a build before this one saved it: no totals table, no prompt index.
    await a.write((db) => {
      db.run('DROP TABLE session_totals');
      db.run('DROP INDEX prompts_ts');
      db.run("UPDATE meta SET value = '6' WHERE key = 'schema_version'");
    });
    a.close();
    const b = await Ledger.open(home);
    assert.equal(
      Number(b.database.exec("SELECT value FROM meta WHERE key = 'schema_version'")[0]?.values[0]?.[0]),
      SCHEMA_VERSION,
    );
    assert.equal(fromAggregate(b), fromDetail(b));
    assert.deepEqual(report(b.database, q), reportBefore);
    assert.deepEqual(listSessions(b.database, q), sessionsBefore);
    // A period: only its sessions, with whole-session totals.
    const week = listSessions(b.database, { ...q, since: '2026-03-01', until: '2026-03-01' });
    assert.deepEqual(week.map((s) => s.sessionId).sort(), ['s0', 's1', 's2', 's3']);
    b.close();
  });

  it('a version-7 ledger is migrated: the rollup gains the recorded cost from the requests, reports read the same figures', async () => {
    const a = await Ledger.open(home);
    await addRecords(
      a,
      Array.from({ length: 40 }, (_, i) => syntheticRequest(`r${i}`, `s${i % 5}`, T0 + i * 1_800_000, 4 + i)),
      '/logs/r.jsonl',
    );
    await addManualEntry(a, {
      tool: 'web chat',
      model: 'claude-sonnet-4-5',
      inputTokens: 120,
      outputTokens: 30,
      at: T0 + 3_600_000,
    });
    const q = { timeZone: 'UTC', now: T0 + 40 * 86_400_000 };
    const reportBefore = report(a.database, q);
    assert.ok((reportBefore.totals.recordedInteractions ?? 0) > 0, 'the world has recorded costs');
    // Back to version 7 as the build before this one saved it: a rollup without the recorded cost.
    const bytes = await saveAsSchema(a, home, 7, [
      'ALTER TABLE usage_rollup DROP COLUMN recorded_nusd',
      'ALTER TABLE usage_rollup DROP COLUMN recorded_n',
      'DROP INDEX files_health',
    ]);
    const b = await Ledger.open(home);
    assert.equal(
      Number(b.database.exec("SELECT value FROM meta WHERE key = 'schema_version'")[0]?.values[0]?.[0]),
      SCHEMA_VERSION,
    );
    assert.equal(recordedFromRollup(b), recordedFromDetail(b));
    assert.equal(fromAggregate(b), fromDetail(b));
    assert.equal(
      b.database.exec("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'files_health'")[0]?.values
        .length,
      1,
    );
    assert.deepEqual(report(b.database, q), reportBefore);
    // Migrated in memory only: the version-7 file is untouched until the first write folds the migrated database.
    assert.ok(fs.readFileSync(path.join(home, 'ledger.sqlite')).equals(bytes));
    await b.write(() => undefined);
    b.close();
    const c = await Ledger.open(home);
    assert.equal(recordedFromRollup(c), recordedFromDetail(c));
    assert.deepEqual(report(c.database, q), reportBefore);
    c.close();
  });
});
