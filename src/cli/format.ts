/** Plain-text tables and progress for the terminal; numbers are formatted by core/usage/format. */
import { fmtBytes } from '../core/usage/format';
import { maxOf } from '../core/common/numbers';

export { fmtBytes, fmtInt, fmtPercent, fmtTokens, fmtTokensMarked, fmtUSD } from '../core/usage/format';

/** Right-aligns every column but the first. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => maxOf(all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A one-line progress bar for a TTY, redrawn in place. */
export class ProgressBar {
  private last = -1;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  update(done: number, total: number): void {
    if (total <= 0) return;
    const pct = Math.min(100, Math.floor((done / total) * 100));
    if (pct === this.last) return;
    this.last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    this.stream.write(
      `\r${this.label} [${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${String(pct).padStart(3)}%  ${fmtBytes(done)} of ${fmtBytes(total)}`,
    );
  }

  done(): void {
    if (this.last >= 0) this.stream.write('\r\x1b[2K');
  }
}

/**
 * Colour for stdout (https://no-color.org): never with NO_COLOR or --no-color or TERM=dumb; with FORCE_COLOR (not 0)
 * even into a pipe; otherwise only on a terminal.
 */
export function colourWanted(env: NodeJS.ProcessEnv, stdoutTty: boolean, noColorFlag: boolean): boolean {
  if (noColorFlag || (env.NO_COLOR !== undefined && env.NO_COLOR !== '')) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false')
    return true;
  return stdoutTty && env.TERM !== 'dumb';
}

const SGR = {
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  red: '\x1b[31m',
  reset: '\x1b[0m',
} as const;

/**
 * Colours text the CLI has already made printable (every control character from a log is gone by then), by its
 * shape only: table headings bold, rules dim, ✔ green, ✖ and "not counted" red, ~ estimates and * unpriced yellow.
 * Nothing read from a log decides what is coloured beyond that, and no colour can leak: every line ends reset.
 */
export function colourise(text: string): string {
  const lines = text.split('\n');
  return lines
    .map((line, i) => {
      if (/^─[─ ]*$/.test(line)) return `${SGR.dim}${line}${SGR.reset}`;
      if (/^─/.test(lines[i + 1] ?? '')) return `${SGR.bold}${line}${SGR.reset}`;
      if (/^(Outcome Ledger — |Outcomes$|Self-check|Coverage$)/.test(line)) return `${SGR.bold}${line}${SGR.reset}`;
      return line
        .replace(/✔/g, `${SGR.green}✔${SGR.reset}`)
        .replace(/✖/g, `${SGR.red}✖${SGR.reset}`)
        .replace(/(^|\s)(~[\d.,]+[KMB]?)/g, `$1${SGR.yellow}$2${SGR.reset}`)
        .replace(/^(\s*not counted:)/, `${SGR.red}$1${SGR.reset}`);
    })
    .join('\n');
}

/**
 * Prints `JSON.stringify(list, null, 2)` one element at a time, as the elements come (`add`, then `end`): the same
 * text, without the list or one string of it all (the sessions of a year of heavy use are 48 MB of JSON).
 */
export function jsonArrayPrinter(out: (text: string) => void): { add(item: unknown): void; end(): void } {
  let pending: string | undefined;
  return {
    add(item) {
      out(pending === undefined ? '[' : `${pending},`);
      pending = `  ${JSON.stringify(item ?? null, null, 2).replace(/\n/g, '\n  ')}`;
    },
    end() {
      if (pending === undefined) out('[]');
      else {
        out(pending);
        out(']');
      }
    },
  };
}
