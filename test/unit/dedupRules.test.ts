import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InteractionRecord, SourceName } from '../../src/core/usage/model';
import { Ledger } from '../../src/store/ledger';
import { OTLP_META, RecordWriter } from '../../src/store/records';
import { FLAG_ESTIMATED, FLAG_OTLP, setMeta } from '../../src/store/schema';
import { tempDir } from '../helpers';

const T0 = Date.parse('2026-05-01T10:00:00Z');

interface Copy {
  key: string;
  at: number;
  input: number;
  output: number;
  estimated?: boolean;
  viaOtlp?: boolean;
}

function record(source: SourceName, session: string, c: Copy): InteractionRecord {
  return {
    kind: 'interaction',
    key: c.key,
    session: { source, sessionId: session },
    timestamp: c.at,
    model: 'claude-sonnet-4-5-20250929',
    tokens: { input: c.input, output: c.output, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    cacheWrite1h: 0,
    sidechain: false,
    ...(c.estimated ? { estimated: true } : {}),
    ...(c.viaOtlp ? { viaOtlp: true } : {}),
  };
}

/** The rows of one session: counts and whether they are estimated / received over OTLP. */
function rows(ledger: Ledger, session: string): Array<[number, number, boolean, boolean]> {
  const q = ledger.database.exec(
    `SELECT i.input, i.output, i.flags FROM interactions i JOIN sessions s ON s.id = i.session_ref WHERE s.session_key = '${session}' ORDER BY i.ts`,
  );
  return (q[0]?.values ?? []).map((v) => [
    Number(v[0]),
    Number(v[1]),
    (Number(v[2]) & FLAG_ESTIMATED) !== 0,
    (Number(v[2]) & FLAG_OTLP) !== 0,
  ]);
}

/**
 * The two dedup rules of docs/measurement.md and docs/otel.md in one ledger: a count the tool reported beats an
 * estimate of the same key (whichever is larger), and a request received over OTLP counts once with its log copy
 * (the log's copy wins). Each step is its own write, as separate imports and receiver bodies are.
 */
describe('Dedup: an exact count beats an estimate, and an OTLP copy counts once with its log copy, together', function () {
  this.timeout(30_000);
  let dir: string;
  let ledger: Ledger;

  const add = async (source: SourceName, session: string, c: Copy): Promise<string> =>
    ledger.write((db) => {
      if (c.viaOtlp) setMeta(db, OTLP_META, '1'); // as the receiver does before its first write
      const w = new RecordWriter(db, { repoOf: () => null });
      try {
        return w.add(record(source, session, c), c.viaOtlp ? '' : `/logs/${session}.jsonl`);
      } finally {
        w.free();
      }
    });

  beforeEach(async () => {
    dir = tempDir('ol-dedup-');
    ledger = await Ledger.open(path.join(dir, 'ledger'));
  });
  afterEach(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an exact copy replaces a larger estimate of the same key, and a larger estimate never replaces an exact copy', async () => {
    assert.equal(
      await add('copilot-chat', 'a', { key: 'copilot-chat:r1', at: T0, input: 900, output: 300, estimated: true }),
      'added',
    );
    assert.equal(
      await add('copilot-chat', 'a', { key: 'copilot-chat:r1', at: T0, input: 400, output: 100 }),
      'duplicate',
    );
    assert.equal(
      await add('copilot-chat', 'a', { key: 'copilot-chat:r1', at: T0, input: 5000, output: 900, estimated: true }),
      'duplicate',
    );
    assert.deepEqual(rows(ledger, 'a'), [[400, 100, false, false]]);
  });

  it('an OTLP copy and its log copy count once in both orders, and the log copy is what stays', async () => {
    // OTLP first: the log copy replaces it.
    assert.equal(
      await add('claude-code', 'b', { key: 'claude-code:otlp:1', at: T0, input: 21, output: 480, viaOtlp: true }),
      'added',
    );
    assert.equal(
      await add('claude-code', 'b', { key: 'claude-code:msg-1', at: T0 + 2000, input: 21, output: 480 }),
      'duplicate',
    );
    assert.deepEqual(rows(ledger, 'b'), [[21, 480, false, false]]);
    // Log first: the OTLP copy adds nothing.
    assert.equal(
      await add('claude-code', 'b', { key: 'claude-code:msg-2', at: T0 + 60_000, input: 30, output: 70 }),
      'added',
    );
    assert.equal(
      await add('claude-code', 'b', {
        key: 'claude-code:otlp:2',
        at: T0 + 61_000,
        input: 30,
        output: 70,
        viaOtlp: true,
      }),
      'duplicate',
    );
    assert.deepEqual(rows(ledger, 'b'), [
      [21, 480, false, false],
      [30, 70, false, false],
    ]);
  });

  it('both at once: an estimate, then the OTLP copy, then the exact log copy of the same key leave one exact log row', async () => {
    const estimate: Copy = { key: 'copilot-cli:turn-1', at: T0, input: 2500, output: 400, estimated: true };
    const otlp: Copy = { key: 'copilot-cli:otlp:s1', at: T0 + 1000, input: 1000, output: 300, viaOtlp: true };
    const exact: Copy = { key: 'copilot-cli:turn-1', at: T0, input: 1000, output: 300 };
    // The estimate's counts differ from the exact ones, so the OTLP copy finds no log twin and is kept for now.
    assert.equal(await add('copilot-cli', 'c', estimate), 'added');
    assert.equal(await add('copilot-cli', 'c', otlp), 'added');
    assert.deepEqual(rows(ledger, 'c'), [
      [2500, 400, true, false],
      [1000, 300, false, true],
    ]);
    // The exact log copy beats the (larger) estimate of its key, and takes the OTLP copy's place: one request, exact.
    await add('copilot-cli', 'c', exact);
    assert.deepEqual(rows(ledger, 'c'), [[1000, 300, false, false]]);
    // Sent again, each copy adds nothing.
    assert.equal(await add('copilot-cli', 'c', otlp), 'duplicate');
    assert.equal(await add('copilot-cli', 'c', estimate), 'duplicate');
    assert.deepEqual(rows(ledger, 'c'), [[1000, 300, false, false]]);
  });
});
