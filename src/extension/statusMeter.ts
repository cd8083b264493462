import * as path from 'node:path';
import * as vscode from 'vscode';
import { fmtPercent, fmtTokens, fmtTokensMarked, fmtUSD } from '../core/usage/format';
import { localDate } from '../core/usage/time';
import { gitDir, headCommitTime } from '../git/head';
import { GitMissingError } from '../git/run';
import { RepoFinder } from '../git/repo';
import { usageSince } from '../services/meter';
import { report } from '../services/queries';
import { CommandId } from './commands/ids';
import type { LedgerModel } from './ledgerModel';
import type { Notifier } from './notifier';
import { mdText } from '../core/common/text';

/** What the meter shows: tokens and cost since the last commit in `repo` (sinceCommit, its time), else today's. */
export interface MeterReading {
  repo: string | null;
  sinceCommit: number | null;
  total: number;
  costUSD: number;
}

/**
 * The status-bar meter: tokens and estimated dollars since the last commit in the active repository; today's totals
 * and yield in the tooltip; a click opens the Outcome Ledger view. Updates on ledger changes, editor switches and
 * commits (a watcher on the repository's git dir).
 */
export class StatusMeter implements vscode.Disposable {
  readonly item = vscode.window.createStatusBarItem('outcomeLedger.meter', vscode.StatusBarAlignment.Left, 90);
  private readonly repos = new RepoFinder();
  private readonly disposables: vscode.Disposable[] = [];
  private headWatcher: { repo: string; watcher: vscode.Disposable } | undefined;
  private pending: NodeJS.Timeout | undefined;
  private readonly updated = new vscode.EventEmitter<MeterReading>();
  /** Fires with what the meter shows after each update (the extension's test API records it). */
  readonly onDidUpdate = this.updated.event;

  constructor(
    private readonly model: LedgerModel,
    private readonly notifier: Notifier,
  ) {
    this.item.name = 'Outcome Ledger';
    this.item.command = CommandId.showView;
    this.item.text = '$(graph-line) Outcome Ledger';
    this.item.show();
    this.disposables.push(
      this.item,
      model.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.schedule()),
    );
    this.schedule();
  }

  private activeRepo(): string | null {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc?.uri.scheme === 'file') {
      const r = this.repos.rootOf(path.dirname(doc.uri.fsPath));
      if (r) return r;
    }
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      if (f.uri.scheme !== 'file') continue;
      const r = this.repos.rootOf(f.uri.fsPath);
      if (r) return r;
    }
    return null;
  }

  schedule(delay = 150): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.update().catch((e: unknown) =>
        this.notifier.error('meter', `The status-bar meter could not update: ${(e as Error).message}`, undefined, e),
      );
    }, delay);
  }

  /** Recomputes the meter now (awaitable for tests). */
  async update(): Promise<void> {
    const ledger = await this.model.get();
    if (!ledger) {
      this.item.text = '$(warning) Outcome Ledger';
      this.item.tooltip = 'The ledger could not be opened: see the Outcome Ledger output.';
      return;
    }
    const tz = this.model.currentSettings.timeZone;
    const today = localDate(tz, Date.now());
    const todayReport = report(ledger.database, { timeZone: tz, since: today, until: today });
    const repo = this.activeRepo();
    let head: number | null = null;
    if (repo) {
      try {
        head = await headCommitTime(repo);
        await this.watchHead(repo);
      } catch (e) {
        if (e instanceof GitMissingError) this.notifier.warn('git-missing', e.message);
        else throw e;
      }
    }
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.isTrusted = { enabledCommands: [CommandId.showView] };
    const t = todayReport.totals;
    if (repo && head !== null) {
      const since = usageSince(ledger.database, repo, head);
      this.updated.fire({ repo, sinceCommit: head, total: since.total, costUSD: since.costUSD });
      const approx = since.tokenAccuracy === 'exact' ? '' : ' (partly estimated)';
      this.item.text = `$(graph-line) ${fmtTokensMarked(since.total, since.tokenAccuracy)} · ${fmtUSD(since.costUSD)}`;
      this.item.accessibilityInformation = {
        label: `Outcome Ledger: ${fmtTokens(since.total)} tokens${approx}, ${fmtUSD(since.costUSD)} estimated since the last commit`,
      };
      tooltip.appendMarkdown(
        `**Since the last commit** in ${mdText(path.basename(repo))} (${new Date(head).toLocaleString()}):\n\n`,
      );
      tooltip.appendMarkdown(
        `${fmtTokensMarked(since.total, since.tokenAccuracy)} tokens${approx} · est. ${fmtUSD(since.costUSD)} · ${since.sessions} sessions\n\n`,
      );
    } else {
      this.updated.fire({ repo, sinceCommit: null, total: t.total, costUSD: t.costUSD });
      this.item.text = `$(graph-line) ${fmtTokensMarked(t.total, t.tokenAccuracy)} · ${fmtUSD(t.costUSD)} today`;
      this.item.accessibilityInformation = {
        label: `Outcome Ledger: ${fmtTokens(t.total)} tokens${t.tokenAccuracy === 'exact' ? '' : ' (partly estimated)'}, ${fmtUSD(t.costUSD)} estimated today`,
      };
      tooltip.appendMarkdown(
        repo ? `No commits yet in \`${path.basename(repo)}\`.\n\n` : 'No git repository is active.\n\n',
      );
    }
    tooltip.appendMarkdown(
      `**Today:** ${fmtTokensMarked(t.total, t.tokenAccuracy)} tokens · est. ${fmtUSD(t.costUSD)} · yield ${fmtPercent(todayReport.outcomes.yield)}\n\n`,
    );
    tooltip.appendMarkdown(
      `Costs are list-price estimates (prices ${todayReport.pricing.version}). [Open Outcome Ledger](command:${CommandId.showView})`,
    );
    this.item.tooltip = tooltip;
  }

  /** A commit moves HEAD: watch the git dir (worktrees have their own) and update the meter. */
  private async watchHead(repo: string): Promise<void> {
    if (this.headWatcher?.repo === repo) return;
    this.headWatcher?.watcher.dispose();
    const dir = await gitDir(repo);
    if (!dir) return;
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(dir), '{HEAD,logs/HEAD,refs/heads/**}'),
    );
    const onEvent = (): void => this.schedule(300);
    const subs = vscode.Disposable.from(w, w.onDidChange(onEvent), w.onDidCreate(onEvent));
    this.headWatcher = { repo, watcher: subs };
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.headWatcher?.watcher.dispose();
    for (const d of this.disposables) d.dispose();
    this.updated.dispose();
  }
}
