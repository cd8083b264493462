/** Number formatting shared by the CLI and the extension (pure). */

/** "line" for exactly one, else "lines" (or the plural given): the one rule for every count in words. */
export function noun(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** "1 line", "2 lines": a count and its noun, singular for exactly one. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${noun(n, one, many)}`;
}

export function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Compact token counts: 1234 → 1.2k, 5_300_000 → 5.3M. */
export function fmtTokens(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return fmtInt(n);
}

/**
 * A token figure with its accuracy: `~` in front when some or all of it was estimated (counted from text or rounded
 * by the tool) rather than reported exactly.
 */
export function fmtTokensMarked(n: number, accuracy: 'exact' | 'estimated' | 'mixed'): string {
  return accuracy === 'exact' ? fmtTokens(n) : `~${fmtTokens(n)}`;
}

export function fmtUSD(v: number): string {
  if (v === 0) return '$0.00';
  if (Math.abs(v) < 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function fmtPercent(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KB`;
  return `${n} B`;
}

/** Credits as tools show them: two decimals below 100 (Kiro meters hundredths of a credit), whole ones above. */
export function fmtCredits(value: number): string {
  return value >= 100 ? fmtInt(Math.round(value)) : value.toFixed(2);
}
