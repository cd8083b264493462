/**
 * Real git repositories for the demo world, built with `git` (through the one runner, src/git/run.ts: no shell, hooks and filters off) from a time-ordered queue
 * of operations: task branches, commits right after the sessions that produced them, merges, a squash merge, a
 * worktree, and human-only commits. Records the truth of every commit and which branch/HEAD each directory had when.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gitOwnRepoSync } from '../git/run';
import type { TruthCommit } from './truth';
import type { Rng, TextPool } from './rng';

export const ENGINEER = { name: 'Alex Kim', email: 'alex.kim@example.com' };
export const TEAMMATE = { name: 'Sam Lee', email: 'sam.lee@example.com' };

export interface FileChange {
  rel: string;
  create: boolean;
}

export type GitOp =
  | { kind: 'branch'; t: number; repo: number; branch: string; worktree?: string }
  | {
      kind: 'commit';
      t: number;
      repo: number;
      dir: string;
      branch: string;
      changes: FileChange[];
      subject: string;
      body: string;
      sessionIds: string[];
    }
  | { kind: 'merge'; t: number; repo: number; branch: string; squash: boolean; pr: number; title: string }
  | { kind: 'human'; t: number; repo: number; subject: string; rel: string; author: { name: string; email: string } };

interface RepoState {
  name: string;
  dir: string;
  url: string;
  /** Branch checked out in each working directory of this repo (main dir and worktrees). */
  checkedOut: Map<string, string>;
  heads: Map<string, string>;
  branchFiles: Map<string, Set<string>>;
  branchAdded: Map<string, number>;
  branchSessions: Map<string, Set<string>>;
}

interface DirState {
  t: number;
  branch: string;
  sha: string;
}

export class GitWorld {
  readonly commits: TruthCommit[] = [];
  private readonly repos: RepoState[] = [];
  private readonly queue: { op: GitOp; seq: number }[] = [];
  private seq = 0;
  private readonly timeline = new Map<string, DirState[]>();
  private readonly env: Record<string, string>;

  constructor(
    home: string,
    private readonly r: Rng,
    private readonly pool: TextPool,
  ) {
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(
      path.join(home, '.gitconfig'),
      `[user]\n\tname = ${ENGINEER.name}\n\temail = ${ENGINEER.email}\n[commit]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n`,
    );
    this.env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_TERMINAL_PROMPT: '0',
      LC_ALL: 'C',
      TZ: 'UTC',
    };
    if (process.env.SYSTEMROOT !== undefined) this.env.SYSTEMROOT = process.env.SYSTEMROOT;
  }

  private git(cwd: string, args: string[], t?: number, author = ENGINEER, input?: string): string {
    const env: Record<string, string> = {
      ...this.env,
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
    };
    if (t !== undefined) {
      const d = `@${Math.floor(t / 1000)} +0000`;
      env.GIT_AUTHOR_DATE = d;
      env.GIT_COMMITTER_DATE = d;
    }
    return gitOwnRepoSync(args, cwd, env, input);
  }

  private note(dir: string, t: number, branch: string, sha: string): void {
    let tl = this.timeline.get(dir);
    if (!tl) {
      tl = [];
      this.timeline.set(dir, tl);
    }
    tl.push({ t, branch, sha });
  }

  /** git init + the initial commit (before the history window). Returns the repo index. */
  addRepo(name: string, dir: string, files: Map<string, string>, t: number): number {
    fs.mkdirSync(dir, { recursive: true });
    this.git(dir, ['init', '-q']);
    // The engineer's identity in the repository itself, as many set per work repository: whoever reads the world (the
    // demo on a machine with its own global user.email, a test) sees the engineer's commits as the engineer's.
    this.git(dir, ['config', 'user.name', ENGINEER.name]);
    this.git(dir, ['config', 'user.email', ENGINEER.email]);
    const url = `git@github.com:acme/${name}.git`;
    this.git(dir, ['remote', 'add', 'origin', url]);
    for (const [rel, content] of files) {
      const abs = path.join(dir, rel);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, content);
    }
    this.git(dir, ['add', '-A']);
    const subject = 'Initial commit';
    this.git(dir, ['commit', '-q', '-m', subject], t);
    const sha = this.git(dir, ['rev-parse', 'HEAD']);
    const st: RepoState = {
      name,
      dir,
      url,
      checkedOut: new Map([[dir, 'main']]),
      heads: new Map([['main', sha]]),
      branchFiles: new Map(),
      branchAdded: new Map(),
      branchSessions: new Map(),
    };
    this.repos.push(st);
    this.note(dir, t, 'main', sha);
    this.commits.push({
      sha,
      repo: dir,
      dir,
      branch: 'main',
      time: t,
      subject,
      message: subject,
      files: [...files.keys()].sort(),
      sessionIds: [],
      kind: 'initial',
      added: [...files.values()].reduce((n, c) => n + c.split('\n').length - 1, 0),
      removed: 0,
      parents: [],
    });
    return this.repos.length - 1;
  }

  repoUrl(repo: number): string {
    return this.repo(repo).url;
  }

  repoDir(repo: number): string {
    return this.repo(repo).dir;
  }

  private repo(i: number): RepoState {
    const r = this.repos[i];
    if (!r) throw new Error(`no repo ${i}`);
    return r;
  }

  schedule(op: GitOp): void {
    this.queue.push({ op, seq: this.seq++ });
  }

  /** Run every queued operation with time <= t, in time order. */
  flush(t: number): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const q = this.queue[i];
        const b = best >= 0 ? this.queue[best] : undefined;
        if (q && q.op.t <= t && (!b || q.op.t < b.op.t || (q.op.t === b.op.t && q.seq < b.seq))) best = i;
      }
      if (best < 0) return;
      const [q] = this.queue.splice(best, 1);
      if (q) this.run(q.op);
    }
  }

  /** Branch and HEAD of a working directory now (after flush). */
  state(dir: string): { branch: string; sha: string } | null {
    const tl = this.timeline.get(dir);
    const last = tl?.[tl.length - 1];
    return last ? { branch: last.branch, sha: last.sha } : null;
  }

  /** Branch and HEAD of a working directory at time t (from the recorded timeline). */
  at(dir: string, t: number): { branch: string; sha: string } | null {
    const tl = this.timeline.get(dir);
    if (!tl || tl.length === 0) return null;
    let found: DirState | undefined;
    for (const s of tl) if (s.t <= t) found = s;
    const s = found ?? tl[0];
    return s ? { branch: s.branch, sha: s.sha } : null;
  }

  private checkout(st: RepoState, dir: string, branch: string, t: number): void {
    if (st.checkedOut.get(dir) === branch) return;
    this.git(dir, ['checkout', '-q', branch]);
    st.checkedOut.set(dir, branch);
    this.note(dir, t, branch, st.heads.get(branch) ?? '');
  }

  private applyChanges(dir: string, changes: FileChange[]): number {
    let added = 0;
    for (const c of changes) {
      const abs = path.join(dir, c.rel);
      const n = this.r.int(3, 18);
      const lines: string[] = [];
      for (let i = 0; i < n; i++) lines.push(this.pool.slice(this.r, 'code', this.r.int(20, 100)).replace(/\n/g, ' '));
      const text = `${lines.join('\n')}\n`;
      if (fs.existsSync(abs)) {
        fs.appendFileSync(abs, text);
      } else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, text);
      }
      added += n;
    }
    return added;
  }

  private commitNow(st: RepoState, dir: string, branch: string, t: number, message: string, author = ENGINEER): string {
    this.git(dir, ['add', '-A'], t, author);
    this.git(dir, ['commit', '-q', '-F', '-'], t, author, message);
    const sha = this.git(dir, ['rev-parse', 'HEAD']);
    st.heads.set(branch, sha);
    this.note(dir, t, branch, sha);
    return sha;
  }

  private run(op: GitOp): void {
    const st = this.repo(op.repo);
    switch (op.kind) {
      case 'branch': {
        if (op.worktree !== undefined) {
          this.git(st.dir, ['worktree', 'add', '-q', '-b', op.branch, op.worktree, 'main']);
          st.checkedOut.set(op.worktree, op.branch);
          st.heads.set(op.branch, st.heads.get('main') ?? '');
          this.note(op.worktree, op.t, op.branch, st.heads.get('main') ?? '');
        } else {
          this.git(st.dir, ['checkout', '-q', '-b', op.branch, 'main']);
          st.checkedOut.set(st.dir, op.branch);
          st.heads.set(op.branch, st.heads.get('main') ?? '');
          this.note(st.dir, op.t, op.branch, st.heads.get('main') ?? '');
        }
        st.branchFiles.set(op.branch, new Set());
        st.branchAdded.set(op.branch, 0);
        st.branchSessions.set(op.branch, new Set());
        return;
      }
      case 'commit': {
        this.checkout(st, op.dir, op.branch, op.t);
        const parent = st.heads.get(op.branch) ?? '';
        const added = this.applyChanges(op.dir, op.changes);
        const message = op.body ? `${op.subject}\n\n${op.body}\n` : `${op.subject}\n`;
        const sha = this.commitNow(st, op.dir, op.branch, op.t, message);
        const files = [...new Set(op.changes.map((c) => c.rel))].sort();
        for (const f of files) st.branchFiles.get(op.branch)?.add(f);
        st.branchAdded.set(op.branch, (st.branchAdded.get(op.branch) ?? 0) + added);
        for (const s of op.sessionIds) st.branchSessions.get(op.branch)?.add(s);
        this.commits.push({
          sha,
          repo: st.dir,
          dir: op.dir,
          branch: op.branch,
          time: op.t,
          subject: op.subject,
          message: message.trimEnd(),
          files,
          sessionIds: [...op.sessionIds].sort(),
          kind: 'session',
          added,
          removed: 0,
          parents: [parent],
        });
        return;
      }
      case 'merge': {
        this.checkout(st, st.dir, 'main', op.t);
        const parent = st.heads.get('main') ?? '';
        const files = [...(st.branchFiles.get(op.branch) ?? [])].sort();
        const added = st.branchAdded.get(op.branch) ?? 0;
        let subject: string;
        let message: string;
        if (op.squash) {
          this.git(st.dir, ['merge', '--squash', '-q', op.branch], op.t);
          subject = `${op.title} (#${op.pr})`;
          message = `${subject}\n`;
          this.commitNow(st, st.dir, 'main', op.t, message);
        } else {
          subject = `Merge pull request #${op.pr} from acme/${op.branch}`;
          message = `${subject}\n\n${op.title}\n`;
          this.git(st.dir, ['merge', '--no-ff', '-q', '-m', message.trimEnd(), op.branch], op.t);
          const sha = this.git(st.dir, ['rev-parse', 'HEAD']);
          st.heads.set('main', sha);
          this.note(st.dir, op.t, 'main', sha);
        }
        const sha = st.heads.get('main') ?? '';
        this.commits.push({
          sha,
          repo: st.dir,
          dir: st.dir,
          branch: 'main',
          time: op.t,
          subject,
          message: message.trimEnd(),
          files,
          sessionIds: op.squash ? [...(st.branchSessions.get(op.branch) ?? [])].sort() : [],
          kind: op.squash ? 'squash' : 'merge',
          added,
          removed: 0,
          parents: op.squash ? [parent] : [parent, st.heads.get(op.branch) ?? ''],
          pr: op.pr,
          mergedBranch: op.branch,
        });
        return;
      }
      case 'human': {
        const was = st.checkedOut.get(st.dir) ?? 'main';
        this.checkout(st, st.dir, 'main', op.t);
        const parent = st.heads.get('main') ?? '';
        const added = this.applyChanges(st.dir, [{ rel: op.rel, create: !fs.existsSync(path.join(st.dir, op.rel)) }]);
        const message = `${op.subject}\n`;
        const sha = this.commitNow(st, st.dir, 'main', op.t, message, op.author);
        this.commits.push({
          sha,
          repo: st.dir,
          dir: st.dir,
          branch: 'main',
          time: op.t,
          subject: op.subject,
          message: op.subject,
          files: [op.rel],
          sessionIds: [],
          kind: 'human',
          added,
          removed: 0,
          parents: [parent],
        });
        this.checkout(st, st.dir, was, op.t);
        return;
      }
    }
  }
}
