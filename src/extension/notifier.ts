import * as vscode from 'vscode';
import { CommandId } from './commands/ids';
import { lineText } from '../core/common/text';

/**
 * Errors a user can act on appear once per kind, plainly, with an action; the details go to the Output channel.
 * Nothing is thrown into the extension host.
 */
export class Notifier implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('Outcome Ledger');
  private readonly shown = new Set<string>();
  private readonly shownEmitter = new vscode.EventEmitter<{ kind: string; message: string }>();
  /** Fires with each message shown to the user (once per kind); the extension's test API records them. */
  readonly onDidShow = this.shownEmitter.event;

  info(message: string): void {
    this.output.appendLine(`[info] ${message}`);
  }

  warn(kind: string, message: string, folder?: string): void {
    this.show('warning', kind, message, folder);
  }

  /** A warning with its own button (once per kind, like every message): the button runs `command`. */
  warnWithAction(kind: string, message: string, action: { title: string; command: string }): void {
    this.show('warning', kind, message, undefined, undefined, action);
  }

  error(kind: string, message: string, folder?: string, detail?: unknown): void {
    this.show('error', kind, message, folder, detail);
  }

  private show(
    level: 'warning' | 'error',
    kind: string,
    message: string,
    folder?: string,
    detail?: unknown,
    action?: { title: string; command: string },
  ): void {
    this.output.appendLine(`[${level}] ${message}`);
    if (detail instanceof Error && detail.stack) this.output.appendLine(detail.stack);
    if (this.shown.has(kind)) return;
    this.shown.add(kind);
    this.shownEmitter.fire({ kind, message });
    const actions = [...(action ? [action.title] : []), 'Show Details', ...(folder ? ['Open Ledger Folder'] : [])];
    // A message may quote a path or a name from a log: plain text only (core/common/text.ts).
    const text = lineText(message);
    const shown =
      level === 'error'
        ? vscode.window.showErrorMessage(text, ...actions)
        : vscode.window.showWarningMessage(text, ...actions);
    void shown.then((choice) => {
      if (action && choice === action.title) void vscode.commands.executeCommand(action.command);
      else if (choice === 'Show Details') this.output.show(true);
      else if (choice === 'Open Ledger Folder') void vscode.commands.executeCommand(CommandId.openLedgerFolder);
    });
  }

  dispose(): void {
    this.output.dispose();
    this.shownEmitter.dispose();
  }
}
