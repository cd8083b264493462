import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TeamReportJson } from '../../src/core/team/merge';
import { valueOf, type TeamRollup, type TeamRollupFile } from '../../src/core/team/rollup';
import { syntheticRollup } from '../../src/demo/teamRollups';
import { ephemeralSigningKey, sha256Hex, type SigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';
import { cli } from './cli';

/**
 * The attacks of the team report, as a hostile member and a curious reader tried them: each one through the bundled
 * CLI on validly signed rollups, and each one must fail to move a figure or reveal a member.
 */
describe('team report attacks: made-up members, differencing, inflation, figures in names (the bundled CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  const keys: SigningKey[] = [];
  const key = (i: number): SigningKey => (keys[i] ??= ephemeralSigningKey());

  before(() => {
    dir = tempDir('ol-attacks-');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function write(folder: string, name: string, f: TeamRollupFile): string {
    fs.mkdirSync(folder, { recursive: true });
    const file = path.join(folder, name);
    fs.writeFileSync(file, `${JSON.stringify(f, null, 2)}\n`);
    return file;
  }

  /** The JSON report of a merge, printed or written to its --out file. */
  function merge(args: string[]): { team: TeamReportJson; stderr: string; code: number } {
    const r = cli(['rollup', 'merge', ...args, '--format', 'json'], {});
    const out = args.indexOf('--out');
    const text = out === -1 ? r.stdout : fs.readFileSync(args[out + 1] as string, 'utf8');
    assert.ok(text.trim().startsWith('{'), r.stderr);
    return { team: JSON.parse(text) as TeamReportJson, stderr: r.stderr, code: r.code };
  }

  it('made-up members: empty rollups from fresh homes do not count toward k (one real member stays withheld)', () => {
    const folder = path.join(dir, 'made-up');
    const real = write(folder, 'real.json', syntheticRollup({ key: key(0), seed: 1 }));
    // Two fresh homes with no data: the real CLI exports their (empty) rollups.
    const fakes = [1, 2].map((i) => {
      const out = path.join(folder, `fake-${i}.json`);
      const r = cli(
        [
          'rollup',
          'export',
          '--home',
          path.join(dir, `fresh-${i}`),
          '--since',
          '2026-11-01',
          '--until',
          '2026-11-30',
          '--tz',
          'UTC',
          '--no-import',
          '--yes',
          '--out',
          out,
        ],
        {},
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(fs.readFileSync(out, 'utf8')) as TeamRollupFile).rollup.interactions.count, 0);
      return out;
    });
    const { team, stderr } = merge([real, ...fakes]);
    assert.equal(team.members, 1, 'only the member with requests counts');
    assert.equal(team.withheld, true);
    assert.equal(team.withheldBecause, 'members');
    assert.equal(team.totals, null, "no team figure equal to one person's");
    assert.equal(team.files.empty, 2);
    assert.deepEqual(
      team.notCounted.map((n) => [path.basename(n.file), n.status]),
      [
        ['fake-1.json', 'empty'],
        ['fake-2.json', 'empty'],
      ],
    );
    assert.match(stderr, /1 of 3 rollup files counted \(1 member\), 2 empty; figures withheld: fewer than 3 members/);
    const md = cli(['rollup', 'merge', real, ...fakes, '--state', path.join(dir, 'made-up.state')], {}).stdout;
    assert.match(
      md,
      /2 empty rollups \(no request in the period\) ignored: members count toward k only with at least one request\./,
    );
    assert.match(md, /Fewer than 3 members contributed \(1\)/);
  });

  it('differencing: a report whose members differ from a published one by fewer than k is withheld; the rule is kept across runs', () => {
    const rollups = path.join(dir, 'diff');
    const files = [0, 1, 2, 3, 4, 5, 6].map((i) =>
      write(rollups, `m${i}.json`, syntheticRollup({ key: key(10 + i), seed: 100 + i })),
    );
    const published = path.join(dir, 'published');
    const four = merge([...files.slice(0, 4), '--out', path.join(published, 'four.json')]);
    const report4 = four.team;
    assert.equal(four.code, 0, four.stderr);
    assert.equal(report4.members, 4);
    assert.ok(report4.totals);
    // merge(3 of them) for the same month, published beside it: merge(4) − merge(3) would be the fourth person's rollup.
    const r3 = cli(
      ['rollup', 'merge', ...files.slice(0, 3), '--format', 'json', '--out', path.join(published, 'three.json')],
      {},
    );
    assert.equal(r3.code, 0, r3.stderr);
    const report3 = JSON.parse(fs.readFileSync(path.join(published, 'three.json'), 'utf8')) as TeamReportJson;
    assert.equal(report3.withheld, true);
    assert.equal(report3.withheldBecause, 'differencing');
    assert.equal(report3.totals, null);
    assert.equal(report3.outcomes, null);
    assert.equal(report3.bySource, null);
    assert.equal(report3.distributions, null);
    assert.deepEqual(report3.differencing, {
      since: '2026-11-01',
      until: '2026-11-30',
      publishedAt: report4.generatedAt,
    });
    assert.match(
      r3.stderr,
      /figures withheld: the members differ from a report published for an overlapping period by fewer than 3/,
    );
    const fourth = (JSON.parse(fs.readFileSync(files[3]!, 'utf8')) as TeamRollupFile).rollup;
    for (const format of ['md', 'ndjson', 'otlp']) {
      const text = cli(
        [
          'rollup',
          'merge',
          ...files.slice(0, 3),
          '--format',
          format,
          '--state',
          path.join(published, '.outcome-ledger-team-reports.json'),
        ],
        {},
      ).stdout;
      assert.ok(
        !text.includes(String(fourth.totals.total)) && !text.includes(fourth.totals.total.toLocaleString('en-US')),
      );
      if (format === 'md')
        assert.match(
          text,
          /differ from those of the report published at .* by fewer than 3 members: subtracting one report from the other would show those members' figures/,
        );
      else assert.equal(text, '', `${format}: nothing leaves a withheld merge`);
    }
    // Swapping one member for another is a difference of two: still fewer than k.
    assert.equal(
      merge([...files.slice(0, 3), files[4]!, '--out', path.join(published, 'swap.json')]).team.withheldBecause,
      'differencing',
    );
    // The same members again (a corrected report) and a set that differs by k or more are published.
    assert.equal(merge([...files.slice(0, 4), '--out', path.join(published, 'again.json')]).team.withheld, false);
    assert.equal(
      merge([...files, '--out', path.join(published, 'seven.json')]).team.withheld,
      false,
      '7 members vs 4: 3 more',
    );
    // A period that does not overlap is another report.
    const december = [0, 1, 2].map((i) =>
      write(
        path.join(dir, 'december'),
        `d${i}.json`,
        syntheticRollup({ key: key(10 + i), seed: 200 + i, since: '2026-12-01', until: '2026-12-31' }),
      ),
    );
    assert.equal(merge([...december, '--out', path.join(published, 'december.json')]).team.withheld, false);
    // Without --out, the state lives in the merged folder.
    assert.equal(merge([rollups]).team.withheld, false);
    assert.ok(fs.existsSync(path.join(rollups, '.outcome-ledger-team-reports.json')));
    const m6 = fs.mkdtempSync(path.join(dir, 'six-'));
    for (const f of files.slice(0, 6)) fs.copyFileSync(f, path.join(m6, path.basename(f)));
    fs.copyFileSync(
      path.join(rollups, '.outcome-ledger-team-reports.json'),
      path.join(m6, '.outcome-ledger-team-reports.json'),
    );
    assert.equal(merge([m6]).team.withheldBecause, 'differencing', 'six of the seven, with the seven remembered');
    // A damaged state file is not overwritten silently.
    fs.writeFileSync(path.join(published, '.outcome-ledger-team-reports.json'), 'garbage');
    const damaged = cli(['rollup', 'merge', ...files.slice(0, 4), '--out', path.join(published, 'x.json')], {});
    assert.equal(damaged.code, 1);
    assert.match(
      damaged.stderr,
      /^outcome-ledger: the team report state .* is not JSON: it remembers which members earlier reports counted/,
    );
  });

  it('inflation: a re-signed rollup with 1e8 commits and five copies under new machine ids and digests do not count', () => {
    const folder = path.join(dir, 'inflation');
    const honest = [0, 1, 2].map((i) => syntheticRollup({ key: key(20 + i), seed: 300 + i }));
    honest.forEach((f, i) => write(folder, `honest-${i}.json`, f));
    const own = syntheticRollup({ key: key(23), seed: 310, machineId: 'a'.repeat(32) });
    write(folder, 'own.json', own);
    const resign = (machine: string, edit?: (r: TeamRollup) => void): TeamRollupFile =>
      syntheticRollup({
        key: key(23),
        seed: 310,
        machineId: machine,
        edit: (r) => {
          r.interactions.digest = sha256Hex(`forged ${machine}`);
          edit?.(r);
          r.value = valueOf(r.totals, r.outcomes);
        },
      });
    write(
      folder,
      'inflated.json',
      resign('b'.repeat(32), (r) => (r.outcomes.commits = 1e8)),
    );
    for (let i = 0; i < 5; i++) write(folder, `copy-${i}.json`, resign(String(i).repeat(32)));
    const { team } = merge([folder]);
    const honestCommits = [...honest, own].reduce((s, f) => s + f.rollup.outcomes.commits, 0);
    assert.equal(team.outcomes?.commits, honestCommits, 'the team commits are the honest ones');
    assert.equal(
      team.totals?.total,
      [...honest, own].reduce((s, f) => s + f.rollup.totals.total, 0),
    );
    assert.equal(team.members, 4);
    assert.equal(team.machines, 4);
    const notes = Object.fromEntries(team.notCounted.map((n) => [path.basename(n.file), n]));
    assert.equal(notes['inflated.json']?.status, 'implausible');
    assert.match(
      notes['inflated.json']?.reason ?? '',
      /^implausible: more commits than 100 a day over its period \(the documented bound\); not counted$/,
    );
    // Which of the six identical rollups is the member's own cannot be told: one counts, five are listed as copies.
    const six = ['own.json', ...[0, 1, 2, 3, 4].map((i) => `copy-${i}.json`)];
    const copies = six.filter((n) => notes[n]);
    assert.equal(copies.length, 5);
    for (const n of copies) {
      assert.equal(notes[n]?.status, 'duplicate');
      assert.match(
        notes[n]?.reason ?? '',
        /^near-identical to \S*(own|copy-\d)\.json from another machine of the same member \(same requests and sessions, tokens within 1%\): a copy, counted once$/,
      );
    }
    assert.ok(!JSON.stringify(team.notCounted).includes('100000000'), 'the reasons never carry the figure');
    // Eleven genuine machines of one member: the eleventh is beyond the bound.
    const many = path.join(dir, 'machines');
    honest.forEach((f, i) => write(many, `honest-${i}.json`, f));
    for (let i = 0; i < 11; i++)
      write(many, `machine-${String(i).padStart(2, '0')}.json`, syntheticRollup({ key: key(24), seed: 400 + i }));
    const spread = merge([many]).team;
    assert.equal(spread.files.implausible, 1);
    assert.match(
      spread.notCounted.find((n) => n.status === 'implausible')?.reason ?? '',
      /one member on more than 10 machines in one merge/,
    );
    // One member holding more than half of a team figure is said, without naming anyone.
    const big = path.join(dir, 'dominant');
    honest.forEach((f, i) => write(big, `honest-${i}.json`, f));
    write(
      big,
      'big.json',
      syntheticRollup({
        key: key(25),
        seed: 500,
        edit: (r) => {
          r.outcomes.commits = 3000;
          r.outcomes.prs = 0;
          r.outcomes.pendingCommits = 0;
          r.value = valueOf(r.totals, r.outcomes);
        },
      }),
    );
    const dominated = cli(['rollup', 'merge', big], {});
    assert.match(
      dominated.stdout,
      /One member accounts for more than half of the team's commits: read that figure as largely one person's work \(nobody is named\)\./,
    );
  });

  it('display names carry no figures: digits, look-alikes and figure words are refused at export and at merge', () => {
    const folder = path.join(dir, 'names');
    const hostile = [
      'Dave 3.7M tokens 15 commits',
      'Bob yield 7O pct lO commits',
      'Eve lO OO',
      'Mallory tokens',
      'Trent seven million',
    ];
    for (const name of hostile) {
      const r = cli(
        [
          'rollup',
          'export',
          '--home',
          path.join(dir, 'fresh-names'),
          '--since',
          '2026-11-01',
          '--until',
          '2026-11-30',
          '--yes',
          '--no-import',
          '--out',
          path.join(folder, 'x.json'),
          '--name',
          name,
        ],
        {},
      );
      assert.equal(r.code, 2, `${name}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^outcome-ledger: --name: a display name (has letters, spaces|holds no figure words|has no words spelled like digits)/,
      );
    }
    const files = hostile.map((name, i) =>
      write(folder, `hostile-${i}.json`, syntheticRollup({ key: key(30 + i), seed: 600 + i, displayName: name })),
    );
    const fine = ["Zoë O'Neill-Smith", 'Dave K', 'José', 'Li Na'].map((name, i) =>
      write(folder, `fine-${i}.json`, syntheticRollup({ key: key(40 + i), seed: 700 + i, displayName: name })),
    );
    const { team } = merge([...files, ...fine]);
    assert.equal(team.files.refused, hostile.length);
    for (const n of team.notCounted) assert.match(n.reason, /^invalid: rollup\.member\.displayName: a display name/);
    assert.deepEqual(team.named, ['Dave K', 'José', 'Li Na', "Zoë O'Neill-Smith"]);
    assert.ok(!fs.existsSync(path.join(folder, 'x.json')));
  });
});
