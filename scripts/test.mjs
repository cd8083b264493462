// `npm test`: every tier, in order, stopping at the first failure.
// 1. build the bundles  2. format check and lint (incl. the layer rule, and no import cycles)  3. compile (type-check) sources and tests, and the webview
// 4. mocha: unit tests of the core and Node layers, integration tests that run the real CLI on generated worlds.
// 5. the VS Code tier (OL_SKIP_VSCODE=1 skips it on machines that cannot run it).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
/** What Prettier formats (fixtures, JSON and Markdown are left as written: see .prettierignore). */
const FORMATTED = ['src', 'test', 'bench', 'scripts', 'eslint.config.mjs', 'media'];

const steps = [
  ['build', process.execPath, [join(root, 'scripts', 'build.mjs')]],
  // Prettier at 120 columns (.prettierrc.json); `npm run format` rewrites what this check reports.
  ['format', bin('prettier'), ['--check', '--log-level', 'warn', ...FORMATTED]],
  ['lint', bin('eslint'), ['src', 'test', 'scripts', 'bench']],
  ['import cycles', process.execPath, [join(root, 'scripts', 'cycles.mjs')]],
  ['compile', bin('tsc'), ['-p', join(root, 'tsconfig.test.json')]],
  // The sidebar's page is browser code, type-checked against the DOM (the root tsconfig is Node-only).
  ['compile webview', bin('tsc'), ['-p', join(root, 'tsconfig.webview.json')]],
  // Setup installs what the tests need once: Debian packages (sqlite3 for the OpenCode fixtures, Chromium and
  // libraries for the VS Code tier) and code-server (see test/vscode/README.md).
  ['setup', process.execPath, [join(root, 'scripts', 'vscode-setup.mjs')]],
  ['unit + integration', bin('mocha'), ['--config', join(root, '.mocharc.json')]],
  // 5. the VS Code tier: the suites of test/vscode inside a real extension host (code-server + Chromium), then UI
  //    checks and screenshots (test-artifacts/).
  ['vscode', process.execPath, [join(root, 'out', 'test', 'vscode', 'harness.js')]],
  // 6. the package a user installs: npm run package, then code-server --install-extension.
  ['vsix install', process.execPath, [join(root, 'out', 'test', 'vscode', 'installCheck.js')]],
];
if (process.env.OL_SKIP_VSCODE === '1') {
  process.stdout.write('\n⚠ OL_SKIP_VSCODE=1: the VS Code tier is skipped (never set it in CI)\n');
  steps.splice(
    steps.findIndex(([name]) => name === 'setup'),
    1,
  );
  steps.splice(steps.findIndex(([name]) => name === 'vscode'));
}

for (const [name, cmd, args] of steps) {
  const started = Date.now();
  process.stdout.write(`\n▶ ${name}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`✖ ${name} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status || 1);
  }
  process.stdout.write(`✔ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}
