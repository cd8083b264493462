/** Plain-text tables and progress for the terminal; numbers are formatted by core/usage/format. */
import { fmtBytes } from '../core/usage/format';

export { fmtBytes, fmtInt, fmtPercent, fmtTokens, fmtTokensMarked, fmtUSD } from '../core/usage/format';

/** Right-aligns every column but the first. */
export function table(header: string[], rows: string[][]): string {
  const t = new TableLines(header);
  for (const r of rows) t.add(r);
  return [...t.lines()].join('\n');
}

/** Between the cells of a row as `TableLines` keeps it: a control character, which the printer shows as U+FFFD. */
const CELL_SEP = '\u0000';

/**
 * A terminal table built a row at a time and printed a line at a time (first column left-aligned, the others right):
 * a row is kept as one string until it is drawn, so a list of a few years (`sessions`) costs a string per row, not an
 * object and an array of cells. A cell holding the separator shows U+FFFD there, as the printer would.
 */
export class TableLines {
  private readonly widths: number[];
  private readonly rows: string[] = [];

  constructor(private readonly header: string[]) {
    this.widths = header.map((h) => h.length);
  }

  get size(): number {
    return this.rows.length;
  }

  add(cells: string[]): void {
    for (let i = 0; i < this.widths.length; i++) this.widths[i] = Math.max(this.widths[i]!, (cells[i] ?? '').length);
    this.rows.push(cells.map((c) => (c.includes(CELL_SEP) ? c.replaceAll(CELL_SEP, '\uFFFD') : c)).join(CELL_SEP));
  }

  /** The header, its rule and each row, aligned. */
  *lines(): Generator<string> {
    yield this.line(this.header);
    yield this.widths.map((w) => '─'.repeat(w)).join('  ');
    for (const r of this.rows) yield this.line(r.split(CELL_SEP));
  }

  private line(r: string[]): string {
    return r
      .map((c, i) => (i === 0 ? c.padEnd(this.widths[i] ?? 0) : c.padStart(this.widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  }
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
 * text, without the list or one string of it all (the sessions of a year of heavy use are 48 MB of JSON). `at` places
 * the list inside an object printed the same way: the text before its `[` on its line, its indentation, and what
 * follows its `]` (a comma).
 */
export function jsonArrayPrinter(
  out: (text: string) => void,
  at: { head?: string; indent?: string; tail?: string } = {},
): { add(item: unknown): void; end(): void } {
  const { head = '', indent = '', tail = '' } = at;
  let pending: string | undefined;
  return {
    add(item) {
      out(pending === undefined ? `${head}[` : `${pending},`);
      pending = `${indent}  ${JSON.stringify(item ?? null, null, 2).replace(/\n/g, `\n${indent}  `)}`;
    },
    end() {
      if (pending === undefined) out(`${head}[]${tail}`);
      else {
        out(pending);
        out(`${indent}]${tail}`);
      }
    },
  };
}

/**
 * Prints `JSON.stringify(value, null, 2)` with each list of a top-level object printed one element at a time
 * (`report --json --by session` over a year: 47,000 sessions), waiting for a slow reader between blocks of them.
 */
export async function printJson(
  value: unknown,
  out: (text: string) => void,
  drained: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'toJSON' in value) {
    out(JSON.stringify(value, null, 2));
    return;
  }
  const entries = Object.entries(value).filter(
    ([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol',
  );
  if (entries.length === 0) {
    out('{}');
    return;
  }
  out('{');
  for (let i = 0; i < entries.length; i++) {
    const [key, v] = entries[i]!;
    const head = `  ${JSON.stringify(key)}: `;
    const tail = i < entries.length - 1 ? ',' : '';
    if (!Array.isArray(v)) {
      out(`${head}${JSON.stringify(v, null, 2).replace(/\n/g, '\n  ')}${tail}`);
      continue;
    }
    const list = jsonArrayPrinter(out, { head, indent: '  ', tail });
    for (let j = 0; j < v.length; j++) {
      list.add(v[j]);
      if (j % 256 === 255) await drained();
    }
    list.end();
  }
  out('}');
}
