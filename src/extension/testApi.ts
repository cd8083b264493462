import type * as vscode from 'vscode';
import type { SidebarSnapshot } from '../core/sidebar/protocol';
import type { LedgerModel } from './ledgerModel';
import type { Notifier } from './notifier';
import type { OtelHost } from './otelHost';
import type { ActionResult } from './sidebarActions';
import type { RenderedInfo, SidebarView } from './sidebarView';
import type { MeterReading, StatusMeter } from './statusMeter';

/**
 * What the tests inside VS Code observe, recorded from the production classes' events (they keep no fields for tests):
 * the sidebar's snapshots, paints, ready handshakes and action results, the meter's readings, the messages shown.
 * Part of the API activate() returns (`api.observed`).
 */
export class Observations implements vscode.Disposable {
  /** The last snapshot the sidebar sent, and what its page last reported painting. */
  snapshot: SidebarSnapshot | undefined;
  rendered: RenderedInfo | undefined;
  /** The last paint that was a page's first (its load-to-paint times). */
  firstPaint: RenderedInfo | undefined;
  /** How many times a sidebar page said ready: a live update must not reload the page. */
  readyCount = 0;
  /** Results of the sidebar's actions, newest last. */
  readonly results: ActionResult[] = [];
  /** What the status-bar meter last showed. */
  meter: MeterReading | undefined;
  /** Messages shown to the user (once per kind), oldest first. */
  readonly messages: Array<{ kind: string; message: string }> = [];
  /** The OpenTelemetry receiver: how many settings changes have taken effect, and the URL it listens on after the last. */
  otel: { applied: number; url: string | undefined } = { applied: 0, url: undefined };
  /** Full rescans, and how many of them ran in a worker thread; the same of the light ones. */
  fullRescans = { total: 0, inWorker: 0 };
  lightRescans = { total: 0, inWorker: 0 };
  private readonly subscriptions: vscode.Disposable[];

  constructor(sidebar: SidebarView, meter: StatusMeter, notifier: Notifier, otel: OtelHost, model: LedgerModel) {
    this.subscriptions = [
      sidebar.onDidSend((s) => (this.snapshot = s)),
      sidebar.onDidRender((r) => {
        this.rendered = r;
        if (r.firstPaintMs !== undefined) this.firstPaint = r;
      }),
      sidebar.onDidReady(() => this.readyCount++),
      sidebar.onDidAct((r) => this.results.push(r)),
      meter.onDidUpdate((m) => (this.meter = m)),
      notifier.onDidShow((m) => this.messages.push(m)),
      otel.onDidApply((url) => (this.otel = { applied: this.otel.applied + 1, url })),
      model.onDidRescan((r) => {
        const was = r.light ? this.lightRescans : this.fullRescans;
        const now = { total: was.total + 1, inWorker: was.inWorker + (r.inWorker ? 1 : 0) };
        if (r.light) this.lightRescans = now;
        else this.fullRescans = now;
      }),
    ];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
  }
}
