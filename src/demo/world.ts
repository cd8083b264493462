/**
 * A deterministic, realistic "world" in a temp dir: real git repositories plus Claude Code and Codex CLI logs in their
 * real on-disk formats (with every known trap), and the exact truth an importer must find.
 *
 * Used by `npm run demo`, by integration tests (import the world, compare the report to the truth per source, model
 * and day) and by the benchmark (targetBytes: ~600 MB of logs). Node built-ins only.
 *
 * Traps (traps: true; `truth.traps` says where each one is) and how the truth treats them:
 * - Claude: one line per content block, earlier blocks with a partial usage -> one interaction, the final usage;
 *   a resumed session (new file, new id) that first copies another session's lines verbatim -> counted once, in the
 *   original session; subagent files `<enc>/<id>/subagents/agent-<8hex>.jsonl` (isSidechain, parent's sessionId)
 *   -> counted, attributed to the parent, sidechain: true; the subagent's last message also written into the parent
 *   file as a non-sidechain copy -> counted once, sidechain: false; `<synthetic>` lines and isApiErrorMessage lines
 *   (both with nonzero usage) -> never counted; a message without requestId -> deduplicated by message.id alone;
 *   an old-version session with costUSD -> counted, costUSD kept; two roots (CLAUDE_CONFIG_DIR lists both; the second
 *   is also $XDG_CONFIG_HOME/claude) and one file copied into both -> counted once; a session whose cwd is a repo
 *   subdirectory (repo = the repo root, edited files repo-relative); sessions in a `git worktree` (repo = the
 *   worktree root); a mid-session model switch; Task tool results carrying a `usage` object (not an assistant line).
 * - Codex: token_count re-emitted with an unchanged total -> not counted again; `info: null` -> nothing; a total
 *   that drops after `compacted` -> that event counts its last_token_usage, later events are deltas from it; an
 *   active file copied verbatim into archived_sessions/ (same name) -> counted once; a session only in
 *   archived_sessions/ -> counted; a session without turn_context -> model "gpt-5", modelAssumed: true; a model
 *   switch by turn_context; apply_patch edits via custom_tool_call (Update File, Add File) and via a shell
 *   function_call `["apply_patch", ...]`, paths relative to cwd (truth: repo-relative).
 * - badLines (not JSON, truncated JSON, wrong-typed usage, unknown shapes) and halfWrittenTail never change the truth;
 *   a half-written line counts once an append completes it (appendClaudeTurn/appendCodexTurn return it then).
 * - Git: task branches carrying keys (feature/PAY-7), a commit right after each editing session touching exactly the
 *   files it edited (some with a Co-authored-by: Claude trailer), merges (--no-ff), one squash merge, one branch left
 *   open, human-only commits far from any session, exploration sessions that edit nothing; see `truth.commits`.
 *
 * Determinism: all randomness comes from the seed; with the same seed and a root path of the same length the files
 * are byte-identical once the root path is substituted (paths are written into the logs), and commit shas match.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng, TextPool } from './rng';
import {
  type BadLine,
  type BadLineKind,
  type TruthInteraction,
  type TruthSession,
  type TruthSource,
  type WorldTruth,
} from './truth';
import {
  CLAUDE_HAIKU,
  CLAUDE_OLD_VERSION,
  CLAUDE_OPUS,
  CLAUDE_SONNET,
  CLAUDE_VERSIONS,
  type ClaudeAction,
  type ClaudeEdit,
  type ClaudeLive,
  ClaudeWriter,
  encodeProjectDir,
} from './claude';
import {
  CODEX_MODELS,
  CODEX_VERSIONS,
  type CodexCall,
  type CodexLive,
  type CodexPatchFile,
  CodexWriter,
  rolloutRelPath,
  zeroOa,
} from './codex';
import { type FileChange, GitWorld, TEAMMATE, ENGINEER } from './git';
import { estimateTokens } from '../sources/tokenize';
import { copilotWorkspace, writeCopilotJson, writeCopilotJsonl, type CopilotRequestSpec, type CopilotTokenStyle } from './copilot';

export { encodeProjectDir } from './claude';
export { CODEX_DEFAULT_MODEL } from './codex';

// ---------------------------------------------------------------------------------------------------------------
// Public types

export interface WorldOptions {
  /** Existing (ideally empty) dir; everything goes under it. */
  root: string;
  /** Deterministic PRNG seed: same seed (and same root) => byte-identical files. Default 1. */
  seed?: number;
  /** Last moment of history. Default 2026-11-20T18:00:00Z (the demo passes new Date()). */
  end?: Date;
  /** History span ending at `end`, in days. Default 14. */
  days?: number;
  /** Default 12. */
  claudeSessions?: number;
  /** Default 6. */
  codexSessions?: number;
  /** Real git repositories. Default 3; 0 = no git at all (cwds then point at non-existent dirs under root/projects). */
  repos?: number;
  /** Include every trap (resumed copies, subagents, synthetic lines, archived copies, ...). Default true. */
  traps?: boolean;
  /** Garbage lines injected into random log files; they never change the truth. Default 0. */
  badLines?: number;
  /** Average size of tool-result payloads. Default 2000 (the bench uses ~30000). */
  toolResultBytes?: number;
  /** Keep adding sessions until the log files total at least this many bytes. */
  targetBytes?: number;
  /** Leave a half-written last line (no trailing newline) in one Claude and one Codex file; NOT in the truth. */
  halfWrittenTail?: boolean;
  /**
   * GitHub Copilot Chat sessions in `home/.config/Code/User` (every format: `.jsonl` mutation logs with
   * result.metadata counts, one of them compacted; older `.json` with result.usage; the oldest `.json` without counts,
   * estimated with the tokenizer). Default 0: worlds without it are byte-identical to before.
   */
  copilotSessions?: number;
}


export interface ClaudeSessionState {
  file: string;
  live: ClaudeLive;
  /** Base for relative paths given to appends (repo root, or cwd). */
  base: string;
}

export interface CodexSessionState {
  file: string;
  live: CodexLive;
  base: string;
}

export interface PendingTail {
  source: TruthSource;
  sessionId: string;
  rest: string;
  truth: TruthInteraction;
  claude?: ClaudeLive;
  codex?: CodexLive;
}

/** What the append helpers need to continue writing; plain data. */
export interface WorldState {
  seed: number;
  toolResultBytes: number;
  appends: number;
  claude: Record<string, ClaudeSessionState>;
  codex: Record<string, CodexSessionState>;
  /** Half-written last lines, by file. */
  pending: Record<string, PendingTail>;
}

export interface World {
  root: string;
  /** Fake $HOME under root. */
  home: string;
  /** Env vars to run the importer against this world. */
  env: Record<string, string>;
  claudeRoots: string[];
  codexHome: string;
  /** Absolute roots of the main working trees. */
  repos: string[];
  start: number;
  end: number;
  truth: WorldTruth;
  /** Log files written and their total size in bytes. */
  files: number;
  bytes: number;
  /** Generation time in ms. */
  buildMs: number;
  state: WorldState;
}

// ---------------------------------------------------------------------------------------------------------------
// Constants and small helpers

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
export const DEFAULT_END = new Date('2026-11-20T18:00:00Z');

const PROJECT_DEFS: { name: string; key: string; areas: string[] }[] = [
  { name: 'payments-api', key: 'PAY', areas: ['refunds', 'invoices', 'money', 'webhooks'] },
  { name: 'web-dashboard', key: 'WEB', areas: ['charts', 'filters', 'auth', 'settings'] },
  { name: 'infra-tools', key: 'OPS', areas: ['deploy', 'metrics', 'alerts', 'backup'] },
  { name: 'data-pipeline', key: 'DATA', areas: ['ingest', 'transform', 'schema', 'export'] },
  { name: 'mobile-app', key: 'MOB', areas: ['sync', 'push', 'offline', 'profile'] },
];

const TASK_TITLES = [
  'Add idempotency keys to {area}',
  'Fix rounding bug in {area}',
  'Refactor the {area} handler',
  'Add retries with backoff to the {area} client',
  'Paginate the {area} listing',
  'Validate {area} input at the boundary',
  'Add structured logging to {area}',
  'Speed up the {area} query',
];

const FOLLOW_UPS = [
  'Run the tests again and fix what fails.',
  'Looks good. Also handle the case where the amount is zero.',
  'Can you add a test for that?',
  'Please update the docs as well.',
  'Why is this slower than before? Check the query plan.',
  'Revert the last change to the config, keep the rest.',
  'Now type-check the whole project.',
];

const EXPLORE_PROMPTS = [
  'How does the {area} flow work end to end? Just explain, do not change anything.',
  'Where do we validate {area} requests? Give me the files.',
  'Review the {area} module for obvious bugs, no edits please.',
];

const FAKE_SUBDIR = 'packages/core';

function posixRel(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join('/');
}

function uniqSorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

function slugOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .split('-')
    .slice(0, 3)
    .join('-');
}

const poolCache = new Map<number, TextPool>();
function poolFor(seed: number): TextPool {
  let p = poolCache.get(seed);
  if (!p) {
    p = new TextPool(new Rng(seed).fork('pool'));
    poolCache.set(seed, p);
  }
  return p;
}

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

// ---------------------------------------------------------------------------------------------------------------
// Planning

interface Project {
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

interface Group {
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

interface Slot {
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

interface Generated {
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
  m.set('package.json', `${JSON.stringify({ name: def.name, version: '1.4.0', private: true, scripts: { test: 'vitest run', build: 'tsc -p .' } }, null, 2)}\n`);
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

const HUMAN_FILES = ['CHANGELOG.md', 'docs/runbook.md', '.github/CODEOWNERS'];
const NOT_EDITABLE = new Set(['CHANGELOG.md', 'docs/runbook.md', 'package.json', 'tsconfig.json', 'notebooks/analysis.ipynb', `${FAKE_SUBDIR}/package.json`]);

// ---------------------------------------------------------------------------------------------------------------
// The builder

class Builder {
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
    for (const d of [...this.claudeRoots.map((c) => path.join(c, 'projects')), path.join(this.codexHome, 'sessions'), path.join(this.codexHome, 'archived_sessions')]) {
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
      const key = i >= PROJECT_DEFS.length ? `${base.key}${String.fromCharCode(65 + (Math.floor(i / PROJECT_DEFS.length) % 26))}` : base.key;
      const name = `${base.name}${suffix}`;
      const files = buildProjectFiles(r, this.pool, { name, areas: base.areas });
      const dir = nRepos > 0 ? path.join(this.root, 'repos', name) : path.join(this.root, 'projects', name);
      const editable = [...files.keys()].filter((f) => !NOT_EDITABLE.has(f));
      let repoIdx: number | null = null;
      if (this.git) repoIdx = this.git.addRepo(name, dir, files, this.ws - DAY + i * 7 * MIN);
      this.projects.push({ name, key, areas: base.areas, dir, repoIdx, files, editable, nextKey: r.int(5, 60), nextPr: r.int(10, 80), newFiles: 0 });
    }
  }

  // -- plan ----------------------------------------------------------------------------------------------------

  plan(): void {
    const r = this.rng.fork('plan');
    const nClaude = Math.max(0, Math.floor(this.opts.claudeSessions ?? 12));
    const nCodex = Math.max(0, Math.floor(this.opts.codexSessions ?? 6));
    const n = nClaude + nCodex;
    const nProj = this.projects.length;
    const order = r.shuffle([...Array(n).keys()]);
    const perProject: Slot[][] = this.projects.map(() => []);
    for (let k = 0; k < n; k++) {
      const p = k % nProj;
      const slot: Slot = {
        i: order[k] ?? k,
        project: p,
        start: 0,
        source: 'claude-code',
        role: 'task',
        group: null,
        traps: new Set(),
        rootIdx: 0,
        badLines: 0,
        id: '',
        resumes: null,
      };
      perProject[p]?.push(slot);
      this.slots.push(slot);
    }
    // Times: per project, one slot per segment of the window, at least ~2 h apart.
    const lo = this.ws + 20 * MIN;
    const hi = this.end - 75 * MIN;
    for (const list of perProject) {
      if (list.length === 0) continue;
      const seg = (hi - lo) / list.length;
      list.forEach((s, i) => {
        s.start = Math.floor(lo + i * seg + r.next() * Math.max(0, seg - 130 * MIN));
      });
    }
    // Roles and task groups.
    let resumeGroup: Group | null = null;
    perProject.forEach((list, p) => {
      const proj = this.projects[p];
      if (!proj) return;
      const explore = list.length >= 3 ? r.int(0, list.length - 1) : -1;
      let cur: Group | null = null;
      let want = 0;
      list.forEach((s, i) => {
        if (i === explore) {
          s.role = 'exploration';
          return;
        }
        if (!cur || cur.slots.length >= want) {
          const area = r.pick(proj.areas);
          const key = `${proj.key}-${proj.nextKey}`;
          proj.nextKey += r.int(1, 9);
          const title = r.pick(TASK_TITLES).replace('{area}', area);
          const slug = slugOf(title);
          const branch = r.chance(0.75) ? `feature/${key}` : r.chance(0.5) ? `fix/${key}-${slug}` : `${key.toLowerCase()}-${slug}`;
          cur = { project: p, key, title, area, branch, slots: [], worktree: null, squash: false, open: false, pr: proj.nextPr, lastCommitT: 0 };
          proj.nextPr += r.int(1, 3);
          this.groups.push(cur);
          want = p === 0 && resumeGroup === null && this.trapsOn ? 2 : r.chance(0.4) ? 2 : 1;
          if (p === 0 && resumeGroup === null && this.trapsOn) resumeGroup = cur;
        }
        s.group = cur;
        cur.slots.push(s);
      });
    });
    // Sources: the resumed pair is Claude; the rest at random.
    const rg = resumeGroup as Group | null;
    const pair = rg && rg.slots.length === 2 && nClaude >= 2 ? rg.slots : [];
    const rest = this.slots.filter((s) => !pair.includes(s));
    const sources: TruthSource[] = [];
    for (let k = 0; k < nClaude - pair.length; k++) sources.push('claude-code');
    for (let k = 0; k < nCodex; k++) sources.push('codex');
    r.shuffle(sources);
    rest.forEach((s, k) => {
      s.source = sources[k] ?? 'claude-code';
    });
    for (const s of pair) s.source = 'claude-code';
    const [pa, pb] = pair;
    if (pa && pb) {
      pb.resumes = pa;
      pa.traps.add('resumed-source');
      pb.traps.add('resumed');
    }
    for (const s of this.slots) {
      s.id = s.source === 'claude-code' ? r.uuid4() : r.uuid7(s.start);
    }
    // Git flags.
    if (this.git && this.trapsOn) {
      // A worktree task, preferably in the first repo and with a Claude session in it.
      const others = this.groups.filter((g) => g !== rg).sort((a, b) => a.project - b.project);
      const wt = others.find((g) => g.slots.some((s) => s.source === 'claude-code')) ?? others[0];
      const wtProj = wt ? this.projects[wt.project] : undefined;
      if (wt && wtProj) wt.worktree = path.join(this.root, 'repos', `${wtProj.name}-wt-${wt.key.toLowerCase()}`);
      const lastProj = this.projects.length - 1;
      const lastGroups = this.groups.filter((g) => g.project === lastProj);
      const openG = lastGroups.length >= 2 ? lastGroups[lastGroups.length - 1] : undefined;
      if (openG) openG.open = true;
      const sq = this.groups.find((g) => g.project === Math.min(1, lastProj) && !g.open && g.worktree === null && g !== rg) ?? this.groups.find((g) => !g.open && g.worktree === null && g !== rg);
      if (sq) sq.squash = true;
    }
    // Claude traps.
    const claude = r.shuffle(this.slots.filter((s) => s.source === 'claude-code' && s.resumes === null && !s.traps.has('resumed-source')));
    const claudeAll = claude.length > 0 ? claude : this.slots.filter((s) => s.source === 'claude-code');
    const claudeTraps: { name: string; ok: (s: Slot) => boolean }[] = [];
    if (this.trapsOn) {
      claudeTraps.push(
        { name: 'subagent', ok: () => true },
        { name: 'synthetic', ok: () => true },
        { name: 'no-request-id', ok: () => true },
        { name: 'cost-usd', ok: (s) => !s.traps.has('subagent') },
        { name: 'root-copy', ok: (s) => s.resumes === null && !s.traps.has('resumed-source') },
        { name: 'model-switch', ok: () => true },
        { name: 'notebook', ok: (s) => s.role === 'task' },
        { name: 'subdir', ok: (s) => s.group?.worktree == null },
        { name: 'second-root', ok: (s) => !s.traps.has('root-copy') && s.resumes === null && !s.traps.has('resumed-source') },
      );
    }
    if (this.opts.halfWrittenTail === true) claudeTraps.push({ name: 'half-written', ok: (s) => !s.traps.has('root-copy') && !s.traps.has('resumed-source') });
    this.assignTraps(claudeAll, claudeTraps);
    // Codex traps.
    const codex = r.shuffle(this.slots.filter((s) => s.source === 'codex'));
    const codexTraps: { name: string; ok: (s: Slot) => boolean }[] = [];
    if (this.trapsOn) {
      codexTraps.push(
        { name: 'reset', ok: () => true },
        { name: 'no-turn-context', ok: () => true },
        { name: 'archived-copy', ok: (s) => !s.traps.has('archived-only') },
        { name: 'archived-only', ok: (s) => !s.traps.has('archived-copy') },
        { name: 'model-switch', ok: (s) => !s.traps.has('no-turn-context') },
        { name: 'shell-apply-patch', ok: (s) => s.role === 'task' },
        { name: 'force-reemit', ok: () => true },
        { name: 'subdir', ok: (s) => s.group?.worktree == null },
      );
    }
    if (this.opts.halfWrittenTail === true) codexTraps.push({ name: 'half-written', ok: (s) => !s.traps.has('archived-copy') && !s.traps.has('archived-only') });
    this.assignTraps(codex, codexTraps);
    // Claude roots: about 40% of sessions live in the second root; a resumed pair shares its root.
    for (const s of this.slots) {
      if (s.source !== 'claude-code') continue;
      if (s.traps.has('second-root')) s.rootIdx = 1;
      else if (s.traps.has('root-copy')) s.rootIdx = 0;
      else s.rootIdx = r.chance(0.4) ? 1 : 0;
    }
    if (pa && pb) pb.rootIdx = pa.rootIdx;
    // Bad lines: into base files that are not copied elsewhere.
    const badN = Math.max(0, Math.floor(this.opts.badLines ?? 0));
    const targets = this.slots.filter((s) => !s.traps.has('root-copy') && !s.traps.has('archived-copy'));
    for (let k = 0; k < badN && targets.length > 0; k++) {
      const t = r.pick(targets);
      t.badLines++;
    }
    // Branch creation for task groups, human-only commits far from any session.
    if (this.git) {
      for (const g of this.groups) {
        const first = g.slots[0];
        const proj = this.projects[g.project];
        if (!first || !proj || proj.repoIdx === null) continue;
        const op: { kind: 'branch'; t: number; repo: number; branch: string; worktree?: string } = {
          kind: 'branch',
          t: first.start - r.int(2, 8) * MIN,
          repo: proj.repoIdx,
          branch: g.branch,
        };
        if (g.worktree !== null) op.worktree = g.worktree;
        this.git.schedule(op);
      }
      this.planHumanCommits(r, perProject);
    }
  }

  private assignTraps(cands: Slot[], traps: { name: string; ok: (s: Slot) => boolean }[]): void {
    if (cands.length === 0) return;
    let k = 0;
    for (const t of traps) {
      for (let tries = 0; tries < cands.length; tries++) {
        const s = cands[(k + tries) % cands.length];
        if (s && t.ok(s)) {
          s.traps.add(t.name);
          k = k + tries + 1;
          break;
        }
      }
    }
  }

  private planHumanCommits(r: Rng, perProject: Slot[][]): void {
    if (!this.git) return;
    const busy = this.slots.map((s) => [s.start - 10 * MIN, s.start + 70 * MIN] as const);
    const far = (t: number): boolean => busy.every(([a, b]) => t < a - 2 * HOUR || t > b + 2 * HOUR);
    const subjects = ['Update CHANGELOG for release', 'Bump dependencies', 'Docs: clarify the on-call runbook', 'Add CODEOWNERS', 'Tidy README badges'];
    perProject.forEach((list, p) => {
      const proj = this.projects[p];
      if (!proj || proj.repoIdx === null) return;
      const times = [this.ws + 30 * MIN, ...list.map((s) => s.start + 70 * MIN)].sort((a, b) => a - b);
      const nexts = [...list.map((s) => s.start - 10 * MIN), this.end - 30 * MIN].sort((a, b) => a - b);
      const cands: number[] = [];
      for (let i = 0; i < times.length; i++) {
        const a = times[i] ?? 0;
        const b = nexts[i] ?? 0;
        if (b - a < 5 * HOUR) continue;
        const t = Math.floor(a + (b - a) * (0.3 + 0.4 * r.next()));
        if (far(t)) cands.push(t);
      }
      r.shuffle(cands);
      for (const t of cands.slice(0, 2)) {
        const rel = r.pick(HUMAN_FILES);
        this.git?.schedule({ kind: 'human', t, repo: proj.repoIdx, subject: r.pick(subjects), rel, author: r.chance(0.7) ? ENGINEER : TEAMMATE });
        this.trap('human-commit', `${proj.name}@${t}`);
      }
    });
  }

  // -- generation ----------------------------------------------------------------------------------------------

  /** Edits for a session: repo/worktree-relative paths, with whether they create the file. */
  private chooseEdits(r: Rng, proj: Project, sub: string | null, area: string | null, slug: string, allowCreate: boolean): FileChange[] {
    const pool = sub !== null ? proj.editable.filter((f) => f.startsWith(`${sub}/`)) : proj.editable;
    const preferred = area !== null ? pool.filter((f) => f.includes(area)) : [];
    const out: FileChange[] = [];
    const n = r.int(1, 3);
    for (let i = 0; i < n; i++) {
      const f = preferred.length > 0 && r.chance(0.6) ? r.pick(preferred) : r.pick(pool.length > 0 ? pool : proj.editable);
      if (!out.some((c) => c.rel === f)) out.push({ rel: f, create: false });
    }
    if (allowCreate && r.chance(0.45)) {
      proj.newFiles++;
      const rel = sub !== null ? `${sub}/src/${slug}-${proj.newFiles}.ts` : `src/${area ?? 'lib'}/${slug}-${proj.newFiles}.ts`;
      out.push({ rel, create: true });
    }
    return out;
  }

  /** Read targets (absolute) for a session. */
  private readTargets(r: Rng, proj: Project, base: string): string[] {
    const files = [...proj.files.keys()];
    const out: string[] = [];
    for (let i = 0; i < 6; i++) out.push(path.join(base, r.pick(files)));
    return out;
  }

  private splitTurns<T>(r: Rng, items: T[], turns: number): T[][] {
    const out: T[][] = Array.from({ length: turns }, () => []);
    items.forEach((it, i) => {
      const k = i < turns ? i : r.int(0, turns - 1);
      out[Math.min(k, turns - 1)]?.push(it);
    });
    // Keep the original order within turns.
    return out;
  }

  private pickClaudeModel(r: Rng): string {
    const x = r.next();
    return x < 0.6 ? CLAUDE_SONNET : x < 0.85 ? CLAUDE_OPUS : CLAUDE_HAIKU;
  }

  private pickCodexModel(r: Rng): string {
    const x = r.next();
    return x < 0.5 ? CODEX_MODELS[0] : x < 0.8 ? CODEX_MODELS[1] : CODEX_MODELS[2];
  }

  private firstPrompt(r: Rng, title: string, key: string | null, explore: boolean, area: string): string {
    if (explore) return r.pick(EXPLORE_PROMPTS).replace('{area}', area);
    const tail = this.pool.words(r, r.int(8, 30));
    return key !== null && r.chance(0.6) ? `${title} (${key}). ${tail}` : `${title}. ${tail}`;
  }

  /** Generate, write and record one Claude Code session. */
  genClaude(p: {
    r: Rng;
    id: string;
    start: number;
    deadline: number;
    proj: Project;
    base: string;
    cwd: string;
    repo: string | null;
    branch: string | null;
    rootIdx: number;
    role: TruthSession['role'];
    taskKey: string | null;
    title: string;
    area: string;
    edits: FileChange[];
    traps: Set<string>;
    turns: number;
    subagentChance: number;
    resumes: Generated | null;
    badLines: number;
    /** Tiny sessions (one short turn) make bench worlds hold many small files, as real histories do. */
    tiny?: boolean;
  }): Generated {
    const { r, traps } = p;
    const old = traps.has('cost-usd');
    const version = old ? CLAUDE_OLD_VERSION : p.resumes?.live?.version ?? r.pick(CLAUDE_VERSIONS);
    const model = p.resumes?.live?.model ?? this.pickClaudeModel(r);
    const enc = encodeProjectDir(p.cwd);
    const file = path.join(this.claudeRoots[p.rootIdx] ?? this.claudeRoots[0] ?? '', 'projects', enc, `${p.id}.jsonl`);
    const live: ClaudeLive = {
      sessionId: p.id,
      cwd: p.cwd,
      gitBranch: p.branch ?? '',
      version,
      model,
      lastUuid: p.resumes?.lastUuid ?? null,
      t: p.start,
      ctx: p.resumes?.live?.ctx ?? (r.chance(0.6) ? r.int(9000, 15000) : 0),
      pending: r.int(4000, 9000),
      oneHour: r.chance(0.3),
      oldVersion: old,
    };
    const w = new ClaudeWriter({ rng: r.fork('claude'), pool: this.pool, toolResultBytes: this.trb, live, deadline: p.deadline, file });
    if (p.resumes) {
      // A resumed session: a new file that first copies the earlier session's lines verbatim.
      w.summary(`${p.title}`, p.resumes.lastUuid ?? '');
      w.lines.push(...p.resumes.lines);
      this.trap('claude-resumed', file);
    }
    // Actions: edits, reads, shell.
    const reads = this.readTargets(r, p.proj, p.base);
    const actions: ClaudeAction[] = [];
    const editActions: ClaudeAction[] = [];
    for (const e of p.edits) {
      const abs = path.join(p.base, e.rel);
      const tool: ClaudeEdit['tool'] = e.rel.endsWith('.ipynb') ? 'NotebookEdit' : e.create ? 'Write' : r.chance(0.65) ? 'Edit' : 'MultiEdit';
      editActions.push({ kind: 'edit', edit: { tool, abs } });
      if (tool !== 'Write' && tool !== 'NotebookEdit' && r.chance(0.25)) editActions.push({ kind: 'edit', edit: { tool: 'Edit', abs } });
    }
    const nReads = p.tiny === true ? r.int(0, 1) : r.int(1, 3) + editActions.length;
    for (let i = 0; i < nReads; i++) {
      const x = r.next();
      actions.push(x < 0.55 ? { kind: 'read', abs: r.pick(reads) } : x < 0.8 ? { kind: 'grep', abs: r.pick(reads) } : { kind: 'bash' });
    }
    // Reads first, edits after (roughly how sessions go), spread over turns.
    const all = [...actions.slice(0, Math.ceil(actions.length / 2)), ...editActions, ...actions.slice(Math.ceil(actions.length / 2))];
    const wantSub = traps.has('subagent') || r.chance(p.subagentChance);
    if (wantSub) {
      const subEdit = traps.has('subagent') ? editActions.find((a) => a.kind === 'edit' && a.edit.tool === 'Edit') : undefined;
      if (subEdit && subEdit.kind === 'edit') all.splice(all.indexOf(subEdit), 1);
      const sub: ClaudeAction = {
        kind: 'task',
        sub: {
          model: r.chance(0.5) ? CLAUDE_HAIKU : CLAUDE_SONNET,
          steps: r.int(2, 4),
          reads,
          ...(subEdit && subEdit.kind === 'edit' ? { edit: subEdit.edit } : {}),
          dual: traps.has('subagent'),
        },
      };
      all.splice(Math.min(1, all.length), 0, sub);
    }
    const turns = Math.max(1, p.turns, traps.has('model-switch') ? 2 : 1);
    const perTurn = this.splitTurns(r, all, turns);
    const switchTo = traps.has('model-switch') ? (model === CLAUDE_OPUS ? CLAUDE_SONNET : CLAUDE_OPUS) : null;
    for (let t = 0; t < turns; t++) {
      const acts = perTurn[t] ?? [];
      const steps: ClaudeAction[][] = [];
      for (let i = 0; i < acts.length; i++) {
        const a = acts[i];
        if (!a) continue;
        const b = acts[i + 1];
        if (a.kind === 'read' && b?.kind === 'read' && r.chance(0.3)) {
          steps.push([a, b]);
          i++;
        } else steps.push([a]);
      }
      const prompt = t === 0 ? this.firstPrompt(r, p.title, p.taskKey, p.role === 'exploration', p.area) : r.pick(FOLLOW_UPS);
      const m = switchTo !== null && t >= 1 ? switchTo : model;
      w.live.model = m;
      w.turn({
        prompt,
        model: m,
        steps,
        ...(traps.has('no-request-id') && t === 0 ? { noRequestId: true } : {}),
        ...(traps.has('synthetic') && t === 0 ? { synthetic: 'nonzero' as const, apiError: true } : {}),
        ...(traps.has('synthetic') && t === turns - 1 && turns > 1 ? { synthetic: 'zero' as const } : {}),
      });
    }
    if (traps.has('synthetic')) {
      this.trap('claude-synthetic', file);
      this.trap('claude-api-error', file);
    }
    if (traps.has('no-request-id')) this.trap('claude-no-request-id', file);
    if (traps.has('cost-usd')) this.trap('claude-cost-usd', file);
    if (traps.has('model-switch')) this.trap('claude-model-switch', p.id);
    if (traps.has('second-root')) this.trap('claude-second-root', file);
    if (p.rootIdx === 1) this.trap('claude-in-second-root', file);
    if (traps.has('subagent')) this.trap('claude-sidechain-dual', file);
    for (const s of w.subagents) this.trap('claude-subagent', s.file);

    const clean = w.lines.slice();
    const withBad = this.injectBad(r.fork('bad'), 'claude-code', file, clean, p.badLines, p.start);
    this.sink.write(file, withBad);
    for (const s of w.subagents) this.sink.write(s.file, s.lines);
    const logFiles = [file, ...w.subagents.map((s) => s.file)];
    if (traps.has('root-copy')) {
      const other = path.join(this.claudeRoots[1] ?? '', 'projects', enc, `${p.id}.jsonl`);
      this.sink.copy(file, other);
      logFiles.push(other);
      this.trap('claude-root-copy', other);
    }
    if (p.resumes) p.resumes.truth.logFiles = uniqSorted([...p.resumes.truth.logFiles, file]);
    const relBase = p.repo ?? p.cwd;
    const truth: TruthSession = {
      source: 'claude-code',
      sessionId: p.id,
      cwd: p.cwd,
      repo: p.repo,
      branch: p.branch,
      editedFiles: uniqSorted(w.edited.map((a) => posixRel(relBase, a))),
      logFiles: uniqSorted(logFiles),
      start: p.start,
      end: w.live.t,
      models: uniqSorted(w.out.map((i) => i.model)),
      role: p.role,
      taskKey: p.taskKey,
      traps: [...traps].sort(),
    };
    this.interactions.push(...w.out);
    this.sessions.set(p.id, truth);
    this.state.claude[p.id] = { file, live: w.live, base: relBase };
    w.live.lastUuid = w.em.parent;
    // Keep the lines only where a later session resumes this one (otherwise they would pin every log in memory).
    const g: Generated = { truth, mainFile: file, lines: traps.has('resumed-source') ? clean : [], lastUuid: w.em.parent, live: w.live, creates: new Set(p.edits.filter((e) => e.create).map((e) => e.rel)) };
    this.generated.set(p.id, g);
    return g;
  }

  /** Generate, write and record one Codex session. */
  genCodex(p: {
    r: Rng;
    id: string;
    start: number;
    deadline: number;
    cwd: string;
    base: string;
    repo: string | null;
    branch: string | null;
    gitMeta: { commit_hash: string; branch: string; repository_url: string } | null;
    role: TruthSession['role'];
    taskKey: string | null;
    title: string;
    area: string;
    edits: FileChange[];
    traps: Set<string>;
    turns: number;
    badLines: number;
    tiny?: boolean;
  }): Generated {
    const { r, traps } = p;
    const noTc = traps.has('no-turn-context');
    const model = this.pickCodexModel(r);
    const live: CodexLive = {
      sessionId: p.id,
      cwd: p.cwd,
      model: null,
      turnContext: !noTc,
      effort: r.pick(['low', 'medium', 'medium', 'high']),
      total: zeroOa(),
      t: p.start,
      ctx: 0,
      pending: r.int(6000, 9000),
      primaryUsed: r.int(0, 40),
    };
    const w = new CodexWriter({ rng: r.fork('codex'), pool: this.pool, toolResultBytes: this.trb, live, deadline: p.deadline });
    w.meta(noTc ? '0.39.0' : r.pick(CODEX_VERSIONS), p.gitMeta);
    // Calls: patches for the edits (paths relative to cwd), shell calls around them.
    const patchCalls: CodexCall[] = [];
    const files: CodexPatchFile[] = p.edits.map((e) => ({ rel: posixRel(p.cwd, path.join(p.base, e.rel)), add: e.create }));
    let shellDone = false;
    for (let i = 0; i < files.length; ) {
      const take = traps.has('shell-apply-patch') ? (shellDone ? 2 : 1) : r.chance(0.3) ? 2 : 1;
      const chunk = files.slice(i, i + take);
      i += take;
      const viaShell = traps.has('shell-apply-patch') ? !shellDone : r.chance(0.15);
      if (viaShell) shellDone = true;
      patchCalls.push({ kind: 'patch', via: viaShell ? 'shell' : 'custom', files: chunk });
    }
    if (traps.has('shell-apply-patch')) this.trap('codex-shell-apply-patch', p.id);
    const turns = Math.max(p.turns, traps.has('reset') ? 3 : 1, traps.has('model-switch') ? 2 : 1);
    const perTurn = this.splitTurns(r, patchCalls, turns);
    const switchTo = traps.has('model-switch') ? (model === CODEX_MODELS[0] ? CODEX_MODELS[1] : CODEX_MODELS[0]) : null;
    for (let t = 0; t < turns; t++) {
      const calls: CodexCall[] = [];
      const nShell = traps.has('reset') && t < 2 ? r.int(3, 5) : p.tiny === true ? r.int(0, 1) : r.int(1, 3);
      for (let i = 0; i < nShell; i++) calls.push({ kind: 'shell' });
      calls.push(...(perTurn[t] ?? []));
      if (p.tiny !== true && r.chance(0.5)) calls.push({ kind: 'shell' });
      const prompt = t === 0 ? this.firstPrompt(r, p.title, p.taskKey, p.role === 'exploration', p.area) : r.pick(FOLLOW_UPS);
      w.turn({
        prompt,
        calls,
        model: switchTo !== null && t >= 1 ? switchTo : model,
        nullInfo: t === 0 || r.chance(0.3),
        reemit: 0.2,
        ...(traps.has('force-reemit') && t === 0 ? { forceReemit: true } : {}),
        ...(traps.has('reset') && t === 2 ? { reset: true } : {}),
      });
    }
    if (noTc) this.trap('codex-no-turn-context', p.id);
    if (traps.has('reset')) this.trap('codex-reset', p.id);
    if (traps.has('model-switch')) this.trap('codex-model-switch', p.id);
    const rel = rolloutRelPath(p.start, p.id);
    const name = rel[rel.length - 1] ?? `${p.id}.jsonl`;
    const active = path.join(this.codexHome, 'sessions', ...rel);
    const archived = path.join(this.codexHome, 'archived_sessions', name);
    const clean = w.lines.slice();
    const logFiles: string[] = [];
    let file = active;
    if (traps.has('archived-only')) {
      file = archived;
      this.sink.write(archived, this.injectBad(r.fork('bad'), 'codex', archived, clean, p.badLines, p.start));
      logFiles.push(archived);
      this.trap('codex-archived-only', archived);
    } else {
      this.sink.write(active, this.injectBad(r.fork('bad'), 'codex', active, clean, p.badLines, p.start));
      logFiles.push(active);
      if (traps.has('archived-copy')) {
        this.sink.copy(active, archived);
        logFiles.push(archived);
        this.trap('codex-archived-copy', archived);
      }
    }
    const relBase = p.repo ?? p.cwd;
    const truth: TruthSession = {
      source: 'codex',
      sessionId: p.id,
      cwd: p.cwd,
      repo: p.repo,
      branch: p.branch,
      editedFiles: uniqSorted(w.editedRel.map((f) => posixRel(relBase, path.resolve(p.cwd, f)))),
      logFiles: uniqSorted(logFiles),
      start: p.start,
      end: w.live.t,
      models: uniqSorted(w.out.map((i) => i.model)),
      role: p.role,
      taskKey: p.taskKey,
      traps: [...traps].sort(),
    };
    if (p.gitMeta) truth.gitCommit = p.gitMeta.commit_hash;
    this.interactions.push(...w.out);
    this.sessions.set(p.id, truth);
    this.state.codex[p.id] = { file, live: w.live, base: relBase };
    const g: Generated = { truth, mainFile: file, lines: [], lastUuid: null, live: null, creates: new Set(p.edits.filter((e) => e.create).map((e) => e.rel)) };
    this.generated.set(p.id, g);
    return g;
  }

  private injectBad(r: Rng, source: TruthSource, file: string, lines: string[], n: number, t: number): string[] {
    if (n <= 0) return lines;
    const out = lines.slice();
    for (let k = 0; k < n; k++) {
      const kinds: BadLineKind[] = ['not-json', 'truncated-json', 'wrong-type', 'unknown-shape'];
      const kind = kinds[k % kinds.length] ?? 'not-json';
      const line = makeBadLine(r, source, kind, t);
      out.splice(r.int(1, out.length), 0, line);
      this.badLineDetails.push({ file, kind, line });
    }
    this.trap('bad-lines', file);
    return out;
  }

  /** All planned sessions, in time order, interleaved with the git history they produce. */
  generateBase(): void {
    const sorted = [...this.slots].sort((a, b) => a.start - b.start || a.i - b.i);
    const byProject = new Map<number, Slot[]>();
    for (const s of sorted) {
      const l = byProject.get(s.project) ?? [];
      l.push(s);
      byProject.set(s.project, l);
    }
    for (const s of sorted) {
      const proj = this.projects[s.project];
      if (!proj) continue;
      const r = this.rng.fork(`slot:${s.i}`);
      const g = s.group;
      const base = g?.worktree ?? proj.dir;
      const sub = s.traps.has('subdir') ? FAKE_SUBDIR : null;
      const cwd = s.resumes ? (this.sessions.get(s.resumes.id)?.cwd ?? base) : sub !== null ? path.join(base, sub) : base;
      let branch: string | null = null;
      let sha: string | null = null;
      if (this.git && proj.repoIdx !== null) {
        this.git.flush(s.start);
        const st = this.git.state(base);
        branch = st?.branch ?? null;
        sha = st?.sha ?? null;
      }
      const repo = this.git && proj.repoIdx !== null ? base : null;
      const deadline = Math.min(s.start + 50 * MIN, this.end - 5 * MIN);
      const area = g?.area ?? r.pick(proj.areas);
      const title = g?.title ?? `Explore ${area}`;
      const slug = slugOf(title);
      const resumedSub = s.resumes !== null && (this.sessions.get(s.resumes.id)?.cwd ?? '') !== base;
      const editSub = resumedSub ? FAKE_SUBDIR : sub;
      const edits = s.role === 'task' ? this.chooseEdits(r, proj, editSub, area, slug, true) : [];
      if (s.traps.has('notebook')) edits.push({ rel: 'notebooks/analysis.ipynb', create: false });
      if (s.traps.has('shell-apply-patch')) {
        // Both apply_patch routes with both kinds of sections: Add File via shell, Update + Add via custom_tool_call.
        proj.newFiles += 2;
        const dirRel = editSub !== null ? `${editSub}/src` : `src/${area}`;
        edits.splice(0, edits.length, ...edits.filter((e) => !e.create).slice(0, 1));
        if (edits.length === 0) edits.push({ rel: editSub !== null ? `${editSub}/src/util.ts` : `src/${area}.ts`, create: false });
        edits.unshift({ rel: `${dirRel}/${slug}-${proj.newFiles - 1}.ts`, create: true });
        edits.push({ rel: `${dirRel}/${slug}-${proj.newFiles}.ts`, create: true });
      }
      if (s.traps.has('subdir')) this.trap(`${s.source}-subdir`, s.id);
      if (g?.worktree) this.trap(`${s.source}-worktree`, s.id);
      let gen: Generated;
      if (s.source === 'claude-code') {
        gen = this.genClaude({
          r,
          id: s.id,
          start: s.start,
          deadline,
          proj,
          base,
          cwd,
          repo,
          branch,
          rootIdx: s.rootIdx,
          role: s.role,
          taskKey: g?.key ?? null,
          title,
          area,
          edits,
          traps: s.traps,
          turns: r.int(1, 4),
          subagentChance: 0.1,
          resumes: s.resumes ? (this.generated.get(s.resumes.id) ?? null) : null,
          badLines: s.badLines,
        });
      } else {
        const gitMeta = repo !== null && sha !== null && branch !== null && proj.repoIdx !== null ? { commit_hash: sha, branch, repository_url: this.git?.repoUrl(proj.repoIdx) ?? '' } : null;
        gen = this.genCodex({
          r,
          id: s.id,
          start: s.start,
          deadline,
          cwd,
          base,
          repo,
          branch,
          gitMeta,
          role: s.role,
          taskKey: g?.key ?? null,
          title,
          area,
          edits,
          traps: s.traps,
          turns: r.int(1, 4),
          badLines: s.badLines,
        });
      }
      // Commit right after the session; merge after the group's last session.
      if (this.git && g && proj.repoIdx !== null && gen.truth.editedFiles.length > 0) {
        const t = Math.min(gen.truth.end + r.int(2, 8) * MIN, this.end - MIN);
        const claude = s.source === 'claude-code';
        const subject = r.chance(0.7) ? `${g.key}: ${g.title.charAt(0).toLowerCase()}${g.title.slice(1)}` : g.title;
        let body = this.pool.words(r, r.int(8, 25));
        if (claude && r.chance(0.6)) {
          body += `\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n${r.chance(0.5) ? 'Co-Authored-By' : 'Co-authored-by'}: Claude <noreply@anthropic.com>`;
        }
        const changes = gen.truth.editedFiles.map((rel) => ({ rel, create: gen.creates.has(rel) }));
        this.git.schedule({ kind: 'commit', t, repo: proj.repoIdx, dir: base, branch: branch ?? g.branch, changes, subject, body, sessionIds: [s.id] });
        g.lastCommitT = Math.max(g.lastCommitT, t);
      }
      const lastOfGroup = g ? g.slots.every((o) => o === s || o.start < s.start || (o.start === s.start && o.i < s.i)) : false;
      if (this.git && g && lastOfGroup && !g.open && g.lastCommitT > 0 && proj.repoIdx !== null) {
        const list = byProject.get(s.project) ?? [];
        const next = list.find((o) => o.start > s.start);
        let t = g.lastCommitT + r.int(15, 90) * MIN;
        if (next) t = Math.min(t, next.start - 20 * MIN);
        t = Math.max(t, g.lastCommitT + MIN);
        if (t <= this.end - MIN) {
          this.git.schedule({ kind: 'merge', t, repo: proj.repoIdx, branch: g.branch, squash: g.squash, pr: g.pr, title: g.title });
          if (g.squash) this.trap('git-squash-merge', g.branch);
        }
      }
      if (g?.open) this.trap('git-open-branch', g.branch);
    }
    this.git?.flush(this.end);
  }

  /** Sessions beyond the counts until the logs reach targetBytes (no git work for these). */
  generateExtra(target: number): void {
    const nClaude = Math.max(0, Math.floor(this.opts.claudeSessions ?? 12));
    const nCodex = Math.max(0, Math.floor(this.opts.codexSessions ?? 6));
    const pCodex = nClaude + nCodex > 0 ? Math.max(0.15, nCodex / (nClaude + nCodex)) : 0.3;
    let k = 0;
    while (this.sink.bytes < target) {
      const r = this.rng.fork(`extra:${k}`);
      k++;
      const proj = this.projects[r.int(0, this.projects.length - 1)];
      if (!proj) break;
      const source: TruthSource = nCodex === 0 && nClaude > 0 ? 'claude-code' : nClaude === 0 && nCodex > 0 ? 'codex' : r.chance(pCodex) ? 'codex' : 'claude-code';
      const span = Math.max(MIN, this.end - this.ws - 3 * HOUR);
      const start = Math.floor(this.ws + 10 * MIN + r.next() * span);
      const deadline = Math.min(start + 2 * HOUR, this.end - 5 * MIN);
      const sub = r.chance(0.1) ? FAKE_SUBDIR : null;
      const base = proj.dir;
      const cwd = sub !== null ? path.join(base, sub) : base;
      const st = this.git && proj.repoIdx !== null ? this.git.at(base, start) : null;
      const repo = this.git && proj.repoIdx !== null ? base : null;
      const area = r.pick(proj.areas);
      const x = r.next();
      const tiny = x < 0.35;
      const edits = !tiny && r.chance(0.5) ? this.chooseEdits(r, proj, sub, area, 'scratch', false) : [];
      const turns = x < 0.75 ? 1 : x < 0.95 ? r.int(2, 3) : r.int(4, 8);
      const id = source === 'claude-code' ? r.uuid4() : r.uuid7(start);
      const title = `${r.pick(TASK_TITLES).replace('{area}', area)}`;
      if (source === 'claude-code') {
        this.genClaude({
          r,
          id,
          start,
          deadline,
          proj,
          base,
          cwd,
          repo,
          branch: st?.branch ?? null,
          rootIdx: r.chance(0.4) ? 1 : 0,
          role: 'extra',
          taskKey: null,
          title,
          area,
          edits,
          traps: new Set(),
          turns,
          subagentChance: tiny ? 0 : 0.3,
          resumes: null,
          badLines: 0,
          tiny,
        });
      } else {
        const gitMeta = st && repo !== null && proj.repoIdx !== null ? { commit_hash: st.sha, branch: st.branch, repository_url: this.git?.repoUrl(proj.repoIdx) ?? '' } : null;
        this.genCodex({
          r,
          id,
          start,
          deadline,
          cwd,
          base,
          repo,
          branch: st?.branch ?? null,
          gitMeta,
          role: 'extra',
          taskKey: null,
          title,
          area,
          edits,
          traps: new Set(),
          turns,
          badLines: 0,
          tiny,
        });
      }
    }
  }

  /** Half-written last lines: one Claude file, one Codex file (not in the truth until completed by an append). */
  halfWritten(): void {
    const pick = (src: TruthSource): Slot | undefined => this.slots.find((s) => s.source === src && s.traps.has('half-written'));
    const c = pick('claude-code');
    const cs = c ? this.state.claude[c.id] : undefined;
    if (c && cs) {
      const live: ClaudeLive = { ...cs.live };
      const w = new ClaudeWriter({ rng: this.rng.fork('half:claude'), pool: this.pool, toolResultBytes: this.trb, live, file: cs.file, deadline: this.end });
      const { line, truth } = w.finalLine(live.model);
      live.lastUuid = w.em.parent;
      this.writeHalf(cs.file, line, { source: 'claude-code', sessionId: c.id, rest: '', truth, claude: live });
    }
    const x = pick('codex');
    const xs = x ? this.state.codex[x.id] : undefined;
    if (x && xs) {
      const live: CodexLive = { ...xs.live, total: { ...xs.live.total } };
      const w = new CodexWriter({ rng: this.rng.fork('half:codex'), pool: this.pool, toolResultBytes: this.trb, live, deadline: this.end });
      const { line, truth } = w.pendingTokenCount();
      this.writeHalf(xs.file, line, { source: 'codex', sessionId: x.id, rest: '', truth, codex: live });
    }
  }

  private writeHalf(file: string, line: string, pend: PendingTail): void {
    const cut = Math.floor(line.length * 0.55);
    const head = line.slice(0, cut);
    pend.rest = line.slice(cut);
    fs.appendFileSync(file, head);
    this.sink.bytes += Buffer.byteLength(head);
    this.state.pending[file] = pend;
    this.trap(`${pend.source}-half-written`, file);
  }

  finish(t0: number): World {
    const sessions = [...this.sessions.values()].sort((a, b) => a.start - b.start || a.sessionId.localeCompare(b.sessionId));
    this.interactions.sort((a, b) => a.timestamp - b.timestamp);
    const repos = this.git ? this.projects.map((p) => p.dir) : [];
    return {
      root: this.root,
      home: this.home,
      env: {
        HOME: this.home,
        XDG_CONFIG_HOME: path.join(this.home, '.config'),
        XDG_DATA_HOME: path.join(this.home, '.local', 'share'),
        CLAUDE_CONFIG_DIR: this.claudeRoots.join(','),
        CODEX_HOME: this.codexHome,
        TZ: 'UTC',
      },
      claudeRoots: this.claudeRoots,
      codexHome: this.codexHome,
      repos,
      start: this.ws,
      end: this.end,
      truth: {
        interactions: this.interactions,
        sessions,
        commits: this.git ? [...this.git.commits].sort((a, b) => a.time - b.time) : [],
        badLines: this.badLineDetails.length,
        badLineDetails: this.badLineDetails,
        traps: this.traps,
      },
      files: this.sink.files,
      bytes: this.sink.bytes,
      buildMs: Date.now() - t0,
      state: this.state,
    };
  }
}

function makeBadLine(r: Rng, source: TruthSource, kind: BadLineKind, t: number): string {
  const ts = new Date(t).toISOString();
  if (kind === 'not-json') {
    return r.pick(['this is not json', '<<<<<<< HEAD', 'Error: ENOSPC: no space left on device, write', '{{{{', 'undefined', '\u0007\u001b[31mgarbage\u001b[0m']);
  }
  if (source === 'claude-code') {
    const msg = (output: unknown, input: unknown = r.int(1, 9)): string =>
      JSON.stringify({
        parentUuid: null,
        isSidechain: false,
        userType: 'external',
        cwd: '/tmp/bad',
        sessionId: r.uuid4(),
        version: '2.0.37',
        gitBranch: '',
        message: {
          model: CLAUDE_SONNET,
          id: `msg_01BAD${r.base62(18)}`,
          type: 'message',
          role: 'assistant',
          content: [{ type: 'text', text: 'bad' }],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: input, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: output, service_tier: 'standard' },
        },
        requestId: `req_011CBAD${r.base62(17)}`,
        type: 'assistant',
        uuid: r.uuid4(),
        timestamp: ts,
      });
    if (kind === 'truncated-json') {
      const full = msg(r.int(10, 500));
      return full.slice(0, Math.floor(full.length * (0.3 + 0.5 * r.next())));
    }
    if (kind === 'wrong-type') {
      const v = r.int(0, 3);
      return v === 0 ? msg('12') : v === 1 ? msg(-5) : v === 2 ? msg(12.5) : msg(40, true);
    }
    return r.pick([
      '[1,2,3]',
      'null',
      '42',
      '"just a string"',
      '{"type":"assistant"}',
      '{"type":"assistant","message":null}',
      '{"type":"assistant","message":{"id":"msg_01BADSHAPE","usage":"lots"}}',
      '{"foo":{"bar":[]}}',
      '{"type":"mystery-entry","payload":{}}',
    ]);
  }
  const usage = (bad: boolean): Record<string, unknown> => ({
    input_tokens: bad ? '12' : 9_000_000,
    cached_input_tokens: 8_000_000,
    output_tokens: 700_000,
    reasoning_output_tokens: 300_000,
    total_tokens: 9_700_000,
  });
  const tc = (bad: boolean): string =>
    JSON.stringify({ timestamp: ts, type: 'event_msg', payload: { type: 'token_count', info: { total_token_usage: usage(bad), last_token_usage: usage(bad), model_context_window: 272000 }, rate_limits: null } });
  if (kind === 'truncated-json') {
    const full = tc(false);
    return full.slice(0, Math.floor(full.length * (0.3 + 0.5 * r.next())));
  }
  if (kind === 'wrong-type') return tc(true);
  return r.pick([
    '[]',
    'null',
    '{"type":"event_msg","payload":null}',
    '{"type":"response_item","payload":{"type":"mystery_item"}}',
    '{"timestamp":"2026-01-01T00:00:00Z","type":"event_msg","payload":{"type":"token_count","info":"n/a"}}',
    '{"type":"unknown_kind","payload":{"x":1}}',
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Public entry points

export function buildWorld(opts: WorldOptions): World {
  const t0 = Date.now();
  const b = new Builder(opts);
  b.setupProjects();
  b.plan();
  b.generateBase();
  if (opts.targetBytes !== undefined && opts.targetBytes > 0) b.generateExtra(opts.targetBytes);
  b.halfWritten();
  const world = b.finish(t0);
  if ((opts.copilotSessions ?? 0) > 0) addCopilotSessions(world, opts.copilotSessions ?? 0);
  return world;
}

const COPILOT_MODELS = ['copilot/gpt-4.1', 'copilot/claude-sonnet-4', 'copilot/gpt-4o'];
const COPILOT_PROMPTS = ['Explain why this test is flaky', 'Add input validation to the handler', 'Refactor this into smaller functions', 'Write a unit test for the parser', 'Why does this query scan the whole table?'];

/**
 * Copilot Chat sessions in the world's VS Code user folder, in each format generation, with their exact truth
 * (estimated files: the tokenizer's count, as the importer computes it). Uses its own random stream, so the rest of
 * the world is unchanged.
 */
function addCopilotSessions(world: World, n: number): void {
  const r = new Rng(world.state.seed).fork('copilot-chat');
  const user = path.join(world.home, '.config', 'Code', 'User');
  const dirs = world.repos.length > 0 ? world.repos : [path.join(world.root, 'projects', 'copilot')];
  for (let i = 0; i < n; i++) {
    const dir = dirs[i % dirs.length] as string;
    const chat = copilotWorkspace(user, `ws${String(i % dirs.length).padStart(2, '0')}${r.int(1000, 9999)}`, dir);
    // Generations, in turn: current .jsonl, compacted .jsonl, .json with result.usage, .json without counts.
    const kind = i % 4;
    const style: CopilotTokenStyle = kind <= 1 ? 'metadata' : kind === 2 ? 'usage' : 'none';
    const start = world.start + r.int(1, Math.max(2, Math.floor((world.end - world.start) / MIN) - 120)) * MIN;
    const requests: CopilotRequestSpec[] = [];
    const turns = r.int(1, 4);
    for (let t = 0; t < turns; t++) {
      const prompt = `${r.pick(COPILOT_PROMPTS)} (${i}.${t})`;
      requests.push({
        requestId: `request_${r.int(1e8, 9e8).toString(16)}-${i}-${t}`,
        timestamp: start + t * r.int(1, 6) * MIN,
        ...(style === 'none' ? {} : { modelId: r.pick(COPILOT_MODELS) }),
        prompt,
        reply: `Here is what I would change for "${prompt}": keep the public signature, move the checks into a helper, and cover the edge cases with a test. `.repeat(r.int(1, 4)),
        promptTokens: r.int(2_000, 30_000),
        outputTokens: r.int(80, 2_500),
        style,
      });
    }
    const sessionId = `copilot-${r.int(1e8, 9e8).toString(16)}-${i}`;
    const spec = { sessionId, creationDate: start, requests };
    const file = kind <= 1 ? writeCopilotJsonl(chat, spec, kind === 1) : writeCopilotJson(chat, spec);
    world.files++;
    world.bytes += fs.statSync(file).size;
    for (const q of requests) {
      const estimated = q.style === 'none';
      const input = estimated ? estimateTokens(q.prompt) : q.promptTokens;
      const output = estimated ? estimateTokens(q.reply) : q.outputTokens;
      world.truth.interactions.push({
        source: 'copilot-chat', sessionId, model: q.modelId ? q.modelId.replace(/^copilot\//, '') : 'gpt-4o', timestamp: q.timestamp,
        input, output, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0, reasoning: 0, sidechain: false,
        ...(q.modelId ? {} : { modelAssumed: true }), ...(estimated ? { estimated: true } : {}),
      });
    }
    world.truth.sessions.push({
      source: 'copilot-chat', sessionId, cwd: dir, repo: world.repos.length > 0 ? dir : null, branch: null, editedFiles: [], logFiles: [file],
      start, end: requests[requests.length - 1]?.timestamp ?? start, models: [...new Set(world.truth.interactions.filter((t) => t.sessionId === sessionId).map((t) => t.model))].sort(),
      role: 'exploration', taskKey: null, traps: [],
    });
  }
  world.truth.interactions.sort((a, b) => a.timestamp - b.timestamp);
  world.truth.sessions.sort((a, b) => a.start - b.start || a.sessionId.localeCompare(b.sessionId));
}

export interface AppendClaudeOptions {
  /** Timestamp of the new prompt (default: 30-180 s after the session's last line). */
  at?: number | Date;
  model?: string;
  /** Non-edit tool steps (Read/Grep/Bash). Default 2. */
  steps?: number;
  /** Files to Edit, relative to the session's repo root (or cwd without a repo). */
  edits?: string[];
  /** Files to create with Write, same base. */
  creates?: string[];
  toolResultBytes?: number;
  /** End with a half-written line (its interaction is returned by the next append that completes it). */
  leaveHalfWritten?: boolean;
}

export interface AppendCodexOptions {
  at?: number | Date;
  /** Model for this turn's turn_context (sessions without turn_context ignore it). */
  model?: string;
  /** Shell calls. Default 2. */
  calls?: number;
  /** apply_patch Update File, relative to the session's repo root (or cwd). */
  edits?: string[];
  /** apply_patch Add File, same base. */
  creates?: string[];
  toolResultBytes?: number;
  leaveHalfWritten?: boolean;
}

function msOf(at: number | Date | undefined): number | undefined {
  return at === undefined ? undefined : typeof at === 'number' ? at : at.getTime();
}

function completePending(world: World, file: string): { text: string; truth: TruthInteraction[]; pend: PendingTail | undefined } {
  const pend = world.state.pending[file];
  if (!pend) return { text: '', truth: [], pend: undefined };
  delete world.state.pending[file];
  return { text: `${pend.rest}\n`, truth: [pend.truth], pend };
}

function recordAppend(world: World, sessionId: string, added: TruthInteraction[], edited: string[], bytes: number, end: number): void {
  world.truth.interactions.push(...added);
  world.bytes += bytes;
  const s = world.truth.sessions.find((x) => x.sessionId === sessionId);
  if (s) {
    s.editedFiles = uniqSorted([...s.editedFiles, ...edited]);
    s.models = uniqSorted([...s.models, ...added.map((a) => a.model)]);
    s.end = Math.max(s.end, end);
  }
}

/** Append one complete user turn to a Claude Code session's file (completing a half-written line first). */
export function appendClaudeTurn(world: World, sessionId: string, opts: AppendClaudeOptions = {}): TruthInteraction[] {
  const st = world.state.claude[sessionId];
  if (!st) throw new Error(`no Claude Code session ${sessionId} in this world`);
  const done = completePending(world, st.file);
  if (done.pend?.claude) st.live = done.pend.claude;
  const pool = poolFor(world.state.seed);
  const r = new Rng(world.state.seed).fork(`append:${world.state.appends++}`);
  const live = st.live;
  if (opts.model !== undefined) live.model = opts.model;
  const at = msOf(opts.at);
  const w = new ClaudeWriter({ rng: r, pool, toolResultBytes: opts.toolResultBytes ?? world.state.toolResultBytes, live, file: st.file });
  const steps: ClaudeAction[][] = [];
  for (let i = 0; i < (opts.steps ?? 2); i++) steps.push([r.chance(0.6) ? { kind: 'read', abs: path.join(live.cwd, 'README.md') } : { kind: 'bash' }]);
  for (const rel of opts.edits ?? []) steps.push([{ kind: 'edit', edit: { tool: 'Edit', abs: path.join(st.base, rel) } }]);
  for (const rel of opts.creates ?? []) steps.push([{ kind: 'edit', edit: { tool: 'Write', abs: path.join(st.base, rel) } }]);
  w.turn({ prompt: r.pick(FOLLOW_UPS), model: live.model, steps, ...(at !== undefined ? { at } : {}) });
  const added = [...done.truth, ...w.out];
  let text = `${done.text}${w.lines.join('\n')}\n`;
  if (opts.leaveHalfWritten === true) {
    const after: ClaudeLive = { ...live, lastUuid: w.em.parent };
    const hw = new ClaudeWriter({ rng: r.fork('half'), pool, toolResultBytes: world.state.toolResultBytes, live: after, file: st.file });
    const { line, truth } = hw.finalLine(after.model);
    after.lastUuid = hw.em.parent;
    const cut = Math.floor(line.length * 0.55);
    text += line.slice(0, cut);
    world.state.pending[st.file] = { source: 'claude-code', sessionId, rest: line.slice(cut), truth, claude: after };
  }
  live.lastUuid = w.em.parent;
  fs.appendFileSync(st.file, text);
  const edited = w.edited.map((a) => posixRel(st.base, a));
  recordAppend(world, sessionId, added, edited, Buffer.byteLength(text), live.t);
  return added;
}

/** Append one complete turn to a Codex session's rollout (completing a half-written line first). */
export function appendCodexTurn(world: World, sessionId: string, opts: AppendCodexOptions = {}): TruthInteraction[] {
  const st = world.state.codex[sessionId];
  if (!st) throw new Error(`no Codex session ${sessionId} in this world`);
  const done = completePending(world, st.file);
  if (done.pend?.codex) st.live = done.pend.codex;
  const pool = poolFor(world.state.seed);
  const r = new Rng(world.state.seed).fork(`append:${world.state.appends++}`);
  const live = st.live;
  const at = msOf(opts.at);
  const w = new CodexWriter({ rng: r, pool, toolResultBytes: opts.toolResultBytes ?? world.state.toolResultBytes, live });
  const calls: CodexCall[] = [];
  for (let i = 0; i < (opts.calls ?? 2); i++) calls.push({ kind: 'shell' });
  const files: CodexPatchFile[] = [
    ...(opts.edits ?? []).map((rel) => ({ rel: posixRel(live.cwd, path.join(st.base, rel)), add: false })),
    ...(opts.creates ?? []).map((rel) => ({ rel: posixRel(live.cwd, path.join(st.base, rel)), add: true })),
  ];
  if (files.length > 0) calls.push({ kind: 'patch', via: 'custom', files });
  w.turn({ prompt: r.pick(FOLLOW_UPS), calls, ...(opts.model !== undefined ? { model: opts.model } : {}), ...(at !== undefined ? { at } : {}), reemit: 0.2 });
  const added = [...done.truth, ...w.out];
  let text = `${done.text}${w.lines.join('\n')}\n`;
  if (opts.leaveHalfWritten === true) {
    const after: CodexLive = { ...live, total: { ...live.total } };
    const hw = new CodexWriter({ rng: r.fork('half'), pool, toolResultBytes: world.state.toolResultBytes, live: after });
    const { line, truth } = hw.pendingTokenCount();
    const cut = Math.floor(line.length * 0.55);
    text += line.slice(0, cut);
    world.state.pending[st.file] = { source: 'codex', sessionId, rest: line.slice(cut), truth, codex: after };
  }
  fs.appendFileSync(st.file, text);
  const edited = w.editedRel.map((f) => posixRel(st.base, path.resolve(live.cwd, f)));
  recordAppend(world, sessionId, added, edited, Buffer.byteLength(text), live.t);
  return added;
}
