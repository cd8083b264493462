import * as vscode from 'vscode';
import { watchTargets } from '../services/importer';
import type { Settings } from './config';

/** The open workspace folders on disk: where tools that keep logs inside projects (Aider) are looked for and watched. */
export function workspaceDirs(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
}

/**
 * LedgerModel's file watchers: one on the ledger's own files (another window or the CLI saved) and one per source
 * folder, outside the workspace too. Watching a folder twice is a no-op, so `watchSources` can run again after an
 * import to pick up a tool installed since start.
 */
export class CaptureWatchers implements vscode.Disposable {
  private readonly watchers: vscode.Disposable[] = [];
  private readonly watchedRoots = new Set<string>();

  watchLedgerFile(ledgerHome: string, onEvent: () => void): void {
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(ledgerHome), 'ledger.{sqlite,journal}'),
    );
    this.watchers.push(w, w.onDidChange(onEvent), w.onDidCreate(onEvent));
  }

  watchSources(settings: Settings, onFile: (file: string) => void): void {
    for (const target of watchTargets(process.env, settings.extra, settings.disabled, workspaceDirs())) {
      const id = `${target.dir}\u0000${target.glob}`;
      if (this.watchedRoots.has(id)) continue;
      this.watchedRoots.add(id);
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(target.dir), target.glob),
      );
      const onEvent = (uri: vscode.Uri): void => onFile(uri.fsPath);
      this.watchers.push(w, w.onDidChange(onEvent), w.onDidCreate(onEvent));
    }
  }

  dispose(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers.length = 0;
    this.watchedRoots.clear();
  }
}
