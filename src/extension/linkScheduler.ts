import * as vscode from 'vscode';
import { gitDir } from '../git/head';
import { GitMissingError } from '../git/run';
import { linkAll, type LinkSummary } from '../services/linker';
import { LockTimeoutError } from '../services/ledger';
import type { LedgerModel } from './ledgerModel';
import type { Notifier } from './notifier';

/** After the view appears, linking waits for its first paint (the view calls `afterPaint`), or this long at most. */
const FIRST_RUN_MS = 2_000;
/** After a ledger change (an import): let a burst of writes settle. */
const AFTER_CHANGE_MS = 250;
/** After a commit, branch move or reflog write in a watched repository. */
const AFTER_GIT_MS = 150;
const RETRY_MS = 2_000;
/** Watchers on git dirs are cheap but not free: the repositories with sessions, up to this many. */
const MAX_WATCHED_REPOS = 20;

/**
 * Keeps session → commit links current while the sidebar is visible (its outcome figures are made of them): runs the
 * incremental linker after the ledger changes and when a repository the sessions worked in moves (a commit, a
 * rebase, a merge). The linker reads git outside the ledger lock and writes only when something moved, so a run with
 * nothing new costs one `git for-each-ref` per repository and saves nothing. Its own save is not a reason to run
 * again. While the view is hidden nothing runs.
 */
export class LinkScheduler implements vscode.Disposable {
  private active = false;
  /** Visible, and its first paint has not happened yet. */
  private firstPending = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** The ledger version our own last link run left: its change event needs no new run. */
  private ownVersion = -1;
  private readonly watchers = new Map<string, vscode.Disposable>();
  private readonly subscription: vscode.Disposable;
  private readonly linked = new vscode.EventEmitter<LinkSummary>();
  /** Fires after every completed run (tests wait on it). */
  readonly onDidLink = this.linked.event;
  gitMissing = false;

  constructor(
    private readonly model: LedgerModel,
    private readonly notifier: Notifier,
  ) {
    this.subscription = model.onDidChange(() => {
      if (!this.active) return;
      void this.model.get().then((l) => {
        if (l && l.version !== this.ownVersion) this.schedule(AFTER_CHANGE_MS);
      });
    });
  }

  setActive(on: boolean): void {
    if (on === this.active) return;
    this.active = on;
    this.firstPending = on;
    if (on) this.schedule(FIRST_RUN_MS);
    else if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The view painted: link now rather than at the fallback time (its first paint never waits for git). */
  afterPaint(): void {
    if (this.active && this.timer && this.firstPending) this.schedule(0);
    this.firstPending = false;
  }

  schedule(delay: number): void {
    if (!this.active) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runNow();
    }, delay);
  }

  /** Links now (or right after a run in progress); resolves when done. */
  runNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    });
    return this.running;
  }

  private async run(): Promise<void> {
    const ledger = await this.model.get();
    if (!ledger) return;
    let summary: LinkSummary;
    try {
      summary = await linkAll(ledger, { timeoutMs: 1_500, durabilityBudgetMs: 1_000 });
    } catch (e) {
      if (e instanceof LockTimeoutError) {
        // Another window or the CLI holds the ledger: its save reloads ours, and we try again shortly.
        setTimeout(() => this.schedule(0), RETRY_MS);
        return;
      }
      this.notifier.error('linking', `Linking sessions to commits failed: ${(e as Error).message}`, undefined, e);
      return;
    }
    this.ownVersion = ledger.version;
    if (summary.gitMissing && !this.gitMissing) this.notifier.warn('git-missing', new GitMissingError().message);
    this.gitMissing = summary.gitMissing;
    this.model.refreshFromDisk();
    await this.watch(summary.repos.filter((r) => r.state === 'ok').map((r) => r.root));
    this.linked.fire(summary);
  }

  private async watch(roots: readonly string[]): Promise<void> {
    const wanted = new Set(roots.slice(0, MAX_WATCHED_REPOS));
    for (const [root, w] of this.watchers) {
      if (wanted.has(root)) continue;
      w.dispose();
      this.watchers.delete(root);
    }
    for (const root of wanted) {
      if (this.watchers.has(root)) continue;
      let dir: string | null;
      try {
        dir = await gitDir(root);
      } catch {
        dir = null;
      }
      if (!dir) continue;
      const w = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(dir), '{HEAD,logs/HEAD,refs/heads/**,packed-refs,ORIG_HEAD}'),
      );
      const onEvent = (): void => this.schedule(AFTER_GIT_MS);
      this.watchers.set(
        root,
        vscode.Disposable.from(w, w.onDidChange(onEvent), w.onDidCreate(onEvent), w.onDidDelete(onEvent)),
      );
    }
  }

  dispose(): void {
    this.active = false;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.dispose();
    this.watchers.clear();
    this.subscription.dispose();
    this.linked.dispose();
  }
}
