import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { watchTargets } from '../services/importer';
import { NATIVE_RECURSIVE_WATCH, TreeWatch } from '../services/treeWatch';
import { workspaceDirs } from './captureWatchers';
import type { LedgerModel } from './ledgerModel';

/**
 * A second watch on the log folders: Node's own `fs.watch` (FSEvents on macOS and the Windows API recursively, one
 * handle per root; on Linux one inotify watch per folder down to where the source's new files appear, TreeWatch), asking the model for its usual debounced, incremental import when a log file changes (`.jsonl`, a
 * whole-file `.json` session, a database; for Copilot Chat only its session folders are watched; for Aider the
 * workspace folders' own `.aider.chat.history.md`, not recursively).
 *
 * Why: the sidebar promises a new interaction on screen within 2 seconds, and VS Code's watcher (LedgerModel's,
 * created through the extension API for folders outside the workspace) was seen not to report files in a folder
 * created after it started — which is exactly what Claude Code does for the first session of a project
 * (`projects/<project>/<session>.jsonl`). In code-server 4.99 / VS Code 1.99 such a session waited for the 60-second
 * rescan: reproduced with nothing but a 3-second pause between activation and the first log (the Sessions tree's
 * own live test then fails too). A double signal costs nothing: the model coalesces both into one import.
 * It complements the VS Code watchers of captureWatchers.ts (same targets, from `watchTargets`).
 */
export class NodeLogWatch implements vscode.Disposable {
  private watchers: Array<{ close(): void }> = [];
  private active = false;

  constructor(private readonly model: LedgerModel) {}

  start(): void {
    if (this.active) return;
    this.active = true;
    this.open();
  }

  /** Restarts on the current settings (sources enabled, extra paths). */
  refresh(): void {
    if (!this.active) return;
    this.close();
    this.open();
  }

  private open(): void {
    const s = this.model.currentSettings;
    for (const target of watchTargets(process.env, s.extra, s.disabled, workspaceDirs())) {
      try {
        if (!fs.statSync(target.dir).isDirectory()) continue;
        const onFile = (file: string): void => {
          if (target.accepts(file)) this.model.fileChanged(path.join(target.dir, file));
        };
        // Where Node would emulate a recursive watch (Linux: a walk of the whole tree, every file kept in memory), a
        // watch per folder down to the depth where the source's new files appear (services/treeWatch.ts).
        if (target.recursive && !NATIVE_RECURSIVE_WATCH) {
          this.watchers.push(new TreeWatch(target.dir, target.depth, onFile));
          continue;
        }
        const w = fs.watch(target.dir, { recursive: target.recursive, persistent: false }, (_event, file) => {
          if (typeof file === 'string') onFile(file);
        });
        // Out of inotify watches, or the folder removed under us: VS Code's watcher and the rescan remain.
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // a missing root (the tool is not installed): the model's rescan notices when it appears
      }
    }
  }

  private close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  dispose(): void {
    this.active = false;
    this.close();
  }
}
