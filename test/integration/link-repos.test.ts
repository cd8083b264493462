import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinkSummary } from '../../src/services/linker';
import type { SessionJson } from '../../src/services/queries';
import { cli } from './cli';
import { sandbox } from './sandbox';
import { daysAgo, HOUR, Logs, Repo } from './scripted';

/** Repository shapes linking must handle: worktrees, a detached HEAD, a shallow clone, submodules. */
describe('link: worktrees, detached HEAD, shallow clones and submodules (real git)', function () {
  this.timeout(120_000);
  const box = sandbox('ol-link-repos-');
  let env: Record<string, string>;
  let app: Repo;

  before(() => {
    const logs = new Logs(box.home);
    env = logs.env();
    const D = daysAgo(2);
    app = new Repo(path.join(box.dir, 'app'), box.home);
    app.append('src/a.ts', 2, 'a');
    app.append('lib/mod/x.ts', 1, 'x');
    app.commit('Initial commit', D);

    // A session in a worktree: its repository is the worktree's root; its history is the main repository's.
    const wt = path.join(box.dir, 'app-wt');
    app.git(['worktree', 'add', '-q', '-b', 'feature/WT-1', wt]);
    const wtRepo = new Repo(wt, box.home, false);
    logs.session('claude', wtRepo, {
      id: '10000000-0000-4000-8000-000000000001',
      start: D + 9 * HOUR,
      end: D + 9.3 * HOUR,
      edits: ['src/w.ts'],
    });
    wtRepo.append('src/w.ts', 3, 'w');
    wtRepo.commit('WT-1: w', D + 9.4 * HOUR);

    // A detached HEAD: the commit is on no branch, only HEAD points at it.
    app.git(['checkout', '-q', '--detach']);
    logs.claude({
      id: '20000000-0000-4000-8000-000000000002',
      cwd: app.dir,
      start: D + 10 * HOUR,
      end: D + 10.3 * HOUR,
      edits: [app.abs('src/d.ts')],
    });
    app.append('src/d.ts', 2, 'd');
    app.commit('Detached work', D + 10.4 * HOUR);

    // A shallow clone with one commit of history; a session and a commit in it.
    const shallow = path.join(box.dir, 'shallow');
    app.git(['clone', '-q', '--depth', '1', `file://${app.dir}`, shallow]);
    const sh = new Repo(shallow, box.home, false);
    logs.codex({
      id: '019a0003-0000-7000-8000-000000000003',
      cwd: shallow,
      branch: 'HEAD',
      gitHead: sh.head(),
      start: D + 11 * HOUR,
      end: D + 11.3 * HOUR,
      edits: [path.join(shallow, 'src/s.ts')],
    });
    sh.append('src/s.ts', 2, 's');
    sh.commit('Shallow work', D + 11.4 * HOUR);

    // A submodule: its own repository (a session inside it links there); the superproject only sees a pointer.
    const sub = new Repo(path.join(box.dir, 'sub'), box.home);
    sub.append('s.ts', 1, 's');
    sub.commit('sub init', D);
    app.git(['-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${sub.dir}`, 'vendor/sub'], {
      at: D + 12 * HOUR,
    });
    app.commit('Add submodule', D + 12 * HOUR);
    const inner = new Repo(app.abs('vendor/sub'), box.home, false);
    logs.claude({
      id: '40000000-0000-4000-8000-000000000004',
      cwd: inner.dir,
      branch: 'main',
      start: D + 13 * HOUR,
      end: D + 13.3 * HOUR,
      edits: [path.join(inner.dir, 's.ts')],
    });
    inner.append('s.ts', 2, 'more');
    inner.commit('Submodule work', D + 13.4 * HOUR);

    assert.equal(cli(['import', '--home', box.ledger], env).code, 0);
  });

  it('links sessions in each of them to their commit', () => {
    const r = cli(['link', '--json', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as LinkSummary;
    assert.equal(
      summary.repos.length,
      3,
      'the worktree shares the main repository; the shallow clone and the submodule are their own',
    );
    assert.match(summary.repos.find((x) => x.root.endsWith('shallow'))?.note ?? '', /shallow clone/);
    const sessions = JSON.parse(
      cli(['sessions', '--json', '--no-import', '--home', box.ledger], env).stdout,
    ) as SessionJson[];
    // Linked at a counting confidence; work that never reached the default branch is linked but not merged, so not
    // (yet) an outcome (docs/outcomes.md).
    const linked = (id: string): SessionJson['links'] =>
      (sessions.find((s) => s.sessionId === id)?.links ?? []).filter((l) => l.counted || l.excluded === 'unmerged');
    const subjectOf = (id: string): string[] => linked(id).map((l) => l.subject);
    const mergedOf = (id: string): boolean[] => linked(id).map((l) => l.merged);
    assert.deepEqual(subjectOf('10000000-0000-4000-8000-000000000001'), ['WT-1: w']);
    assert.deepEqual(mergedOf('10000000-0000-4000-8000-000000000001'), [false], 'feature/WT-1 was never merged');
    assert.deepEqual(subjectOf('20000000-0000-4000-8000-000000000002'), ['Detached work']);
    assert.deepEqual(mergedOf('20000000-0000-4000-8000-000000000002'), [false], 'a detached HEAD is on no branch');
    assert.deepEqual(subjectOf('019a0003-0000-7000-8000-000000000003'), ['Shallow work']);
    assert.deepEqual(mergedOf('019a0003-0000-7000-8000-000000000003'), [true]);
    assert.deepEqual(subjectOf('40000000-0000-4000-8000-000000000004'), ['Submodule work']);
    assert.deepEqual(mergedOf('40000000-0000-4000-8000-000000000004'), [true]);
    for (const id of ['019a0003-0000-7000-8000-000000000003', '40000000-0000-4000-8000-000000000004'])
      assert.ok(
        linked(id).every((l) => l.counted),
        id,
      );
    const wt = sessions.find((s) => s.sessionId === '10000000-0000-4000-8000-000000000001');
    assert.equal(wt?.repo, path.join(box.dir, 'app-wt'));
    assert.equal(wt?.links[0]?.repo, path.join(box.dir, 'app'), 'links name the repository, not the worktree');
  });

  it('keeps reading the repository when a worktree is removed and its folder made again outside any repository', () => {
    // The box.ledger knows app-wt as a working tree of app; now it is a plain folder, and app's refs moved.
    const wt = path.join(box.dir, 'app-wt');
    app.git(['worktree', 'remove', '--force', wt]);
    fs.mkdirSync(wt);
    app.git(['branch', 'after-wt-removed']);
    const r = cli(['link', '--json', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    const sessions = JSON.parse(
      cli(['sessions', '--json', '--no-import', '--home', box.ledger], env).stdout,
    ) as SessionJson[];
    const links = sessions.find((s) => s.sessionId === '10000000-0000-4000-8000-000000000001')?.links ?? [];
    assert.deepEqual(
      links.map((l) => l.subject),
      ['WT-1: w'],
      "the worktree's session keeps its link",
    );
  });
});
