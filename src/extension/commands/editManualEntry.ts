import * as vscode from 'vscode';
import { parseLocalMoment } from '../../core/usage/time';
import { editManualEntry, getManualEntry, type ManualEntry, type ManualEntryPatch } from '../../services/manual';
import { fmtInt } from '../../core/usage/format';
import type { CommandDeps } from './deps';
import { askTokens, askWhen, describe, entryIdOf, notLogged } from './manualAsk';

/** "Edit Manual Entry" (the Sessions tree): one field at a time; takes the entry id and the patch as arguments (scripts, tests). */
export async function editManualEntryCommand(
  { model, tree }: CommandDeps,
  arg?: unknown,
  patchArg?: ManualEntryPatch,
): Promise<ManualEntry | undefined> {
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
        {
          label: 'Tokens',
          description: `${fmtInt(current.tokens.total)}${current.tokenAccuracy === 'exact' ? '' : ' (estimated)'}`,
          value: 'tokens' as const,
        },
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
      const when = await askWhen(model.currentSettings.timeZone, '');
      if (when === undefined) return undefined;
      patch.at = when.trim() === 'now' ? Date.now() : parseLocalMoment(model.currentSettings.timeZone, when);
    } else {
      const v = await vscode.window.showInputBox({
        title: field.label,
        value: field.value === 'task' ? (current.task ?? '') : current[field.value],
      });
      if (v === undefined) return undefined;
      if (field.value === 'task') patch.task = v.trim() ? v : null;
      else patch[field.value] = v;
    }
  }
  try {
    const e = await editManualEntry(ledger, id, patch);
    model.refreshFromDisk();
    tree.refreshNow();
    return e;
  } catch (e) {
    return notLogged(e);
  }
}
