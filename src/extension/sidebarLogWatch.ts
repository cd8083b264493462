import * as fs from 'node:fs';
import type * as vscode from 'vscode';
import { sourceRoots } from '../services/importer';
import type { LedgerModel } from './ledgerModel';

/**
 * A second watch on the log folders while the sidebar is visible: Node's own recursive `fs.watch` (one inotify
 * instance; no polling), asking the model for its usual debounced, incremental import when a `.jsonl` changes.
 *
 * Why a second one: with the Outcome Ledger container open, VS Code's file watcher (LedgerModel's, created through
 * the extension API) was seen to miss a project folder that Claude Code creates for a new project — the session's
 * lines then waited for the 60-second rescan (code-server 4.99 / VS Code 1.99; reproduced with the sidebar's page
 * and linking switched off). The sidebar promises new interactions within 2 seconds, so while it is on screen it does
 * not rest on one watcher. A double signal costs nothing: the model coalesces them into one import.
 */
export class SidebarLogWatch implements vscode.Disposable {
  private watchers: fs.FSWatcher[] = [];
  private active = false;

  constructor(private readonly model: LedgerModel) {}

  setActive(on: boolean): void {
    if (on === this.active) return;
    this.active = on;
    if (on) this.start();
    else this.stop();
  }

  /** Restarts on the current settings (sources enabled, extra paths). */
  refresh(): void {
    if (!this.active) return;
    this.stop();
    this.start();
  }

  private start(): void {
    const s = this.model.currentSettings;
    for (const list of sourceRoots(process.env, s.extra, s.disabled).values()) {
      for (const root of list) {
        try {
          if (!fs.statSync(root).isDirectory()) continue;
          const w = fs.watch(root, { recursive: true, persistent: false }, (_event, file) => {
            if (typeof file === 'string' && file.endsWith('.jsonl')) this.model.scheduleImport();
          });
          // Out of inotify watches, a folder removed under us: VS Code's watcher and the rescan remain.
          w.on('error', () => w.close());
          this.watchers.push(w);
        } catch {
          // missing root (the tool is not installed): the model's rescan notices when it appears
        }
      }
    }
  }

  private stop(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  dispose(): void {
    this.active = false;
    this.stop();
  }
}
