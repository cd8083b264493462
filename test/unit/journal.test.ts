import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InteractionRecord } from '../../src/core/usage/model';
import { HEADER_BYTES } from '../../src/store/journal';
import { Ledger, type OpenOptions } from '../../src/store/ledger';
import { RecordWriter } from '../../src/store/records';
import { SchemaTooNewError } from '../../src/store/schema';
import { tempDir } from '../helpers';

function interaction(key: string, output: number, session = 's1'): InteractionRecord {
  return {
    kind: 'interaction',
    key,
    session: { source: 'claude-code', sessionId: session, cwd: '/nowhere' },
    timestamp: Date.parse('2026-05-01T10:00:00Z') + output * 1000,
    model: 'claude-sonnet-4-5',
    tokens: { input: 10, output, cacheRead: 100, cacheWrite: 0, reasoning: 0 },
    cacheWrite1h: 0,
    sidechain: false,
  };
}

const scalar = (ledger: Ledger, sql: string): number => Number(ledger.database.exec(sql)[0]?.values[0]?.[0] ?? 0);

async function add(ledger: Ledger, ...records: InteractionRecord[]): Promise<void> {
  await ledger.write((db) => {
    const w = new RecordWriter(db, { repoOf: () => null });
    try {
      for (const r of records) w.add(r, '/logs/a.jsonl');
    } finally {
      w.free();
    }
  });
}

/** Everything a reader would show, to compare two ledgers row for row. */
function contents(ledger: Ledger): string {
  const tables = ['interactions', 'sessions', 'usage_rollup', 'models', 'meta'];
  return tables
    .map((t) =>
      JSON.stringify(
        ledger.database.exec(`SELECT * FROM ${t} ${t === 'meta' ? "WHERE key <> 'snapshot_id'" : ''} ORDER BY 1, 2`),
      ),
    )
    .join('\n');
}

/** Offsets of the journal's blocks (after the header): [start, end) of each. */
function blockRanges(file: string): Array<[number, number]> {
  const buf = fs.readFileSync(file);
  const out: Array<[number, number]> = [];
  for (let at = HEADER_BYTES; at + 40 <= buf.length; ) {
    const end = at + 40 + buf.readUInt32BE(at + 4);
    out.push([at, end]);
    at = end;
  }
  return out;
}

describe('ledger journal', () => {
  let home: string;
  let journal: string;
  const open = (o: OpenOptions = {}): Promise<Ledger> => Ledger.open(home, o);
  beforeEach(() => {
    home = tempDir();
    journal = path.join(home, 'ledger.journal');
  });
  afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

  it('a capture into a big ledger writes a few KB and leaves the snapshot untouched; another window reads only the new blocks', async () => {
    const a = await open();
    const many: InteractionRecord[] = [];
    for (let i = 0; i < 20_000; i++) many.push(interaction(`bulk-${i}`, 1 + (i % 500), `s${i % 400}`));
    await add(a, ...many);
    const snapshot = path.join(home, 'ledger.sqlite');
    const before = fs.readFileSync(snapshot);
    assert.ok(before.length > 1_000_000, `a ledger of some size (${before.length} bytes)`);
    const reader = await open();
    const readerVersion = reader.version;
    const journalBefore = fs.statSync(journal).size;
    await add(a, interaction('new-line', 7));
    assert.deepEqual(fs.readFileSync(snapshot), before, 'the snapshot is not rewritten');
    const grew = fs.statSync(journal).size - journalBefore;
    assert.ok(grew > 0 && grew < 8192, `one capture adds a few KB to the journal (${grew} bytes)`);
    assert.equal(reader.refresh(), true);
    assert.ok(reader.version > readerVersion, 'views hear of the change');
    assert.equal(scalar(reader, 'SELECT count(*) FROM interactions'), 20_001);
    assert.equal(reader.refresh(), false, 'nothing new: nothing read');
    const fresh = await open();
    assert.equal(contents(reader), contents(fresh), 'the tail applied equals a full open');
    assert.equal(contents(a), contents(fresh));
    for (const l of [a, reader, fresh]) l.close();
  });

  it('a snapshot keeps free pages, so a capture after an open writes into them instead of making sql.js grow and copy the whole file', async () => {
    const a = await open();
    const many: InteractionRecord[] = [];
    for (let i = 0; i < 20_000; i++) many.push(interaction(`bulk-${i}`, 1 + (i % 500), `s${i % 400}`));
    await add(a, ...many);
    a.close();
    const other = await open();
    const pages = scalar(other, 'PRAGMA page_count');
    const free = scalar(other, 'PRAGMA freelist_count');
    assert.ok(
      free >= Math.floor(pages / 32) && free <= pages / 16,
      `a 32nd of the pages are free (${free} of ${pages})`,
    );
    // The other process's first write after opening (new sessions): the pages it needs are free ones.
    const next: InteractionRecord[] = [];
    for (let i = 0; i < 300; i++) next.push(interaction(`next-${i}`, 1 + i, `new-${i % 30}`));
    await add(other, ...next);
    assert.equal(scalar(other, 'PRAGMA page_count'), pages, 'the database file did not grow');
    assert.ok(scalar(other, 'PRAGMA freelist_count') < free, 'it used free pages');
    const fresh = await open();
    assert.equal(contents(fresh), contents(other), 'a replay onto the snapshot gives the same rows');
    other.close();
    fresh.close();
  });

  it("SQLite's rollback journal stays in its own memory (not a second in-memory file copied as it grows), and a failed write still rolls back", async () => {
    const a = await open();
    await add(a, interaction('kept', 3));
    assert.equal(String(a.database.exec('PRAGMA journal_mode')[0]?.values[0]?.[0]), 'memory');
    await assert.rejects(
      a.write((db) => {
        db.exec("INSERT INTO meta (key, value) VALUES ('half-done', 'x')");
        throw new Error('the write fails half-way');
      }),
      /half-way/,
    );
    assert.equal(scalar(a, "SELECT count(*) FROM meta WHERE key = 'half-done'"), 0, 'rolled back');
    const again = await open();
    assert.equal(String(again.database.exec('PRAGMA journal_mode')[0]?.values[0]?.[0]), 'memory', 'at every open');
    assert.equal(scalar(again, 'SELECT count(*) FROM interactions'), 1);
    a.close();
    again.close();
  });

  it('writers in turn append to one journal; past its size it is folded into a new snapshot, and every reader follows', async () => {
    const a = await open({ journalLimitBytes: 6000 });
    const b = await open({ journalLimitBytes: 6000 });
    const reader = await open();
    for (let i = 0; i < 24; i++) {
      await add(i % 2 ? a : b, interaction(`k${i}`, i + 1, `s${i % 3}`));
      if (i % 5 === 0) reader.refresh();
    }
    assert.ok(
      fs.existsSync(path.join(home, 'ledger.sqlite.bak')),
      'a fold happened (the previous snapshot is the backup)',
    );
    assert.ok(fs.statSync(journal).size < 6000);
    reader.refresh();
    const fresh = await open();
    assert.equal(scalar(fresh, 'SELECT count(*) FROM interactions'), 24);
    assert.equal(contents(reader), contents(fresh));
    for (const l of [a, b, reader, fresh]) l.close();
  });

  it('a torn journal tail (a writer killed mid-append) is ignored without a warning and cut off by the next write', async () => {
    const a = await open();
    await add(a, interaction('k1', 1));
    await add(a, interaction('k2', 2));
    a.close();
    const ranges = blockRanges(journal);
    const [start, end] = ranges[ranges.length - 1] ?? [0, 0];
    const last = fs.readFileSync(journal).subarray(start, end);
    fs.appendFileSync(journal, last.subarray(0, Math.floor(last.length / 2))); // half of a third block
    const warnings: string[] = [];
    const b = await open({ onWarning: (m) => warnings.push(m) });
    assert.equal(scalar(b, 'SELECT count(*) FROM interactions'), 2);
    assert.equal(warnings.length, 0, warnings.join('; '));
    await add(b, interaction('k3', 3));
    b.close();
    const c = await open({ onWarning: (m) => warnings.push(m) });
    assert.equal(scalar(c, 'SELECT count(*) FROM interactions'), 3);
    assert.equal(warnings.length, 0, warnings.join('; '));
    c.close();
  });

  it('a block failing its checksum: the writes before it are kept, the journal is moved aside at the next write, with a plain message', async () => {
    const a = await open();
    await add(a, interaction('k1', 1));
    await add(a, interaction('k2', 2));
    await add(a, interaction('k3', 3));
    a.close();
    const ranges = blockRanges(journal);
    assert.equal(ranges.length, 2, 'k2 and k3 are journal blocks (k1 started the snapshot)');
    const bytes = fs.readFileSync(journal);
    const [start, end] = ranges[0] ?? [0, 0];
    const at = Math.floor((start + 40 + end) / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x20;
    fs.writeFileSync(journal, bytes);
    const warnings: string[] = [];
    const b = await open({ onWarning: (m) => warnings.push(m) });
    assert.equal(scalar(b, 'SELECT count(*) FROM interactions'), 1, 'k1 only: nothing after the damage is applied');
    assert.match(
      warnings[0] ?? '',
      /journal is damaged \(a block at byte \d+ fails its checksum\).*moved aside at the next write.*Run an import/,
    );
    await add(b, interaction('k4', 4));
    b.close();
    assert.ok(
      fs.readdirSync(home).some((n) => n.startsWith('ledger.journal.damaged-')),
      'the damaged journal is kept',
    );
    const c = await open({ onWarning: (m) => warnings.push(m) });
    assert.equal(scalar(c, 'SELECT count(*) FROM interactions'), 2);
    assert.equal(warnings.length, 1, 'the damage is reported once, then gone');
    c.close();
  });

  it('a journal written by a newer version (schema or journal format) is refused and the ledger left untouched', async () => {
    const a = await open();
    await add(a, interaction('k1', 1));
    await add(a, interaction('k2', 2));
    a.close();
    const original = fs.readFileSync(journal);
    for (const [offset, value, message] of [
      [12, 99, /newer Outcome Ledger \(schema 99/],
      [8, 7, /newer Outcome Ledger \(journal format 7/],
    ] as const) {
      const bytes = Buffer.from(original);
      bytes.writeUInt32BE(value, offset);
      fs.writeFileSync(journal, bytes);
      const snapshot = fs.readFileSync(path.join(home, 'ledger.sqlite'));
      await assert.rejects(open(), (e: unknown) => e instanceof SchemaTooNewError && message.test(e.message));
      assert.deepEqual(fs.readFileSync(journal), bytes);
      assert.deepEqual(fs.readFileSync(path.join(home, 'ledger.sqlite')), snapshot);
    }
  });

  it('a change made at open (regrouping a ledger saved mid-import) is saved whole before anything is journaled on top of it', async () => {
    const a = await open();
    await add(a, interaction('k1', 1), interaction('k2', 2));
    await a.write((db) => {
      db.run('DELETE FROM usage_rollup');
      db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('rollup_stale', '1')");
    });
    a.close();
    const b = await open();
    const snapshotBefore = fs.readFileSync(path.join(home, 'ledger.sqlite'));
    await add(b, interaction('k3', 3));
    assert.notDeepEqual(fs.readFileSync(path.join(home, 'ledger.sqlite')), snapshotBefore, 'folded');
    const c = await open();
    assert.equal(scalar(c, 'SELECT sum(output) FROM usage_rollup'), 6);
    assert.equal(contents(b), contents(c));
    b.close();
    c.close();
  });

  it('an idle fold (as the extension runs once captures stop) folds a journal of some size, and only then', async () => {
    const a = await open();
    await add(a, interaction('k1', 1));
    const snapshot = path.join(home, 'ledger.sqlite');
    await add(a, interaction('k2', 2));
    const before = fs.readFileSync(snapshot);
    assert.ok(a.journalBytes > 0, 'the second write is in the journal');
    assert.equal(await a.foldIfAtLeast(1 << 20), false, 'a small journal is left as it is');
    assert.deepEqual(fs.readFileSync(snapshot), before);
    // Another window's writes count too: the idle window folds them.
    const b = await open();
    await add(b, interaction('k3', 3));
    assert.equal(await a.foldIfAtLeast(1), true);
    assert.notDeepEqual(fs.readFileSync(snapshot), before, 'folded into a new snapshot');
    assert.equal(fs.statSync(journal).size, HEADER_BYTES, 'a new, empty journal');
    assert.equal(a.journalBytes, 0);
    assert.equal(await a.foldIfAtLeast(1), false, 'nothing left to fold');
    assert.equal(b.refresh(), true);
    const fresh = await open();
    assert.equal(scalar(fresh, 'SELECT count(*) FROM interactions'), 3);
    assert.equal(contents(b), contents(fresh));
    assert.equal(contents(a), contents(fresh));
    for (const l of [a, b, fresh]) l.close();
  });
});
