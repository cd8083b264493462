import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parsePriceFile } from '../../src/core/usage/priceConfig';
import { PRICE_DATA_DATE, PRICE_DATA_VERSION } from '../../src/core/usage/priceData';
import { PRICE_SUPPLEMENT } from '../../src/core/usage/priceSupplement';
import {
  activePriceBook,
  type BillableTokens,
  costUSD,
  knownModels,
  modelFamily,
  PriceBook,
  priceOf,
  PRICING_VERSION,
  usePriceBook,
} from '../../src/core/usage/pricing';
import { parsePlan, planCost, PlanError } from '../../src/core/usage/plans';
import { applyPriceConfig } from '../../src/store/prices';

const t = (over: Partial<BillableTokens>) => ({
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  cacheWrite1h: 0,
  reasoning: 0,
  ...over,
});
const near = (a: number | null, b: number, eps = 1e-9): void =>
  assert.ok(a !== null && Math.abs(a - b) < eps, `${String(a)} ≈ ${b}`);
const root = path.join(__dirname, '..', '..', '..');

/** The models issue 14 found unpriced in 720 real log files, and the current families of each vendor. */
const ISSUE_MODELS = [
  'claude-sonnet-4-6',
  'claude-opus-4-6',
  'claude-opus-4-7',
  'gpt-5.2',
  'gpt-5.2-codex',
  'gpt-5.3-codex',
  'gpt-5.4',
  'gpt-5.4-mini',
  'gemini-3-flash-preview',
  'gemini-3.1-pro-preview',
];
const CURRENT = [
  'claude-sonnet-4-5',
  'claude-opus-4-5',
  'claude-opus-4-1',
  'claude-haiku-4-5',
  'claude-3-7-sonnet',
  'claude-3-5-haiku',
  'gpt-5',
  'gpt-5-codex',
  'gpt-5.1-codex',
  'gpt-5.1-codex-max',
  'gpt-5.1-codex-mini',
  'gpt-5-codex-mini',
  'gpt-5-mini',
  'gpt-4.1',
  'o3',
  'o4-mini',
  'codex-mini-latest',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-2.5-flash-lite',
  'gemini-3-pro-preview',
];

describe('pricing', () => {
  afterEach(() => usePriceBook(new PriceBook()));

  it('names the genai-prices version (and the supplement revision) as the table version', () => {
    assert.match(
      PRICING_VERSION,
      new RegExp(`^genai-prices@${PRICE_DATA_VERSION.replace(/\./g, '\\.')}(\\+supplement\\.\\d+)?$`),
    );
    assert.equal(activePriceBook().version, PRICING_VERSION);
  });

  it('prices every model issue 14 found unpriced, and the current families of each vendor', () => {
    for (const m of [...ISSUE_MODELS, ...CURRENT]) {
      const p = priceOf(m);
      assert.ok(p && p.input > 0 && p.output > 0, `${m} is priced`);
    }
    assert.equal(modelFamily('gpt-5.4-mini'), 'gpt-5.4-mini');
    assert.equal(modelFamily('claude-opus-4-7'), 'claude-opus-4-7');
    near(costUSD('gpt-5.4-mini', t({ input: 1_000_000, output: 1_000_000 })), 0.75 + 4.5);
  });

  it('resolves date-suffixed and provider-prefixed ids to their family', () => {
    const families: Array<[id: string, family: string]> = [
      ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
      ['anthropic/claude-opus-4-5-20251101', 'claude-opus-4-5'],
      ['openai/gpt-5.4', 'gpt-5.4'],
      ['gpt-5-2025-08-07', 'gpt-5'],
      ['models/gemini-2.5-pro', 'gemini-2.5-pro'],
      ['GPT-5-Codex', 'gpt-5'],
      ['claude-opus-4-6[1m]', 'claude-opus-4-6'],
    ];
    for (const [id, family] of families) assert.equal(modelFamily(id), family, id);
  });

  it('resolves Bedrock ids with every cross-region prefix, the -v1:0 suffix and system inference profile ARNs', () => {
    for (const prefix of ['', 'us.', 'eu.', 'apac.', 'au.', 'jp.', 'global.']) {
      assert.equal(modelFamily(`${prefix}anthropic.claude-sonnet-4-5-20250929-v1:0`), 'claude-sonnet-4-5', prefix);
      assert.equal(modelFamily(`${prefix}anthropic.claude-haiku-4-5-20251001-v1:0`), 'claude-haiku-4-5', prefix);
    }
    assert.equal(modelFamily('global.anthropic.claude-opus-4-6-v1'), 'claude-opus-4-6');
    assert.equal(
      modelFamily(
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-20250514-v1:0',
      ),
      'claude-sonnet-4-0',
    );
    assert.equal(
      activePriceBook().resolve('au.anthropic.claude-haiku-4-5-20251001-v1:0')?.matched,
      'claude-haiku-4-5-20251001',
    );
  });

  it('resolves Vertex model@date ids', () => {
    assert.equal(modelFamily('claude-3-5-sonnet@20241022'), 'claude-3-5-sonnet');
    assert.equal(modelFamily('claude-sonnet-4-5@20250929'), 'claude-sonnet-4-5');
    assert.equal(modelFamily('claude-opus-4-6@default'), 'claude-opus-4-6');
  });

  it('maps an application inference profile ARN through an alias, and overrides a price', () => {
    const arn = 'arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3d4e5';
    assert.equal(modelFamily(arn), null, 'an application profile id says nothing about its model');
    const book = new PriceBook({
      aliases: { [arn]: 'claude-sonnet-4-5' },
      overrides: { 'my-local-llama': { input: 0.5, output: 1 } },
    });
    assert.equal(book.family(arn), 'claude-sonnet-4-5');
    assert.equal(book.resolve(arn)?.alias, 'claude-sonnet-4-5');
    near(book.cost('my-local-llama', t({ input: 2_000_000 })), 1);
    assert.equal(book.resolve('my-local-llama')?.origin, 'override');
    assert.match(book.version, new RegExp(`^${PRICING_VERSION.replace(/[.+]/g, '\\$&')}\\+local\\.[0-9a-f]{8}$`));
    assert.notEqual(
      new PriceBook({ aliases: { [arn]: 'claude-opus-4-5' } }).version,
      book.version,
      'another config, another version',
    );
  });

  it('leaves unknown models unpriced instead of guessing', () => {
    assert.equal(modelFamily('my-local-llama'), null);
    assert.equal(costUSD('claude-sonnet-9', t({ input: 1000 })), null);
    assert.equal(costUSD('', t({ input: 1000 })), null);
  });

  it('prices input, output, cache reads and 5-minute writes from the table', () => {
    // Sonnet 4.5: $3 in, $15 out, $3.75 write, $0.30 read per million
    near(
      costUSD(
        'claude-sonnet-4-5-20250929',
        t({ input: 100_000, output: 100_000, cacheRead: 50_000, cacheWrite: 40_000 }),
      ),
      0.3 + 1.5 + 0.015 + 0.15,
    );
  });

  it('bills 1-hour cache writes at their own price (2x input for Anthropic)', () => {
    near(costUSD('claude-opus-4-5', t({ cacheWrite: 1_000_000, cacheWrite1h: 400_000 })), 0.6 * 6.25 + 0.4 * 10);
  });

  it('applies the long-context tier when the prompt exceeds it', () => {
    near(costUSD('claude-sonnet-4-5', t({ input: 100_000, cacheRead: 100_000, output: 1000 })), 0.3 + 0.03 + 0.015);
    near(
      costUSD('claude-sonnet-4-5', t({ input: 100_000, cacheRead: 100_001, output: 1000 })),
      0.6 + (100_001 * 0.6) / 1e6 + 0.0225,
    );
    // gpt-5.4: the tier starts above 271,999 prompt tokens.
    near(costUSD('gpt-5.4', t({ input: 272_000 })), (272_000 * 5) / 1e6);
    near(costUSD('gpt-5.4', t({ input: 271_999 })), (271_999 * 2.5) / 1e6);
  });

  it('prices a request at the price of its time when the database dates a change', () => {
    // claude-opus-4-6 lost its >200k tier on 2026-03-13 (genai-prices dates the change).
    const big = t({ input: 300_000 });
    near(costUSD('claude-opus-4-6', big, Date.parse('2026-02-20T12:00:00Z')), 3);
    near(costUSD('claude-opus-4-6', big, Date.parse('2026-03-14T12:00:00Z')), 1.5);
  });

  it('prices OpenAI cached input at the cached rate and charges no cache write', () => {
    near(
      costUSD('gpt-5-codex', t({ input: 750, cacheRead: 250, output: 125 })),
      (750 * 1.25 + 250 * 0.125 + 125 * 10) / 1e6,
      1e-12,
    );
    near(costUSD('gpt-5-codex', t({ cacheWrite: 1_000_000 })), 1.25);
  });

  it('lists the database and the supplement, every supplement entry with its source and not shadowing the database', () => {
    const known = knownModels();
    assert.ok(known.length > 150);
    for (const s of PRICE_SUPPLEMENT) {
      assert.ok(s.source.length > 20, s.id);
      assert.equal(
        activePriceBook().resolve(s.id)?.origin,
        'supplement',
        `${s.id} is not in the database (else remove it here)`,
      );
    }
  });

  it('reads prices.json leniently: bad entries are reported, the rest apply', () => {
    const f = parsePriceFile(
      JSON.stringify({
        aliases: { 'arn:x': 'claude-sonnet-4-5', bad: 3 },
        overrides: {
          good: { input: 1, output: 2, tiers: [{ above: 1000, input: 2, output: 4 }] },
          negative: { input: -1, output: 2 },
          partial: { input: 1 },
        },
        plan: 'claude-max-5x',
        extra: true,
      }),
      'prices.json',
    );
    assert.deepEqual(f.config.aliases, { 'arn:x': 'claude-sonnet-4-5' });
    assert.deepEqual(Object.keys(f.config.overrides ?? {}), ['good']);
    assert.deepEqual(f.plan, { name: 'claude-max-5x', monthlyUsd: 100 });
    assert.equal(f.problems.length, 4, f.problems.join('\n'));
    for (const p of f.problems) assert.ok(!p.includes('\n'));
    assert.match(parsePriceFile('{', 'p.json').problems[0] ?? '', /p\.json: not valid JSON/);
    const tiered = new PriceBook(f.config);
    near(tiered.cost('good', t({ input: 1001 })), (1001 * 2) / 1e6);
  });

  it('applies a ledger home prices.json and the setting aliases (the setting wins)', () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ol-prices-'));
    try {
      fs.writeFileSync(
        path.join(home, 'prices.json'),
        JSON.stringify({
          aliases: { 'team-proxy-model': 'gpt-5.4', other: 'gpt-5' },
          plan: { name: 'custom', monthlyUsd: 60 },
        }),
      );
      const applied = applyPriceConfig(home, { other: 'claude-opus-4-7' });
      assert.deepEqual(applied.plan, { name: 'custom', monthlyUsd: 60 });
      assert.equal(modelFamily('team-proxy-model'), 'gpt-5.4');
      assert.equal(modelFamily('other'), 'claude-opus-4-7');
      assert.notEqual(activePriceBook().version, PRICING_VERSION);
      fs.rmSync(path.join(home, 'prices.json'));
      fs.mkdirSync(path.join(home, 'prices.json'));
      assert.match(applyPriceConfig(home).problems[0] ?? '', /not a regular file/);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('parses plans and amortises them over a period', () => {
    assert.deepEqual(parsePlan('claude-max-20x'), { name: 'claude-max-20x', monthlyUsd: 200 });
    assert.deepEqual(parsePlan('chatgpt-plus:23.5'), { name: 'chatgpt-plus', monthlyUsd: 23.5 });
    assert.equal(parsePlan('none'), null);
    assert.throws(() => parsePlan('custom'), PlanError);
    assert.throws(() => parsePlan('gold'), /unknown plan "gold"/);
    assert.throws(() => parsePlan('custom:-5'), PlanError);
    const c = planCost({ name: 'claude-max-5x', monthlyUsd: 100 }, 7, 4, 0);
    near(c.periodUsd, (100 * 7) / 30.4, 1e-6);
    near(c.perCommit, (100 * 7) / 30.4 / 4, 1e-6);
    assert.equal(c.perTask, null);
  });

  it('priceData.ts is exactly what scripts/prices.mjs produces from the installed package', function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ol-pricedata-'));
    try {
      const out = path.join(dir, 'priceData.ts');
      execFileSync(
        process.execPath,
        [path.join(root, 'scripts', 'prices.mjs'), '--out', out, '--date', PRICE_DATA_DATE],
        { cwd: root, stdio: 'pipe' },
      );
      const committed = fs.readFileSync(path.join(root, 'src', 'core', 'usage', 'priceData.ts'), 'utf8');
      assert.ok(
        fs.readFileSync(out, 'utf8') === committed,
        'src/core/usage/priceData.ts differs from the generator output: run `node scripts/prices.mjs`',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
