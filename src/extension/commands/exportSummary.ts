/**
 * "Export outcome summary…": a thin shell over services/summary.ts. Loaded on first use
 * (extension.ts imports this module dynamically), so activation does not pay for it.
 *
 * It takes optional arguments so scripts and tests can run it without prompts; without them it asks.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isIsoDate, localDate } from '../../core/usage/time';
import {
  SUMMARY_PERIOD_NAMES,
  SUMMARY_PERIODS,
  summaryRange,
  PeriodError,
  type DateRange,
  type SummaryPeriod,
} from '../../core/usage/periods';
import { isSummaryFormat, type SummaryFormat } from '../../core/summary/render';
import { exportSummary, gitSshSignerIn, type SummarySigner } from '../../services/summary';
import { saveExport } from '../../services/ledger';
import { argsOf, type CommandDeps } from './deps';

const SUMMARY_SCHEME = 'outcome-ledger-summary';
/** The webview panel that previews an HTML summary. */
const SUMMARY_PREVIEW_VIEW = 'outcomeLedger.summaryPreview';

const FORMAT_NAMES: Record<SummaryFormat, string> = { md: 'Markdown', html: 'HTML', json: 'JSON' };
const FORMAT_DETAIL: Record<SummaryFormat, string> = {
  md: 'pastes into review documents; the signed data rides along in a hidden comment',
  html: 'one self-contained page (no network), prints cleanly to PDF',
  json: 'versioned schema, for tools',
};

export interface ExportArgs {
  period?: SummaryPeriod;
  since?: string;
  until?: string;
  format?: SummaryFormat;
  redact?: { repos?: boolean; subjects?: boolean };
  /** Save here without the save dialog. */
  out?: string;
  /** Copy to the clipboard without asking. */
  copy?: boolean;
  /** Sign with `ssh` (the git SSH signing key) or `ed25519` (Outcome Ledger's key); default: the setting. */
  sign?: 'ed25519' | 'ssh';
}

/**
 * The signer the setting `outcomeLedger.summary.signWith` (or the call) asks for: the git SSH signing key as git
 * would use it in the first workspace folder, or undefined for Outcome Ledger's own key. Throws a message to show.
 */
async function signerFor(sign: 'ed25519' | 'ssh' | undefined): Promise<SummarySigner | undefined> {
  const wanted =
    sign ??
    (vscode.workspace.getConfiguration('outcomeLedger').get<string>('summary.signWith', 'outcomeLedger') === 'gitSsh'
      ? 'ssh'
      : 'ed25519');
  if (wanted !== 'ssh') return undefined;
  return gitSshSignerIn(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir());
}

export interface ExportResult {
  file: string | undefined;
  format: SummaryFormat;
  text: string;
  fingerprint: string;
  period: DateRange;
  /** How it was previewed: the virtual document shown (md, json) or the webview panel (html). */
  preview: { kind: 'markdown' | 'webview' | 'json'; uri?: string };
}

/** Virtual read-only documents for the previews (one per export, kept until the window closes). */
class PreviewDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  set(uri: vscode.Uri, text: string): void {
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
  }
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }
  dispose(): void {
    this.changed.dispose();
  }
}

let previews: PreviewDocuments | undefined;
function previewDocuments(subscriptions: vscode.Disposable[]): PreviewDocuments {
  if (!previews) {
    const p = new PreviewDocuments();
    previews = p;
    subscriptions.push(p, vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, p), {
      dispose: () => (previews = undefined),
    });
  }
  return previews;
}

async function askPeriod(today: string): Promise<DateRange | undefined> {
  const pick = await vscode.window.showQuickPick(
    SUMMARY_PERIODS.map((kind) => {
      const r = kind === 'custom' ? undefined : summaryRange(kind, today);
      return {
        label: SUMMARY_PERIOD_NAMES[kind],
        description: r ? `${r.since} – ${r.until}` : 'pick the first and last day',
        period: kind,
      };
    }),
    { title: 'Export outcome summary (1/3): which period?' },
  );
  if (!pick) return undefined;
  if (pick.period !== 'custom') return summaryRange(pick.period, today);
  const date = (title: string, value: string): Thenable<string | undefined> =>
    vscode.window.showInputBox({
      title,
      value,
      placeHolder: 'YYYY-MM-DD',
      validateInput: (v) => (isIsoDate(v.trim()) ? undefined : 'A date as YYYY-MM-DD'),
    });
  const since = await date('First day of the summary (included)', summaryRange('last30', today).since);
  if (!since) return undefined;
  const until = await date('Last day of the summary (included)', today);
  if (!until) return undefined;
  try {
    return summaryRange('custom', today, { since: since.trim(), until: until.trim() });
  } catch (e) {
    if (e instanceof PeriodError) void vscode.window.showErrorMessage(e.message);
    return undefined;
  }
}

async function askFormat(): Promise<SummaryFormat | undefined> {
  const pick = await vscode.window.showQuickPick(
    (['md', 'html', 'json'] as const).map((f) => ({ label: FORMAT_NAMES[f], detail: FORMAT_DETAIL[f], format: f })),
    { title: 'Export outcome summary (2/3): which format?' },
  );
  return pick?.format;
}

async function askRedaction(): Promise<{ repos: boolean; subjects: boolean } | undefined> {
  const items = [
    { label: 'Repository names', detail: 'shown as "repository 1", "repository 2"…', key: 'repos' as const },
    {
      label: 'Commit subjects',
      detail: 'commits keep their short SHA, date, PR and evidence',
      key: 'subjects' as const,
    },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: 'Export outcome summary (3/3): what to redact? (none picked: nothing redacted)',
    canPickMany: true,
  });
  if (!picked) return undefined;
  return { repos: picked.some((p) => p.key === 'repos'), subjects: picked.some((p) => p.key === 'subjects') };
}

async function preview(
  text: string,
  format: SummaryFormat,
  title: string,
  subscriptions: vscode.Disposable[],
): Promise<ExportResult['preview']> {
  if (format === 'html') {
    // The page carries its own CSP (default-src 'none'): no script, nothing loaded; the panel allows no local files.
    const panel = vscode.window.createWebviewPanel(SUMMARY_PREVIEW_VIEW, title, vscode.ViewColumn.Active, {
      enableScripts: false,
      localResourceRoots: [],
    });
    panel.webview.html = text;
    return { kind: 'webview' };
  }
  const docs = previewDocuments(subscriptions);
  const uri = vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/${title}.${format}` });
  docs.set(uri, text);
  if (format === 'md') {
    await vscode.commands.executeCommand('markdown.showPreview', uri);
    return { kind: 'markdown', uri: uri.toString() };
  }
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.languages.setTextDocumentLanguage(doc, 'json');
  await vscode.window.showTextDocument(doc, { preview: true });
  return { kind: 'json', uri: uri.toString() };
}

export async function exportSummaryCommand(
  { model, context }: CommandDeps,
  raw?: unknown,
): Promise<ExportResult | undefined> {
  const subscriptions = context.subscriptions;
  const a = argsOf<ExportArgs>(raw);
  const settings = model.currentSettings;
  const tz = settings.timeZone;
  const today = localDate(tz, Date.now());
  let period: DateRange | undefined;
  if (a.since && a.until) period = summaryRange('custom', today, { since: a.since, until: a.until });
  else if (a.period && a.period !== 'custom') period = summaryRange(a.period, today);
  else period = await askPeriod(today);
  if (!period) return undefined;
  const format = a.format && isSummaryFormat(a.format) ? a.format : await askFormat();
  if (!format) return undefined;
  const redact = a.redact
    ? { repos: a.redact.repos === true, subjects: a.redact.subjects === true }
    : await askRedaction();
  if (!redact) return undefined;

  const ledger = await model.get();
  if (!ledger) return undefined;
  const chosen = period;
  let exported;
  try {
    const signer = await signerFor(a.sign === 'ssh' || a.sign === 'ed25519' ? a.sign : undefined);
    exported = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Outcome Ledger: building the outcome summary…' },
      async () => {
        ledger.refresh();
        return exportSummary(ledger.database, model.home, {
          since: chosen.since,
          until: chosen.until,
          timeZone: tz,
          redact,
          format,
          threshold: settings.linkThreshold,
          identities: settings.identities,
          env: process.env,
          ledgerFile: ledger.paths.file,
          plan: settings.plan === undefined ? ledger.plan : settings.plan,
          ...(signer ? { signer } : {}),
        });
      },
    );
  } catch (e) {
    void vscode.window.showErrorMessage(`Outcome Ledger: the summary was not exported: ${(e as Error).message}`);
    return undefined;
  }
  const title = `Outcome summary ${period.since} – ${period.until}`;
  const shown = await preview(exported.text, format, title, subscriptions);

  let file = a.out;
  if (!file) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(model.home);
    const target = await vscode.window.showSaveDialog({
      title: 'Save the outcome summary',
      defaultUri: vscode.Uri.joinPath(folder, `outcome-summary-${period.since}-${period.until}.${format}`),
      filters: { [FORMAT_NAMES[format]]: [format] },
    });
    file = target?.fsPath;
  }
  if (file) {
    const saved = saveExport(file, exported.text, 'the summary');
    if (!saved.ok) {
      void vscode.window.showErrorMessage(`Outcome Ledger: ${saved.message}`);
      return undefined;
    }
  }
  if (a.copy === true) await vscode.env.clipboard.writeText(exported.text);
  else {
    // Not awaited: the command returns at once; the message offers the copy until it is dismissed.
    const saved = file
      ? `Saved the outcome summary to ${path.basename(file)}, signed with ${exported.key.fingerprint}.`
      : 'The outcome summary was not saved.';
    void vscode.window.showInformationMessage(saved, 'Copy to Clipboard').then(async (choice) => {
      if (choice === 'Copy to Clipboard') await vscode.env.clipboard.writeText(exported.text);
    });
  }
  return { file, format, text: exported.text, fingerprint: exported.key.fingerprint, period, preview: shown };
}
