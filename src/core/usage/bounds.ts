/**
 * Plausibility bounds: the ONE place that says which figures from a log can be stored (issue 12). Every source's
 * records pass `implausible` in the importer (and manual entries in services/manual) before they reach the ledger;
 * a new source gets the check for free, and its parser can use `boundedTokens` to read a field.
 *
 * The rule (docs/security.md): a token count is a non-negative safe integer of at most MAX_TOKENS_PER_FIELD
 * (10^9) per field of one request — no model takes or writes a billion tokens in one request, so anything above is
 * a corrupt or hostile line. A recorded cost is a finite, non-negative number of at most MAX_COST_USD_PER_REQUEST.
 * Credits a tool metered (Kiro, Amp) are finite, non-negative and at most MAX_CREDITS_PER_REQUEST per request.
 * A record outside the bounds is never stored: its line is rejected with the reason, shown in data health.
 */
import type { LedgerRecord } from './model';
import { TOKEN_FIELDS } from './tokens';

/** Ceiling of one token field (input, output, cache read, cache write, reasoning) of one request: 10^9. */
export const MAX_TOKENS_PER_FIELD = 1_000_000_000;
/** Ceiling of the cost a tool recorded for one request, in USD. */
const MAX_COST_USD_PER_REQUEST = 100_000;

/** Ceiling of the credits a tool metered for one request (Kiro, Amp): 100,000 (at Amp's $1 a credit, the cost ceiling). */
const MAX_CREDITS_PER_REQUEST = 100_000;

/** A token count as a source may store it: an integer in [0, 10^9]; undefined for anything else. */
export function boundedTokens(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_TOKENS_PER_FIELD ? v : undefined;
}

/** A recorded cost as a source may store it: finite, in [0, MAX_COST_USD_PER_REQUEST]; undefined otherwise. */
export function boundedCost(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_COST_USD_PER_REQUEST ? v : undefined;
}

const FIELD_NAMES: Record<(typeof TOKEN_FIELDS)[number], string> = {
  input: 'input',
  output: 'output',
  cacheRead: 'cache read',
  cacheWrite: 'cache write',
  reasoning: 'reasoning',
};

function shown(v: number): string {
  return Number.isFinite(v) ? String(v) : String(v).slice(0, 24);
}

/** Why a record cannot be stored (a short reason for data health), or null when its figures are plausible. */
export function implausible(record: LedgerRecord): string | null {
  if (record.kind !== 'interaction') return null;
  for (const f of TOKEN_FIELDS) {
    const v = record.tokens[f];
    if (boundedTokens(v) === undefined) {
      return `implausible ${FIELD_NAMES[f]} token count ${shown(v)} (a request has 0 to ${MAX_TOKENS_PER_FIELD.toLocaleString('en-US')} per field)`;
    }
  }
  if (boundedTokens(record.cacheWrite1h) === undefined || record.cacheWrite1h > record.tokens.cacheWrite) {
    return `implausible 1-hour cache write token count ${shown(record.cacheWrite1h)}`;
  }
  if (record.recordedCostUSD !== undefined && boundedCost(record.recordedCostUSD) === undefined) {
    return `implausible recorded cost ${shown(record.recordedCostUSD)} USD (a request costs 0 to ${MAX_COST_USD_PER_REQUEST.toLocaleString('en-US')} USD)`;
  }
  if (
    record.credits !== undefined &&
    !(Number.isFinite(record.credits) && record.credits >= 0 && record.credits <= MAX_CREDITS_PER_REQUEST)
  ) {
    return `implausible credits ${shown(record.credits)} (a request meters 0 to ${MAX_CREDITS_PER_REQUEST.toLocaleString('en-US')} credits)`;
  }
  if (!Number.isFinite(record.timestamp)) return 'implausible timestamp';
  return null;
}
