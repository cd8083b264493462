import * as path from 'node:path';
import * as vscode from 'vscode';
import type { CommandDeps } from './deps';

/** "Open Ledger Folder": reveals ledger.sqlite on a desktop; elsewhere (remote, web) offers to copy the path or open it. */
export async function openLedgerFolder({ model }: CommandDeps): Promise<string> {
  const home = model.home;
  if (vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined) {
    await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(home, 'ledger.sqlite')));
    return home;
  }
  // Not awaited: the command returns at once, the message stays until the user picks an action or dismisses it.
  void vscode.window
    .showInformationMessage(`The ledger is in ${home}`, 'Copy Path', 'Open in New Window')
    .then(async (choice) => {
      if (choice === 'Copy Path') await vscode.env.clipboard.writeText(home);
      else if (choice === 'Open in New Window')
        await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(home), { forceNewWindow: true });
    });
  return home;
}
