import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NPM_CLI =
  process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath) ? process.env.npm_execpath : undefined;

/** npm as the user runs it (through the same Node when npm told us where it lives). */
function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  return NPM_CLI
    ? execFileSync(process.execPath, [NPM_CLI, ...args], {
        cwd,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
        cwd,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
}

describe('installing the CLI from the npm package (npm pack, then npm install -g)', function () {
  this.timeout(240_000);
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  let dir = '';
  let bin = '';
  let env: NodeJS.ProcessEnv = {};
  let tarball = '';

  before(() => {
    dir = tempDir('ol-install-cli-');
    // --offline: the package has no run-time dependencies (everything is bundled), so nothing is downloaded.
    const packed =
      npm(['pack', '--silent', '--pack-destination', dir], ROOT, process.env).trim().split('\n').pop() ?? '';
    tarball = path.join(dir, packed);
    assert.ok(fs.existsSync(tarball), `npm pack wrote ${tarball}`);
    npm(
      ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', path.join(dir, 'prefix'), tarball],
      dir,
      process.env,
    );
    bin = path.join(dir, 'prefix', process.platform === 'win32' ? '' : 'bin');
    // A machine with nothing else: an empty home, no AI tools' logs, only the installed package and Node on PATH.
    env = {
      PATH: [bin, path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
      HOME: path.join(dir, 'user'),
      TZ: 'UTC',
    };
    fs.mkdirSync(env.HOME ?? '', { recursive: true });
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync('outcome-ledger', args, { env, cwd: env.HOME, encoding: 'utf8' });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };

  it('puts a working `outcome-ledger` on the PATH that prints its version', () => {
    for (const flag of ['--version', '-v', 'version']) {
      const r = run([flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), version);
    }
  });

  it('reports on an empty machine with one sentence saying what to do, and writes its ledger under the user home', () => {
    const r = run(['report']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No AI-assistant/);
    assert.ok(
      fs.existsSync(path.join(env.HOME ?? '', '.local', 'share', 'outcome-ledger')) || process.platform !== 'linux',
    );
  });

  it('runs straight from the tarball with npx, with nothing installed and no network', () => {
    const home = path.join(dir, 'npx-user');
    fs.mkdirSync(home, { recursive: true });
    // Not the PATH of the global install above: only Node and the system.
    const npxEnv = {
      ...env,
      PATH: [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter),
      HOME: home,
      npm_config_update_notifier: 'false',
      npm_config_cache: path.join(home, '.npm'),
    };
    const out = npm(
      ['exec', '--offline', '--yes', `--package=${tarball}`, '--', 'outcome-ledger', '--version'],
      home,
      npxEnv,
    );
    assert.equal(out.trim(), version);
  });

  it('ships only what runs: the bundles, the wasm, the docs and their screenshots, no sources or maps', () => {
    const installed = path.join(dir, 'prefix', 'lib', 'node_modules', 'outcome-ledger');
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else files.push(path.relative(installed, path.join(d, e.name)).split(path.sep).join('/'));
      }
    };
    walk(installed);
    for (const needed of [
      'dist/cli.js',
      'dist/sql-wasm.wasm',
      'dist/tokenizer.js',
      'README.md',
      'LICENSE',
      'docs/README.md',
    ])
      assert.ok(files.includes(needed), needed);
    assert.deepEqual(
      files.filter((f) => /^(src|test|bench|scripts|node_modules)\/|\.map$|\.ts$/.test(f)),
      [],
    );
  });
});
