import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import {
  DEFAULT_QUERY,
  parseViewMessage,
  SIDEBAR_PROTOCOL,
  type HostMessage,
  type SidebarQuery,
  type SidebarSnapshot,
} from '../core/sidebar/protocol';
import type { Ledger } from '../services/ledger';
import { sidebarSnapshot, type SnapshotBody } from '../services/sidebar';
import type { LedgerModel } from './ledgerModel';
import type { Notifier } from './notifier';
import { sidebarAction, type ActionResult } from './sidebarActions';
import type { LinkScheduler } from './linkScheduler';

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
  return randomBytes(18)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '');
}

/** The same query however its keys are ordered (custom dates only matter for a custom period). */
function queryKey(q: SidebarQuery): string {
  return [q.period, q.period === 'custom' ? `${q.since ?? ''}..${q.until ?? ''}` : '', q.scope, q.decisions].join('|');
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
  private otelProblem: string | undefined;
  private sizes = new Map<number, { computeMs: number; bytes: number }>();
  /** A snapshot computed while the page loads, for the query it last asked for: its ready is answered at once. */
  private prepared: { query: string; version: number; at: number; body: SnapshotBody } | undefined;
  private readonly subscription: vscode.Disposable;
  private readonly renderedEmitter = new vscode.EventEmitter<RenderedInfo>();
  private readonly sentEmitter = new vscode.EventEmitter<SidebarSnapshot>();
  private readonly readyEmitter = new vscode.EventEmitter<void>();
  private readonly actedEmitter = new vscode.EventEmitter<ActionResult>();
  /** Fires when the page painted a snapshot (the extension's test API records it; the first-paint benchmark reads that). */
  readonly onDidRender = this.renderedEmitter.event;
  /** Fires with each snapshot posted to the page. */
  readonly onDidSend = this.sentEmitter.event;
  /** Fires when a page said ready (a live update must not reload the page). */
  readonly onDidReady = this.readyEmitter.event;
  /** Fires with the result of each action the page asked for. */
  readonly onDidAct = this.actedEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly model: LedgerModel,
    private readonly linker: LinkScheduler,
    private readonly notifier: Notifier,
  ) {
    this.subscription = model.onDidChange(() => this.schedule());
  }

  /**
   * The OpenTelemetry receiver of this window changed state (started, stopped, failed to start: otelHost.ts): its line
   * in data health is painted again now, whether or not the ledger changed. `problem`: why it is on but not listening.
   */
  otelChanged(problem: string | undefined): void {
    this.otelProblem = problem;
    this.schedule(0);
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
      localResourceRoots: [
        vscode.Uri.joinPath(this.extensionUri, 'dist'),
        vscode.Uri.joinPath(this.extensionUri, 'media'),
      ],
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
      await this.post({
        type: 'host/result',
        ok: false,
        message: 'The ledger could not be opened: see the Outcome Ledger output.',
      });
      return undefined;
    }
    let snapshot: SidebarSnapshot;
    try {
      const p = this.prepared;
      this.prepared = undefined;
      const fresh = p && p.query === queryKey(this.query) && p.version === ledger.version && Date.now() - p.at < 10_000;
      snapshot = { ...(fresh ? p.body : this.compute(ledger)), seq: ++this.seq };
    } catch (e) {
      this.notifier.error(
        'sidebar',
        `The Outcome Ledger view could not compute its figures: ${(e as Error).message}`,
        undefined,
        e,
      );
      return undefined;
    }
    if (this.otelProblem) snapshot.health.otelProblem = this.otelProblem;
    if (this.linker.gitMissing)
      snapshot.health.linking.note =
        'git was not found: sessions cannot be linked to commits. Install git to see outcomes.';
    const message: HostMessage = { type: 'host/snapshot', snapshot };
    this.sizes.set(snapshot.seq, { computeMs: snapshot.computeMs, bytes: JSON.stringify(message).length });
    if (this.sizes.size > 20) this.sizes.delete(Math.min(...this.sizes.keys()));
    this.sentEmitter.fire(snapshot);
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
          this.prepared = {
            query: queryKey(this.query),
            version: ledger.version,
            at: Date.now(),
            body: this.compute(ledger),
          };
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
        this.readyEmitter.fire();
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
          ...(m.firstPaintMs !== undefined
            ? { firstPaintMs: m.firstPaintMs, documentMs: m.documentMs, readyMs: m.readyMs, receivedMs: m.receivedMs }
            : {}),
          ...size,
        };
        if (m.firstPaintMs !== undefined) {
          this.notifier.info(
            `sidebar first paint ${m.firstPaintMs.toFixed(0)} ms (document in at ${m.documentMs?.toFixed(0)} ms, ready at ${m.readyMs?.toFixed(0)} ms, snapshot in at ${m.receivedMs?.toFixed(0)} ms, computed in ${size.computeMs} ms, ${size.bytes} bytes, render ${m.renderMs.toFixed(1)} ms)`,
          );
        }
        // Linking can wait until the figures are on screen.
        this.linker.afterPaint();
        this.renderedEmitter.fire(info);
        return;
      }
      default: {
        const result = await sidebarAction(this.model, m);
        if (!result) return;
        this.actedEmitter.fire(result);
        await this.post({ type: 'host/result', ...result });
      }
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.viewSubs) d.dispose();
    this.subscription.dispose();
    for (const e of [this.renderedEmitter, this.sentEmitter, this.readyEmitter, this.actedEmitter]) e.dispose();
  }
}
