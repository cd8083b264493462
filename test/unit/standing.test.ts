import assert from 'node:assert/strict';
import {
  COMMIT_OTHER_AUTHOR,
  COMMIT_REVERT,
  COMMIT_REVERTED,
  COMMIT_UNMERGED,
  coAuthorsOf,
  revertTarget,
  type CommitInfo,
  type FileStat,
} from '../../src/core/outcomes/commits';
import { History } from '../../src/core/outcomes/history';
import {
  defaultBranchesOf,
  identitySet,
  messageReverts,
  reversePatchCandidates,
  standingOf,
  standings,
} from '../../src/core/outcomes/standing';

const T0 = Date.UTC(2026, 9, 1);
const HOUR = 3_600_000;
let n = 0;
const sha = (): string => (++n).toString(16).padStart(40, '0');

function commit(over: Partial<CommitInfo> & { parent?: string }): CommitInfo {
  return {
    sha: over.sha ?? sha(),
    parents: over.parent ? [over.parent] : (over.parents ?? []),
    authorTime: over.authorTime ?? T0,
    commitTime: over.commitTime ?? over.authorTime ?? T0,
    subject: over.subject ?? 'change',
    files: over.files ?? [],
    flags: over.flags ?? 0,
    tasks: [],
    pr: null,
    mergedBranch: null,
    reverts: over.reverts ?? null,
  };
}

const f = (path: string, added: number, removed: number): FileStat => ({ path, added, removed });

describe('counted outcomes (core/standing): reverts, unmerged work and authorship', () => {
  it('reads the revert target and co-authors from a message, leaving AI tools out', () => {
    assert.equal(
      revertTarget('Revert "x"\n\nThis reverts commit 0123456789abcdef0123456789abcdef01234567.'),
      '0123456789abcdef0123456789abcdef01234567',
    );
    assert.equal(revertTarget('no revert here'), null);
    assert.deepEqual(
      coAuthorsOf(
        'x\n\nCo-authored-by: Alex Kim <Alex.Kim@Example.com>\nCo-authored-by: Claude <noreply@anthropic.com>',
      ),
      ['alex.kim@example.com'],
    );
  });

  it('a revert by trailer or by subject undoes an ancestor; a revert of the revert restores it; a revert is flagged', () => {
    const base = commit({ subject: 'base' });
    const x = commit({ parent: base.sha, subject: 'PAY-1: add x', authorTime: T0 + HOUR });
    const y = commit({ parent: x.sha, subject: 'PAY-2: add y', authorTime: T0 + 2 * HOUR });
    const rx = commit({ parent: y.sha, subject: 'Revert "PAY-1: add x"', reverts: x.sha, authorTime: T0 + 3 * HOUR });
    const ry = commit({ parent: rx.sha, subject: 'Revert "PAY-2: add y" (#12)', authorTime: T0 + 4 * HOUR });
    const rrx = commit({
      parent: ry.sha,
      subject: 'Reapply "PAY-1: add x"',
      reverts: rx.sha,
      authorTime: T0 + 5 * HOUR,
    });
    const h = new History([base, x, y, rx, ry, rrx], [{ ref: 'refs/heads/main', sha: rrx.sha }]);
    const pairs = messageReverts(h);
    assert.deepEqual(
      new Set(pairs.map(([a, b]) => `${a}>${b}`)),
      new Set([`${rx.sha}>${x.sha}`, `${ry.sha}>${y.sha}`, `${rrx.sha}>${rx.sha}`]),
    );
    const flags = standings({ history: h, defaultBranches: ['main'], reverts: pairs, successors: [], horizon: null });
    assert.equal(flags.get(x.sha), 0, 'the revert was reverted: x counts again');
    assert.equal(flags.get(y.sha), COMMIT_REVERTED);
    assert.equal(flags.get(rx.sha), COMMIT_REVERT | COMMIT_REVERTED);
    assert.equal(flags.get(rrx.sha), COMMIT_REVERT);
  });

  it("finds a later commit whose line counts mirror a target's as a patch-id candidate, on the default branch or containing it", () => {
    const base = commit({ subject: 'base' });
    const x = commit({ parent: base.sha, files: [f('src/a.ts', 3, 1)], authorTime: T0 + HOUR });
    const other = commit({ parent: x.sha, files: [f('src/a.ts', 3, 1)], authorTime: T0 + 2 * HOUR });
    const undo = commit({ parent: other.sha, files: [f('src/a.ts', 1, 3)], authorTime: T0 + 3 * HOUR });
    const elsewhere = commit({ parent: base.sha, files: [f('src/a.ts', 1, 3)], authorTime: T0 + 4 * HOUR });
    const h = new History(
      [base, x, other, undo, elsewhere],
      [
        { ref: 'refs/heads/main', sha: undo.sha },
        { ref: 'refs/heads/side', sha: elsewhere.sha },
      ],
    );
    const onMain = new Set([base.sha, x.sha, other.sha, undo.sha]);
    assert.deepEqual(
      reversePatchCandidates(h, [x.sha], onMain),
      [[undo.sha, x.sha]],
      'not the same-direction change, not a side branch that lacks x',
    );
  });

  it('unmerged: off the default branch unless a successor landed; main/master when no remote HEAD says; nothing judged without one', () => {
    const base = commit({ subject: 'base' });
    const feat = commit({ parent: base.sha, authorTime: T0 + HOUR });
    const squashed = commit({ parent: base.sha, authorTime: T0 + 2 * HOUR });
    const wip = commit({ parent: base.sha, authorTime: T0 + 3 * HOUR });
    const h = new History(
      [base, feat, squashed, wip],
      [
        { ref: 'refs/heads/master', sha: squashed.sha },
        { ref: 'refs/heads/feature/a', sha: feat.sha },
        { ref: 'refs/heads/feature/b', sha: wip.sha },
      ],
    );
    assert.deepEqual(defaultBranchesOf(h, []), ['master']);
    assert.deepEqual(defaultBranchesOf(h, ['trunk-not-here']), ['master']);
    const flags = standings({
      history: h,
      defaultBranches: ['master'],
      reverts: [],
      successors: [{ original: feat.sha, successor: squashed.sha }],
      horizon: null,
    });
    assert.equal(flags.get(feat.sha), 0, 'its squash landed');
    assert.equal(flags.get(wip.sha), COMMIT_UNMERGED);
    const older = standings({
      history: h,
      defaultBranches: ['master'],
      reverts: [],
      successors: [],
      horizon: T0 + 2.5 * HOUR,
    });
    assert.equal(older.get(feat.sha), 0, 'before the horizon nothing is judged');
    const none = new History([base, wip], [{ ref: 'refs/heads/feature/b', sha: wip.sha }]);
    assert.deepEqual(defaultBranchesOf(none, []), []);
    assert.equal(
      standings({ history: none, defaultBranches: [], reverts: [], successors: [], horizon: null }).get(wip.sha),
      0,
    );
  });

  it('authorship: an identity email or a co-author trailer naming one; old rows fall back to the stored flag', () => {
    const me = identitySet(['Alex.Kim@example.com', null, 'not an email']);
    assert.deepEqual([...me], ['alex.kim@example.com']);
    assert.equal(standingOf({ flags: 0, authorEmail: 'alex.kim@example.com' }, me).setAside, null);
    const teammate = standingOf({ flags: 0, authorEmail: 'sam@example.com' }, me);
    assert.deepEqual(
      [teammate.authoredByEngineer, teammate.setAside, teammate.author],
      [false, 'others', 'sam@example.com'],
    );
    const pair = standingOf({ flags: 0, authorEmail: 'sam@example.com', coAuthors: ['alex.kim@example.com'] }, me);
    assert.deepEqual([pair.authoredByEngineer, pair.coAuthored, pair.setAside], [true, true, null]);
    assert.equal(standingOf({ flags: COMMIT_OTHER_AUTHOR, authorEmail: null }, me).authoredByEngineer, false);
    assert.equal(standingOf({ flags: 0, authorEmail: null }, me).authoredByEngineer, true);
    assert.equal(standingOf({ flags: COMMIT_REVERT, authorEmail: 'alex.kim@example.com' }, me).setAside, 'revert');
    assert.equal(
      standingOf({ flags: COMMIT_REVERTED | COMMIT_UNMERGED, authorEmail: 'alex.kim@example.com' }, me).setAside,
      'reverted',
    );
    assert.equal(standingOf({ flags: COMMIT_UNMERGED, authorEmail: 'alex.kim@example.com' }, me).setAside, 'unmerged');
  });
});
