import * as vscode from 'vscode';
import { deleteManualEntry, getManualEntry } from '../../services/manual';
import type { CommandDeps } from './deps';
import { describe, entryIdOf, notLogged } from './manualAsk';

/** "Delete Manual Entry" (the Sessions tree), after a modal confirmation unless `{ confirm: false }` is passed. */
export async function deleteManualEntryCommand(
  { model, tree }: CommandDeps,
  arg?: unknown,
  options?: { confirm?: boolean },
): Promise<string | undefined> {
  const ledger = await model.get();
  if (!ledger) return undefined;
  const id = entryIdOf(arg);
  if (!id) return undefined;
  if (options?.confirm !== false) {
    const e = getManualEntry(ledger.database, id);
    const ok = await vscode.window.showWarningMessage(
      `Delete the manual entry ${describe(e)}?`,
      { modal: true },
      'Delete',
    );
    if (ok !== 'Delete') return undefined;
  }
  try {
    const gone = await deleteManualEntry(ledger, id);
    model.refreshFromDisk();
    tree.refreshNow();
    return gone;
  } catch (e) {
    return notLogged(e);
  }
}
