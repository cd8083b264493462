import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeCline } from '../fixtures/sources';
import { cli, reportJson } from './cli';
import { Repo } from './scripted';
import { sandbox } from './sandbox';

const PERIOD = ['--since', '2024-01-01', '--until', '2026-12-31', '--tz', 'UTC'];
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const near = (a: number | undefined | null, b: number, eps = 1e-6): void =>
  assert.ok(a != null && Math.abs(a - b) < eps, `${String(a)} ≈ ${b}`);

/** Prices through the bundled CLI: the prices command, recorded cost beside list price, plans and prices.json. */
describe('prices, recorded cost and plan cost (the bundled CLI)', function () {
  this.timeout(120_000);
  const box = sandbox('ol-prices-');
  let env: Record<string, string>;

  before(() => {
    const repo = new Repo(path.join(box.dir, 'app'), box.home);
    repo.append('src/export.ts', 3, 'x');
    repo.commit('Initial commit', Date.parse('2026-03-01T10:00:00Z'));
    writeCline(box.home, repo.dir);
    env = { HOME: box.home };
  });

  it('shows what Cline and Roo Code recorded as their cost beside the list-price estimate', () => {
    const r = reportJson(box.ledger, env, PERIOD);
    const cline = r.bySource.find((s) => s.source === 'cline');
    const roo = r.bySource.find((s) => s.source === 'roo-code');
    // The fixture's requests, as Cline wrote them (four requests with a cost, the oldest naming no model; one through
    // OpenRouter; one removed by a checkpoint restore, kept in deleted_api_reqs).
    near(cline?.recordedCostUsd, sum([0.04137, 0.02128, 0.01063, 0.0159, 0.027, 0.0123]));
    assert.equal(cline?.recordedInteractions, 6);
    near(roo?.recordedCostUsd, 0.0513);
    near(r.totals.recordedCostUsd, sum([0.04137, 0.02128, 0.01063, 0.0159, 0.027, 0.0123, 0.0513]));
    // The list-price estimate is computed apart: Sonnet 4.5 at $3/$15/$3.75/$0.30 for Cline's first request.
    const first = (12 * 3 + 480 * 15 + 9100 * 3.75) / 1e6;
    assert.ok((cline?.costUSD ?? 0) > first);
    assert.match(r.pricing.version, /^genai-prices@\d+\.\d+\.\d+/);
    assert.equal(r.planCost, null);
    const text = cli(['report', '--home', box.ledger, '--no-import', ...PERIOD], env).stdout;
    assert.match(text, /list-price estimate: \$/);
    assert.match(
      text,
      /recorded by the tools: \$0\.18 for the 7 requests that recorded their own cost \(cline \$0\.13, roo-code \$0\.05\)/,
    );
  });

  it('prices: the table version, every known model, and how a name resolves', () => {
    const all = cli(['prices', '--json', '--home', box.ledger], env);
    assert.equal(all.code, 0, all.stderr);
    const j = JSON.parse(all.stdout) as {
      version: string;
      database: { package: string; version: string };
      models: Array<{ family: string; provider: string }>;
    };
    assert.equal(j.database.package, '@pydantic/genai-prices');
    assert.ok(j.models.some((m) => m.family === 'claude-sonnet-4-6' && m.provider === 'anthropic'));
    assert.ok(j.models.some((m) => m.family === 'gpt-5.3-codex' && m.provider === 'openai'));
    const one = cli(
      [
        'prices',
        '--home',
        box.ledger,
        'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
        'jp.anthropic.claude-haiku-4-5-20251001-v1:0',
      ],
      env,
    );
    assert.equal(one.code, 0, one.stderr);
    assert.match(
      one.stdout,
      /us\.anthropic\.claude-sonnet-4-5-20250929-v1:0 → claude-sonnet-4-5 \(anthropic, @pydantic\/genai-prices; matched as claude-sonnet-4-5-20250929\)/,
    );
    assert.match(
      one.stdout,
      /input \$3 · output \$15 · cache write 5m \$3\.75 · cache write 1h \$6 · cache read \$0\.3 · long context \(in\/out\) >200,000: \$6\/\$22\.5/,
    );
    const unknown = cli(['prices', '--home', box.ledger, 'my-local-llama'], env);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stdout,
      /my-local-llama: unpriced \(not in the table: add an alias or an override in prices\.json\)/,
    );
  });

  it('report --plan amortises the plan over the period beside the list-price estimate', () => {
    const r = reportJson(box.ledger, env, [
      ...PERIOD,
      '--no-import',
      '--since',
      '2026-03-01',
      '--until',
      '2026-03-31',
      '--plan',
      'claude-max-5x',
    ]);
    assert.ok(r.planCost);
    assert.equal(r.planCost.plan, 'claude-max-5x');
    assert.equal(r.planCost.monthlyUsd, 100);
    assert.equal(r.planCost.days, 31);
    near(r.planCost.periodUsd, (100 * 31) / 30.4);
    const custom = reportJson(box.ledger, env, [...PERIOD, '--no-import', '--plan', 'custom:60']);
    assert.equal(custom.planCost?.monthlyUsd, 60);
    const text = cli(['report', '--home', box.ledger, '--no-import', ...PERIOD, '--plan', 'chatgpt-pro'], env).stdout;
    assert.match(text, /plan cost \(amortised\): \$[\d,.]+ of ChatGPT Pro at \$200(\.00)?\/month over [\d,]+ days/);
    const bad = cli(['report', '--home', box.ledger, '--no-import', '--plan', 'gold'], env);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /--plan: unknown plan "gold" \(one of none, claude-pro/);
  });

  it('prices.json in the ledger home: an alias and an override reprice the ledger, its plan is the default', () => {
    const before = reportJson(box.ledger, env, PERIOD);
    assert.ok(before.totals.unpricedInteractions > 0, 'the early Cline request names no model: unpriced');
    fs.writeFileSync(
      path.join(box.ledger, 'prices.json'),
      JSON.stringify({
        aliases: { 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123': 'claude-sonnet-4-5' },
        overrides: { unknown: { input: 10, output: 10 } },
        plan: { name: 'custom', monthlyUsd: 45 },
      }),
    );
    const after = reportJson(box.ledger, env, PERIOD);
    assert.match(after.pricing.version, /\+local\.[0-9a-f]{8}$/);
    assert.equal(after.totals.unpricedInteractions, 0);
    near(after.totals.costUSD - before.totals.costUSD, ((2100 + 640) * 10) / 1e6);
    assert.equal(after.planCost?.plan, 'custom');
    assert.equal(after.planCost?.monthlyUsd, 45);
    assert.equal(
      reportJson(box.ledger, env, [...PERIOD, '--no-import', '--plan', 'none']).planCost,
      null,
      '--plan none wins over the file',
    );
    const arn = cli(
      ['prices', '--home', box.ledger, 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123'],
      env,
    );
    assert.equal(arn.code, 0, arn.stderr);
    assert.match(arn.stdout, /→ claude-sonnet-4-5 .*alias of claude-sonnet-4-5/);
    fs.writeFileSync(path.join(box.ledger, 'prices.json'), '{"overrides": {"x": {"input": "cheap"}}}');
    const warned = cli(['prices', '--home', box.ledger, 'gpt-5.4'], env);
    assert.equal(warned.code, 0);
    assert.match(warned.stderr, /prices\.json: overrides\["x"\]\.input: needs USD per million tokens/);
  });
});
