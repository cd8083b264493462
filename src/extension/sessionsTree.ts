import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { fmtCredits, fmtTokens, fmtTokensMarked, fmtUSD } from '../core/usage/format';
import { lineText, mdText } from '../core/common/text';
import { standingSuffix } from '../core/outcomes/standing';
import { addDays, localDate } from '../core/usage/time';
import { SOURCE_TITLES } from '../core/usage/model';
import { listSessions, sessionDays, type SessionDay, type SessionJson } from '../services/queries';
import type { LedgerModel } from './ledgerModel';

/** How far back the tree lists sessions (the CLI's `sessions --since` reaches further). */
export const TREE_DAYS = 90;

export type SessionsNode =
  | ({ kind: 'day' } & SessionDay)
  | { kind: 'session'; session: SessionJson }
  | { kind: 'group'; session: SessionJson; group: 'models' | 'files' }
  | { kind: 'model'; name: string }
  | { kind: 'file'; session: SessionJson; file: string };

function sessionTitle(s: SessionJson): string {
  const where =
    s.branch ?? s.manual?.task ?? (s.repo ? path.basename(s.repo) : s.cwd ? path.basename(s.cwd) : 'no folder');
  // Names from logs are shown as text: no control or bidi character reaches the tree (core/common/text.ts).
  return lineText(`${s.manual ? s.manual.tool : SOURCE_TITLES[s.source]} · ${where}`);
}

function sessionTooltip(s: SessionJson): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${mdText(sessionTitle(s))}** — ${s.status}\n\n`);
  md.appendMarkdown(`${s.start.replace('T', ' ').slice(0, 16)} → ${s.end.replace('T', ' ').slice(0, 16)} UTC\n\n`);
  md.appendMarkdown(
    `${fmtTokens(s.tokens.total)} tokens (${fmtTokens(s.tokens.input)} input, ${fmtTokens(s.tokens.output)} output, `,
  );
  md.appendMarkdown(
    `${fmtTokens(s.tokens.cacheRead)} cache read, ${fmtTokens(s.tokens.cacheWrite)} cache write) · est. ${fmtUSD(s.costUSD)}\n\n`,
  );
  if (s.credits !== undefined)
    md.appendMarkdown(
      `${fmtCredits(s.credits)} credits metered by the tool (priced at its documented price per credit; never counted as tokens).\n\n`,
    );
  if (s.tokenAccuracy !== 'exact') {
    md.appendMarkdown(
      `~ ${s.tokenAccuracy === 'estimated' ? 'All' : `${fmtTokens(s.estimatedTokens)}`} of these tokens were estimated (counted from text), not reported by the tool.\n\n`,
    );
  }
  if (s.manual)
    md.appendMarkdown(
      `Logged by hand${s.manual.task ? ` for ${mdText(s.manual.task)}` : ''}: edit or delete it from this item's context menu.\n\n`,
    );
  if (s.repo) md.appendMarkdown(`Repository: ${mdText(s.repo)}\n\n`);
  md.appendMarkdown(`Models: ${s.models.map(mdText).join(', ')} · ${s.editedFiles.length} files edited`);
  // Linked commits that count, and those set aside (reverted, not merged, someone else's), with why (docs/outcomes.md).
  const shown = s.links.filter((l) => l.counted || l.excluded !== null).slice(0, 8);
  if (shown.length > 0) {
    md.appendMarkdown('\n\nCommits:');
    for (const l of shown)
      md.appendText(`\n${l.counted ? '✔' : '·'} ${l.commit.slice(0, 7)} ${lineText(l.subject)}${standingSuffix(l)}`);
  }
  return md;
}

/** The native Sessions view: days → sessions (tool, branch, tokens, cost, status) → models and edited files. */
export class SessionsTree implements vscode.TreeDataProvider<SessionsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SessionsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private days: SessionsNode[] | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly model: LedgerModel) {
    this.subscription = model.onDidChange(() => {
      this.days = undefined;
      this.changed.fire(undefined);
    });
  }

  /** Drops the cached days and redraws (after a change made in this window). */
  refreshNow(): void {
    this.days = undefined;
    this.changed.fire(undefined);
  }

  async getChildren(node?: SessionsNode): Promise<SessionsNode[]> {
    if (!node) return this.loadDays();
    switch (node.kind) {
      case 'day':
        return this.sessionsOfDay(node.date);
      case 'session': {
        const out: SessionsNode[] = [{ kind: 'group', session: node.session, group: 'models' }];
        if (node.session.editedFiles.length > 0) out.push({ kind: 'group', session: node.session, group: 'files' });
        return out;
      }
      case 'group':
        return node.group === 'models'
          ? node.session.models.map((name) => ({ kind: 'model', name }))
          : node.session.editedFiles.map((file) => ({ kind: 'file', session: node.session, file }));
      default:
        return [];
    }
  }

  /**
   * The days of the last TREE_DAYS with their sessions' count and sums, from the per-session totals (sessionDays): a
   * heavy user's 90 days are ~12,000 sessions, which as session objects cost the extension host ~90 MB to build. A
   * day's sessions are read when it is expanded (sessionsOfDay).
   */
  private async loadDays(): Promise<SessionsNode[]> {
    if (this.days) return this.days;
    const ledger = await this.model.get();
    if (!ledger) return [];
    const tz = this.model.currentSettings.timeZone;
    const today = localDate(tz, Date.now());
    this.days = sessionDays(ledger.database, { timeZone: tz, since: addDays(today, -TREE_DAYS) }).map((d) => ({
      kind: 'day',
      ...d,
    }));
    return this.days;
  }

  /** The sessions that started on `date` (a local day), newest first. */
  private async sessionsOfDay(date: string): Promise<SessionsNode[]> {
    const ledger = await this.model.get();
    if (!ledger) return [];
    const tz = this.model.currentSettings.timeZone;
    // Those active that day, of which the view lists under it the ones that started then (as the day's sums count).
    return listSessions(ledger.database, {
      timeZone: tz,
      since: date,
      until: date,
      identities: this.model.currentSettings.identities,
    })
      .filter((s) => localDate(tz, Date.parse(s.start)) === date)
      .sort((a, b) => b.start.localeCompare(a.start))
      .map((session) => ({ kind: 'session', session }));
  }

  getTreeItem(node: SessionsNode): vscode.TreeItem {
    switch (node.kind) {
      case 'day': {
        const item = new vscode.TreeItem(node.date, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `day:${node.date}`;
        item.description = `${node.sessions} sessions · ${fmtTokensMarked(node.tokens, node.estimated === 0 ? 'exact' : 'mixed')} tokens · ${fmtUSD(node.costUSD)}`;
        item.iconPath = new vscode.ThemeIcon('calendar');
        item.contextValue = 'day';
        const today = localDate(this.model.currentSettings.timeZone, Date.now());
        if (node.date === today) item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
        return item;
      }
      case 'session': {
        const s = node.session;
        const item = new vscode.TreeItem(sessionTitle(s), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `session:${s.id}`;
        const aside = s.links.filter((l) => l.excluded !== null && l.excluded !== 'revert').length;
        item.description = `${fmtTokensMarked(s.tokens.total, s.tokenAccuracy)} tokens${s.credits !== undefined ? ` · ${fmtCredits(s.credits)} credits` : ''} · ${fmtUSD(s.costUSD)} · ${s.status}${aside > 0 ? ` · ${aside} not counted` : ''}`;
        item.tooltip = sessionTooltip(s);
        item.iconPath = new vscode.ThemeIcon(
          s.status === 'shipped'
            ? 'pass'
            : s.status === 'open'
              ? 'circle-outline'
              : s.status === 'unlinked'
                ? 'circle-slash'
                : 'tag',
        );
        item.contextValue = s.manual
          ? s.repo
            ? 'session.repo.manual'
            : 'session.manual'
          : s.repo
            ? 'session.repo'
            : 'session';
        item.accessibilityInformation = {
          label: `${sessionTitle(s)}, ${s.tokenAccuracy === 'exact' ? '' : 'about '}${fmtTokens(s.tokens.total)} tokens${s.tokenAccuracy === 'exact' ? '' : ' (estimated)'}, ${fmtUSD(s.costUSD)} estimated, ${s.status}`,
        };
        return item;
      }
      case 'group': {
        const n = node.group === 'models' ? node.session.models.length : node.session.editedFiles.length;
        const item = new vscode.TreeItem(
          node.group === 'models' ? `Models (${n})` : `Edited files (${n})`,
          vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `${node.group}:${node.session.id}`;
        item.iconPath = new vscode.ThemeIcon(node.group === 'models' ? 'hubot' : 'files');
        return item;
      }
      case 'model': {
        const item = new vscode.TreeItem(lineText(node.name), vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('symbol-misc');
        return item;
      }
      case 'file': {
        const item = new vscode.TreeItem(lineText(node.file), vscode.TreeItemCollapsibleState.None);
        const base = node.session.repo ?? node.session.cwd;
        if (base) {
          const abs = path.join(base, node.file);
          item.resourceUri = vscode.Uri.file(abs);
          if (fs.existsSync(abs))
            item.command = { command: 'vscode.open', title: 'Open File', arguments: [vscode.Uri.file(abs)] };
        }
        return item;
      }
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
