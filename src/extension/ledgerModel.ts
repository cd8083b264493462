import * as vscode from 'vscode';
import type { SourceName } from '../core/usage/model';
import { importAll, RescanMemo, type ImportSummary } from '../services/importer';
import { rescanInWorker, RESCAN_WORKER_SCRIPT, type RescanJob } from '../services/rescanThread';
import {
  applyPriceConfig,
  DiskFaultError,
  Ledger,
  ledgerProblem,
  LockTimeoutError,
  permissionNotice,
  type PermissionProblem,
} from '../services/ledger';
import { CaptureWatchers, workspaceDirs } from './captureWatchers';
import { CommandId } from './commands/ids';
import type { Settings } from './config';
import type { Notifier } from './notifier';

/** Quiet period after the last file event before importing (Claude Code writes a reply as several lines). */
const DEBOUNCE_MS = 400;
/** A background import waits this long for another window's import, then retries later. */
const BACKGROUND_LOCK_MS = 1_500;
const RETRY_MS = 2_000;
/**
 * After this long without a capture, a journal holding at least IDLE_FOLD_BYTES is folded into the snapshot (store/
 * ledger.ts): the fold's cost (rewriting the snapshot) is paid while nothing happens, not in the middle of an agent's
 * turn, and every window or CLI run opening the ledger afterwards replays nothing.
 */
export const IDLE_FOLD_MS = 120_000;
export const IDLE_FOLD_BYTES = 64 << 10;
/**
 * The periodic rescan stats every log file at most this often; the ones in between are light (services/importer.ts
 * RescanMemo): files untouched for an hour, and folders of files untouched for two days, are taken as the last full
 * scan found them.
 */
export const FULL_RESCAN_MS = 15 * 60_000;

/**
 * The extension's one view of the shared ledger. Live capture: file watchers on every source folder (outside the
 * workspace too) and a light periodic rescan schedule a debounced, incremental import through the ledger's lock;
 * a watcher on the ledger file reloads it when another window or the CLI saved. Every change reaches the views and
 * the meter through the single `onDidChange` event.
 */
export class LedgerModel implements vscode.Disposable {
  private ledger: Ledger | undefined;
  private opening: Promise<Ledger | undefined> | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly watchers = new CaptureWatchers();
  private debounce: NodeJS.Timeout | undefined;
  private rescan: NodeJS.Timeout | undefined;
  private idleFold: NodeJS.Timeout | undefined;
  private importing: Promise<ImportSummary | undefined> | undefined;
  private again = false;
  /** Files watchers reported since the last import; a capture of only these when nothing asked for a full scan. */
  private readonly changedFiles = new Set<string>();
  private fullScan = true;
  /** The periodic rescan asked for a light scan (what the last full one learnt is in `memo`). */
  private lightDue = false;
  private memo = new RescanMemo();
  private lastFullScan = 0;
  private disposed = false;
  /** The ledger version the views last heard about. */
  private announced = -1;
  /** Why the ledger cannot be written now (a read-only or full disk): it is shown as last saved until a write works. */
  private fault: DiskFaultError | undefined;

  private readonly rescanned = new vscode.EventEmitter<{ inWorker: boolean; light: boolean }>();
  /** A rescan (full, or light) ended: in a worker thread, or in this one (no worker, or it failed). */
  readonly onDidRescan = this.rescanned.event;

  constructor(
    private settings: Settings,
    private readonly notifier: Notifier,
    /** The full rescan's worker script; false: scan in this thread (services/rescanThread.ts). */
    private readonly rescanWorker: string | false = RESCAN_WORKER_SCRIPT,
  ) {}

  get home(): string {
    return this.settings.ledgerHome;
  }

  get currentSettings(): Settings {
    return this.settings;
  }

  /** Opens the ledger on first use (loads sql.js then). Undefined when it cannot be opened (the user was told). */
  get(): Promise<Ledger | undefined> {
    if (this.ledger) return Promise.resolve(this.ledger);
    this.opening ??= Ledger.open(this.settings.ledgerHome, {
      priceAliases: this.settings.priceAliases,
      onWarning: (m) => this.notifier.warn('ledger-damaged', m, this.settings.ledgerHome),
    }).then(
      (l) => {
        this.ledger = l;
        this.announced = l.version;
        this.checkPermissions();
        return l;
      },
      (e: unknown) => {
        this.opening = undefined;
        this.report(e);
        return undefined;
      },
    );
    return this.opening;
  }

  /** Starts live capture: watchers, the periodic rescan and a first import. */
  start(): void {
    this.watchers.watchLedgerFile(this.settings.ledgerHome, () => this.refreshFromDisk());
    this.watchSources();
    this.scheduleImport(0);
    this.armRescan();
  }

  applySettings(next: Settings): void {
    const homeChanged = next.ledgerHome !== this.settings.ledgerHome;
    const aliasesChanged = JSON.stringify(next.priceAliases) !== JSON.stringify(this.settings.priceAliases);
    this.settings = next;
    // New aliases change the price table's version: the next import reprices what the ledger holds.
    if (aliasesChanged && !homeChanged && this.ledger)
      for (const p of applyPriceConfig(next.ledgerHome, next.priceAliases).problems) this.notifier.warn('prices', p);
    // Other sources, folders or ledger: the next rescans are full until one has learnt them again.
    this.memo = new RescanMemo();
    this.lastFullScan = 0;
    if (homeChanged) {
      this.ledger?.close();
      this.ledger = undefined;
      this.opening = undefined;
    }
    this.watchers.dispose();
    this.start();
    this.changed.fire();
  }

  /** A watcher saw this log file change: a capture of the changed files only (importer: `changed`). */
  fileChanged(file: string): void {
    this.changedFiles.add(file);
    // A ledger that cannot be written is not retried on every captured line: the periodic rescan tries again.
    if (this.fault) return;
    this.scheduleImport(DEBOUNCE_MS, false);
  }

  /** Why the ledger is read-only right now (a read-only or full disk), or undefined when writes work. */
  get readOnly(): DiskFaultError | undefined {
    return this.fault;
  }

  /**
   * Warns once when the ledger home, keys/ or the private key is open to other users, with a "Fix permissions" button
   * (the fixPermissions command). Runs on every open of the ledger; returns what is open.
   */
  checkPermissions(): PermissionProblem[] {
    const { problems, warning } = permissionNotice(this.settings.ledgerHome, 'choose "Fix permissions"');
    if (warning)
      this.notifier.warnWithAction('permissions', warning, {
        title: 'Fix permissions',
        command: CommandId.fixPermissions,
      });
    return problems;
  }

  scheduleImport(delay = DEBOUNCE_MS, full = true): void {
    if (full) this.fullScan = true;
    if (this.disposed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.importNow(false);
    }, delay);
  }

  /** Imports new log lines. Interactive imports wait for the lock; background ones leave it to the window holding it. */
  importNow(interactive: boolean): Promise<ImportSummary | undefined> {
    if (this.importing) {
      // Asked by the user (Import Now), it runs once the import under way ends, and answers with its own result: the
      // one under way may have started before the settings changed (another ledger home, a source turned on or off).
      if (interactive) return this.importing.then(() => this.importNow(true));
      this.again = true;
      return this.importing;
    }
    this.importing = this.runImport(interactive).finally(() => {
      this.importing = undefined;
      if (this.again && !this.disposed) {
        this.again = false;
        this.scheduleImport(0);
      }
    });
    return this.importing;
  }

  private async runImport(interactive: boolean): Promise<ImportSummary | undefined> {
    const ledger = await this.get();
    if (!ledger) return undefined;
    const s = this.settings;
    const full = interactive || this.fullScan;
    // A light rescan (once a full scan has filled the memo) also stats the files watchers reported; otherwise those
    // alone are captured.
    const light = !full && this.lightDue && this.memo.filled;
    if (light) for (const f of this.changedFiles) this.memo.unsettle(f);
    const changed = full || light || this.changedFiles.size === 0 ? undefined : [...this.changedFiles];
    this.fullScan = false;
    this.lightDue = false;
    this.changedFiles.clear();
    // What every import of this window reads with, in this thread or in the full rescan's worker.
    const common = {
      extra: s.extra,
      disabled: s.disabled,
      storePromptText: s.storePromptText,
      projectDirs: workspaceDirs(),
      timeoutMs: interactive ? 60_000 : BACKGROUND_LOCK_MS,
    };
    try {
      const inThread = (): Promise<ImportSummary> =>
        importAll(ledger, { ...(changed ? { changed } : {}), memo: this.memo, light, ...common });
      const summary = changed ? await inThread() : await this.rescanAll(ledger, common, light, inThread);
      if (!changed && !light) this.lastFullScan = Date.now();
      this.watchSources(); // a tool installed since start now has a folder to watch
      if (this.fault) {
        this.fault = undefined;
        this.notifier.info('the ledger can be written again; new log lines were imported');
      }
      this.announce();
      this.armIdleFold();
      return summary;
    } catch (e) {
      if (e instanceof DiskFaultError) {
        // Read-only (or full): keep showing the ledger as saved; what was captured meanwhile is read once it works.
        this.fault = e;
        this.fullScan = true;
      }
      if (e instanceof LockTimeoutError && !interactive) {
        // Another window (or the CLI) is importing: it will save, our ledger watcher reloads; check again shortly.
        setTimeout(() => this.scheduleImport(0), RETRY_MS);
        return undefined;
      }
      this.report(e);
      return undefined;
    }
  }

  /**
   * A rescan, full or light, runs in a worker thread (services/rescanThread.ts), so the heap it grows goes when it ends
   * instead of staying in the extension host, and the host's thread stays free meanwhile. A light one takes this
   * window's settled files there; either brings back what it learnt. The worker writes through the ledger's lock like
   * any other process; this window then reads what it wrote. If the worker cannot run or fails, the scan runs here as
   * before (a real problem then shows as it always did).
   */
  private async rescanAll(
    ledger: Ledger,
    common: Pick<RescanJob, 'extra' | 'storePromptText' | 'projectDirs' | 'timeoutMs'> & {
      disabled: ReadonlySet<SourceName>;
    },
    light: boolean,
    inThread: () => Promise<ImportSummary>,
  ): Promise<ImportSummary> {
    const here = async (): Promise<ImportSummary> => {
      const summary = await inThread();
      this.rescanned.fire({ inWorker: false, light });
      return summary;
    };
    if (this.rescanWorker === false) return here();
    const s = this.settings;
    try {
      const done = await rescanInWorker(
        {
          ...common,
          ...(light ? { settled: this.memo.settledKeys() } : {}),
          disabled: [...common.disabled],
          home: s.ledgerHome,
          priceAliases: s.priceAliases,
          settledMs: this.memo.settledMs,
          folderSettledMs: this.memo.folderSettledMs,
        },
        this.rescanWorker,
      );
      if (this.disposed) return done.summary;
      ledger.refresh();
      this.memo.adopt(done.settled);
      this.rescanned.fire({ inWorker: true, light });
      return done.summary;
    } catch (e) {
      // Said in the Output channel only: the scan in this thread that follows shows any real problem as it always did.
      this.notifier.info(
        `the ${light ? 'light' : 'full'} rescan's worker thread failed (${e instanceof Error ? e.message : String(e)}); scanning here`,
      );
      return here();
    }
  }

  /** (Re)starts the idle timer after a capture: once captures stop for IDLE_FOLD_MS, a sizeable journal is folded. */
  private armIdleFold(): void {
    if (this.idleFold) clearTimeout(this.idleFold);
    if (this.disposed) return;
    this.idleFold = setTimeout(() => {
      this.idleFold = undefined;
      void this.foldIfIdle();
    }, IDLE_FOLD_MS);
    this.idleFold.unref?.();
  }

  /** Folds the journal when no import is pending and it holds at least IDLE_FOLD_BYTES; a busy lock just waits for next time. */
  async foldIfIdle(minBytes = IDLE_FOLD_BYTES): Promise<boolean> {
    const ledger = this.ledger;
    if (!ledger || this.disposed || this.importing || this.debounce) return false;
    try {
      const folded = await ledger.foldIfAtLeast(minBytes, { timeoutMs: BACKGROUND_LOCK_MS });
      this.announce();
      return folded;
    } catch (e) {
      if (!(e instanceof LockTimeoutError)) this.report(e);
      return false;
    }
  }

  /** Reloads when another process saved; fires the change event when it did. */
  refreshFromDisk(): void {
    try {
      this.ledger?.refresh();
      this.announce();
    } catch (e) {
      this.report(e);
    }
  }

  /**
   * One change event per new ledger state, however it arrived: our own save, or another window's save reloaded by
   * the watcher or by the reload inside a write.
   */
  private announce(): void {
    const v = this.ledger?.version;
    if (v === undefined || v === this.announced) return;
    this.announced = v;
    this.changed.fire();
  }

  private watchSources(): void {
    this.watchers.watchSources(this.settings, (file) => this.fileChanged(file));
  }

  /**
   * The watcher can miss events (network drives, folders created later): a periodic rescan. A full one (one stat per
   * log file and folder) every FULL_RESCAN_MS; light ones in between, which skip what has long been untouched.
   */
  private armRescan(): void {
    if (this.rescan) clearInterval(this.rescan);
    this.rescan = setInterval(() => {
      this.refreshFromDisk();
      if (Date.now() - this.lastFullScan >= FULL_RESCAN_MS) this.scheduleImport(0);
      else {
        this.lightDue = true;
        this.scheduleImport(0, false);
      }
    }, this.settings.rescanMs);
  }

  /** Tells the user once per kind (notifier.ts): a plain message, the details in the Output channel. */
  report(e: unknown): void {
    const p = ledgerProblem(e, this.settings.ledgerHome);
    if (p.level === 'warning') this.notifier.warn(p.kind, p.message, p.folder);
    else this.notifier.error(p.kind, p.message, p.folder, p.kind === 'unexpected' ? e : undefined);
  }

  /** Resolves once no import is pending (tests and commands that must see the result). */
  async idle(): Promise<void> {
    while (this.debounce || this.importing) {
      if (this.importing) await this.importing;
      else await new Promise((r) => setTimeout(r, 50));
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.rescan) clearInterval(this.rescan);
    if (this.idleFold) clearTimeout(this.idleFold);
    this.watchers.dispose();
    this.changed.dispose();
    this.rescanned.dispose();
    this.ledger?.close();
  }
}
