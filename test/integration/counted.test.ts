import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportJson } from '../../src/core/outcomes/report';
import type { SummaryDocument } from '../../src/core/summary/schema';
import type { SessionJson } from '../../src/services/queries';
import { cli } from './cli';
import { sandbox } from './sandbox';
import { DAY, daysAgo, HOUR, Logs, ME, MIN, Repo, TEAMMATE } from './scripted';

/**
 * What counts as an outcome (issue 14, docs/outcomes.md), on a real repository through the bundled CLI: a commit
 * reverted with `git revert`, one undone by a later commit whose patch is its exact reverse (a squash-revert), a
 * teammate's commit the engineer confirmed, a teammate's commit naming the engineer as co-author, a branch never
 * merged, and a plain commit of the engineer's on main. Only the last two kinds are the engineer's outcomes.
 */
describe('counted outcomes: authorship, reverts and unmerged work (real git, the bundled CLI)', function () {
  this.timeout(180_000);
  const box = sandbox('ol-counted-');
  let env: Record<string, string>;
  let app: Repo;
  const sha = {
    reverted: '',
    revert: '',
    squashReverted: '',
    undo: '',
    teammate: '',
    coAuthored: '',
    unmerged: '',
    own: '',
  };
  const ids = {
    reverted: '1bbbbbbb-0000-4000-8000-000000000001',
    squashReverted: '2bbbbbbb-0000-4000-8000-000000000002',
    teammate: '3bbbbbbb-0000-4000-8000-000000000003',
    coAuthored: '4bbbbbbb-0000-4000-8000-000000000004',
    unmerged: '5bbbbbbb-0000-4000-8000-000000000005',
    own: '6bbbbbbb-0000-4000-8000-000000000006',
    reverter: '7bbbbbbb-0000-4000-8000-000000000007',
  };
  const run = (args: string[]): ReturnType<typeof cli> => cli([...args, '--home', box.ledger], env);
  const json = <T>(args: string[]): T => {
    const r = run(args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };
  const sessions = (extra: string[] = []): Map<string, SessionJson> =>
    new Map(json<SessionJson[]>(['sessions', '--json', '--no-import', ...extra]).map((s) => [s.sessionId, s]));
  const linkTo = (s: SessionJson | undefined, commit: string): SessionJson['links'][number] => {
    const l = s?.links.find((x) => x.commit === commit);
    assert.ok(
      l,
      `${s?.sessionId ?? '?'} has no link to ${commit.slice(0, 7)}: ${JSON.stringify(s?.links.map((x) => [x.commit.slice(0, 7), x.confidence]))}`,
    );
    return l;
  };

  before(() => {
    const logs = new Logs(box.home);
    env = logs.env();
    const D = daysAgo(20);
    app = new Repo(path.join(box.dir, 'app'), box.home);
    app.write('README.md', '# app\n');
    app.commit('Initial commit', D - DAY);
    const day = (n: number): number => D + n * DAY + 10 * HOUR;
    const session = (id: string, n: number, edits: string[]): void => {
      logs.session('claude', app, { id, start: day(n), end: day(n) + 30 * MIN, edits });
    };

    // 1. A commit reverted with `git revert` a day later (the revert is another session's work).
    session(ids.reverted, 0, ['src/a.ts']);
    app.append('src/a.ts', 12, 'a');
    sha.reverted = app.commit('PAY-1: add a', day(0) + 35 * MIN);
    session(ids.reverter, 1, ['src/a.ts']);
    app.git(['revert', '--no-edit', sha.reverted], { at: day(1) + 35 * MIN });
    sha.revert = app.head();

    // 2. A commit whose patch a later commit undoes exactly (a squash-merged revert PR titled otherwise).
    session(ids.squashReverted, 2, ['src/b.ts']);
    app.write('src/b.ts', 'one\ntwo\n');
    app.commit('Add b', day(2) - 2 * HOUR);
    app.write('src/b.ts', 'one\nnew 1\nnew 2\ntwo\nnew 3\n');
    sha.squashReverted = app.commit('PAY-2: extend b', day(2) + 35 * MIN);
    app.write('src/c.ts', 'unrelated\n');
    app.commit('Unrelated change', day(3) - 3 * HOUR, TEAMMATE);
    app.write('src/b.ts', 'one\ntwo\n');
    sha.undo = app.commit('Back out the b extension (#41)', day(3) - 2 * HOUR, TEAMMATE);

    // 3. A teammate's commit, which the engineer will confirm for their session.
    session(ids.teammate, 4, ['src/d.ts']);
    app.append('src/d.ts', 8, 'd');
    sha.teammate = app.commit("PAY-3: Sam's big refactor", day(4) + 35 * MIN, TEAMMATE);

    // 4. A teammate's commit naming the engineer as co-author: the engineer's too.
    session(ids.coAuthored, 5, ['src/e.ts']);
    app.append('src/e.ts', 6, 'e');
    sha.coAuthored = app.commit(
      `PAY-4: pair on e\n\nCo-authored-by: ${ME.name} <${ME.email}>`,
      day(5) + 35 * MIN,
      TEAMMATE,
    );

    // 5. Work on a branch that never reached main.
    app.git(['checkout', '-q', '-b', 'feature/PAY-5']);
    session(ids.unmerged, 6, ['src/f.ts']);
    app.append('src/f.ts', 9, 'f');
    sha.unmerged = app.commit('PAY-5: try f', day(6) + 35 * MIN);
    app.git(['checkout', '-q', 'main']);

    // 6. The engineer's own commit on main: the one plain outcome.
    session(ids.own, 7, ['src/g.ts']);
    app.append('src/g.ts', 7, 'g');
    sha.own = app.commit('PAY-6: add g', day(7) + 35 * MIN);

    const imported = run(['import']);
    assert.equal(imported.code, 0, imported.stderr);
    const linked = run(['link']);
    assert.equal(linked.code, 0, linked.stderr);
    const confirmed = run(['link', 'confirm', ids.teammate, sha.teammate]);
    assert.equal(confirmed.code, 0, confirmed.stderr);
  });

  it("marks each link with its author and whether it was reverted or merged, and counts only the engineer's own", () => {
    const s = sessions();
    const reverted = linkTo(s.get(ids.reverted), sha.reverted);
    assert.equal(reverted.reverted, true);
    assert.equal(reverted.counted, false);
    assert.equal(reverted.excluded, 'reverted');
    assert.equal(reverted.author, ME.email);
    assert.equal(reverted.authoredByEngineer, true);

    const squash = linkTo(s.get(ids.squashReverted), sha.squashReverted);
    assert.equal(squash.reverted, true, 'a later commit whose patch is the exact reverse undoes it');
    assert.equal(squash.counted, false);

    const revert = linkTo(s.get(ids.reverter), sha.revert);
    assert.equal(revert.revert, true);
    assert.equal(revert.counted, false, 'a revert is never an outcome');
    assert.equal(s.get(ids.reverter)?.status, 'unlinked');

    const teammate = linkTo(s.get(ids.teammate), sha.teammate);
    assert.equal(teammate.state, 'confirmed');
    assert.equal(teammate.authoredByEngineer, false);
    assert.equal(teammate.author, TEAMMATE.email);
    assert.equal(teammate.counted, false);
    assert.equal(teammate.excluded, 'others');
    assert.notEqual(s.get(ids.teammate)?.status, 'shipped');

    const co = linkTo(s.get(ids.coAuthored), sha.coAuthored);
    assert.equal(co.authoredByEngineer, true);
    assert.equal(co.coAuthored, true);
    assert.equal(co.author, TEAMMATE.email);
    assert.equal(co.counted, true);

    const unmerged = linkTo(s.get(ids.unmerged), sha.unmerged);
    assert.equal(unmerged.merged, false);
    assert.equal(unmerged.counted, false);
    assert.equal(unmerged.excluded, 'unmerged');

    const own = linkTo(s.get(ids.own), sha.own);
    assert.deepEqual([own.counted, own.merged, own.reverted, own.authoredByEngineer], [true, true, false, true]);
    assert.equal(s.get(ids.own)?.status, 'shipped');
    assert.equal(s.get(ids.reverted)?.status, 'unlinked', 'a session whose only commit was reverted shipped nothing');
  });

  it("report --json: headline figures count only the engineer's own, unreverted, merged commits; the rest is counted apart", () => {
    const r = json<ReportJson>(['report', '--json', '--no-import']);
    assert.equal(r.outcomes.commits, 2, 'the co-authored commit and the own commit');
    assert.equal(r.outcomes.tasks, 2, 'PAY-4 and PAY-6 only');
    assert.deepEqual(
      r.outcomes.byTask
        .filter((t) => t.delivered)
        .map((t) => t.task)
        .sort(),
      ['PAY-4', 'PAY-6'],
    );
    assert.equal(r.outcomes.reverted, 2);
    assert.equal(r.outcomes.unmerged, 1);
    assert.equal(r.outcomes.authoredByOthers, 1);
    assert.equal(r.outcomes.shippedSessions, 2);
    const s = sessions();
    const shippedTokens = [ids.coAuthored, ids.own].reduce((a, id) => a + (s.get(id)?.tokens.total ?? 0), 0);
    assert.equal(r.outcomes.yield, shippedTokens / r.totals.total);
    assert.equal(r.outcomes.tokensPerCommit, Math.round(shippedTokens / 2));
    assert.ok(r.identities.includes(ME.email), JSON.stringify(r.identities));
  });

  it("--identity adds an author email for the call: the teammate's confirmed commit then counts", () => {
    const r = json<ReportJson>(['report', '--json', '--no-import', '--identity', TEAMMATE.email]);
    assert.equal(r.outcomes.commits, 3);
    assert.equal(r.outcomes.authoredByOthers, 0);
    const bad = run(['report', '--json', '--no-import', '--identity', 'not-an-email']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--identity needs an email address/);
  });

  it('summary JSON cites full shas with authoredByEngineer, lists set-aside commits apart, and verifies against the ledger', () => {
    const since = new Date(Date.now() - 40 * DAY).toISOString().slice(0, 10);
    const until = new Date().toISOString().slice(0, 10);
    const out = path.join(box.dir, 'summary.json');
    const r = run(['summary', '--since', since, '--until', until, '--format', 'json', '--out', out, '--no-import']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as SummaryDocument;
    const cited = doc.summary.tasks.flatMap((t) => t.outcomes.flatMap((o) => o.commits));
    assert.deepEqual(cited.map((c) => c.sha).sort(), [sha.coAuthored, sha.own].sort());
    for (const c of cited) {
      assert.equal(c.sha.length, 40);
      assert.equal(c.authoredByEngineer, true);
    }
    assert.equal(cited.find((c) => c.sha === sha.coAuthored)?.coAuthored, true);
    assert.equal(doc.summary.outcomes.commits, 2);
    const aside = new Map((doc.summary.notCounted ?? []).map((c) => [c.sha, c]));
    assert.equal(aside.get(sha.teammate)?.authoredByEngineer, false);
    assert.equal(aside.get(sha.teammate)?.reason, 'others');
    assert.equal(aside.get(sha.teammate)?.author, TEAMMATE.email);
    assert.equal(aside.get(sha.reverted)?.reason, 'reverted');
    assert.equal(aside.get(sha.squashReverted)?.reverted, true);
    assert.equal(aside.get(sha.unmerged)?.merged, false);
    assert.equal(aside.has(sha.revert), false, 'a revert is not cited at all');
    assert.deepEqual(doc.summary.settings.identities?.includes(ME.email), true);

    const md = run(['summary', '--since', since, '--until', until, '--no-import']);
    assert.equal(md.code, 0, md.stderr);
    assert.match(md.stdout, /## Linked but not counted/);
    assert.match(md.stdout, new RegExp(`\`${sha.teammate.slice(0, 7)}\`.*assisted, authored by someone else`));

    const v = run(['verify', out, '--ledger']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  it('a revert of the revert restores the original as an outcome', () => {
    app.git(['revert', '--no-edit', sha.revert], { at: Date.now() - 2 * DAY });
    const linked = run(['link']);
    assert.equal(linked.code, 0, linked.stderr);
    const l = linkTo(sessions().get(ids.reverted), sha.reverted);
    assert.equal(l.reverted, false);
    assert.equal(l.counted, true);
    const r = json<ReportJson>(['report', '--json', '--no-import']);
    assert.equal(r.outcomes.reverted, 1);
    assert.equal(r.outcomes.commits, 3);
  });
});
