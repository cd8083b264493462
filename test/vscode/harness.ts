// Runs the VS Code suites inside a real extension host: code-server (VS Code 1.99.3) on loopback, Debian's Chromium
// through playwright-core, the extension loaded in development mode and out/test/vscode/index.js as the tests module.
//
//   node out/test/vscode/harness.js [--suite REGEX] [--grep REGEX] [--timeout SECONDS] [--keep] [--no-ui]
//
// Needs `node scripts/vscode-setup.mjs` (once), `npm run build` (dist/) and `npm run compile-tests` (out/).
//
// One run = one temp world (HOME, XDG_*, CLAUDE_CONFIG_DIR, CODEX_HOME, OUTCOME_LEDGER_HOME, two git repositories),
// handed to code-server's environment, which every extension host inherits; the world file ($OL_TEST_WORLD) tells
// the test modules where everything is. Windows ("roles"):
//   main    out/test/vscode/suite/**/*.test.js   on world.workspace   (entry index.js)
//   second  out/test/vscode/second/**/*.test.js  on world.workspace2  (entry index-second.js), opened only when that
//           folder has tests, while the main window runs: both share one ledger; host.ts's barrier() orders them.
// Tests may ask the harness to act on their page through host.ts's ui() (files in world.syncDir).
// After every suite passed, a plain development window (no tests module) runs the checks of uiChecks.ts, which
// leave screenshots in test-artifacts/ (workbench.png). On failure, screenshots and logs go there as well.
// Every wait is bounded; code-server and the browser are always stopped and the temp world removed (unless --keep).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { codeServerEntry, startCodeServer, type CodeServer } from './codeServer';
import {
  ROLE_ENTRY,
  ROLE_SUITE_DIR,
  ROLES,
  UI_REQUEST_PATTERN,
  uiAnswerFile,
  type ProgressLine,
  type ResultsFile,
  type Role,
  type TestResult,
  type UiAnswer,
  type UiRequest,
  type World,
} from './protocol';
import { createWorld, removeWorld, worldEnv, writeUserSettings } from './tempWorld';
import { printFailures, printResults, type Tally } from './report';
import { findTestFiles } from './testFiles';
import { CHROMIUM, CHROMIUM_ARGS } from '../chromium';
import { UI_CHECKS } from './uiChecks';
import { Workbench, workbenchUrl } from './workbench';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const artifactsDir = path.join(repoRoot, 'test-artifacts');
const VIEWPORT = { width: 1280, height: 800 };
/** code-server asks open-vsx.org for extension metadata: point it at a closed loopback port instead. */
const OFFLINE_GALLERY = JSON.stringify({
  serviceUrl: 'http://127.0.0.1:9/gallery',
  itemUrl: 'http://127.0.0.1:9/item',
  resourceUrlTemplate:
    'http://127.0.0.1:9/asset/{publisher}/{name}/{version}/Microsoft.VisualStudio.Code.WebResources/{path}',
  controlUrl: '',
  recommendationsUrl: '',
});
/** A window whose extension host has not started the tests module by then is not going to. */
const START_TIMEOUT_MS = 150_000;

interface Options {
  suite?: string;
  grep?: string;
  timeoutSec: number;
  keep: boolean;
  ui: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Options {
  const opts: Options = { timeoutSec: Number(process.env.OL_VSCODE_TIMEOUT) || 480, keep: false, ui: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--suite':
        opts.suite = value();
        break;
      case '--grep':
        opts.grep = value();
        break;
      case '--timeout':
        opts.timeoutSec = Number(value());
        break;
      case '--keep':
        opts.keep = true;
        break;
      case '--no-ui':
        opts.ui = false;
        break;
      case '--help':
      case '-h':
        process.stdout.write(
          'node out/test/vscode/harness.js [--suite REGEX] [--grep REGEX] [--timeout SECONDS (480)] [--keep] [--no-ui]\n',
        );
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${argv[i]}`);
    }
  }
  if (!(opts.timeoutSec > 0)) throw new UsageError('--timeout needs a positive number of seconds');
  for (const re of [opts.suite, opts.grep]) if (re) new RegExp(re); // fail early on a bad pattern
  return opts;
}

const t0 = Date.now();
const elapsed = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
const log = (msg: string): void => void process.stdout.write(`[vscode] ${msg} (${elapsed()})\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(none)';
  }
}

/** Browser console lines that say nothing about the extension: info chatter, stack frames, the offline gallery. */
const CONSOLE_NOISE =
  /color: #33f (?!\[ol-test)|^\s+at |127\.0\.0\.1:9\/|Failed to load resource|same-origin iframe|allow-same-origin|Long running operations during shutdown/;

function consoleTail(file: string, lines: number): string {
  try {
    return (
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() && !CONSOLE_NOISE.test(l))
        .slice(-lines)
        .join('\n') || '(nothing notable)'
    );
  } catch {
    return '(none)';
  }
}

function readProgress(file: string): { done: TestResult[]; running?: string } {
  const done: TestResult[] = [];
  let running: string | undefined;
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
  for (const line of lines) {
    if (!line.trim()) continue;
    const p = JSON.parse(line) as ProgressLine;
    if ('begin' in p) running = p.begin;
    else {
      done.push(p.done);
      if (running === p.done.fullTitle) running = undefined;
    }
  }
  return { done, ...(running ? { running } : {}) };
}

/** Races `work` against the deadline and its own bound. */
async function bounded<T>(what: string, work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${(ms / 1000).toFixed(0)} s: ${what}`)),
      Math.max(ms, 0),
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- the run ----------------------------------------------------------------------------------------------------

interface Window {
  role: Role | 'ui';
  page: Page;
  workbench: Workbench;
  consoleLog: string;
  openedAt: number;
  closed: boolean;
}

async function run(opts: Options): Promise<number> {
  const deadline = t0 + opts.timeoutSec * 1000;
  const remaining = (): number => deadline - Date.now();
  const outDir = __dirname;
  const entry = codeServerEntry(repoRoot);
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { main?: string };
  const missing: string[] = [];
  if (!fs.existsSync(entry)) missing.push(`code-server (${entry}): run \`node scripts/vscode-setup.mjs\``);
  if (!fs.existsSync(CHROMIUM)) missing.push(`Chromium (${CHROMIUM}): run \`node scripts/vscode-setup.mjs\``);
  if (pkg.main && !fs.existsSync(path.join(repoRoot, pkg.main)))
    missing.push(`the extension bundle ${pkg.main}: run \`npm run build\``);
  if (!pkg.main) missing.push('package.json has no "main": there is no extension to load');
  for (const role of ROLES) {
    if (!fs.existsSync(path.join(outDir, ROLE_ENTRY[role])))
      missing.push(`${path.join(outDir, ROLE_ENTRY[role])}: run \`npm run compile-tests\``);
  }
  if (missing.length) throw new UsageError(`missing:\n  ${missing.join('\n  ')}`);

  const roles = ROLES.filter((r) => findTestFiles(path.join(outDir, ROLE_SUITE_DIR[r]), opts.suite).length > 0);
  if (roles.length === 0)
    throw new UsageError(
      `no *.test.js under ${outDir}/{${Object.values(ROLE_SUITE_DIR).join(',')}}${opts.suite ? ` matching /${opts.suite}/` : ''}`,
    );

  // What an earlier failed run left in test-artifacts/ would read as this run's.
  if (fs.existsSync(artifactsDir)) {
    for (const name of fs.readdirSync(artifactsDir)) {
      if (/^(ui-)?failure-.*\.png$/.test(name) || name === 'vscode-logs')
        fs.rmSync(path.join(artifactsDir, name), { recursive: true, force: true });
    }
  }
  const world = createWorld({
    roles,
    artifactsDir,
    ui: true,
    ...(opts.suite ? { suite: opts.suite } : {}),
    ...(opts.grep ? { grep: opts.grep } : {}),
  });
  const logsDir = path.join(world.root, 'logs');
  const userDataDir = path.join(world.root, 'user-data');
  fs.mkdirSync(logsDir, { recursive: true });
  writeUserSettings(userDataDir);
  const codeServerLog = path.join(logsDir, 'code-server.log');
  log(`world ${world.root}; windows: ${roles.join(', ')}`);

  let server: CodeServer | undefined;
  let context: BrowserContext | undefined;
  const windows = new Map<Role | 'ui', Window>();
  let failed = false;
  let interrupted: NodeJS.Signals | undefined;
  let cleaning: Promise<void> | undefined;
  // One cleanup, however many paths ask for it (the run's finally, a signal, the watchdog): all wait for the same.
  const cleanup = (): Promise<void> => (cleaning ??= doCleanup());
  const doCleanup = async (): Promise<void> => {
    if (context)
      await bounded('closing the browser', context.close(), 15_000).catch((e: unknown) =>
        log(`browser close: ${(e as Error).message}`),
      );
    if (server) await server.stop();
    if (failed) {
      // What CI keeps: our logs and VS Code's own (extension host, remote agent).
      const dest = path.join(artifactsDir, 'vscode-logs');
      fs.rmSync(dest, { recursive: true, force: true });
      fs.cpSync(logsDir, dest, { recursive: true });
      if (fs.existsSync(path.join(userDataDir, 'logs')))
        fs.cpSync(path.join(userDataDir, 'logs'), path.join(dest, 'vscode'), { recursive: true });
      log(`logs copied to ${path.relative(repoRoot, dest)}/`);
    }
    if (opts.keep) log(`kept ${world.root}`);
    else removeWorld(world);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping`);
    interrupted = signal;
    failed = true;
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  // The last line of defence against a hang: every wait below is bounded, this catches a bug in that.
  const watchdog = setTimeout(
    () => {
      log(`overall timeout of ${opts.timeoutSec} s passed: stopping`);
      failed = true;
      void bounded('cleanup', cleanup(), 30_000).finally(() => process.exit(1));
    },
    opts.timeoutSec * 1000 + 60_000,
  );
  watchdog.unref();

  const tally: Tally = { passed: 0, failed: 0, skipped: 0, failures: [] };
  try {
    server = await startCodeServer({
      entry,
      env: { ...worldEnv(world), EXTENSIONS_GALLERY: OFFLINE_GALLERY },
      folder: world.workspace,
      userDataDir,
      extensionsDir: path.join(world.root, 'extensions'),
      logFile: codeServerLog,
      deadline,
    });
    log(`code-server on ${server.origin}`);
    const srv = server;

    context = await chromium.launchPersistentContext(path.join(world.root, 'browser'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: VIEWPORT,
      timeout: 60_000,
      // Our signal handler stops everything in order and removes the world; Playwright's would exit at once.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const ctx = context;
    const openWindow = async (role: Role | 'ui', folder: string, testsModule?: string): Promise<Window> => {
      const page = await ctx.newPage();
      const consoleLog = path.join(logsDir, `${role}-console.log`);
      const win: Window = {
        role,
        page,
        workbench: new Workbench(page, artifactsDir),
        consoleLog,
        openedAt: Date.now(),
        closed: false,
      };
      page.on('console', (m) => fs.appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
      page.on('pageerror', (e) => fs.appendFileSync(consoleLog, `[pageerror] ${e.stack ?? e.message}\n`));
      page.on('crash', () => fs.appendFileSync(consoleLog, '[crash] the page crashed\n'));
      page.on('close', () => (win.closed = true));
      const url = workbenchUrl(srv.origin, folder, {
        extensionDevelopmentPath: repoRoot,
        ...(testsModule ? { extensionTestsPath: testsModule } : {}),
      });
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: Math.min(60_000, remaining()) });
      windows.set(role, win);
      return win;
    };

    // ---- the suites ------------------------------------------------------------------------------------------
    const folders: Record<Role, string> = { main: world.workspace, second: world.workspace2 };
    const results = new Map<Role, ResultsFile>();
    const handled = new Set<string>();
    const started = (r: Role): boolean => fs.existsSync(path.join(world.resultsDir, `${r}.started`));
    const toOpen = [...roles];
    const first = toOpen.shift()!;
    await openWindow(first, folders[first], path.join(outDir, ROLE_ENTRY[first]));
    log(`${first} window opened`);
    let problem: string | undefined;
    while (results.size < roles.length && !problem) {
      if (interrupted) problem = `interrupted by ${interrupted}`;
      else if (remaining() <= 0)
        problem = `timed out after ${opts.timeoutSec} s (--timeout) waiting for ${roles.filter((r) => !results.has(r)).join(', ')}`;
      else if (srv.exit()) problem = `code-server ${srv.exit()}`;
      for (const role of roles) {
        if (problem || results.has(role)) continue;
        const file = path.join(world.resultsDir, `${role}.json`);
        if (fs.existsSync(file)) {
          results.set(role, JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile);
          log(`${role} window finished`);
          continue;
        }
        const win = windows.get(role);
        if (!win) continue;
        if (!started(role) && Date.now() - win.openedAt > START_TIMEOUT_MS)
          problem = `the ${role} window did not start its tests module within ${START_TIMEOUT_MS / 1000} s`;
        else if (win.closed) problem = `the ${role} window closed before writing its results`;
      }
      // The next window opens once the previous one runs its tests: one VS Code at a time starts on 2 cores.
      const next = toOpen[0];
      if (!problem && next && started(roles[roles.indexOf(next) - 1]!)) {
        toOpen.shift();
        await openWindow(next, folders[next], path.join(outDir, ROLE_ENTRY[next]));
        log(`${next} window opened`);
      }
      if (!problem) await serveUiRequests(world, windows, handled);
      await sleep(200);
    }

    for (const role of roles) {
      const r = results.get(role);
      if (!r) continue;
      printResults(`${role} window · VS Code ${r.vscodeVersion} · ${r.files.join(', ') || 'no files'}`, r.tests, tally);
      if (r.runError) {
        tally.failed++;
        tally.failures.push({ title: `${role} window: the runner failed`, error: { message: r.runError } });
      }
    }
    if (problem) {
      for (const role of roles.filter((r) => !results.has(r))) {
        const { done, running } = readProgress(path.join(world.resultsDir, `${role}.progress.jsonl`));
        printResults(`${role} window (unfinished)${running ? ` · still running: ${running}` : ''}`, done, tally);
      }
      tally.failed++;
      tally.failures.push({ title: 'harness', error: { message: problem } });
    }

    // ---- UI checks on a plain development window ---------------------------------------------------------------
    if (tally.failed === 0 && tally.passed > 0 && opts.ui) {
      for (const w of windows.values()) await w.page.close().catch(() => undefined);
      const ui = await openWindow('ui', world.workspace);
      const checks: TestResult[] = [];
      try {
        await ui.workbench.ready(Math.min(90_000, remaining()));
        for (const check of UI_CHECKS) {
          const begun = Date.now();
          const result = (state: TestResult['state']): TestResult => ({
            title: check.name,
            fullTitle: `UI ${check.name}`,
            titlePath: ['workbench'],
            state,
            durationMs: Date.now() - begun,
          });
          try {
            await bounded(check.name, check.run(ui.workbench, world), Math.min(90_000, remaining()));
            checks.push(result('passed'));
          } catch (e) {
            checks.push({
              ...result('failed'),
              error: { message: (e as Error).message, ...((e as Error).stack ? { stack: (e as Error).stack } : {}) },
            });
            await ui.workbench.screenshot(`ui-failure-${checks.length}`).catch(() => undefined);
          }
        }
      } catch (e) {
        checks.push({
          title: 'the workbench loads',
          fullTitle: 'UI the workbench loads',
          titlePath: ['workbench'],
          state: 'failed',
          durationMs: 0,
          error: { message: (e as Error).message },
        });
      }
      printResults('UI checks (development window, no tests module)', checks, tally);
    }

    if (tally.failed > 0) {
      failed = true;
      for (const w of windows.values()) {
        if (!w.closed)
          await w.workbench.screenshot(`failure-${w.role}`).then(
            (f) => log(`screenshot ${path.relative(repoRoot, f)}`),
            () => undefined,
          );
      }
      printFailures(tally);
      process.stdout.write(`\n--- code-server log (last 40 lines) ---\n${tail(codeServerLog, 40)}\n`);
      for (const w of windows.values())
        process.stdout.write(
          `--- ${w.role} window console (last 40 lines, without noise) ---\n${consoleTail(w.consoleLog, 40)}\n`,
        );
    }
  } catch (e) {
    failed = true;
    tally.failed++;
    process.stdout.write(
      `\n  ✖ harness: ${(e as Error).stack ?? String(e)}\n\n--- code-server log (last 40 lines) ---\n${tail(codeServerLog, 40)}\n`,
    );
  } finally {
    await bounded('cleanup', cleanup(), 45_000).catch((e: unknown) => log((e as Error).message));
    clearTimeout(watchdog);
  }

  if (tally.passed + tally.failed === 0) {
    tally.failed++;
    process.stdout.write('\n  ✖ no test ran\n');
  }
  process.stdout.write(
    `\n  ${tally.passed} passing, ${tally.failed} failing${tally.skipped ? `, ${tally.skipped} pending` : ''} (${elapsed()})\n`,
  );
  process.stdout.write(
    `vscode: ${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ''}\n`,
  );
  return tally.failed > 0 ? 1 : 0;
}

/** Carries out what tests inside VS Code asked for through host.ts's ui(), on the page of the asking window. */
async function serveUiRequests(world: World, windows: Map<Role | 'ui', Window>, handled: Set<string>): Promise<void> {
  for (const name of fs.readdirSync(world.syncDir).sort()) {
    const m = UI_REQUEST_PATTERN.exec(name);
    if (!m || handled.has(name)) continue;
    handled.add(name);
    const wb = windows.get(m[1] as Role)?.workbench;
    let answer: UiAnswer;
    try {
      if (!wb) throw new Error(`no ${m[1]} window`);
      const req = JSON.parse(fs.readFileSync(path.join(world.syncDir, name), 'utf8')) as UiRequest;
      answer = { ok: true, ...(await bounded(`UI request ${name}`, perform(wb, req), 60_000)) };
    } catch (e) {
      answer = { ok: false, error: (e as Error).message };
    }
    const dest = path.join(world.syncDir, uiAnswerFile(name));
    fs.writeFileSync(`${dest}.tmp`, JSON.stringify(answer));
    fs.renameSync(`${dest}.tmp`, dest);
  }
}

async function perform(wb: Workbench, req: UiRequest): Promise<{ value?: string }> {
  const within = (r: { selector: string; webview?: string }): Locator =>
    (r.webview ? wb.webviewOf(r.webview) : wb.page).locator(r.selector).first();
  switch (req.kind) {
    case 'screenshot':
      return { value: await wb.screenshot(req.name, req.selector) };
    case 'click':
      await within(req).click({ timeout: 15_000 });
      return {};
    case 'text':
      return { value: (await within(req).innerText({ timeout: 15_000 })).trim() };
    case 'waitFor':
      await within(req).waitFor({ state: 'visible', timeout: req.timeoutMs ?? 15_000 });
      return {};
    case 'select':
      await within(req).selectOption(req.value, { timeout: 15_000 });
      return {};
    case 'press':
      await wb.page.keyboard.press(req.key);
      return {};
    case 'scroll': {
      const y = await wb
        .webviewOf(req.webview)
        .locator('html')
        .evaluate((el, to) => {
          if (typeof to === 'number') el.ownerDocument.defaultView?.scrollTo(0, to);
          return el.ownerDocument.defaultView?.scrollY ?? 0;
        }, req.y);
      return { value: String(Math.round(y)) };
    }
    case 'runCommand':
      await wb.runCommand(req.title);
      return {};
    case 'statusBar':
      return { value: await wb.statusBarText(req.label) };
  }
}

if (require.main === module) {
  let opts: Options;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`harness: ${(e as Error).message}\n`);
    process.exit(2);
  }
  run(opts).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`harness: ${e instanceof UsageError ? e.message : ((e as Error).stack ?? String(e))}\n`);
      process.exit(e instanceof UsageError ? 2 : 1);
    },
  );
}
