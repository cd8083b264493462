import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers';
import { CLI, type Run } from './cli';
import { DAY, daysAgo, HOUR, Logs, makeHome } from './scripted';

/**
 * Issue 12 item 7, disk faults, on real file systems with the bundled CLI (dist/cli.js):
 * - a read-only ledger home: a read-only tmpfs (mount; as root), else the CLI run as `nobody` on a home owned by root
 *   (setpriv; as root without mount), else chmod 555 (not root: chmod protects nothing from root);
 * - a full disk: a small tmpfs (mount).
 * A mechanism that does not work here fails the test with its reason (CI runs as root on this kind of machine); only
 * a non-root run skips the full disk, saying why.
 */

const isRoot = process.getuid?.() === 0;

function tryRun(cmd: string, args: string[]): { ok: boolean; why: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `${cmd}: ${r.error.message}` };
  return {
    ok: r.status === 0,
    why: `${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.status}`}`,
  };
}

/** Whether `mount -t tmpfs` works here (needs root, or CAP_SYS_ADMIN). */
function probeMount(): { ok: boolean; why: string } {
  if (!isRoot) return { ok: false, why: 'not root' };
  const dir = tempDir('ol-mount-probe-');
  try {
    const m = tryRun('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=700', 'tmpfs', dir]);
    if (m.ok) tryRun('umount', [dir]);
    return m;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function probeSetpriv(): { ok: boolean; why: string } {
  if (!isRoot) return { ok: false, why: 'not root' };
  return tryRun('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'true']);
}

const MOUNT = probeMount();
const SETPRIV = MOUNT.ok ? { ok: false, why: 'not needed' } : probeSetpriv();
type Mechanism = 'read-only tmpfs' | 'setpriv nobody' | 'chmod 555';
/** OL_READ_ONLY_BY=setpriv tries the fallback on a machine where mount works. */
const FORCED = process.env.OL_READ_ONLY_BY === 'setpriv' ? probeSetpriv() : undefined;
const READ_ONLY: Mechanism | undefined = FORCED
  ? FORCED.ok
    ? 'setpriv nobody'
    : undefined
  : MOUNT.ok
    ? 'read-only tmpfs'
    : SETPRIV.ok
      ? 'setpriv nobody'
      : !isRoot
        ? 'chmod 555'
        : undefined;

function mountTmpfs(dir: string, size: string): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=700`, 'tmpfs', dir]);
}

function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every file in the ledger home with its hash: "the ledger unchanged" byte for byte. */
function snapshotOf(home: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.startsWith('fill')) out[path.relative(home, p)] = sha(p);
    }
  };
  walk(home);
  return out;
}

function tempsIn(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (e.name.endsWith('.tmp')) out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** One line on stderr (plus nothing else), no stack trace. */
function assertOneLine(r: Run, pattern: RegExp, what: string): void {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern, what);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
  assert.doesNotMatch(r.stderr, /unexpected error/, what);
}

/** The days around the sessions (a long period makes a summary of megabytes: it lists every week). */
const DAY0 = daysAgo(2);
const PERIOD = [
  '--since',
  new Date(DAY0 - DAY).toISOString().slice(0, 10),
  '--until',
  new Date(DAY0 + 3 * DAY).toISOString().slice(0, 10),
];

const SESSION_1 = '7ddddddd-0000-4000-8000-000000000001';
const SESSION_2 = '7ddddddd-0000-4000-8000-000000000002';

interface World {
  dir: string;
  logs: Logs;
  env: Record<string, string>;
  D: number;
}

function world(prefix: string): World {
  const dir = tempDir(prefix);
  const home = makeHome(path.join(dir, 'home'));
  const logs = new Logs(home);
  const D = DAY0;
  logs.claude({ id: SESSION_1, cwd: path.join(dir, 'app'), start: D, end: D + HOUR });
  // No code cache: runs as another user must not write into the caller's cache folder.
  return { dir, logs, env: { ...logs.env(), OUTCOME_LEDGER_CODE_CACHE: '0' }, D };
}

describe('disk faults: a read-only or full ledger home (the bundled CLI on real file systems)', function () {
  this.timeout(180_000);

  it('this machine offers a way to make a ledger home read-only (else the reason)', () => {
    assert.ok(
      READ_ONLY,
      `no read-only mechanism works here: mount (${MOUNT.why}), setpriv (${(FORCED ?? SETPRIV).why})`,
    );
  });

  describe(`a read-only ledger home (${READ_ONLY ?? 'no mechanism'})`, () => {
    let w: World;
    let home: string;
    let saved: Record<string, string>;
    let asUser: string[] = [];
    const run = (args: string[]): Run => {
      const argv = [...asUser, process.execPath, CLI, ...args, '--home', home];
      const r = spawnSync(argv[0]!, argv.slice(1), {
        env: { PATH: process.env.PATH ?? '', ...w.env },
        encoding: 'utf8',
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };

    before(() => {
      if (!READ_ONLY) return;
      w = world('ol-ro-');
      home = path.join(w.dir, 'ledger');
      if (READ_ONLY === 'read-only tmpfs') mountTmpfs(home, '8m');
      const first = run(['import']);
      assert.equal(first.code, 0, `${first.stderr} ${first.code}`);
      // The key and the machine id exist (a first summary and rollup), so reads that sign need not write.
      const s = run(['summary', ...PERIOD, '--no-import']);
      assert.equal(s.code, 0, s.stderr);
      const x = run(['rollup', 'export', ...PERIOD, '--no-import', '--yes', '--out', path.join(w.dir, 'first.json')]);
      assert.equal(x.code, 0, x.stderr);
      // New log lines arrive after the last import: they cannot be saved now.
      w.logs.claude({ id: SESSION_2, cwd: path.join(w.dir, 'app'), start: w.D + 2 * HOUR, end: w.D + 3 * HOUR });
      saved = snapshotOf(home);
      if (READ_ONLY === 'read-only tmpfs') {
        execFileSync('mount', ['-o', 'remount,ro', home]);
      } else if (READ_ONLY === 'setpriv nobody') {
        // Root's home, readable by all (the key stays private: owned by nobody, 600); nobody may not write it.
        execFileSync('chmod', ['-R', 'a+rX', w.dir]);
        execFileSync('chmod', ['go-w', home]);
        execFileSync('chown', ['-R', 'nobody', path.join(home, 'keys')]);
        execFileSync('chmod', ['600', path.join(home, 'keys', 'signing-ed25519.pem')]);
        asUser = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
      } else {
        fs.chmodSync(home, 0o555);
      }
      // The mechanism really works: a write into the home fails.
      const probe = run(['manual', 'add', '--tool', 'probe', '--model', 'gpt-4o', '--input', '1', '--output', '1']);
      assert.equal(probe.code, 1, `${READ_ONLY} makes the home read-only: ${probe.stderr}`);
    });

    after(() => {
      if (!w) return;
      if (READ_ONLY === 'read-only tmpfs') unmount(home);
      if (READ_ONLY === 'chmod 555') fs.chmodSync(home, 0o700);
      fs.rmSync(w.dir, { recursive: true, force: true });
    });

    const refused =
      /^outcome-ledger: Cannot save the ledger: (.+ is on a read-only file system \(EROFS\)|you have no permission to write in .+ \((EACCES|EPERM)\))\. .*run the command again\.$/;

    it('import, label, link and manual add: one plain line naming the folder, exit 1, nothing changed, no temp file', function () {
      if (!READ_ONLY) this.skip();
      for (const args of [
        ['import'],
        ['label', SESSION_1, 'exploration'],
        ['link'],
        ['manual', 'add', '--tool', 'ChatGPT web', '--model', 'gpt-4o', '--input', '100', '--output', '20'],
      ]) {
        const r = run(args);
        assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
        assertOneLine(r, refused, args.join(' '));
        assert.ok(r.stderr.includes(home), `${args[0]} names the ledger folder: ${r.stderr}`);
        assert.deepEqual(tempsIn(w.dir), [], `${args[0]} leaves no temp file`);
        assert.deepEqual(snapshotOf(home), saved, `${args[0]} leaves the ledger byte for byte as it was`);
      }
    });

    it('report, sessions, summary and rollup export show the saved ledger, saying once that it is read-only and what was not imported', function () {
      if (!READ_ONLY) this.skip();
      const readOnly =
        /^outcome-ledger: showing the ledger read-only, as last saved: .+; not imported: 1 new or changed log file \(claude-code 1\); links not updated\.$/;
      const report = run(['report', '--json']);
      assert.equal(report.code, 0, report.stderr);
      assertOneLine(report, readOnly, 'report');
      const totals = (JSON.parse(report.stdout) as { totals: { interactions: number } }).totals;
      assert.equal(totals.interactions, 3, 'the saved session, not the one that could not be imported');

      const sessions = run(['sessions', '--json']);
      assert.equal(sessions.code, 0, sessions.stderr);
      assertOneLine(sessions, readOnly, 'sessions');
      assert.deepEqual(
        (JSON.parse(sessions.stdout) as Array<{ id: string }>).map((s) => s.id),
        [`claude-code:${SESSION_1}`],
      );

      const summary = run(['summary', ...PERIOD, '--format', 'json']);
      assert.equal(summary.code, 0, summary.stderr);
      assertOneLine(summary, readOnly, 'summary');
      assert.match(summary.stdout, /"signature"/);

      // A folder the CLI's user may write (under setpriv that is nobody, and w.dir is root's).
      const outDir = path.join(w.dir, 'out');
      fs.mkdirSync(outDir);
      fs.chmodSync(outDir, 0o777);
      const out = path.join(outDir, 'rollup.json');
      const rollup = run(['rollup', 'export', ...PERIOD, '--yes', '--out', out]);
      assert.equal(rollup.code, 0, rollup.stderr);
      assert.match(rollup.stderr.split('\n')[0]!, readOnly, 'rollup export');
      assert.ok(fs.existsSync(out));

      const health = run(['health', '--json']);
      assert.equal(health.code, 0, health.stderr);
      assertOneLine(health, readOnly, 'health (it only reads, and says the ledger is read-only)');
      assert.ok(
        (JSON.parse(health.stdout) as { sources: Array<{ source: string; found: boolean }> }).sources.some(
          (s) => s.source === 'claude-code' && s.found,
        ),
      );

      assert.deepEqual(tempsIn(w.dir), []);
      assert.deepEqual(snapshotOf(home), saved, 'reading changed nothing');
    });

    it('a summary written into the read-only folder: one line naming it, exit 1, no temp file', function () {
      if (!READ_ONLY) this.skip();
      const r = run(['summary', ...PERIOD, '--no-import', '--out', path.join(home, 'summary.md')]);
      assert.equal(r.code, 1, r.stderr);
      assertOneLine(r, /^outcome-ledger: Cannot write the summary: .+\((EROFS|EACCES|EPERM)\)\. /, 'summary --out');
      // A team report (and its state file) the disk refuses: one line too.
      const m = run(['rollup', 'merge', path.join(w.dir, 'first.json'), '--out', path.join(home, 'team.md')]);
      assert.equal(m.code, 1, m.stderr);
      assertOneLine(
        m,
        /^outcome-ledger: Cannot write (team\.md|\.outcome-ledger-team-reports\.json): .+\((EROFS|EACCES|EPERM)\)\. /,
        'rollup merge --out',
      );
      assert.deepEqual(tempsIn(w.dir), []);
      assert.deepEqual(snapshotOf(home), saved);
    });

    /** Lets the test (not the CLI) change the home for a moment. */
    const whileWritable = (change: () => void): void => {
      if (READ_ONLY === 'read-only tmpfs') execFileSync('mount', ['-o', 'remount,rw', home]);
      if (READ_ONLY === 'chmod 555') fs.chmodSync(home, 0o700);
      try {
        change(); // under setpriv the test runs as root and may write; the CLI runs as nobody
      } finally {
        if (READ_ONLY === 'read-only tmpfs') execFileSync('mount', ['-o', 'remount,ro', home]);
        if (READ_ONLY === 'chmod 555') fs.chmodSync(home, 0o555);
      }
    };

    it('a damaged ledger on a read-only home: its backup is shown read-only, said in one line, and nothing on disk changes (last: it damages the ledger)', function () {
      if (!READ_ONLY) this.skip();
      whileWritable(() => fs.writeFileSync(path.join(home, 'ledger.sqlite'), Buffer.alloc(8192, 'not a database ')));
      const damaged = snapshotOf(home);
      const r = run(['report', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 2, r.stderr);
      assert.match(
        lines[0]!,
        /^outcome-ledger: The ledger is damaged \(the file is not an SQLite database\) and cannot be repaired now: .+\. Showing its backup.*, read-only; nothing on disk was changed\.$/,
      );
      assert.match(lines[1]!, /^outcome-ledger: showing the ledger read-only, as last saved: /);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
      assert.equal(
        (JSON.parse(r.stdout) as { totals: { interactions: number } }).totals.interactions,
        3,
        'the backup holds the saved session',
      );
      assert.deepEqual(snapshotOf(home), damaged, 'nothing moved aside or written');
      assert.deepEqual(tempsIn(w.dir), []);
    });
  });

  describe('a full disk (a small tmpfs)', () => {
    let w: World;
    const mounts: string[] = [];
    const run = (home: string, args: string[]): Run => {
      const r = spawnSync(process.execPath, [CLI, ...args, '--home', home], {
        env: { PATH: process.env.PATH ?? '', ...w.env },
        encoding: 'utf8',
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    };
    const full =
      /^outcome-ledger: Cannot save the ledger: the disk holding .+ is full \(ENOSPC\)\. Free some space and run the command again\.$/;

    before(function () {
      if (!MOUNT.ok) {
        // Root must be able to mount here (CI); a developer's non-root run says why it cannot test this.
        if (isRoot) throw new Error(`mount -t tmpfs does not work here as root: ${MOUNT.why}`);
        console.log(`      (full disk not tested: mount -t tmpfs needs root — ${MOUNT.why})`);
        this.skip();
      }
      w = world('ol-full-');
    });

    after(() => {
      for (const m of mounts) unmount(m);
      if (w) fs.rmSync(w.dir, { recursive: true, force: true });
    });

    it('the first save does not fit: one line, exit 1, nothing left behind (no temp file, no lock)', () => {
      const home = path.join(w.dir, 'tiny');
      mountTmpfs(home, '64k');
      mounts.push(home);
      const r = run(home, ['import']);
      assert.equal(r.code, 1, r.stderr);
      assertOneLine(r, full, 'import');
      assert.ok(r.stderr.includes(home), r.stderr);
      assert.deepEqual(fs.readdirSync(home), [], 'no temp file, no lock, no half ledger');
    });

    it('a journal write that does not fit: the ledger is unchanged, reads show it as saved, and the import completes once there is room', () => {
      const home = path.join(w.dir, 'ledger');
      mountTmpfs(home, '2m');
      mounts.push(home);
      assert.equal(run(home, ['import']).code, 0);
      // A longer session: its journal block needs more room than one page.
      w.logs.claude({
        id: SESSION_2,
        cwd: path.join(w.dir, 'app'),
        start: w.D + 2 * HOUR,
        end: w.D + 3 * HOUR,
        calls: 200,
      });
      const before = snapshotOf(home);
      // Fill the disk but one page: the lock file fits, the new lines do not.
      const avail = Number(
        execFileSync('df', ['-k', '--output=avail', home], { encoding: 'utf8' }).trim().split('\n').pop(),
      );
      execFileSync(
        'dd',
        ['if=/dev/zero', `of=${path.join(home, 'fill')}`, 'bs=4k', `count=${Math.floor(avail / 4) - 1}`],
        { stdio: 'ignore' },
      );

      const r = run(home, ['import']);
      assert.equal(r.code, 1, r.stderr);
      assertOneLine(r, full, 'import');
      assert.deepEqual(tempsIn(home), [], 'no temp file');
      assert.ok(!fs.existsSync(path.join(home, 'ledger.lock')), 'the lock is free');
      assert.deepEqual(snapshotOf(home), before, 'the ledger is unchanged (the torn journal block was cut off)');
      const report = run(home, ['report', '--json']);
      assert.equal(report.code, 0, report.stderr);
      assertOneLine(
        report,
        /^outcome-ledger: showing the ledger read-only, as last saved: the disk holding .+ is full \(ENOSPC\); not imported: 1 new or changed log file \(claude-code 1\); links not updated\.$/,
        'report',
      );
      assert.equal((JSON.parse(report.stdout) as { totals: { interactions: number } }).totals.interactions, 3);
      // Health sees a disk with no free block at all (statfs): fill the last page too.
      spawnSync('dd', ['if=/dev/zero', `of=${path.join(home, 'fill-last')}`, 'bs=4k', 'count=1'], { stdio: 'ignore' });
      const health = run(home, ['health', '--json']);
      assert.equal(health.code, 0, health.stderr);
      assertOneLine(
        health,
        /^outcome-ledger: showing the ledger read-only, as last saved: the disk holding .+ is full \(ENOSPC\); not imported: 1 new/,
        'health',
      );

      const summary = run(home, [
        'summary',
        ...PERIOD,
        '--no-import',
        '--out',
        path.join(home, 'summary.html'),
        '--format',
        'html',
      ]);
      assert.equal(summary.code, 1, summary.stderr);
      assertOneLine(
        summary,
        /^outcome-ledger: Cannot (write the summary|create the signing key): the disk holding .+ is full \(ENOSPC\)\. /,
        'summary --out',
      );
      assert.deepEqual(tempsIn(home), []);

      // Room again: nothing was lost, the import takes everything.
      fs.rmSync(path.join(home, 'fill'));
      fs.rmSync(path.join(home, 'fill-last'), { force: true });
      const again = run(home, ['import']);
      assert.equal(again.code, 0, again.stderr);
      const after = run(home, ['report', '--json']);
      assert.equal(after.stderr, '');
      assert.equal((JSON.parse(after.stdout) as { totals: { interactions: number } }).totals.interactions, 203);
    });
  });
});

describe('permissions: a ledger home or key open to other users (real modes, the bundled CLI)', function () {
  this.timeout(120_000);
  let w: World;
  let home: string;
  const run = (args: string[]): Run => {
    const r = spawnSync(process.execPath, [CLI, ...args, '--home', home], {
      env: { PATH: process.env.PATH ?? '', ...w.env },
      encoding: 'utf8',
    });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const modeOf = (p: string): number => fs.statSync(p).mode & 0o777;

  before(() => {
    w = world('ol-perm-');
    home = path.join(w.dir, 'ledger');
    assert.equal(run(['import']).code, 0);
    assert.equal(run(['summary', ...PERIOD, '--no-import']).code, 0, 'creates the key');
  });
  after(() => fs.rmSync(w.dir, { recursive: true, force: true }));

  it('a private home says nothing; group/world-writable folders or a key others can read: one line, once, naming each and the fix', () => {
    const keys = path.join(home, 'keys');
    const key = path.join(keys, 'signing-ed25519.pem');
    assert.equal(modeOf(home), 0o700, 'created private');
    assert.equal(modeOf(keys), 0o700);
    assert.equal(modeOf(key), 0o600);
    assert.equal(run(['report', '--no-import']).stderr, '');

    fs.chmodSync(home, 0o755); // readable by others, not writable: no warning
    assert.equal(run(['report', '--no-import']).stderr, '');

    fs.chmodSync(home, 0o777);
    fs.chmodSync(keys, 0o770);
    fs.chmodSync(key, 0o640);
    for (const args of [['report', '--no-import'], ['sessions', '--no-import'], ['health']]) {
      const r = run(args);
      assert.equal(r.code, 0, r.stderr);
      const line =
        `outcome-ledger: The ledger home ${home} is writable by other users (mode 777); the keys folder ${keys} is writable by other users (mode 770); ` +
        `the private key ${key} is readable by other users (mode 640). Other users could alter your ledger or sign summaries as you: ` +
        `run \`outcome-ledger health --fix-permissions --home ${home}\` to make them private (folders 700, the key 600).\n`;
      assert.equal(r.stderr, line, args[0]);
    }

    const fix = run(['health', '--fix-permissions']);
    assert.equal(fix.code, 0, fix.stderr);
    assert.equal(fix.stderr, '', 'the fix does not warn about what it fixes');
    assert.equal(fix.stdout, `Made private:\n  ${home}: 777 → 700\n  ${keys}: 770 → 700\n  ${key}: 640 → 600\n`);
    assert.equal(modeOf(home), 0o700);
    assert.equal(modeOf(keys), 0o700);
    assert.equal(modeOf(key), 0o600);
    assert.equal(run(['report', '--no-import']).stderr, '', 'no warning once fixed');
    assert.match(run(['health', '--fix-permissions']).stdout, /^Nothing to fix: /);
    // Readable by others alone (not the group) is still open.
    fs.chmodSync(key, 0o604);
    assert.match(
      run(['report', '--no-import']).stderr,
      /^outcome-ledger: The private key .+ is readable by other users \(mode 604\)/,
    );
    assert.equal(run(['health', '--fix-permissions']).code, 0);
    assert.equal(modeOf(key), 0o600);
  });
});
