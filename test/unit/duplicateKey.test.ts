import assert from 'node:assert/strict';
import { duplicateKey, duplicateKeyIn } from '../../src/core/common/json';

/**
 * JSON text built from a tree of keys, with the first key that appears twice in one object (in text order) known
 * by construction, not by scanning the text: the oracle for both checks.
 */
function generated(seed: number): { text: string; expected: string | undefined } {
  let s = seed;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  // Spellings of keys: plain, escaped forms of the same key, non-ASCII, and 40 distinct ones (objects past 16 keys).
  const names: Array<[text: string, key: string]> = [
    ['a', 'a'],
    ['\\u0061', 'a'],
    ['é', 'é'],
    ['\\u00e9', 'é'],
    ['q\\"', 'q"'],
    ['\\\\', '\\'],
    ...Array.from({ length: 40 }, (_, i): [string, string] => [`k${i}`, `k${i}`]),
  ];
  let expected: string | undefined;
  const value = (depth: number): string => {
    const r = rand();
    if (depth < 3 && r < 0.15) return object(depth + 1);
    if (depth < 3 && r < 0.25) return `[${value(depth + 1)},"a\\"b",${value(depth + 1)}]`;
    if (r < 0.4) return `"text with \\"quotes\\", {braces} and a long tail ${'x'.repeat(Math.floor(rand() * 80))}"`;
    return String(Math.floor(rand() * 1000));
  };
  const object = (depth: number): string => {
    const seen = new Set<string>();
    const parts: string[] = [];
    const n = Math.floor(rand() * (rand() < 0.3 ? 40 : 8));
    for (let i = 0; i < n; i++) {
      const [text, key] = names[Math.floor(rand() * (rand() < 0.5 ? 6 : names.length))] as [string, string];
      const head = `"${text}":`;
      if (seen.has(key) && expected === undefined) expected = key;
      seen.add(key);
      parts.push(head + value(depth)); // a nested duplicate comes after this key in the text
    }
    return `{${parts.join(', ')}}`;
  };
  return { text: object(0), expected };
}

describe('duplicateKey / duplicateKeyIn (a key twice in one object: which one counts is ambiguous)', () => {
  it('finds the first key that appears twice in one object, on text and on its UTF-8 bytes, over generated documents', () => {
    let found = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const { text, expected } = generated(seed);
      if (expected !== undefined) found++;
      assert.equal(duplicateKey(text), expected, text);
      const bytes = Buffer.from(`pad${text}pad`);
      assert.equal(duplicateKeyIn(bytes, 3, bytes.length - 3), expected, text);
    }
    assert.ok(found > 300 && found < 2900, `${found} of 3000 documents had a duplicate`);
  });

  it('keeps apart keys in different objects, values that look like keys, and escaped quotes', () => {
    assert.equal(duplicateKey('{"a":{"a":1},"b":[{"a":2},{"a":3}]}'), undefined);
    assert.equal(duplicateKey('{"a":"\\"a\\":1","b":"a"}'), undefined);
    assert.equal(duplicateKey('{"x\\\\":1,"x\\\\":2}'), 'x\\');
    assert.equal(duplicateKey('{"input_tokens":1,"output_tokens":2,"input_tokens":900}'), 'input_tokens');
  });

  it('stays linear on hostile lines: 100,000 distinct keys, and a key of a megabyte', () => {
    const many = `{${Array.from({ length: 100_000 }, (_, i) => `"k${i}":1`).join(',')},"k5":2}`;
    assert.equal(duplicateKeyIn(Buffer.from(many)), 'k5');
    const long = `{"${'k'.repeat(1 << 20)}":1,"${'k'.repeat(1 << 20)}":2}`;
    assert.equal(duplicateKeyIn(Buffer.from(long)), 'k'.repeat(1 << 20));
    assert.equal(duplicateKeyIn(Buffer.from('{"unterminated')), undefined);
  });
});
