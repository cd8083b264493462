import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Database } from 'sql.js';
import { zeroOa } from '../../src/demo/codex';
import { claudeCode } from '../../src/sources/claude';
import { codex } from '../../src/sources/codex';
import type { SourceReader } from '../../src/sources/parser';
import { loadSqlJs } from '../../src/store/sqljs';
import { migrate } from '../../src/store/schema';
import { RecordWriter } from '../../src/store/records';
import { parseLines } from '../helpers';

interface Msg {
  id: number;
  blocks: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

const msgArb = fc.record({
  id: fc.integer({ min: 0, max: 1_000_000 }),
  blocks: fc.integer({ min: 1, max: 3 }),
  input: fc.integer({ min: 0, max: 50_000 }),
  output: fc.integer({ min: 1, max: 8_000 }),
  cacheRead: fc.integer({ min: 0, max: 200_000 }),
  cacheWrite: fc.integer({ min: 0, max: 20_000 }),
});

/** One line per content block; earlier blocks carry a partial output count, as Claude Code streams. */
function claudeLines(m: Msg): string[] {
  return Array.from({ length: m.blocks }, (_, b) =>
    JSON.stringify({
      type: 'assistant',
      sessionId: 's',
      cwd: '/w',
      timestamp: '2026-05-02T10:00:00Z',
      requestId: `req_${m.id}`,
      uuid: `u${m.id}-${b}`,
      message: {
        id: `msg_${m.id}`,
        model: 'claude-sonnet-4-5',
        content: [{ type: 'text', text: 'x' }],
        usage: {
          input_tokens: m.input,
          output_tokens: b === m.blocks - 1 ? m.output : Math.floor(m.output / (m.blocks - b + 1)),
          cache_read_input_tokens: m.cacheRead,
          cache_creation_input_tokens: m.cacheWrite,
        },
      },
    }),
  );
}

const garbageArb = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '{',
    '}',
    '{}',
    '[]',
    'null',
    '{"type":"assistant"}',
    '{"type":"assistant","message":{"usage":7}}',
    '{"type":"assistant","message":{"model":"m","usage":{"input_tokens":-1}},"timestamp":"2026-01-01T00:00:00Z"}',
    '{"type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":"x"}}}}',
  ),
  fc.json(),
);

let SQL: Awaited<ReturnType<typeof loadSqlJs>>;

function ledgerTotals(reader: SourceReader, lines: string[]): { total: number; count: number } {
  const db: Database = new SQL.Database();
  try {
    migrate(db);
    const w = new RecordWriter(db, { repoOf: () => null });
    for (const r of parseLines(reader, lines).records) w.add(r, '/l');
    w.free();
    const row = db.exec(
      'SELECT count(*), coalesce(sum(input + output + cache_read + cache_write), 0) FROM interactions',
    )[0]?.values[0];
    return { count: Number(row?.[0]), total: Number(row?.[1]) };
  } finally {
    db.close();
  }
}

describe("properties: garbage, truncation and order never change the valid lines' totals", () => {
  before(async () => {
    SQL = await loadSqlJs();
  });

  it('Claude Code: interleaved garbage and truncated lines are rejected or skipped, never counted, never thrown', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(msgArb, { selector: (m) => m.id, maxLength: 12 }),
        fc.array(
          fc.oneof(
            garbageArb,
            fc.tuple(msgArb, fc.nat()).map(([m, cut]) => {
              const line = claudeLines(m)[0] ?? '';
              return line.slice(0, cut % Math.max(1, line.length - 1));
            }),
          ),
          { maxLength: 12 },
        ),
        fc.infiniteStream(fc.nat()),
        (msgs, garbage, seeds) => {
          const valid = msgs.flatMap(claudeLines);
          const mixed = [...valid, ...garbage];
          // A random order of all lines (reordered input, copies of blocks in any order).
          const order = mixed.map((l) => ({ l, k: seeds.next().value }));
          order.sort((a, b) => a.k - b.k);
          const expected = msgs.reduce((s, m) => s + m.input + m.output + m.cacheRead + m.cacheWrite, 0);
          const got = ledgerTotals(
            claudeCode,
            order.map((o) => o.l),
          );
          assert.equal(got.count, msgs.length);
          assert.equal(got.total, expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('Codex: garbage between token_count events never changes the counted deltas', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            input: fc.integer({ min: 0, max: 9000 }),
            cached: fc.integer({ min: 0, max: 9000 }),
            output: fc.integer({ min: 0, max: 3000 }),
            repeat: fc.boolean(),
          }),
          { maxLength: 15 },
        ),
        fc.array(garbageArb, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (steps, garbage, positions) => {
          const lines = ['{"timestamp":"2026-05-13T09:00:00Z","type":"session_meta","payload":{"id":"s","cwd":"/w"}}'];
          const total = zeroOa();
          let expected = 0;
          for (const [i, s] of steps.entries()) {
            const cached = Math.min(s.cached, s.input);
            total.input_tokens += s.input;
            total.cached_input_tokens += cached;
            total.output_tokens += s.output;
            total.total_tokens += s.input + s.output;
            if (s.input + s.output > 0 || i === 0) expected += s.input + s.output;
            const line = JSON.stringify({
              timestamp: '2026-05-13T09:01:00Z',
              type: 'event_msg',
              payload: { type: 'token_count', info: { total_token_usage: { ...total }, last_token_usage: null } },
            });
            lines.push(line);
            if (s.repeat) lines.push(line); // re-emitted unchanged
          }
          for (const [i, g] of garbage.entries()) lines.splice(1 + ((positions[i] ?? 0) % lines.length), 0, g);
          assert.equal(ledgerTotals(codex, lines).total, expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
