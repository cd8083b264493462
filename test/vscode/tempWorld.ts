// The isolated world of one VS Code test run, created outside VS Code (by the harness or the desktop launcher): a temp
// HOME with its XDG folders, empty Claude Code / Codex log roots, a ledger home, two git repositories to open, and the
// world file that tells the test modules inside the extension host where all of it is.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WORLD_ENV, WORLD_FILE, type Role, type World } from './protocol';

export interface WorldOptions {
  roles: Role[];
  artifactsDir: string;
  ui: boolean;
  suite?: string;
  grep?: string;
  mochaTimeoutMs?: number;
}

/** Variables that would let the run see (or write to) the real user's data, or steer code-server (PORT, PASSWORD). */
const SCRUBBED =
  /^(VSCODE_|ELECTRON_|CLAUDE_|CODEX_|OUTCOME_LEDGER_|XDG_|OL_TEST_|CS_|CODE_SERVER_|GIT_DIR$|GIT_WORK_TREE$|PORT$|PASSWORD$|HASHED_PASSWORD$|GITHUB_TOKEN$)/;

/**
 * User settings of a VS Code profile created for a test run: no welcome page over the editor area, nothing that
 * reaches for the network, no prompts that cover the window in a screenshot.
 */
export const TEST_USER_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'window.restoreWindows': 'none',
};

export function writeUserSettings(userDataDir: string): void {
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  // Copilot Chat's global storage, as an installed Copilot Chat leaves it: its agent-traces.db is written there.
  fs.mkdirSync(path.join(userDataDir, 'User', 'globalStorage', 'github.copilot-chat'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify(TEST_USER_SETTINGS, null, 2) + '\n');
}

export function createWorld(options: WorldOptions): World {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ol-vscode-')));
  const dir = (...parts: string[]): string => {
    const p = path.join(root, ...parts);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const world: World = {
    root,
    home: dir('home'),
    claudeConfigDir: dir('home', '.claude'),
    codexHome: dir('home', '.codex'),
    ledgerHome: dir('ledger'),
    workspace: dir('workspace'),
    workspace2: dir('workspace2'),
    syncDir: dir('sync'),
    resultsDir: dir('results'),
    artifactsDir: options.artifactsDir,
    roles: options.roles,
    ui: options.ui,
    mochaTimeoutMs: options.mochaTimeoutMs ?? 60_000,
    ...(options.suite ? { suite: options.suite } : {}),
    ...(options.grep ? { grep: options.grep } : {}),
  };
  for (const d of ['.config', '.local/share', '.cache', '.local/state']) dir('home', d);
  // Kiro's sessions folder, as an installed Kiro leaves it (live capture watches it from activation on).
  dir('home', '.kiro', 'sessions');
  // Qwen Code's and Amp's folders, likewise (issue 18's sources).
  dir('home', '.qwen', 'projects');
  dir('home', '.local', 'share', 'amp', 'threads');
  // And the rest of them: Copilot CLI, Factory Droid, Kimi CLI, Amazon Q Developer's IDE history, Kiro IDE, Cursor.
  dir('home', '.copilot', 'session-state');
  dir('home', '.factory', 'sessions');
  dir('home', '.kimi', 'sessions');
  dir('home', '.aws', 'amazonq', 'history');
  dir('home', '.config', 'Kiro', 'User', 'globalStorage', 'kiro.kiroagent');
  dir('home', '.config', 'Cursor', 'User', 'globalStorage');
  // The data folders of the Amazon Q Developer CLI and the Kiro CLI (their SQLite databases are written there).
  dir('home', '.local', 'share', 'amazon-q');
  dir('home', '.local', 'share', 'kiro-cli');
  fs.chmodSync(dir('runtime'), 0o700);
  fs.mkdirSync(options.artifactsDir, { recursive: true });
  fs.writeFileSync(
    path.join(world.home, '.gitconfig'),
    '[user]\n\tname = Outcome Ledger Test\n\temail = test@outcome-ledger.invalid\n[init]\n\tdefaultBranch = main\n',
  );
  const env = worldEnv(world);
  for (const [repo, name] of [
    [world.workspace, 'outcome-ledger-test'],
    [world.workspace2, 'outcome-ledger-test-2'],
  ] as const) {
    fs.writeFileSync(path.join(repo, 'README.md'), `# ${name}\n\nA throwaway repository of the VS Code test run.\n`);
    const git = (...args: string[]): void => {
      execFileSync('git', args, { cwd: repo, env, stdio: 'pipe', timeout: 30_000 });
    };
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'Initial commit');
  }
  // Written last, next to the workspace folder: the test modules find it through OL_TEST_WORLD or, failing that,
  // as `<workspace folder>/../world.json`.
  fs.writeFileSync(path.join(root, WORLD_FILE), JSON.stringify(world, null, 2) + '\n');
  return world;
}

/** The environment code-server (and so every extension host and git it starts) runs with. */
export function worldEnv(world: World): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SCRUBBED.test(k)) env[k] = v;
  return {
    ...env,
    HOME: world.home,
    XDG_CONFIG_HOME: path.join(world.home, '.config'),
    XDG_DATA_HOME: path.join(world.home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(world.home, '.cache'),
    XDG_STATE_HOME: path.join(world.home, '.local', 'state'),
    XDG_RUNTIME_DIR: path.join(world.root, 'runtime'),
    CLAUDE_CONFIG_DIR: world.claudeConfigDir,
    CODEX_HOME: world.codexHome,
    OUTCOME_LEDGER_HOME: world.ledgerHome,
    GIT_CONFIG_NOSYSTEM: '1',
    [WORLD_ENV]: path.join(world.root, WORLD_FILE),
  };
}

export function removeWorld(world: World): void {
  fs.rmSync(world.root, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
}
