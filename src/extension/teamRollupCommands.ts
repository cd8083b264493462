/**
 * "Export Team Rollup…" and "Merge Team Rollups…": thin shells over services/teamRollup (the CLI's `rollup export` and
 * `rollup merge` do the same). Loaded on first use, not at activation.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural } from '../core/usage/format';
import { localDate } from '../core/usage/time';
import { DEFAULT_MIN_MEMBERS, MIN_K, type TeamReportJson } from '../core/team/merge';
import { SHAREABLE, type Shareable, type TeamRollupFile } from '../core/team/rollup';
import { renderRollupPreview, rollupPeriodChoices } from '../core/team/preview';
import { renderTeamHtml, renderTeamMarkdown } from '../core/team/render';
import { isIsoDate } from '../core/usage/time';
import { renderTeamNdjson, renderTeamOtlp } from '../core/team/export';
import type { Roster } from '../core/team/guards';
import { buildTeamRollup, displayNameOf, findRoster, mergeTeamRollupsAsync, readRoster, recordTeamReport, rollupText, teamNameOf, teamStateFile, TeamRollupError, writeTeamRollup } from '../services/teamRollup';
import { version as PACKAGE_VERSION } from '../../package.json';
import type { LedgerModel } from './ledgerModel';
import { askConsentInTab } from './teamRollupConsent';

/** Shows text in a read-only editor tab (a virtual document of the extension's content provider). */
export type ShowDocument = (name: string, text: string, language: string) => Promise<void>;

/** What a script (or a test) may pass to skip the pickers; consent is always asked in the dialog. */
export interface ExportArgs {
  since?: string;
  until?: string;
  displayName?: string;
  include?: Shareable[];
  out?: string;
}

export interface MergeArgs {
  files?: string[];
  format?: 'md' | 'html' | 'json' | 'otlp' | 'ndjson';
  out?: string;
  k?: number;
}

/**
 * The roster: the file `outcomeLedger.team.roster` names (relative paths from the first workspace folder), else
 * roster.txt in a merged folder, else none (the report then says anyone with a key could have contributed).
 */
function rosterOf(inputs: readonly string[]): Roster | undefined {
  const setting = (vscode.workspace.getConfiguration('outcomeLedger').get<string>('team.roster', '') ?? '').trim();
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  const file = setting ? path.resolve(base, setting) : findRoster(inputs);
  return file ? readRoster(file) : undefined;
}


function minimumMembers(): number {
  const v = vscode.workspace.getConfiguration('outcomeLedger').get<number>('team.minimumMembers', DEFAULT_MIN_MEMBERS);
  return Number.isFinite(v) ? Math.max(MIN_K, Math.floor(v)) : DEFAULT_MIN_MEMBERS;
}

async function pickPeriod(timeZone: string): Promise<{ since: string; until: string } | undefined> {
  const today = localDate(timeZone, Date.now());
  const choices = rollupPeriodChoices(today);
  const pick = await vscode.window.showQuickPick(
    [...choices.map((c) => ({ label: c.label, description: `${c.since} … ${c.until}`, period: c as { since: string; until: string } | undefined })), { label: 'Custom…', description: 'type the first and last day', period: undefined }],
    { title: 'Export team rollup (1/3): which period?', ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  if (pick.period) return pick.period;
  const ask = async (prompt: string, value: string): Promise<string | undefined> =>
    vscode.window.showInputBox({ title: 'Export team rollup: custom period', prompt, value, ignoreFocusOut: true, validateInput: (v) => (isIsoDate(v.trim()) ? undefined : 'A date as YYYY-MM-DD') });
  const since = (await ask('First day (YYYY-MM-DD)', choices[0]?.since ?? today))?.trim();
  if (!since) return undefined;
  const until = (await ask('Last day (YYYY-MM-DD)', today))?.trim();
  if (!until) return undefined;
  return since <= until ? { since, until } : { since: until, until: since };
}

export async function exportTeamRollup(model: LedgerModel, args: ExportArgs = {}): Promise<{ file: string; rollup: TeamRollupFile } | undefined> {
  for (const d of [args.since, args.until]) {
    if (d !== undefined && (typeof d !== 'string' || !isIsoDate(d))) throw new TeamRollupError(`not a date as YYYY-MM-DD: ${JSON.stringify(d)}`);
  }
  const ledger = await model.get();
  if (!ledger) return undefined;
  const timeZone = model.currentSettings.timeZone;
  const period = args.since && args.until ? { since: args.since, until: args.until } : await pickPeriod(timeZone);
  if (!period) return undefined;
  let displayName = args.displayName;
  if (displayName === undefined) {
    displayName = await vscode.window.showInputBox({
      title: 'Export team rollup (2/3): a display name (optional)',
      prompt: 'How the team report lists you among the members who shared (never next to a figure). Leave empty to be only counted.',
      ignoreFocusOut: true,
      validateInput: (v) => {
        try {
          displayNameOf(v);
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (displayName === undefined) return undefined;
  }
  let include = args.include;
  if (!include) {
    const picked = await vscode.window.showQuickPick(
      [
        { label: 'Repository names', description: 'the names of the repositories you worked in (no paths)', value: 'repos' as Shareable },
        { label: 'Commit subjects', description: 'the subjects of the commits your sessions produced', value: 'subjects' as Shareable },
      ],
      { title: 'Export team rollup (3/3): share anything beyond aggregates? (nothing is selected: aggregates only)', canPickMany: true, ignoreFocusOut: true },
    );
    if (!picked) return undefined;
    include = picked.map((p) => p.value);
  }
  include = include.filter((x) => (SHAREABLE as readonly string[]).includes(x));
  ledger.refresh();
  let rollup: TeamRollupFile;
  try {
    rollup = buildTeamRollup(ledger.database, ledger.paths.home, { timeZone, ...period, displayName, include, threshold: model.currentSettings.linkThreshold, identities: model.currentSettings.identities });
  } catch (e) {
    if (e instanceof TeamRollupError) {
      void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}`);
      return undefined;
    }
    throw e;
  }
  const text = rollupText(rollup);
  const t = rollup.rollup.totals;
  const consent = await askConsentInTab(
    `Share your team rollup for ${period.since} … ${period.until}?`,
    `It holds aggregates (${plural(t.interactions, 'request')} in ${plural(t.sessions, 'session')}, by tool and model), outcome counts, value metrics and a digest of the requests` +
      `${include.length ? `, plus ${include.join(' and ')} because you chose to` : '; no paths, prompts or commit subjects'}. ` +
      'The team report never shows a figure per person.',
    renderRollupPreview(rollup, text),
  );
  if (!consent) {
    void vscode.window.showInformationMessage('Outcome Ledger: nothing was shared.');
    return undefined;
  }
  let out = args.out;
  if (!out) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(ledger.paths.home);
    const target = await vscode.window.showSaveDialog({
      title: 'Save the team rollup',
      defaultUri: vscode.Uri.joinPath(folder, `team-rollup-${period.since}-${period.until}.json`),
      filters: { 'Team rollup': ['json'] },
      saveLabel: 'Save Rollup',
    });
    if (!target) return undefined;
    out = target.fsPath;
  }
  try {
    writeTeamRollup(out, text);
  } catch (e) {
    if (!(e instanceof TeamRollupError)) throw e;
    void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}; nothing was shared.`);
    return undefined;
  }
  void vscode.window.showInformationMessage(`Outcome Ledger: saved your team rollup to ${path.basename(out)}. Send it to your team lead (chat, a shared folder or a repository of rollups).`);
  return { file: out, rollup };
}

export async function mergeTeamRollupFiles(show: ShowDocument, args: MergeArgs = {}): Promise<{ report: TeamReportJson; file?: string; summary: string } | undefined> {
  let files = args.files;
  if (!files) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Merge team rollups: pick rollup files or folders of them',
      canSelectFiles: true,
      canSelectFolders: true,
      canSelectMany: true,
      filters: { 'Team rollups': ['json'] },
      openLabel: 'Merge',
    });
    if (!picked || picked.length === 0) return undefined;
    files = picked.map((u) => u.fsPath);
  }
  let format = args.format;
  if (!format) {
    const pick = await vscode.window.showQuickPick(
      [
        { label: 'Markdown', description: 'for a wiki page or a pull request', value: 'md' as const },
        { label: 'HTML', description: 'one self-contained page (loads nothing)', value: 'html' as const },
        { label: 'JSON', description: 'for scripts', value: 'json' as const },
        { label: 'OTLP JSON lines', description: 'for an OpenTelemetry Collector (otlpjsonfile receiver)', value: 'otlp' as const },
        { label: 'NDJSON', description: 'one row per team, breakdown and metric, for a warehouse', value: 'ndjson' as const },
      ],
      { title: 'Merge team rollups: report format' },
    );
    if (!pick) return undefined;
    format = pick.value;
  }
  const k = args.k ?? minimumMembers();
  const inputs = files;
  let roster: Roster | undefined;
  let report: TeamReportJson | undefined;
  const stateFile = teamStateFile(args.out, inputs);
  try {
    roster = rosterOf(inputs);
    report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Merging team rollups', cancellable: true },
      (progress, token) =>
        mergeTeamRollupsAsync(inputs, { k, stateFile, ...(roster ? { roster } : {}), cancelled: () => token.isCancellationRequested, onFile: (n) => n % 500 === 0 && progress.report({ message: `${n} files` }) }),
    );
  } catch (e) {
    if (!(e instanceof TeamRollupError)) throw e;
    void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}`);
    return undefined;
  }
  if (!report) return undefined;
  const context = { team: teamNameOf(undefined, inputs), version: PACKAGE_VERSION };
  const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'html' ? renderTeamHtml(report) : format === 'otlp' ? renderTeamOtlp(report, context)
    : format === 'ndjson' ? renderTeamNdjson(report, context) : renderTeamMarkdown(report);
  const title = `Team report ${report.period.since ?? ''} … ${report.period.until ?? ''}`;
  if (format === 'html') {
    // The page has no script and a CSP that loads nothing; the webview runs no script either.
    const panel = vscode.window.createWebviewPanel('outcomeLedger.teamReport', title, vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
    panel.webview.html = text;
  } else {
    await show(`${title}.${format}`, text, format === 'md' ? 'markdown' : format === 'json' ? 'json' : 'jsonl');
  }
  // Shown to the lead: published. Recorded so that a later report cannot difference against it.
  try {
    recordTeamReport(stateFile, report);
  } catch (e) {
    if (!(e instanceof TeamRollupError)) throw e;
    void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}`);
  }
  const f = report.files;
  const outside = report.notCounted.filter((n) => n.status === 'refused' && n.reason.includes('not on the roster')).length;
  const summary =
    `${f.counted} of ${plural(f.read, 'rollup file')} counted (${plural(report.members, 'member')})` +
    `${f.refused ? `, ${f.refused} refused${outside ? ` (${outside} signed by keys not on the roster)` : ''}, listed in the report` : ''}` +
    `${f.empty + f.implausible ? `, ${f.empty + f.implausible} empty or implausible` : ''}` +
    `${report.withheldBecause === 'members' ? `; figures withheld: fewer than ${report.k} members` : ''}` +
    `${report.withheldBecause === 'differencing' ? `; figures withheld: the members differ from an earlier report by fewer than ${report.k}` : ''}` +
    `${roster ? '' : '; no roster: anyone with a key could have contributed'}.`;
  const extension = format === 'otlp' || format === 'ndjson' ? 'jsonl' : format;
  const save = (target: string): boolean => {
    try {
      writeTeamRollup(target, text);
    } catch (e) {
      if (!(e instanceof TeamRollupError)) throw e;
      void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}`);
      return false;
    }
    void vscode.window.showInformationMessage(`Outcome Ledger: saved the team report to ${path.basename(target)}.`);
    return true;
  };
  if (args.out) {
    if (!save(args.out)) return { report, summary };
  } else {
    // Not awaited: the command returns with the report; the offer to save stays until the user acts or dismisses it.
    void vscode.window.showInformationMessage(`Outcome Ledger: ${summary}`, 'Save Report…').then(async (choice) => {
      if (choice !== 'Save Report…') return;
      const target = await vscode.window.showSaveDialog({
        title: 'Save the team report',
        defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(path.dirname(inputs[0] ?? '.')), `team-report.${extension}`),
        filters: { [format.toUpperCase()]: [extension] },
      });
      if (target) save(target.fsPath);
    });
  }
  return { report, summary, ...(args.out ? { file: args.out } : {}) };
}
