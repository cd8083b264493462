import type { SourceName } from './model';
import type { Tokens } from './tokens';

/**
 * Embedded list prices in USD per million tokens. No network: the table ships with the build and its version is
 * named on every cost. Update by adding models or changing prices AND bumping PRICING_VERSION (stored costs are
 * recomputed when the version changes).
 */
export const PRICING_VERSION = '2026-11-25.1';

export interface PriceSet {
  input: number;
  output: number;
  /** 5-minute cache write; defaults to 1.25x input when a provider lists none. */
  cacheWrite?: number;
  /** Cache read; defaults to 0.1x input when a provider lists none. */
  cacheRead?: number;
}

export interface ModelPrice extends PriceSet {
  /** Long-context tier: when the prompt (input + cache read + cache write) exceeds `above` tokens, all tokens of that request bill at these prices. */
  longContext?: PriceSet & { above: number };
}

const SONNET_4: ModelPrice = {
  input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3,
  longContext: { above: 200_000, input: 6, output: 22.5, cacheWrite: 7.5, cacheRead: 0.6 },
};
const OPUS_4: ModelPrice = { input: 15, output: 75, cacheWrite: 18.75, cacheRead: 1.5 };
// OpenAI bills no cache write: writes cost what plain input costs.
const GPT_5: ModelPrice = { input: 1.25, output: 10, cacheWrite: 1.25, cacheRead: 0.125 };
const GPT_5_MINI: ModelPrice = { input: 0.25, output: 2, cacheWrite: 0.25, cacheRead: 0.025 };

/** Keyed by family id: the model id with provider prefixes and date/version suffixes removed. */
export const PRICE_TABLE: Readonly<Record<string, ModelPrice>> = {
  // Anthropic
  'claude-opus-4-5': { input: 5, output: 25, cacheWrite: 6.25, cacheRead: 0.5 },
  'claude-opus-4-1': OPUS_4,
  'claude-opus-4': OPUS_4,
  'claude-sonnet-4-5': SONNET_4,
  'claude-sonnet-4': SONNET_4,
  'claude-haiku-4-5': { input: 1, output: 5, cacheWrite: 1.25, cacheRead: 0.1 },
  'claude-3-7-sonnet': { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 },
  'claude-3-5-sonnet': { input: 3, output: 15, cacheWrite: 3.75, cacheRead: 0.3 },
  'claude-3-5-haiku': { input: 0.8, output: 4, cacheWrite: 1, cacheRead: 0.08 },
  'claude-3-opus': OPUS_4,
  'claude-3-haiku': { input: 0.25, output: 1.25, cacheWrite: 0.3, cacheRead: 0.03 },
  // OpenAI (GPT-5 family and Codex)
  'gpt-5': GPT_5,
  'gpt-5-codex': GPT_5,
  'gpt-5.1': GPT_5,
  'gpt-5.1-codex': GPT_5,
  'gpt-5.1-codex-max': GPT_5,
  'gpt-5-mini': GPT_5_MINI,
  'gpt-5.1-codex-mini': GPT_5_MINI,
  'gpt-5-nano': { input: 0.05, output: 0.4, cacheWrite: 0.05, cacheRead: 0.005 },
  'gpt-5-pro': { input: 15, output: 120, cacheWrite: 15, cacheRead: 15 },
  'codex-mini-latest': { input: 1.5, output: 6, cacheWrite: 1.5, cacheRead: 0.375 },
  'gpt-4.1': { input: 2, output: 8, cacheWrite: 2, cacheRead: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cacheWrite: 0.4, cacheRead: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cacheWrite: 0.1, cacheRead: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cacheWrite: 2.5, cacheRead: 1.25 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cacheWrite: 0.15, cacheRead: 0.075 },
  o3: { input: 2, output: 8, cacheWrite: 2, cacheRead: 0.5 },
  'o4-mini': { input: 1.1, output: 4.4, cacheWrite: 1.1, cacheRead: 0.275 },
  'o3-mini': { input: 1.1, output: 4.4, cacheWrite: 1.1, cacheRead: 0.55 },
  // Google Gemini
  'gemini-3-pro-preview': {
    input: 2, output: 12, cacheWrite: 2, cacheRead: 0.2,
    longContext: { above: 200_000, input: 4, output: 18, cacheWrite: 4, cacheRead: 0.4 },
  },
  'gemini-2.5-pro': {
    input: 1.25, output: 10, cacheWrite: 1.25, cacheRead: 0.125,
    longContext: { above: 200_000, input: 2.5, output: 15, cacheWrite: 2.5, cacheRead: 0.25 },
  },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cacheWrite: 0.3, cacheRead: 0.03 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cacheWrite: 0.1, cacheRead: 0.01 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4, cacheWrite: 0.1, cacheRead: 0.025 },
};

const familyCache = new Map<string, string | null>();

/**
 * Resolves a model id as tools write it to its price-table family: case, provider prefixes
 * (`anthropic/`, `openai/`, `models/`, Bedrock's `anthropic.` and `-v1:0`, Vertex's `@date`) and date suffixes
 * (`-20250929`, `-2025-08-07`, `-latest` where the family has no such entry) are ignored. Unknown → null, never a guess.
 */
export function modelFamily(model: string): string | null {
  const cached = familyCache.get(model);
  if (cached !== undefined) return cached;
  const family = resolveFamily(model);
  if (familyCache.size > 10_000) familyCache.clear();
  familyCache.set(model, family);
  return family;
}

function resolveFamily(model: string): string | null {
  let id = model.trim().toLowerCase();
  if (PRICE_TABLE[id]) return id;
  id = id.replace(/^(?:[a-z0-9_-]+\/)+/, ''); // provider/ and models/ prefixes
  id = id.replace(/^(?:us\.|eu\.|apac\.|global\.)?anthropic\./, '');
  id = id.replace(/-v\d+(?::\d+)?$/, ''); // Bedrock version suffix
  id = id.replace(/@.*$/, ''); // Vertex @date
  if (PRICE_TABLE[id]) return id;
  const undated = id.replace(/-(?:\d{8}|\d{4}-\d{2}-\d{2})$/, '').replace(/-latest$/, '');
  if (PRICE_TABLE[undated]) return undated;
  return null;
}

export function priceOf(model: string): ModelPrice | null {
  const family = modelFamily(model);
  return family ? (PRICE_TABLE[family] ?? null) : null;
}

export interface BillableTokens extends Tokens {
  /** Part of cacheWrite written with a 1-hour lifetime (billed at 2x input). */
  cacheWrite1h: number;
}

/** List-price estimate in USD for one request; null when the model is not in the table (unpriced, never guessed). */
export function costUSD(model: string, t: BillableTokens): number | null {
  const price = priceOf(model);
  if (!price) return null;
  const prompt = t.input + t.cacheRead + t.cacheWrite;
  const p: PriceSet = price.longContext && prompt > price.longContext.above ? price.longContext : price;
  const cacheWrite5m = p.cacheWrite ?? p.input * 1.25;
  const cacheRead = p.cacheRead ?? p.input * 0.1;
  const oneHour = Math.min(t.cacheWrite1h, t.cacheWrite);
  const perMillion =
    t.input * p.input +
    t.output * p.output +
    t.cacheRead * cacheRead +
    (t.cacheWrite - oneHour) * cacheWrite5m +
    oneHour * p.input * 2;
  return perMillion / 1_000_000;
}

/**
 * Documented list price of one credit, per tool that meters in credits (USD). Kiro: $0.04 per credit (the price of
 * credits beyond a plan's allowance, kiro.dev/pricing). Amp: credits are US dollars ($1 per credit, ampcode.com
 * pricing: Amp bills usage at cost in dollar credits). A request that reports credits is priced from them: its tokens,
 * when the tool records any, are part of what the credits paid for.
 */
export const CREDIT_PRICE_USD: Readonly<Partial<Record<SourceName, number>>> = { kiro: 0.04, amp: 1 };

/** List-price estimate of a number of credits of a tool; null when the tool's credit price is not known. */
export function creditCostUSD(source: SourceName, credits: number): number | null {
  const price = CREDIT_PRICE_USD[source];
  return price === undefined ? null : credits * price;
}

/** Credits are stored as integer micro-credits (a tool reports fractions such as 0.0432). */
export function toMicroCredits(credits: number): number {
  return Math.round(credits * 1e6);
}

export function fromMicroCredits(micro: number): number {
  return Math.round(micro) / 1e6;
}

/** Costs are stored as integer nano-dollars: exact sums, compact on disk. */
export function toNanoUSD(usd: number): number {
  return Math.round(usd * 1e9);
}

export function fromNanoUSD(nano: number): number {
  return nano / 1e9;
}
