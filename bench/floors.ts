import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Figure } from './import';
import { ratioFigure } from './figures';
import { measureOk, median } from './measure';

export interface FloorOptions {
  /** The year world's log folders (every file under them is a log file the import reads). */
  roots: { claude: string[]; codex: string[] };
  workDir: string;
  requests: number;
  sessions: number;
  runs: number;
  /** One new turn by CLI `import` into the almost empty ledger (its median), from the same run. */
  almostEmptyMs: number;
  /** ccusage's full report on the same files, from the same run (undefined: not available). */
  ccusageMs?: number;
}

/**
 * What the year's speed targets leave once the work no import can skip is paid, each floor measured in a fresh process
 * by bench/floorProbe.ts on the same world and machine as the real commands:
 *
 * - one `stat` of every log file: a warm `import` needs at least that (a file can grow without its folder changing), so
 *   "one new turn through a full CLI `import`, year ÷ almost empty" cannot be below (almost empty + stats) ÷ almost
 *   empty, even if everything else the import does cost nothing;
 * - reading every file and `JSON.parse`-ing the lines that carry usage: what any reader must do (ccusage parses every
 *   line, of Claude Code's files only);
 * - the sql.js inserts of the year's request rows into the ledger's own schema in one transaction (no parsing, no
 *   sessions' sums, no save): so a cold import cannot be below parse + inserts.
 */
export async function floorFigures(o: FloorOptions, log: (s: string) => void): Promise<Figure[]> {
  const probe = path.join(__dirname, 'floorProbe.js');
  const list = (name: string, roots: string[]): { file: string; count: number } => {
    const files: string[] = [];
    for (const root of roots) {
      if (!fs.existsSync(root)) continue;
      for (const e of fs.readdirSync(root, { withFileTypes: true, recursive: true }))
        if (e.isFile()) files.push(path.join(e.parentPath, e.name));
    }
    const file = path.join(o.workDir, `${name}.files`);
    fs.writeFileSync(file, `${files.join('\n')}\n`);
    return { file, count: files.length };
  };
  fs.mkdirSync(o.workDir, { recursive: true });
  const all = list('all', [...o.roots.claude, ...o.roots.codex]);
  const claude = list('claude', o.roots.claude);
  const codex = list('codex', o.roots.codex);
  const env = { PATH: process.env.PATH ?? '' };
  const probeRun = async <T>(args: string[]): Promise<T> =>
    JSON.parse((await measureOk(process.execPath, [probe, ...args], env)).stdout) as T;
  const runs = Math.max(3, o.runs);
  const statMs: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < runs; i++) {
    statMs.push((await probeRun<{ ms: number }>(['stat', all.file])).ms);
    bare.push((await measureOk(process.execPath, ['-e', '0'], env)).ms);
  }
  const stat = median(statMs);
  const node = median(bare);
  log(
    `  floors: a bare Node process ${node.toFixed(0)} ms; one stat of each of ${all.count} log files ${stat.toFixed(0)} ms (${((stat / all.count) * 1000).toFixed(1)} µs each)`,
  );
  const parseClaude = await probeRun<{ ms: number; lines: number }>(['parse', claude.file, '"usage"']);
  const parseCodex = await probeRun<{ ms: number; lines: number }>(['parse', codex.file, '"token_count"']);
  const parse = { ms: parseClaude.ms + parseCodex.ms, lines: parseClaude.lines + parseCodex.lines };
  const insert = await probeRun<{ ms: number }>([
    'insert',
    path.join(o.workDir, 'floor-ledger'),
    String(o.requests),
    String(o.sessions),
  ]);
  log(
    `  floors: read every file, JSON.parse the ${parse.lines} lines with usage ${parse.ms.toFixed(0)} ms (Claude Code's files ${parseClaude.ms.toFixed(0)} ms); sql.js inserts of ${o.requests} requests ${insert.ms.toFixed(0)} ms`,
  );
  const figures: Figure[] = [
    { name: 'floor: a bare Node process (`node -e 0`)', value: Math.round(node), unit: 'ms' },
    { name: `floor: one \`stat\` of each of the year's ${all.count} log files`, value: Math.round(stat), unit: 'ms' },
    ratioFigure(
      'floor of one new turn by CLI `import`, year ÷ almost empty, if the import did nothing but those stats',
      o.almostEmptyMs + stat,
      o.almostEmptyMs,
      1.2,
    ),
    {
      name: `floor: read every log file and \`JSON.parse\` the ${parse.lines} lines that carry usage`,
      value: Math.round(parse.ms),
      unit: 'ms',
    },
    {
      name: "floor: the same for Claude Code's files alone (the files ccusage reads, all of whose lines it parses)",
      value: Math.round(parseClaude.ms),
      unit: 'ms',
    },
    {
      name: `floor: sql.js inserts of the year's ${o.requests} request rows into the ledger's schema (one transaction)`,
      value: Math.round(insert.ms),
      unit: 'ms',
    },
  ];
  if (o.ccusageMs !== undefined) {
    figures.push(
      ratioFigure(
        'floor of cold import ÷ ccusage: Node + parse + inserts, nothing else',
        node + parse.ms + insert.ms,
        o.ccusageMs,
        2,
      ),
      ratioFigure(
        'floor of warm `report --json` ÷ ccusage: Node + the stats, nothing else',
        node + stat,
        o.ccusageMs,
        0.25,
      ),
    );
  }
  return figures;
}
