import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TeamReportJson } from '../src/core/team/merge';
import { syntheticRollup } from '../src/demo/teamRollups';
import { loadOrCreateSigningKey, type SigningKey } from '../src/store/signing';
import type { Figure } from './import';
import { measure, median } from './measure';

export interface RollupsBenchOptions {
  workDir: string;
  cli: string;
  /** Rollup files to merge (default 10,000). */
  files: number;
  runs: number;
}

/** The budget: 10,000 rollups merge within 10 s. */
const MERGE_MS = 10_000;

/**
 * `rollup merge` at organisation scale: `files` signed rollups from members with one to several machines (a few sent
 * twice), in a folder tree like a shared drive, merged by the bundled CLI into a JSON team report. Reports wall time
 * (median of runs) and the process's peak resident memory, for the full set and for the folders `team-1*` (about a fifth of it): a streaming merge
 * keeps memory nearly flat as files grow.
 */
export async function rollupsBench(o: RollupsBenchOptions, log: (s: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = path.join(o.workDir, `rollups-${o.files}`);
  const marker = path.join(dir, '.complete');
  if (!fs.existsSync(marker)) {
    fs.rmSync(dir, { recursive: true, force: true });
    const started = Date.now();
    const members = Math.max(3, Math.floor(o.files / 4));
    const keys: SigningKey[] = [];
    let written = 0;
    for (let i = 0; written < o.files; i++) {
      const m = i % members;
      keys[m] ??= loadOrCreateSigningKey(path.join(o.workDir, 'keys', String(m)));
      const f = syntheticRollup({ key: keys[m] as SigningKey, seed: i + 1, displayName: m % 3 === 0 ? `Member ${m}` : null });
      const folder = path.join(dir, `team-${m % 50}`, `member-${m}`);
      fs.mkdirSync(folder, { recursive: true });
      const text = `${JSON.stringify(f, null, 2)}\n`;
      fs.writeFileSync(path.join(folder, `rollup-${i}.json`), text);
      written++;
      // One file in fifty is sent twice (a copy under another name): it must count once.
      if (i % 50 === 0 && written < o.files) {
        fs.writeFileSync(path.join(folder, `rollup-${i}-again.json`), text);
        written++;
      }
    }
    fs.writeFileSync(marker, '');
    log(`  generated ${o.files} signed rollups in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const run = async (target: string, label: string): Promise<{ ms: number; peakMB: number; team: TeamReportJson }> => {
    const times: number[] = [];
    let peak = 0;
    let team: TeamReportJson | undefined;
    for (let r = 0; r < o.runs; r++) {
      const out = path.join(o.workDir, `team-${label}.json`);
      const m = await measure(process.execPath, [o.cli, 'rollup', 'merge', target, '--format', 'json', '--out', out], { PATH: process.env.PATH ?? '' });
      if (m.code !== 0) throw new Error(`rollup merge failed: ${m.stderr}`);
      times.push(m.ms);
      peak = Math.max(peak, m.peakMB);
      team = JSON.parse(fs.readFileSync(out, 'utf8')) as TeamReportJson;
    }
    return { ms: median(times), peakMB: peak, team: team as TeamReportJson };
  };
  const full = await run(dir, 'full');
  log(`  ${full.team.files.read} files read, ${full.team.files.counted} counted, ${full.team.files.duplicates} duplicates, ${full.team.files.refused} refused; ${full.team.members} members on ${full.team.machines} machines`);
  const part = await run(path.join(dir, 'team-1*'), 'part');
  figures.push(
    { name: `rollup merge, ${full.team.files.read} files`, value: Math.round(full.ms), unit: 'ms', target: `< ${MERGE_MS} ms`, pass: full.ms < MERGE_MS },
    { name: `  peak memory, ${full.team.files.read} files`, value: Math.round(full.peakMB), unit: 'MB' },
    { name: `rollup merge, ${part.team.files.read} files`, value: Math.round(part.ms), unit: 'ms' },
    { name: `  peak memory, ${part.team.files.read} files`, value: Math.round(part.peakMB), unit: 'MB' },
  );
  return figures;
}
