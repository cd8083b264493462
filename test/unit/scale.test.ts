import assert from 'node:assert/strict';
import { jsonArrayPrinter, printJson, table, TableLines } from '../../src/cli/format';
import { sessionLines } from '../../src/cli/render/sessions';
import type { SessionJson } from '../../src/services/queries';
import * as fs from 'node:fs';
import { pushAll } from '../../src/core/common/numbers';
import { Ledger } from '../../src/store/ledger';
import { loadLinks, loadStamps } from '../../src/store/outcomes';
import { tempDir } from '../helpers';
import { maxOf, minOf } from '../../src/core/common/numbers';
import { sessionNamer } from '../../src/core/summary/render';
import type { Summary } from '../../src/core/summary/schema';

/** A few years of heavy use hold more sessions than V8 takes as arguments of one call (about 120,000). */
const MANY = 300_000;

describe('figures over a few years of sessions', () => {
  it('the smallest and largest of 300,000 values (Math.min(...values) throws a RangeError there)', () => {
    const values = Array.from({ length: MANY }, (_, i) => 1_700_000_000_000 + ((i * 7919) % MANY));
    assert.throws(() => Math.min(...values), RangeError, 'the spread this replaces fails at this size');
    assert.equal(minOf(values), 1_700_000_000_000);
    assert.equal(maxOf(values), 1_700_000_000_000 + MANY - 1);
    assert.equal(minOf([]), Infinity);
    assert.equal(maxOf([]), -Infinity);
  });

  it('a terminal table of 300,000 rows (the `sessions` list of a few years) is drawn', () => {
    const rows = Array.from({ length: MANY }, (_, i) => [`claude-code:${i}`, String(i * 3)]);
    const lines = table(['session', 'tokens'], rows).split('\n');
    assert.equal(lines.length, MANY + 2);
    assert.equal(lines.at(-1), `claude-code:${MANY - 1}  ${(MANY - 1) * 3}`);
  });

  it('the `sessions` table is drawn from sessions read one at a time, each kept only as its row', () => {
    let made = 0;
    function* sessions(): Generator<SessionJson> {
      for (let i = 0; i < MANY; i++) {
        made++;
        yield {
          id: `claude-code:${i}`,
          start: '2026-03-01T09:30:00.000Z',
          source: 'claude-code',
          branch: i === 7 ? 'feat/\u0000wide-branch-name' : 'main',
          tokens: { total: i * 3 },
          tokenAccuracy: 'exact',
          costUSD: 0.01,
          editedFiles: [],
          links: [],
          status: 'unlinked',
        } as unknown as SessionJson;
      }
    }
    const lines = sessionLines(sessions());
    assert.equal(made, 0, 'nothing is read before the first line is asked for');
    const header = lines.next().value as string;
    assert.equal(made, MANY, 'the columns are measured over every session before the header is drawn');
    const rest = [...lines];
    assert.equal(rest.length, MANY + 1, 'a rule, then a row per session; no footnote when every figure is exact');
    // The control character in a branch shows as U+FFFD (as the printer shows it), one character wide: every line,
    // header included, ends at the same column.
    assert.match(rest[8]!, /feat\/\uFFFDwide-branch-name/);
    assert.deepEqual(new Set(rest.map((l) => l.length)), new Set([header.length]));
  });

  it('a table kept as one string per row prints the same as one built from cells', () => {
    const t = new TableLines(['a', 'bb']);
    t.add(['x', '1']);
    t.add(['longer', '12345']);
    t.add(['y']);
    assert.deepEqual([...t.lines()], ['a          bb', '──────  ─────', 'x           1', 'longer  12345', 'y']);
    assert.equal(table(['a', 'bb'], [['x', '1'], ['longer', '12345'], ['y']]), [...t.lines()].join('\n'));
  });

  it("a summary's short session names stay unique over 50,000 sessions of one source", () => {
    const ids = Array.from({ length: 50_000 }, (_, i) => `claude-code:${(i * 2654435761) % 4294967296}-session`);
    const s = { tasks: [], withoutOutcome: { groups: [{ sessionIds: ids }] } } as unknown as Summary;
    const name = sessionNamer(s);
    assert.equal(new Set(ids.map(name)).size, ids.length);
  });

  it('prints a JSON list one element at a time, the same text as JSON.stringify(list, null, 2)', () => {
    const list = [
      { id: 'claude-code:a', tokens: { input: 1, output: 2 }, files: ['src/a.ts'], links: [], label: null },
      { id: 'codex:b "quoted"\n', tokens: { input: 3, output: 4 }, files: [], links: [{ sha: 'abc', n: 0.5 }] },
      [1, [2, 3]],
    ];
    for (const l of [list, [], [list[0]]]) {
      const lines: string[] = [];
      const printer = jsonArrayPrinter((t) => lines.push(t));
      for (const item of l) printer.add(item);
      printer.end();
      assert.equal(`${lines.join('\n')}\n`, `${JSON.stringify(l, null, 2)}\n`);
    }
  });

  it('prints a report with its lists one element at a time, the same text as JSON.stringify(report, null, 2)', async () => {
    const bySession = Array.from({ length: 1000 }, (_, i) => ({
      session: `claude-code:${i}`,
      tokens: i,
      note: 'a\nb',
    }));
    const reports: unknown[] = [
      { period: { since: null }, totals: { tokens: 5 }, byDay: [], bySession, skipped: undefined, last: [[1], []] },
      { only: [] },
      { nested: { list: [1, 2] } },
      {},
      [1, 2],
      'text',
      null,
    ];
    for (const r of reports) {
      const lines: string[] = [];
      let waits = 0;
      await printJson(
        r,
        (t) => lines.push(t),
        async () => {
          waits++;
        },
      );
      assert.equal(lines.join('\n'), JSON.stringify(r, null, 2));
      if (r === reports[0]) {
        assert.ok(lines.length > 1000, 'the long list is printed an element at a time');
        assert.equal(waits, 3, 'a slow reader is waited for between blocks of elements');
      }
    }
  });

  it('appends 300,000 items to a list (push(...items) throws a RangeError there)', () => {
    const items = Array.from({ length: MANY }, (_, i) => i);
    assert.throws(() => [0].push(...items), RangeError, 'the spread this replaces fails at this size');
    const out = pushAll([-1], items);
    assert.equal(out.length, MANY + 1);
    assert.equal(out.at(-1), MANY - 1);
  });

  it("reads the links and link stamps of 150,000 sessions from a real ledger (a few years' worth)", async () => {
    const dir = tempDir('ol-scale-');
    const ledger = await Ledger.open(dir);
    try {
      const db = ledger.database;
      const n = 150_000;
      db.run(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n})
        INSERT INTO links (session_ref, commit_ref, confidence, evidence, state) SELECT i, i % 977, 0.9, '[]', 0 FROM k`);
      db.run(`WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${n})
        INSERT INTO session_links (session_ref, stamp, codex_head) SELECT i, 'stamp-' || i, NULL FROM k`);
      const links = loadLinks(db);
      assert.equal(links.length, n);
      assert.deepEqual(links.at(-1), {
        sessionRef: n,
        commitRef: n % 977,
        confidence: 0.9,
        evidence: [],
        state: 'auto',
      });
      const stamps = loadStamps(db);
      assert.equal(stamps.size, n);
      assert.deepEqual(stamps.get(n), { stamp: `stamp-${n}`, codexHead: null });
      assert.equal(loadStamps(db, [7, 149_999]).get(149_999)?.stamp, 'stamp-149999');
    } finally {
      ledger.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
