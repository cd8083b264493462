import assert from 'node:assert/strict';
import { jsonArrayPrinter, table } from '../../src/cli/format';
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
});
