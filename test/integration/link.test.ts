import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportJson } from '../../src/core/outcomes/report';
import type { LinkSummary } from '../../src/services/linker';
import type { SessionJson } from '../../src/services/queries';
import { cli } from './cli';
import { DAY, daysAgo, HOUR, Logs, MIN, Repo, TEAMMATE } from './scripted';
import { sandbox } from './sandbox';

/**
 * Linking on real repositories with a scripted history (see scripted.ts), through the bundled CLI as a user runs it.
 * Day D is three days ago; the durable task happened 40 days ago, so its lines are judged at HEAD.
 */
describe('link: sessions → commits, tasks and PRs on scripted git histories (real git, the bundled CLI)', function () {
  this.timeout(120_000);
  const box = sandbox('ol-link-');
  let logs: Logs;
  let env: Record<string, string>;
  let app: Repo;
  let old: Repo;
  const sha: Record<string, string> = {};
  const ids = {
    durable: '1aaaaaaa-0000-4000-8000-000000000001',
    squash: '019a0002-0000-7000-8000-000000000002',
    rebase: '3aaaaaaa-0000-4000-8000-000000000003',
    amend: '4aaaaaaa-0000-4000-8000-000000000004',
    pairClaude: '5aaaaaaa-0000-4000-8000-000000000005',
    pairCodex: '019a0006-0000-7000-8000-000000000006',
    explore: '7aaaaaaa-0000-4000-8000-000000000007',
    padding: '019a0008-0000-7000-8000-000000000008',
    old: '9aaaaaaa-0000-4000-8000-000000000009',
  };

  const run = (args: string[], extra: Record<string, string> = {}): ReturnType<typeof cli> =>
    cli([...args, '--home', box.ledger], { ...env, ...extra });
  const sessions = (extra: string[] = []): Map<string, SessionJson> => {
    const r = run(['sessions', '--json', '--no-import', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return new Map((JSON.parse(r.stdout) as SessionJson[]).map((s) => [s.sessionId, s]));
  };
  const counted = (s: SessionJson | undefined): string[] =>
    (s?.links ?? [])
      .filter((l) => l.counted)
      .map((l) => l.commit)
      .sort();
  /** Links at a counting confidence, also to work that never reached main (linked, but not an outcome: docs/outcomes.md). */
  const linked = (s: SessionJson | undefined): string[] =>
    (s?.links ?? [])
      .filter((l) => l.counted || l.excluded === 'unmerged')
      .map((l) => l.commit)
      .sort();
  const unmerged = (s: SessionJson | undefined): string[] =>
    (s?.links ?? [])
      .filter((l) => l.excluded === 'unmerged')
      .map((l) => l.commit)
      .sort();
  const report = (): ReportJson => {
    const r = run(['report', '--json', '--no-import']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ReportJson;
  };

  before(() => {
    logs = new Logs(box.home);
    env = logs.env();
    const D = daysAgo(3);
    const D40 = D - 37 * DAY;
    app = new Repo(path.join(box.dir, 'app'), box.home);
    app.write('README.md', '# app\n');
    app.write('docs/runbook.md', '# runbook\n');
    app.append('src/pay.ts', 3, 'base');
    app.commit('Initial commit', D40 - HOUR);

    // 40 days ago: a Claude session on feature/PAY-7, its commit (with trailer), a PR merge, the branch deleted.
    app.git(['checkout', '-q', '-b', 'feature/PAY-7']);
    logs.session('claude', app, {
      id: ids.durable,
      start: D40 + 10 * HOUR,
      end: D40 + 10.5 * HOUR,
      edits: ['src/pay.ts', 'src/pay.test.ts'],
    });
    app.append('src/pay.ts', 10, 'card');
    app.append('src/pay.test.ts', 5, 'test');
    sha.c1 = app.commit(
      'PAY-7: pay by card\n\nCo-authored-by: Claude <noreply@anthropic.com>',
      D40 + 10.5 * HOUR + 5 * MIN,
    );
    app.git(['checkout', '-q', 'main']);
    app.git(['merge', '--no-ff', '-q', '-m', 'Merge pull request #12 from acme/feature/PAY-7', 'feature/PAY-7'], {
      at: D40 + 11 * HOUR,
    });
    app.git(['branch', '-q', '-D', 'feature/PAY-7']);
    // Five days later a teammate removes 3 of its 10 lines in pay.ts: 12 of its 15 added lines stay.
    const pay = fs
      .readFileSync(app.abs('src/pay.ts'), 'utf8')
      .split('\n')
      .filter((l) => !/^card line [123]$/.test(l));
    app.write('src/pay.ts', pay.join('\n'));
    app.commit('Trim card handling', D40 + 5 * DAY, TEAMMATE);

    // Day D. Squash merge: a Codex session's commit squashed into main as "Refunds (#13)", the branch deleted.
    app.git(['checkout', '-q', '-b', 'feature/PAY-8'], { at: D + 9.9 * HOUR });
    logs.session('codex', app, {
      id: ids.squash,
      start: D + 10 * HOUR,
      end: D + 10.33 * HOUR,
      edits: ['src/refund.ts'],
    });
    app.append('src/refund.ts', 8, 'refund');
    sha.c2 = app.commit('Add refunds', D + 10.4 * HOUR);
    app.git(['checkout', '-q', 'main']);
    app.git(['merge', '--squash', '-q', 'feature/PAY-8'], { at: D + 11 * HOUR });
    sha.squash = app.commit('Refunds (#13)', D + 11 * HOUR);
    app.git(['branch', '-q', '-D', 'feature/PAY-8']);

    // Rebase: the session's commit is replayed onto a newer main (same author time, new sha).
    app.git(['checkout', '-q', '-b', 'feature/PAY-9']);
    logs.session('claude', app, {
      id: ids.rebase,
      start: D + 13 * HOUR,
      end: D + 13.33 * HOUR,
      edits: ['src/invoice.ts'],
    });
    app.append('src/invoice.ts', 6, 'invoice');
    sha.c3 = app.commit('PAY-9: invoices', D + 13.4 * HOUR);
    app.git(['checkout', '-q', 'main']);
    app.append('docs/runbook.md', 2, 'ops');
    sha.human1 = app.commit('Docs: on-call', D + 13.6 * HOUR);
    app.git(['rebase', '-q', 'main', 'feature/PAY-9'], { committedAt: D + 13.8 * HOUR });
    sha.c3r = app.head();
    app.git(['checkout', '-q', 'main']);

    // Amend: committed as "wip", amended a few minutes later (author time kept).
    app.git(['checkout', '-q', '-b', 'feature/PAY-10']);
    logs.session('claude', app, {
      id: ids.amend,
      start: D + 15 * HOUR,
      end: D + 15.17 * HOUR,
      edits: ['src/a.ts'],
    });
    app.append('src/a.ts', 4, 'a');
    sha.c4 = app.commit('wip', D + 15.2 * HOUR);
    app.git(['commit', '-q', '--amend', '-m', 'PAY-10: add a'], { committedAt: D + 15.3 * HOUR });
    sha.c4a = app.head();

    // Two tools on one task at once, one commit with both sessions' files.
    app.git(['checkout', '-q', '-b', 'feature/PAY-11', 'main']);
    logs.session('claude', app, {
      id: ids.pairClaude,
      start: D + 16 * HOUR,
      end: D + 16.66 * HOUR,
      edits: ['src/b.ts'],
    });
    logs.session('codex', app, {
      id: ids.pairCodex,
      start: D + 16.16 * HOUR,
      end: D + 16.75 * HOUR,
      edits: ['src/c.ts'],
    });
    app.append('src/b.ts', 3, 'b');
    app.append('src/c.ts', 3, 'c');
    sha.c5 = app.commit('PAY-11: b and c', D + 16.83 * HOUR);
    app.git(['checkout', '-q', 'main']);

    // An exploration that edits nothing, then a commit by hand right after: never claimed.
    logs.session('claude', app, {
      id: ids.explore,
      start: D + 17 * HOUR,
      end: D + 17.5 * HOUR,
      prompts: ['How does billing work? Do not change anything.'],
    });
    app.append('src/x.ts', 2, 'x');
    sha.c6 = app.commit('Tweak x', D + 17.66 * HOUR);
    // Padding: huge context per output token, no edits, the same prompt again and again.
    logs.session('codex', app, {
      id: ids.padding,
      start: D + 18 * HOUR,
      end: D + 18.5 * HOUR,
      calls: 4,
      output: 40,
      cacheRead: 300_000,
      prompts: ['continue', 'continue', 'continue', 'continue'],
    });
    // A teammate's commit hours later, far from any session.
    app.append('docs/runbook.md', 1, 'teammate');
    sha.human2 = app.commit('Runbook: escalation', D + 21 * HOUR, TEAMMATE);

    // A second repository that will vanish.
    old = new Repo(path.join(box.dir, 'old'), box.home);
    old.append('lib.ts', 2, 'lib');
    old.commit('init', D + 8 * HOUR);
    logs.session('claude', old, {
      id: ids.old,
      start: D + 9 * HOUR,
      end: D + 9.33 * HOUR,
      edits: ['lib.ts'],
    });
    old.append('lib.ts', 4, 'more');
    sha.old = old.commit('More lib', D + 9.4 * HOUR);

    assert.equal(cli(['import', '--home', box.ledger], env).code, 0);
  });

  it('links each session to exactly the commits it produced: merge, squash, rebase, amend, two tools on one task', () => {
    const r = run(['link', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as LinkSummary;
    assert.equal(summary.repos.length, 2);
    assert.ok(summary.repos.every((x) => x.state === 'ok'));
    const s = sessions();
    assert.deepEqual(counted(s.get(ids.durable)), [sha.c1]);
    assert.deepEqual(counted(s.get(ids.squash)), [sha.squash], 'the squash commit inherits the deleted branch commit');
    assert.deepEqual(linked(s.get(ids.rebase)), [sha.c3r], 'the rebased commit, not the one rebase left behind');
    assert.deepEqual(linked(s.get(ids.amend)), [sha.c4a], 'the amended commit');
    assert.deepEqual(linked(s.get(ids.pairClaude)), [sha.c5]);
    assert.deepEqual(linked(s.get(ids.pairCodex)), [sha.c5]);
    // Their branches were never merged into main: linked, shown as not merged, and not (yet) outcomes.
    for (const [id, c] of [
      [ids.rebase, sha.c3r],
      [ids.amend, sha.c4a],
      [ids.pairClaude, sha.c5],
      [ids.pairCodex, sha.c5],
    ] as const) {
      assert.deepEqual(unmerged(s.get(id)), [c], id);
      assert.deepEqual(counted(s.get(id)), [], id);
    }
    assert.deepEqual(counted(s.get(ids.explore)), [], 'a session that edited nothing is never credited');
    assert.deepEqual(counted(s.get(ids.padding)), []);
    assert.deepEqual(counted(s.get(ids.old)), [sha.old]);
    const claimed = new Set([...s.values()].flatMap(counted));
    for (const human of [sha.human1, sha.human2, sha.c6])
      assert.ok(!claimed.has(human as string), `human commit ${human} is never claimed`);
    assert.equal(s.get(ids.durable)?.status, 'shipped');
    assert.equal(s.get(ids.explore)?.status, 'unlinked');
  });

  it('explains each link in words and with the evidence kinds of cli.md', () => {
    const s = sessions();
    const l = s.get(ids.durable)?.links.find((x) => x.commit === sha.c1);
    assert.ok(l);
    assert.deepEqual(l.evidence, ['branch', 'files', 'time', 'trailer', 'task']);
    assert.equal(l.state, 'auto');
    assert.ok(l.confidence >= 0.95 && l.confidence <= 1);
    assert.equal(l.repo, app.dir);
    assert.match(
      l.why,
      /^same branch feature\/PAY-7; edited exactly its files: src\/pay\.test\.ts, src\/pay\.ts; committed 5 min after the last reply; co-authored by Claude/,
    );
    assert.equal(l.pr, 12);
    const squash = s.get(ids.squash)?.links.find((x) => x.commit === sha.squash);
    assert.ok(squash?.evidence.includes('codex-git'), 'Codex recorded the HEAD the commit was made on');
    assert.match(squash?.why ?? '', /squash-merged as [0-9a-f]{7} \(#13\)/);
    assert.deepEqual(s.get(ids.durable)?.tasks, ['PAY-7']);
    const shown = run(['link', 'show', ids.durable.slice(0, 8)]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(
      shown.stdout,
      /✔ (?:0\.9\d|1\.00) [0-9a-f]{7} PAY-7: pay by card \(#12\)\n {6}same branch feature\/PAY-7; edited exactly its files/,
    );
  });

  it('reports outcomes: commits, tasks across tools, PRs, yield, cost per commit and task, kept lines, self-check', () => {
    const r = report();
    const o = r.outcomes;
    // PAY-9, PAY-10 and PAY-11 never reached main: linked, counted apart as not merged (docs/outcomes.md).
    assert.equal(o.commits, 3);
    assert.equal(o.unmerged, 3);
    assert.equal(o.reverted, 0);
    assert.equal(o.tasks, 2);
    assert.deepEqual(
      o.byTask
        .filter((t) => t.delivered)
        .map((t) => t.task)
        .sort(),
      ['PAY-7', 'PAY-8'],
    );
    assert.equal(o.prs, 2);
    assert.equal(o.shippedSessions, 3);
    assert.equal(o.unlinkedSessions, 6);
    assert.ok(o.yield !== null && o.yield > 0 && o.yield < 1);
    assert.ok(
      o.tokensPerCommit !== null &&
        o.costPerCommit !== null &&
        o.costPerTask !== null &&
        o.tokensPerTaskMedian !== null,
    );
    const pair = o.byTask.find((t) => t.task === 'PAY-11');
    assert.deepEqual(pair?.sources, ['claude-code', 'codex'], 'one task, two tools: their cost adds up');
    assert.equal(pair?.sessions, 2);
    assert.equal(o.keptLines, 12, '15 lines added 40 days ago, 3 removed since');
    assert.ok(o.keptLinesPer1kOutput !== null && o.keptLinesPer1kOutput > 0);
    assert.equal(o.pendingCommits, 2);
    assert.equal(r.selfCheck.private, true);
    assert.equal(r.selfCheck.contextPadding.sessions, 1);
    assert.ok(r.selfCheck.repeatedPrompts.prompts >= 1, 'the padding session sent "continue" four times');
    assert.equal(
      o.tokensWithoutOutcome,
      [...sessions().values()].filter((s) => s.status === 'unlinked').reduce((n, s) => n + s.tokens.total, 0),
    );
  });

  it('keeps confirm, reject and labels through every re-link, also after history moves', () => {
    assert.equal(run(['link', 'reject', ids.durable, sha.c1 as string]).code, 0);
    const confirm = run(['link', 'confirm', ids.explore.slice(0, 8), (sha.c6 as string).slice(0, 10)]);
    assert.equal(confirm.code, 0, confirm.stderr);
    assert.match(confirm.stdout, /^Confirmed claude-code:7aaaaaaa-0000-4000-8000-000000000007 → [0-9a-f]{7} Tweak x/);
    assert.equal(run(['label', ids.pairClaude, 'learning']).code, 0);
    // History moves on: a new commit on main, a normal re-link and a full one.
    app.append('docs/runbook.md', 1, 'later');
    app.commit('Runbook: later', Date.now() - HOUR);
    const relink = JSON.parse(run(['link', '--json']).stdout) as LinkSummary;
    assert.equal(relink.repos.find((x) => x.root === app.dir)?.commitsRead, 1, 'only the new commit is read');
    assert.ok(relink.sessionsScored < 9, `re-scored ${relink.sessionsScored} sessions, not all`);
    assert.equal(run(['link', '--full']).code, 0);
    const s = sessions();
    const rejected = s.get(ids.durable)?.links.find((l) => l.commit === sha.c1);
    assert.deepEqual([rejected?.state, rejected?.counted], ['rejected', false]);
    assert.equal(s.get(ids.durable)?.status, 'unlinked');
    const confirmed = s.get(ids.explore)?.links.find((l) => l.commit === sha.c6);
    assert.deepEqual([confirmed?.state, confirmed?.counted, confirmed?.evidence], ['confirmed', true, ['manual']]);
    assert.equal(s.get(ids.explore)?.status, 'shipped');
    assert.equal(s.get(ids.pairClaude)?.status, 'learning');
    // The threshold decides automatic links only.
    const strict = sessions(['--threshold', '1']);
    assert.deepEqual(counted(strict.get(ids.explore)), [sha.c6]);
    assert.deepEqual(counted(strict.get(ids.pairCodex)), []);
    // Undo: back to automatic.
    assert.equal(run(['link', 'reset', ids.durable, sha.c1 as string]).code, 0);
    assert.equal(run(['link', 'reset', ids.explore, sha.c6 as string]).code, 0);
    const back = sessions();
    assert.deepEqual(counted(back.get(ids.durable)), [sha.c1]);
    assert.deepEqual(counted(back.get(ids.explore)), []);
  });

  it('durability follows HEAD: a later commit that removes lines lowers the kept count, re-blaming only that file', () => {
    const pay = fs
      .readFileSync(app.abs('src/pay.ts'), 'utf8')
      .split('\n')
      .filter((l) => !/^card line [45]$/.test(l));
    app.write('src/pay.ts', pay.join('\n'));
    app.commit('Trim more', Date.now() - HOUR, TEAMMATE);
    const r = JSON.parse(run(['link', '--json']).stdout) as LinkSummary;
    assert.equal(r.durability?.blamedFiles, 1, 'only the file that changed is blamed again');
    assert.equal(report().outcomes.keptLines, 10);
    // Younger than --durability-days: pending; older: judged.
    assert.equal(
      (JSON.parse(run(['report', '--json', '--no-import', '--durability-days', '60']).stdout) as ReportJson).outcomes
        .keptLinesPer1kOutput,
      null,
    );
  });

  it('a repository that vanished keeps its links as history and is flagged', () => {
    fs.rmSync(old.dir, { recursive: true, force: true });
    const r = run(['link', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as LinkSummary;
    const gone = summary.repos.find((x) => x.root === old.dir);
    assert.equal(gone?.state, 'vanished');
    assert.match(gone?.note ?? '', /no longer exists/);
    assert.deepEqual(counted(sessions().get(ids.old)), [sha.old]);
    assert.match(run(['link']).stdout, /vanished/);
  });

  it('a repository that moved is recognised by its commits and flagged; its sessions keep their links', () => {
    const T = Date.now() - 6 * HOUR;
    const legacy = new Repo(path.join(box.dir, 'legacy'), box.home);
    legacy.append('l.ts', 2, 'l');
    legacy.commit('legacy init', T - HOUR);
    logs.session('claude', legacy, {
      id: '9ccccccc-0000-4000-8000-000000000011',
      start: T,
      end: T + 10 * MIN,
      edits: ['l.ts'],
    });
    legacy.append('l.ts', 3, 'more');
    sha.legacy = legacy.commit('Legacy work', T + 15 * MIN);
    assert.equal(run(['import']).code, 0);
    assert.equal(run(['link']).code, 0);
    // Moved on disk; work goes on at the new place.
    const moved = path.join(box.dir, 'legacy-moved');
    fs.renameSync(legacy.dir, moved);
    const there = new Repo(moved, box.home, false);
    logs.session('claude', there, {
      id: '9ddddddd-0000-4000-8000-000000000012',
      start: T + 2 * HOUR,
      end: T + 2.2 * HOUR,
      edits: ['l.ts'],
    });
    there.append('l.ts', 1, 'there');
    sha.there = there.commit('Work after the move', T + 2.3 * HOUR);
    assert.equal(run(['import']).code, 0);
    const summary = JSON.parse(run(['link', '--json']).stdout) as LinkSummary;
    const old = summary.repos.find((x) => x.root === legacy.dir);
    assert.equal(old?.state, 'moved');
    assert.match(old?.note ?? '', /moved to .*legacy-moved/);
    const s = sessions();
    assert.deepEqual(counted(s.get('9ccccccc-0000-4000-8000-000000000011')), [sha.legacy], 'history kept');
    assert.deepEqual(counted(s.get('9ddddddd-0000-4000-8000-000000000012')), [sha.there]);
    const again = JSON.parse(run(['link', '--json']).stdout) as LinkSummary;
    assert.equal(again.unchanged, true, 'a flagged repository does not make every run a write');
    assert.equal(again.repos.find((x) => x.root === legacy.dir)?.state, 'moved');
  });

  it('without git on PATH: a plain message, and reports still work', () => {
    const noGit = { PATH: path.join(box.dir, 'no-such-bin') };
    // Nothing moved: the refs are read from their files, no git needed.
    assert.equal(run(['link'], noGit).code, 0);
    app.append('src/z.ts', 1, 'z');
    app.commit('z', Date.now() - HOUR);
    const r = run(['link'], noGit);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'outcome-ledger: git was not found on PATH (install git to link sessions to commits)',
    );
    const rep = run(['report', '--json'], noGit);
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(rep.stderr, /git was not found on PATH/);
    assert.equal(
      (JSON.parse(rep.stdout) as ReportJson).outcomes.commits,
      5,
      'the three of the first test and the two of the moved repository',
    );
  });

  it('rejects bad input with exit 2 and one line', () => {
    for (const args of [
      ['link', 'confirm', ids.durable],
      ['link', 'confirm', 'nope', 'abcd1234'],
      ['link', 'confirm', ids.durable, 'zzz'],
      ['link', 'frob'],
      ['link', '--window-hours', 'x'],
      ['link', '--task-pattern', '(['],
      ['report', '--threshold', '2'],
    ]) {
      const r = run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
