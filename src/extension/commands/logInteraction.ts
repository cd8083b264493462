import * as vscode from 'vscode';
import { parseLocalMoment } from '../../core/usage/time';
import { addManualEntry, listManualEntries, type ManualEntry, type ManualEntryInput } from '../../services/manual';
import type { CommandDeps } from './deps';
import { askTokens, askWhen, describe, notLogged, PRESET_TOOLS } from './manualAsk';

/** "Log an AI Interaction…": a web chat or another tool without local logs; takes the entry as an argument (scripts, tests). */
export async function logInteraction(
  { model, tree }: CommandDeps,
  given?: Partial<ManualEntryInput>,
): Promise<ManualEntry | undefined> {
  const ledger = await model.get();
  if (!ledger) return undefined;
  let input: ManualEntryInput;
  if (given && typeof given === 'object' && typeof given.tool === 'string') {
    input = { at: Date.now(), model: '', ...given, tool: given.tool };
  } else {
    const recent = [...new Set(listManualEntries(ledger.database).map((e) => e.tool))];
    const tools = [...recent, ...PRESET_TOOLS.filter((t) => !recent.includes(t))];
    const picked = await vscode.window.showQuickPick([...tools.map((t) => ({ label: t })), { label: 'Other…' }], {
      title: 'Log an AI interaction: which tool?',
    });
    if (!picked) return undefined;
    const tool =
      picked.label === 'Other…'
        ? await vscode.window.showInputBox({ title: 'Tool name', prompt: 'For example "Mistral Le Chat"' })
        : picked.label;
    if (!tool?.trim()) return undefined;
    const lastModel = listManualEntries(ledger.database).find((e) => e.tool === tool)?.model ?? 'gpt-4o';
    const modelName = await vscode.window.showInputBox({
      title: 'Model',
      value: lastModel,
      prompt: 'As the price table names it, e.g. gpt-4o, claude-sonnet-4-5 (unknown models are left unpriced)',
    });
    if (!modelName?.trim()) return undefined;
    const tokens = await askTokens();
    if (!tokens) return undefined;
    const task = await vscode.window.showInputBox({
      title: 'Task (optional)',
      prompt: 'A task key such as PAY-7 or #123; leave empty for none',
    });
    if (task === undefined) return undefined;
    const folders = vscode.workspace.workspaceFolders ?? [];
    let repo: string | null = null;
    if (folders.length > 0) {
      const pick = await vscode.window.showQuickPick(
        [
          ...folders.map((f) => ({ label: f.name, description: f.uri.fsPath, value: f.uri.fsPath as string | null })),
          { label: 'No repository', description: '', value: null },
        ],
        { title: 'Which repository was it for? (used to link it to commits)' },
      );
      if (!pick) return undefined;
      repo = pick.value;
    }
    const when = await askWhen(model.currentSettings.timeZone);
    if (when === undefined) return undefined;
    input = {
      tool,
      model: modelName,
      ...tokens,
      task: task || null,
      repo,
      at: when.trim() === 'now' ? Date.now() : (parseLocalMoment(model.currentSettings.timeZone, when) ?? Date.now()),
    };
  }
  try {
    const e = await addManualEntry(ledger, input);
    model.refreshFromDisk();
    tree.refreshNow();
    void vscode.window.showInformationMessage(`Logged ${describe(e)}.`);
    return e;
  } catch (e) {
    return notLogged(e);
  }
}
