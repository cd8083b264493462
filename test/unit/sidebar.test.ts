import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PeriodError, resolvePeriod } from '../../src/core/usage/periods';
import { ago, describeChange, formatFigure, niceMax, rangeLabel } from '../../src/core/sidebar/format';
import { DEFAULT_QUERY, parseViewMessage, type Figure, type SidebarQuery } from '../../src/core/sidebar/protocol';
import { localDate } from '../../src/core/usage/time';
import { buildHeavyLedger } from '../../src/demo/heavyLedger';
import { linksOf, listSessions, report, usageRows, bucketsOf } from '../../src/services/queries';
import { LOW_CONFIDENCE, sidebarSnapshot, type SidebarInput } from '../../src/services/sidebar';
import { Ledger } from '../../src/store/ledger';
import { periodRange } from '../../src/core/usage/time';
import { tempDir } from '../helpers';

describe('sidebar periods', () => {
  it('resolves each period and the same-length range before it', () => {
    assert.deepEqual(resolvePeriod('today', '2026-03-10'), {
      kind: 'today',
      since: '2026-03-10',
      until: '2026-03-10',
      days: 1,
      previous: { since: '2026-03-09', until: '2026-03-09' },
    });
    assert.deepEqual(resolvePeriod('7d', '2026-03-10').previous, { since: '2026-02-25', until: '2026-03-03' });
    assert.equal(resolvePeriod('30d', '2026-03-10').since, '2026-02-09');
    const q = resolvePeriod('quarter', '2026-05-20');
    assert.equal(q.since, '2026-04-01');
    assert.equal(q.days, 50);
    // A quarter to date is compared with the 50 days before it, not with the whole previous quarter.
    assert.deepEqual(q.previous, { since: '2026-02-10', until: '2026-03-31' });
    assert.equal(resolvePeriod('quarter', '2026-01-01').since, '2026-01-01');
    assert.deepEqual(resolvePeriod('custom', '2026-03-10', { since: '2025-12-30', until: '2026-01-02' }).previous, {
      since: '2025-12-26',
      until: '2025-12-29',
    });
  });

  it('refuses a custom range that is missing, reversed or too long', () => {
    assert.throws(() => resolvePeriod('custom', '2026-03-10'), PeriodError);
    assert.throws(
      () => resolvePeriod('custom', '2026-03-10', { since: '2026-03-05', until: '2026-03-01' }),
      PeriodError,
    );
    assert.throws(
      () => resolvePeriod('custom', '2026-03-10', { since: '2020-01-01', until: '2026-03-01' }),
      PeriodError,
    );
    assert.throws(
      () => resolvePeriod('custom', '2026-03-10', { since: '2026-02-30', until: '2026-03-01' }),
      PeriodError,
    );
  });
});

describe('sidebar formatting', () => {
  const fig = (id: Figure['id'], value: number | null, previous: number | null, better: Figure['better']): Figure => ({
    id,
    label: id,
    value,
    previous,
    better,
    coverage: { level: 'complete', note: '' },
  });

  it('never shows more tokens or dollars as better or worse: only value ratios have a direction', () => {
    assert.equal(describeChange(fig('tokens', 2_000_000, 1_000_000, 'neutral')).tone, 'neutral');
    assert.equal(describeChange(fig('cost', 1, 3, 'neutral')).tone, 'neutral');
    assert.equal(describeChange(fig('commits', 9, 3, 'neutral')).tone, 'neutral');
    const y = describeChange(fig('yield', 0.62, 0.58, 'higher'));
    assert.equal(y.tone, 'better');
    assert.equal(y.text, '▲ 4.0 pts · was 58.0%');
    assert.match(y.spoken, /^up 4\.0 pts from 58\.0% in the previous period, better$/);
    const t = describeChange(fig('tokensPerCommit', 150_000, 100_000, 'lower'));
    assert.equal(t.tone, 'worse');
    assert.equal(t.text, '▲ 50% · was 100.0k');
    assert.equal(describeChange(fig('withoutOutcome', 10, 10, 'lower')).text, 'unchanged');
    assert.equal(describeChange(fig('tokens', 10, null, 'neutral')).tone, 'none');
  });

  it('writes figures, ranges, ages and axis maxima the way the view shows them', () => {
    assert.equal(formatFigure('tokens', 1_234_567), '1.2M');
    assert.equal(formatFigure('yield', 0.8249), '82.5%');
    assert.equal(formatFigure('keptPer1k', null), '—');
    assert.equal(formatFigure('cost', 1.444), '$1.44');
    assert.equal(rangeLabel({ since: '2026-11-19', until: '2026-11-25' }), 'Nov 19 – 25');
    assert.equal(rangeLabel({ since: '2026-11-28', until: '2026-12-04' }), 'Nov 28 – Dec 4');
    assert.equal(rangeLabel({ since: '2025-12-28', until: '2026-01-03' }), 'Dec 28, 2025 – Jan 3, 2026');
    const now = Date.parse('2026-11-25T12:00:00Z');
    assert.equal(ago('2026-11-25T11:58:00Z', now), '2 min ago');
    assert.equal(ago('2026-11-24T10:00:00Z', now), 'yesterday');
    assert.equal(ago(null, now), 'never');
    assert.deepEqual([0, 7, 10, 11, 240_000, 2_600_000].map(niceMax), [1, 10, 10, 20, 250_000, 5_000_000]);
  });
});

describe('sidebar protocol', () => {
  it('accepts the messages the view sends and nothing else', () => {
    assert.deepEqual(parseViewMessage({ type: 'view/ready', protocol: 1, query: DEFAULT_QUERY }), {
      type: 'view/ready',
      protocol: 1,
      query: DEFAULT_QUERY,
    });
    assert.ok(parseViewMessage({ type: 'link/confirm', sessionId: 'claude-code:abc', sha: 'deadbeef' }));
    assert.ok(parseViewMessage({ type: 'session/label', sessionId: 'codex:x', label: 'none' }));
    for (const bad of [
      null,
      'view/ready',
      { type: 'view/eval', code: '1' },
      { type: 'link/confirm', sessionId: 'claude-code:abc', sha: 'not-a-sha; rm -rf /' },
      { type: 'session/label', sessionId: 'x', label: 'shipped' },
      { type: 'command/run', command: 'workbench.action.terminal.new' },
      { type: 'view/query', query: { ...DEFAULT_QUERY, period: 'year' } },
      { type: 'view/query', query: { ...DEFAULT_QUERY, decisions: 10_000 } },
      { type: 'view/query', query: { ...DEFAULT_QUERY, since: '2026-1-1' } },
      { type: 'session/open', sessionId: 'x'.repeat(5000) },
    ]) {
      assert.equal(parseViewMessage(bad), undefined, JSON.stringify(bad)?.slice(0, 80));
    }
  });
});

describe('sidebar snapshot', function () {
  this.timeout(60_000);
  let dir: string;
  let ledger: Ledger;
  const now = Date.parse('2026-06-15T12:00:00Z');
  const input = (query: Partial<SidebarQuery> = {}): SidebarInput => ({
    timeZone: 'UTC',
    now,
    query: { ...DEFAULT_QUERY, ...query },
    health: { ledgerFile: ledger.paths.file, env: { HOME: dir } },
  });

  before(async () => {
    dir = tempDir('ol-sidebar-');
    ledger = await Ledger.open(path.join(dir, 'ledger'));
    await buildHeavyLedger(ledger, {
      sessions: 400,
      interactions: 12_000,
      days: 120,
      end: now - 3_600_000,
      root: path.join(dir, 'repos'),
    });
  });

  after(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows the same figures as `report` for the period, and for the period before it', () => {
    for (const period of ['today', '7d', '30d', 'quarter'] as const) {
      const s = sidebarSnapshot(ledger.database, input({ period }));
      const cur = report(ledger.database, { timeZone: 'UTC', since: s.period.since, until: s.period.until, now });
      const prev = report(ledger.database, {
        timeZone: 'UTC',
        since: s.period.previous.since,
        until: s.period.previous.until,
        now,
      });
      const v = (id: Figure['id']): Figure | undefined => s.figures.find((f) => f.id === id);
      assert.equal(v('tokens')?.value, cur.totals.total, period);
      assert.equal(v('cost')?.value, cur.totals.costUSD);
      assert.equal(v('commits')?.value, cur.outcomes.commits);
      assert.equal(v('tasks')?.value, cur.outcomes.tasks);
      assert.equal(v('prs')?.value, cur.outcomes.prs);
      assert.equal(v('yield')?.value, cur.outcomes.yield);
      assert.equal(v('tokensPerCommit')?.value, cur.outcomes.tokensPerCommit);
      assert.equal(v('keptPer1k')?.value, cur.outcomes.keptLinesPer1kOutput);
      assert.equal(v('withoutOutcome')?.value, cur.outcomes.tokensWithoutOutcome);
      assert.equal(v('tokens')?.previous, prev.totals.interactions > 0 ? prev.totals.total : null);
      assert.equal(v('yield')?.previous, prev.totals.interactions > 0 ? prev.outcomes.yield : null);
      // The chart splits the same tokens by what became of their sessions.
      assert.equal(
        s.chart.bars.reduce((n, b) => n + b.shipped + b.open + b.without, 0),
        cur.totals.total,
      );
      assert.equal(s.chart.bars.length, s.period.days);
      assert.equal(s.selfCheck.tokens, cur.totals.total);
    }
  });

  it('draws long ranges per week, and falls back to 7 days (saying so) for a bad custom range', () => {
    const year = sidebarSnapshot(
      ledger.database,
      input({ period: 'custom', since: '2026-01-01', until: '2026-06-15' }),
    );
    assert.equal(year.chart.unit, 'week');
    assert.equal(year.chart.bars.length, Math.ceil(year.period.days / 7));
    const bad = sidebarSnapshot(ledger.database, input({ period: 'custom', since: '2026-06-10', until: '2026-06-01' }));
    assert.equal(bad.period.kind, '7d');
    assert.match(bad.notice ?? '', /starts after it ends/);
  });

  it('filters by repository and by task with values it offers', () => {
    const all = sidebarSnapshot(ledger.database, input({ period: '30d' }));
    const repo = all.scopes.repos[0];
    assert.ok(repo && repo.value.startsWith('repo:'));
    const scoped = sidebarSnapshot(ledger.database, input({ period: '30d', scope: repo.value }));
    const { from, to } = periodRange('UTC', all.period.since, all.period.until);
    const refs = new Set(
      (ledger.database.exec('SELECT id FROM sessions WHERE repo = ?', [repo.value.slice(5)])[0]?.values ?? []).map(
        (r) => Number(r[0]),
      ),
    );
    const expected = usageRows(ledger.database, bucketsOf({ from, to }))
      .filter((r) => refs.has(r.sessionRef))
      .reduce((n, r) => n + r.input + r.output + r.cacheRead + r.cacheWrite, 0);
    assert.equal(scoped.figures.find((f) => f.id === 'tokens')?.value, expected);
    assert.ok(expected < (all.figures.find((f) => f.id === 'tokens')?.value ?? 0));
    const task = all.scopes.tasks[0];
    assert.ok(task);
    const byTask = sidebarSnapshot(ledger.database, input({ period: '30d', scope: task.value }));
    assert.ok(byTask.tasks.rows.some((t) => `task:${t.task}` === task.value));
    assert.equal(
      sidebarSnapshot(ledger.database, input({ scope: 'repo:/nowhere' })).notice,
      'That repository has no sessions in the ledger: showing everything.',
    );
  });

  it('lists the sessions needing a decision, costliest first, with their best candidate', () => {
    const s = sidebarSnapshot(ledger.database, input({ period: '30d', decisions: 200 }));
    assert.ok(s.decisions.total > 0 && s.decisions.rows.length === Math.min(200, s.decisions.total));
    const tokens = s.decisions.rows.map((r) => r.tokens);
    const sessions = new Map(
      listSessions(ledger.database, { timeZone: 'UTC', since: s.period.since, until: s.period.until, now }).map((x) => [
        x.id,
        x,
      ]),
    );
    for (const r of s.decisions.rows) {
      const x = sessions.get(r.sessionId);
      assert.ok(x, r.sessionId);
      assert.equal(r.status, x.status);
      assert.ok(
        !['exploration', 'learning', 'review', 'abandoned'].includes(x.status),
        'a labelled session is decided',
      );
      if (r.reason === 'unlinked') assert.equal(x.status, 'unlinked');
      if (r.reason === 'low-confidence')
        assert.ok(x.links.some((l) => l.counted && l.state === 'auto' && l.confidence < LOW_CONFIDENCE));
      if (r.candidate) assert.notEqual(r.candidate.state, 'rejected');
      assert.equal(r.rejected, x.links.filter((l) => l.state === 'rejected').length);
    }
    // Costliest first (whole-session tokens).
    assert.ok(tokens.length > 1);
    assert.deepEqual(
      tokens,
      [...tokens].sort((a, b) => b - a),
    );
    for (const r of s.decisions.rows) assert.equal(r.tokens, sessions.get(r.sessionId)?.tokens.total);
    const unlinked = [...sessions.values()].filter((x) => x.status === 'unlinked').length;
    assert.ok(s.decisions.total >= unlinked);
    const limited = sidebarSnapshot(ledger.database, input({ period: '30d', decisions: 3 }));
    assert.equal(limited.decisions.rows.length, 3);
    assert.equal(limited.decisions.total, s.decisions.total);
    const withCandidate = s.decisions.rows.find((r) => r.candidate);
    assert.ok(withCandidate);
    const ref = Number(
      ledger.database.exec("SELECT id FROM sessions WHERE source || ':' || session_key = ?", [
        withCandidate.sessionId,
      ])[0]?.values[0]?.[0],
    );
    assert.equal(
      linksOf(ledger.database, [ref])
        .get(ref)
        ?.find((l) => l.state !== 'rejected')?.commit,
      withCandidate.candidate?.sha,
    );
  });

  it('gives every task its cost, tokens, commits and PRs', () => {
    const s = sidebarSnapshot(ledger.database, input({ period: 'quarter' }));
    const cur = report(ledger.database, { timeZone: 'UTC', since: s.period.since, until: s.period.until, now });
    assert.equal(s.tasks.total, cur.outcomes.byTask.length);
    for (const t of s.tasks.rows) {
      const r = cur.outcomes.byTask.find((x) => x.task === t.task);
      assert.equal(t.tokens, r?.tokens);
      assert.equal(t.costUSD, r?.costUSD);
      assert.ok(t.commits.length <= 5);
      for (const c of t.commits) assert.match(c.sha, /^[0-9a-f]{40}$/);
    }
    assert.ok(
      s.tasks.rows.some((t) => t.prs.length > 0),
      'landed PRs are listed',
    );
  });

  it('says what a figure covers: partial while sessions are open or commits are too young to judge', () => {
    const s = sidebarSnapshot(ledger.database, input({ period: '7d' }));
    const kept = s.figures.find((f) => f.id === 'keptPer1k');
    assert.notEqual(kept?.coverage.level, 'complete', 'commits of the last 7 days are younger than 30 days');
    assert.match(s.figures.find((f) => f.id === 'cost')?.coverage.note ?? '', /List-price estimate \(prices /);
    assert.equal(s.empty, false);
  });

  it('shows the plan cost (amortised) beside the list-price estimate, as `report --plan` computes it', () => {
    const plan = { name: 'claude-max-5x' as const, monthlyUsd: 100 };
    const s = sidebarSnapshot(ledger.database, { ...input({ period: '30d' }), plan });
    const cur = report(ledger.database, { timeZone: 'UTC', since: s.period.since, until: s.period.until, now, plan });
    const tile = s.figures.find((f) => f.id === 'planCost');
    assert.equal(tile?.label, 'Plan cost (amortised)');
    assert.equal(tile?.value, cur.planCost?.periodUsd);
    assert.equal(cur.planCost?.days, 30);
    assert.ok(Math.abs((tile?.value ?? 0) - (100 * 30) / 30.4) < 1e-6);
    assert.match(
      tile?.coverage.note ?? '',
      /Claude Max 5x at \$100\.00\/month over 30 days .*beside the list-price estimate \(Est\. cost\), not instead of it/,
    );
    assert.equal(s.figures.find((f) => f.id === 'cost')?.value, cur.totals.costUSD, 'the list-price estimate stays');
    assert.equal(
      sidebarSnapshot(ledger.database, input({ period: '30d' })).figures.find((f) => f.id === 'planCost'),
      undefined,
      'no plan, no tile',
    );
  });

  it('knows an empty ledger, and where it looked for logs', async () => {
    const home = tempDir('ol-sidebar-empty-');
    const empty = await Ledger.open(path.join(home, 'ledger'));
    try {
      const s = sidebarSnapshot(empty.database, {
        timeZone: 'UTC',
        now,
        query: DEFAULT_QUERY,
        health: { ledgerFile: empty.paths.file, env: { HOME: home } },
      });
      assert.equal(s.empty, true);
      assert.equal(s.figures.find((f) => f.id === 'tokens')?.value, 0);
      assert.equal(s.figures.find((f) => f.id === 'yield')?.value, null);
      assert.equal(s.figures.find((f) => f.id === 'tokens')?.coverage.level, 'none');
      const claude = s.health.sources.find((x) => x.source === 'claude-code');
      assert.equal(claude?.found, false);
      assert.ok(
        claude?.roots.every((r) => r.path.startsWith('~/')),
        JSON.stringify(claude?.roots),
      );
      assert.equal(localDate('UTC', now), s.period.until);
    } finally {
      empty.close();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
