import * as path from 'node:path';
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { SESSIONS_VIEW, SIDEBAR_VIEW } from './commands/ids';
import { invalidTimeZoneSetting, readSettings, setHostUserDir } from './config';
import { DOCUMENT_SCHEME, ReadOnlyDocuments } from './documents';
import { LedgerModel } from './ledgerModel';
import { Notifier } from './notifier';
import { SessionsTree } from './sessionsTree';
import { LinkScheduler } from './linkScheduler';
import { NodeLogWatch } from './logWatch';
import { OtelHost } from './otelHost';
import { SidebarView } from './sidebarView';
import { StatusMeter } from './statusMeter';
import { Observations } from './testApi';

/**
 * Activation time = evaluating the bundle (its first and last lines stamp it: scripts/build.mjs) + the activate()
 * call, as VS Code counts it (code loading + activate call).
 */
function bundleLoadMs(): number {
  const v = (globalThis as { __outcomeLedgerLoadMs?: unknown }).__outcomeLedgerLoadMs;
  return typeof v === 'number' ? v : 0;
}

/** What activate() returns: used by the tests inside VS Code (and by anyone scripting the extension). */
export interface OutcomeLedgerApi {
  activationMs: number;
  model: LedgerModel;
  tree: SessionsTree;
  meter: StatusMeter;
  notifier: Notifier;
  sidebar: SidebarView;
  linker: LinkScheduler;
  /** What the tests observe: snapshots, paints, action results, meter readings, messages shown (testApi.ts). */
  observed: Observations;
  /** This window's VS Code user folder (where Copilot Chat keeps its sessions, and Cline and Roo Code their tasks when installed here). */
  hostUserDir: string;
}

function warnTimeZone(notifier: Notifier): void {
  const bad = invalidTimeZoneSetting();
  if (bad)
    notifier.warn(
      'time-zone',
      `"${bad}" is not an IANA time zone (for example Europe/Berlin); the system zone is used.`,
    );
}

/** Wires everything and returns: sql.js, the ledger and the importers load on first use (after activation). */
export function activate(context: vscode.ExtensionContext): OutcomeLedgerApi {
  const started = performance.now();
  const notifier = new Notifier();
  // This window's own VS Code user folder (Insiders, VSCodium, a remote server, a portable install): Copilot Chat keeps
  // its sessions there, next to our own global storage, and extensions that keep logs in global storage (Cline, Roo Code) too.
  const hostUserDir = path.dirname(path.dirname(context.globalStorageUri.fsPath));
  setHostUserDir(hostUserDir);
  const model = new LedgerModel(readSettings(), notifier);
  const tree = new SessionsTree(model);
  const meter = new StatusMeter(model, notifier);
  const linker = new LinkScheduler(model, notifier);
  const sidebar = new SidebarView(context.extensionUri, model, linker, notifier);
  const logWatch = new NodeLogWatch(model);
  const otel = new OtelHost(model, notifier);
  const observed = new Observations(sidebar, meter, notifier, otel, model);
  // The receiver's line in data health follows its state (listening, stopped, port in use), not only ledger changes.
  context.subscriptions.push(otel.onDidApply(() => sidebar.otelChanged(otel.problem)));
  const documents = new ReadOnlyDocuments();
  context.subscriptions.push(
    ...[notifier, otel, model, tree, meter, linker, sidebar, observed, logWatch, documents],
    vscode.window.registerTreeDataProvider(SESSIONS_VIEW, tree),
    // No retainContextWhenHidden: a hidden view's page is dropped, and the ready handshake repaints it when shown.
    vscode.window.registerWebviewViewProvider(SIDEBAR_VIEW, sidebar),
    vscode.workspace.registerTextDocumentContentProvider(DOCUMENT_SCHEME, documents),
    ...registerCommands({ context, model, tree, notifier, documents }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('outcomeLedger')) return;
      warnTimeZone(notifier);
      const next = readSettings();
      if (next.planProblem) notifier.warn('plan', `${next.planProblem}; no plan cost is shown.`);
      model.applySettings(next);
      logWatch.refresh();
      otel.apply();
    }),
    // A folder added to the workspace may hold an Aider history: watch it (and import what it holds).
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      model.applySettings(model.currentSettings);
      logWatch.refresh();
    }),
  );
  // Live capture (and the time-zone check, which loads ICU) start after activation returns.
  setTimeout(() => {
    warnTimeZone(notifier);
    model.start();
    logWatch.start();
    otel.apply();
  }, 0);
  const activationMs = bundleLoadMs() + (performance.now() - started);
  notifier.info(`activated in ${activationMs.toFixed(1)} ms (bundle ${bundleLoadMs().toFixed(1)} ms)`);
  return { activationMs, model, tree, meter, notifier, sidebar, linker, observed, hostUserDir };
}

export function deactivate(): void {
  // Disposables in context.subscriptions close the ledger and watchers.
}
