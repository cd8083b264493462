import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LinkState } from '../core/outcomes/linking';
import { DEFAULT_QUERY, parseViewMessage, SIDEBAR_PROTOCOL, type HostMessage, type SidebarQuery, type SidebarSnapshot, type ViewMessage } from '../core/sidebar/protocol';
import { decide } from '../services/decisions';
import { linksOf, resolveSession } from '../services/queries';
import { sidebarSnapshot, type SnapshotBody } from '../services/sidebar';
import type { Ledger } from '../store/ledger';
import { loadRepoPaths } from '../store/outcomes';
import { COMMANDS, EXTENSION_ID } from './commands';
import type { LedgerModel } from './ledgerModel';
import type { Notifier } from './notifier';
import { openCommit } from './sidebarCommits';
import type { LinkScheduler } from './sidebarLinking';

/** Coalesces a burst of ledger changes (an import and the link run after it) into one snapshot. */
const LIVE_DEBOUNCE_MS = 80;

export interface RenderedInfo {
  seq: number;
  renderMs: number;
  /** From the page's load to the end of its first painted snapshot (only on the first render of a page). */
  firstPaintMs?: number;
  /** Page times of its document's arrival, its ready message and the first snapshot's arrival (first render only). */
  documentMs?: number;
  readyMs?: number;
  receivedMs?: number;
  /** The snapshot that was painted: its host compute time and size. */
  computeMs: number;
  bytes: number;
}

function nonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/** The same query however its keys are ordered (custom dates only matter for a custom period). */
function queryKey(q: SidebarQuery): string {
  return [q.period, q.period === 'custom' ? `${q.since ?? ''}..${q.until ?? ''}` : '', q.scope, q.decisions].join('|');
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * The sidebar's host side: a WebviewViewProvider that serves the view's page (strict CSP, nonce'd script from
 * dist/, styles from media/), validates every message from it, and answers the ready handshake and every ledger change
 * with a complete snapshot computed by services/sidebar.ts. Actions (confirm, reject, relink, label, open a commit or
 * a log) go through the same services and commands as the CLI and the tree; their effect comes back as the next
 * snapshot, through LedgerModel's single change event.
 */
export class SidebarView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private viewSubs: vscode.Disposable[] = [];
  /** The page said `view/ready` and has not been torn down since (hidden views lose their page). */
  private ready = false;
  private query: SidebarQuery = DEFAULT_QUERY;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private sizes = new Map<number, { computeMs: number; bytes: number }>();
  /** A snapshot computed while the page loads, for the query it last asked for: its ready is answered at once. */
  private prepared: { query: string; version: number; at: number; body: SnapshotBody } | undefined;
  private readonly subscription: vscode.Disposable;
  private readonly renderedEmitter = new vscode.EventEmitter<RenderedInfo>();
  /** Fires when the page painted a snapshot (tests and the first-paint benchmark wait on it). */
  readonly onDidRender = this.renderedEmitter.event;
  /** The last snapshot sent, and what the page reported painting. */
  last: SidebarSnapshot | undefined;
  lastRendered: RenderedInfo | undefined;
  firstPaint: RenderedInfo | undefined;
  /** Results of actions, newest last (for tests). */
  readonly results: Array<{ ok: boolean; message: string }> = [];
  /** How many times a page said ready: a live update must not reload the page (tests compare it). */
  readyCount = 0;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: LedgerModel,
    private readonly linker: LinkScheduler,
    private readonly notifier: Notifier,
  ) {
    this.subscription = model.onDidChange(() => this.schedule());
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    for (const d of this.viewSubs) d.dispose();
    this.view = view;
    this.ready = false;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    view.webview.html = this.html(view.webview);
    this.prepare();
    this.viewSubs = [
      view.webview.onDidReceiveMessage((m: unknown) => void this.onMessage(m)),
      view.onDidChangeVisibility(() => {
        // A hidden view loses its page (no retainContextWhenHidden): it says ready again when shown.
        if (!view.visible) this.ready = false;
        else this.prepare();
        this.linker.setActive(view.visible);
      }),
      view.onDidDispose(() => {
        this.view = undefined;
        this.ready = false;
        this.linker.setActive(false);
      }),
    ];
    this.linker.setActive(view.visible);
  }

  private html(webview: vscode.Webview): string {
    const n = nonce();
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'media', 'sidebar.css'));
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${n}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>Value per token</title>
</head>
<body>
<main id="app" aria-busy="true"><p class="loading">Loading the ledger…</p></main>
<div id="live" class="sr-only" role="status" aria-live="polite" aria-atomic="true"></div>
<script nonce="${n}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  /** A snapshot soon: debounced, and only for a page that is there to paint it. */
  schedule(delay = LIVE_DEBOUNCE_MS): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sendSnapshot();
    }, delay);
  }

  /** Computes and posts a complete snapshot for the current query; returns it (undefined when there is no page). */
  async sendSnapshot(): Promise<SidebarSnapshot | undefined> {
    const view = this.view;
    if (!view || !this.ready) return undefined;
    const ledger = await this.model.get();
    if (!ledger) {
      await this.post({ type: 'host/result', ok: false, message: 'The ledger could not be opened: see the Outcome Ledger output.' });
      return undefined;
    }
    let snapshot: SidebarSnapshot;
    try {
      const p = this.prepared;
      this.prepared = undefined;
      const fresh = p && p.query === queryKey(this.query) && p.version === ledger.version && Date.now() - p.at < 10_000;
      snapshot = { ...(fresh ? p.body : this.compute(ledger)), seq: ++this.seq };
    } catch (e) {
      this.notifier.error('sidebar', `The Outcome Ledger view could not compute its figures: ${(e as Error).message}`, undefined, e);
      return undefined;
    }
    if (this.linker.gitMissing) snapshot.health.linking.note = 'git was not found: sessions cannot be linked to commits. Install git to see outcomes.';
    const message: HostMessage = { type: 'host/snapshot', snapshot };
    this.sizes.set(snapshot.seq, { computeMs: snapshot.computeMs, bytes: JSON.stringify(message).length });
    if (this.sizes.size > 20) this.sizes.delete(Math.min(...this.sizes.keys()));
    this.last = snapshot;
    await this.post(message);
    return snapshot;
  }

  private compute(ledger: Ledger): SnapshotBody {
    const s = this.model.currentSettings;
    return sidebarSnapshot(ledger.database, {
      timeZone: s.timeZone,
      query: this.query,
      threshold: s.linkThreshold,
      identities: s.identities,
      plan: s.plan === undefined ? ledger.plan : s.plan,
      health: { ledgerFile: ledger.paths.file, env: process.env, extra: s.extra, disabled: s.disabled },
    });
  }

  /**
   * While the page loads (tens of milliseconds in which the host waits anyway), compute the snapshot its ready will
   * most likely ask for: the last query. A different query, or a ledger changed meanwhile, is computed afresh.
   */
  private prepare(): void {
    setTimeout(() => {
      if (!this.view?.visible || this.ready) return;
      void this.model.get().then((ledger) => {
        if (!ledger || this.ready) return;
        try {
          this.prepared = { query: queryKey(this.query), version: ledger.version, at: Date.now(), body: this.compute(ledger) };
        } catch {
          this.prepared = undefined; // sendSnapshot computes it again and reports what went wrong
        }
      });
    }, 0);
  }

  private post(message: HostMessage): Thenable<boolean> {
    return this.view?.webview.postMessage(message) ?? Promise.resolve(false);
  }

  private async onMessage(raw: unknown): Promise<void> {
    const m = parseViewMessage(raw);
    if (!m) {
      // The page is ours, so this is a bug or something injected: never act on it.
      this.notifier.info(`ignored a malformed message from the sidebar: ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    switch (m.type) {
      case 'view/ready':
        if (m.protocol !== SIDEBAR_PROTOCOL) {
          // A page from another build (a reload raced an update): serve the current page.
          if (this.view) this.view.webview.html = this.html(this.view.webview);
          return;
        }
        this.ready = true;
        this.readyCount++;
        this.query = m.query;
        await this.sendSnapshot();
        return;
      case 'view/query':
        this.query = m.query;
        await this.sendSnapshot();
        return;
      case 'view/rendered': {
        const size = this.sizes.get(m.seq) ?? { computeMs: 0, bytes: 0 };
        const info: RenderedInfo = {
          seq: m.seq,
          renderMs: m.renderMs,
          ...(m.firstPaintMs !== undefined ? { firstPaintMs: m.firstPaintMs, documentMs: m.documentMs, readyMs: m.readyMs, receivedMs: m.receivedMs } : {}),
          ...size,
        };
        this.lastRendered = info;
        if (m.firstPaintMs !== undefined) {
          this.firstPaint = info;
          this.notifier.info(`sidebar first paint ${m.firstPaintMs.toFixed(0)} ms (document in at ${m.documentMs?.toFixed(0)} ms, ready at ${m.readyMs?.toFixed(0)} ms, snapshot in at ${m.receivedMs?.toFixed(0)} ms, computed in ${size.computeMs} ms, ${size.bytes} bytes, render ${m.renderMs.toFixed(1)} ms)`);
        }
        // Linking can wait until the figures are on screen.
        this.linker.afterPaint();
        this.renderedEmitter.fire(info);
        return;
      }
      default:
        await this.act(m);
    }
  }

  /** The user's actions: each ends with a result for the live region; failures never escape into the host. */
  private async act(m: Exclude<ViewMessage, { type: 'view/ready' | 'view/query' | 'view/rendered' }>): Promise<void> {
    let result: { ok: boolean; message: string } | undefined;
    try {
      switch (m.type) {
        case 'link/confirm':
        case 'link/reject':
          result = await this.decide(m.sessionId, m.sha, m.type === 'link/confirm' ? 'confirmed' : 'rejected');
          break;
        case 'link/relink':
          result = await this.relink(m.sessionId);
          break;
        case 'session/label':
          await vscode.commands.executeCommand(COMMANDS.labelSession, m.sessionId, m.label);
          result = { ok: true, message: m.label === 'none' ? 'Label removed.' : `Labelled ${m.label}: its tokens still count as tokens without an outcome.` };
          break;
        case 'session/open':
          result = await this.openLog(m.sessionId);
          break;
        case 'commit/open':
          result = await this.openCommit(m.repo, m.sha);
          break;
        case 'command/run':
          result = await this.runCommand(m.command);
          break;
      }
    } catch (e) {
      result = { ok: false, message: (e as Error).message };
    }
    if (!result) return;
    this.results.push(result);
    await this.post({ type: 'host/result', ...result });
  }

  private async decide(sessionId: string, sha: string, state: LinkState): Promise<{ ok: boolean; message: string }> {
    const ledger = await this.model.get();
    if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
    const d = await decide(ledger, sessionId, sha, state);
    this.model.refreshFromDisk();
    return {
      ok: true,
      message: state === 'confirmed'
        ? `Confirmed: ${short(d.sha)} “${d.subject}” counts as an outcome of this session.`
        : `Rejected: ${short(d.sha)} “${d.subject}” will never count for this session.`,
    };
  }

  /** "This session produced another commit": pick it among the commits of its repository around its time. */
  private async relink(sessionId: string): Promise<{ ok: boolean; message: string } | undefined> {
    const ledger = await this.model.get();
    if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
    const db = ledger.database;
    const s = resolveSession(db, sessionId);
    const row = db.exec('SELECT s.repo, min(u.first_ts), max(u.last_ts) FROM sessions s LEFT JOIN usage_rollup u ON u.session_ref = s.id WHERE s.id = ? GROUP BY s.id', [s.ref])[0]?.values[0];
    const repo = row?.[0] === null || row?.[0] === undefined ? null : String(row[0]);
    const start = Number(row?.[1] ?? 0);
    const end = Number(row?.[2] ?? 0);
    const links = linksOf(db, [s.ref], undefined, this.model.currentSettings.identities).get(s.ref) ?? [];
    const previous = links.find((l) => l.state === 'auto');
    type Item = vscode.QuickPickItem & { sha?: string };
    const items: Item[] = [];
    const repoRef = repo ? loadRepoPaths(db).get(repo)?.repoRef : undefined;
    if (repoRef !== undefined && repoRef !== null) {
      const rows = db.exec(
        'SELECT sha, subject, author_ts FROM commits WHERE repo_ref = ? AND author_ts >= ? AND author_ts <= ? ORDER BY author_ts DESC LIMIT 100',
        [repoRef, start - 86_400_000, end + 7 * 86_400_000],
      )[0]?.values ?? [];
      for (const [sha, subject, at] of rows) {
        const l = links.find((x) => x.commit === String(sha));
        items.push({
          label: `$(git-commit) ${short(String(sha))} ${String(subject)}`,
          description: new Date(Number(at)).toLocaleString(),
          detail: l ? `${Math.round(l.confidence * 100)}% · ${l.state}${l.why ? ` · ${l.why}` : ''}` : undefined,
          sha: String(sha),
        });
      }
    }
    items.push({ label: '$(edit) Enter a commit sha…', alwaysShow: true });
    const pick = await vscode.window.showQuickPick(items, {
      title: `Which commit did this session produce?${repo ? ` (${repo})` : ''}`,
      placeHolder: 'Commits of its repository from a day before the session to a week after it',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    if (!pick) return undefined;
    const sha = pick.sha ?? (await vscode.window.showInputBox({ title: 'Commit sha (at least 4 hex digits)', validateInput: (v) => (/^[0-9a-fA-F]{4,64}$/.test(v.trim()) ? undefined : 'Give at least 4 hex digits of the sha') }))?.trim();
    if (!sha) return undefined;
    const confirmed = await decide(ledger, sessionId, sha, 'confirmed');
    let note = '';
    if (previous && !confirmed.sha.startsWith(previous.commit) && previous.commit !== confirmed.sha) {
      await decide(ledger, sessionId, previous.commit, 'rejected');
      note = ` (and ${short(previous.commit)} rejected)`;
    }
    this.model.refreshFromDisk();
    return { ok: true, message: `Relinked to ${short(confirmed.sha)} “${confirmed.subject}”${note}.` };
  }

  private async openLog(sessionId: string): Promise<{ ok: boolean; message: string }> {
    const ledger = await this.model.get();
    if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
    const s = resolveSession(ledger.database, sessionId);
    const p = ledger.database.exec('SELECT log_path FROM sessions WHERE id = ?', [s.ref])[0]?.values[0]?.[0];
    if (p === null || p === undefined) return { ok: false, message: 'This session has no log file on record.' };
    try {
      await vscode.window.showTextDocument(vscode.Uri.file(String(p)), { preview: true });
    } catch {
      return { ok: false, message: `The session's log ${String(p)} is gone (the tool may have deleted it).` };
    }
    return { ok: true, message: 'Opened the session log.' };
  }

  private async openCommit(repo: string, sha: string): Promise<{ ok: boolean; message: string }> {
    const ledger = await this.model.get();
    if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
    // Only a repository the ledger knows: the page never chooses where git runs.
    const known = ledger.database.exec('SELECT 1 FROM repos WHERE root = ?1 UNION SELECT 1 FROM repo_paths WHERE path = ?1 AND state = \'ok\' LIMIT 1', [repo])[0]?.values.length ?? 0;
    if (known === 0) return { ok: false, message: 'That repository is not in the ledger.' };
    const how = await openCommit(repo, sha);
    return { ok: true, message: how === 'scm' ? `Opened ${short(sha)} in the commit view.` : `Opened ${short(sha)} (git show).` };
  }

  private async runCommand(command: Extract<ViewMessage, { type: 'command/run' }>['command']): Promise<{ ok: boolean; message: string } | undefined> {
    switch (command) {
      case 'importNow':
        await vscode.commands.executeCommand(COMMANDS.importNow);
        return { ok: true, message: 'Import finished.' };
      case 'showDataHealth':
        await vscode.commands.executeCommand(COMMANDS.showDataHealth);
        return undefined;
      case 'openSettings':
        await vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID}`);
        return undefined;
      case 'openLedgerFolder':
        await vscode.commands.executeCommand(COMMANDS.openLedgerFolder);
        return undefined;
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.viewSubs) d.dispose();
    this.subscription.dispose();
    this.renderedEmitter.dispose();
  }
}
