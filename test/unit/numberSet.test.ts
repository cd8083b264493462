import assert from 'node:assert/strict';
import { NumberSet } from '../../src/core/common/numberSet';
import { stableId } from '../../src/store/hash';

describe('NumberSet (the ids a first import wrote, as numbers)', () => {
  it('answers as a Set would for request ids, small consecutive numbers and zero, through many growths', () => {
    const set = new NumberSet(4);
    const truth = new Set<number>();
    for (let i = 0; i < 50_000; i++) {
      const v = i % 3 === 0 ? i : i % 3 === 1 ? stableId(`req-${i}`) : Number.MAX_SAFE_INTEGER - i;
      set.add(v);
      truth.add(v);
      if (i % 7 === 0) set.add(v); // adding again changes nothing
    }
    assert.equal(set.size, truth.size);
    for (const v of truth) assert.ok(set.has(v), `has ${v}`);
    for (let i = 0; i < 50_000; i++) assert.equal(set.has(stableId(`other-${i}`)), truth.has(stableId(`other-${i}`)));
    assert.equal(set.has(1.5), false);
    assert.equal(set.has(-1), false);
  });

  it('refuses what it cannot hold exactly (negative, fractional, unsafe numbers)', () => {
    const set = new NumberSet();
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN]) assert.throws(() => set.add(bad), RangeError);
    assert.equal(set.size, 0);
  });
});
