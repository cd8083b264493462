import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportJson } from '../../src/core/outcomes/report';
import type { SummaryDocument } from '../../src/core/summary/schema';
import { weeksOf } from '../../src/core/summary/build';
import { utcDay } from '../../src/demo/truth';
import type { SessionJson } from '../../src/services/queries';
import { signSummary } from '../../src/services/summary';
import { loadOrCreateSigningKey } from '../../src/store/signing';
import { launchChromium } from '../chromium';
import { tempDir } from '../helpers';
import { worldSandbox } from './sandbox';
import { assertSignedByOtherKey, cli, type Run } from './cli';

const ARTIFACTS = path.resolve(__dirname, '..', '..', '..', 'test-artifacts');

/**
 * The shareable summary on a real demo world (git repositories + Claude Code and Codex logs), through the bundled CLI:
 * its figures are the ledger's, `verify` accepts what was exported and rejects any change naming it, redaction leaves
 * no repository name or subject behind, and the HTML loads nothing from anywhere.
 */
describe('summary and verify (a demo world, the bundled CLI)', function () {
  this.timeout(180_000);
  const box = worldSandbox('ol-summary-', { seed: 7, copilotSessions: 6 });
  let since: string;
  let until: string;
  const files: Record<'md' | 'html' | 'json', string> = { md: '', html: '', json: '' };
  const period = (): string[] => ['--since', since, '--until', until, '--tz', 'UTC'];
  const run = (args: string[], h = box.ledger): Run => cli([...args, '--home', h], box.env);
  const ok = (r: Run): Run => {
    assert.equal(r.code, 0, r.stderr);
    return r;
  };
  const reportFor = (s: string, u: string, h = box.ledger): ReportJson =>
    JSON.parse(
      ok(
        run(
          ['report', '--json', '--no-import', '--since', s, '--until', u, '--tz', 'UTC', '--durability-days', '7'],
          h,
        ),
      ).stdout,
    ) as ReportJson;
  /** `summary` for the period with the linking of the `before` hook, written to `out`. */
  const summarize = (format: string, out: string, more: string[] = []): Run =>
    run(['summary', ...period(), '--no-import', '--durability-days', '7', '--format', format, ...more, '--out', out]);
  const readDoc = (file: string): SummaryDocument => JSON.parse(fs.readFileSync(file, 'utf8')) as SummaryDocument;

  before(() => {
    ok(run(['import']));
    ok(run(['link', '--durability-days', '7']));
    since = utcDay(box.world.start);
    until = utcDay(box.world.end);
    for (const format of ['md', 'html', 'json'] as const) {
      files[format] = path.join(box.dir, `summary.${format}`);
      const r = ok(summarize(format, files[format]));
      assert.match(r.stderr, new RegExp(`signed with SHA256:`));
    }
  });

  it('has the figures `report --json` gives for the same period, and for each week of the trend', () => {
    const doc = readDoc(files.json);
    const s = doc.summary;
    const r = reportFor(since, until);
    assert.deepEqual(s.totals, r.totals);
    assert.deepEqual(s.bySource, r.bySource);
    assert.deepEqual(s.byModel, r.byModel);
    assert.deepEqual(s.coverage.sources, r.coverage);
    assert.equal(s.pricing.version, r.pricing.version);
    for (const k of Object.keys(s.outcomes) as Array<keyof typeof s.outcomes>)
      assert.deepEqual(s.outcomes[k], r.outcomes[k], `outcomes.${k}`);
    assert.ok(s.outcomes.commits > 5 && s.outcomes.tasks > 3, 'the demo world ships work');
    assert.ok(s.outcomes.keptLines > 0, 'commits older than 7 days have kept lines');
    // Each task's figures are the report's; its cited sessions are as many as the report counts.
    for (const t of s.tasks.filter((x) => x.task !== null)) {
      const fig = r.outcomes.byTask.find((x) => x.task === t.task);
      assert.ok(fig, `task ${t.task} is in the report`);
      assert.deepEqual(
        {
          tokens: t.tokens,
          costUSD: t.costUSD,
          commits: t.commits,
          sessions: t.sessions,
          delivered: t.delivered,
          sources: t.sources,
        },
        {
          tokens: fig.tokens,
          costUSD: fig.costUSD,
          commits: fig.commits,
          sessions: fig.sessions,
          delivered: fig.delivered,
          sources: fig.sources,
        },
        `task ${t.task}`,
      );
      assert.equal(t.citedSessions.length, fig.sessions, `task ${t.task} cites its sessions`);
      assert.equal(t.outcomes.length, fig.commits, `task ${t.task} lists its outcomes`);
    }
    assert.equal(s.tasks.filter((t) => t.delivered && t.task !== null).length, r.outcomes.tasks);
    // The trend: one entry per week, each equal to the report for that week.
    assert.deepEqual(
      s.trend.map((w) => [w.since, w.until]),
      weeksOf(since, until).map((w) => [w.since, w.until]),
    );
    for (const w of s.trend) {
      const wr = reportFor(w.since, w.until);
      assert.deepEqual(
        [
          w.tokens,
          w.costUSD,
          w.commits,
          w.yield,
          w.tokensPerCommit,
          w.costPerCommit,
          w.tokensWithoutOutcome,
          w.tasks,
          w.tokensPerTask,
          w.costPerTask,
        ],
        [
          wr.totals.total,
          wr.totals.costUSD,
          wr.outcomes.commits,
          wr.outcomes.yield,
          wr.outcomes.tokensPerCommit,
          wr.outcomes.costPerCommit,
          wr.outcomes.tokensWithoutOutcome,
          wr.outcomes.tasks,
          wr.outcomes.tokensPerTask,
          wr.outcomes.costPerTask,
        ],
        `week ${w.since}`,
      );
      assert.equal(w.estimatedTokens ?? 0, wr.totals.estimatedTokens, `week ${w.since}: its estimated tokens`);
    }
    // Estimated tokens (older Copilot Chat files in the demo world) are carried wherever they are part of a figure.
    assert.ok(r.totals.estimatedTokens > 0, 'the demo world has estimated tokens');
    assert.ok(s.trend.some((w) => (w.estimatedTokens ?? 0) > 0));
    const estimatedParts =
      s.withoutOutcome.groups.reduce((a, g) => a + (g.estimatedTokens ?? 0), 0) +
      (s.withoutOutcome.open.estimatedTokens ?? 0) +
      s.tasks.reduce((a, t) => a + (t.estimatedTokens ?? 0), 0);
    assert.ok(
      estimatedParts >= r.totals.estimatedTokens,
      'every estimated token is in some task, group or the open sessions',
    );
    // Tokens without outcome: the groups add up to the report's figure.
    assert.equal(
      s.withoutOutcome.groups.reduce((a, g) => a + g.tokens, 0),
      r.outcomes.tokensWithoutOutcome,
    );
    assert.equal(s.withoutOutcome.tokens, r.outcomes.tokensWithoutOutcome);
  });

  it('every outcome cites sessions whose counted links reach its commits, with their evidence kinds', () => {
    const s = readDoc(files.json).summary;
    const sessions = new Map(
      (JSON.parse(ok(run(['sessions', '--json', '--no-import', ...period()])).stdout) as SessionJson[]).map((x) => [
        x.id,
        x,
      ]),
    );
    let checked = 0;
    for (const t of s.tasks) {
      for (const o of t.outcomes) {
        assert.ok(o.sessions.length > 0 && o.evidence.length > 0);
        const reached = o.sessions.flatMap((id) => (sessions.get(id)?.links ?? []).filter((l) => l.counted));
        for (const c of o.commits)
          assert.ok(
            reached.some((l) => l.commit.startsWith(c.sha)),
            `${c.sha} is reached by a counted link of ${o.sessions.join(', ')}`,
          );
        const kinds = new Set(reached.flatMap((l) => l.evidence));
        for (const k of o.evidence) assert.ok(kinds.has(k) || k === 'manual', `evidence ${k} of ${o.commits[0]?.sha}`);
        checked++;
      }
    }
    assert.ok(checked >= s.outcomes.commits);
    for (const g of s.withoutOutcome.groups)
      for (const id of g.sessionIds) assert.equal(sessions.get(id)?.status, g.status, id);
  });

  it('verify accepts the exported Markdown, HTML and JSON, and --ledger recomputes the same figures', () => {
    for (const format of ['md', 'html', 'json'] as const) {
      const r = ok(run(['verify', files[format]]));
      assert.match(r.stdout, /^Verified: /);
      assert.match(
        r.stdout,
        /the signature holds: the signed data has not changed since it was signed by the key SHA256:\S+ \(Ed25519\)/,
      );
      if (format !== 'json') assert.match(r.stdout, /exactly what the signed data renders/);
      assert.match(ok(run(['verify', files[format], '--ledger'])).stdout, /every figure matches the local ledger/);
    }
    assert.match(fs.readFileSync(files.md, 'utf8'), /^# Outcome summary: /);
    assert.equal(readDoc(files.json).signature.fingerprint, loadOrCreateSigningKey(box.ledger).fingerprint);
  });

  it('verify rejects the JSON after any figure, citation or the signature changed, naming what is wrong', () => {
    const original = readDoc(files.json);
    const tamper = (name: string, edit: (d: SummaryDocument) => void, expected: RegExp): void => {
      const d = structuredClone(original);
      edit(d);
      const f = path.join(box.dir, `tampered-${name}.json`);
      fs.writeFileSync(f, JSON.stringify(d, null, 2));
      const r = run(['verify', f]);
      assert.equal(r.code, 1, `${name}: ${r.stdout}`);
      assert.match(r.stderr, /^Not verified: /, name);
      assert.match(r.stderr, expected, name);
    };
    tamper(
      'total',
      (d) => void (d.summary.totals.total += 1),
      /✗ the total tokens in the totals \(totals\.total\) changed after the export/,
    );
    tamper(
      'cost',
      (d) => void (d.summary.totals.costUSD /= 2),
      /✗ the estimated cost in the totals \(totals\.costUSD\) changed after the export/,
    );
    tamper(
      'yield',
      (d) => void (d.summary.outcomes.yield = 0.99),
      /✗ the yield \(outcomes\.yield\) changed after the export/,
    );
    tamper(
      'added-figure',
      (d) => void ((d.summary.outcomes as Record<string, unknown>).bonus = 1),
      /does not follow the summary schema/,
    );
    tamper(
      'task-tokens',
      (d) => void (d.summary.tasks[0]!.tokens -= 1000),
      new RegExp(`✗ the figures or citations of task ${original.summary.tasks[0]!.task} \\(tasks\\[0\\]\\) changed`),
    );
    tamper(
      'citation',
      (d) => void (d.summary.tasks[0]!.outcomes[0]!.sessions[0] = 'claude-code:00000000-0000-4000-8000-000000000000'),
      /tasks\[0\]\) changed after the export/,
    );
    tamper(
      'evidence',
      (d) => void d.summary.tasks[0]!.outcomes[0]!.evidence.push('manual'),
      /tasks\[0\]\) changed after the export/,
    );
    tamper('week', (d) => void (d.summary.trend[0]!.commits += 1), /the figures of the week .* \(trend\[0\]\) changed/);
    tamper(
      'dropped-task',
      (d) => void d.summary.tasks.pop(),
      /the list of tasks \(tasks\) changed|was removed after the export/,
    );
    tamper(
      'signature',
      (d) =>
        void (d.signature.value = `${d.signature.value.slice(0, 10)}${d.signature.value[10] === 'A' ? 'B' : 'A'}${d.signature.value.slice(11)}`),
      /✗ the signature does not hold: the signature does not match the content/,
    );
    tamper('manifest', (d) => void (d.manifest.totals = '0'.repeat(64)), /✗ the signature does not hold/);
    const other = loadOrCreateSigningKey(tempDir());
    tamper(
      'other-key',
      (d) => void (d.signature.publicKey = other.publicKey),
      /fingerprint .* does not belong to the embedded public key/,
    );
    // An edited copy re-signed with someone else's key verifies as theirs; --key holds it to the engineer's key.
    const resigned = structuredClone(original);
    resigned.summary.totals.costUSD = 0.01;
    const forged = signSummary(resigned.summary, other);
    const forgedFile = path.join(box.dir, 'resigned.json');
    fs.writeFileSync(forgedFile, JSON.stringify(forged));
    // Their signature holds, but the edited cost no longer adds up from the tools and models the file lists.
    const inconsistent = run(['verify', forgedFile]);
    assert.equal(inconsistent.code, 1);
    assert.match(
      inconsistent.stderr,
      new RegExp(`✓ the signature holds: .* by the key ${other.fingerprint}`),
      'it names the other key',
    );
    assert.match(
      inconsistent.stderr,
      /✗ the estimated cost in the totals: the file says 0\.01, but the figures by tool give/,
    );
    assertSignedByOtherKey(
      run(['verify', forgedFile, '--key', original.signature.fingerprint]),
      other.fingerprint,
      original.signature.fingerprint,
    );
    assert.match(
      ok(run(['verify', files.json, '--key', original.signature.fingerprint.toLowerCase()])).stdout,
      /the signing key is the one expected/,
    );
    assert.equal(run(['verify', files.json, '--key', 'nope']).code, 2);
    tamper(
      'version',
      (d) => void ((d as { version: number }).version = 2),
      /summary version 2 was written by a newer Outcome Ledger; this build reads version 1/,
    );
    tamper(
      'schema',
      (d) => void ((d.summary.totals as { total: unknown }).total = 'lots'),
      /does not follow the summary schema .*\$\.summary\.totals\.total/,
    );
    tamper(
      'format',
      (d) => void ((d as { format: string }).format = 'something-else'),
      /not an Outcome Ledger summary/,
    );
  });

  it('--plan adds the plan cost (amortised) beside the list-price estimate; verify checks it adds up and matches the ledger', () => {
    const out = path.join(box.dir, 'summary-plan.json');
    ok(summarize('json', out, ['--plan', 'claude-max-20x']));
    const doc = readDoc(out);
    const days = doc.summary.period.days;
    assert.deepEqual(
      {
        plan: doc.summary.planCost?.plan,
        monthlyUsd: doc.summary.planCost?.monthlyUsd,
        days: doc.summary.planCost?.days,
      },
      { plan: 'claude-max-20x', monthlyUsd: 200, days },
    );
    assert.ok(Math.abs((doc.summary.planCost?.periodUsd ?? 0) - (200 * days) / 30.4) < 1e-6);
    assert.equal(
      doc.summary.totals.costUSD,
      readDoc(files.json).summary.totals.costUSD,
      'the list-price estimate is unchanged',
    );
    assert.match(ok(run(['verify', out, '--ledger'])).stdout, /every figure matches the local ledger/);
    const md = ok(
      run(['summary', ...period(), '--no-import', '--durability-days', '7', '--plan', 'claude-max-20x']),
    ).stdout;
    assert.match(md, /\| Plan cost \(amortised\) \| \$[\d,.]+ \(Claude Max 20x at \$200\.00\/month over \d+ days/);
    assert.match(md, /\| Estimated cost \| ≈ \$[\d,.]+ \(list-price estimate, price table genai-prices@/);
    // Validly signed, but the plan cost does not add up: rejected, naming it.
    const forged = structuredClone(doc);
    if (forged.summary.planCost) forged.summary.planCost.periodUsd *= 3;
    const f = path.join(box.dir, 'forged-plan.json');
    fs.writeFileSync(f, JSON.stringify(signSummary(forged.summary, loadOrCreateSigningKey(box.ledger)), null, 2));
    const r = run(['verify', f]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /the plan cost of the period: the file says/);
  });

  it('verify rejects Markdown and HTML after a visible figure or the embedded data changed, naming the line', () => {
    for (const format of ['md', 'html'] as const) {
      const text = fs.readFileSync(files[format], 'utf8');
      const total = readDoc(files.json).summary.totals.total.toLocaleString('en-US');
      assert.ok(text.includes(total), `${format} shows the total ${total}`);
      const visible = path.join(box.dir, `visible.${format}`);
      fs.writeFileSync(
        visible,
        text.replace(
          total,
          total.replace(/^\d/, (d) => String((Number(d) % 9) + 1)),
        ),
      );
      const r = run(['verify', visible]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /✓ the signature holds/);
      assert.match(
        r.stderr,
        /✗ line \d+ of the visible text was changed after the export: it reads .*, the signed data renders .*/,
      );
      // The embedded data edited as well (a figure in it): its digest no longer matches the signed manifest.
      const embedded = path.join(box.dir, `embedded.${format}`);
      fs.writeFileSync(embedded, text.replace(/"costUSD":([0-9.]+)/, '"costUSD":1$1'));
      assert.match(run(['verify', embedded]).stderr, /changed after the export: it does not match its signed digest/);
      // Without the signed data there is nothing to verify.
      const stripped = path.join(box.dir, `stripped.${format}`);
      fs.writeFileSync(
        stripped,
        format === 'md'
          ? text.slice(0, text.indexOf('<!-- outcome-ledger-summary'))
          : text.replace(/<script type="application\/json"[^]*?<\/script>/, ''),
      );
      assert.match(run(['verify', stripped]).stderr, /carries no signed Outcome Ledger data/);
      // CRLF line endings (a Windows checkout) still verify.
      const crlf = path.join(box.dir, `crlf.${format}`);
      fs.writeFileSync(crlf, text.replace(/\n/g, '\r\n'));
      ok(run(['verify', crlf]));
    }
  });

  it('verify --ledger fails, naming the figure, when the ledger disagrees (a link rejected after the export)', () => {
    const copy = path.join(box.dir, 'ledger-copy');
    fs.cpSync(box.ledger, copy, { recursive: true });
    const s = readDoc(files.json).summary;
    const o = s.tasks[0]!.outcomes[0]!;
    ok(run(['link', 'reject', o.sessions[0]!, o.commits[0]!.sha], copy));
    const r = run(['verify', files.json, '--ledger'], copy);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /✓ the signature holds/);
    assert.match(r.stderr, /✗ the figures do not match the local ledger: the ledger's records for the period differ/);
    assert.match(
      r.stderr,
      new RegExp(
        `✗ outcomes\\.commits: the file says ${s.outcomes.commits}, the ledger gives ${s.outcomes.commits - 1}`,
      ),
    );
    // The untouched ledger still agrees.
    ok(run(['verify', files.json, '--ledger']));
  });

  it("a period in another time zone has that zone's figures, and a period with no sessions says so; both verify against the ledger", () => {
    const tz = ['--since', since, '--until', until, '--tz', 'Pacific/Auckland'];
    const out = path.join(box.dir, 'auckland.json');
    ok(run(['summary', ...tz, '--no-import', '--durability-days', '7', '--format', 'json', '--out', out]));
    const s = readDoc(out).summary;
    const r = JSON.parse(
      ok(run(['report', '--json', '--no-import', ...tz, '--durability-days', '7'])).stdout,
    ) as ReportJson;
    assert.equal(s.period.timezone, 'Pacific/Auckland');
    assert.deepEqual(s.totals, r.totals);
    ok(run(['verify', out, '--ledger']));
    const empty = path.join(box.dir, 'empty.md');
    ok(
      run(['summary', '--since', '2020-01-01', '--until', '2020-01-31', '--tz', 'UTC', '--no-import', '--out', empty]),
    );
    const text = fs.readFileSync(empty, 'utf8');
    assert.match(text, /No commit was linked to a session in this period\./);
    assert.match(text, /No AI requests were recorded in this period\./);
    assert.doesNotMatch(text, /^- Gap:/m, 'no gap of sources that have no record in the period');
    ok(run(['verify', empty, '--ledger']));
  });

  it('redaction leaves no repository name or commit subject in any format', () => {
    const names = box.world.repos.flatMap((r) => [r, path.basename(r)]);
    const subjects = [...new Set(box.world.truth.commits.map((c) => c.subject))].filter((x) => x.length >= 8);
    assert.ok(names.length >= 6 && subjects.length >= 10);
    const plain = fs.readFileSync(files.md, 'utf8');
    assert.ok(
      names.some((n) => plain.includes(n)) && subjects.some((x) => plain.includes(x)),
      'without --redact they appear',
    );
    for (const format of ['md', 'html', 'json'] as const) {
      const out = path.join(box.dir, `redacted.${format}`);
      ok(summarize(format, out, ['--redact', 'repos,subjects']));
      const text = fs.readFileSync(out, 'utf8');
      for (const n of names) assert.ok(!text.includes(n), `${format} names the repository ${n}`);
      for (const x of subjects) assert.ok(!text.includes(x), `${format} holds the subject "${x}"`);
      assert.ok(!text.includes(box.dir), `${format} holds a path`);
      if (format === 'json') assert.deepEqual(readDoc(out).summary.redacted, { repos: true, subjects: true });
      else assert.match(text, /repository names and commit subjects redacted/);
      ok(run(['verify', out, '--ledger']));
    }
  });

  it('usage errors exit 2 with one clear line; --help documents both commands', () => {
    assert.match(ok(run(['summary', '--help'])).stdout, /--redact WHAT/);
    assert.match(ok(run(['verify', '--help'])).stdout, /Exit status: 0 verified; 1 not verified/);
    const cases: Array<[string[], RegExp]> = [
      [['summary', '--since', since], /needs --since and --until/],
      [['summary', ...period(), '--format', 'pdf'], /--format takes md, html or json/],
      [['summary', ...period(), '--redact', 'names'], /--redact takes repos, subjects/],
      [['verify'], /verify needs one FILE/],
      [['verify', path.join(box.dir, 'missing.md')], /cannot read .*missing\.md: no such file/],
      [['verify', box.dir], /is not a file/],
      [
        ['summary', '--since', '2026-02-30', '--until', '2026-03-31'],
        /--since 2026-02-30 is not a date in the calendar/,
      ],
      [
        ['summary', '--since', '2026-03-01', '--until', '2026-03-10', '--tz', 'Mars/Olympus'],
        /unknown time zone "Mars\/Olympus"/,
      ],
      [['summary', ...period(), '--no-import', '--out', box.dir], /--out .* is a folder: give a file name/],
    ];
    for (const [args, re] of cases) {
      const r = run(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re);
    }
    const notSummary = path.join(box.dir, 'notes.md');
    fs.writeFileSync(notSummary, '# My notes\n');
    const r = run(['verify', notSummary]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /carries no signed Outcome Ledger data/);
    // A file cut off in transit (a truncated download or paste) says so, for each format.
    for (const format of ['md', 'html', 'json'] as const) {
      const text = fs.readFileSync(files[format], 'utf8');
      const cut = path.join(box.dir, `cut.${format}`);
      fs.writeFileSync(cut, text.slice(0, Math.floor(text.length * 0.9)));
      const v = run(['verify', cut]);
      assert.equal(v.code, 1, format);
      assert.equal(
        v.stderr.split('\n').filter((l) => l.includes('✗')).length,
        1,
        `${format}: one line says what is wrong`,
      );
      assert.match(v.stderr, format === 'json' ? /not valid JSON/ : /cut off/, format);
    }
  });

  it('the HTML is one self-contained file: nothing to fetch in its markup, no request in Chromium, prints to PDF', async () => {
    const html = fs.readFileSync(files.html, 'utf8');
    // Markup that could load something: src/href/srcset attributes, url(…) and @import in CSS, <link>, <img>, frames.
    assert.deepEqual(
      html.match(
        /\s(src|href|srcset|action|poster|data)\s*=|url\(|@import|<link|<img|<iframe|<object|<embed|<script(?![^>]*type="application\/json")/gi,
      ) ?? [],
      [],
    );
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /<svg class="chart"/);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      const url = `file://${files.html}`;
      await page.goto(url, { waitUntil: 'load' });
      assert.deepEqual(requests, [url], 'the page requested nothing but itself');
      assert.deepEqual(errors, []);
      const s = readDoc(files.json).summary;
      assert.equal(await page.locator('h1').textContent(), `Outcome summary: ${s.period.since} – ${s.period.until}`);
      assert.equal(await page.locator('svg.chart').count(), 2);
      const box = await page.locator('svg.chart').first().boundingBox();
      assert.ok(box && box.width > 300 && box.height > 80, 'the chart is drawn');
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({
        path: path.join(ARTIFACTS, 'summary.png'),
        clip: { x: 0, y: 0, width: 1100, height: 1400 },
        fullPage: true,
      });
      const efficiency = await page.locator('h2', { hasText: 'Efficiency over the period' }).boundingBox();
      assert.ok(efficiency);
      await page.screenshot({
        path: path.join(ARTIFACTS, 'summary-trend.png'),
        clip: { x: 0, y: efficiency.y - 16, width: 1100, height: 760 },
        fullPage: true,
      });
      // Printed on A4 (about 718 CSS pixels between Chromium's default margins), no table runs past the page's edge.
      await page.emulateMedia({ media: 'print' });
      await page.setViewportSize({ width: 718, height: 1000 });
      // (a string: the test project has no DOM types)
      const overflowing = await page.evaluate(`(() => {
        const right = document.body.getBoundingClientRect().right;
        return [...document.querySelectorAll('table, svg.chart, pre, .glance')]
          .filter((e) => e.getBoundingClientRect().right > right + 1)
          .map((e) => e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || '') + ' ends at ' + Math.round(e.getBoundingClientRect().right) + ' of ' + Math.round(right));
      })()`);
      assert.deepEqual(overflowing, [], 'everything fits the printed page');
      const pdf = await page.pdf({ format: 'A4', printBackground: true });
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
      fs.writeFileSync(path.join(ARTIFACTS, 'summary.pdf'), pdf);
      assert.deepEqual(requests, [url], 'printing requested nothing either');
    } finally {
      await browser.close();
    }
  });
});
