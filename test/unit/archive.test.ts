import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InteractionRecord } from '../../src/core/usage/model';
import { canonicalJson } from '../../src/core/common/canonical';
import { report } from '../../src/services/queries';
import { summaryOf } from '../../src/services/summary';
import { buildTeamRollup } from '../../src/services/teamRollup';
import {
  ArchiveDamagedError,
  eachRequestOfPeriodById,
  REQUEST_COLUMNS,
  requestsOfPeriod,
} from '../../src/store/archive';
import { Ledger, type OpenOptions } from '../../src/store/ledger';
import { RecordWriter } from '../../src/store/records';
import { SCHEMA_VERSION, setMeta } from '../../src/store/schema';
import { addRecords, saveAsSchema, syntheticRequest, tempDir } from '../helpers';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');
/** Sessions whose last request is before this are archived (the tests' horizon, instead of "the previous month"). */
const HORIZON = Date.parse('2026-03-01T00:00:00Z');
const OPTIONS: OpenOptions = { archiveBefore: HORIZON, archiveMinRequests: 0 };

/** Sixty days of sessions, two a day, four requests each: January and February end before the horizon. */
function history(): InteractionRecord[] {
  const out: InteractionRecord[] = [];
  for (let d = 0; d < 75; d++)
    for (let s = 0; s < 2; s++)
      for (let i = 0; i < 4; i++)
        out.push(
          syntheticRequest(`d${d}s${s}r${i}`, `d${d}s${s}`, T0 + d * DAY + s * 3_600_000 + i * 60_000, 5 + d + i),
        );
  return out;
}

/** Every request the ledger knows, from its rows and the archive files (sorted by id), as text. */
function allRequests(ledger: Ledger): string {
  const p = requestsOfPeriod(ledger.database, 0, Number.MAX_SAFE_INTEGER, 'all_requests');
  try {
    return JSON.stringify(ledger.database.exec(`SELECT ${REQUEST_COLUMNS.join(', ')} FROM ${p.table} ORDER BY id`));
  } finally {
    p.drop();
  }
}

/** The rollup regrouped from every request (rows and archive) must equal the maintained rollup. */
function rollupMatchesDetail(ledger: Ledger): void {
  const db = ledger.database;
  const p = requestsOfPeriod(db, 0, Number.MAX_SAFE_INTEGER, 'all_requests');
  try {
    const detail =
      db.exec(`SELECT session_ref, model_ref, ts / 900000, sum(input), sum(output), sum(coalesce(cost_nusd, 0)), count(*)
      FROM ${p.table} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
    const rollup = db.exec(
      'SELECT session_ref, model_ref, bucket, input, output, cost_nusd, n FROM usage_rollup ORDER BY 1, 2, 3',
    );
    assert.deepEqual(rollup[0]?.values, detail[0]?.values);
  } finally {
    p.drop();
  }
}

/** A ledger in `home` holding the history, compacted: with OPTIONS its sessions ended before the horizon are archived. */
async function compactedHistory(home: string, options: OpenOptions = OPTIONS): Promise<Ledger> {
  const ledger = await Ledger.open(home, options);
  await addRecords(ledger, history());
  await ledger.compact();
  return ledger;
}

const scalar = (ledger: Ledger, sql: string): number => Number(ledger.database.exec(sql)[0]?.values[0]?.[0] ?? 0);

/** One write through a record writer; `save()` checkpoints it as an import does (the writer's regroup, then the save). */
async function writeWith(ledger: Ledger, fn: (w: RecordWriter, save: () => void) => void): Promise<void> {
  await ledger.write((db, ctx) => {
    const w = new RecordWriter(db, { repoOf: () => null });
    try {
      fn(w, () => {
        w.checkpoint();
        ctx.checkpoint();
      });
    } finally {
      w.free();
    }
  });
}

const q = { timeZone: 'UTC', now: T0 + 80 * DAY };

describe('the request archive (schema 9): old request detail on disk, aggregates and dedup keys in the ledger', () => {
  let home: string;
  beforeEach(() => {
    home = tempDir('ol-archive-');
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('a fold moves the requests of sessions ended before the horizon to per-month files; reports, a period and a fresh open are unchanged', async () => {
    const a = await compactedHistory(home, { ...OPTIONS, archiveBefore: false });
    const before = { report: report(a.database, q), requests: allRequests(a) };
    a.close();
    const b = await Ledger.open(home, OPTIONS);
    await b.compact();
    assert.equal(allRequests(b), before.requests, 'every request is still there, from the rows or the archive');
    await addRecords(b, [syntheticRequest('late', 'd74s0', T0 + 74 * DAY + 5_000_000, 9)]);
    await b.compact();
    const archived = scalar(b, 'SELECT count(*) FROM archived_requests');
    // January and February: 55 days (5 Jan – 28 Feb) of two sessions of four requests.
    assert.equal(archived, 55 * 2 * 4);
    assert.equal(scalar(b, 'SELECT count(*) FROM interactions'), (75 - 55) * 2 * 4 + 1);
    const files = fs.readdirSync(path.join(home, 'archive')).sort();
    assert.deepEqual(
      files.map((f) => f.slice(0, 'requests-2026-01'.length)),
      ['requests-2026-01', 'requests-2026-02'],
    );
    // The pages the moved rows freed are not saved: the snapshot shrank.
    // The pages the moved rows freed are not kept in the saved snapshot (an eighth at most).
    const pages = scalar(b, 'PRAGMA page_count');
    assert.ok(scalar(b, 'PRAGMA freelist_count') * 8 <= pages, 'free pages were dropped');
    const fresh = await Ledger.open(home, OPTIONS);
    for (const l of [b, fresh]) {
      const r = report(l.database, q);
      assert.equal(r.totals.interactions, before.report.totals.interactions + 1);
      rollupMatchesDetail(l);
    }
    // The period of January alone reads January's file only, and gives the rows the ledger had.
    const jan = requestsOfPeriod(fresh.database, T0, Date.parse('2026-02-01T00:00:00Z'));
    try {
      assert.equal(scalar(fresh, `SELECT count(*) FROM ${jan.table}`), 27 * 2 * 4);
    } finally {
      jan.drop();
    }
    assert.equal(allRequests(fresh), allRequests(b));
    b.close();
    fresh.close();
  });

  it('a copy of an archived request (a resumed session) is a duplicate from its key; a better copy or a new request restores its session', async () => {
    const a = await compactedHistory(home);
    assert.ok(scalar(a, 'SELECT count(*) FROM archived_sessions') > 0);
    const rowsBefore = scalar(a, 'SELECT count(*) FROM interactions');
    // A resume copies old messages into a new session file: same keys, same counts.
    const copies = history()
      .slice(0, 8)
      .map((r) => ({ ...r, session: { ...r.session, sessionId: 'resumed' } }));
    assert.deepEqual(await addRecords(a, copies, '/logs/resumed.jsonl'), Array(8).fill('duplicate'));
    assert.equal(scalar(a, 'SELECT count(*) FROM interactions'), rowsBefore, 'nothing restored for equal copies');
    const totals = report(a.database, q).totals.interactions;
    // A better copy (more output) of one archived request: its session comes back, the copy replaces it.
    const better = {
      ...(history()[9] as InteractionRecord),
      tokens: { ...(history()[9] as InteractionRecord).tokens, output: 5000 },
    };
    assert.deepEqual(await addRecords(a, [better]), ['duplicate']);
    assert.equal(
      scalar(
        a,
        "SELECT count(*) FROM archived_sessions WHERE session_ref = (SELECT id FROM sessions WHERE session_key = 'd1s0')",
      ),
      0,
    );
    assert.equal(
      scalar(
        a,
        "SELECT count(*) FROM interactions i JOIN sessions s ON s.id = i.session_ref WHERE s.session_key = 'd1s0'",
      ),
      4,
    );
    // A new request in another archived session: restored, then added.
    await addRecords(a, [syntheticRequest('new-in-old', 'd2s1', T0 + 2 * DAY + 4_000_000, 77)]);
    assert.equal(
      scalar(
        a,
        "SELECT count(*) FROM interactions i JOIN sessions s ON s.id = i.session_ref WHERE s.session_key = 'd2s1'",
      ),
      5,
    );
    assert.equal(report(a.database, q).totals.interactions, totals + 1);
    rollupMatchesDetail(a);
    // A follower and a fresh open replay the restores from the journal and agree.
    const fresh = await Ledger.open(home, OPTIONS);
    assert.equal(allRequests(fresh), allRequests(a));
    rollupMatchesDetail(fresh);
    fresh.close();
    a.close();
  });

  it("a summary's records digest is the SHA-256 of the canonical JSON of every request of its period, archived ones included", async () => {
    const ledger = await compactedHistory(home);
    try {
      const db = ledger.database;
      assert.ok(scalar(ledger, 'SELECT count(*) FROM archived_sessions') > 0, 'January and February are archived');
      const o = { since: '2026-01-01', until: '2026-03-31', timeZone: 'UTC', now: T0 + 80 * DAY, env: { HOME: home } };
      const records = summaryOf(db, o).records;
      // The records as one value, written whole (what the summary hashes while it reads them, one request at a time).
      const p = requestsOfPeriod(db, Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-04-01T00:00:00Z'));
      let rows: unknown[][];
      try {
        rows = (
          db.exec(`SELECT i.id, s.source || ':' || s.session_key, i.ts, m.name, i.input, i.output, i.cache_read,
                          i.cache_write, i.reasoning, coalesce(i.cost_nusd, -1)
                   FROM ${p.table} i JOIN sessions s ON s.id = i.session_ref JOIN models m ON m.id = i.model_ref
                   ORDER BY i.id`)[0]?.values ?? []
        ).map((v) => v.map((x) => (typeof x === 'number' ? x : String(x))));
      } finally {
        p.drop();
      }
      assert.equal(records.interactions, history().length);
      assert.equal(rows.length, history().length);
      const whole = canonicalJson({ interactions: rows, labels: [], links: [], commits: [] });
      assert.equal(records.digest, createHash('sha256').update(whole).digest('hex'));
    } finally {
      ledger.close();
    }
  });

  it("a team rollup's request digest covers every request of its period, archived ones included, as the ids joined in order", async () => {
    const ledger = await compactedHistory(home);
    try {
      const db = ledger.database;
      assert.ok(scalar(ledger, 'SELECT count(*) FROM archived_sessions') > 0, 'January and February are archived');
      const q = { since: '2026-01-01', until: '2026-03-31', timeZone: 'UTC', now: T0 + 80 * DAY };
      const rollup = buildTeamRollup(db, home, q);
      // The ids the old way: copied into a temporary table and read back sorted.
      const p = requestsOfPeriod(db, Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-04-01T00:00:00Z'));
      let ids: string[];
      try {
        ids = (db.exec(`SELECT id FROM ${p.table} ORDER BY id`)[0]?.values ?? []).map((v) => String(v[0]));
      } finally {
        p.drop();
      }
      assert.equal(ids.length, history().length);
      assert.deepEqual(rollup.rollup.interactions, {
        count: ids.length,
        digest: createHash('sha256').update(ids.join('\n')).digest('hex'),
      });
    } finally {
      ledger.close();
    }
  });

  it('a damaged archive file is refused with a plain message; reports still read the sums, and nothing else changes', async () => {
    const a = await compactedHistory(home);
    const totals = report(a.database, q).totals;
    const [file] = fs.readdirSync(path.join(home, 'archive')).sort();
    const full = path.join(home, 'archive', file as string);
    const bytes = fs.readFileSync(full);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10);
    fs.writeFileSync(full, bytes);
    assert.throws(
      () => requestsOfPeriod(a.database, T0, T0 + 10 * DAY),
      (e: unknown) =>
        e instanceof ArchiveDamagedError &&
        /is damaged/.test(e.message) &&
        /restore the file from a backup/.test(e.message),
    );
    assert.equal(scalar(a, "SELECT count(*) FROM sqlite_temp_master WHERE name = 'period_requests'"), 0);
    assert.deepEqual(report(a.database, q).totals, totals);
    // A write that would need the damaged file fails plainly and leaves the ledger as it was.
    const rows = allRequestsLater(a);
    await assert.rejects(addRecords(a, [syntheticRequest('x', 'd0s0', T0 + 1000, 3)]), ArchiveDamagedError);
    assert.equal(allRequestsLater(a), rows);
    a.close();
  });

  it('a long pass reads the archive files a page at a time through descriptors it closes, and still checks each one whole', async () => {
    const a = await compactedHistory(home);
    const openFds = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = openFds();
    const ids: number[] = [];
    let during = 0;
    eachRequestOfPeriodById(a.database, T0, T0 + 10 * DAY, (row) => {
      ids.push(Number(row[0]));
      during = Math.max(during, openFds());
    });
    assert.ok(ids.length > 0 && ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'every request, in id order');
    // Read on demand: the files stay open while their rows are merged (read whole into sql.js's memory, they would not).
    assert.ok(
      during > before,
      `the archive files are read through their descriptors (${during} open, ${before} before)`,
    );
    assert.equal(openFds(), before, 'every archive file is closed after the pass');
    const files = fs.readdirSync(path.join(home, 'archive')).sort();
    assert.ok(files.length > 1, 'several archive files are merged');
    // A file of the period damaged: the pass is refused (checked before a page of it is used) and leaves nothing open.
    const full = path.join(home, 'archive', files[0] as string);
    const bytes = fs.readFileSync(full);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 10) ^ 0xff, bytes.length - 10);
    fs.writeFileSync(full, bytes);
    assert.throws(
      () => eachRequestOfPeriodById(a.database, T0, T0 + 10 * DAY, () => undefined),
      (e: unknown) => e instanceof ArchiveDamagedError && /is damaged/.test(e.message),
    );
    assert.equal(openFds(), before, 'nothing is left open by the refused pass');
    fs.rmSync(full);
    assert.throws(
      () => eachRequestOfPeriodById(a.database, T0, T0 + 10 * DAY, () => undefined),
      (e: unknown) => e instanceof ArchiveDamagedError && /cannot be read \(ENOENT\)/.test(e.message),
    );
    assert.equal(openFds(), before);
    a.close();
  });

  it('a big write regroups what it changed at each checkpoint, so the fold there archives as it goes and leaves the freed pages to the rest of the write', async () => {
    const a = await Ledger.open(home, { ...OPTIONS, journalLimitBytes: 1 });
    const sessions = 400;
    await addRecords(
      a,
      Array.from({ length: sessions }, (_, k) => syntheticRequest(`b${k}`, `b${k}`, T0 + k * 60_000, 7 + (k % 9))),
    );
    await a.compact();
    assert.equal(scalar(a, 'SELECT count(*) FROM archived_sessions'), sessions);
    // One more request in each archived session (each is restored), saved by a checkpoint mid-write (journal limit
    // 1 byte: it folds). More than a few hundred sessions changed: they are regrouped all the same, and archived again.
    let freeMidWrite = 0;
    await writeWith(a, (w, save) => {
      for (let k = 0; k < sessions; k++)
        w.add(syntheticRequest(`b${k}-2`, `b${k}`, T0 + k * 60_000 + 1000, 3), '/logs/b.jsonl');
      assert.equal(scalar(a, 'SELECT count(*) FROM archived_sessions'), 0, 'each was restored');
      save();
      assert.equal(scalar(a, 'SELECT count(*) FROM archived_sessions'), sessions, 'archived at the checkpoint');
      // Not vacuumed in the middle of the write: the pages the archive pass freed are left for what follows.
      freeMidWrite = scalar(a, 'PRAGMA freelist_count');
      w.add(syntheticRequest('late', 'late', T0 + 10_000_000, 5), '/logs/b.jsonl');
    });
    assert.ok(freeMidWrite * 8 > scalar(a, 'PRAGMA page_count'), `${freeMidWrite} free pages kept mid-write`);
    assert.ok(scalar(a, 'PRAGMA freelist_count') * 8 <= scalar(a, 'PRAGMA page_count'), 'the last fold vacuumed');
    assert.equal(report(a.database, q).totals.interactions, 2 * sessions + 1);
    rollupMatchesDetail(a);
    const fresh = await Ledger.open(home, OPTIONS);
    assert.equal(report(fresh.database, q).totals.interactions, 2 * sessions + 1);
    rollupMatchesDetail(fresh);
    fresh.close();
    a.close();
  });

  it('a session archived by a checkpoint in the middle of a write is restored again when the same write goes on with it', async () => {
    const a = await Ledger.open(home, { ...OPTIONS, journalLimitBytes: 1 });
    await writeWith(a, (w, save) => {
      for (let i = 0; i < 5; i++) w.add(syntheticRequest(`x${i}`, 'old', T0 + i * 60_000, 4 + i), '/logs/x.jsonl');
      save(); // folds (journal limit 1 byte) and archives the session
      assert.equal(scalar(a, 'SELECT count(*) FROM archived_sessions'), 1);
      for (let i = 5; i < 8; i++) w.add(syntheticRequest(`x${i}`, 'old', T0 + i * 60_000, 4 + i), '/logs/x.jsonl');
      // A better copy of a request this writer saw before the checkpoint.
      w.add(syntheticRequest('x1', 'old', T0 + 60_000, 500), '/logs/x.jsonl');
    });
    assert.equal(report(a.database, q).totals.interactions, 8);
    const all = requestsOfPeriod(a.database, 0, Number.MAX_SAFE_INTEGER);
    try {
      assert.equal(scalar(a, `SELECT max(output) FROM ${all.table}`), 500);
    } finally {
      all.drop();
    }
    rollupMatchesDetail(a);
    a.close();
  });

  it('a first import settles a copy of a request it archived at a checkpoint, in another session, from its key (no lookup is skipped that matters)', async () => {
    // A first import looks up neither the archive nor the sessions for what it never wrote (store/records.ts
    // `written`): the copies it did write must still be found, across checkpoints that archived them.
    const a = await Ledger.open(home, { ...OPTIONS, journalLimitBytes: 1 });
    await writeWith(a, (w, save) => {
      for (let i = 0; i < 5; i++) w.add(syntheticRequest(`o${i}`, 'orig', T0 + i * 60_000, 4 + i), '/logs/o.jsonl');
      save(); // folds and archives 'orig'
      assert.equal(scalar(a, 'SELECT count(*) FROM archived_sessions'), 1);
      // A resumed session copies old messages into its own file: equal copies, a worse one, and one new request.
      for (let i = 0; i < 5; i++) w.add(syntheticRequest(`o${i}`, 'resumed', T0 + i * 60_000, 4 + i), '/logs/r.jsonl');
      w.add(syntheticRequest('o0', 'resumed', T0, 1), '/logs/r.jsonl');
      w.add(syntheticRequest('r1', 'resumed', T0 + DAY, 9), '/logs/r.jsonl');
      save();
      // The session 'orig' again after the writer let go of what it knew: the same session, not a second one.
      w.add(syntheticRequest('o5', 'orig', T0 + 5 * 60_000, 4), '/logs/o.jsonl');
    });
    assert.equal(report(a.database, q).totals.interactions, 7);
    assert.equal(scalar(a, "SELECT count(*) FROM sessions WHERE session_key = 'orig'"), 1);
    assert.equal(
      scalar(a, "SELECT n FROM session_totals JOIN sessions s ON s.id = session_ref WHERE session_key = 'resumed'"),
      1,
    );
    rollupMatchesDetail(a);
    a.close();
  });

  it('a schema 8 ledger file is migrated in memory, untouched on disk until the first write, which archives', async () => {
    const a = await Ledger.open(home, { ...OPTIONS, archiveBefore: false });
    await addRecords(a, history());
    const reportBefore = report(a.database, q);
    // Back to version 8 as the build before this one saved it: no archive tables.
    const bytes = await saveAsSchema(a, home, 8, [
      'DROP TABLE archived_requests',
      'DROP TABLE archived_sessions',
      'DROP TABLE archive_files',
    ]);
    const b = await Ledger.open(home, OPTIONS);
    assert.equal(scalar(b, "SELECT value FROM meta WHERE key = 'schema_version'"), SCHEMA_VERSION);
    assert.ok(fs.readFileSync(path.join(home, 'ledger.sqlite')).equals(bytes), 'the schema 8 file is untouched');
    assert.equal(fs.existsSync(path.join(home, 'archive')), false);
    await addRecords(b, [syntheticRequest('after', 'd74s1', T0 + 74 * DAY + 7_000_000, 11)]);
    assert.ok(scalar(b, 'SELECT count(*) FROM archived_requests') > 0, 'the first write folded and archived');
    assert.equal(report(b.database, q).totals.interactions, reportBefore.totals.interactions + 1);
    rollupMatchesDetail(b);
    b.close();
  });

  it('files whose sessions were all restored and archived again (a new price table) are deleted at the second fold after, never before; the backup can still rebuild the ledger', async () => {
    const dir = path.join(home, 'archive');
    const files = (): string[] => fs.readdirSync(dir).sort();
    const a = await Ledger.open(home, OPTIONS);
    await addRecords(a, history());
    await a.compact();
    const first = files();
    assert.ok(first.length >= 2, `January and February archived (${first.join(', ')})`);
    const requests = allRequests(a);
    const totals = report(a.database, q).totals;
    // A new price table: every archived session is restored to be priced again, and the next fold archives it anew.
    await a.write((db) => setMeta(db, 'pricing_version', 'an older price table'));
    await a.compact();
    const second = files();
    assert.equal(second.length, first.length * 2, 'new files beside the old ones');
    assert.deepEqual(
      first.filter((f) => second.includes(f)),
      first,
      'the old files stay while the backup snapshot may still read them',
    );
    await addRecords(a, [syntheticRequest('march', 'd70s0', T0 + 70 * DAY + 7_000_000, 9)]);
    await a.compact();
    assert.deepEqual(
      files(),
      second.filter((f) => !first.includes(f)),
      'at the next fold the old files go: neither the ledger nor its backup names them',
    );
    assert.equal(scalar(a, 'SELECT count(*) FROM archive_files'), first.length);
    const withMarch = allRequests(a);
    assert.equal(report(a.database, q).totals.interactions, totals.interactions + 1);
    assert.ok(withMarch.length > requests.length);
    a.close();
    // The snapshot damaged: the backup (and the journal folded into the snapshot) rebuild it from the files left.
    fs.writeFileSync(path.join(home, 'ledger.sqlite'), 'not a database');
    const b = await Ledger.open(home, OPTIONS);
    assert.equal(allRequests(b), withMarch);
    rollupMatchesDetail(b);
    b.close();
  });

  it("a fold removes archive files no snapshot names (a fold killed before saving) and a killed write's old temp files", async () => {
    const dir = path.join(home, 'archive');
    const a = await Ledger.open(home, OPTIONS);
    await addRecords(a, history());
    await a.compact();
    const real = fs.readdirSync(dir).sort();
    const requests = allRequests(a);
    const orphan = path.join(dir, 'requests-2026-01-0123456789ab.sqlite');
    fs.copyFileSync(path.join(dir, real[0] ?? ''), orphan);
    const oldTemp = path.join(dir, `.${real[0]}.123.456.789.tmp`);
    const newTemp = path.join(dir, '.requests-2026-02-aaaaaaaaaaaa.sqlite.124.457.790.tmp');
    const notOurs = path.join(dir, 'notes.txt');
    for (const f of [oldTemp, newTemp, notOurs]) fs.writeFileSync(f, 'x');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(oldTemp, twoHoursAgo, twoHoursAgo);
    await addRecords(a, [syntheticRequest('march', 'd70s0', T0 + 70 * DAY + 7_000_000, 9)]);
    await a.compact();
    assert.deepEqual(
      fs.readdirSync(dir).sort(),
      [...real, path.basename(newTemp), 'notes.txt'].sort(),
      'the orphan and the old temp file are gone; the files in use, a write maybe in progress and a stranger stay',
    );
    assert.ok(allRequests(a).length > requests.length);
    a.close();
  });
});

/** The ledger's own rows (not the archive), as text. */
function allRequestsLater(ledger: Ledger): string {
  return JSON.stringify(ledger.database.exec('SELECT * FROM interactions ORDER BY id'));
}
