import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { tempDir } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  localHeader: number;
}

/** The entries of a zip (a .vsix), read from its central directory: no unzip tool needed. */
function zipDirectory(file: string): { buf: Buffer; entries: ZipEntry[] } {
  const buf = fs.readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    entries.push({
      name: buf.toString('utf8', at + 46, at + 46 + nameLength),
      method: buf.readUInt16LE(at + 10),
      compressedSize: buf.readUInt32LE(at + 20),
      localHeader: buf.readUInt32LE(at + 42),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return { buf, entries };
}

function zipEntries(file: string): string[] {
  return zipDirectory(file).entries.map((e) => e.name);
}

/** One file's text from a zip (stored or deflated). */
function zipRead(file: string, name: string): string {
  const { buf, entries } = zipDirectory(file);
  const e = entries.find((x) => x.name === name);
  assert.ok(e, `${name} in the zip`);
  const start = e.localHeader + 30 + buf.readUInt16LE(e.localHeader + 26) + buf.readUInt16LE(e.localHeader + 28);
  const data = buf.subarray(start, start + e.compressedSize);
  return (e.method === 8 ? inflateRawSync(data) : data).toString('utf8');
}

/** Relative link targets of a Markdown file: images and links, without anchors; absolute URLs are left out. */
function relativeLinks(markdown: string): { images: string[]; links: string[] } {
  const images: string[] = [];
  const links: string[] = [];
  for (const m of markdown.matchAll(/(!?)\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = (m[2] ?? '').split('#')[0] ?? '';
    if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    (m[1] ? images : links).push(target);
  }
  for (const m of markdown.matchAll(/<img\s[^>]*src="([^"]+)"/g))
    if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1] ?? '')) images.push(m[1] ?? '');
  return { images, links };
}

describe('packaging (npm run package)', function () {
  this.timeout(120_000);
  let out = '';

  before(() => {
    out = path.join(tempDir('ol-vsix-'), 'outcome-ledger.vsix');
    execFileSync(
      path.join(ROOT, 'node_modules', '.bin', 'vsce'),
      ['package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', out],
      { cwd: ROOT, stdio: 'pipe' },
    );
  });

  it('produces a .vsix under 5 MB with the bundles and the wasm, and no sources or node_modules', () => {
    const size = fs.statSync(out).size;
    assert.ok(size < 5 * 1024 * 1024, `${size} bytes`);
    const listing = zipEntries(out);
    for (const needed of [
      'extension/package.json',
      'extension/dist/extension.js',
      'extension/dist/sql-wasm.wasm',
      'extension/dist/cli.js',
      'extension/dist/teamRollupWorker.js',
      'extension/dist/rescanWorker.js',
      'extension/media/icon.png',
      'extension/readme.md',
    ]) {
      assert.ok(listing.includes(needed), `${needed} in ${listing.join(', ')}`);
    }
    assert.deepEqual(
      listing.filter((f) => /node_modules|\/src\/|\/test\/|\.map$|\.ts$/.test(f)),
      [],
    );
  });

  it('the packaged README shows its screenshots: every image and page it links is inside the .vsix', () => {
    const listing = new Set(zipEntries(out));
    const readme = zipRead(out, 'extension/readme.md');
    const { images, links } = relativeLinks(readme);
    assert.ok(images.length >= 1, 'the README shows at least one screenshot');
    for (const target of [...images, ...links]) {
      const inside = path.posix.normalize(`extension/${target}`);
      assert.ok(listing.has(inside), `${target} (linked from the README) is not in the .vsix`);
    }
    // Every docs page the README links is packaged too, and its own screenshots with it.
    for (const page of links.filter((l) => l.endsWith('.md'))) {
      const text = zipRead(out, path.posix.normalize(`extension/${page}`));
      for (const image of relativeLinks(text).images) {
        const inside = path.posix.normalize(`extension/${path.posix.dirname(page)}/${image}`);
        assert.ok(listing.has(inside), `${image} (linked from ${page}) is not in the .vsix`);
      }
    }
  });
});
