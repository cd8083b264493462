import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { activationBench } from './activation';
import { FIGURES_PAGE, writeFigures } from './figures';
import { importBench, type Figure } from './import';
import { linkBench } from './link';
import { speedProbe } from './measure';
import { rollupsBench } from './rollups';
import { sidebarBench } from './sidebar';
import { summaryBench } from './summary';
import { yearBench } from './year';

/**
 * `npm run bench`: every speed and memory goal the issues name, measured on this machine.
 * Options: --size MB (default 600), --runs N (default 2), --no-ccusage, --only import,activation,link,sidebar,summary, --activation-runs N,
 * --link-seeds 1,2,3 (demo worlds for precision/recall), --link-sessions N (5000), --link-commits N (10000),
 * --sidebar-interactions N (100000), --sidebar-sessions N (3000), --no-vscode (skip the first paint in VS Code),
 * --rollup-files N (100000; `--only rollups` runs only the team-rollup merge),
 * --year-mb MB (880: the "year of heavy use" world, ~250,000 requests; `--only year` runs only it).
 */
const ROOT = path.resolve(__dirname, '..', '..');
const CCUSAGE_VERSION = '20.0.24';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] ? String(process.argv[i + 1]) : fallback;
}

/** ccusage is installed on demand into .cache/bench-tools (from the npm registry; its native binary is an optional dependency). */
function ccusageBinary(): string | null {
  if (process.argv.includes('--no-ccusage')) return null;
  const dir = path.join(ROOT, '.cache', 'bench-tools');
  const native = path.join(dir, 'node_modules', '@ccusage', 'ccusage-linux-x64');
  if (!fs.existsSync(path.join(dir, 'node_modules', 'ccusage', 'package.json')) || !fs.existsSync(native)) {
    fs.mkdirSync(dir, { recursive: true });
    if (!fs.existsSync(path.join(dir, 'package.json')))
      fs.writeFileSync(path.join(dir, 'package.json'), '{"private":true}\n');
    console.log(`installing ccusage@${CCUSAGE_VERSION} for the comparison …`);
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', `ccusage@${CCUSAGE_VERSION}`], {
      cwd: dir,
      stdio: 'inherit',
    });
    if (r.status !== 0) return null;
  }
  const bin = path.join(dir, 'node_modules', '.bin', 'ccusage');
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? bin : null;
}

function print(figures: Figure[]): void {
  const w = Math.max(...figures.map((f) => f.name.length));
  for (const f of figures) {
    const verdict = f.pass === undefined ? '' : f.pass ? `  ✔ target ${f.target}` : `  ✖ target ${f.target}`;
    console.log(`  ${f.name.padEnd(w)}  ${String(f.value).padStart(8)} ${f.unit}${verdict}`);
  }
}

async function main(): Promise<void> {
  const size = Number(arg('size', '600')) * 1e6;
  const runs = Number(arg('runs', '2'));
  const workDir = path.join(ROOT, '.cache', 'bench');
  const results: Record<string, Figure[]> = {};
  const only = arg('only', 'import,year,activation,link,sidebar,summary,rollups').split(',');
  const log = (s: string): void => console.log(s);
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const vscode = !process.argv.includes('--no-vscode');
  /** The parts in the order they run: the name `--only` takes, what it measures, and the measuring. */
  const parts: Array<[string, string, () => Figure[] | Promise<Figure[]>]> = [
    [
      'import',
      'import and report',
      () =>
        importBench(
          { targetBytes: size, runs, workDir: path.join(workDir, 'import'), cli, ccusage: ccusageBinary() },
          log,
        ),
    ],
    [
      'year',
      'a year of heavy use: capture, import and report',
      () =>
        yearBench(
          {
            workDir: path.join(workDir, 'year'),
            cli,
            ccusage: ccusageBinary(),
            targetBytes: Number(arg('year-mb', '880')) * 1e6,
            runs,
            root: ROOT,
            vscode,
          },
          log,
        ),
    ],
    [
      'activation',
      'extension activation in the real VS Code',
      () => activationBench(ROOT, Number(arg('activation-runs', '5')), log),
    ],
    [
      'link',
      'linking sessions to commits',
      () =>
        linkBench(
          {
            workDir: path.join(workDir, 'link'),
            cli,
            seeds: arg('link-seeds', '1,2,3,4,5,6').split(',').map(Number),
            sessions: Number(arg('link-sessions', '5000')),
            commits: Number(arg('link-commits', '10000')),
            runs: Math.max(3, runs),
          },
          log,
        ),
    ],
    [
      'sidebar',
      'the sidebar on a year of heavy use',
      () =>
        sidebarBench(
          {
            workDir: path.join(workDir, 'sidebar'),
            root: ROOT,
            runs,
            interactions: Number(arg('sidebar-interactions', '100000')),
            sessions: Number(arg('sidebar-sessions', '3000')),
            vscode,
          },
          log,
        ),
    ],
    [
      'summary',
      'the outcome summary on a year of heavy use',
      () =>
        summaryBench(
          {
            workDir: path.join(workDir, 'summary'),
            runs,
            interactions: Number(arg('sidebar-interactions', '100000')),
            sessions: Number(arg('sidebar-sessions', '3000')),
          },
          log,
        ),
    ],
    [
      'rollups',
      'merging team rollups',
      () =>
        rollupsBench(
          { workDir: path.join(workDir, 'rollups'), cli, files: Number(arg('rollup-files', '100000')), runs },
          log,
        ),
    ],
  ];
  for (const [name, title, measure] of parts) {
    if (!only.includes(name)) continue;
    console.log(`▶ ${title}`);
    const before = await speedProbe();
    const figures = await measure();
    const after = await speedProbe();
    // The machine's speed before and after the part: a ratio of two figures measured minutes apart is only as good
    // as the machine was steady in between.
    const drift = Math.abs(after - before) / Math.min(before, after);
    console.log(
      `  machine speed (a fixed CPU loop): ${before.toFixed(0)} ms before this part, ${after.toFixed(0)} ms after${drift > 0.15 ? ` — ${(drift * 100).toFixed(0)}% apart: figures measured minutes apart compare poorly, run again` : ''}`,
    );
    figures.push(
      { name: 'machine speed before the part: a fixed CPU loop', value: Math.round(before), unit: 'ms' },
      { name: 'machine speed after the part: the same loop', value: Math.round(after), unit: 'ms' },
    );
    results[name] = figures;
    print(figures);
  }
  fs.mkdirSync(workDir, { recursive: true });
  const out = path.join(workDir, 'latest.json');
  fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
  fs.rmSync(path.join(workDir, 'import'), { recursive: true, force: true });
  fs.rmSync(path.join(workDir, 'link'), { recursive: true, force: true });
  // The documented figures: docs/benchmarks.json and the table of docs/benchmarks.md (--no-docs leaves them alone).
  if (!process.argv.includes('--no-docs'))
    writeFigures(ROOT, results, `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''));
  console.log(
    `\nfigures written to ${path.relative(ROOT, out)}${process.argv.includes('--no-docs') ? '' : ` and ${FIGURES_PAGE}`}`,
  );
  const failed = Object.values(results)
    .flat()
    .filter((f) => f.pass === false);
  if (failed.length > 0) {
    console.log(`${failed.length} target(s) missed`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
