// Prepares the VS Code tier (code-server + Chromium, see test/vscode/README.md), idempotently: a second run only checks and takes seconds.
//   1. Debian packages code-server and the browser need (installed when root, otherwise printed and exit 2).
//   2. The @vscode/ripgrep download cache, seeded from Debian's rg (its postinstall would fetch rg from GitHub).
//   3. code-server (carrying VS Code 1.99.3) in .vscode-test/code-server/, outside the project's own dependencies,
//      then checks that its native parts are really there and repairs what an install script left out.
// Usage: node scripts/vscode-setup.mjs [--force]   (--force reinstalls code-server)
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  copyFileSync,
  chmodSync,
  mkdtempSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.99.4';
export const VSCODE_VERSION = '1.99.3';
// sqlite3: the SQLite shell writes the OpenCode fixtures (real databases with real write-ahead logs) in the mocha tier.
// openssh-client: ssh-keygen, for the summary signed with a git SSH signing key (test/integration/verify.test.ts).
const SYSTEM_PACKAGES = [
  'libkrb5-dev',
  'libx11-dev',
  'libxkbfile-dev',
  'libsecret-1-dev',
  'ripgrep',
  'chromium',
  'sqlite3',
  'openssh-client',
];
// code-server builds argon2 (and VS Code's native modules) from source when the prebuilt download fails, as it does here.
const BUILD_TOOLS = [
  ['make', 'build-essential'],
  ['g++', 'build-essential'],
  ['python3', 'python3'],
];
// @vscode/ripgrep versions code-server's VS Code may pull, and the rg release tags their postinstall asks for
// (1.15.11 pins v13.0.0-10; later ones moved to v13.0.0-13). An extra name in the cache costs nothing.
const RIPGREP_PACKAGE_VERSIONS = ['1.15.11', '1.15.12', '1.15.13', '1.15.14'];
const RIPGREP_TAGS = ['v13.0.0-10', 'v13.0.0-13'];
const RIPGREP_TARGET = 'x86_64-unknown-linux-musl';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const codeServerPrefix = join(root, '.vscode-test', 'code-server');
const pkgDir = join(codeServerPrefix, 'node_modules', 'code-server');
const entry = join(pkgDir, 'out', 'node', 'entry.js');
const marker = join(codeServerPrefix, 'ready.json');
const installLog = join(codeServerPrefix, 'install.log');
const ripgrepDir = join(pkgDir, 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep');
const argon2Binding = join(codeServerPrefix, 'node_modules', 'argon2', 'lib', 'binding', 'napi-v3', 'argon2.node');
const vscodeDir = join(pkgDir, 'lib', 'vscode');
// Native modules VS Code's server loads (built by their install scripts, from source here).
const vscodeNative = [
  '@vscode/spdlog/build/Release/spdlog.node',
  'node-pty/build/Release/pty.node',
  'native-watchdog/build/Release/watchdog.node',
  'kerberos/build/Release/kerberos.node',
].map((p) => join(vscodeDir, 'node_modules', ...p.split('/')));
const force = process.argv.includes('--force');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const started = Date.now();
const secs = (t) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
const say = (msg) => process.stdout.write(`[vscode-setup] ${msg}\n`);
function fail(msg, code = 1) {
  process.stderr.write(`[vscode-setup] ✖ ${msg}\n`);
  process.exit(code);
}
function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
}
function step(name, fn) {
  const t = Date.now();
  const detail = fn();
  say(`✔ ${name}${detail ? `: ${detail}` : ''} (${secs(t)})`);
}
function npmEnv() {
  return {
    ...process.env,
    npm_config_yes: 'true',
    npm_config_unsafe_perm: 'true', // code-server's postinstall.sh refuses to run as root without it
    npm_config_ignore_scripts: 'false', // the native builds and postinstalls are the point of this install
    npm_config_foreground_scripts: 'true', // their output lands in install.log in order
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(
    `the VS Code tier runs on Linux x64 (Debian) only; this is ${process.platform}/${process.arch}. On a desktop with internet use out/test/vscode/electron.js.`,
  );
}
if (Number(process.versions.node.split('.')[0]) !== 20) {
  fail(`code-server ${CODE_SERVER_VERSION} needs Node 20; this is Node ${process.versions.node}.`);
}

// 1. System packages ---------------------------------------------------------------------------------------------
step('system packages', () => {
  if (run('dpkg-query', ['--version']).status !== 0) {
    fail(
      `dpkg-query not found: install these Debian packages (or your system's equivalents) and rerun:\n  ${SYSTEM_PACKAGES.join(' ')}`,
    );
  }
  const installed = (pkg) => run('dpkg-query', ['-W', '-f=${Status}', pkg]).stdout?.trim() === 'install ok installed';
  const missing = SYSTEM_PACKAGES.filter((p) => !installed(p));
  for (const [cmd, pkg] of BUILD_TOOLS) {
    if (run('sh', ['-c', `command -v ${cmd}`]).status !== 0 && !missing.includes(pkg)) missing.push(pkg);
  }
  if (missing.length === 0) return 'all present';
  if (!isRoot) {
    fail(
      `missing Debian packages: ${missing.join(' ')}\nInstall them and rerun:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
      2,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  say(`installing ${missing.join(' ')}`);
  for (const args of [
    ['update', '-q'],
    [
      'install',
      '-y',
      '-q',
      '--no-install-recommends',
      ...SYSTEM_PACKAGES,
      ...missing.filter((p) => !SYSTEM_PACKAGES.includes(p)),
    ],
  ]) {
    const r = run('apt-get', args, { env, stdio: 'inherit' });
    if (r.status !== 0) fail(`apt-get ${args[0]} failed (exit ${r.status ?? r.signal})`);
  }
  const still = SYSTEM_PACKAGES.filter((p) => !installed(p));
  if (still.length) fail(`apt-get did not install: ${still.join(' ')}`);
  return `installed ${missing.join(' ')}`;
});

// 2. ripgrep cache -----------------------------------------------------------------------------------------------
const rgSystem = '/usr/bin/rg';
const cacheBase = process.env.TMPDIR || '/tmp';
function seedRipgrep(versions, tags) {
  let written = 0;
  let staging;
  for (const v of versions) {
    for (const tag of tags) {
      const dir = join(cacheBase, `vscode-ripgrep-cache-${v}`);
      const file = join(dir, `ripgrep-${tag}-${RIPGREP_TARGET}.tar.gz`);
      if (existsSync(file) && statSync(file).size > 1000) continue;
      if (!staging) {
        staging = mkdtempSync(join(tmpdir(), 'ol-rg-'));
        copyFileSync(rgSystem, join(staging, 'rg'));
        chmodSync(join(staging, 'rg'), 0o755);
      }
      mkdirSync(dir, { recursive: true });
      const r = run('tar', ['czf', file, '-C', staging, 'rg']);
      if (r.status !== 0) fail(`could not write ${file}: ${r.stderr}`);
      written++;
    }
  }
  if (staging) rmSync(staging, { recursive: true, force: true });
  return written;
}
step('ripgrep cache', () => {
  if (!existsSync(rgSystem)) fail(`${rgSystem} is missing (Debian package ripgrep)`);
  const n = seedRipgrep(RIPGREP_PACKAGE_VERSIONS, RIPGREP_TAGS);
  return n ? `seeded ${n} archive(s) under ${cacheBase}/vscode-ripgrep-cache-*` : 'already seeded';
});

// 3. code-server -------------------------------------------------------------------------------------------------
function readyState() {
  try {
    const m = JSON.parse(readFileSync(marker, 'utf8'));
    return (
      m.codeServer === CODE_SERVER_VERSION &&
      m.node === process.versions.node.split('.')[0] &&
      existsSync(entry) &&
      existsSync(join(ripgrepDir, 'bin', 'rg')) &&
      existsSync(argon2Binding) &&
      vscodeNative.every((f) => existsSync(f))
    );
  } catch {
    return false;
  }
}
function tail(file, lines = 60) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

if (!force && readyState()) {
  say(`✔ code-server ${CODE_SERVER_VERSION}: already in ${codeServerPrefix}`);
} else {
  step(`code-server ${CODE_SERVER_VERSION} install`, () => {
    rmSync(codeServerPrefix, { recursive: true, force: true }); // a half-finished install is not worth repairing
    mkdirSync(codeServerPrefix, { recursive: true });
    writeFileSync(
      join(codeServerPrefix, 'package.json'),
      JSON.stringify({ name: 'ol-code-server', private: true }, null, 2) + '\n',
    );
    say(`npm install code-server@${CODE_SERVER_VERSION} (about a minute; log: ${installLog})`);
    const r = run('npm', ['install', '--prefix', codeServerPrefix, '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
      cwd: codeServerPrefix,
      env: npmEnv(),
    });
    writeFileSync(installLog, `${r.stdout ?? ''}\n${r.stderr ?? ''}`);
    if (r.status !== 0)
      fail(
        `npm install code-server failed (exit ${r.status ?? r.signal}); last lines of ${installLog}:\n${tail(installLog)}`,
      );
    return `into ${codeServerPrefix}`;
  });

  // npm may skip dependency install scripts (npm 11 warns "install-scripts ... not yet covered by allowScripts" and
  // later versions may block them): check what they should have produced and run the missing ones by hand.
  step('code-server parts', () => {
    const repaired = [];
    if (!existsSync(entry)) fail(`${entry} is missing after the install; see ${installLog}`);
    if (!existsSync(join(pkgDir, 'lib', 'vscode', 'node_modules'))) {
      const r = run('npm', ['run-script', 'postinstall'], { cwd: pkgDir, env: npmEnv() });
      writeFileSync(installLog, `${r.stdout ?? ''}\n${r.stderr ?? ''}`, { flag: 'a' });
      if (r.status !== 0) fail(`code-server's postinstall failed (exit ${r.status ?? r.signal}):\n${tail(installLog)}`);
      repaired.push('postinstall (VS Code dependencies)');
    }
    const unbuilt = vscodeNative.filter((f) => !existsSync(f));
    if (unbuilt.length) {
      const r = run('npm', ['rebuild', '--prefix', vscodeDir], { cwd: vscodeDir, env: npmEnv() });
      writeFileSync(installLog, `${r.stdout ?? ''}\n${r.stderr ?? ''}`, { flag: 'a' });
      const still = vscodeNative.filter((f) => !existsSync(f));
      if (r.status !== 0 || still.length)
        fail(`building VS Code's native modules failed (${still.join(', ')}):\n${tail(installLog)}`);
      repaired.push(
        `native modules (${unbuilt.map((f) => f.split('node_modules/')[1]?.split('/build')[0]).join(', ')})`,
      );
    }
    if (!existsSync(argon2Binding)) {
      const r = run('npm', ['rebuild', '--prefix', codeServerPrefix, 'argon2'], {
        cwd: codeServerPrefix,
        env: npmEnv(),
      });
      writeFileSync(installLog, `${r.stdout ?? ''}\n${r.stderr ?? ''}`, { flag: 'a' });
      if (r.status !== 0 || !existsSync(argon2Binding)) fail(`building argon2 failed:\n${tail(installLog)}`);
      repaired.push('argon2');
    }
    if (!existsSync(join(ripgrepDir, 'bin', 'rg'))) {
      // Seed the exact asset this @vscode/ripgrep asks for, rerun its postinstall, and copy rg in as a last resort.
      const pkg = JSON.parse(readFileSync(join(ripgrepDir, 'package.json'), 'utf8'));
      const tag = /const VERSION = '([^']+)'/.exec(
        readFileSync(join(ripgrepDir, 'lib', 'postinstall.js'), 'utf8'),
      )?.[1];
      if (tag) seedRipgrep([pkg.version], [tag]);
      rmSync(join(ripgrepDir, 'bin'), { recursive: true, force: true });
      const r = run(process.execPath, [join(ripgrepDir, 'lib', 'postinstall.js')], {
        cwd: ripgrepDir,
        env: npmEnv(),
        timeout: 60_000,
      });
      if (r.status !== 0 || !existsSync(join(ripgrepDir, 'bin', 'rg'))) {
        mkdirSync(join(ripgrepDir, 'bin'), { recursive: true });
        copyFileSync(rgSystem, join(ripgrepDir, 'bin', 'rg'));
        chmodSync(join(ripgrepDir, 'bin', 'rg'), 0o755);
      }
      repaired.push(`ripgrep ${pkg.version} (${tag ?? 'unknown tag'})`);
    }
    return repaired.length
      ? `ran by hand: ${repaired.join(', ')}`
      : 'native modules, VS Code dependencies and rg present';
  });
}

step('code-server runs', () => {
  // A throwaway HOME: code-server writes a default config file on any start, --version included.
  const home = mkdtempSync(join(tmpdir(), 'ol-cs-home-'));
  const r = run(process.execPath, [entry, '--version'], {
    timeout: 60_000,
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_DATA_HOME: join(home, '.local', 'share'),
    },
  });
  rmSync(home, { recursive: true, force: true });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0 || !out.includes(CODE_SERVER_VERSION) || !out.includes(VSCODE_VERSION)) {
    rmSync(marker, { force: true });
    fail(
      `\`code-server --version\` did not report ${CODE_SERVER_VERSION} with Code ${VSCODE_VERSION} (exit ${r.status ?? r.signal}):\n${out}`,
    );
  }
  writeFileSync(
    marker,
    JSON.stringify(
      { codeServer: CODE_SERVER_VERSION, vscode: VSCODE_VERSION, node: process.versions.node.split('.')[0], entry },
      null,
      2,
    ) + '\n',
  );
  return out.split('\n').find((l) => l.includes(CODE_SERVER_VERSION)) ?? out;
});

say(`ready in ${secs(started)}`);
