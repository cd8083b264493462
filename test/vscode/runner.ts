// Runs one window's suites with mocha inside the extension host and writes `<resultsDir>/<role>.json` for the harness.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { setRole, world } from './host';
import { ROLE_SUITE_DIR, type ResultsFile, type Role, type TestResult } from './protocol';
import { findTestFiles } from './testFiles';

function writeAtomically(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

function errorOf(err: unknown): TestResult['error'] {
  const e = err as
    | { message?: unknown; stack?: unknown; expected?: unknown; actual?: unknown; showDiff?: boolean }
    | undefined;
  const show = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v, null, 2) ?? String(v)));
  return {
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
    ...(e?.showDiff !== false && e && 'expected' in e && 'actual' in e
      ? { expected: show(e.expected), actual: show(e.actual) }
      : {}),
  };
}

export async function runSuites(role: Role): Promise<void> {
  setRole(role);
  const w = world();
  const resultsFile = path.join(w.resultsDir, `${role}.json`);
  fs.writeFileSync(
    path.join(w.resultsDir, `${role}.started`),
    JSON.stringify({ pid: process.pid, at: new Date().toISOString() }),
  );
  const suiteDir = path.join(__dirname, ROLE_SUITE_DIR[role]);
  const results: ResultsFile = {
    role,
    vscodeVersion: vscode.version,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    files: [],
    tests: [],
    passes: 0,
    failures: 0,
    pending: 0,
  };
  // One line per event, so a harness that gives up on a hung window can say what ran and what hangs.
  const progressFile = path.join(w.resultsDir, `${role}.progress.jsonl`);
  const progress = (line: object): void => fs.appendFileSync(progressFile, `${JSON.stringify(line)}\n`);
  const record = (test: Mocha.Runnable, state: TestResult['state'], err?: unknown): void => {
    const result: TestResult = {
      title: test.title,
      fullTitle: test.fullTitle(),
      titlePath: test.parent ? test.parent.titlePath() : [],
      state,
      durationMs: test.duration ?? 0,
      ...(test.file ? { file: path.relative(suiteDir, test.file) } : {}),
      ...(err !== undefined ? { error: errorOf(err) } : {}),
    };
    results.tests.push(result);
    progress({ done: result });
    if (state === 'passed') results.passes++;
    else if (state === 'failed') results.failures++;
    else results.pending++;
    // Shows up in the browser console (the harness keeps it in its log) while the run goes on.
    console.log(
      `[ol-test ${role}] ${state === 'passed' ? '✔' : state === 'failed' ? '✖' : '-'} ${result.fullTitle}${result.error ? `: ${result.error.message}` : ''}`,
    );
  };

  class Collector extends Mocha.reporters.Base {
    constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
      super(runner, options);
      runner.on(Mocha.Runner.constants.EVENT_TEST_BEGIN, (t: Mocha.Test) => progress({ begin: t.fullTitle() }));
      runner.on(Mocha.Runner.constants.EVENT_TEST_PASS, (t: Mocha.Test) => record(t, 'passed'));
      runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, (t: Mocha.Runnable, err: unknown) => record(t, 'failed', err));
      runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, (t: Mocha.Test) => record(t, 'pending'));
    }
  }

  const finish = (runError?: string): void => {
    results.finishedAt = new Date().toISOString();
    if (runError) results.runError = runError;
    writeAtomically(resultsFile, results);
  };

  try {
    const files = findTestFiles(suiteDir, w.suite);
    results.files = files.map((f) => path.relative(suiteDir, f));
    if (files.length === 0) throw new Error(`no *.test.js under ${suiteDir}${w.suite ? ` matching /${w.suite}/` : ''}`);
    const mocha = new Mocha({
      ui: 'bdd',
      timeout: w.mochaTimeoutMs,
      color: false,
      forbidOnly: true,
      reporter: Collector,
      ...(w.grep ? { grep: w.grep } : {}),
    });
    for (const f of files) mocha.addFile(f);
    const failures = await new Promise<number>((resolve, reject) => {
      try {
        mocha.run(resolve);
      } catch (e) {
        reject(e);
      }
    });
    finish();
    if (failures > 0) throw new Error(`${failures} test(s) failed in the ${role} window`);
  } catch (e) {
    if (!results.finishedAt) finish(`${(e as Error).stack ?? String(e)}`);
    throw e;
  }
}
