import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** File names in a zip (a .vsix), read from its central directory: no unzip tool needed. */
function zipEntries(file: string): string[] {
  const buf = fs.readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    names.push(buf.toString('utf8', at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

describe('packaging (npm run package)', function () {
  this.timeout(120_000);

  it('produces a .vsix under 5 MB with the bundles and the wasm, and no sources or node_modules', () => {
    const out = path.join(tempDir('ol-vsix-'), 'outcome-ledger.vsix');
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', out], { cwd: ROOT, stdio: 'pipe' });
    const size = fs.statSync(out).size;
    assert.ok(size < 5 * 1024 * 1024, `${size} bytes`);
    const listing = zipEntries(out);
    for (const needed of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/sql-wasm.wasm', 'extension/dist/cli.js', 'extension/media/icon.png', 'extension/readme.md']) {
      assert.ok(listing.includes(needed), `${needed} in ${listing.join(', ')}`);
    }
    assert.deepEqual(listing.filter((f) => /node_modules|\/src\/|\/test\/|\.map$|\.ts$/.test(f)), []);
  });
});
