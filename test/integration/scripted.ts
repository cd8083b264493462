/**
 * Scripted worlds for linking tests: real git repositories with a history written step by step (task branches,
 * merges, squash merges, rebases, amends, human commits) and Claude Code / Codex logs in their real formats for the
 * sessions that worked in them. Smaller and more precise than the demo world: each test says exactly what happened.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { zeroOa } from '../../src/demo/codex';

export const ME = { name: 'Alex Kim', email: 'alex.kim@example.com' };
export const TEAMMATE = { name: 'Sam Lee', email: 'sam.lee@example.com' };
export type Person = typeof ME;

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** Midnight (UTC) `n` days before today: a scripted history's day zero, recent enough to be linked. */
export function daysAgo(n: number): number {
  return Math.floor(Date.now() / DAY) * DAY - n * DAY;
}

function gitDate(ms: number): string {
  return `@${Math.floor(ms / 1000)} +0000`;
}

export class Repo {
  /** `init: false` works in an existing working tree (a worktree, a clone, a submodule). */
  constructor(
    readonly dir: string,
    private readonly home: string,
    init = true,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    if (init) this.git(['init', '-q', '-b', 'main']);
  }

  /** Runs git with pinned dates: `at` sets author and committer time, `committedAt` only the committer's. */
  git(args: string[], o: { at?: number; committedAt?: number; author?: Person } = {}): string {
    const author = o.author ?? ME;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.home,
      GIT_CONFIG_NOSYSTEM: '1',
      LC_ALL: 'C',
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
    };
    if (o.at !== undefined) {
      env.GIT_AUTHOR_DATE = gitDate(o.at);
      env.GIT_COMMITTER_DATE = gitDate(o.at);
    }
    if (o.committedAt !== undefined) env.GIT_COMMITTER_DATE = gitDate(o.committedAt);
    return execFileSync('git', ['-c', 'commit.gpgsign=false', ...args], {
      cwd: this.dir,
      env,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    }).trim();
  }

  write(rel: string, content: string): void {
    const abs = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }

  /** Appends `n` numbered lines to a file (creating it). */
  append(rel: string, n: number, tag: string): void {
    const abs = path.join(this.dir, rel);
    const old = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : '';
    const lines = Array.from({ length: n }, (_, i) => `${tag} line ${i + 1}`);
    this.write(rel, `${old}${lines.join('\n')}\n`);
  }

  commit(message: string, at: number, author: Person = ME): string {
    this.git(['add', '-A'], { at, author });
    this.git(['commit', '-q', '-m', message], { at, author });
    return this.head();
  }

  head(): string {
    return this.git(['rev-parse', 'HEAD']);
  }

  abs(rel: string): string {
    return path.join(this.dir, rel);
  }

  /** The branch checked out. */
  branch(): string {
    return this.git(['branch', '--show-current']);
  }
}

/** A repository at `<dir>/app` with a first commit (three lines of src/a.ts) at `at`: the ground a suite builds on. */
export function startRepo(dir: string, home: string, at: number): Repo {
  const repo = new Repo(path.join(dir, 'app'), home);
  repo.append('src/a.ts', 3, 'a');
  repo.commit('Initial commit', at);
  return repo;
}

export interface SessionSpec {
  id: string;
  cwd: string;
  branch?: string;
  start: number;
  end: number;
  /** Absolute paths the assistant edits (in the first call). */
  edits?: string[];
  /** Model calls spread from start to end (default 3). */
  calls?: number;
  prompts?: string[];
  /** Per call. */
  output?: number;
  cacheRead?: number;
  /** Codex: session_meta.git. */
  gitHead?: string;
}

/** A session's work in a repository, for `Logs.session`: the files it edits are relative to the repository. */
export interface WorkSpec extends Omit<SessionSpec, 'cwd' | 'branch' | 'gitHead' | 'edits'> {
  /** Paths relative to the repository. */
  edits?: string[];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Claude Code and Codex logs under a fake home, in the files and shapes the tools write (sources.md). */
export class Logs {
  readonly claudeDir: string;
  readonly codexHome: string;

  constructor(readonly home: string) {
    this.claudeDir = path.join(home, '.claude');
    this.codexHome = path.join(home, '.codex');
    fs.mkdirSync(path.join(this.claudeDir, 'projects'), { recursive: true });
    fs.mkdirSync(path.join(this.codexHome, 'sessions'), { recursive: true });
  }

  env(): Record<string, string> {
    return { HOME: this.home, CLAUDE_CONFIG_DIR: this.claudeDir, CODEX_HOME: this.codexHome, TZ: 'UTC' };
  }

  /**
   * A session of `tool` in `repo`, recorded as the tool records it: the repository's folder, the branch checked out,
   * the files it edits and, for Codex, the HEAD it started on.
   */
  session(tool: 'claude' | 'codex', repo: Repo, s: WorkSpec): string {
    const spec = { ...s, cwd: repo.dir, branch: repo.branch(), edits: s.edits?.map((rel) => repo.abs(rel)) };
    return tool === 'claude' ? this.claude(spec) : this.codex({ ...spec, gitHead: repo.head() });
  }

  private times(s: SessionSpec): number[] {
    const n = Math.max(1, s.calls ?? 3);
    return Array.from({ length: n }, (_, i) => Math.round(s.start + (n === 1 ? 0 : ((s.end - s.start) * i) / (n - 1))));
  }

  claude(s: SessionSpec): string {
    const file = path.join(this.claudeDir, 'projects', s.cwd.replace(/[^a-zA-Z0-9]/g, '-'), `${s.id}.jsonl`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const lines: string[] = [];
    const base = {
      sessionId: s.id,
      cwd: s.cwd,
      gitBranch: s.branch ?? '',
      version: '2.0.14',
      isSidechain: false,
      userType: 'external',
    };
    const prompts = s.prompts ?? ['Please do the task.'];
    this.times(s).forEach((t, i) => {
      const prompt = prompts[i];
      if (prompt !== undefined) {
        lines.push(
          JSON.stringify({
            ...base,
            type: 'user',
            uuid: `${s.id}-u${i}`,
            timestamp: iso(t),
            message: { role: 'user', content: prompt },
          }),
        );
      }
      const content: unknown[] = [{ type: 'text', text: 'Working on it.' }];
      if (i === 0)
        for (const [k, abs] of (s.edits ?? []).entries())
          content.push({
            type: 'tool_use',
            id: `toolu_${s.id}_${k}`,
            name: 'Edit',
            input: { file_path: abs, old_string: 'a', new_string: 'b' },
          });
      lines.push(
        JSON.stringify({
          ...base,
          type: 'assistant',
          uuid: `${s.id}-a${i}`,
          timestamp: iso(t + 1000),
          requestId: `req_${s.id}_${i}`,
          message: {
            id: `msg_${s.id}_${i}`,
            role: 'assistant',
            model: 'claude-sonnet-4-5-20250929',
            content,
            usage: {
              input_tokens: 20,
              output_tokens: s.output ?? 800,
              cache_creation_input_tokens: 1000,
              cache_read_input_tokens: s.cacheRead ?? 20_000,
            },
          },
        }),
      );
    });
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }

  codex(s: SessionSpec): string {
    const d = new Date(s.start);
    const dir = path.join(
      this.codexHome,
      'sessions',
      String(d.getUTCFullYear()),
      String(d.getUTCMonth() + 1).padStart(2, '0'),
      String(d.getUTCDate()).padStart(2, '0'),
    );
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `rollout-${iso(s.start).slice(0, 19).replace(/:/g, '-')}-${s.id}.jsonl`);
    const lines: string[] = [];
    const git = s.gitHead
      ? { commit_hash: s.gitHead, branch: s.branch ?? 'main', repository_url: 'git@example.com:acme/app.git' }
      : undefined;
    lines.push(
      JSON.stringify({
        timestamp: iso(s.start),
        type: 'session_meta',
        payload: { id: s.id, cwd: s.cwd, cli_version: '0.46.0', ...(git ? { git } : {}) },
      }),
    );
    lines.push(
      JSON.stringify({
        timestamp: iso(s.start),
        type: 'turn_context',
        payload: { cwd: s.cwd, model: 'gpt-5-codex', effort: 'medium' },
      }),
    );
    const total = zeroOa();
    const prompts = s.prompts ?? ['Please do the task.'];
    this.times(s).forEach((t, i) => {
      const prompt = prompts[i];
      if (prompt !== undefined)
        lines.push(
          JSON.stringify({ timestamp: iso(t), type: 'event_msg', payload: { type: 'user_message', message: prompt } }),
        );
      if (i === 0 && (s.edits ?? []).length > 0) {
        const patch = [
          '*** Begin Patch',
          ...(s.edits ?? []).map((abs) => `*** Update File: ${path.relative(s.cwd, abs)}`),
          '*** End Patch',
        ].join('\n');
        lines.push(
          JSON.stringify({
            timestamp: iso(t + 500),
            type: 'response_item',
            payload: { type: 'custom_tool_call', name: 'apply_patch', call_id: `c${i}`, input: patch },
          }),
        );
      }
      const cached = s.cacheRead ?? 20_000;
      const last = {
        input_tokens: cached + 500,
        cached_input_tokens: cached,
        output_tokens: s.output ?? 800,
        reasoning_output_tokens: 100,
        total_tokens: cached + 500 + (s.output ?? 800),
      };
      total.input_tokens += last.input_tokens;
      total.cached_input_tokens += last.cached_input_tokens;
      total.output_tokens += last.output_tokens;
      total.reasoning_output_tokens += last.reasoning_output_tokens;
      total.total_tokens += last.total_tokens;
      lines.push(
        JSON.stringify({
          timestamp: iso(t + 1000),
          type: 'event_msg',
          payload: { type: 'token_count', info: { total_token_usage: { ...total }, last_token_usage: last } },
        }),
      );
    });
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  }
}

/** A home with git configured as the engineer (the linker asks git who "me" is). */
export function makeHome(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, '.gitconfig'),
    `[user]\n\tname = ${ME.name}\n\temail = ${ME.email}\n[init]\n\tdefaultBranch = main\n`,
  );
  return dir;
}
