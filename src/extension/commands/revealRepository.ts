import * as vscode from 'vscode';
import { sessionOf, type CommandDeps } from './deps';

/** "Reveal Repository" (the Sessions tree's context menu): in the Explorer when it is open here, else in a new window. */
export async function revealRepository(_deps: CommandDeps, arg?: unknown): Promise<void> {
  const repo = sessionOf(arg)?.repo;
  if (!repo) return;
  const uri = vscode.Uri.file(repo);
  if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
  else await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
}
