// What the harness (plain Node, outside VS Code) and the test modules inside the extension host exchange: one world
// file the harness writes, one results file per window the runner writes, and UI requests/answers through the sync
// folder. Pure: no vscode, no Node I/O, so both sides import it.

/**
 * A window of the test run. `main` runs out/test/vscode/suite/**, `second` (opened only when it has tests) runs
 * out/test/vscode/second/** in a second VS Code window on `workspace2`, at the same time, on the same ledger.
 */
export type Role = 'main' | 'second';
export const ROLES: readonly Role[] = ['main', 'second'];

/** Folder under out/test/vscode/ holding each role's `*.test.js`, and the entry module its window loads. */
export const ROLE_SUITE_DIR: Record<Role, string> = { main: 'suite', second: 'second' };
export const ROLE_ENTRY: Record<Role, string> = { main: 'index.js', second: 'index-second.js' };

/** Environment variable with the absolute path of the world file (the extension host inherits it). */
export const WORLD_ENV = 'OL_TEST_WORLD';
/** Fallback when the variable is missing: the world file sits next to the workspace folder. */
export const WORLD_FILE = 'world.json';

/** The isolated temp world of one run: every path a test may need. */
export interface World {
  /** Root of the temp world; everything below is deleted after the run (unless --keep). */
  root: string;
  home: string;
  /** Claude Code logs root (CLAUDE_CONFIG_DIR): write `projects/<slug>/<session>.jsonl` under it. */
  claudeConfigDir: string;
  /** Codex CLI home (CODEX_HOME): rollouts go to `sessions/YYYY/MM/DD/rollout-*.jsonl`. */
  codexHome: string;
  /** The ledger both windows share (OUTCOME_LEDGER_HOME). */
  ledgerHome: string;
  /** The folder the main window opens: a git repository with one commit. */
  workspace: string;
  /** The folder the second window opens: another git repository with one commit. */
  workspace2: string;
  /** Barriers and UI requests live here. */
  syncDir: string;
  /** Results files (`<role>.json`), start markers (`<role>.started`) and progress (`<role>.progress.jsonl`). */
  resultsDir: string;
  /** Where screenshots go (the repo's test-artifacts/). */
  artifactsDir: string;
  /** The roles the harness opened windows for: a barrier waits for each of them. */
  roles: Role[];
  /** True when a harness serves UI requests (the code-server harness); false under the desktop launcher. */
  ui: boolean;
  /** Regular expression on suite file paths (relative to the role's folder), from --suite. */
  suite?: string;
  /** Regular expression on full test titles, from --grep. */
  grep?: string;
  /** Milliseconds: the test timeout of mocha inside the host. */
  mochaTimeoutMs: number;
}

export interface TestResult {
  title: string;
  fullTitle: string;
  /** Titles of the enclosing suites, outermost first (the spec-style printout indents by them). */
  titlePath: string[];
  file?: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number;
  error?: { message: string; stack?: string; expected?: string; actual?: string };
}

export interface ResultsFile {
  role: Role;
  vscodeVersion: string;
  startedAt: string;
  finishedAt: string;
  files: string[];
  tests: TestResult[];
  passes: number;
  failures: number;
  pending: number;
  /** Set when the runner itself failed (no test file, a file that does not load, mocha threw). */
  runError?: string;
}

/** A line of `<resultsDir>/<role>.progress.jsonl`: a test began, or one finished. */
export type ProgressLine = { begin: string } | { done: TestResult };

/**
 * What a test inside VS Code may ask the harness to do on its own window's page. `webview` (an extension id) runs the
 * selector inside that extension's webview view instead of the workbench page; a screenshot with `selector` is cropped
 * to that element of the workbench page (for example the side bar).
 */
export type UiRequest =
  | { kind: 'screenshot'; name: string; selector?: string }
  | { kind: 'click'; selector: string; webview?: string }
  | { kind: 'text'; selector: string; webview?: string }
  | { kind: 'waitFor'; selector: string; timeoutMs?: number; webview?: string }
  | { kind: 'select'; selector: string; value: string; webview?: string }
  | { kind: 'press'; key: string }
  /** Scrolls the webview's page to `y` when given; answers its scroll position (px from the top). */
  | { kind: 'scroll'; webview: string; y?: number }
  | { kind: 'runCommand'; title: string }
  | { kind: 'statusBar'; label: string };

export interface UiAnswer {
  ok: boolean;
  /** Text for `text`/`statusBar`, the file path for `screenshot`. */
  value?: string;
  error?: string;
}

/** File names in syncDir: `ui-<role>-<seq>.req.json` written by the host, `.res.json` by the harness. */
export const uiRequestFile = (role: Role, seq: number): string => `ui-${role}-${String(seq).padStart(4, '0')}.req.json`;
export const uiAnswerFile = (requestFile: string): string => requestFile.replace(/\.req\.json$/, '.res.json');
export const UI_REQUEST_PATTERN = /^ui-(main|second)-\d+\.req\.json$/;
