/**
 * The state a world is built in (Builder: options, random streams, projects, planned slots, the truth so far) and
 * the projects it starts from. The steps over it: plan.ts, generate.ts (with writers.ts and badLines.ts), truth.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng, type TextPool } from '../rng';
import type { BadLine, TruthInteraction, TruthSession, TruthSource } from '../truth';
import type { ClaudeLive } from '../claude';
import { GitWorld } from '../git';
import { MIN, DAY, DEFAULT_END, PROJECT_DEFS, FAKE_SUBDIR, poolFor } from './common';
import type { WorldOptions, WorldState } from './types';

/** Writes log files and counts them. */
class Sink {
  files = 0;
  bytes = 0;
  private readonly dirs = new Set<string>();

  private mkdir(dir: string): void {
    if (this.dirs.has(dir)) return;
    fs.mkdirSync(dir, { recursive: true });
    this.dirs.add(dir);
  }

  write(file: string, lines: string[]): void {
    this.mkdir(path.dirname(file));
    const buf = Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'utf8');
    fs.writeFileSync(file, buf);
    this.files++;
    this.bytes += buf.length;
  }

  copy(from: string, to: string): void {
    this.mkdir(path.dirname(to));
    fs.copyFileSync(from, to);
    this.files++;
    this.bytes += fs.statSync(to).size;
  }
}

// Planning types

export interface Project {
  name: string;
  key: string;
  areas: string[];
  /** Main working tree (real repo) or a non-existent dir under root/projects. */
  dir: string;
  repoIdx: number | null;
  files: Map<string, string>;
  editable: string[];
  nextKey: number;
  nextPr: number;
  newFiles: number;
}

export interface Group {
  project: number;
  key: string;
  title: string;
  area: string;
  branch: string;
  slots: Slot[];
  worktree: string | null;
  squash: boolean;
  open: boolean;
  pr: number;
  lastCommitT: number;
}

export interface Slot {
  i: number;
  project: number;
  start: number;
  source: TruthSource;
  role: 'task' | 'exploration';
  group: Group | null;
  traps: Set<string>;
  rootIdx: number;
  badLines: number;
  id: string;
  /** Claude: the session this one resumes. */
  resumes: Slot | null;
}

export interface Generated {
  truth: TruthSession;
  mainFile: string;
  /** Claude: the clean main lines (for a resumed copy). */
  lines: string[];
  lastUuid: string | null;
  live: ClaudeLive | null;
  creates: Set<string>;
}

function buildProjectFiles(r: Rng, pool: TextPool, def: { name: string; areas: string[] }): Map<string, string> {
  const code = (n: number): string => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(pool.slice(r, 'code', r.int(20, 90)).replace(/\n/g, ' '));
    return `${out.join('\n')}\n`;
  };
  const m = new Map<string, string>();
  m.set('README.md', `# ${def.name}\n\n${pool.words(r, 30)}\n`);
  m.set(
    'package.json',
    `${JSON.stringify({ name: def.name, version: '1.4.0', private: true, scripts: { test: 'vitest run', build: 'tsc -p .' } }, null, 2)}\n`,
  );
  m.set('tsconfig.json', `${JSON.stringify({ compilerOptions: { strict: true, target: 'ES2022' } }, null, 2)}\n`);
  m.set('src/index.ts', code(r.int(10, 30)));
  m.set('src/config.ts', code(r.int(10, 30)));
  for (const a of def.areas) {
    m.set(`src/${a}.ts`, code(r.int(15, 40)));
    m.set(`test/${a}.test.ts`, code(r.int(10, 30)));
  }
  m.set('src/lib/db.ts', code(r.int(10, 30)));
  m.set('src/lib/log.ts', code(r.int(5, 15)));
  m.set(`${FAKE_SUBDIR}/package.json`, `${JSON.stringify({ name: `@${def.name}/core`, version: '0.3.0' }, null, 2)}\n`);
  m.set(`${FAKE_SUBDIR}/src/index.ts`, code(r.int(5, 15)));
  m.set(`${FAKE_SUBDIR}/src/types.ts`, code(r.int(10, 25)));
  m.set(`${FAKE_SUBDIR}/src/util.ts`, code(r.int(10, 25)));
  m.set('docs/architecture.md', `# Architecture\n\n${pool.words(r, 60)}\n`);
  m.set(
    'notebooks/analysis.ipynb',
    `${JSON.stringify({ cells: [{ cell_type: 'code', id: 'cell-0', metadata: {}, source: ['import pandas as pd\n'], outputs: [], execution_count: null }], metadata: {}, nbformat: 4, nbformat_minor: 5 }, null, 1)}\n`,
  );
  m.set('CHANGELOG.md', '# Changelog\n\n');
  m.set('docs/runbook.md', '# Runbook\n\n');
  return m;
}

export const HUMAN_FILES = ['CHANGELOG.md', 'docs/runbook.md', '.github/CODEOWNERS'];
const NOT_EDITABLE = new Set([
  'CHANGELOG.md',
  'docs/runbook.md',
  'package.json',
  'tsconfig.json',
  'notebooks/analysis.ipynb',
  `${FAKE_SUBDIR}/package.json`,
]);

export class Builder {
  readonly root: string;
  readonly home: string;
  readonly claudeRoots: string[];
  readonly codexHome: string;
  readonly end: number;
  readonly ws: number;
  readonly seed: number;
  readonly trb: number;
  readonly trapsOn: boolean;
  readonly rng: Rng;
  readonly pool: TextPool;
  readonly sink = new Sink();
  readonly git: GitWorld | null;
  readonly projects: Project[] = [];
  readonly slots: Slot[] = [];
  readonly groups: Group[] = [];
  readonly interactions: TruthInteraction[] = [];
  readonly sessions = new Map<string, TruthSession>();
  readonly generated = new Map<string, Generated>();
  readonly badLineDetails: BadLine[] = [];
  readonly traps: Record<string, string[]> = {};
  readonly state: WorldState;
  readonly opts: WorldOptions;

  constructor(opts: WorldOptions) {
    this.opts = opts;
    fs.mkdirSync(opts.root, { recursive: true });
    this.root = fs.realpathSync(opts.root);
    this.home = path.join(this.root, 'home');
    this.claudeRoots = [path.join(this.home, '.claude'), path.join(this.home, '.config', 'claude')];
    this.codexHome = path.join(this.home, '.codex');
    this.end = (opts.end ?? DEFAULT_END).getTime();
    this.ws = this.end - (opts.days ?? 14) * DAY;
    this.seed = opts.seed ?? 1;
    this.trb = opts.toolResultBytes ?? 2000;
    this.trapsOn = opts.traps ?? true;
    this.rng = new Rng(this.seed);
    this.pool = poolFor(this.seed);
    for (const d of [
      ...this.claudeRoots.map((c) => path.join(c, 'projects')),
      path.join(this.codexHome, 'sessions'),
      path.join(this.codexHome, 'archived_sessions'),
    ]) {
      fs.mkdirSync(d, { recursive: true });
    }
    fs.mkdirSync(path.join(this.home, '.local', 'share'), { recursive: true });
    const nRepos = Math.max(0, Math.floor(opts.repos ?? 3));
    this.git = nRepos > 0 ? new GitWorld(this.home, this.rng.fork('git'), this.pool) : null;
    this.state = { seed: this.seed, toolResultBytes: this.trb, appends: 0, claude: {}, codex: {}, pending: {} };
  }

  trap(name: string, where: string): void {
    (this.traps[name] ??= []).push(where);
  }

  // -- projects ------------------------------------------------------------------------------------------------

  setupProjects(): void {
    const nRepos = Math.max(0, Math.floor(this.opts.repos ?? 3));
    const n = nRepos > 0 ? nRepos : 3;
    const r = this.rng.fork('projects');
    for (let i = 0; i < n; i++) {
      const base = PROJECT_DEFS[i % PROJECT_DEFS.length] ?? { name: 'service', key: 'SVC', areas: ['core'] };
      const suffix = i >= PROJECT_DEFS.length ? `-${Math.floor(i / PROJECT_DEFS.length) + 1}` : '';
      const key =
        i >= PROJECT_DEFS.length
          ? `${base.key}${String.fromCharCode(65 + (Math.floor(i / PROJECT_DEFS.length) % 26))}`
          : base.key;
      const name = `${base.name}${suffix}`;
      const files = buildProjectFiles(r, this.pool, { name, areas: base.areas });
      const dir = nRepos > 0 ? path.join(this.root, 'repos', name) : path.join(this.root, 'projects', name);
      const editable = [...files.keys()].filter((f) => !NOT_EDITABLE.has(f));
      let repoIdx: number | null = null;
      if (this.git) repoIdx = this.git.addRepo(name, dir, files, this.ws - DAY + i * 7 * MIN);
      this.projects.push({
        name,
        key,
        areas: base.areas,
        dir,
        repoIdx,
        files,
        editable,
        nextKey: r.int(5, 60),
        nextPr: r.int(10, 80),
        newFiles: 0,
      });
    }
  }
}
