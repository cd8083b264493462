import * as vscode from 'vscode';
import { sessionOf, type CommandDeps } from './deps';

/** "Open Session Log" (the Sessions tree's context menu): the session's log file, as the tool wrote it. */
export async function openSessionLog(_deps: CommandDeps, arg?: unknown): Promise<void> {
  const s = sessionOf(arg);
  if (!s?.logPath) return;
  await vscode.window.showTextDocument(vscode.Uri.file(s.logPath), { preview: true });
}
