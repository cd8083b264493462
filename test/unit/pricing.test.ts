import assert from 'node:assert/strict';
import { costUSD, modelFamily, PRICE_TABLE, PRICING_VERSION } from '../../src/core/usage/pricing';

const t = (over: Partial<Record<'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'cacheWrite1h' | 'reasoning', number>>) => ({
  input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, reasoning: 0, ...over,
});

describe('pricing', () => {
  it('has a version and covers current Anthropic, OpenAI and Gemini families', () => {
    assert.match(PRICING_VERSION, /^\d{4}-\d{2}-\d{2}/);
    for (const m of ['claude-sonnet-4-5', 'claude-opus-4-5', 'claude-haiku-4-5', 'gpt-5', 'gpt-5-codex', 'gpt-5.1-codex', 'gemini-2.5-pro', 'gemini-2.5-flash']) {
      assert.ok(PRICE_TABLE[m], m);
    }
  });

  it('resolves date-suffixed and provider-prefixed ids to their family', () => {
    assert.equal(modelFamily('claude-sonnet-4-5-20250929'), 'claude-sonnet-4-5');
    assert.equal(modelFamily('anthropic/claude-opus-4-5-20251101'), 'claude-opus-4-5');
    assert.equal(modelFamily('us.anthropic.claude-haiku-4-5-20251001-v1:0'), 'claude-haiku-4-5');
    assert.equal(modelFamily('claude-3-5-sonnet@20241022'), 'claude-3-5-sonnet');
    assert.equal(modelFamily('gpt-5-2025-08-07'), 'gpt-5');
    assert.equal(modelFamily('models/gemini-2.5-pro'), 'gemini-2.5-pro');
    assert.equal(modelFamily('GPT-5-Codex'), 'gpt-5-codex');
  });

  it('leaves unknown models unpriced instead of guessing', () => {
    assert.equal(modelFamily('my-local-llama'), null);
    assert.equal(costUSD('claude-sonnet-9', t({ input: 1000 })), null);
  });

  it('prices input, output, cache reads and 5-minute writes from the table', () => {
    // Sonnet 4.5: $3 in, $15 out, $3.75 write, $0.30 read per million
    const c = costUSD('claude-sonnet-4-5-20250929', t({ input: 100_000, output: 100_000, cacheRead: 50_000, cacheWrite: 40_000 }));
    assert.ok(Math.abs((c ?? 0) - (0.3 + 1.5 + 0.015 + 0.15)) < 1e-9);
  });

  it('bills 1-hour cache writes at 2x input', () => {
    const c = costUSD('claude-opus-4-5', t({ cacheWrite: 1_000_000, cacheWrite1h: 400_000 }));
    assert.ok(Math.abs((c ?? 0) - (0.6 * 6.25 + 0.4 * 10)) < 1e-9);
  });

  it('applies the long-context tier when the prompt exceeds 200k tokens', () => {
    const below = costUSD('claude-sonnet-4-5', t({ input: 100_000, cacheRead: 100_000, output: 1000 }));
    const above = costUSD('claude-sonnet-4-5', t({ input: 100_000, cacheRead: 100_001, output: 1000 }));
    assert.ok(Math.abs((below ?? 0) - (0.3 + 0.03 + 0.015)) < 1e-9);
    assert.ok(Math.abs((above ?? 0) - (0.6 + 100_001 * 0.6 / 1e6 + 0.0225)) < 1e-9);
  });

  it('prices OpenAI cached input at the cached rate and charges no cache write', () => {
    const c = costUSD('gpt-5-codex', t({ input: 750, cacheRead: 250, output: 125 }));
    assert.ok(Math.abs((c ?? 0) - (750 * 1.25 + 250 * 0.125 + 125 * 10) / 1e6) < 1e-12);
  });
});
