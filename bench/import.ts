import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportJson } from '../src/core/outcomes/report';
import { buildWorld, type World } from '../src/demo/world';
import { ratioFigure } from './figures';
import { measureCcusage, measureOk, median, spawnedMedian } from './measure';

export interface ImportBenchOptions {
  /** Size of the generated logs (default 600 MB). */
  targetBytes: number;
  runs: number;
  workDir: string;
  cli: string;
  ccusage: string | null;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
}

function envOf(world: World, home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', ...world.env, OUTCOME_LEDGER_HOME: home };
}

interface CcusageTotals {
  inputTokens: number;
  outputTokens: number;
  cacheCreationTokens: number;
  cacheReadTokens: number;
  totalTokens: number;
}

/** Cold import, warm re-import + report, peak memory and ledger size, side by side with ccusage on the same files. */
export async function importBench(o: ImportBenchOptions, log: (s: string) => void): Promise<Figure[]> {
  fs.rmSync(o.workDir, { recursive: true, force: true });
  fs.mkdirSync(o.workDir, { recursive: true });
  log(
    `building a ${(o.targetBytes / 1e6).toFixed(0)} MB world (Claude Code lines with tool results of tens of KB; Codex rollouts) …`,
  );
  const world = buildWorld({
    root: path.join(o.workDir, 'world'),
    seed: 2026,
    repos: 0,
    traps: false,
    targetBytes: o.targetBytes,
    toolResultBytes: 30_000,
    days: 90,
  });
  log(
    `  ${world.files} files, ${(world.bytes / 1e6).toFixed(0)} MB, ${world.truth.interactions.length} billed requests, built in ${(world.buildMs / 1000).toFixed(1)} s`,
  );
  // Read every file once so both tools start from the same warm page cache.
  for (const root of [...world.claudeRoots, world.codexHome])
    spawnSync('sh', ['-c', `find "${root}" -type f -exec cat {} + > /dev/null`]);

  const figures: Figure[] = [];
  const ours: { cold: number[]; warm: number[]; peak: number[] } = { cold: [], warm: [], peak: [] };
  let lastHome = '';
  // `report` imports new log lines first, so one command is what a user (and ccusage) runs: on an empty ledger that is
  // the cold import; run again, the warm re-import. `import` alone is measured too, for the record.
  const importOnly: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    const home = path.join(o.workDir, `ledger-${i}`);
    const env = envOf(world, home);
    const cold = await measureOk(process.execPath, [o.cli, 'report', '--json'], env);
    ours.cold.push(cold.ms);
    ours.peak.push(cold.peakMB);
    const warm = await measureOk(process.execPath, [o.cli, 'report', '--json'], env);
    ours.warm.push(warm.ms);
    ours.peak.push(warm.peakMB);
    const alone = await measureOk(
      process.execPath,
      [o.cli, 'import'],
      envOf(world, path.join(o.workDir, `import-only-${i}`)),
    );
    importOnly.push(alone.ms);
    ours.peak.push(alone.peakMB);
    lastHome = home;
    log(
      `  run ${i + 1}: cold report (imports everything) ${cold.ms.toFixed(0)} ms, peak ${cold.peakMB.toFixed(0)} MB; warm report ${warm.ms.toFixed(0)} ms; import alone ${alone.ms.toFixed(0)} ms`,
    );
  }
  const report = JSON.parse(
    (await measureOk(process.execPath, [o.cli, 'report', '--json'], envOf(world, lastHome))).stdout,
  ) as ReportJson;
  const ledgerBytes = fs.statSync(path.join(lastHome, 'ledger.sqlite')).size;
  const interactions = report.totals.interactions;
  const truthTotal = world.truth.interactions.reduce((s, t) => s + t.input + t.output + t.cacheRead + t.cacheWrite, 0);

  const coldMs = median(ours.cold);
  const warmMs = median(ours.warm);
  const peakMB = Math.max(...ours.peak);
  figures.push({
    name: 'cold import + report (Outcome Ledger `report --json` on an empty ledger)',
    value: Math.round(coldMs),
    unit: 'ms',
  });
  figures.push({
    name: 'warm re-import + report (Outcome Ledger `report --json` again)',
    value: Math.round(warmMs),
    unit: 'ms',
  });
  figures.push({ name: 'cold `import` alone', value: Math.round(median(importOnly)), unit: 'ms' });
  figures.push({
    name: 'peak memory (Outcome Ledger, any step)',
    value: Math.round(peakMB),
    unit: 'MB',
    target: '< 200 MB',
    pass: peakMB < 200,
  });
  figures.push({
    name: 'ledger bytes per interaction',
    value: Math.round(ledgerBytes / Math.max(1, interactions)),
    unit: 'B',
    target: '< 300 B',
    pass: ledgerBytes / interactions < 300,
  });
  figures.push({
    name: "totals equal the generator's truth",
    value: report.totals.total === truthTotal ? 1 : 0,
    unit: 'bool',
    target: '1',
    pass: report.totals.total === truthTotal,
  });

  if (!o.ccusage) {
    log('  ccusage not available: comparison skipped');
    return figures;
  }
  const cc = await measureCcusage(o.ccusage, envOf(world, path.join(o.workDir, 'unused')), o.runs, log);
  const ccTotals = (JSON.parse(cc.stdout) as { totals: CcusageTotals }).totals;
  figures.push(...cc.figures);
  figures.push(ratioFigure('cold import + report ÷ ccusage', coldMs, cc.ms, 2));
  figures.push(ratioFigure('warm re-import + report ÷ ccusage', warmMs, cc.ms, 0.25));
  figures.push(...(await startFloors(o.cli, envOf(world, path.join(o.workDir, 'unused')), cc.ms, log)));
  const agree =
    ccTotals.totalTokens === report.totals.total &&
    ccTotals.inputTokens === report.totals.input &&
    ccTotals.outputTokens === report.totals.output &&
    ccTotals.cacheReadTokens === report.totals.cacheRead &&
    ccTotals.cacheCreationTokens === report.totals.cacheWrite;
  figures.push({
    name: `token totals agree with ccusage (${ccTotals.totalTokens} vs ${report.totals.total})`,
    value: agree ? 1 : 0,
    unit: 'bool',
    target: '1',
    pass: agree,
  });
  return figures;
}

/**
 * What the warm target leaves on this world, where ccusage's whole re-read takes well under a second: a bare Node
 * process, and this CLI starting and exiting (`--version`: Node, the launcher and the bundle through its code cache; no
 * sql.js, no ledger, no log read). Each is the median of ten spawns; a warm `report` can be no faster than either.
 */
async function startFloors(
  cli: string,
  env: NodeJS.ProcessEnv,
  ccusageMs: number,
  log: (s: string) => void,
): Promise<Figure[]> {
  const node = (await spawnedMedian(process.execPath, ['-e', '0'], env)).ms;
  const version = (await spawnedMedian(process.execPath, [cli, '--version'], env)).ms;
  log(
    `  floors: a bare Node process ${node.toFixed(0)} ms; \`--version\` ${version.toFixed(0)} ms (medians of 10 spawns)`,
  );
  return [
    { name: 'floor: a bare Node process (`node -e 0`)', value: Math.round(node), unit: 'ms' },
    {
      name: 'floor: the CLI starting and exiting (`--version`: no sql.js, no ledger)',
      value: Math.round(version),
      unit: 'ms',
    },
    ratioFigure('floor of warm re-import + report ÷ ccusage: a bare Node process', node, ccusageMs, 0.25),
    ratioFigure('floor of warm re-import + report ÷ ccusage: the CLI starting (`--version`)', version, ccusageMs, 0.25),
  ];
}
