import assert from 'node:assert/strict';
import {
  COMMIT_MERGE,
  COMMIT_OTHER_AUTHOR,
  decodeFiles,
  encodeFiles,
  reduceCommit,
  trailerFlags,
  TRAILER_AIDER,
  TRAILER_CLAUDE,
  TRAILER_COPILOT,
  type CommitInfo,
} from '../../src/core/outcomes/commits';
import { branchName, History, type Tip } from '../../src/core/outcomes/history';
import {
  DEFAULT_LINK_OPTIONS,
  explain,
  evidenceKinds,
  FileIndex,
  isCounted,
  linkSession,
  scorePair,
  SessionIndex,
  timeWeight,
  type LinkSession,
} from '../../src/core/outcomes/linking';
import { computeOutcomes, median } from '../../src/core/outcomes/outcomes';
import { selfCheck } from '../../src/core/outcomes/selfcheck';
import { findSuccessors } from '../../src/core/outcomes/successors';
import { mergedBranchOf, prOf, tasksInBranch, tasksInText } from '../../src/core/outcomes/tasks';

const MIN = 60_000;
const T0 = Date.UTC(2026, 8, 1, 9, 0, 0);

let n = 0;
function sha(): string {
  n++;
  return n.toString(16).padStart(40, 'a');
}

function commit(over: Omit<Partial<CommitInfo>, 'files'> & { files?: string[] }): CommitInfo {
  const files = (over.files ?? []).map((f) => ({ path: f, added: 5, removed: 0 }));
  return {
    sha: over.sha ?? sha(),
    parents: over.parents ?? [],
    authorTime: over.authorTime ?? T0,
    commitTime: over.commitTime ?? over.authorTime ?? T0,
    subject: over.subject ?? 'change',
    flags: over.flags ?? 0,
    tasks: over.tasks ?? [],
    pr: over.pr ?? null,
    mergedBranch: over.mergedBranch ?? null,
    files,
  };
}

function session(over: Omit<Partial<LinkSession>, 'files'> & { files?: string[] } = {}): LinkSession {
  const files = new Set(over.files ?? ['src/pay.ts']);
  return {
    ref: over.ref ?? 1,
    source: over.source ?? 'claude-code',
    branches: over.branches ?? ['feature/PAY-7'],
    start: over.start ?? T0,
    end: over.end ?? T0 + 30 * MIN,
    files,
    codexHead: over.codexHead ?? null,
  };
}

/** main: base ← (feature/PAY-7: c1) and a trunk commit; tips given explicitly. */
function world(
  extra: CommitInfo[] = [],
  tips: Tip[] = [],
): { base: CommitInfo; h: (more?: CommitInfo[], moreTips?: Tip[]) => History } {
  const base = commit({ authorTime: T0 - 86_400_000, files: ['README.md'] });
  return {
    base,
    h: (more = [], moreTips = []) =>
      new History([base, ...extra, ...more], [{ ref: 'refs/heads/main', sha: base.sha }, ...tips, ...moreTips]),
  };
}

describe('tasks and PRs', () => {
  it('finds ABC-123 keys, GH-123 and #123 issues, but not standards or PR numbers', () => {
    assert.deepEqual(tasksInText('PAY-7: fix rounding (fixes #12, GH-40)'), ['#12', '#40', 'PAY-7']);
    assert.deepEqual(tasksInText('Use UTF-8 and SHA-256 per ISO-8601'), []);
    assert.deepEqual(tasksInText('Merge pull request #45 from acme/feature/PAY-7'), ['PAY-7']);
    assert.deepEqual(tasksInText('Refunds (#46)'), []);
    assert.deepEqual(tasksInText('PROJ_9 x', { patterns: ['PROJ_(\\d+)'] }), ['#9']);
  });

  it('reads keys from branch names, lower case included', () => {
    assert.deepEqual(tasksInBranch('feature/PAY-7'), ['PAY-7']);
    assert.deepEqual(tasksInBranch('pay-7-fix-rounding'), ['PAY-7']);
    assert.deepEqual(tasksInBranch('fix/123-typo'), ['#123']);
    assert.deepEqual(tasksInBranch('gh-88'), ['#88']);
    assert.deepEqual(tasksInBranch('release-2'), []);
    assert.deepEqual(tasksInBranch('main'), []);
  });

  it('reads PR numbers and merged branches from merge and squash subjects', () => {
    assert.equal(prOf('Merge pull request #12 from acme/feature/PAY-7'), 12);
    assert.equal(prOf('Add refunds (#13)'), 13);
    assert.equal(prOf("Merge branch 'feature/x' into 'main'", 'See merge request team/app!77'), 77);
    assert.equal(prOf('Fix #13 rounding'), null);
    assert.equal(mergedBranchOf('Merge pull request #12 from acme/feature/PAY-7'), 'feature/PAY-7');
    assert.equal(mergedBranchOf("Merge branch 'fix/x' into main"), 'fix/x');
    assert.equal(mergedBranchOf("Merge remote-tracking branch 'origin/dev'"), 'dev');
  });
});

describe('commits', () => {
  it('reads trailers of Claude, aider and Copilot', () => {
    assert.equal(trailerFlags('body\n\nCo-authored-by: Claude <noreply@anthropic.com>', 'A', 'a@x'), TRAILER_CLAUDE);
    assert.equal(
      trailerFlags('🤖 Generated with [Claude Code](https://claude.com/claude-code)', 'A', 'a@x'),
      TRAILER_CLAUDE,
    );
    assert.equal(trailerFlags('', 'Alex Kim (aider)', 'a@x'), TRAILER_AIDER);
    assert.equal(trailerFlags('Co-authored-by: aider (gpt-4o) <aider@aider.chat>', 'A', 'a@x'), TRAILER_AIDER);
    assert.equal(
      trailerFlags('Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>', 'A', 'a@x'),
      TRAILER_COPILOT,
    );
    assert.equal(trailerFlags('Co-authored-by: Sam Lee <sam@example.com>', 'A', 'a@x'), 0);
  });

  it('flags merges (no files kept), other authors, and keeps files through the stored encoding', () => {
    const raw = {
      sha: 'a',
      parents: ['b', 'c'],
      authorTime: 1,
      commitTime: 1,
      authorName: 'Sam',
      authorEmail: 'sam@x',
      subject: 'Merge pull request #3 from acme/feature/X-1',
      body: '',
      files: [{ path: 'a', added: 1, removed: 0 }],
    };
    const c = reduceCommit(raw, undefined, 'me@x');
    assert.equal(c.flags & COMMIT_MERGE, COMMIT_MERGE);
    assert.equal(c.flags & COMMIT_OTHER_AUTHOR, COMMIT_OTHER_AUTHOR);
    assert.deepEqual(c.files, []);
    assert.equal(c.mergedBranch, 'feature/X-1');
    const files = [
      { path: 'src/a b.ts', added: 3, removed: 1 },
      { path: 'img.png', added: null, removed: null },
    ];
    assert.deepEqual(decodeFiles(encodeFiles(files)), files);
  });
});

describe('history', () => {
  it('names branches from refs, keeps a merged and deleted branch from its merge subject, and assigns the PR', () => {
    assert.equal(branchName('refs/remotes/origin/feature/PAY-7'), 'feature/PAY-7');
    assert.equal(branchName('refs/remotes/origin/HEAD'), null);
    const base = commit({ authorTime: T0 });
    const c1 = commit({ parents: [base.sha], authorTime: T0 + 10 * MIN, files: ['src/pay.ts'] });
    const trunk = commit({ parents: [base.sha], authorTime: T0 + 20 * MIN, files: ['docs/x.md'] });
    const merge = commit({
      parents: [trunk.sha, c1.sha],
      authorTime: T0 + 30 * MIN,
      flags: COMMIT_MERGE,
      pr: 12,
      mergedBranch: 'feature/PAY-7',
      subject: 'Merge pull request #12 from acme/feature/PAY-7',
    });
    const h = new History([base, c1, trunk, merge], [{ ref: 'refs/heads/main', sha: merge.sha }]);
    assert.ok(h.branchesOf(c1.sha).has('feature/PAY-7'), 'the merged side keeps its branch name');
    assert.ok(!h.branchesOf(c1.sha).has('main'), 'a side commit is not on the trunk first-parent line');
    assert.ok(h.branchesOf(trunk.sha).has('main'));
    assert.equal(h.prs.get(c1.sha), 12);
    assert.ok(h.reachable.has(c1.sha));
    assert.deepEqual(h.tasksOf(c1, DEFAULT_LINK_OPTIONS.patterns), ['PAY-7']);
  });

  it('sees a fast-forwarded branch through its tip, and commits left behind as unreachable', () => {
    const base = commit({ authorTime: T0 });
    const c1 = commit({ parents: [base.sha], authorTime: T0 + 10 * MIN });
    const gone = commit({ parents: [base.sha], authorTime: T0 + 5 * MIN });
    const h = new History(
      [base, c1, gone],
      [
        { ref: 'refs/heads/main', sha: c1.sha },
        { ref: 'refs/heads/feature/PAY-7', sha: c1.sha },
      ],
    );
    assert.ok(h.onBranch(c1.sha, 'feature/PAY-7', T0));
    assert.ok(!h.reachable.has(gone.sha));
    assert.equal(h.distanceTo(c1.sha, base.sha), 1);
  });
});

describe('link evidence rules', () => {
  const { base, h } = world();
  const onBranch = (c: CommitInfo): Tip => ({ ref: 'refs/heads/feature/PAY-7', sha: c.sha });

  it("branch: the commit on the session's task branch is strong evidence; another task's branch counts against", () => {
    const c = commit({ parents: [base.sha], authorTime: T0 + 40 * MIN, files: ['src/pay.ts'] });
    const same = scorePair(session(), c, h([c], [onBranch(c)]), {});
    const other = scorePair(session(), c, h([c], [{ ref: 'refs/heads/feature/PAY-8', sha: c.sha }]), {});
    assert.ok(
      same.evidence.some((e) => e.kind === 'branch' && e.weight > 0 && /same branch feature\/PAY-7/.test(e.text)),
    );
    assert.ok(other.evidence.some((e) => e.kind === 'branch' && e.weight < 0));
    assert.ok(same.confidence > 0.95 && other.confidence < 0.6, `${same.confidence} ${other.confidence}`);
  });

  it('files: a commit sharing no file with the session is never counted, however close', () => {
    const c = commit({
      parents: [base.sha],
      authorTime: T0 + 35 * MIN,
      files: ['docs/runbook.md'],
      flags: TRAILER_CLAUDE,
    });
    const s = scorePair(session(), c, h([c], [onBranch(c)]), {});
    assert.ok(s.confidence < 0.6, String(s.confidence));
    assert.ok(s.evidence.some((e) => e.kind === 'files' && e.weight < 0));
  });

  it('time: best during or right after the session, decaying over the window', () => {
    assert.ok(
      timeWeight(10 * MIN, DEFAULT_LINK_OPTIONS.windowMs) > timeWeight(3 * 3_600_000, DEFAULT_LINK_OPTIONS.windowMs),
    );
    assert.ok(
      timeWeight(3 * 3_600_000, DEFAULT_LINK_OPTIONS.windowMs) >
        timeWeight(20 * 3_600_000, DEFAULT_LINK_OPTIONS.windowMs),
    );
    const c = commit({ parents: [base.sha], authorTime: T0 + 44 * MIN, files: ['src/pay.ts'] });
    const s = scorePair(session(), c, h([c], [onBranch(c)]), {});
    assert.match(
      explain(s.evidence),
      /^same branch feature\/PAY-7; edited exactly its files: src\/pay\.ts; committed 14 min after the last reply/,
    );
    assert.deepEqual(evidenceKinds(s.evidence), ['branch', 'files', 'time', 'task']);
  });

  it('trailers: evidence for the tool they name, against the others', () => {
    const c = commit({
      parents: [base.sha],
      authorTime: T0 + 40 * MIN,
      files: ['src/pay.ts', 'src/other.ts'],
      flags: TRAILER_CLAUDE,
    });
    const hist = h([c], []);
    const claude = scorePair(session({ branches: [] }), c, hist, {});
    const codex = scorePair(session({ branches: [], source: 'codex' }), c, hist, {});
    assert.ok(claude.evidence.some((e) => e.kind === 'trailer' && e.weight > 0));
    assert.ok(codex.evidence.some((e) => e.kind === 'trailer' && e.weight < 0));
    assert.ok(claude.confidence > codex.confidence);
  });

  it("Codex's recorded HEAD: a commit made on top of it is that session's work", () => {
    const c = commit({ parents: [base.sha], authorTime: T0 + 40 * MIN, files: ['src/pay.ts', 'src/a.ts', 'src/b.ts'] });
    const hist = h([c], []);
    const without = scorePair(session({ branches: [], source: 'codex' }), c, hist, {});
    const withHead = scorePair(session({ branches: [], source: 'codex', codexHead: base.sha }), c, hist, {});
    assert.ok(
      withHead.evidence.some((e) => e.kind === 'codex-git' && /on top of the HEAD Codex recorded/.test(e.text)),
    );
    assert.ok(withHead.confidence > without.confidence);
  });

  it('task keys shared by the branch and the message', () => {
    const c = commit({ parents: [base.sha], authorTime: T0 + 40 * MIN, files: ['src/pay.ts'], tasks: ['PAY-7'] });
    const s = scorePair(session(), c, h([c], [{ ref: 'refs/heads/other', sha: c.sha }]), {});
    assert.ok(s.evidence.some((e) => e.kind === 'task' && /PAY-7/.test(e.text)));
  });

  it("someone else's commit is not the session's outcome", () => {
    const c = commit({
      parents: [base.sha],
      authorTime: T0 + 40 * MIN,
      files: ['src/pay.ts'],
      flags: COMMIT_OTHER_AUTHOR,
    });
    const s = scorePair(session({ branches: ['main'] }), c, h([c], [{ ref: 'refs/heads/main', sha: c.sha }]), {});
    assert.ok(s.confidence < 0.6, String(s.confidence));
  });

  it('a session that edited nothing never gets a counted link', () => {
    const c = commit({
      parents: [base.sha],
      authorTime: T0 + 35 * MIN,
      files: ['src/pay.ts'],
      flags: TRAILER_CLAUDE,
      tasks: ['PAY-7'],
    });
    const hist = h([c], [onBranch(c)]);
    assert.ok(scorePair(session({ files: [] }), c, hist, {}).confidence <= 0.3);
    assert.deepEqual(linkSession(session({ files: [] }), hist, new FileIndex(hist), new SessionIndex([])), []);
  });

  it("a later commit after the session's work was already committed, or after a later session redid it, is penalised", () => {
    const c1 = commit({ parents: [base.sha], authorTime: T0 + 35 * MIN, files: ['src/pay.ts'] });
    const c2 = commit({ parents: [c1.sha], authorTime: T0 + 6 * 3_600_000, files: ['src/pay.ts'] });
    const hist = h([c1, c2], [{ ref: 'refs/heads/feature/PAY-7', sha: c2.sha }]);
    const s = session();
    const later = session({ ref: 2, start: T0 + 5 * 3_600_000, end: T0 + 5.5 * 3_600_000 });
    const links = linkSession(s, hist, new FileIndex(hist), new SessionIndex([s, later]));
    assert.deepEqual(
      links.filter((l) => l.confidence >= 0.6).map((l) => l.sha),
      [c1.sha],
    );
    const second = linkSession(later, hist, new FileIndex(hist), new SessionIndex([s, later]));
    assert.deepEqual(
      second.filter((l) => l.confidence >= 0.6).map((l) => l.sha),
      [c2.sha],
    );
  });

  it('counts confirmed links always, rejected never, automatic ones from the threshold', () => {
    assert.equal(isCounted('confirmed', 0, 0.6), true);
    assert.equal(isCounted('rejected', 0.99, 0.6), false);
    assert.equal(isCounted('auto', 0.6, 0.6), true);
    assert.equal(isCounted('auto', 0.59, 0.6), false);
  });
});

describe('successors', () => {
  it('follows a rebase or an amend (same author time) and a squash merge (same files, PR subject)', () => {
    const base = commit({ authorTime: T0 });
    const orig = commit({
      parents: [base.sha],
      authorTime: T0 + 10 * MIN,
      subject: 'PAY-7: pay',
      files: ['src/pay.ts'],
    });
    const rebased = commit({
      parents: [base.sha],
      authorTime: T0 + 10 * MIN,
      commitTime: T0 + 99 * MIN,
      subject: 'PAY-7: pay',
      files: ['src/pay.ts'],
    });
    const amendedFrom = commit({ parents: [base.sha], authorTime: T0 + 20 * MIN, subject: 'wip', files: ['src/b.ts'] });
    const amended = commit({ parents: [base.sha], authorTime: T0 + 20 * MIN, subject: 'Add b', files: ['src/b.ts'] });
    const b1 = commit({ parents: [base.sha], authorTime: T0 + 30 * MIN, files: ['src/r.ts'] });
    const b2 = commit({ parents: [b1.sha], authorTime: T0 + 40 * MIN, files: ['src/r.test.ts'] });
    const squash = commit({
      parents: [base.sha],
      authorTime: T0 + 90 * MIN,
      subject: 'Refunds (#13)',
      pr: 13,
      files: ['src/r.ts', 'src/r.test.ts'],
    });
    const tip = commit({ parents: [squash.sha, rebased.sha], authorTime: T0 + 95 * MIN, flags: COMMIT_MERGE });
    const h = new History(
      [base, orig, rebased, amendedFrom, amended, b1, b2, squash, tip],
      [
        { ref: 'refs/heads/main', sha: tip.sha },
        { ref: 'refs/heads/x', sha: amended.sha },
        { ref: 'refs/heads/feature/refunds', sha: b2.sha },
      ],
    );
    const edges = findSuccessors(h)
      .map((e) => `${e.original}>${e.successor}:${e.kind}`)
      .sort();
    assert.deepEqual(
      edges,
      [
        `${orig.sha}>${rebased.sha}:rebased`,
        `${amendedFrom.sha}>${amended.sha}:amended`,
        `${b1.sha}>${squash.sha}:squash`,
        `${b2.sha}>${squash.sha}:squash`,
      ].sort(),
    );
  });

  it('uses patch-ids when only the patch survived, and never pairs a squash with another task', () => {
    const base = commit({ authorTime: T0 });
    const gone = commit({ parents: [base.sha], authorTime: T0 + 10 * MIN, files: ['a.ts'] });
    const picked = commit({ parents: [base.sha], authorTime: T0 + 50 * MIN, files: ['a.ts'] });
    const other = commit({ parents: [base.sha], authorTime: T0 + 60 * MIN, files: ['c.ts'], tasks: ['PAY-1'] });
    const squash = commit({
      parents: [picked.sha],
      authorTime: T0 + 90 * MIN,
      subject: 'PAY-2 work (#5)',
      tasks: ['PAY-2'],
      files: ['c.ts'],
    });
    const h = new History(
      [base, gone, picked, other, squash],
      [
        { ref: 'refs/heads/main', sha: squash.sha },
        { ref: 'refs/heads/feature/PAY-1', sha: other.sha },
      ],
    );
    assert.deepEqual(findSuccessors(h), []);
    assert.deepEqual(
      findSuccessors(
        h,
        new Map([
          [gone.sha, 'p1'],
          [picked.sha, 'p1'],
        ]),
      ),
      [{ original: gone.sha, successor: picked.sha, kind: 'same-patch' }],
    );
  });
});

describe('value metrics', () => {
  const usage = new Map([
    [1, { tokens: 1000, output: 100, sent: 900, costNano: 1e9, interactions: 3 }],
    [2, { tokens: 3000, output: 300, sent: 2700, costNano: 3e9, interactions: 5 }],
    [3, { tokens: 500, output: 50, sent: 450, costNano: 5e8, interactions: 2 }],
  ]);
  const now = T0 + 60 * 86_400_000;
  const commits = new Map([
    [10, { id: 10, repo: 1, tasks: ['PAY-7'], pr: 12, authorTime: T0, kept: 40 }],
    [11, { id: 11, repo: 1, tasks: ['PAY-7'], pr: 12, authorTime: T0 + 1000, kept: 0 }],
    [12, { id: 12, repo: 1, tasks: ['PAY-8'], pr: null, authorTime: now - 86_400_000, kept: null }],
  ]);

  it('counts outcomes (a squash and its original are one), tasks across tools, PRs and durability', () => {
    const f = computeOutcomes(
      usage,
      (r) => (r === 3 ? 'unlinked' : 'shipped'),
      (r) => (r === 1 ? 'claude-code' : 'codex'),
      {
        counted: new Map([
          [1, [10, 11]],
          [2, [10, 12]],
        ]),
        commits,
        successors: [[10, 11]],
        sessionTasks: new Map([[3, ['PAY-7']]]),
        now,
        durabilityDays: 30,
      },
    );
    assert.equal(f.commits, 2);
    assert.equal(f.tasks, 2);
    assert.equal(f.prs, 1);
    const pay7 = f.byTask.find((t) => t.task === 'PAY-7');
    assert.deepEqual(pay7?.sources, ['claude-code', 'codex']);
    assert.equal(pay7?.sessions, 3, 'an unshipped session on the task branch still costs the task');
    assert.equal(pay7?.tokens, 1000 + 1500 + 500);
    assert.equal(f.keptLines, 40);
    assert.equal(f.pendingCommits, 1);
    // Session 1 (100 output) fully on outcome 10/11; session 2 (300) half on it: 40 lines / 0.25k output.
    assert.equal(f.keptLinesPer1kOutput, 160);
    assert.equal(median([3, 1, 2]), 2);
  });

  it('flags repeated prompts, padding, loops without edits and long sessions that shipped nothing', () => {
    const base = {
      tokens: 0,
      sent: 0,
      output: 1,
      interactions: 1,
      editedFiles: 0,
      start: 0,
      end: 60_000,
      status: 'unlinked' as const,
    };
    const sc = selfCheck(
      [
        { ...base, ref: 1, id: 'a', tokens: 500_000, sent: 500_000, output: 100 },
        { ...base, ref: 2, id: 'b', tokens: 90_000, interactions: 40 },
        { ...base, ref: 3, id: 'c', tokens: 10, editedFiles: 2, end: 3 * 3_600_000 },
        { ...base, ref: 4, id: 'd', tokens: 10, editedFiles: 2, end: 3 * 3_600_000, status: 'shipped' },
      ],
      new Map([
        [1, [7, 7]],
        [2, [7, 8]],
      ]),
    );
    assert.equal(sc.private, true);
    assert.deepEqual([sc.repeatedPrompts.prompts, sc.repeatedPrompts.repeats], [1, 2]);
    assert.deepEqual(sc.contextPadding.examples, ['a']);
    assert.deepEqual(sc.loopsWithoutEdits.examples, ['b']);
    assert.deepEqual(sc.longWithoutOutcome.examples, ['c']);
  });
});
