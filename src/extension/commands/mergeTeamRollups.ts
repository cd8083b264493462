/**
 * "Merge Team Rollups…": a thin shell over services/teamRollup (the CLI's `rollup merge` does the same). Loaded on
 * first use, not at activation.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural } from '../../core/usage/format';
import { DEFAULT_MIN_MEMBERS, MIN_K, type TeamReportJson } from '../../core/team/merge';
import { teamReportText, type TeamReportFormat } from '../../core/team/export';
import type { Roster } from '../../core/team/guards';
import {
  findRoster,
  mergeTeamRollupsAsync,
  readRoster,
  recordTeamReport,
  teamNameOf,
  teamStateFile,
  TeamRollupError,
  writeTeamFile,
} from '../../services/teamRollup';
import { version as PACKAGE_VERSION } from '../../../package.json';
import type { ReadOnlyDocuments } from '../documents';

export interface MergeArgs {
  files?: string[];
  format?: TeamReportFormat;
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

export async function mergeTeamRollupFiles(
  documents: ReadOnlyDocuments,
  args: MergeArgs = {},
): Promise<{ report: TeamReportJson; file?: string; summary: string } | undefined> {
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
        {
          label: 'OTLP JSON lines',
          description: 'for an OpenTelemetry Collector (otlpjsonfile receiver)',
          value: 'otlp' as const,
        },
        {
          label: 'NDJSON',
          description: 'one row per team, breakdown and metric, for a warehouse',
          value: 'ndjson' as const,
        },
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
        mergeTeamRollupsAsync(inputs, {
          k,
          stateFile,
          ...(roster ? { roster } : {}),
          cancelled: () => token.isCancellationRequested,
          onFile: (n) => n % 500 === 0 && progress.report({ message: `${n} files` }),
        }),
    );
  } catch (e) {
    if (!(e instanceof TeamRollupError)) throw e;
    void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}`);
    return undefined;
  }
  if (!report) return undefined;
  const context = { team: teamNameOf(undefined, inputs), version: PACKAGE_VERSION };
  const text = teamReportText(report, format, context);
  const title = `Team report ${report.period.since ?? ''} … ${report.period.until ?? ''}`;
  if (format === 'html') {
    // The page has no script and a CSP that loads nothing; the webview runs no script either.
    const panel = vscode.window.createWebviewPanel('outcomeLedger.teamReport', title, vscode.ViewColumn.Active, {
      enableScripts: false,
      localResourceRoots: [],
    });
    panel.webview.html = text;
  } else {
    await documents.show(
      `${title}.${format}`,
      text,
      format === 'md' ? 'markdown' : format === 'json' ? 'json' : 'jsonl',
      false,
    );
  }
  // Shown to the lead: published. Recorded so that a later report cannot difference against it.
  try {
    recordTeamReport(stateFile, report);
  } catch (e) {
    if (!(e instanceof TeamRollupError)) throw e;
    void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}`);
  }
  const f = report.files;
  const outside = report.notCounted.filter(
    (n) => n.status === 'refused' && n.reason.includes('not on the roster'),
  ).length;
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
      writeTeamFile(target, text);
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
        defaultUri: vscode.Uri.joinPath(
          vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(path.dirname(inputs[0] ?? '.')),
          `team-report.${extension}`,
        ),
        filters: { [format.toUpperCase()]: [extension] },
      });
      if (target) save(target.fsPath);
    });
  }
  return { report, summary, ...(args.out ? { file: args.out } : {}) };
}
