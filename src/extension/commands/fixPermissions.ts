import * as vscode from 'vscode';
import { makeLedgerPrivate, type PermissionProblem } from '../../services/ledger';
import type { CommandDeps } from './deps';

/** "Fix Permissions" (the permissions warning's button): makes the ledger home and its keys private; says what changed. */
export function fixPermissions({ model, notifier }: CommandDeps): PermissionProblem[] {
  try {
    const { fixed, text } = makeLedgerPrivate(model.home);
    notifier.info(text);
    void vscode.window.showInformationMessage(text);
    return fixed;
  } catch (e) {
    model.report(e);
    return [];
  }
}
