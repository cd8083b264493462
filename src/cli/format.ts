/** Plain-text tables and progress for the terminal; numbers are formatted by core/usage/format. */
import { fmtBytes } from '../core/usage/format';

export { fmtBytes, fmtInt, fmtPercent, fmtTokens, fmtTokensMarked, fmtUSD } from '../core/usage/format';

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

