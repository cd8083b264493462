/** "Did you mean": the closest candidate to a mistyped command or option, when it is close enough to be a typo. */

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbours cost 1. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j] ?? 0, ((d[i - 2] as number[])[j - 2] ?? 0) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] ?? 0;
}

/** The candidate nearest to `input` (a typo: at most a third of its letters off, at least one), or undefined. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = c.startsWith(needle) && needle.length >= 3 ? 0.5 : editDistance(needle, c.toLowerCase());
    if (!best || d < best.d) best = { c, d };
  }
  if (!best) return undefined;
  return best.d <= Math.max(1, Math.floor(Math.max(needle.length, best.c.length) / 3)) ? best.c : undefined;
}

/** ` (did you mean X?)` or nothing. */
export function didYouMean(
  input: string,
  candidates: readonly string[],
  render: (c: string) => string = (c) => c,
): string {
  const c = closest(input, candidates);
  return c === undefined ? '' : ` (did you mean ${render(c)}?)`;
}
