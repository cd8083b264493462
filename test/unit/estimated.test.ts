import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderReport } from '../../src/cli/render/report';
import { sessionLines } from '../../src/cli/render/sessions';
import { fmtTokensMarked } from '../../src/core/usage/format';
import type { InteractionRecord } from '../../src/core/usage/model';
import { accuracyOf } from '../../src/core/outcomes/report';
import { DEFAULT_QUERY } from '../../src/core/sidebar/protocol';
import { dataHealth } from '../../src/services/health';
import { listSessions, report } from '../../src/services/queries';
import { usageSince } from '../../src/services/meter';
import { sidebarSnapshot } from '../../src/services/sidebar';
import { signSummary, summaryOf } from '../../src/services/summary';
import { renderSummary } from '../../src/core/summary/render';
import { loadOrCreateSigningKey } from '../../src/store/signing';
import { Ledger } from '../../src/store/ledger';
import { RecordWriter } from '../../src/store/records';
import { tempDir } from '../helpers';

const NOW = Date.parse('2026-06-15T12:00:00Z');

function interaction(
  key: string,
  session: string,
  at: number,
  input: number,
  output: number,
  estimated: boolean,
): InteractionRecord {
  return {
    kind: 'interaction',
    key,
    session: { source: 'copilot-chat', sessionId: session },
    timestamp: at,
    model: 'gpt-4.1',
    tokens: { input, output, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    cacheWrite1h: 0,
    sidechain: false,
    ...(estimated ? { estimated: true } : {}),
  };
}

describe('estimated vs exact', function () {
  this.timeout(30_000);
  let dir: string;
  let ledger: Ledger;

  before(async () => {
    dir = tempDir('ol-est-');
    ledger = await Ledger.open(path.join(dir, 'ledger'));
    await ledger.write((db) => {
      const w = new RecordWriter(db, { repoOf: () => null });
      w.add(interaction('copilot-chat:r1', 'exact-only', NOW - 2 * 3_600_000, 1000, 200, false), '/logs/a.json');
      w.add(interaction('copilot-chat:r2', 'mixed', NOW - 3_600_000, 500, 100, false), '/logs/b.json');
      w.add(interaction('copilot-chat:r3', 'mixed', NOW - 3_500_000, 300, 100, true), '/logs/b.json');
      w.add(interaction('copilot-chat:r4', 'estimated-only', NOW - 3_000_000, 40, 60, true), '/logs/c.json');
      w.free();
    });
  });
  after(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('classifies a figure as exact, estimated or mixed', () => {
    assert.equal(accuracyOf(100, 0), 'exact');
    assert.equal(accuracyOf(0, 0), 'exact');
    assert.equal(accuracyOf(100, 100), 'estimated');
    assert.equal(accuracyOf(100, 40), 'mixed');
    assert.equal(fmtTokensMarked(12_345, 'exact'), '12.3k');
    assert.equal(fmtTokensMarked(12_345, 'mixed'), '~12.3k');
    assert.equal(fmtTokensMarked(500, 'estimated'), '~500');
  });

  it('the report carries the estimated part on totals, sources, models, days and coverage, and the text marks it with ~', () => {
    const r = report(ledger.database, { timeZone: 'UTC', now: NOW });
    assert.equal(r.totals.total, 2300);
    assert.equal(r.totals.estimatedTokens, 500);
    assert.equal(r.totals.tokenAccuracy, 'mixed');
    assert.equal(r.bySource[0]?.estimatedTokens, 500);
    assert.equal(r.byModel[0]?.tokenAccuracy, 'mixed');
    assert.equal(r.byDay[0]?.estimatedTokens, 500);
    assert.deepEqual(
      r.coverage.map((c) => [c.source, c.estimatedTokens, c.tokenAccuracy]),
      [['copilot-chat', 500, 'mixed']],
    );
    const text = renderReport(r);
    assert.match(text, /copilot-chat\s+~2,300/);
    assert.match(text, /500 tokens estimated/);
    assert.match(text, /~ marks token figures .*: 500 of 2,300\./);
  });

  it('tokens without outcome say how much of them is estimated: report, its text, the summary (headline, week, status rows)', () => {
    // Two days later: no session is open any more, all three are without outcome.
    const later = NOW + 2 * 86_400_000;
    const r = report(ledger.database, { timeZone: 'UTC', now: later });
    assert.deepEqual([r.outcomes.tokensWithoutOutcome, r.outcomes.estimatedTokensWithoutOutcome], [2300, 500]);
    assert.match(renderReport(r), /~2,300 tokens without outcome/);
    const sum = summaryOf(ledger.database, {
      since: '2026-06-01',
      until: '2026-06-30',
      timeZone: 'UTC',
      now: later,
      env: { HOME: dir },
    });
    assert.equal(sum.withoutOutcome.estimatedTokens, 500);
    assert.deepEqual(
      sum.withoutOutcome.groups.map((g) => [g.status, g.tokens, g.estimatedTokens]),
      [['unlinked', 2300, 500]],
    );
    const week = sum.trend.find((w) => w.tokens > 0);
    assert.equal(week?.estimatedTokens, 500);
    assert.ok(
      sum.trend.filter((w) => w.tokens === 0).every((w) => w.estimatedTokens === undefined),
      'weeks without estimates carry no field',
    );
    const md = renderSummary(signSummary(sum, loadOrCreateSigningKey(path.join(dir, 'key'))), 'md');
    assert.match(md, /\| Tokens without outcome \| ≈ 2,300 \(/);
    assert.match(md, /\| 2026-06-15 – 2026-06-21 \| ≈ 2,300 \| .* \| ≈ 2,300 \|/);
    assert.match(md, /\| Unlinked \(no commit found, not labelled\) \| 3 \| ≈ 2,300 \|/);
    assert.match(md, /^≈ 2,300 tokens \(100\.0% of all/m);
  });

  it('sessions say per session whether their tokens are exact, estimated or mixed', () => {
    const list = listSessions(ledger.database, { timeZone: 'UTC', now: NOW });
    assert.deepEqual(
      list.map((s) => [s.sessionId, s.tokens.total, s.estimatedTokens, s.tokenAccuracy]),
      [
        ['exact-only', 1200, 0, 'exact'],
        ['mixed', 1000, 400, 'mixed'],
        ['estimated-only', 100, 100, 'estimated'],
      ],
    );
    const text = [...sessionLines(list)].join('\n');
    assert.match(text, /~1,000/);
    assert.match(text, /~100/);
    assert.match(text, /~ tokens estimated/);
  });

  it('the sidebar marks the token figures and says how much is estimated; data health names it per source', () => {
    // Two days later: the sessions are no longer open, so they are listed as needing a decision.
    const s = sidebarSnapshot(ledger.database, {
      timeZone: 'UTC',
      now: NOW + 2 * 86_400_000,
      query: { ...DEFAULT_QUERY, period: '7d' },
      health: { ledgerFile: ledger.paths.file, env: { HOME: dir } },
    });
    const tokens = s.figures.find((f) => f.id === 'tokens');
    assert.equal(tokens?.accuracy, 'mixed');
    assert.equal(tokens?.estimatedTokens, 500);
    assert.match(tokens?.coverage.note ?? '', /500 of 2,300 tokens are estimated/);
    assert.equal(s.figures.find((f) => f.id === 'cost')?.accuracy, 'mixed');
    assert.equal(s.figures.find((f) => f.id === 'yield')?.accuracy, undefined, 'a ratio of outcomes is not marked');
    assert.deepEqual(s.decisions.rows.map((d) => [d.sessionId, d.estimated]).sort(), [
      ['copilot-chat:estimated-only', true],
      ['copilot-chat:exact-only', false],
      ['copilot-chat:mixed', true],
    ]);
    const h = dataHealth(ledger.database, ledger.paths.file, { env: { HOME: dir } });
    const copilot = h.sources.find((x) => x.source === 'copilot-chat');
    assert.equal(copilot?.estimatedTokens, 500);
    assert.ok(copilot?.gaps.some((g) => /500 tokens are estimated/.test(g)));
  });

  it("the sidebar's task rows say when some of their tokens were estimated", async () => {
    const other = await Ledger.open(path.join(dir, 'tasks-ledger'));
    try {
      await other.write((db) => {
        const w = new RecordWriter(db, { repoOf: () => null });
        const onBranch = (r: InteractionRecord, branch: string): InteractionRecord => ({
          ...r,
          session: { ...r.session, branch },
        });
        w.add(
          onBranch(interaction('copilot-chat:t1', 'est-task', NOW - 3_600_000, 300, 100, true), 'feature/PAY-9-retry'),
          '/logs/t1.json',
        );
        w.add(
          onBranch(interaction('copilot-chat:t2', 'exact-task', NOW - 3_000_000, 700, 100, false), 'feature/PAY-10'),
          '/logs/t2.json',
        );
        w.free();
      });
      const s = sidebarSnapshot(other.database, {
        timeZone: 'UTC',
        now: NOW + 2 * 86_400_000,
        query: { ...DEFAULT_QUERY, period: '7d' },
        health: { ledgerFile: other.paths.file, env: { HOME: dir } },
      });
      assert.deepEqual(s.tasks.rows.map((t) => [t.task, t.tokens, t.estimated ?? false]).sort(), [
        ['PAY-10', 800, false],
        ['PAY-9', 400, true],
      ]);
    } finally {
      other.close();
    }
  });

  it("the status-bar meter's figure says whether it is exact", async () => {
    const other = await Ledger.open(path.join(dir, 'meter'));
    try {
      await other.write((db) => {
        const w = new RecordWriter(db, { repoOf: (cwd) => cwd });
        const inRepo = (r: InteractionRecord): InteractionRecord => ({
          ...r,
          session: { ...r.session, cwd: '/work/app' },
        });
        w.add(inRepo(interaction('copilot-chat:m1', 'm', NOW - 60_000, 100, 10, false)), '/logs/m.json');
        w.add(inRepo(interaction('copilot-chat:m2', 'm', NOW - 30_000, 50, 5, true)), '/logs/m.json');
        w.free();
      });
      assert.deepEqual(usageSince(other.database, '/work/app', NOW - 120_000), {
        total: 165,
        costUSD: usageSince(other.database, '/work/app', NOW - 120_000).costUSD,
        interactions: 2,
        sessions: 1,
        tokenAccuracy: 'mixed',
      });
      assert.equal(usageSince(other.database, '/work/app', NOW - 45_000).tokenAccuracy, 'estimated');
      assert.equal(usageSince(other.database, '/work/app', NOW - 10_000).tokenAccuracy, 'exact');
    } finally {
      other.close();
    }
  });
});
