import * as vscode from 'vscode';
import { fmtInt } from '../core/usage/format';
import { parseLocalMoment } from '../core/usage/time';
import { addManualEntry, deleteManualEntry, editManualEntry, getManualEntry, listManualEntries, ManualEntryError, type ManualEntry, type ManualEntryInput, type ManualEntryPatch } from '../services/manual';
import { COMMANDS } from './commands';
import type { SessionsNode } from './sessionsTree';
import type { LedgerModel } from './ledgerModel';

/**
 * "Log an AI Interaction…" (web chats and other tools without local logs), and Edit / Delete Manual Entry from the
 * Sessions tree. The logic is services/manual.ts's (the CLI's `manual` command uses the same); this file only asks.
 * Each command also takes its answers as arguments (scripts and tests skip the questions).
 */

const PRESET_TOOLS = ['ChatGPT web', 'Claude.ai', 'Gemini app', 'Copilot web', 'Perplexity'];

function describe(e: ManualEntry): string {
  return `${e.tool} · ${e.model} · ${e.tokenAccuracy === 'exact' ? '' : '~'}${fmtInt(e.tokens.total)} tokens${e.tokenAccuracy === 'exact' ? '' : ' (estimated)'}`;
}

const countInput = (title: string, value = ''): Thenable<string | undefined> =>
  vscode.window.showInputBox({
    title,
    value,
    prompt: 'Whole number, as the tool showed it',
    validateInput: (v) => (/^\s*\d+\s*$/.test(v) ? undefined : 'A whole number of tokens (0 or more)'),
  });

async function askTokens(): Promise<Pick<ManualEntryInput, 'inputTokens' | 'outputTokens' | 'promptText' | 'replyText'> | undefined> {
  const how = await vscode.window.showQuickPick(
    [
      { label: 'Enter the token counts the tool showed', detail: 'Exact figures.', value: 'counts' as const },
      { label: 'Estimate from the text on the clipboard', detail: 'Copy the conversation first. The text is counted with a tokenizer, never stored; figures are marked estimated (~).', value: 'clipboard' as const },
      { label: 'Paste the text to estimate from…', detail: 'The text is counted, never stored; figures are marked estimated (~).', value: 'paste' as const },
    ],
    { title: 'Tokens' },
  );
  if (!how) return undefined;
  if (how.value === 'counts') {
    const input = await countInput('Input (prompt) tokens');
    if (input === undefined) return undefined;
    const output = await countInput('Output tokens');
    if (output === undefined) return undefined;
    return { inputTokens: Number(input), outputTokens: Number(output) };
  }
  if (how.value === 'clipboard') {
    const text = await vscode.env.clipboard.readText();
    if (!text.trim()) {
      void vscode.window.showWarningMessage('The clipboard holds no text: copy the conversation first, or enter the counts.');
      return undefined;
    }
    return { promptText: text };
  }
  const prompt = await vscode.window.showInputBox({ title: 'Paste what you sent', prompt: 'Counted, never stored.' });
  if (prompt === undefined) return undefined;
  const reply = await vscode.window.showInputBox({ title: 'Paste what you received (optional)', prompt: 'Counted as output tokens, never stored.' });
  if (reply === undefined) return undefined;
  return { promptText: prompt, replyText: reply };
}

function askWhen(tz: string, value = 'now'): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: 'When',
    value,
    prompt: '"now", YYYY-MM-DD or "YYYY-MM-DD HH:MM" (local time)',
    validateInput: (v) => (v.trim() === 'now' || parseLocalMoment(tz, v) !== undefined ? undefined : 'now, YYYY-MM-DD or YYYY-MM-DD HH:MM'),
  });
}

function entryIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as SessionsNode | undefined;
  if (node && typeof node === 'object' && node.kind === 'session' && node.session.source === 'manual') return node.session.id;
  return undefined;
}

export function registerManualCommands(model: LedgerModel, onChanged: () => void): vscode.Disposable[] {
  const tz = (): string => model.currentSettings.timeZone;
  const fail = (e: unknown): undefined => {
    if (e instanceof ManualEntryError) {
      void vscode.window.showErrorMessage(`Not logged: ${e.message}.`);
      return undefined;
    }
    throw e;
  };

  const log = async (given?: Partial<ManualEntryInput>): Promise<ManualEntry | undefined> => {
    const ledger = await model.get();
    if (!ledger) return undefined;
    let input: ManualEntryInput;
    if (given && typeof given === 'object' && typeof given.tool === 'string') {
      input = { at: Date.now(), model: '', ...given, tool: given.tool };
    } else {
      const recent = [...new Set(listManualEntries(ledger.database).map((e) => e.tool))];
      const tools = [...recent, ...PRESET_TOOLS.filter((t) => !recent.includes(t))];
      const picked = await vscode.window.showQuickPick([...tools.map((t) => ({ label: t })), { label: 'Other…' }], { title: 'Log an AI interaction: which tool?' });
      if (!picked) return undefined;
      const tool = picked.label === 'Other…' ? await vscode.window.showInputBox({ title: 'Tool name', prompt: 'For example "Mistral Le Chat"' }) : picked.label;
      if (!tool?.trim()) return undefined;
      const lastModel = listManualEntries(ledger.database).find((e) => e.tool === tool)?.model ?? 'gpt-4o';
      const modelName = await vscode.window.showInputBox({ title: 'Model', value: lastModel, prompt: 'As the price table names it, e.g. gpt-4o, claude-sonnet-4-5 (unknown models are left unpriced)' });
      if (!modelName?.trim()) return undefined;
      const tokens = await askTokens();
      if (!tokens) return undefined;
      const task = await vscode.window.showInputBox({ title: 'Task (optional)', prompt: 'A task key such as PAY-7 or #123; leave empty for none' });
      if (task === undefined) return undefined;
      const folders = vscode.workspace.workspaceFolders ?? [];
      let repo: string | null = null;
      if (folders.length > 0) {
        const pick = await vscode.window.showQuickPick(
          [...folders.map((f) => ({ label: f.name, description: f.uri.fsPath, value: f.uri.fsPath as string | null })), { label: 'No repository', description: '', value: null }],
          { title: 'Which repository was it for? (used to link it to commits)' },
        );
        if (!pick) return undefined;
        repo = pick.value;
      }
      const when = await askWhen(tz());
      if (when === undefined) return undefined;
      input = { tool, model: modelName, ...tokens, task: task || null, repo, at: when.trim() === 'now' ? Date.now() : parseLocalMoment(tz(), when) ?? Date.now() };
    }
    try {
      const e = await addManualEntry(ledger, input);
      model.refreshFromDisk();
      onChanged();
      void vscode.window.showInformationMessage(`Logged ${describe(e)}.`);
      return e;
    } catch (e) {
      return fail(e);
    }
  };

  const edit = async (arg?: unknown, patchArg?: ManualEntryPatch): Promise<ManualEntry | undefined> => {
    const ledger = await model.get();
    if (!ledger) return undefined;
    const id = entryIdOf(arg);
    if (!id) return undefined;
    let patch: ManualEntryPatch;
    if (patchArg && typeof patchArg === 'object') patch = patchArg;
    else {
      const current = getManualEntry(ledger.database, id);
      const field = await vscode.window.showQuickPick(
        [
          { label: 'Tool', description: current.tool, value: 'tool' as const },
          { label: 'Model', description: current.model, value: 'model' as const },
          { label: 'Tokens', description: `${fmtInt(current.tokens.total)}${current.tokenAccuracy === 'exact' ? '' : ' (estimated)'}`, value: 'tokens' as const },
          { label: 'Task', description: current.task ?? 'none', value: 'task' as const },
          { label: 'When', description: current.at.slice(0, 16).replace('T', ' ') + ' UTC', value: 'at' as const },
        ],
        { title: `Edit ${describe(current)}: what to change?` },
      );
      if (!field) return undefined;
      patch = {};
      if (field.value === 'tokens') {
        const t = await askTokens();
        if (!t) return undefined;
        patch = t;
      } else if (field.value === 'at') {
        const when = await askWhen(tz(), '');
        if (when === undefined) return undefined;
        patch.at = when.trim() === 'now' ? Date.now() : parseLocalMoment(tz(), when);
      } else {
        const v = await vscode.window.showInputBox({ title: field.label, value: field.value === 'task' ? current.task ?? '' : current[field.value] });
        if (v === undefined) return undefined;
        if (field.value === 'task') patch.task = v.trim() ? v : null;
        else patch[field.value] = v;
      }
    }
    try {
      const e = await editManualEntry(ledger, id, patch);
      model.refreshFromDisk();
      onChanged();
      return e;
    } catch (e) {
      return fail(e);
    }
  };

  const remove = async (arg?: unknown, options?: { confirm?: boolean }): Promise<string | undefined> => {
    const ledger = await model.get();
    if (!ledger) return undefined;
    const id = entryIdOf(arg);
    if (!id) return undefined;
    if (options?.confirm !== false) {
      const e = getManualEntry(ledger.database, id);
      const ok = await vscode.window.showWarningMessage(`Delete the manual entry ${describe(e)}?`, { modal: true }, 'Delete');
      if (ok !== 'Delete') return undefined;
    }
    try {
      const gone = await deleteManualEntry(ledger, id);
      model.refreshFromDisk();
      onChanged();
      return gone;
    } catch (e) {
      return fail(e);
    }
  };

  return [
    vscode.commands.registerCommand(COMMANDS.logInteraction, log),
    vscode.commands.registerCommand(COMMANDS.editManualEntry, edit),
    vscode.commands.registerCommand(COMMANDS.deleteManualEntry, remove),
  ];
}
