// What a new user meets on the command line (issue 17): --version, mistyped commands and options with a suggestion,
// `help COMMAND` failing on an unknown command, negative numbers as option values, --home naming a file.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers';
import { cli } from './cli';

describe('the command line a new user expects', function () {
  this.timeout(120_000);
  let dir = '';
  let env: Record<string, string> = {};

  before(() => {
    dir = tempDir('ol-newcomer-');
    env = { HOME: path.join(dir, 'empty-home'), TZ: 'UTC' };
    fs.mkdirSync(env.HOME ?? '', { recursive: true });
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--version, -v and version print the package version; version takes no arguments', () => {
    const version = (
      JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    for (const a of ['--version', '-v', 'version']) {
      const r = cli([a], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${version}\n`);
    }
    const r = cli(['version', 'now'], env);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'outcome-ledger: version takes no arguments\n');
  });

  it('a mistyped command or option fails with exit 2, one line and a suggestion; `help COMMAND` too', () => {
    const cases: Array<[string[], RegExp]> = [
      [['help', 'reprot'], /^outcome-ledger: unknown command "reprot" \(did you mean report\?\)/],
      [['reprot'], /\(did you mean report\?\)/],
      [['sesions'], /\(did you mean sessions\?\)/],
      [['report', '--sinse', '2026-01-01'], /^outcome-ledger: unknown option --sinse \(did you mean --since\?\)/],
      [['summary', '--fromat', 'html'], /did you mean --format\?/],
      [['rollup', 'merge', '--memebrs', 'roster.txt'], /did you mean --members\?/],
      [['verify', 'x.html', '--rpeo', '.'], /did you mean --repo\?/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args, env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
    // Nothing close: the list of commands instead of a guess.
    const far = cli(['xyzzy'], env);
    assert.equal(far.code, 2);
    assert.match(far.stderr, /unknown command "xyzzy" \(commands: import, /);
  });

  it('`manual add --input -5` is judged as a number (not "argument is ambiguous")', () => {
    const r = cli(
      [
        'manual',
        'add',
        '--tool',
        'ChatGPT web',
        '--model',
        'gpt-4o',
        '--input',
        '-5',
        '--output',
        '3',
        '--home',
        path.join(dir, 'manual'),
      ],
      env,
    );
    assert.equal(r.code, 2);
    assert.doesNotMatch(r.stderr, /ambiguous/);
    assert.match(r.stderr, /^outcome-ledger: --input needs a whole number of tokens, got "-5"\n$/);
  });

  it('--home naming a file is a usage error, not an empty ledger', () => {
    const file = path.join(dir, 'not-a-folder');
    fs.writeFileSync(file, 'x');
    for (const args of [['report', '--no-import'], ['sessions', '--no-import'], ['health']]) {
      const r = cli([...args, '--home', file], env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, `outcome-ledger: --home ${file} is a file, not a folder\n`);
    }
  });

  it('--source: a missing path, `manual` and a mistyped name are usage errors in one line, from one list of sources', () => {
    const home = path.join(dir, 'sources');
    const cases: Array<[string, RegExp]> = [
      [
        'codex=/nonexistent-folder-of-logs',
        /^outcome-ledger: --source codex=\/nonexistent-folder-of-logs: no such file or folder\n$/,
      ],
      [
        `manual=${dir}`,
        /^outcome-ledger: --source manual: not a source this version reads \(manual entries are logged with `outcome-ledger manual add`\)/,
      ],
      [`codx=${dir}`, /\(did you mean codex\?\); NAME is one of claude-code, codex, /],
    ];
    for (const [source, re] of cases) {
      const r = cli(['import', '--home', home, '--source', source], env);
      assert.equal(r.code, 2, `${source}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.doesNotMatch(r.stderr, /manual,|, manual;/, 'manual is never offered as a --source name');
    }
  });

  it('--since after today without --until is exit 2, like the same inverted range given explicitly', () => {
    const home = path.join(dir, 'future');
    const future = `${new Date().getUTCFullYear() + 1}-01-01`;
    for (const args of [
      ['report', '--since', future, '--no-import'],
      ['sessions', '--since', future, '--no-import'],
    ]) {
      const r = cli([...args, '--home', home], env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(
        r.stderr,
        `outcome-ledger: --since ${future} is after today (the period would end before it starts)\n`,
      );
    }
    assert.equal(cli(['report', '--since', '2020-01-01', '--no-import', '--home', home], env).code, 0);
  });

  it('health prints plain text with --format text (the terminal default) and Markdown with --format md', () => {
    const home = path.join(dir, 'health');
    const text = cli(['health', '--format', 'text', '--home', home], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Outcome Ledger — data health\n/);
    assert.doesNotMatch(text.stdout, /^#|`/m);
    const md = cli(['health', '--format', 'md', '--home', home], env);
    assert.match(md.stdout, /^# Outcome Ledger — data health\n/);
    assert.match(md.stdout, /^## claude-code$/m);
    // Piped (not a terminal), the default stays Markdown for scripts and notes.
    assert.equal(cli(['health', '--home', home], env).stdout, md.stdout);
    assert.equal(cli(['health', '--format', 'html', '--home', home], env).code, 2);
  });
});
