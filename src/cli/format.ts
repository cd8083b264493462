/** Plain-text tables and numbers for the terminal. */

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

export function fmtUSD(v: number): string {
  if (v === 0) return '$0.00';
  if (Math.abs(v) < 0.01) return `$${v.toFixed(4)}`;
  return `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function fmtPercent(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}

/** Right-aligns every column but the first. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A one-line progress bar for a TTY, redrawn in place. */
export class ProgressBar {
  private last = -1;
  constructor(private readonly stream: NodeJS.WriteStream, private readonly label: string) {}

  update(done: number, total: number): void {
    if (total <= 0) return;
    const pct = Math.min(100, Math.floor((done / total) * 100));
    if (pct === this.last) return;
    this.last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    this.stream.write(`\r${this.label} [${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)}%  ${fmtBytes(done)} of ${fmtBytes(total)}`);
  }

  done(): void {
    if (this.last >= 0) this.stream.write('\r\x1b[2K');
  }
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KB`;
  return `${n} B`;
}
