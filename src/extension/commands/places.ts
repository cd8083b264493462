import * as path from 'node:path';
import * as vscode from 'vscode';
import { sessionOf } from './args';
import { CommandId, VIEW_CONTAINER } from './ids';
import type { Handlers, Shell } from './shell';

/** The commands that open a place: the ledger folder, a session's log, its repository, the view. */
export function placesCommands({ model }: Shell): Handlers<CommandId.openLedgerFolder | CommandId.openSessionLog | CommandId.revealRepository | CommandId.showView> {
  return {
    [CommandId.openLedgerFolder]: async () => {
      const home = model.home;
      if (vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined) {
        await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(home, 'ledger.sqlite')));
        return home;
      }
      // Not awaited: the command returns at once, the message stays until the user picks an action or dismisses it.
      void vscode.window.showInformationMessage(`The ledger is in ${home}`, 'Copy Path', 'Open in New Window').then(async (choice) => {
        if (choice === 'Copy Path') await vscode.env.clipboard.writeText(home);
        else if (choice === 'Open in New Window') await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(home), { forceNewWindow: true });
      });
      return home;
    },
    [CommandId.openSessionLog]: async (arg?: unknown) => {
      const s = sessionOf(arg);
      if (!s?.logPath) return;
      await vscode.window.showTextDocument(vscode.Uri.file(s.logPath), { preview: true });
    },
    [CommandId.revealRepository]: async (arg?: unknown) => {
      const repo = sessionOf(arg)?.repo;
      if (!repo) return;
      const uri = vscode.Uri.file(repo);
      if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
      else await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
    },
    [CommandId.showView]: () => vscode.commands.executeCommand(`workbench.view.extension.${VIEW_CONTAINER}`),
  };
}
