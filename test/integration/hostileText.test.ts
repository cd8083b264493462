import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, exportAllRollup } from './cli';
import { DAY, daysAgo, HOUR, Logs, MIN, startRepo } from './scripted';
import { sandbox } from './sandbox';

/** Every control character, escape sequence and bidi character a log or repository string could carry. */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const EVIL =
  '\u001b[2J\u001b[31mred\u001b]8;;https://evil.example/\u0007link\u001b]8;;\u0007\u202egnp.exe\u009b31m\u0007';

/**
 * Issue 12, hostile strings: a model name and a branch from a real-format Claude Code log, and a commit subject and
 * author from the repository, full of terminal escapes (clear screen, colours, an OSC-8 link), C1 controls, a bell, a
 * bidi override and a newline; none of it reaches stdout, stderr, a summary (md, html, json), a rollup or a team report.
 */
describe('hostile strings from logs and repositories are data: no escape, control or bidi character reaches any output (the bundled CLI)', function () {
  this.timeout(180_000);
  const box = sandbox('ol-text-');
  let env: Record<string, string>;
  const SESSION = '9eeeeeee-0000-4000-8000-000000000001';

  before(() => {
    const logs = new Logs(box.home);
    const D = daysAgo(2);
    const repo = startRepo(box.dir, box.home, D - DAY);
    const file = logs.claude({
      id: SESSION,
      cwd: repo.dir,
      branch: `main\n| x | y |${EVIL}`,
      start: D,
      end: D + 30 * MIN,
      edits: [repo.abs('src/a.ts')],
    });
    // The model name as JSON writes it (escaped), so the log line stays valid JSON.
    fs.writeFileSync(
      file,
      fs
        .readFileSync(file, 'utf8')
        .replaceAll('claude-sonnet-4-5-20250929', `claude-sonnet-4-5${JSON.stringify(EVIL).slice(1, -1)}`),
    );
    repo.append('src/a.ts', 5, 'b');
    repo.commit(`PAY-9 ${EVIL} fix\n\nbody ${EVIL}`, D + 40 * MIN);
    env = logs.env();
    void HOUR;
  });

  const clean = (what: string, text: string): void => {
    const m = FORBIDDEN.exec(text);
    assert.equal(
      m,
      null,
      `${what} carries U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} near ${JSON.stringify(text.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 20))}`,
    );
  };

  it('report, sessions, link show, health and summaries in every format print and write none of it', () => {
    const run = (args: string[]): void => {
      const r = cli([...args, '--home', box.ledger], env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      clean(`${args[0]} stdout`, r.stdout);
      clean(`${args[0]} stderr`, r.stderr);
    };
    run(['import']);
    run(['link', '--durability-days', '0']);
    run(['report', '--since', '2000-01-01', '--until', '2100-01-01']);
    run(['report', '--json', '--no-import']);
    run(['sessions', '--since', '2000-01-01', '--until', '2100-01-01', '--no-import']);
    run(['sessions', '--json', '--no-import']);
    run(['link', 'show', SESSION]);
    run(['health']);
    for (const format of ['md', 'html', 'json']) {
      const out = path.join(box.dir, `summary.${format}`);
      run([
        'summary',
        '--since',
        '2000-01-01',
        '--until',
        '2100-01-01',
        '--no-import',
        '--format',
        format,
        '--out',
        out,
      ]);
      clean(`summary.${format}`, fs.readFileSync(out, 'utf8'));
    }
    const md = fs.readFileSync(path.join(box.dir, 'summary.md'), 'utf8');
    for (const line of md.split('\n').filter((l) => l.startsWith('|')))
      assert.ok(line.trimEnd().endsWith('|'), `a table row stays one line: ${line}`);
    const sessions = JSON.parse(cli(['sessions', '--json', '--no-import', '--home', box.ledger], env).stdout) as Array<{
      sessionId: string;
      branch: string | null;
      models?: string[];
    }>;
    const s = sessions.find((x) => x.sessionId === SESSION);
    assert.ok(s, 'the session is there, its names kept as text');
    assert.match(JSON.stringify(s), /red/);
  });

  it('a rollup and the team report made from it carry none of it', () => {
    const rollups = path.join(box.dir, 'rollups');
    fs.mkdirSync(rollups);
    const x = exportAllRollup(box.ledger, env, path.join(rollups, 'me.json'), ['--include', 'repos,subjects']);
    assert.equal(x.code, 0, x.stderr);
    clean('rollup export stdout', x.stdout + x.stderr);
    clean('the rollup', fs.readFileSync(path.join(rollups, 'me.json'), 'utf8'));
    for (const format of ['md', 'html', 'json']) {
      const m = cli(['rollup', 'merge', rollups, '--k', '2', '--format', format, '--home', box.ledger], env);
      clean(`team report (${format})`, m.stdout + m.stderr);
    }
  });
});
