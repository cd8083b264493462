import * as vscode from 'vscode';
import {
  OtelConfigError,
  OtelPortBusyError,
  otelForwardBase,
  otelPort,
  OTEL_DEFAULT_PORT,
  startOtelReceiver,
  type OtelReceiver,
} from '../services/otel';
import type { LedgerModel } from './ledgerModel';
import type { Notifier } from './notifier';

interface OtelSettings {
  enabled: boolean;
  port: unknown;
  forwardUrl: string;
}

/**
 * The settings of the receiver, from the user's own settings only (`"scope": "application"`, and the global value
 * read here): a workspace can neither open a port nor send telemetry to a collector of its choosing.
 */
function otelSettings(): OtelSettings {
  const c = vscode.workspace.getConfiguration('outcomeLedger');
  const user = <T>(key: string, fallback: T): T => c.inspect<T>(key)?.globalValue ?? fallback;
  return {
    enabled: user<boolean>('otel.enabled', false) === true,
    port: user<unknown>('otel.port', OTEL_DEFAULT_PORT),
    forwardUrl: String(user<string>('otel.forwardUrl', '') ?? '').trim(),
  };
}

/**
 * The local OpenTelemetry receiver (services/otel.ts) of this window, when `outcomeLedger.otel.enabled` is on: started
 * with the window, stopped with it or when the setting goes off. One window owns the port; the others find it busy
 * and say so once, in the Output channel (the requests reach the same ledger through the window that has it).
 */
export class OtelHost implements vscode.Disposable {
  private receiver: OtelReceiver | undefined;
  private running = '';
  private queue: Promise<void> = Promise.resolve();
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** Fired each time an `apply()` has taken effect: the URL the receiver listens on, or undefined when it does not. */
  readonly onDidApply = this.changed.event;
  private failure: string | undefined;
  /** While the port is busy (or the ledger would not open): the next try, every rescan interval. */
  private retry: NodeJS.Timeout | undefined;
  private disposed = false;
  /** What onDidApply last told: it fires again only when the receiver's state changed (retries are quiet). */
  private told: string | undefined;

  /** Why the receiver is on in the settings but not listening (its port in use, a bad setting), or undefined. */
  get problem(): string | undefined {
    return this.failure;
  }

  constructor(
    private readonly model: LedgerModel,
    private readonly notifier: Notifier,
  ) {}

  /** Brings the receiver in line with the settings (and the ledger home); call at start and on every settings change. */
  apply(): void {
    this.queue = this.queue
      .then(() => this.sync())
      .catch((e: unknown) => {
        this.failure = `stopped: ${(e as Error).message}`;
        this.notifier.error('otel', `The OpenTelemetry receiver stopped: ${(e as Error).message}`, undefined, e);
      })
      .then(() => {
        const state = JSON.stringify([this.receiver?.url ?? null, this.failure ?? null]);
        if (state === this.told) return;
        this.told = state;
        this.changed.fire(this.receiver?.url);
      });
  }

  /**
   * The port was busy or the ledger would not open: try again every rescan interval (`outcomeLedger.
   * rescanIntervalSeconds`), so the window takes over the port when the window or program that held it lets go, with
   * no reload. A settings change replaces the pending try.
   */
  private retryLater(): void {
    if (this.disposed) return; // a start that finished after the window closed
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.running = '';
      this.apply();
    }, this.model.currentSettings.rescanMs);
  }

  private busyTold = false;

  private async sync(): Promise<void> {
    const s = otelSettings();
    const wanted = s.enabled ? JSON.stringify([s.port, s.forwardUrl, this.model.currentSettings.ledgerHome]) : '';
    if (wanted === this.running) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    await this.stop();
    this.failure = undefined;
    if (!s.enabled) return;
    this.running = wanted;
    let port: number;
    try {
      port = otelPort(s.port);
      if (s.forwardUrl) otelForwardBase(s.forwardUrl);
    } catch (e) {
      if (!(e instanceof OtelConfigError)) throw e;
      this.failure = `outcomeLedger.otel: ${e.message}; the receiver did not start`;
      this.notifier.warn('otel-config', `${this.failure}.`);
      return;
    }
    const ledger = await this.model.get();
    if (!ledger) {
      this.failure = 'the ledger could not be opened, so the receiver did not start (see the Outcome Ledger output)';
      this.retryLater();
      return;
    }
    try {
      this.receiver = await startOtelReceiver(ledger, {
        port,
        ...(s.forwardUrl ? { forwardUrl: s.forwardUrl } : {}),
        onRecorded: () => this.model.refreshFromDisk(),
      });
      this.notifier.info(
        `OpenTelemetry receiver listening on ${this.receiver.url}${s.forwardUrl ? `, forwarding to ${s.forwardUrl}` : ''}`,
      );
    } catch (e) {
      if (!(e instanceof OtelPortBusyError)) throw e;
      this.failure = e.message;
      // Quietly: another window (or a collector) has the port; said once in the Output channel.
      if (!this.busyTold)
        this.notifier.info(
          `${e.message}. If another Outcome Ledger window has it, its requests reach the same ledger.`,
        );
      this.busyTold = true;
      this.retryLater();
    }
  }

  private async stop(): Promise<void> {
    const r = this.receiver;
    this.receiver = undefined;
    this.running = '';
    if (r) {
      await r.close();
      this.notifier.info('OpenTelemetry receiver stopped');
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.retry) clearTimeout(this.retry);
    void this.stop();
    this.changed.dispose();
  }
}
