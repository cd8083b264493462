import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { headCommitTime, showCommit } from '../../src/git/head';
import {
  blameCounts,
  blameRanges,
  changedFiles,
  existingCommits,
  identify,
  patchIds,
  readLog,
  readTips,
  removedRanges,
} from '../../src/git/log';
import { GitError, runGit } from '../../src/git/run';
import type { SessionJson } from '../../src/services/queries';
import { armUserConfig, buildHostileRepo, hostileEnv, markersWritten, type HostileRepo } from '../fixtures/hostileRepo';
import { tempDir } from '../helpers';
import { cli } from './cli';
import { DAY, daysAgo, HOUR, Logs, makeHome, MIN } from './scripted';
import { sandbox } from './sandbox';

/**
 * Issue 12: a repository is untrusted input. The armed repository (test/fixtures/hostileRepo.ts) is reached as a
 * session's working folder from a real Claude Code log and through `--repo`, with a hostile environment and an armed
 * user-level git config; every command that reads git runs, and no armed program may write its marker.
 * (The VS Code suite hostile.test.ts reaches the same repository as the workspace.)
 */
describe('a hostile repository never runs its code (hardened git runner; the bundled CLI, real git)', function () {
  this.timeout(180_000);
  const box = sandbox('ol-hostile-');
  let env: Record<string, string>;
  let repo: HostileRepo;
  let other: HostileRepo;
  const SESSION = '6bbbbbbb-0000-4000-8000-000000000012';

  const run = (args: string[]): ReturnType<typeof cli> => cli([...args, '--home', box.ledger], env);
  const assertNoMarker = (what: string): void => {
    assert.deepEqual(
      [...markersWritten(repo.markers), ...markersWritten(other.markers)],
      [],
      `${what} ran a program the repository or environment armed`,
    );
  };

  before(() => {
    const logs = new Logs(box.home);
    const D = daysAgo(2);
    repo = buildHostileRepo(path.join(box.dir, 'app'), path.join(box.dir, 'markers'), box.home, {
      firstAt: D - 2 * HOUR,
      signedAt: D + 40 * MIN,
    });
    other = buildHostileRepo(path.join(box.dir, 'other'), path.join(box.dir, 'markers-other'), box.home, {
      firstAt: D - 3 * HOUR,
      signedAt: D - HOUR,
    });
    armUserConfig(box.home, repo.markers);
    logs.claude({
      id: SESSION,
      cwd: repo.dir,
      branch: 'main',
      start: D,
      end: D + 30 * MIN,
      edits: [path.join(repo.dir, repo.file)],
    });
    // A hostile shell: git pointed at programs and at another repository's object store through the environment.
    env = {
      ...logs.env(),
      ...hostileEnv(path.join(box.dir, 'markers'), path.join(box.dir, 'env-bin')),
      GIT_DIR: path.join(other.dir, '.git'),
      GIT_WORK_TREE: other.dir,
    };
  });

  it("the fixture is armed: plain git runs the repository's programs on the very reads the tool makes", () => {
    const probe = tempDir('ol-hostile-probe-');
    const p = buildHostileRepo(path.join(probe, 'r'), path.join(probe, 'm'), makeHome(path.join(probe, 'h')), {
      firstAt: Date.now() - DAY,
      signedAt: Date.now() - HOUR,
    });
    const plain = (args: string[]): void => {
      try {
        execFileSync('git', args, {
          cwd: p.dir,
          env: { PATH: process.env.PATH, HOME: path.join(probe, 'h'), GIT_CONFIG_NOSYSTEM: '1' },
          stdio: 'pipe',
        });
      } catch {
        // a failing program still ran
      }
    };
    plain(['log', '-1', '--format=%ct', 'HEAD']); // the meter's read
    assert.ok(
      markersWritten(p.markers).some((m) => m.startsWith('gpg')),
      `log.showSignature + gpg.program: ${markersWritten(p.markers).join(', ')}`,
    );
    plain(['blame', '--incremental', 'HEAD', '--', p.file]); // durability's read
    assert.ok(
      markersWritten(p.markers).some((m) => m === 'diff.x.textconv' || m === 'filter.x.process'),
      markersWritten(p.markers).join(', '),
    );
    fs.rmSync(probe, { recursive: true, force: true });
  });

  it("import, link (as a session's folder and via --repo), report, sessions, summary and health run nothing", () => {
    for (const args of [
      ['import'],
      ['link', '--durability-days', '0'],
      ['link', '--repo', other.dir, '--durability-days', '0', '--full'],
      ['report', '--durability-days', '0'],
      ['report', '--json'],
      ['sessions'],
      ['summary', '--since', '2000-01-01', '--until', '2100-01-01', '--out', path.join(box.dir, 'summary.md')],
      [
        'summary',
        '--since',
        '2000-01-01',
        '--until',
        '2100-01-01',
        '--format',
        'html',
        '--out',
        path.join(box.dir, 'summary.html'),
      ],
      ['health'],
    ]) {
      const r = run(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assertNoMarker(args.join(' '));
    }
    // ...and it really read the repository: the session is linked to the signed commit, blamed for its kept lines.
    const r = run(['sessions', '--json', '--no-import']);
    const s = (JSON.parse(r.stdout) as SessionJson[]).find((x) => x.sessionId === SESSION);
    assert.ok(s, 'the session was imported');
    assert.ok(
      s.links.some((l) => l.commit === repo.signed),
      `linked to the signed commit: ${JSON.stringify(s.links)}`,
    );
    assertNoMarker('sessions --json');
  });

  it("the meter's HEAD time, the commit view's `git show` and every history read run nothing, with the same answers", async () => {
    const head = await headCommitTime(repo.dir);
    assert.equal(typeof head, 'number');
    const shown = await showCommit(repo.dir, repo.signed);
    assert.match(shown, /^\+export const b4 = 4;$/m, 'the patch is the committed text, not a textconv of it');
    assert.doesNotMatch(shown, /gpg:|Good signature/);
    assert.ok(!shown.includes('\u001b'), 'no colour codes although the repository asks for them');
    const id = await identify(repo.dir);
    assert.ok(id);
    const tips = await readTips(repo.dir, id.commonDir);
    assert.equal(tips.head, repo.signed);
    const log = await readLog(repo.dir, { include: [repo.signed] });
    assert.deepEqual(
      log.map((c) => c.sha),
      [repo.signed, repo.first],
    );
    assert.equal((await existingCommits(repo.dir, [repo.signed])).size, 1);
    assert.equal((await patchIds(repo.dir, [repo.signed])).size, 1);
    assert.equal(
      [...((await blameCounts(repo.dir, repo.signed, repo.file)) ?? new Map<string, number>()).values()].reduce(
        (a, b) => a + b,
        0,
      ),
      10,
    );
    assert.ok((await blameRanges(repo.dir, repo.signed, repo.file, [[1, 2]]))?.size);
    assert.ok((await changedFiles(repo.dir, repo.first, repo.signed)) !== null);
    assert.deepEqual(await removedRanges(repo.dir, repo.first, repo.signed, repo.file), []);
    assertNoMarker('the git reads');
  });

  it('the runner refuses a subcommand outside its read-only list', async () => {
    await assert.rejects(
      runGit(['checkout', 'main'], repo.dir),
      (e: unknown) => e instanceof GitError && /not one of the read-only commands/.test(e.message),
    );
    await assert.rejects(runGit(['-c', 'core.pager=x', 'log'], repo.dir), GitError);
    assertNoMarker('a refused command');
  });
});
