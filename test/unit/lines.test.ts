import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isWholeJson, readLines } from '../../src/sources/lines';
import { tempDir } from '../helpers';

function readAll(file: string, from = 0, acceptTail = false): { lines: string[]; offset: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const lines: string[] = [];
    const r = readLines(
      fd,
      from,
      fs.fstatSync(fd).size,
      0,
      (b, s, e) => lines.push(b.toString('utf8', s, e)),
      acceptTail ? { acceptTail: isWholeJson } : {},
    );
    return { lines, offset: r.offset };
  } finally {
    fs.closeSync(fd);
  }
}

describe('line reader', () => {
  const dir = tempDir();
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('leaves a half-written last line for the next read and resumes exactly after it', () => {
    const file = path.join(dir, 'a.jsonl');
    fs.writeFileSync(file, '{"a":1}\n{"b":2}\n{"c":');
    const first = readAll(file);
    assert.deepEqual(first.lines, ['{"a":1}', '{"b":2}']);
    assert.equal(first.offset, 16);
    fs.appendFileSync(file, '3}\n{"d":4}\n');
    assert.deepEqual(readAll(file, first.offset).lines, ['{"c":3}', '{"d":4}']);
  });

  it('takes a whole unterminated last line only when told the file is quiet', () => {
    const file = path.join(dir, 'b.jsonl');
    fs.writeFileSync(file, '{"a":1}\n{"b":2}');
    assert.deepEqual(readAll(file, 0, true).lines, ['{"a":1}', '{"b":2}']);
    fs.writeFileSync(file, '{"a":1}\n{"b":');
    assert.deepEqual(readAll(file, 0, true).lines, ['{"a":1}']);
  });

  it('reads lines longer than its chunk and lines that straddle chunks, with multi-byte characters intact', () => {
    const file = path.join(dir, 'c.jsonl');
    const big = `{"x":"${'é'.repeat(1_500_000)}"}`;
    const lines = ['{"first":true}', big, '{"after":"ünïcode"}'];
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const r = readAll(file);
    assert.deepEqual(r.lines, lines);
    assert.equal(r.offset, fs.statSync(file).size);
  });

  it('skips empty lines and CRLF-free blank gaps without losing count', () => {
    const file = path.join(dir, 'd.jsonl');
    fs.writeFileSync(file, '\n\n{"a":1}\n\n');
    assert.deepEqual(readAll(file).lines, ['{"a":1}']);
  });
});
