// Helpers for the test modules running inside the extension host: the world of this run, the role of this window,
// barriers between the two windows, and UI requests the harness carries out on this window's page.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  WORLD_ENV,
  WORLD_FILE,
  uiAnswerFile,
  uiRequestFile,
  type Role,
  type UiAnswer,
  type UiRequest,
  type World,
} from './protocol';

export const EXTENSION_ID = 'outcome-ledger.outcome-ledger';

let cachedWorld: World | undefined;
let currentRole: Role = 'main';
let uiSeq = 0;

/** Called by the runner before it loads the suites. */
export function setRole(role: Role): void {
  currentRole = role;
}

export function role(): Role {
  return currentRole;
}

/** Where the world file is: $OL_TEST_WORLD, else next to the first workspace folder. */
export function worldFile(): string {
  const fromEnv = process.env[WORLD_ENV];
  if (fromEnv && fs.existsSync(fromEnv)) return fromEnv;
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder?.uri.scheme === 'file') {
    const candidate = path.join(path.dirname(folder.uri.fsPath), WORLD_FILE);
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error(
    `No test world: ${WORLD_ENV} is ${fromEnv ? `"${fromEnv}" (missing)` : 'unset'} and no ${WORLD_FILE} sits next to the workspace folder. Run the suites through out/test/vscode/harness.js or electron.js.`,
  );
}

export function world(): World {
  cachedWorld ??= JSON.parse(fs.readFileSync(worldFile(), 'utf8')) as World;
  return cachedWorld;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns something other than undefined/false, or fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= end) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
      );
    }
    await sleep(intervalMs);
  }
}

/** Waits (10 s at most) for the extension to show a message of `kind` (as its test API observed it), naming `what`. */
export function messageShown(
  api: { observed: { messages: ReadonlyArray<{ kind: string; message: string }> } },
  kind: string,
  what: string,
): Promise<{ kind: string; message: string }> {
  return waitFor(what, () => api.observed.messages.find((m) => m.kind === kind), 10_000);
}

/**
 * Waits until every window of the run reached the barrier `name` (each window calls it once with the same name).
 * With only the main window it returns at once.
 */
export async function barrier(name: string, timeoutMs = 120_000): Promise<void> {
  const w = world();
  const file = (r: Role): string => path.join(w.syncDir, `barrier-${name}.${r}`);
  fs.writeFileSync(file(currentRole), new Date().toISOString());
  await waitFor(
    `windows ${w.roles.filter((r) => !fs.existsSync(file(r))).join(', ') || '(none)'} at barrier "${name}"`,
    () => w.roles.every((r) => fs.existsSync(file(r))),
    timeoutMs,
    100,
  );
}

/** Asks the harness to act on this window's page (click, read text, run a command, screenshot). Returns its value. */
export async function ui(request: UiRequest, timeoutMs = 60_000): Promise<string | undefined> {
  const w = world();
  if (!w.ui)
    throw new Error('This run has no UI harness (the desktop launcher): UI requests need out/test/vscode/harness.js.');
  const name = uiRequestFile(currentRole, ++uiSeq);
  const tmp = path.join(w.syncDir, `${name}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(request));
  fs.renameSync(tmp, path.join(w.syncDir, name));
  const answerPath = path.join(w.syncDir, uiAnswerFile(name));
  const answer = await waitFor(
    `the harness to answer ${JSON.stringify(request)}`,
    () => (fs.existsSync(answerPath) ? (JSON.parse(fs.readFileSync(answerPath, 'utf8')) as UiAnswer) : undefined),
    timeoutMs,
    100,
  );
  if (!answer.ok) throw new Error(`UI request ${JSON.stringify(request)} failed: ${answer.error ?? 'unknown error'}`);
  return answer.value;
}

/** Activates the extension under test and returns what activate() returned. */
export async function activateExtension<T = unknown>(): Promise<T> {
  const ext = vscode.extensions.getExtension<T>(EXTENSION_ID);
  if (!ext) throw new Error(`Extension ${EXTENSION_ID} is not loaded in this window`);
  return ext.isActive ? ext.exports : await ext.activate();
}
