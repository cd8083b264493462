import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld } from '../../src/demo/world';
import type { ReportJson } from '../../src/core/outcomes/report';
import type { TeamReportJson } from '../../src/core/team/merge';
import type { TeamRollupFile } from '../../src/core/team/rollup';
import { fmtInt } from '../../src/core/usage/format';
import { TOKEN_FIGURES } from '../../src/core/usage/tokens';
import { tempDir } from '../helpers';
import { CLI, cli, reportJson } from './cli';

/** Runs the CLI on a real terminal (util-linux `script` gives it a pty) and answers its question when it is asked. */
function onTerminal(
  args: string[],
  env: Record<string, string>,
  answer: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', TERM: 'dumb', ...env },
    });
    let output = '';
    let answered = false;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!answered && output.includes('[y/N]')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

const PERIOD = ['--since', '2026-11-01', '--until', '2026-11-30', '--tz', 'UTC'];
/** Display names are letters only (a digit could carry a figure): the third name is one person's on two machines. */
const NAMES = ['Member Ana', 'Member Bo', 'Member Chiara'];
const FIELDS = [...TOKEN_FIGURES, 'interactions', 'sessions', 'estimatedTokens'] as const;

interface Member {
  home: string;
  env: Record<string, string>;
  report: ReportJson;
  rollup: string;
}

describe('team rollups: real ledgers from demo worlds → rollup export → rollup merge (the bundled CLI)', function () {
  this.timeout(300_000);
  let dir: string;
  const members: Member[] = [];
  /** `rollup export` of a member's ledger over `period` into `out`, consented (`--yes`), without importing first. */
  const exportRollup = (m: Member, out: string, period: string[], extra: string[] = []): ReturnType<typeof cli> =>
    cli(['rollup', 'export', '--home', m.home, ...period, '--no-import', '--out', out, '--yes', ...extra], m.env);

  before(() => {
    dir = tempDir('ol-rollup-');
    // Four ledgers: three people, the third working on two machines (the same signing key, two ledger homes).
    for (const seed of [11, 12, 13, 14]) {
      // Two of the people also use Copilot Chat (some of its files carry no counts: estimated tokens).
      const world = buildWorld({
        root: path.join(dir, `world${seed}`),
        seed,
        repos: 2,
        claudeSessions: 6,
        codexSessions: 3,
        copilotSessions: seed === 11 || seed === 12 ? 4 : 0,
      });
      const home = path.join(dir, `home${seed}`);
      const env = { ...world.env };
      assert.equal(cli(['import', '--home', home], env).code, 0);
      assert.equal(cli(['link', '--home', home], env).code, 0);
      members.push({
        home,
        env,
        report: reportJson(home, env, [...PERIOD, '--no-import']),
        rollup: path.join(dir, 'rollups', `r${seed}.json`),
      });
    }
    for (const [i, m] of members.entries()) {
      // The third member's second machine: their signing key (created by the first export) copied over.
      if (i === 3) fs.cpSync(path.join(members[2]!.home, 'keys'), path.join(m.home, 'keys'), { recursive: true });
      const r = exportRollup(m, m.rollup, PERIOD, ['--name', NAMES[i === 3 ? 2 : i] as string]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Wrote your team rollup/);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function merge(args: string[]): { team: TeamReportJson; stderr: string; code: number } {
    const r = cli(['rollup', 'merge', ...args, '--format', 'json'], {});
    return { team: JSON.parse(r.stdout) as TeamReportJson, stderr: r.stderr, code: r.code };
  }

  it('a rollup carries exactly the figures of `report --json` for its period, aggregates only, signed', () => {
    for (const m of members) {
      const file = JSON.parse(fs.readFileSync(m.rollup, 'utf8')) as TeamRollupFile;
      const r = file.rollup;
      for (const k of FIELDS) assert.equal(r.totals[k], m.report.totals[k], k);
      assert.equal(r.totals.costUSD, m.report.totals.costUSD);
      assert.deepEqual(
        r.bySource.map((s) => [s.source, s.total]),
        m.report.bySource.map((s) => [s.source, s.total]),
      );
      assert.deepEqual(
        r.byModel.map((s) => [s.model, s.total]),
        m.report.byModel.map((s) => [s.model, s.total]),
      );
      assert.equal(r.outcomes.commits, m.report.outcomes.commits);
      assert.equal(r.outcomes.tasks, m.report.outcomes.tasks);
      assert.equal(r.outcomes.prs, m.report.outcomes.prs);
      assert.equal(r.value.yield, m.report.outcomes.yield);
      assert.equal(r.value.tokensPerCommit, m.report.outcomes.tokensPerCommit);
      assert.equal(r.interactions.count, m.report.totals.interactions);
      assert.match(r.interactions.digest, /^[0-9a-f]{64}$/);
      assert.equal(r.shared, undefined, 'nothing beyond aggregates without --include');
      const text = fs.readFileSync(m.rollup, 'utf8');
      // No path, session id or commit subject: the world's folders and branch names never appear.
      assert.ok(!text.includes(dir), 'no absolute path');
      assert.ok(!/feature\/|\.ts"|\.jsonl/.test(text), 'no branch, file or log name');
      assert.equal(file.signature.algorithm, 'Ed25519');
    }
    assert.ok(
      members.some((m) => m.report.outcomes.commits > 0),
      'the demo worlds shipped commits',
    );
  });

  it('merges to exact team totals: the sum of every ledger, each machine once, one member per key', () => {
    const { team, code, stderr } = merge(members.map((m) => m.rollup));
    assert.equal(code, 0, stderr);
    assert.equal(team.members, 3, 'two ledgers share a key: one member');
    assert.equal(team.machines, 4);
    assert.equal(team.withheld, false);
    assert.ok(team.totals);
    for (const k of FIELDS)
      assert.equal(
        team.totals[k],
        members.reduce((s, m) => s + m.report.totals[k], 0),
        k,
      );
    assert.ok(Math.abs(team.totals.costUSD - members.reduce((s, m) => s + m.report.totals.costUSD, 0)) < 1e-5);
    assert.equal(
      team.outcomes?.commits,
      members.reduce((s, m) => s + m.report.outcomes.commits, 0),
    );
    assert.equal(
      team.outcomes?.tasks,
      members.reduce((s, m) => s + m.report.outcomes.tasks, 0),
    );
    assert.equal(
      team.outcomes?.prs,
      members.reduce((s, m) => s + m.report.outcomes.prs, 0),
    );
    assert.deepEqual(team.named, NAMES);
    const claude = team.bySource?.find((s) => s.source === 'claude-code');
    assert.equal(
      claude?.total,
      members.reduce((s, m) => s + (m.report.bySource.find((x) => x.source === 'claude-code')?.total ?? 0), 0),
    );
    assert.equal(claude?.members, 3);
    // Copilot Chat is used by two people: fewer than k = 3, so its row is grouped as "other" (and not named); a group of
    // two would still be two people's figures, so the smallest tool shown (Codex CLI) joins it: a group of three.
    const sourceTotal = (source: string): number =>
      members.reduce((s, m) => s + (m.report.bySource.find((x) => x.source === source)?.total ?? 0), 0);
    const copilot = sourceTotal('copilot-chat');
    assert.ok(copilot > 0);
    assert.ok(sourceTotal('codex') < sourceTotal('claude-code'));
    assert.deepEqual(
      team.bySource?.map((s) => s.source),
      ['claude-code', 'other'],
    );
    assert.deepEqual(
      team.bySource?.filter((s) => s.source === 'other').map((s) => [s.members, s.total]),
      [[3, copilot + sourceTotal('codex')]],
    );
    for (const row of [...(team.bySource ?? []), ...(team.byModel ?? [])])
      assert.ok(row.members >= 3, JSON.stringify(row));
    assert.ok(
      (team.bySource?.find((s) => s.source === 'other')?.estimatedTokens ?? 0) > 0,
      'the group holding Copilot Chat carries its estimate',
    );
    assert.ok((team.totals.estimatedTokens ?? 0) > 0, 'estimated tokens are carried through');
    const yieldDist = team.distributions?.find((d) => d.metric === 'yield');
    assert.equal(yieldDist?.members, 3);
    assert.ok(
      yieldDist?.median !== null &&
        yieldDist?.q1 !== null &&
        (yieldDist?.q1 ?? 0) <= (yieldDist?.median ?? 0) &&
        (yieldDist?.median ?? 0) <= (yieldDist?.q3 ?? 0),
    );
  });

  it('the team report marks token figures that include estimated tokens with ~ (totals, and the tool row they are in)', () => {
    const r = cli(['rollup', 'merge', ...members.map((m) => m.rollup), '--format', 'md'], {});
    assert.equal(r.code, 0, r.stderr);
    const { team } = merge(members.map((m) => m.rollup));
    assert.match(
      r.stdout,
      new RegExp(
        `\\| Tokens \\(input \\+ cache \\+ output\\) \\| ~${(team.totals?.total ?? 0).toLocaleString('en-US')} \\|`,
      ),
    );
    // Copilot Chat's estimated tokens sit in the "other" row; Claude Code's are all exact.
    const rowOf = (label: string): string => r.stdout.split('\n').find((l) => l.startsWith(`| ${label}`)) ?? '';
    assert.match(rowOf('Claude Code'), /\| [0-9,]+ \|/, 'exact figures stay unmarked');
    assert.doesNotMatch(rowOf('Claude Code'), /~/);
    assert.match(rowOf('Other tools'), /~[0-9,]+/, r.stdout);
  });

  it('the same rollup sent twice (and a folder holding copies) counts once; a re-export of a wider period replaces the narrower one', () => {
    const copies = path.join(dir, 'shared-folder');
    fs.mkdirSync(path.join(copies, 'alice'), { recursive: true });
    for (const m of members) fs.copyFileSync(m.rollup, path.join(copies, path.basename(m.rollup)));
    fs.copyFileSync(members[0]!.rollup, path.join(copies, 'alice', 'sent-again.json'));
    // Member 2 also exported a single week of the same month from the same machine: inside the month, counted once.
    const week = path.join(copies, 'r12-week.json');
    const m2 = members[1]!;
    assert.equal(exportRollup(m2, week, ['--since', '2026-11-10', '--until', '2026-11-16', '--tz', 'UTC']).code, 0);
    const { team } = merge([copies]);
    assert.equal(team.files.read, 6);
    assert.equal(team.files.counted, 4);
    assert.equal(team.files.duplicates, 1);
    assert.equal(team.files.superseded, 1);
    assert.equal(
      team.totals?.total,
      members.reduce((s, m) => s + m.report.totals.total, 0),
    );
    assert.match(team.notCounted.find((n) => n.status === 'duplicate')?.reason ?? '', /counted once/);
    assert.match(team.notCounted.find((n) => n.status === 'superseded')?.file ?? '', /r12-week\.json$/);
    // Patterns too.
    assert.equal(merge([path.join(copies, 'r1*.json')]).team.files.read, 5);
  });

  it('k-anonymity: breakdowns appear with k members, not with k - 1; below k no figure at all', () => {
    const three = members.map((m) => m.rollup);
    assert.ok(merge([...three, '--k', '3']).team.bySource);
    const four = merge([...three, '--k', '4']).team;
    assert.equal(four.withheld, true);
    assert.equal(four.totals, null);
    assert.equal(four.bySource, null);
    assert.equal(four.byModel, null);
    assert.equal(four.distributions, null);
    const md = cli(['rollup', 'merge', ...three, '--k', '4'], {}).stdout;
    assert.match(md, /Fewer than 4 members contributed \(3\)/);
    assert.ok(!md.includes(fmtInt(members[0]!.report.totals.total)));
    const two = merge([members[0]!.rollup, members[1]!.rollup]).team;
    assert.equal(two.withheld, true, 'two members are fewer than the default k = 3');
  });

  it('no per-person token figure anywhere in the Markdown, HTML or JSON report, and the report says why', () => {
    const inputs = members.map((m) => m.rollup);
    const outputs = ['md', 'html', 'json'].map(
      (format) => cli(['rollup', 'merge', ...inputs, '--format', format], {}).stdout,
    );
    const perPerson = [
      ...members.slice(0, 2).map((m) => m.report.totals),
      // The third member's two machines: their sum is that person's figure.
      [members[2]!, members[3]!].reduce(
        (a, m) => ({ ...a, total: a.total + m.report.totals.total, output: a.output + m.report.totals.output }),
        { ...members[2]!.report.totals, total: 0, output: 0 },
      ),
      ...members.map((m) => m.report.totals),
    ];
    for (const text of outputs) {
      for (const t of perPerson) {
        for (const n of [t.total, t.output, t.input, t.cacheRead]) {
          assert.ok(
            !text.includes(fmtInt(n)) && !new RegExp(`\\b${n}\\b`).test(text),
            `a per-person figure ${n} appears in the report`,
          );
        }
      }
      assert.match(text, /tokens are not a performance measure/);
    }
    // The team's own total is there.
    const total = members.reduce((s, m) => s + m.report.totals.total, 0);
    assert.ok(outputs[0]!.includes(fmtInt(total)));
  });

  it('refused files are listed with a one-line reason while the others merge; exit 2 and one line for usage errors', () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"format":"outcome-ledger-team-rollup","version":1');
    const r = cli(['rollup', 'merge', ...members.map((m) => m.rollup), bad, path.join(dir, 'missing.json')], {});
    assert.equal(r.code, 0);
    assert.match(r.stdout, /bad\\\.json \| refused \| not JSON/);
    assert.match(r.stdout, /missing\\\.json \| refused \| no such file/);
    assert.match(r.stderr, /4 of 6 rollup files counted \(3 members\), 2 refused/);
    // An export with its period, file and consent: each case below adds one mistake to it.
    const november = ['--since', '2026-11-01', '--until', '2026-11-30'];
    const consented = ['rollup', 'export', ...november, '--out', 'x.json', '--yes'];
    for (const args of [
      ['rollup', 'export', '--since', '2026-11-01', '--until', '2026-11-30', '--out', path.join(dir, 'x.json')],
      ['rollup', 'export', '--since', '2026-11-01', '--out', path.join(dir, 'x.json'), '--yes'],
      ['rollup', 'export', '--since', '2026-11-01', '--until', '2026-11-30', '--yes'],
      [...consented, '--include', 'prompts'],
      [...consented, '--name', 'Bo 1234567 tokens'],
      [...consented, '--name', '<b>Bo</b>'],
      ['rollup', 'merge'],
      ['rollup', 'merge', 'x.json', '--format', 'pdf'],
      ['rollup', 'merge', 'x.json', '--k', '1'],
      ['rollup', 'frobnicate'],
    ]) {
      const u = cli([...args, '--home', members[0]!.home], members[0]!.env);
      assert.equal(u.code, 2, `${args.join(' ')}: ${u.stderr}`);
      assert.equal(u.stderr.trim().split('\n').length, 1, u.stderr);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'x.json')), 'without consent nothing is written');
    // A report or a rollup that cannot be written: one line, exit 1, no temp file left.
    const blocked = path.join(dir, 'a-file');
    fs.writeFileSync(blocked, '');
    for (const args of [
      ['rollup', 'merge', ...members.map((m) => m.rollup), '--out', path.join(blocked, 'team.md')],
      ['rollup', 'export', ...november, '--no-import', '--yes', '--out', path.join(blocked, 'r.json')],
    ]) {
      const w = cli([...args, '--home', members[0]!.home], members[0]!.env);
      assert.equal(w.code, 1, w.stderr);
      assert.match(
        w.stderr,
        new RegExp(`^outcome-ledger: cannot write ${blocked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`, 'm'),
      );
      assert.equal(w.stderr.split('\n').filter((l) => l.startsWith('outcome-ledger: cannot write')).length, 1);
      assert.ok(!/\n\s+at /.test(w.stderr), `no stack trace: ${w.stderr}`);
    }
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
    );
    assert.match(
      cli(['rollup', 'export', ...november, '--out', 'x.json', '--home', members[0]!.home], members[0]!.env).stderr,
      /consent.*--yes/,
    );
    assert.match(cli(['rollup', '--help'], {}).stdout, /Usage: outcome-ledger rollup export/);
  });

  it('on a terminal, export previews exactly what will be shared and writes it only after a yes', async () => {
    const m = members[1]!;
    const out = path.join(dir, 'asked.json');
    const args = ['rollup', 'export', '--home', m.home, ...PERIOD, '--no-import', '--out', out, '--name', 'Bo'];
    const no = await onTerminal(args, m.env, 'n');
    assert.equal(no.code, 1);
    assert.match(no.output, /You appear as: "Bo"/);
    assert.match(no.output, /Share this rollup \(write it to .*asked\.json\)\? \[y\/N\]/);
    assert.match(no.output, /nothing was written \(you did not consent\)/);
    assert.ok(!fs.existsSync(out));
    const yes = await onTerminal(args, m.env, 'y');
    assert.equal(yes.code, 0, yes.output);
    const written = fs.readFileSync(out, 'utf8');
    const shown = yes.output.replace(/\r\n/g, '\n');
    const exact = shown.slice(
      shown.indexOf('The exact file:\n') + 'The exact file:\n'.length,
      shown.lastIndexOf('}') + 1,
    );
    assert.equal(`${exact}\n`, written, 'the preview showed the file byte for byte');
  });

  it('opt-in sharing: --include repos,subjects adds repository names and commit subjects, never paths', () => {
    const m = members[0]!;
    const out = path.join(dir, 'with-subjects.json');
    assert.equal(exportRollup(m, out, PERIOD, ['--include', 'repos,subjects']).code, 0);
    const r = (JSON.parse(fs.readFileSync(out, 'utf8')) as TeamRollupFile).rollup;
    assert.ok((r.shared?.repos?.length ?? 0) > 0);
    assert.ok(r.shared?.repos?.every((x) => !x.includes('/')));
    assert.ok((r.shared?.subjects?.length ?? 0) > 0);
    assert.ok(!fs.readFileSync(out, 'utf8').includes(dir));
  });
});
