import * as vscode from 'vscode';
import { VIEW_CONTAINER } from './ids';

/** "Show Outcome Ledger" (the status-bar meter runs it): opens the view container. */
export function showView(): Thenable<unknown> {
  return vscode.commands.executeCommand(`workbench.view.extension.${VIEW_CONTAINER}`);
}
