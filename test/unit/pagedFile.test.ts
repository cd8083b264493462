import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InteractionRecord } from '../../src/core/usage/model';
import { report } from '../../src/services/queries';
import { Ledger, type OpenOptions } from '../../src/store/ledger';
import { PagedFile } from '../../src/store/pagedFile';
import { addRecords, syntheticRequest, tempDirEach } from '../helpers';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-05T00:00:00Z');
const q = { timeZone: 'UTC', now: T0 + 400 * DAY };

/** `sessions` sessions a day apart (cycling over 300 days), `per` requests each. */
function history(sessions: number, per: number, tag = 'h'): InteractionRecord[] {
  const out: InteractionRecord[] = [];
  for (let s = 0; s < sessions; s++)
    for (let i = 0; i < per; i++)
      out.push(
        syntheticRequest(`${tag}${s}r${i}`, `${tag}${s}`, T0 + (s % 300) * DAY + s * 1000 + i * 60_000, 5 + i + s),
      );
  return out;
}

const scalar = (ledger: Ledger, sql: string): number => Number(ledger.database.exec(sql)[0]?.values[0]?.[0] ?? 0);

/** A small deterministic generator (the property tests' seeds reproduce). */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

describe('the snapshot read on demand (store/pagedFile.ts)', () => {
  const tmp = tempDirEach('ol-paged-');

  for (const seed of [1, 9, 77]) {
    it(`reads give back exactly what the file and the writes hold, across page boundaries and after a rebase (seed ${seed})`, () => {
      const rnd = random(seed);
      const size = 40_000 + Math.floor(rnd() * 20_000);
      const model = new Uint8Array(size);
      for (let i = 0; i < size; i++) model[i] = Math.floor(rnd() * 256);
      const file = path.join(tmp.dir, 'base');
      fs.writeFileSync(file, model);
      const paged = PagedFile.onDisk(fs.openSync(file, 'r'), size);
      assert.equal(paged.slice(0, size), paged, 'sql.js taking the content takes this object');
      let reference = model.slice();
      for (let step = 0; step < 400; step++) {
        const at = Math.floor(rnd() * (reference.length + 3000));
        const len = 1 + Math.floor(rnd() * 9000);
        if (rnd() < 0.5) {
          const src = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
          paged.set(src, at);
          if (at + len > reference.length) {
            const grown = new Uint8Array(at + len);
            grown.set(reference);
            reference = grown;
          }
          reference.set(src, at);
        } else {
          const end = Math.min(at + len, reference.length);
          if (end <= at) continue;
          assert.deepEqual(
            paged.subarray(at, end),
            reference.subarray(at, end),
            `read [${at}, ${end}) at step ${step}`,
          );
        }
      }
      assert.ok(paged.heldBytes > 0);
      // Saved whole as a new file (as a fold writes it, from the pages): reads go there and the written pages go.
      const saved = path.join(tmp.dir, 'saved');
      const out = fs.openSync(saved, 'w');
      assert.equal(paged.writeTo(out), reference.length);
      fs.closeSync(out);
      assert.ok(fs.readFileSync(saved).equals(reference), 'the saved file is the content, byte for byte');
      paged.rebase(fs.openSync(saved, 'r'), reference.length);
      assert.equal(paged.heldBytes, 0);
      assert.deepEqual(paged.subarray(0, reference.length), reference);
      assert.equal(paged.readProblem, undefined);
      paged.close();
    });
  }

  it('a save writes the content of a file of several megabytes exactly: written pages over the file, runs read in between, a grown tail', () => {
    const rnd = random(5);
    const size = 3 * 1024 * 1024 + 1234;
    const model = new Uint8Array(size).map(() => Math.floor(rnd() * 256));
    const file = path.join(tmp.dir, 'big');
    fs.writeFileSync(file, model);
    const paged = PagedFile.onDisk(fs.openSync(file, 'r'), size);
    const reference = new Uint8Array(size + 9000);
    reference.set(model);
    for (const at of [0, 4096 * 255, 4096 * 256 - 10, 1024 * 1024 + 77, size - 100, size + 5000]) {
      const src = new Uint8Array(4000).map(() => Math.floor(rnd() * 256));
      paged.set(src, at);
      reference.set(src, at);
    }
    const saved = path.join(tmp.dir, 'big-saved');
    const out = fs.openSync(saved, 'w');
    assert.equal(paged.writeTo(out), reference.length);
    fs.closeSync(out);
    assert.ok(fs.readFileSync(saved).equals(reference));
    paged.close();
  });

  it('a read past what the disk gives is zeros and is remembered (SQLite then reports a damaged database)', () => {
    const file = path.join(tmp.dir, 'short');
    fs.writeFileSync(file, new Uint8Array(5000).fill(7));
    const paged = PagedFile.onDisk(fs.openSync(file, 'r'), 8192);
    const got = paged.subarray(4096, 8192);
    assert.deepEqual(
      [...got.subarray(0, 904)].every((b) => b === 7),
      true,
    );
    assert.deepEqual(
      [...got.subarray(904)].every((b) => b === 0),
      true,
    );
    assert.match(paged.readProblem ?? '', /ended at 5000 bytes/);
    paged.close();
  });

  it('a ledger opened on a big snapshot reads only the pages its queries need; a whole-period report reads more and is the same', async () => {
    const home = path.join(tmp.dir, 'home');
    const writer = await Ledger.open(home, { archiveBefore: false });
    await addRecords(writer, history(3000, 3));
    await writer.compact();
    const expected = JSON.stringify(report(writer.database, q));
    writer.close();
    const size = fs.statSync(path.join(home, 'ledger.sqlite')).size;
    assert.ok(size > 1_000_000, `a snapshot of ${size} bytes`);

    const reader = await Ledger.open(home, { archiveBefore: false });
    try {
      assert.equal(reader.snapshotMemory.onDemand, true);
      assert.equal(scalar(reader, "SELECT count(*) FROM sessions WHERE session_key = 'h1234'"), 1);
      const opened = reader.snapshotMemory.read;
      assert.ok(opened < size / 10, `opening and one lookup read ${opened} of ${size} bytes`);
      assert.equal(JSON.stringify(report(reader.database, q)), expected);
      assert.ok(reader.snapshotMemory.read > opened);
      assert.equal(reader.snapshotMemory.held, 0, 'reading holds no page');
    } finally {
      reader.close();
    }
  });

  it('pages a write made are let go once a fold saved them, and what the next open reads is the same', async () => {
    const home = path.join(tmp.dir, 'home');
    const ledger = await Ledger.open(home, { archiveBefore: false });
    try {
      await addRecords(ledger, history(200, 2));
      await ledger.compact();
      await addRecords(ledger, history(1500, 3, 'more'));
      const before = JSON.stringify(report(ledger.database, q));
      assert.ok(ledger.snapshotMemory.held > 0, 'a journaled write keeps its pages until the fold');
      await ledger.compact();
      assert.equal(ledger.snapshotMemory.held, 0, 'the fold lets them go');
      assert.equal(ledger.snapshotMemory.onDemand, true);
      assert.equal(JSON.stringify(report(ledger.database, q)), before);
      await addRecords(ledger, history(10, 1, 'late'));
      const after = await Ledger.open(home, { archiveBefore: false });
      try {
        assert.equal(JSON.stringify(report(after.database, q)), JSON.stringify(report(ledger.database, q)));
      } finally {
        after.close();
      }
    } finally {
      ledger.close();
    }
  });

  it('a window keeps reading the snapshot it opened while another process replaces it, and sees the new one when it refreshes', async () => {
    const home = path.join(tmp.dir, 'home');
    const first = await Ledger.open(home, { archiveBefore: false });
    await addRecords(first, history(2000, 2));
    await first.compact();
    first.close();
    const window = await Ledger.open(home, { archiveBefore: false });
    const cli = await Ledger.open(home, { archiveBefore: false });
    try {
      // Only a few pages are read yet: the rest is read from the file after it was replaced twice.
      assert.equal(scalar(window, 'SELECT count(*) FROM meta'), scalar(window, 'SELECT count(*) FROM meta'));
      await addRecords(cli, history(500, 2, 'other'));
      await cli.compact();
      await addRecords(cli, history(5, 1, 'again'));
      await cli.compact();
      assert.equal(scalar(window, 'SELECT count(*) FROM interactions'), 4000);
      assert.equal(scalar(window, 'SELECT count(DISTINCT session_ref) FROM usage_rollup'), 2000);
      assert.equal(window.refresh(), true);
      assert.equal(scalar(window, 'SELECT count(*) FROM interactions'), 5005);
      assert.equal(JSON.stringify(report(window.database, q)), JSON.stringify(report(cli.database, q)));
    } finally {
      window.close();
      cli.close();
    }
  });

  it('after a fold that shrank the database (an archive pass), the ledger reads on demand again', async () => {
    const home = path.join(tmp.dir, 'home');
    const options: OpenOptions = { archiveBefore: T0 + 200 * DAY, archiveMinRequests: 0 };
    const ledger = await Ledger.open(home, { ...options, archiveBefore: false });
    try {
      await addRecords(ledger, history(1000, 20));
      await ledger.compact();
    } finally {
      ledger.close();
    }
    const archiving = await Ledger.open(home, options);
    try {
      const before = JSON.stringify(report(archiving.database, q));
      const pages = fs.statSync(path.join(home, 'ledger.sqlite')).size;
      await addRecords(archiving, history(1, 1, 'new'));
      await archiving.compact();
      assert.ok(fs.statSync(path.join(home, 'ledger.sqlite')).size < pages, 'the archive pass shrank the snapshot');
      assert.equal(archiving.snapshotMemory.onDemand, false, 'sql.js copied the shrunk file whole');
      assert.equal(archiving.refresh(), true);
      assert.equal(archiving.snapshotMemory.onDemand, true);
      assert.equal(archiving.snapshotMemory.held, 0);
      assert.ok(scalar(archiving, 'SELECT count(*) FROM archived_requests') > 10_000);
      assert.notEqual(JSON.stringify(report(archiving.database, q)), before, 'one request more');
    } finally {
      archiving.close();
    }
  });
});
