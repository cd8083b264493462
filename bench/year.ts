import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportJson } from '../src/core/outcomes/report';
import { appendClaudeTurn, buildWorld, type World } from '../src/demo/world';
import { importAll, RescanMemo, sourceRoots } from '../src/services/importer';
import { Ledger } from '../src/store/ledger';
import type { Figure } from './import';
import { ratioFigure } from './figures';
import { floorFigures } from './floors';
import { measure, measureCcusage, median, spawnedMedian, type Measured } from './measure';
import { runFirstPaintTest } from './sidebar';
import { DEFAULT_QUERY } from '../src/core/sidebar/protocol';
import { sidebarSnapshot } from '../src/services/sidebar';

export interface YearBenchOptions {
  workDir: string;
  cli: string;
  ccusage: string | null;
  /** Size of the year's logs; ~880 MB holds about 250,000 requests in 45,000 sessions. */
  targetBytes: number;
  runs: number;
  /** The repository (for the VS Code tier); with `vscode`, the extension host's memory is measured on the year's ledger. */
  root?: string;
  vscode?: boolean;
}

/**
 * "A year of heavy use" in the real log formats (Claude Code and Codex CLI files, 365 days, short tool results so the
 * request count — not the payload size — is what is heavy): ~250,000 requests in ~45,000 sessions. The world is
 * built once and kept in the work folder (`world.json` says with which options; a different size rebuilds it).
 *
 * Measured, side by side with ccusage 20's full re-read of the same files:
 * - cold import (`report --json` on an empty ledger) and its peak memory;
 * - warm `import` with nothing new, warm `report --json` (which imports first, as a user runs it), peak memory;
 * - one new turn (a prompt and its answer, appended to an existing session file by the world's own generator)
 *   captured by `outcome-ledger import`, on the year's ledger and on an almost empty one (the same world's first
 *   session alone), captured as an assistant's hook does it (`import --file`, both ledgers), and in-process as the
 *   extension does it (an open Ledger, importAll);
 * - ledger bytes per request (database plus journal);
 * - unless --no-vscode: the extension host's memory in the real VS Code (code-server) before and after its ledger is
 *   switched to the year's and the sidebar is shown on it (the VS Code suite's first-paint test, handed the ledger);
 * - start-up of `--version`, `--help` and an unknown command (ten spawns each; they must not create a ledger).
 */
export async function yearBench(o: YearBenchOptions, log: (s: string) => void): Promise<Figure[]> {
  fs.mkdirSync(o.workDir, { recursive: true });
  const world = loadOrBuild(o, log);
  const aged = ageLikeHistory(world.home);
  log(`  file and folder times set to their last record's (as a year of real use leaves them): ${aged} files`);
  const figures: Figure[] = [];
  const env = (home: string): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH ?? '',
    ...world.env,
    OUTCOME_LEDGER_HOME: home,
  });
  const run = async (args: string[], home: string): Promise<Measured> => {
    const m = await measure(process.execPath, [o.cli, ...args], env(home));
    if (m.code !== 0)
      throw new Error(`outcome-ledger ${args.join(' ')} failed (${m.code}): ${m.stderr.slice(0, 2000)}`);
    return m;
  };
  const home = path.join(o.workDir, 'ledger');
  fs.rmSync(home, { recursive: true, force: true });
  // Start-up of commands that need no ledger (sql.js and the ledger are never loaded): repeated spawns, as hyperfine does.
  const startup: Array<[string, string[]]> = [
    ['`--version`', ['--version']],
    ['`--help`', ['--help']],
    ['an unknown command', ['no-such-command']],
  ];
  const startupMs: Array<[string, number, number]> = [];
  for (const [label, args] of startup) {
    const { ms, peakMB } = await spawnedMedian(process.execPath, [o.cli, ...args], env(home), { mustSucceed: false });
    startupMs.push([label, ms, peakMB]);
    log(`  ${label}: ${ms.toFixed(0)} ms (median of 10 spawns), peak ${peakMB.toFixed(0)} MB`);
  }
  if (fs.existsSync(path.join(home, 'ledger.sqlite'))) throw new Error('a command that needs no ledger created one');
  const cold = await run(['report', '--json'], home);
  log(`  cold import + report: ${cold.ms.toFixed(0)} ms, peak ${cold.peakMB.toFixed(0)} MB`);
  const peaks: Array<[string, number]> = [['cold report --json', cold.peakMB]];
  const warmImport: number[] = [];
  const warmReport: number[] = [];
  for (let i = 0; i < Math.max(2, o.runs); i++) {
    const a = await run(['import'], home);
    const b = await run(['report', '--json'], home);
    warmImport.push(a.ms);
    warmReport.push(b.ms);
    peaks.push(['warm import', a.peakMB], ['warm report --json', b.peakMB]);
    log(
      `  run ${i + 1}: warm import ${a.ms.toFixed(0)} ms (peak ${a.peakMB.toFixed(0)} MB); warm report --json ${b.ms.toFixed(0)} ms (peak ${b.peakMB.toFixed(0)} MB)`,
    );
  }
  // ccusage right after the warm runs it is compared with (the machine's speed drifts over the minutes that follow).
  const cc = o.ccusage ? await measureCcusage(o.ccusage, env(path.join(o.workDir, 'unused')), o.runs, log) : undefined;
  const report = JSON.parse((await run(['report', '--json', '--no-import'], home)).stdout) as ReportJson;
  const requests = report.totals.interactions;
  log(`  ledger: ${requests} requests`);

  // The other commands on the year, each in a fresh process as a user runs them: a signed summary of the whole year
  // (an annual review, HTML), its check against the ledger, the session list and data health.
  const days = report.byDay.map((d) => d.date).sort();
  const yearSince = days[0] ?? '2026-01-01';
  const yearUntil = days.at(-1) ?? '2026-12-31';
  const summaryFile = path.join(o.workDir, 'year-summary.html');
  const others: Array<[string, string[]]> = [
    [
      'year summary (HTML)',
      [
        'summary',
        '--since',
        yearSince,
        '--until',
        yearUntil,
        '--format',
        'html',
        '--out',
        summaryFile,
        '--force',
        '--no-import',
      ],
    ],
    ['`verify --ledger` of it', ['verify', summaryFile, '--ledger']],
    ['`sessions --json --no-import`', ['sessions', '--json', '--no-import']],
    ['`sessions --no-import` (table)', ['sessions', '--no-import']],
    ['`report --json --by session --no-import`', ['report', '--json', '--by', 'session', '--no-import']],
    ['`health --json`', ['health', '--json']],
    [
      'team rollup export of the year',
      [
        'rollup',
        'export',
        '--since',
        yearSince,
        '--until',
        yearUntil,
        '--out',
        path.join(o.workDir, 'year-rollup.json'),
        '--yes',
        '--force',
        '--no-import',
      ],
    ],
  ];
  const otherFigures: Array<[string, number, number]> = [];
  for (const [label, args] of others) {
    const m = await run(args, home);
    otherFigures.push([label, m.ms, m.peakMB]);
    peaks.push([label, m.peakMB]);
    log(`  ${label}: ${m.ms.toFixed(0)} ms, peak ${m.peakMB.toFixed(0)} MB`);
  }

  // One new turn, into the year's ledger and into an almost empty one (a ledger of the first session only).
  const sessionIds = Object.keys(world.state.claude);
  const target = sessionIds[Math.floor(sessionIds.length / 2)] ?? '';
  const small = path.join(o.workDir, 'small');
  fs.rmSync(small, { recursive: true, force: true });
  const firstFile = world.state.claude[sessionIds[0] ?? '']?.file ?? '';
  const smallHome = path.join(o.workDir, 'small-ledger');
  fs.rmSync(smallHome, { recursive: true, force: true });
  const smallEnv = {
    ...world.env,
    CLAUDE_CONFIG_DIR: path.join(small, 'claude'),
    CODEX_HOME: path.join(small, 'codex'),
  };
  fs.mkdirSync(path.join(small, 'claude', 'projects', 'p'), { recursive: true });
  const smallFile = path.join(small, 'claude', 'projects', 'p', path.basename(firstFile));
  fs.copyFileSync(firstFile, smallFile);
  const smallWorld: World = {
    ...world,
    state: {
      ...world.state,
      claude: {
        [sessionIds[0] ?? '']: {
          ...(world.state.claude[sessionIds[0] ?? ''] as World['state']['claude'][string]),
          file: smallFile,
        },
      },
    },
  };
  const runSmall = async (args: string[]): Promise<Measured> => {
    const m = await measure(process.execPath, [o.cli, ...args], {
      PATH: process.env.PATH ?? '',
      ...smallEnv,
      OUTCOME_LEDGER_HOME: smallHome,
    });
    if (m.code !== 0)
      throw new Error(`outcome-ledger ${args.join(' ')} failed (${m.code}): ${m.stderr.slice(0, 2000)}`);
    return m;
  };
  await runSmall(['import']);
  /** One new turn appended to each world and captured by `args` on each ledger, `o.runs` times (at least 3). */
  const captureTurns = async (
    label: string,
    yearArgs: string[],
    smallArgs: string[],
  ): Promise<{ big: number[]; small: number[] }> => {
    const big: number[] = [];
    const small: number[] = [];
    for (let i = 0; i < Math.max(3, o.runs); i++) {
      appendClaudeTurn(world, target, { steps: 0 });
      const year = await run(yearArgs, home);
      big.push(year.ms);
      peaks.push([`${label} (year)`, year.peakMB]);
      appendClaudeTurn(smallWorld, sessionIds[0] ?? '', { steps: 0 });
      small.push((await runSmall(smallArgs)).ms);
      log(
        `  ${label}: year ${year.ms.toFixed(0)} ms (peak ${year.peakMB.toFixed(0)} MB), almost empty ${small.at(-1)?.toFixed(0)} ms`,
      );
    }
    return { big, small };
  };
  const { big: oneBig, small: oneSmall } = await captureTurns('one new turn', ['import'], ['import']);
  // The same turn captured as an assistant's hook does (`import --file`): no walk of every source's folders.
  const yearFile = world.state.claude[target]?.file ?? '';
  const { big: hookBig, small: hookSmall } = await captureTurns(
    'one new turn, `import --file`',
    ['import', '--file', yearFile],
    ['import', '--file', smallFile],
  );

  // In-process, as the extension captures: an open ledger, importAll of the file its watcher reported; and the full
  // rescan it runs every minute (and when a watcher event names a file it has not seen).
  const inProcess: number[] = [];
  const rescan: number[] = [];
  const lightRescan: number[] = [];
  const ledger = await Ledger.open(home);
  const file = world.state.claude[target]?.file ?? '';
  const sidebar: number[] = [];
  let sidebarRead = 0;
  try {
    await importAll(ledger, { env: world.env });
    // The sidebar's refresh after a capture (the 7 days it opens on), as the extension computes it in its host: the
    // first after the ledger was opened, then warm ones; and the snapshot bytes one refresh reads.
    for (let i = 0; i < 3; i++) {
      const before = ledger.snapshotMemory.read;
      const t = performance.now();
      sidebarSnapshot(ledger.database, {
        timeZone: 'UTC',
        query: DEFAULT_QUERY,
        health: { ledgerFile: ledger.paths.file, env: world.env, extra: [], disabled: new Set() },
      });
      sidebar.push(performance.now() - t);
      if (i === 0) sidebarRead = ledger.snapshotMemory.read - before;
    }
    for (let i = 0; i < Math.max(5, o.runs); i++) {
      appendClaudeTurn(world, target, { steps: 0 });
      const t = performance.now();
      const s = await importAll(ledger, { env: world.env, changed: [file] });
      inProcess.push(performance.now() - t);
      if (s.sources.reduce((n, x) => n + x.interactionsAdded, 0) < 1)
        throw new Error('the in-process capture added nothing');
    }
    // The extension's periodic rescan: a full one every 15 minutes fills the memo; the light ones in between stat only
    // what is not settled (files untouched for an hour, folders of files for two days: ledgerModel.ts).
    const memo = new RescanMemo();
    for (let i = 0; i < 2; i++) {
      appendClaudeTurn(world, target, { steps: 0 });
      const t = performance.now();
      await importAll(ledger, { env: world.env, memo });
      rescan.push(performance.now() - t);
    }
    for (let i = 0; i < 3; i++) {
      appendClaudeTurn(world, target, { steps: 0 });
      const t = performance.now();
      const s = await importAll(ledger, { env: world.env, memo, light: true });
      lightRescan.push(performance.now() - t);
      if (s.sources.reduce((n, x) => n + x.interactionsAdded, 0) < 1) throw new Error('the light rescan added nothing');
    }
  } finally {
    ledger.close();
  }
  log(
    `  in-process captures: ${inProcess.map((v) => v.toFixed(0)).join(', ')} ms; full rescans ${rescan.map((v) => v.toFixed(0)).join(', ')} ms; light rescans ${lightRescan.map((v) => v.toFixed(0)).join(', ')} ms`,
  );
  saveState(o, world);

  const bytes = ledgerBytes(home);
  const peak = peaks.reduce((a, b) => (b[1] > a[1] ? b : a));
  const big = median(oneBig);
  const tiny = median(oneSmall);
  const inProc = median(inProcess);
  figures.push({
    name: `year world: requests in the ledger (${world.files} files, ${(world.bytes / 1e6).toFixed(0)} MB of logs)`,
    value: requests,
    unit: '',
  });
  for (const [label, ms, peakMB] of startupMs) {
    figures.push({ name: `${label} (median of 10 spawns; no sql.js, no ledger)`, value: Math.round(ms), unit: 'ms' });
    figures.push({ name: `${label}: peak memory`, value: Math.round(peakMB), unit: 'MB' });
  }
  figures.push({
    name: 'cold import + report (`report --json`, empty ledger)',
    value: Math.round(cold.ms),
    unit: 'ms',
  });
  figures.push({ name: 'warm `import` (nothing new)', value: Math.round(median(warmImport)), unit: 'ms' });
  figures.push({ name: 'warm `report --json`', value: Math.round(median(warmReport)), unit: 'ms' });
  figures.push({ name: 'one new turn, CLI `import`, year ledger', value: Math.round(big), unit: 'ms' });
  figures.push({ name: 'one new turn, CLI `import`, almost empty ledger', value: Math.round(tiny), unit: 'ms' });
  figures.push(ratioFigure('one new turn: year ÷ almost empty', big, tiny, 1.2));
  const hookYear = median(hookBig);
  const hookTiny = median(hookSmall);
  figures.push({
    name: 'one new turn, CLI `import --file` (a hook), year ledger',
    value: Math.round(hookYear),
    unit: 'ms',
  });
  figures.push({
    name: 'one new turn, CLI `import --file` (a hook), almost empty ledger',
    value: Math.round(hookTiny),
    unit: 'ms',
  });
  figures.push(ratioFigure('one new turn by `import --file`: year ÷ almost empty', hookYear, hookTiny, 1.2));
  figures.push({
    name: 'one new turn, in-process (as the extension)',
    value: Math.round(inProc),
    unit: 'ms',
    target: '< 30 ms',
    pass: inProc < 30,
  });
  figures.push({
    name: 'sidebar refresh in-process, 7 days shown, first after opening',
    value: Math.round(sidebar[0] ?? 0),
    unit: 'ms',
  });
  figures.push({ name: 'sidebar refresh in-process, warm', value: Math.round(median(sidebar.slice(1))), unit: 'ms' });
  figures.push({
    name: 'sidebar refresh: snapshot bytes read by the first',
    value: Math.round(sidebarRead / 1e6),
    unit: 'MB',
  });
  figures.push({
    name: 'in-process full rescan (every 15 minutes, and for a file not seen before)',
    value: Math.round(median(rescan)),
    unit: 'ms',
  });
  figures.push({
    name: 'in-process light rescan (every minute in between; one new turn)',
    value: Math.round(median(lightRescan)),
    unit: 'ms',
  });
  for (const [label, ms, peakMB] of otherFigures) {
    figures.push({ name: `${label}`, value: Math.round(ms), unit: 'ms' });
    figures.push({ name: `${label}: peak memory`, value: Math.round(peakMB), unit: 'MB' });
  }
  figures.push({
    name: `peak memory, any CLI command (${peak[0]})`,
    value: Math.round(peak[1]),
    unit: 'MB',
    target: '≤ 150 MB',
    pass: peak[1] <= 150,
  });
  figures.push({
    name: 'ledger bytes per request (database + journal)',
    value: Math.round(bytes / Math.max(1, requests)),
    unit: 'B',
  });
  if (o.vscode && o.root) figures.push(...extensionHostMemory(o.root, home, world.env, log));
  if (cc) {
    figures.push(...cc.figures);
    figures.push(ratioFigure('warm report --json ÷ ccusage', median(warmReport), cc.ms, 0.25));
    figures.push(ratioFigure('cold import + report ÷ ccusage', cold.ms, cc.ms, 2));
  } else {
    log('  ccusage not available: comparison skipped');
  }
  // What the targets leave once the work no import can skip is paid (bench/floors.ts).
  // The folders the importer itself reads (its sources' roots in the world's environment).
  const roots = sourceRoots(world.env);
  figures.push(
    ...(await floorFigures(
      {
        roots: { claude: roots.get('claude-code') ?? [], codex: roots.get('codex') ?? [] },
        workDir: o.workDir,
        requests,
        sessions: report.totals.sessions,
        runs: o.runs,
        almostEmptyMs: tiny,
        ccusageMs: cc?.ms,
      },
      log,
    )),
  );
  return figures;
}

/**
 * The extension host's memory with the sidebar open on the year's ledger: the VS Code suite's first-paint test reads
 * the host's RSS (its own process) on the suite's small ledger, switches `outcomeLedger.ledgerHome` to the given one
 * and adds the year's log folders to the window's Claude Code and Codex folders (so its watchers and full rescan cover
 * them), shows the view and waits for its first paint and for the model to settle, then reads the RSS again. The difference
 * is what the year's ledger and the view add (the extension itself is already active on the small ledger).
 */
function extensionHostMemory(
  root: string,
  home: string,
  worldEnv: NodeJS.ProcessEnv,
  log: (s: string) => void,
): Figure[] {
  // The year's log folders become the window's too (OL_BENCH_WORLD_ENV): its watchers and scans then cover the
  // year's 53,000 files, as a heavy user's window does, not only the suite's few.
  const run = runFirstPaintTest(root, { OL_BENCH_LEDGER_HOME: home, OL_BENCH_WORLD_ENV: JSON.stringify(worldEnv) });
  if (!run) {
    log("  VS Code tier not available (setup failed): the extension host's memory not measured");
    return [];
  }
  if ('failed' in run) {
    log(`  the extension host's memory: the VS Code run failed:\n${run.failed}`);
    return [
      {
        name: "extension host: memory added by the year's ledger with the sidebar open",
        value: NaN,
        unit: 'MB',
        target: '≤ 100 MB',
        pass: false,
      },
    ];
  }
  const m = run.paint;
  const before = m.rssBefore / 1048576;
  const after = m.rssAfter / 1048576;
  const added = after - before;
  log(
    `  extension host RSS: ${before.toFixed(0)} MB on the suite's small ledger, ${after.toFixed(0)} MB with the sidebar open on the year's ledger (first paint ${(m.firstPaintMs - m.documentMs).toFixed(0)} ms)`,
  );
  const { memoryBefore: was, memoryAfter: is } = m;
  if (was && is) {
    const mb = (k: 'heapUsed' | 'heapTotal' | 'external'): string => `${((is[k] - was[k]) / 1048576).toFixed(0)} MB`;
    log(
      `  of which V8 heap used +${mb('heapUsed')} (reserved +${mb('heapTotal')}), outside V8's heap (sql.js's wasm memory) +${mb('external')}`,
    );
  }
  return [
    { name: 'extension host RSS, extension active on a small ledger', value: Math.round(before), unit: 'MB' },
    { name: "extension host RSS, sidebar open on the year's ledger", value: Math.round(after), unit: 'MB' },
    {
      name: "extension host: memory added by the year's ledger with the sidebar open",
      value: Math.round(added),
      unit: 'MB',
      target: '≤ 100 MB',
      pass: added <= 100,
    },
    {
      name: "sidebar first paint in VS Code on the year's ledger (document → painted)",
      value: Math.round(m.firstPaintMs - m.documentMs),
      unit: 'ms',
    },
  ];
}

interface Saved {
  targetBytes: number;
  world: World;
}

/** The world is kept between runs (its build takes minutes); its truth lists are dropped, the append state kept. */
function loadOrBuild(o: YearBenchOptions, log: (s: string) => void): World {
  const meta = path.join(o.workDir, 'world.json');
  try {
    const saved = JSON.parse(fs.readFileSync(meta, 'utf8')) as Saved;
    if (saved.targetBytes === o.targetBytes && fs.existsSync(saved.world.root)) {
      log(
        `  reusing the year world in ${path.relative(process.cwd(), saved.world.root)} (${saved.world.files} files, ${(saved.world.bytes / 1e6).toFixed(0)} MB)`,
      );
      return saved.world;
    }
  } catch {
    // not built yet
  }
  const root = path.join(o.workDir, 'world');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  log(
    `building a year of heavy use (${(o.targetBytes / 1e6).toFixed(0)} MB of Claude Code and Codex logs over 365 days) …`,
  );
  const built = buildWorld({
    root,
    seed: 2027,
    repos: 0,
    traps: false,
    targetBytes: o.targetBytes,
    toolResultBytes: 200,
    days: 365,
  });
  log(
    `  ${built.files} files, ${(built.bytes / 1e6).toFixed(0)} MB, ${built.truth.interactions.length} requests in ${built.truth.sessions.length} sessions, built in ${(built.buildMs / 1000).toFixed(0)} s`,
  );
  const world: World = {
    ...built,
    truth: { ...built.truth, interactions: [], sessions: [], commits: [], badLineDetails: [] },
  };
  saveState(o, world);
  return world;
}

/**
 * Gives each log file the mtime of its last record and each folder that of its newest entry, as a year of real use
 * leaves them (the world is written in minutes, so every file would otherwise look written today). Reads each file's
 * last 4 KB for its last `"timestamp"`; deepest first, so a folder follows its entries. Returns the files aged.
 */
function ageLikeHistory(root: string): number {
  const entries = fs
    .readdirSync(root, { withFileTypes: true, recursive: true })
    .map((e) => ({ path: path.join(e.parentPath, e.name), dir: e.isDirectory() }))
    .sort((a, b) => b.path.split(path.sep).length - a.path.split(path.sep).length);
  const newest = new Map<string, number>();
  const tail = Buffer.alloc(4096);
  let files = 0;
  for (const e of entries) {
    let ms = newest.get(e.path);
    if (!e.dir) {
      const fd = fs.openSync(e.path, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        const n = fs.readSync(fd, tail, 0, tail.length, Math.max(0, size - tail.length));
        const stamps = tail.toString('utf8', 0, n).match(/"timestamp":\s*"([^"]+)"/g) ?? [];
        const last =
          stamps.length > 0 ? Date.parse(/"([^"]+)"$/.exec(stamps[stamps.length - 1] ?? '')?.[1] ?? '') : NaN;
        if (Number.isFinite(last)) ms = last;
      } finally {
        fs.closeSync(fd);
      }
      files++;
    }
    if (ms === undefined) continue;
    const at = new Date(ms);
    fs.utimesSync(e.path, at, at);
    const parent = path.dirname(e.path);
    newest.set(parent, Math.max(newest.get(parent) ?? 0, ms));
  }
  return files;
}

function saveState(o: YearBenchOptions, world: World): void {
  const light: World = { ...world, truth: { ...world.truth, interactions: [], sessions: [] } };
  fs.writeFileSync(
    path.join(o.workDir, 'world.json'),
    JSON.stringify({ targetBytes: o.targetBytes, world: light } satisfies Saved),
  );
}

function ledgerBytes(home: string): number {
  let total = 0;
  for (const name of ['ledger.sqlite', 'ledger.journal']) {
    try {
      total += fs.statSync(path.join(home, name)).size;
    } catch {
      // no journal (yet)
    }
  }
  return total;
}
