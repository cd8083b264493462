import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalJson } from '../../src/core/common/canonical';
import { fingerprintOf, keyPaths, loadOrCreateSigningKey, verifyCanonical } from '../../src/store/signing';
import { tempDir } from '../helpers';

describe('canonical JSON', () => {
  it('writes one text for one value whatever the key order, and refuses what JSON would change', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [true, null, 'x', { d: 2, c: undefined, e: 1.5 }] }),
      '{"a":[true,null,"x",{"d":2,"e":1.5}],"b":1}',
    );
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
    assert.throws(() => canonicalJson({ x: NaN }), /\$\.x: NaN/);
    assert.throws(() => canonicalJson({ x: [1, undefined] }), /\$\.x\[1\]: undefined/);
    assert.throws(() => canonicalJson({ when: new Date(0) }), /non-plain object/);
    assert.throws(() => canonicalJson({ n: 10n }), /bigint/);
    // The location is built on the way out of a refused value: every step named, arrays and objects alike.
    assert.throws(
      () => canonicalJson({ a: [{ ok: 1 }, { b: { c: [0, Infinity] } }] }),
      (e: Error) => e.message === '$.a[1].b.c[1]: Infinity cannot be written as canonical JSON',
    );
    assert.throws(
      () => canonicalJson([undefined]),
      (e: Error) => e.message === '$[0]: undefined cannot be written as canonical JSON',
    );
    assert.throws(
      () => canonicalJson(() => 1),
      (e: Error) => e.message === '$: function cannot be written as canonical JSON',
    );
    // A "__proto__" key read from JSON is an own property and is written like any other.
    assert.equal(canonicalJson(JSON.parse('{"__proto__":{"x":1}}')), '{"__proto__":{"x":1}}');
  });
});

describe('the signing key', () => {
  it('is created once, owner-only, and signatures over canonical JSON verify — and fail after any change, saying why', () => {
    const home = tempDir();
    const key = loadOrCreateSigningKey(home);
    const again = loadOrCreateSigningKey(home);
    assert.equal(again.publicKey, key.publicKey, 'the second use reads the same key');
    assert.equal(key.fingerprint, fingerprintOf(key.publicKey));
    assert.match(key.fingerprint, /^SHA256:([0-9a-f]{4}:){7}[0-9a-f]{4}$/);
    if (process.platform !== 'win32') {
      assert.equal(fs.statSync(keyPaths(home).privateKey).mode & 0o777, 0o600);
      assert.equal(fs.statSync(keyPaths(home).dir).mode & 0o077, 0);
    }
    assert.match(
      fs.readFileSync(keyPaths(home).publicKey, 'utf8'),
      new RegExp(`^Ed25519 ${key.publicKey.replace(/[+/]/g, '\\$&')} ${key.fingerprint}\n$`),
    );

    const doc = { figures: { tokens: 1200, commits: 3 }, period: { since: '2026-11-01', until: '2026-11-25' } };
    const sig = key.signCanonical(doc);
    assert.deepEqual(
      verifyCanonical(
        { period: { until: '2026-11-25', since: '2026-11-01' }, figures: { commits: 3, tokens: 1200 } },
        sig,
      ),
      { ok: true },
      'key order does not matter',
    );
    const edited = verifyCanonical({ ...doc, figures: { tokens: 1200, commits: 4 } }, sig);
    assert.equal(edited.ok, false);
    assert.match((edited as { reason: string }).reason, /changed after it was signed/);
    const other = loadOrCreateSigningKey(tempDir());
    const swapped = verifyCanonical(doc, { ...sig, publicKey: other.publicKey });
    assert.match((swapped as { reason: string }).reason, /fingerprint .* does not belong/);
    const resigned = verifyCanonical(doc, { ...sig, publicKey: other.publicKey, fingerprint: other.fingerprint });
    assert.equal(resigned.ok, false, 'a signature does not verify under another key');
    assert.match((verifyCanonical(doc, { ...sig, value: 'AAAA' }) as { reason: string }).reason, /not 64 bytes/);
    assert.match(
      (verifyCanonical(doc, { ...sig, publicKey: 'bm90IGEga2V5' }) as { reason: string }).reason,
      /not a 32-byte Ed25519 key/,
    );
  });

  it('a damaged key file is reported with what to do, not replaced', () => {
    const home = tempDir();
    loadOrCreateSigningKey(home);
    fs.writeFileSync(keyPaths(home).privateKey, 'garbage');
    assert.throws(() => loadOrCreateSigningKey(home), /damaged; move it aside/);
    assert.equal(fs.readFileSync(keyPaths(home).privateKey, 'utf8'), 'garbage');
  });

  it('several processes creating the key at once end up with one key', async () => {
    const home = tempDir();
    const script = path.join(tempDir(), 'make-key.js');
    fs.writeFileSync(
      script,
      `const { loadOrCreateSigningKey } = require(${JSON.stringify(path.resolve(__dirname, '../../src/store/signing.js'))});
process.send(loadOrCreateSigningKey(process.argv[2]).publicKey);`,
    );
    const keys = await Promise.all(
      [0, 1, 2, 3].map(
        () =>
          new Promise<string>((resolve, reject) => {
            const child = fork(script, [home]);
            child.on('message', (m) => resolve(String(m)));
            child.on('error', reject);
          }),
      ),
    );
    assert.equal(new Set(keys).size, 1, `one key for all: ${keys.join(', ')}`);
    assert.deepEqual(fs.readdirSync(keyPaths(home).dir).sort(), ['signing-ed25519.pem', 'signing-ed25519.pub']);
  });
});
