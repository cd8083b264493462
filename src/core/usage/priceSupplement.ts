import type { PricedModel } from './priceTypes';

/**
 * Hand-kept supplement to the generated price database (priceData.ts): models a coding tool writes that the
 * installed @pydantic/genai-prices does not price yet. Tried only after the database found nothing, so once the
 * package prices a model its figure wins and the entry here can go. Every entry names its source and the day it was
 * read; bump SUPPLEMENT_REVISION on every change (it is part of the table version on every cost).
 * docs/measurement.md describes how prices are updated.
 */
export const SUPPLEMENT_REVISION = 1;

export const PRICE_SUPPLEMENT: ReadonlyArray<PricedModel & { source: string }> = [
  {
    // Written by Codex CLI; genai-prices 0.1.8 prices gpt-5.1-codex-mini but not its predecessor.
    id: 'gpt-5-codex-mini',
    match: { or: [{ equals: 'gpt-5-codex-mini' }, { regex: '^gpt-5-codex-mini-\\d{4}-\\d{2}-\\d{2}$' }] },
    price: { input: 0.25, output: 2, cacheRead: 0.025 },
    source:
      'OpenAI API pricing (platform.openai.com/docs/pricing), gpt-5-codex-mini as listed at its launch, November 2025',
  },
];
