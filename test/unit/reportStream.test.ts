import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildReport, ReportBuilder, type UsageRow } from '../../src/core/outcomes/report';
import { repeatedPromptsIn, repeatedPromptsOf, selfCheck } from '../../src/core/outcomes/selfcheck';
import {
  BUCKET_MS,
  dateOfDayNumber,
  isoWeekOf,
  localDate,
  LocalDayMapper,
  periodRange,
} from '../../src/core/usage/time';
import { buildHeavyLedger } from '../../src/demo/heavyLedger';
import {
  bucketsOf,
  countedOutcomes,
  outcomeFacts,
  promptHashes,
  repeatedPrompts,
  report,
  reports,
  sessionInfo,
  statusResolver,
  usageRows,
} from '../../src/services/queries';
import { sourceHealth } from '../../src/store/files';
import { Ledger } from '../../src/store/ledger';
import { getMeta } from '../../src/store/schema';
import { tempDir } from '../helpers';

/** A small deterministic generator, so a failing order can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

/** Rows every 15 minutes from `from` for `hours`, over a few sessions, sources and models. */
function rowsAcross(from: number, hours: number): UsageRow[] {
  const rows: UsageRow[] = [];
  const first = Math.floor(from / BUCKET_MS);
  for (let b = first; b < first + hours * 4; b++) {
    const ref = 1 + (b % 7);
    rows.push({
      sessionRef: ref,
      source: ref % 2 === 0 ? 'codex' : 'claude-code',
      model: b % 3 === 0 ? 'gpt-5' : 'claude-sonnet-4-5',
      priced: b % 5 !== 0,
      bucket: b,
      firstTs: b * BUCKET_MS + 1_000,
      lastTs: b * BUCKET_MS + 60_000,
      input: 100 + (b % 13),
      output: 50 + (b % 11),
      cacheRead: 1_000 + (b % 17),
      cacheWrite: b % 4,
      reasoning: b % 9,
      costNano: 1_000_000 + b,
      interactions: 1 + (b % 3),
      unpriced: b % 5 === 0 ? 1 : 0,
      assumedModel: b % 23 === 0 ? 1 : 0,
      estimatedTokens: b % 19 === 0 ? 10 : 0,
      creditsMicro: b % 29 === 0 ? 5 : 0,
      ...(b % 31 === 0 ? { recordedNano: 7_000, recordedInteractions: 1 } : {}),
    });
  }
  return rows;
}

const base = {
  statusOf: (ref: number) => (ref % 3 === 0 ? 'shipped' : ref % 3 === 1 ? 'unlinked' : 'exploration') as never,
  files: [],
  pricingVersion: 'test-1',
};

describe('reports from a stream of rows', () => {
  it('maps every bucket to its local date, across DST changes, half-hour shifts and changes at midnight', () => {
    const zones = [
      'UTC',
      'America/New_York',
      'Europe/Berlin',
      'Australia/Lord_Howe', // a 30-minute DST shift
      'Asia/Kathmandu', // +05:45
      'America/Santiago', // changes at local midnight
      'Asia/Beirut', // changes at local midnight
      'Pacific/Chatham', // +12:45 / +13:45
    ];
    // Each of 2026's spring and autumn changes (both hemispheres), day by day around them.
    const windows = ['2026-03-06', '2026-03-26', '2026-04-03', '2026-09-04', '2026-09-25', '2026-10-23', '2026-10-30'];
    for (const zone of zones) {
      const m = new LocalDayMapper(zone);
      for (const start of windows) {
        const first = Math.floor(Date.parse(`${start}T00:00:00Z`) / BUCKET_MS);
        for (let b = first; b < first + 5 * 96; b++) {
          assert.equal(dateOfDayNumber(m.dayOfBucket(b)), localDate(zone, b * BUCKET_MS), `${zone} bucket ${b}`);
        }
      }
    }
  });

  it('gives the same report fed one reused row object in any order as buildReport over the rows', () => {
    // Ten days over New York's spring change, a month before its autumn one and the change itself.
    const rows = [
      ...rowsAcross(Date.parse('2026-03-04T00:00:00Z'), 10 * 24),
      ...rowsAcross(Date.parse('2026-10-28T00:00:00Z'), 8 * 24),
    ];
    for (const timeZone of ['UTC', 'America/New_York', 'Australia/Lord_Howe']) {
      for (const bySession of [false, true]) {
        const expected = buildReport({ ...base, rows, timeZone, bySession });
        const next = rng(7);
        const shuffled = [...rows];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = Math.floor(next() * (i + 1));
          [shuffled[i], shuffled[j]] = [shuffled[j] as UsageRow, shuffled[i] as UsageRow];
        }
        const builder = new ReportBuilder(timeZone, bySession);
        const reused = { ...(rows[0] as UsageRow) };
        for (const r of shuffled) {
          // The builder must read the row, never keep it: the next one overwrites it.
          Object.assign(reused, { recordedNano: 0, recordedInteractions: 0 }, r);
          builder.add(reused);
        }
        assert.deepEqual(builder.finish(base), expected, `${timeZone} bySession=${bySession}`);

        // The days are the local dates of the rows (an independent grouping), and weeks and months add up to them.
        const byDate = new Map<string, number>();
        for (const r of rows) {
          const d = localDate(timeZone, r.bucket * BUCKET_MS);
          byDate.set(d, (byDate.get(d) ?? 0) + r.input + r.output + r.cacheRead + r.cacheWrite);
        }
        assert.deepEqual(
          expected.byDay.map((d) => [d.date, d.total]),
          [...byDate].sort(([a], [b]) => a.localeCompare(b)),
        );
        const sum = (list: Array<{ total: number }>): number => list.reduce((n, d) => n + d.total, 0);
        assert.equal(sum(expected.byWeek), expected.totals.total);
        assert.equal(sum(expected.byMonth), expected.totals.total);
      }
    }
  });

  it('counts each session once per day, week, month, model and source and in the totals, in any order of its rows', () => {
    // Sessions whose rows span days, weeks (2026-03-29 is a Sunday), months, both sources and several models.
    const next = rng(23);
    const from = Math.floor(Date.parse('2026-03-27T00:00:00Z') / BUCKET_MS);
    const rows: UsageRow[] = [];
    for (let i = 0; i < 3_000; i++) {
      const ref = 1 + Math.floor(next() * 400);
      const bucket = from + Math.floor(next() * 8 * 96);
      rows.push({
        ...(rowsAcross(bucket * BUCKET_MS, 1)[0] as UsageRow),
        sessionRef: ref,
        source: ref % 3 === 0 ? 'codex' : 'claude-code',
        model: ['gpt-5', 'claude-sonnet-4-5', 'claude-opus-4-1'][Math.floor(next() * 3)] as string,
        bucket,
      });
    }
    const distinct = (key: (r: UsageRow) => string): Map<string, number> => {
      const sets = new Map<string, Set<number>>();
      for (const r of rows) {
        const k = key(r);
        sets.set(k, (sets.get(k) ?? new Set()).add(r.sessionRef));
      }
      return new Map([...sets].map(([k, v]) => [k, v.size]));
    };
    for (const timeZone of ['UTC', 'America/New_York', 'Pacific/Chatham']) {
      const day = (r: UsageRow): string => localDate(timeZone, r.bucket * BUCKET_MS);
      const r = buildReport({ ...base, rows: [...rows].reverse(), timeZone });
      assert.equal(r.totals.sessions, new Set(rows.map((x) => x.sessionRef)).size, timeZone);
      assert.deepEqual(
        new Map(r.bySource.map((x) => [x.source, x.sessions])),
        distinct((x) => x.source),
      );
      assert.deepEqual(
        new Map(r.byModel.map((x) => [`${x.source} ${x.model}`, x.sessions])),
        distinct((x) => `${x.source} ${x.model}`),
      );
      assert.deepEqual(new Map(r.byDay.map((x) => [x.date, x.sessions])), distinct(day));
      assert.deepEqual(
        new Map(r.byWeek.map((x) => [x.week, x.sessions])),
        distinct((x) => isoWeekOf(day(x))),
      );
      assert.deepEqual(
        new Map(r.byMonth.map((x) => [x.month, x.sessions])),
        distinct((x) => day(x).slice(0, 7)),
      );
      assert.ok(r.byWeek.length >= 2 && r.byMonth.length === 2, 'the rows span weeks and months');
    }
  });

  it('counts repeated prompts as a plain count of each hash does, 53-bit hashes included', () => {
    const next = rng(5);
    const pool = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? i + 1 : Number.MAX_SAFE_INTEGER - i));
    const refs: number[] = [];
    const hashes: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      refs.push(1 + Math.floor(next() * 300));
      hashes.push(pool[Math.floor(next() ** 3 * pool.length)] as number);
    }
    const counts = new Map<number, number>();
    for (const h of hashes) counts.set(h, (counts.get(h) ?? 0) + 1);
    const often = [...counts].filter(([, n]) => n >= 3);
    assert.deepEqual(repeatedPromptsIn(refs, hashes), {
      prompts: often.length,
      repeats: often.reduce((sum, [, n]) => sum + n - 1, 0),
      sessions: new Set(refs.filter((_, i) => (counts.get(hashes[i] as number) as number) >= 3)).size,
    });
    assert.deepEqual(repeatedPromptsIn([], []), { prompts: 0, repeats: 0, sessions: 0 });
  });

  it('counts repeated prompts from two number lists as from the hashes per session', () => {
    const next = rng(11);
    const prompts = new Map<number, number[]>();
    for (let ref = 1; ref <= 40; ref++)
      prompts.set(
        ref,
        Array.from({ length: 1 + Math.floor(next() * 6) }, () => 1 + Math.floor(next() * 30)),
      );
    const refs: number[] = [];
    const hashes: number[] = [];
    for (const [ref, list] of prompts)
      for (const h of list) {
        refs.push(ref);
        hashes.push(h);
      }
    const counted = repeatedPromptsIn(refs, hashes);
    assert.deepEqual(counted, repeatedPromptsOf(prompts));
    assert.ok(counted.prompts > 0 && counted.repeats > counted.prompts);
    const fromMap = selfCheck([], prompts).repeatedPrompts;
    assert.deepEqual(
      { prompts: fromMap.prompts, repeats: fromMap.repeats, sessions: fromMap.sessions },
      { ...counted },
    );
    assert.deepEqual(selfCheck([], counted), selfCheck([], prompts));
  });
});

describe('report from the ledger', function () {
  this.timeout(120_000);
  let dir: string;
  let ledger: Ledger;
  const now = Date.parse('2026-06-15T12:00:00Z');

  before(async () => {
    dir = tempDir('ol-report-stream-');
    ledger = await Ledger.open(path.join(dir, 'ledger'));
    await buildHeavyLedger(ledger, {
      sessions: 300,
      interactions: 9_000,
      days: 150,
      end: now - 3_600_000,
      root: path.join(dir, 'repos'),
    });
  });

  after(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** `report` the way it was built before rows were streamed: an array of rows, prompt hashes per session. */
  function fromArrays(timeZone: string, since?: string, until?: string): unknown {
    const db = ledger.database;
    const range = periodRange(timeZone, since, until);
    const bounded = since !== undefined || until !== undefined;
    const rows = bounded ? usageRows(db, bucketsOf(range)) : usageRows(db);
    const refs = new Set(rows.map((r) => r.sessionRef));
    const co = countedOutcomes(db);
    return buildReport({
      rows,
      statusOf: statusResolver(db, now, undefined, co.counted, refs),
      outcomes: outcomeFacts(db, co.counted, now, 30, co.setAside, refs),
      sessionInfo: sessionInfo(db, refs),
      prompts: promptHashes(db, range.from, range.to),
      threshold: 0.6,
      files: sourceHealth(db),
      timeZone,
      since,
      until,
      pricingVersion: getMeta(db, 'pricing_version') ?? '',
      identities: co.identities,
      plan: null,
    });
  }

  it('gives the report an array of rows and the prompt hashes gave, bounded or not, in UTC and New York', () => {
    for (const timeZone of ['UTC', 'America/New_York']) {
      for (const [since, until] of [
        [undefined, undefined],
        ['2026-03-01', undefined],
        [undefined, '2026-03-31'],
        ['2026-03-05', '2026-03-12'], // New York's spring change inside
      ] as const) {
        const r = report(ledger.database, { timeZone, since, until, now });
        assert.ok(r.totals.total > 0 && r.selfCheck.repeatedPrompts.prompts > 0);
        assert.deepEqual(r, fromArrays(timeZone, since, until), `${timeZone} ${since} ${until}`);
      }
    }
  });

  it('counts repeated prompts in the ledger as the self-check counts their hashes', () => {
    const db = ledger.database;
    for (const range of [
      periodRange('UTC'),
      periodRange('UTC', '2026-04-01', '2026-04-30'),
      periodRange('UTC', '2027-01-01', '2027-01-31'), // no prompts
    ]) {
      assert.deepEqual(
        repeatedPrompts(db, range.from, range.to),
        repeatedPromptsOf(promptHashes(db, range.from, range.to)),
      );
    }
  });

  it('gives for several periods at once exactly what `report` gives for each', () => {
    const periods = [
      { since: '2026-02-01', until: '2026-04-30' },
      { since: '2026-02-01', until: '2026-02-07' },
      { since: '2026-03-08', until: '2026-03-14' },
      { since: '2026-04-25', until: '2026-04-30' },
    ];
    for (const timeZone of ['UTC', 'America/New_York']) {
      const all = reports(ledger.database, { timeZone, now, bySession: true }, periods);
      periods.forEach((p, i) => {
        assert.deepEqual(all[i], report(ledger.database, { timeZone, now, bySession: true, ...p }), p.since);
      });
      // A period without bounds among them reads the whole history, and each still gets only its own rows.
      const open = reports(ledger.database, { timeZone, now }, [{}, periods[2] as (typeof periods)[number]]);
      assert.deepEqual(open[0], report(ledger.database, { timeZone, now }));
      assert.deepEqual(open[1], report(ledger.database, { timeZone, now, ...periods[2] }));
    }
  });
});
