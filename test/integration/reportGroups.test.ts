// Reports a new user expects (issue 17): --by day|week|month|session|model|source|task in text, JSON and CSV,
// summing exactly to the totals; colour only where wanted; a narrow terminal; the first run's hints.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportJson } from '../../src/core/outcomes/report';
import { TOKEN_FIGURES } from '../../src/core/usage/tokens';
import { isoWeekOf } from '../../src/core/usage/time';
import { tempDir } from '../helpers';
import { worldSandbox } from './sandbox';
import { cli, CLI } from './cli';

describe('report --by, --csv and colour (a year-end review in a spreadsheet)', function () {
  this.timeout(180_000);
  const box = worldSandbox('ol-groups-', { seed: 3, end: new Date('2026-12-03T18:00:00Z'), days: 35 }, { TZ: 'UTC' });
  let r: ReportJson;

  before(() => {
    const imp = cli(['import', '--home', box.ledger], box.env);
    assert.equal(imp.code, 0, imp.stderr);
    const j = cli(['report', '--json', '--no-import', '--home', box.ledger, '--by', 'session'], box.env);
    assert.equal(j.code, 0, j.stderr);
    r = JSON.parse(j.stdout) as ReportJson;
  });

  it('JSON: byWeek (ISO weeks) and byMonth (YYYY-MM) rows each sum exactly to the totals, field by field', () => {
    assert.ok(r.byWeek.length >= 5, `five weeks or more: ${r.byWeek.map((w) => w.week).join(', ')}`);
    assert.ok(r.byMonth.length >= 2, 'the history crosses a month boundary');
    for (const rows of [r.byWeek, r.byMonth, r.byDay, r.bySession ?? []]) {
      for (const field of [...TOKEN_FIGURES, 'interactions', 'unpricedInteractions', 'estimatedTokens'] as const) {
        assert.equal(
          rows.reduce((a, x) => a + x[field], 0),
          r.totals[field],
          field,
        );
      }
      assert.ok(Math.abs(rows.reduce((a, x) => a + x.costUSD, 0) - r.totals.costUSD) < 1e-4);
    }
    for (const w of r.byWeek) assert.match(w.week, /^\d{4}-W\d{2}$/);
    for (const m of r.byMonth) assert.match(m.month, /^\d{4}-\d{2}$/);
    // Each day lands in the ISO week its date belongs to.
    for (const d of r.byDay) assert.ok(r.byWeek.some((w) => w.week === isoWeekOf(d.date)));
    assert.equal(r.bySession?.length, new Set(r.bySession?.map((s) => s.session)).size, 'one row per session');
    assert.ok(r.bySession?.every((s) => s.sessions === 1));
  });

  it('ISO weeks at the turn of the year belong to the right year', () => {
    assert.equal(isoWeekOf('2026-12-31'), '2026-W53');
    assert.equal(isoWeekOf('2027-01-03'), '2026-W53');
    assert.equal(isoWeekOf('2027-01-04'), '2027-W01');
    assert.equal(isoWeekOf('2024-12-30'), '2025-W01');
    assert.equal(isoWeekOf('2026-12-07'), '2026-W50');
  });

  it('text: --by week and --by month print one table with a total row equal to the JSON', () => {
    for (const by of ['week', 'month', 'day', 'model', 'source', 'session'] as const) {
      const t = cli(['report', '--no-import', '--home', box.ledger, '--by', by], box.env);
      assert.equal(t.code, 0, t.stderr);
      assert.match(t.stdout, new RegExp(`by ${by}`));
      assert.match(t.stdout, /^all\s/m, `${by}: a total row`);
      assert.doesNotMatch(t.stdout, /Self-check/, 'one table, not the whole report');
    }
    const weeks = cli(['report', '--no-import', '--home', box.ledger, '--by', 'week'], box.env).stdout;
    for (const w of r.byWeek)
      assert.match(weeks, new RegExp(`^${w.week}\\s+.*\\s${w.interactions}\\s+${w.sessions}$`, 'm'));
    const tasks = cli(['report', '--no-import', '--home', box.ledger, '--by', 'task'], box.env);
    assert.equal(tasks.code, 0, tasks.stderr);
    for (const t of r.outcomes.byTask.slice(0, 3)) assert.match(tasks.stdout, new RegExp(`^${t.task}\\s`, 'm'));
  });

  it('CSV: a header row and one line per group, numbers unformatted, equal to the JSON', () => {
    const c = cli(['report', '--no-import', '--home', box.ledger, '--by', 'month', '--csv'], box.env);
    assert.equal(c.code, 0, c.stderr);
    const lines = c.stdout.trim().split('\n');
    assert.equal(
      lines[0],
      'month,input,output,cacheRead,cacheWrite,reasoning,total,costUSD,interactions,sessions,estimatedTokens,unpricedInteractions',
    );
    assert.equal(lines.length, r.byMonth.length + 1);
    for (const [i, m] of r.byMonth.entries()) {
      const cells = (lines[i + 1] ?? '').split(',');
      assert.equal(cells[0], m.month);
      assert.equal(Number(cells[6]), m.total);
      assert.equal(Number(cells[7]), m.costUSD);
    }
    // Without --by, CSV is by day; every grouping has a CSV.
    assert.equal(
      cli(['report', '--no-import', '--home', box.ledger, '--csv'], box.env).stdout.trim().split('\n').length,
      r.byDay.length + 1,
    );
    for (const by of ['week', 'session', 'model', 'source', 'task'])
      assert.equal(cli(['report', '--no-import', '--home', box.ledger, '--csv', '--by', by], box.env).code, 0, by);
    assert.equal(cli(['report', '--no-import', '--home', box.ledger, '--csv', '--json'], box.env).code, 2);
  });

  it('a mistyped grouping is exit 2 with one line and a suggestion', () => {
    const bad = cli(['report', '--no-import', '--home', box.ledger, '--by', 'weak'], box.env);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /--by takes day, week, month.*did you mean week/);
  });

  const ESC = '\x1b';
  const hasEsc = (s: string): boolean => s.includes(ESC);

  it('colour: never into a pipe, with FORCE_COLOR yes, and NO_COLOR or --no-color win; only our own codes', () => {
    const plain = cli(['report', '--no-import', '--home', box.ledger, '--by', 'week'], box.env);
    assert.ok(!hasEsc(plain.stdout), 'a pipe gets no colour');
    const forced = cli(['report', '--no-import', '--home', box.ledger, '--by', 'week'], {
      ...box.env,
      FORCE_COLOR: '1',
    });
    assert.ok(forced.stdout.includes(`${ESC}[1mOutcome Ledger`), 'headings bold');
    assert.equal(
      forced.stdout
        .split(ESC)
        .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, '')))
        .join(''),
      plain.stdout,
      'colour changes nothing else',
    );
    assert.ok(
      !hasEsc(
        cli(['report', '--no-import', '--home', box.ledger, '--by', 'week'], {
          ...box.env,
          FORCE_COLOR: '1',
          NO_COLOR: '1',
        }).stdout,
      ),
      'NO_COLOR wins',
    );
    assert.ok(
      !hasEsc(
        cli(['report', '--no-import', '--home', box.ledger, '--by', 'week', '--no-color'], {
          ...box.env,
          FORCE_COLOR: '1',
        }).stdout,
      ),
      '--no-color wins',
    );
  });

  it('a narrow terminal gets the compact table (total, cost, requests) instead of lines that wrap', () => {
    // A real terminal: script(1) gives the CLI a pty of 60 columns.
    const cmd = `stty cols 60; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} report --no-import --no-color --home ${JSON.stringify(box.ledger)} --by week`;
    const t = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', ...box.env, TERM: 'xterm' },
      encoding: 'utf8',
    });
    assert.equal(t.status, 0, t.stderr);
    const out = t.stdout.replace(/\r/g, '');
    assert.match(out, /by week\s+total\s+est\. cost\s+requests/);
    assert.doesNotMatch(out, /cache read/);
    const rows = out.split('\n').filter((l) => /^(by week|─|\d{4}-W\d{2}|all\s)/.test(l));
    assert.ok(rows.length >= 5);
    for (const line of rows) assert.ok(line.length <= 60, line);
  });
});

describe('the first run: what a new user is told', function () {
  this.timeout(180_000);
  let dir = '';
  before(() => (dir = tempDir('ol-firstrun-')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an empty machine: one sentence saying nothing was found and where to look, no folder lists', () => {
    const home = path.join(dir, 'empty');
    fs.mkdirSync(home, { recursive: true });
    const r = cli(['import', '--home', path.join(dir, 'ledger')], { HOME: home, TZ: 'UTC' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^No AI-assistant logs found on this machine; looked for \d+ tools\. `outcome-ledger health` shows where it looked/m,
    );
    assert.doesNotMatch(r.stdout, /looked in|not found\s+0/, 'no wall of folders');
  });

  it("the demo counts the engineer's commits on a machine whose own git identity is someone else", () => {
    const home = path.join(dir, 'other-identity');
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(
      path.join(home, '.gitconfig'),
      '[user]\n\tname = Someone Else\n\temail = someone.else@example.org\n',
    );
    const r = cli(['demo'], { HOME: home, TZ: 'UTC' });
    assert.equal(r.code, 0, r.stderr);
    const commits = Number(/^ {2}(\d+) commits/m.exec(r.stdout)?.[1] ?? 0);
    assert.ok(commits > 0, r.stdout.split('\n').slice(0, 30).join('\n'));
    // The hint names a command that works as printed: from a checkout, `node <path to dist/cli.js>`.
    assert.match(r.stdout, /For your own logs: `node \S*dist\/cli\.js report`/);
    assert.match(r.stdout, /Not found on this machine: .*`outcome-ledger health` shows where it looked/);
  });
});

describe("a reading command's first import on a terminal (a long history read before the first report)", function () {
  this.timeout(300_000);
  // Over 16 MB of logs: enough for the progress line; no git, so nothing but the import takes time.
  const box = worldSandbox(
    'ol-progress-',
    { seed: 9, repos: 0, days: 30, toolResultBytes: 20_000, targetBytes: 20_000_000 },
    { TZ: 'UTC' },
  );

  /** `report` in a real pty (script(1)): what the terminal shows, stderr and stdout together as a user sees them. */
  const onTerminal = (): string => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} report --no-color --home ${JSON.stringify(box.ledger)}`;
    const t = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', ...box.env, TERM: 'xterm' },
      encoding: 'utf8',
    });
    assert.equal(t.status, 0, t.stderr);
    return t.stdout;
  };

  it('shows its progress on one line redrawn in place, clears it before the report, and shows nothing once caught up', () => {
    const first = onTerminal();
    const draws = [...first.matchAll(/\rreading your assistants' logs \[[█ ]{30}\] +(\d+)%/g)];
    const drawn = draws.map((m) => Number(m[1]));
    assert.ok(drawn.length >= 2, `progress drawn: ${JSON.stringify(first.slice(0, 300))}`);
    assert.equal(drawn[drawn.length - 1], 100);
    assert.deepEqual(
      drawn,
      [...drawn].sort((a, b) => a - b),
      'it only moves forward',
    );
    const cleared = first.lastIndexOf('\r\x1b[2K');
    assert.ok(cleared > (draws[draws.length - 1]?.index ?? Infinity), 'the line is cleared after its last draw');
    assert.match(first.slice(cleared), /Outcome Ledger — /, 'the report follows');
    // Caught up: a few new lines or none show no progress line.
    const again = onTerminal();
    assert.doesNotMatch(again, /reading your assistants' logs/);
    assert.match(again, /Outcome Ledger — /);
  });
});
