import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { summaryRange } from '../../src/core/periods';
import { buildReport, type UsageRow } from '../../src/core/report';
import { buildSummary, parseSummaryDocument, weeksOf, type Summary } from '../../src/core/summary';
import { extractDocument, renderSummary } from '../../src/core/summaryRender';
import { signSummary, TOOL_VERSION, verifySummary } from '../../src/services/summary';
import { loadOrCreateSigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const DAY = 86_400_000;
const HOSTILE = '</script><img src=x onerror=alert(1)> --> | *bold* `tick` [link](http://example.invalid)';

/** One shipped session whose commit has a hostile subject and lives in a repository with a hostile name. */
function hostileSummary(estimatedTokens?: number): Summary {
  const at = NOW - 40 * DAY;
  const row: UsageRow = {
    sessionRef: 1, source: 'claude-code', model: 'claude-sonnet-4-5-20250929', priced: true, bucket: Math.floor(at / 900_000),
    firstTs: at, lastTs: at + 60_000, input: 100, output: 2000, cacheRead: 5000, cacheWrite: 300, reasoning: 0, costNano: 12_345_678,
    interactions: 3, unpriced: 0, assumedModel: 0, estimatedTokens: estimatedTokens ?? 0,
  };
  const commit = { id: 10, repo: 1, tasks: ['PAY-1'], pr: 3, authorTime: at + 120_000, kept: 5 };
  const facts = { counted: new Map([[1, [10]]]), commits: new Map([[10, commit]]), successors: [], sessionTasks: new Map<number, string[]>(), now: NOW, durabilityDays: 30 };
  const since = '2026-10-01';
  const until = '2026-10-31';
  const report = buildReport({ rows: [row], statusOf: () => 'shipped', files: [], timeZone: 'UTC', since, until, pricingVersion: 'test-1', outcomes: facts });

  return buildSummary({
    generatedAt: new Date(NOW).toISOString(),
    toolVersion: TOOL_VERSION,
    period: { since, until, timezone: 'UTC' },
    redact: { repos: false, subjects: false },
    report,
    weeks: weeksOf(since, until).map((w) => ({ ...w, report })),
    sessions: [{ ref: 1, id: 'claude-code:5f0c1a2b-0000-4000-8000-000000000001', source: 'claude-code', status: 'shipped', tokens: 7400, costNano: 12_345_678, models: [row.model], branchTasks: [], counted: [10] }],
    commits: new Map([[10, { ...commit, sha: 'a'.repeat(40), repoRoot: `/work/${HOSTILE.replace(/\//g, '')}`, subject: HOSTILE }]]),
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
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
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
    assert.equal(t.outcomes[0]?.commits[0]?.sha, 'aaaaaaa');
    assert.deepEqual(s.trend.map((w) => w.since), ['2026-10-01', '2026-10-08', '2026-10-15', '2026-10-22', '2026-10-29']);
    assert.equal(s.trend.at(-1)?.until, '2026-10-31');
    assert.equal(s.period.days, 31);
  });

  it('marks tokens a tool estimated with ≈ and says so under coverage', () => {
    const doc = signSummary(hostileSummary(400), loadOrCreateSigningKey(tempDir()));
    assert.equal(doc.summary.totals.estimatedTokens, 400);
    assert.equal(doc.summary.coverage.sources[0]?.tokenAccuracy, 'mixed');
    assert.ok(doc.summary.coverage.estimates.some((e) => /400 of the 7,?400 tokens were estimated by their tool/.test(e)));
    const md = renderSummary(doc, 'md');
    assert.match(md, /\| Tokens \| ≈ 7,400 \(400 of them estimated by their tool\) \|/);
    assert.match(md, /Figures marked ≈ are estimates: costs at list price \(price table test-1\), and tokens a tool estimated/);
    assert.deepEqual(doc.summary.tasks.map((t) => [t.task, t.tokens, t.estimatedTokens]), [['PAY-1', 7400, 400]]);
    assert.match(md, /^≈ 7,400 tokens · /m, 'the task\'s tokens are marked');
    assert.match(renderSummary(doc, 'html'), /<p>≈ 7,400 tokens · /);
    for (const format of ['md', 'html', 'json'] as const) assert.deepEqual(verifySummary(renderSummary(doc, format)).problems, [], format);
    const exact = signSummary(hostileSummary(), loadOrCreateSigningKey(tempDir()));
    assert.deepEqual([exact.summary.totals.estimatedTokens, exact.summary.totals.tokenAccuracy], [0, 'exact']);
    assert.match(renderSummary(exact, 'md'), /\| Tokens \| 7,400 \|/, 'exact tokens are not marked');
    assert.equal(exact.summary.tasks[0]?.estimatedTokens, undefined);
    assert.match(renderSummary(exact, 'md'), /^7,400 tokens · /m);
  });

  it('refuses what is not a summary, names an unknown version and the first wrong fields', () => {
    assert.match((parseSummaryDocument([]) as { reason: string }).reason, /not hold a JSON object/);
    assert.match((parseSummaryDocument({ format: 'x' }) as { reason: string }).reason, /not an Outcome Ledger summary/);
    assert.match((parseSummaryDocument({ format: 'outcome-ledger/summary', version: 7 }) as { reason: string }).reason, /version 7 was written by a newer Outcome Ledger/);
    assert.match((parseSummaryDocument({ format: 'outcome-ledger/summary', version: 0 }) as { reason: string }).reason, /unknown summary version 0/);
    const doc = signSummary(hostileSummary(), loadOrCreateSigningKey(tempDir()));
    const extra = { ...doc, summary: { ...doc.summary, bonus: 1 } };
    assert.match((parseSummaryDocument(extra) as { reason: string }).reason, /does not follow the summary schema/);
  });
});

describe('summary periods', () => {
  it('last 30 days, this quarter and last quarter end where the user expects', () => {
    assert.deepEqual(summaryRange('last30', '2026-11-25'), { since: '2026-10-27', until: '2026-11-25' });
    assert.deepEqual(summaryRange('thisQuarter', '2026-11-25'), { since: '2026-10-01', until: '2026-11-25' });
    assert.deepEqual(summaryRange('lastQuarter', '2026-11-25'), { since: '2026-07-01', until: '2026-09-30' });
    assert.deepEqual(summaryRange('lastQuarter', '2026-02-10'), { since: '2025-10-01', until: '2025-12-31' });
    assert.deepEqual(summaryRange('custom', '2026-11-25', { since: '2026-03-01', until: '2026-03-31' }), { since: '2026-03-01', until: '2026-03-31' });
    assert.throws(() => summaryRange('custom', '2026-11-25', { since: '2026-03-31', until: '2026-03-01' }), /starts after it ends/);
  });
});
