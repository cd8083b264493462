import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Figure } from './import';

/**
 * The one place benchmark figures live: docs/benchmarks.json, written by `npm run bench` (each part it ran replaces
 * its section), and the table in docs/benchmarks.md between the markers below, rendered from that file. Other pages
 * link to that table instead of quoting figures, so no two pages can disagree.
 */
export const FIGURES_JSON = path.join('docs', 'benchmarks.json');
export const FIGURES_PAGE = path.join('docs', 'benchmarks.md');
export const BEGIN =
  '<!-- figures:begin (written by `npm run bench` from docs/benchmarks.json; do not edit by hand) -->';
export const END = '<!-- figures:end -->';

export interface FigureSection {
  /** Day measured (YYYY-MM-DD). */
  date: string;
  /** Cores, memory, OS and Node of the machine. */
  machine: string;
  /** The command that measured it. */
  command: string;
  figures: Figure[];
}

export interface FiguresFile {
  sections: Record<string, FigureSection>;
}

/** Section order and titles in the page. */
const TITLES: Record<string, string> = {
  import: 'Import and report (600 MB of logs)',
  year: 'A year of heavy use (capture, import and report)',
  activation: 'Extension activation',
  link: 'Linking sessions to commits',
  sidebar: 'The sidebar on a year of heavy use',
  summary: 'The outcome summary',
  rollups: 'Team rollup merge',
};

/** A ratio with its budget: `ours ÷ theirs` to two decimals, passing when it is at most `atMost`. */
export function ratioFigure(name: string, ours: number, theirs: number, atMost: number): Figure {
  return {
    name,
    value: Math.round((ours / theirs) * 100) / 100,
    unit: 'x',
    target: `≤ ${atMost}x`,
    pass: ours <= atMost * theirs,
  };
}

function fmtValue(f: Figure): string {
  if (f.unit === 'bool') return f.value === 1 ? 'yes' : 'no';
  const n = Number.isInteger(f.value) ? f.value.toLocaleString('en-US') : String(f.value);
  return f.unit ? `${n} ${f.unit}` : n;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The Markdown of the figures: one table per section, in a fixed order. */
export function renderFigures(file: FiguresFile): string {
  const names = [
    ...Object.keys(TITLES).filter((k) => file.sections[k]),
    ...Object.keys(file.sections)
      .filter((k) => !TITLES[k])
      .sort(),
  ];
  const out: string[] = [];
  for (const name of names) {
    const s = file.sections[name];
    if (!s) continue;
    out.push(
      `### ${TITLES[name] ?? name}`,
      '',
      `Measured on ${s.date} with \`${s.command}\` (${s.machine}).`,
      '',
      '| figure | value | target |',
      '| --- | ---: | --- |',
    );
    for (const f of s.figures) {
      const target = f.unit === 'bool' && f.target === '1' ? 'yes' : f.target;
      const verdict = target === undefined ? '' : `${target}${f.pass === undefined ? '' : f.pass ? ' ✔' : ' ✖'}`;
      out.push(`| ${cell(f.name.trim())} | ${cell(fmtValue(f))} | ${cell(verdict)} |`);
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/** Replaces the text between the markers of the page with `table`. */
export function spliceFigures(page: string, table: string): string {
  const a = page.indexOf(BEGIN);
  const b = page.indexOf(END);
  if (a === -1 || b < a) throw new Error(`${FIGURES_PAGE} has no ${BEGIN} … ${END} block`);
  return `${page.slice(0, a + BEGIN.length)}\n\n${table}\n\n${page.slice(b)}`;
}

export function readFigures(root: string): FiguresFile {
  const file = path.join(root, FIGURES_JSON);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as FiguresFile) : { sections: {} };
}

/** After a bench run: each part measured replaces its section of docs/benchmarks.json, and the page's table is rewritten. */
export function writeFigures(root: string, results: Record<string, Figure[]>, command: string): void {
  const file = readFigures(root);
  const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, ${os.type()} ${os.release()}, Node ${process.versions.node}, load average ${os.loadavg()[0]?.toFixed(1)} at the end`;
  const date = new Date().toISOString().slice(0, 10);
  for (const [name, figures] of Object.entries(results)) file.sections[name] = { date, machine, command, figures };
  fs.writeFileSync(path.join(root, FIGURES_JSON), `${JSON.stringify(file, null, 2)}\n`);
  const page = path.join(root, FIGURES_PAGE);
  fs.writeFileSync(page, spliceFigures(fs.readFileSync(page, 'utf8'), renderFigures(file)));
}
