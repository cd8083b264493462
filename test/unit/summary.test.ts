import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { summaryRange } from '../../src/core/usage/periods';
import { buildReport, type UsageRow } from '../../src/core/outcomes/report';
import { buildSummary, weeksOf } from '../../src/core/summary/build';
import { parseSummaryDocument, type Summary } from '../../src/core/summary/schema';
import { extractDocument, renderSummary, sessionNamer } from '../../src/core/summary/render';
import { citedId, filesDigest, signSummary, TOOL_VERSION, verifySummary } from '../../src/services/summary';
import { loadOrCreateSigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const DAY = 86_400_000;
const HOSTILE = '</script><img src=x onerror=alert(1)> --> | *bold* `tick` [link](http://example.invalid)';

/** One shipped session whose commit has a hostile subject and lives in a repository with a hostile name. */
function hostileSummary(estimatedTokens?: number, status: 'shipped' | 'unlinked' | 'open' = 'shipped'): Summary {
  const at = NOW - 40 * DAY;
  const row: UsageRow = {
    sessionRef: 1,
    source: 'claude-code',
    model: 'claude-sonnet-4-5-20250929',
    priced: true,
    bucket: Math.floor(at / 900_000),
    firstTs: at,
    lastTs: at + 60_000,
    input: 100,
    output: 2000,
    cacheRead: 5000,
    cacheWrite: 300,
    reasoning: 0,
    costNano: 12_345_678,
    interactions: 3,
    unpriced: 0,
    assumedModel: 0,
    estimatedTokens: estimatedTokens ?? 0,
  };
  const commit = { id: 10, repo: 1, tasks: ['PAY-1'], pr: 3, authorTime: at + 120_000, kept: 5 };
  const facts = {
    counted: new Map([[1, [10]]]),
    commits: new Map([[10, commit]]),
    successors: [],
    sessionTasks: new Map<number, string[]>(),
    now: NOW,
    durabilityDays: 30,
  };
  const since = '2026-10-01';
  const until = '2026-10-31';
  const report = buildReport({
    rows: [row],
    statusOf: () => status,
    files: [],
    timeZone: 'UTC',
    since,
    until,
    pricingVersion: 'test-1',
    outcomes: facts,
  });
  // The weeks add up to the period: the session's week has its figures, the others none.
  const weekOf = (w: { since: string; until: string }) =>
    Date.parse(`${w.since}T00:00:00Z`) <= at && at < Date.parse(`${w.until}T00:00:00Z`) + DAY
      ? report
      : buildReport({
          rows: [],
          statusOf: () => status,
          files: [],
          timeZone: 'UTC',
          since: w.since,
          until: w.until,
          pricingVersion: 'test-1',
          outcomes: facts,
        });

  return buildSummary({
    generatedAt: new Date(NOW).toISOString(),
    toolVersion: TOOL_VERSION,
    period: { since, until, timezone: 'UTC' },
    redact: { repos: false, subjects: false },
    report,
    weeks: weeksOf(since, until).map((w) => ({ ...w, report: weekOf(w) })),
    sessions: [
      {
        ref: 1,
        id: 'claude-code:5f0c1a2b-0000-4000-8000-000000000001',
        ledgerId: 'claude-code:5f0c1a2b-0000-4000-8000-000000000001',
        source: 'claude-code',
        status,
        tokens: 7400,
        estimatedTokens: estimatedTokens ?? 0,
        costNano: 12_345_678,
        models: [row.model],
        branchTasks: [],
        counted: status === 'shipped' ? [10] : [],
      },
    ],
    commits: new Map([
      [
        10,
        {
          ...commit,
          sha: 'a'.repeat(40),
          repoRoot: `/work/${HOSTILE.replace(/\//g, '')}`,
          subject: HOSTILE,
          files: filesDigest(['src/pay.ts']),
        },
      ],
    ]),
    successors: [],
    links: new Map([['1:10', { kinds: ['branch', 'trailer'], state: 'auto' }]]),
    now: NOW,
    durabilityDays: 30,
    openWindowHours: 24,
    gaps: [],
    records: { algorithm: 'sha256', digest: 'b'.repeat(64), interactions: 3, sessions: 1, links: 1, commits: 1 },
  });
}

describe('outcome summary (core)', () => {
  it('names the same version as package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    assert.equal(TOOL_VERSION, pkg.version);
  });

  it('renders hostile subjects and repository names as text, and the file still verifies', () => {
    const doc = signSummary(hostileSummary(), loadOrCreateSigningKey(tempDir()));
    assert.equal(doc.summary.tasks[0]?.outcomes[0]?.commits[0]?.subject, HOSTILE);
    const html = renderSummary(doc, 'html');
    assert.ok(!/<img|<\/script><img/i.test(html), 'no tag from a subject reaches the HTML');
    assert.equal(html.match(/<script/g)?.length, 1, 'one script element: the JSON data block');
    assert.ok(!/href=/.test(html), 'a link in a subject is not a link');
    const md = renderSummary(doc, 'md');
    assert.ok(!/(^|[^\\])<img/.test(md), 'Markdown escapes the tag');
    assert.equal(md.match(/-->/g)?.length, 1, 'only the data block closes an HTML comment');
    for (const format of ['md', 'html', 'json'] as const) {
      const text = renderSummary(doc, format);
      assert.equal(renderSummary(doc, format), text, 'rendering is deterministic');
      const ex = extractDocument(text);
      assert.ok(ex.ok && ex.format === format);
      assert.deepEqual(verifySummary(text).problems, [], format);
    }
  });

  it('groups outcomes by task with their citations and evidence, and counts kept lines once old enough', () => {
    const s = hostileSummary();
    assert.equal(s.tasks.length, 1);
    const t = s.tasks[0]!;
    assert.equal(t.task, 'PAY-1');
    assert.deepEqual(t.outcomes[0]?.sessions, ['claude-code:5f0c1a2b-0000-4000-8000-000000000001']);
    assert.deepEqual(t.outcomes[0]?.evidence, ['branch', 'trailer']);
    assert.equal(t.outcomes[0]?.keptLines, 5);
    // The signed data cites the full SHA (for verify --repo), the author time and the changed files; the text shows 7 digits.
    assert.equal(t.outcomes[0]?.commits[0]?.sha, 'a'.repeat(40));
    assert.equal(t.outcomes[0]?.commits[0]?.authoredAt, '2026-10-16T12:02:00Z');
    assert.deepEqual(t.outcomes[0]?.commits[0]?.files, filesDigest(['src/pay.ts']));
    const md = renderSummary(signSummary(s, loadOrCreateSigningKey(tempDir())), 'md');
    assert.match(md, /`aaaaaaa` 2026-10-16/);
    assert.ok(
      !md.split('<!-- outcome-ledger-summary')[0]!.includes('a'.repeat(8)),
      'the visible text shows the short SHA',
    );
    assert.deepEqual(
      s.trend.map((w) => w.since),
      ['2026-10-01', '2026-10-08', '2026-10-15', '2026-10-22', '2026-10-29'],
    );
    assert.equal(s.trend.at(-1)?.until, '2026-10-31');
    assert.equal(s.period.days, 31);
  });

  it('marks tokens a tool estimated with ≈ and says so under coverage', () => {
    const doc = signSummary(hostileSummary(400), loadOrCreateSigningKey(tempDir()));
    assert.equal(doc.summary.totals.estimatedTokens, 400);
    assert.equal(doc.summary.coverage.sources[0]?.tokenAccuracy, 'mixed');
    assert.ok(
      doc.summary.coverage.estimates.some((e) =>
        /400 of the 7,400 tokens were estimated, not reported exactly \(claude-code: 400, counted from text or rounded by the tool\)/.test(
          e,
        ),
      ),
    );
    const md = renderSummary(doc, 'md');
    assert.match(md, /\| Tokens \| ≈ 7,400 \(400 of them estimated, not reported by their tool\) \|/);
    assert.match(
      md,
      /Figures marked ≈ are estimates: costs at list price \(price table test-1\), and token figures that include tokens estimated/,
    );
    // Everywhere the estimated tokens are part of a figure: the task, its per-commit and per-task figures, each week.
    assert.equal(doc.summary.tasks[0]?.estimatedTokens, 400);
    assert.ok(doc.summary.trend.some((w) => w.estimatedTokens === 400));
    assert.match(md, /^≈ 7,400 tokens · ≈ \$0\.01/m, 'the task line');
    assert.match(md, /\| Tokens per commit \| ≈ 7,400 \(median ≈ 7,400\) \|/);
    assert.match(md, /\| Tokens per task \| ≈ 7,400 /);
    assert.match(
      md.split('\n').find((l) => l.startsWith('| 2026-10-15')) ?? md,
      /\| 2026-10-15 – 2026-10-21 \| ≈ 7,400 \| ≈ \$0\.01 \| 1 \| 1 \| 100\.0% \| ≈ 7,400 · ≈ \$0\.01 \| ≈ 7,400 · ≈ \$0\.01 \| 0 \|/,
      'a week of the trend',
    );
    const html = renderSummary(doc, 'html');
    assert.match(html, /<p>≈ 7,400 tokens · ≈ \$0\.01/);
    assert.match(html, /<td[^>]*>≈ 7,400<\/td>/);
    for (const format of ['md', 'html', 'json'] as const)
      assert.deepEqual(verifySummary(renderSummary(doc, format)).problems, [], format);
    const exact = signSummary(hostileSummary(), loadOrCreateSigningKey(tempDir()));
    assert.deepEqual([exact.summary.totals.estimatedTokens, exact.summary.totals.tokenAccuracy], [0, 'exact']);
    assert.match(renderSummary(exact, 'md'), /\| Tokens \| 7,400 \|/, 'exact tokens are not marked');
    assert.doesNotMatch(renderSummary(exact, 'md'), /≈ \d/, 'no token figure is marked when all were reported');
  });

  it('marks tokens without outcome that include estimates, in the group, the open sessions and the headline', () => {
    const doc = signSummary(hostileSummary(400, 'unlinked'), loadOrCreateSigningKey(tempDir()));
    assert.equal(doc.summary.withoutOutcome.estimatedTokens, 400);
    const md = renderSummary(doc, 'md');
    assert.match(md, /\| Tokens without outcome \| ≈ 7,400 /);
    assert.match(md, /^≈ 7,400 tokens \(100\.0% of all/m);
    assert.match(md, /\| Unlinked \(no commit found, not labelled\) \| 1 \| ≈ 7,400 \|/);
    const open = signSummary(hostileSummary(400, 'open'), loadOrCreateSigningKey(tempDir()));
    assert.match(renderSummary(open, 'md'), /Open \(may still lead to a commit\): 1 session, ≈ 7,400 tokens/);
    assert.ok(
      open.summary.coverage.estimates.some((e) => /^1 session ended less than 24 hours/.test(e)),
      'one session, not "1 sessions"',
    );
  });

  it('cites sessions by names that stay distinct when their ids share a prefix, and never by a key that holds a path', () => {
    const doc = signSummary(hostileSummary(), loadOrCreateSigningKey(tempDir()));
    const twins = ['codex:01a1e5a9-09b7-7ac7-80c0-83e025c70f1e', 'codex:01a1e5a9-1111-7ac7-80c0-83e025c70f1e'];
    doc.summary.withoutOutcome.groups = [{ status: 'unlinked', sessions: 2, tokens: 0, costUSD: 0, sessionIds: twins }];
    const name = sessionNamer(doc.summary);
    assert.deepEqual(twins.map(name), ['codex:01a1e5a9-0', 'codex:01a1e5a9-1']);
    assert.equal(
      name('claude-code:5f0c1a2b-0000-4000-8000-000000000001'),
      'claude-code:5f0c1a2b',
      'other tools keep 8 characters',
    );
    // Aider's session key is the chat's start time and working folder: the summary cites a hash of it instead.
    const aider = citedId('aider', '2026-10-02 09:00:00 /home/ana/secret-client/app');
    assert.match(aider, /^aider:#[0-9a-f]{16}$/);
    assert.equal(
      citedId('aider', '2026-10-02 09:00:00 /home/ana/secret-client/app'),
      aider,
      'stable, so verify --ledger recomputes it',
    );
    assert.equal(
      citedId('claude-code', '5f0c1a2b-0000-4000-8000-000000000001'),
      'claude-code:5f0c1a2b-0000-4000-8000-000000000001',
    );
  });

  it('does not call a file from another version "changed" when only the wording of its rendering differs', () => {
    const key = loadOrCreateSigningKey(tempDir());
    const summary = hostileSummary();
    const older = signSummary({ ...summary, tool: { name: 'outcome-ledger', version: '0.0.9' } }, key);
    // What an older renderer might have written: the same signed data, one visible line worded otherwise.
    const md = renderSummary(older, 'md').replace('## At a glance', '## Overview');
    const v = verifySummary(md);
    assert.equal(v.ok, false);
    assert.match(
      v.problems[0] ?? '',
      /differs from what this version \(0\.1\.0\) renders .* exported by Outcome Ledger 0\.0\.9, which may word it differently: check the visible text with version 0\.0\.9/,
    );
    assert.doesNotMatch(v.problems[0] ?? '', /changed after the export/);
    const same = signSummary(summary, key);
    assert.match(
      verifySummary(renderSummary(same, 'md').replace('## At a glance', '## Overview')).problems[0] ?? '',
      /line \d+ of the visible text was changed after the export/,
    );
  });

  it('refuses what is not a summary, names an unknown version and the first wrong fields', () => {
    assert.match((parseSummaryDocument([]) as { reason: string }).reason, /not hold a JSON object/);
    assert.match((parseSummaryDocument({ format: 'x' }) as { reason: string }).reason, /not an Outcome Ledger summary/);
    assert.match(
      (parseSummaryDocument({ format: 'outcome-ledger/summary', version: 7 }) as { reason: string }).reason,
      /version 7 was written by a newer Outcome Ledger/,
    );
    assert.match(
      (parseSummaryDocument({ format: 'outcome-ledger/summary', version: 0 }) as { reason: string }).reason,
      /unknown summary version 0/,
    );
    const doc = signSummary(hostileSummary(), loadOrCreateSigningKey(tempDir()));
    const extra = { ...doc, summary: { ...doc.summary, bonus: 1 } };
    assert.match(
      (parseSummaryDocument(extra) as { reason: string }).reason,
      /does not follow the summary schema \(version 1\): \$\.summary: unexpected field "bonus"/,
    );
    const wrongType = { ...doc, summary: { ...doc.summary, totals: { ...doc.summary.totals, input: '5' } } };
    assert.match(
      (parseSummaryDocument(wrongType) as { reason: string }).reason,
      /\$\.summary\.totals\.input: expected a number/,
    );
  });
});

describe('summary periods', () => {
  it('last 30 days, this quarter and last quarter end where the user expects', () => {
    assert.deepEqual(summaryRange('last30', '2026-11-25'), { since: '2026-10-27', until: '2026-11-25' });
    assert.deepEqual(summaryRange('thisQuarter', '2026-11-25'), { since: '2026-10-01', until: '2026-11-25' });
    assert.deepEqual(summaryRange('lastQuarter', '2026-11-25'), { since: '2026-07-01', until: '2026-09-30' });
    assert.deepEqual(summaryRange('lastQuarter', '2026-02-10'), { since: '2025-10-01', until: '2025-12-31' });
    assert.deepEqual(summaryRange('custom', '2026-11-25', { since: '2026-03-01', until: '2026-03-31' }), {
      since: '2026-03-01',
      until: '2026-03-31',
    });
    assert.throws(
      () => summaryRange('custom', '2026-11-25', { since: '2026-03-31', until: '2026-03-01' }),
      /starts after it ends/,
    );
  });
});
