import type * as vscode from 'vscode';
import type { Notifier } from './notifier';
import type { ActionResult } from './sidebarActions';
import type { SidebarView } from './sidebarView';

/**
 * The extension's test API: what it showed and did, recorded from the events of the production classes (which keep
 * no list for tests). Returned by activate() as `observed`; the tests inside VS Code read it.
 */
export class Observations implements vscode.Disposable {
  /** Warnings and errors shown to the user, once per kind, oldest first. */
  readonly notices: Array<{ kind: string; message: string }> = [];
  /** Results of the sidebar's actions, oldest first. */
  readonly sidebarResults: ActionResult[] = [];
  /** How many times a sidebar page said ready (a live update must not reload the page). */
  sidebarReadies = 0;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(notifier: Notifier) {
    this.subscriptions.push(notifier.onDidShow((n) => this.notices.push(n)));
  }

  watch(sidebar: SidebarView): void {
    this.subscriptions.push(
      sidebar.onDidAct((r) => this.sidebarResults.push(r)),
      sidebar.onDidBecomeReady(() => this.sidebarReadies++),
    );
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
  }
}
