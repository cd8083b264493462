import * as path from 'node:path';
import * as vscode from 'vscode';
import { SESSION_LABELS, isSessionLabel, type SessionLabel } from '../core/usage/model';
import { dataHealth, renderHealth } from '../services/health';
import { listSessions, resolveSession, setLabel, type SessionJson } from '../services/queries';
import { addDays, localDate } from '../core/usage/time';
import { fmtTokens, plural } from '../core/usage/format';
import { DiskFaultError } from '../store/diskFault';
import type * as TeamRollupCommands from './teamRollupCommands';
import { COMMANDS, SESSIONS_VIEW, SIDEBAR_VIEW, VIEW_CONTAINER } from './commands';
import { invalidTimeZoneSetting, readSettings, setHostUserDir } from './config';
import { registerManualCommands } from './manualCommands';
import { LedgerModel } from './ledgerModel';
import { Notifier } from './notifier';
import { OtelHost } from './otelHost';
import { SessionsTree, type SessionsNode } from './sessionsTree';
import { LinkScheduler } from './sidebarLinking';
import { NodeLogWatch } from './sidebarLogWatch';
import { SidebarView } from './sidebarView';
import { StatusMeter } from './statusMeter';

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
  /** This window's VS Code user folder (where Copilot Chat keeps its sessions, and Cline and Roo Code their tasks when installed here). */
  hostUserDir: string;
  /** The local OpenTelemetry receiver of this window (`outcomeLedger.otel.enabled`). */
  otel: OtelHost;
}

const HEALTH_URI = vscode.Uri.parse('outcome-ledger:Data%20Health.md');

/** Command arguments from scripts and tests: an object, else ignored (a menu may pass a URI or a tree node). */
function isObject(v: unknown): v is Record<string, never> {
  return typeof v === 'object' && v !== null && !(v instanceof vscode.Uri) && !Array.isArray(v);
}

function sessionOf(arg: unknown): SessionJson | undefined {
  const node = arg as SessionsNode | undefined;
  return node && typeof node === 'object' && node.kind === 'session' ? node.session : undefined;
}

/** Registers everything and returns: sql.js, the ledger and the importers load on first use (after activation). */
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
  const healthChanged = new vscode.EventEmitter<vscode.Uri>();
  let healthText = '';
  /** Read-only tabs other than Data Health (team rollup previews and reports), by URI. */
  const documents = new Map<string, string>();
  const showDocument = async (name: string, text: string, language: string): Promise<void> => {
    const uri = vscode.Uri.from({ scheme: 'outcome-ledger', path: `/${name}` });
    documents.set(uri.toString(), text);
    healthChanged.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, language);
    await vscode.window.showTextDocument(doc, { preview: false });
  };
  // The team rollup commands load their code (and zod's schemas) on first use, not at activation.
  const teamRollups = (): Promise<typeof TeamRollupCommands> => import('./teamRollupCommands');

  const labelSession = async (arg?: unknown, labelArg?: unknown): Promise<void> => {
    const ledger = await model.get();
    if (!ledger) return;
    let id: string | undefined = sessionOf(arg)?.id ?? (typeof arg === 'string' ? arg : (arg as { sessionId?: string } | undefined)?.sessionId);
    if (!id) {
      const tz = model.currentSettings.timeZone;
      const recent = listSessions(ledger.database, { timeZone: tz, since: addDays(localDate(tz, Date.now()), -14) }).reverse();
      const pick = await vscode.window.showQuickPick(
        recent.map((s) => ({ label: `${s.source} · ${s.branch ?? s.repo ?? s.cwd ?? ''}`, description: `${fmtTokens(s.tokens.total)} tokens · ${s.status}`, detail: s.start.slice(0, 16).replace('T', ' '), id: s.id })),
        { title: 'Label which session?', matchOnDescription: true },
      );
      id = pick?.id;
    }
    if (!id) return;
    let label: SessionLabel | 'none' | undefined = typeof labelArg === 'string' && (isSessionLabel(labelArg) || labelArg === 'none') ? labelArg : undefined;
    if (!label) {
      const pick = await vscode.window.showQuickPick(
        [...SESSION_LABELS.map((l) => ({ label: l, value: l as SessionLabel | 'none' })), { label: 'Remove label', value: 'none' as const }],
        { title: 'Label the session honestly: its tokens still count as tokens without an outcome' },
      );
      label = pick?.value;
    }
    if (!label) return;
    const chosen = label;
    const sessionKey = id;
    try {
      await ledger.write((db) => setLabel(db, resolveSession(db, sessionKey).ref, chosen === 'none' ? null : chosen));
    } catch (e) {
      if (!(e instanceof DiskFaultError)) throw e;
      model.report(e); // a read-only or full disk: one plain message, not a stack
      return;
    }
    model.refreshFromDisk();
    tree.refreshNow();
  };

  context.subscriptions.push(
    notifier,
    otel,
    model,
    tree,
    meter,
    linker,
    sidebar,
    logWatch,
    healthChanged,
    vscode.window.registerTreeDataProvider(SESSIONS_VIEW, tree),
    // No retainContextWhenHidden: a hidden view's page is dropped, and the ready handshake repaints it when shown.
    vscode.window.registerWebviewViewProvider(SIDEBAR_VIEW, sidebar),
    vscode.workspace.registerTextDocumentContentProvider('outcome-ledger', { onDidChange: healthChanged.event, provideTextDocumentContent: (uri) => documents.get(uri.toString()) ?? healthText }),
    vscode.commands.registerCommand(COMMANDS.importNow, async () => {
      const summary = await model.importNow(true);
      if (!summary) return undefined;
      const added = summary.sources.reduce((s, x) => s + x.interactionsAdded, 0);
      const rejected = summary.sources.reduce((s, x) => s + x.linesRejected, 0);
      const found = summary.sources.filter((s) => s.found).map((s) => s.source);
      void vscode.window.showInformationMessage(
        found.length === 0
          ? 'Outcome Ledger found no Claude Code, Codex or Copilot Chat logs on this machine. Show Data Health lists where it looked.'
          : `Imported ${plural(added, 'new request', 'new requests')} from ${found.join(' and ')}${rejected ? ` (${plural(rejected, 'line')} rejected: see Data Health)` : ''}.`,
      );
      return summary;
    }),
    vscode.commands.registerCommand(COMMANDS.showDataHealth, async () => {
      const ledger = await model.get();
      if (!ledger) return undefined;
      ledger.refresh();
      const s = model.currentSettings;
      const health = dataHealth(ledger.database, ledger.paths.file, { env: process.env, extra: s.extra, disabled: s.disabled });
      healthText = renderHealth(health);
      healthChanged.fire(HEALTH_URI);
      const doc = await vscode.workspace.openTextDocument(HEALTH_URI);
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true });
      return health;
    }),
    vscode.commands.registerCommand(COMMANDS.labelSession, labelSession),
    ...registerManualCommands(model, () => tree.refreshNow()),
    vscode.commands.registerCommand(COMMANDS.fixPermissions, () => model.fixPermissions()),
    vscode.commands.registerCommand(COMMANDS.openLedgerFolder, async () => {
      const home = model.home;
      if (vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined) {
        await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(home, 'ledger.sqlite')));
        return home;
      }
      // Not awaited: the command returns at once, the message stays until the user picks an action or dismisses it.
      void vscode.window.showInformationMessage(`The ledger is in ${home}`, 'Copy Path', 'Open in New Window').then(async (choice) => {
        if (choice === 'Copy Path') await vscode.env.clipboard.writeText(home);
        else if (choice === 'Open in New Window') await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(home), { forceNewWindow: true });
      });
      return home;
    }),
    vscode.commands.registerCommand(COMMANDS.openSessionLog, async (arg?: unknown) => {
      const s = sessionOf(arg);
      if (!s?.logPath) return;
      await vscode.window.showTextDocument(vscode.Uri.file(s.logPath), { preview: true });
    }),
    vscode.commands.registerCommand(COMMANDS.revealRepository, async (arg?: unknown) => {
      const repo = sessionOf(arg)?.repo;
      if (!repo) return;
      const uri = vscode.Uri.file(repo);
      if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
      else await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
    }),
    vscode.commands.registerCommand(COMMANDS.exportTeamRollup, async (args?: unknown) => (await teamRollups()).exportTeamRollup(model, isObject(args) ? args : {})),
    vscode.commands.registerCommand(COMMANDS.mergeTeamRollups, async (args?: unknown) => (await teamRollups()).mergeTeamRollupFiles(showDocument, isObject(args) ? args : {})),
    vscode.commands.registerCommand(COMMANDS.showView, () => vscode.commands.executeCommand(`workbench.view.extension.${VIEW_CONTAINER}`)),
    // The summary's code (rendering, schema, signing) loads on first use, not at activation.
    vscode.commands.registerCommand(COMMANDS.exportSummary, async (args?: unknown) => (await import('./summaryCommands')).exportSummaryCommand(model, context.subscriptions, args)),
    vscode.commands.registerCommand(COMMANDS.verifySummary, async (args?: unknown) => (await import('./summaryCommands')).verifySummaryCommand(model, args)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('outcomeLedger')) return;
      const bad = invalidTimeZoneSetting();
      if (bad) notifier.warn('time-zone', `"${bad}" is not an IANA time zone (for example Europe/Berlin); the system zone is used.`);
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
    const bad = invalidTimeZoneSetting();
    if (bad) notifier.warn('time-zone', `"${bad}" is not an IANA time zone (for example Europe/Berlin); the system zone is used.`);
    model.start();
    logWatch.start();
    otel.apply();
  }, 0);
  const activationMs = bundleLoadMs() + (performance.now() - started);
  notifier.info(`activated in ${activationMs.toFixed(1)} ms (bundle ${bundleLoadMs().toFixed(1)} ms)`);
  return { activationMs, model, tree, meter, notifier, sidebar, linker, hostUserDir, otel };
}

export function deactivate(): void {
  // Disposables in context.subscriptions close the ledger and watchers.
}
