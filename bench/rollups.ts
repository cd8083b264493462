import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TeamReportJson } from '../src/core/team/merge';
import { syntheticRollup } from '../src/demo/teamRollups';
import { ephemeralSigningKey, type SigningKey } from '../src/store/signing';
import type { Figure } from './import';
import { measure, median } from './measure';

export interface RollupsBenchOptions {
  workDir: string;
  cli: string;
  /** Rollup files to merge (default 100,000). */
  files: number;
  runs: number;
}

/** The budget: 100,000 rollups in a folder tree merge within 30 s and 200 MB. */
const MERGE_MS = 30_000;
const MERGE_MB = 200;
/**
 * Bumped whenever what the generator writes changes: the generated set is cached under the system's temp folder by
 * this version and the file count, so a second run measures the merge, not the generation.
 */
const GENERATOR_VERSION = 2;
const NAMES = [
  'Ana',
  'Bo',
  'Chiara',
  'Dmitri',
  'Eun-ji',
  'Farah',
  'Gustavo',
  'Hana',
  'Ines',
  "Jo O'Neill",
  'Kwame',
  'Lea',
];

/** Writes `files` signed rollups (with a roster of their keys) into `dir`, unless a complete set is already there. */
export function generateRollups(dir: string, files: number, log: (s: string) => void): void {
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  const started = Date.now();
  const members = Math.max(3, Math.floor(files / 4));
  // Keys live in memory (one Ed25519 key per member; no key file each): generating 100,000 files takes seconds.
  const keys: SigningKey[] = [];
  let written = 0;
  for (let i = 0; written < files; i++) {
    const m = i % members;
    keys[m] ??= ephemeralSigningKey();
    const f = syntheticRollup({
      key: keys[m] as SigningKey,
      seed: i + 1,
      displayName: m % 3 === 0 ? NAMES[m % NAMES.length] : null,
    });
    const folder = path.join(dir, `team-${m % 50}`, `member-${m}`);
    fs.mkdirSync(folder, { recursive: true });
    const text = `${JSON.stringify(f, null, 2)}\n`;
    fs.writeFileSync(path.join(folder, `rollup-${i}.json`), text);
    written++;
    // One file in fifty is sent twice (a copy under another name): it must count once.
    if (i % 50 === 0 && written < files) {
      fs.writeFileSync(path.join(folder, `rollup-${i}-again.json`), text);
      written++;
    }
  }
  // The team's roster: one key fingerprint per line (the merge refuses keys outside it).
  fs.writeFileSync(path.join(dir, 'roster.txt'), `${keys.map((k) => k.fingerprint).join('\n')}\n`);
  fs.writeFileSync(marker, '');
  log(`  generated ${files} signed rollups in ${((Date.now() - started) / 1000).toFixed(1)} s (cached in ${dir})`);
}

/**
 * `rollup merge` at organisation scale: `files` signed rollups from members with one to several machines (a few sent
 * twice), in a folder tree like a shared drive, merged by the bundled CLI against the roster into NDJSON for a
 * warehouse. Reports wall time (median of runs) and the process's peak resident memory, for the full set and for the
 * folders `team-1*` (about a fifth of it): a streaming merge keeps memory nearly flat as files grow.
 */
export async function rollupsBench(o: RollupsBenchOptions, log: (s: string) => void): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = path.join(os.tmpdir(), 'outcome-ledger-bench', `rollups-v${GENERATOR_VERSION}-${o.files}`);
  generateRollups(dir, o.files, log);
  fs.mkdirSync(o.workDir, { recursive: true });
  const run = async (target: string, label: string): Promise<{ ms: number; peakMB: number; team: TeamReportJson }> => {
    const times: number[] = [];
    let peak = 0;
    let team: TeamReportJson | undefined;
    for (let r = 0; r < o.runs; r++) {
      const out = path.join(o.workDir, `team-${label}.json`);
      const args = [
        o.cli,
        'rollup',
        'merge',
        target,
        '--members',
        path.join(dir, 'roster.txt'),
        '--format',
        'json',
        '--out',
        out,
        '--force',
      ];
      // Each run is a new publication of the same report: the state file of the output folder starts empty.
      fs.rmSync(path.join(o.workDir, '.outcome-ledger-team-reports.json'), { force: true });
      const m = await measure(process.execPath, args, { PATH: process.env.PATH ?? '' });
      if (m.code !== 0) throw new Error(`rollup merge failed: ${m.stderr}`);
      times.push(m.ms);
      peak = Math.max(peak, m.peakMB);
      team = JSON.parse(fs.readFileSync(out, 'utf8')) as TeamReportJson;
    }
    return { ms: median(times), peakMB: peak, team: team as TeamReportJson };
  };
  const full = await run(dir, 'full');
  const f = full.team.files;
  log(
    `  ${f.read} files read, ${f.counted} counted, ${f.duplicates} duplicates, ${f.refused} refused; ${full.team.members} members on ${full.team.machines} machines`,
  );
  const part = await run(path.join(dir, 'team-1*'), 'part');
  figures.push(
    {
      name: `rollup merge, ${f.read} files`,
      value: Math.round(full.ms),
      unit: 'ms',
      target: `≤ ${MERGE_MS} ms`,
      pass: full.ms <= MERGE_MS,
    },
    {
      name: `  peak memory, ${f.read} files`,
      value: Math.round(full.peakMB),
      unit: 'MB',
      target: `≤ ${MERGE_MB} MB`,
      pass: full.peakMB <= MERGE_MB,
    },
    { name: `rollup merge, ${part.team.files.read} files`, value: Math.round(part.ms), unit: 'ms' },
    { name: `  peak memory, ${part.team.files.read} files`, value: Math.round(part.peakMB), unit: 'MB' },
  );
  return figures;
}
