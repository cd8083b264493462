// Desktop launcher of the same suites, for machines with internet: @vscode/test-electron downloads VS Code 1.99.3
// (into .vscode-test/) and runs out/test/vscode/index.js in its extension host. It cannot run on the project's
// machines or CI (no route to Microsoft's update server): there, use harness.js (code-server + Chromium), which also
// serves UI requests and runs the UI checks; here world.ui is false, so tests that need the UI should skip.
//
//   npm run compile-tests && npm run build && node out/test/vscode/electron.js [--suite REGEX] [--grep REGEX] [--keep]
//
// Same temp world as the harness. With suites under second/, a second VS Code (own user-data dir) runs them at the
// same time on world.workspace2, so barrier() works as in the harness.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';
import { ROLE_ENTRY, ROLE_SUITE_DIR, ROLES, type ResultsFile, type Role } from './protocol';
import { printFailures, printResults, type Tally } from './report';
import { createWorld, removeWorld, worldEnv, writeUserSettings } from './tempWorld';
import { findTestFiles } from './testFiles';

const VSCODE_VERSION = '1.99.3';
const repoRoot = path.resolve(__dirname, '..', '..', '..');

async function main(argv: string[]): Promise<number> {
  const arg = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const suite = arg('--suite');
  const grep = arg('--grep');
  const keep = argv.includes('--keep');
  const roles = ROLES.filter((r) => findTestFiles(path.join(__dirname, ROLE_SUITE_DIR[r]), suite).length > 0);
  if (roles.length === 0) throw new Error('no suite to run: compile the tests first (npm run compile-tests)');

  const world = createWorld({
    roles,
    artifactsDir: path.join(repoRoot, 'test-artifacts'),
    ui: false,
    ...(suite ? { suite } : {}),
    ...(grep ? { grep } : {}),
  });
  // The desktop session's own display and runtime folders stay: Electron needs them to open a window.
  const env: Record<string, string | undefined> = { ...worldEnv(world) };
  for (const k of ['XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'DBUS_SESSION_BUS_ADDRESS'])
    if (process.env[k]) env[k] = process.env[k];
  if (!env.XAUTHORITY && process.env.HOME && fs.existsSync(path.join(process.env.HOME, '.Xauthority')))
    env.XAUTHORITY = path.join(process.env.HOME, '.Xauthority');

  const folders: Record<Role, string> = { main: world.workspace, second: world.workspace2 };
  const tally: Tally = { passed: 0, failed: 0, skipped: 0, failures: [] };
  try {
    const vscodeExecutablePath = await downloadAndUnzipVSCode(VSCODE_VERSION);
    const exits = await Promise.all(
      roles.map((role) => {
        const userDataDir = path.join(world.root, `user-data-${role}`);
        writeUserSettings(userDataDir);
        return runTests({
          vscodeExecutablePath,
          extensionDevelopmentPath: repoRoot,
          extensionTestsPath: path.join(__dirname, ROLE_ENTRY[role]),
          extensionTestsEnv: env,
          launchArgs: [
            folders[role],
            '--disable-extensions',
            '--disable-workspace-trust',
            '--skip-welcome',
            '--skip-release-notes',
            '--user-data-dir',
            userDataDir,
            '--extensions-dir',
            path.join(world.root, `extensions-${role}`),
          ],
        }).then(
          (code) => ({ role, code, error: undefined as string | undefined }),
          (e: unknown) => ({ role, code: 1, error: (e as Error).message }),
        );
      }),
    );
    for (const { role, code, error } of exits) {
      const before = tally.failures.length;
      const file = path.join(world.resultsDir, `${role}.json`);
      if (fs.existsSync(file)) {
        const r = JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile;
        printResults(`${role} window · VS Code ${r.vscodeVersion}`, r.tests, tally);
        if (r.runError)
          tally.failures.push({ title: `${role} window: the runner failed`, error: { message: r.runError } });
      }
      if (code !== 0 && tally.failures.length === before)
        tally.failures.push({ title: `${role} window`, error: { message: error ?? `VS Code exited with ${code}` } });
    }
  } finally {
    if (keep) process.stdout.write(`kept ${world.root}\n`);
    else removeWorld(world);
  }
  tally.failed = Math.max(tally.failed, tally.failures.length);
  printFailures(tally);
  if (tally.passed + tally.failed === 0) tally.failed = 1;
  process.stdout.write(
    `\nvscode: ${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ''}\n`,
  );
  return tally.failed > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`electron: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
