/**
 * "Export Team Rollup…": a thin shell over services/teamRollup (the CLI's `rollup export` does the same). Loaded on
 * first use, not at activation.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural } from '../../core/usage/format';
import { localDate } from '../../core/usage/time';
import { SHAREABLE, type Shareable, type TeamRollupFile } from '../../core/team/rollup';
import { renderRollupPreview, rollupPeriodChoices } from '../../core/team/preview';
import { isIsoDate } from '../../core/usage/time';
import { buildTeamRollup, displayNameOf, rollupText, TeamRollupError, writeTeamFile } from '../../services/teamRollup';
import type { LedgerModel } from '../ledgerModel';
import { askConsentInTab } from './teamRollupConsent';

/** What a script (or a test) may pass to skip the pickers; consent is always asked in the dialog. */
export interface ExportArgs {
  since?: string;
  until?: string;
  displayName?: string;
  include?: Shareable[];
  out?: string;
}

async function pickPeriod(timeZone: string): Promise<{ since: string; until: string } | undefined> {
  const today = localDate(timeZone, Date.now());
  const choices = rollupPeriodChoices(today);
  const pick = await vscode.window.showQuickPick(
    [
      ...choices.map((c) => ({
        label: c.label,
        description: `${c.since} … ${c.until}`,
        period: c as { since: string; until: string } | undefined,
      })),
      { label: 'Custom…', description: 'type the first and last day', period: undefined },
    ],
    { title: 'Export team rollup (1/3): which period?', ignoreFocusOut: true },
  );
  if (!pick) return undefined;
  if (pick.period) return pick.period;
  const ask = async (prompt: string, value: string): Promise<string | undefined> =>
    vscode.window.showInputBox({
      title: 'Export team rollup: custom period',
      prompt,
      value,
      ignoreFocusOut: true,
      validateInput: (v) => (isIsoDate(v.trim()) ? undefined : 'A date as YYYY-MM-DD'),
    });
  const since = (await ask('First day (YYYY-MM-DD)', choices[0]?.since ?? today))?.trim();
  if (!since) return undefined;
  const until = (await ask('Last day (YYYY-MM-DD)', today))?.trim();
  if (!until) return undefined;
  return since <= until ? { since, until } : { since: until, until: since };
}

export async function exportTeamRollup(
  model: LedgerModel,
  args: ExportArgs = {},
): Promise<{ file: string; rollup: TeamRollupFile } | undefined> {
  for (const d of [args.since, args.until]) {
    if (d !== undefined && (typeof d !== 'string' || !isIsoDate(d)))
      throw new TeamRollupError(`not a date as YYYY-MM-DD: ${JSON.stringify(d)}`);
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
      prompt:
        'How the team report lists you among the members who shared (never next to a figure). Leave empty to be only counted.',
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
        {
          label: 'Repository names',
          description: 'the names of the repositories you worked in (no paths)',
          value: 'repos' as Shareable,
        },
        {
          label: 'Commit subjects',
          description: 'the subjects of the commits your sessions produced',
          value: 'subjects' as Shareable,
        },
      ],
      {
        title: 'Export team rollup (3/3): share anything beyond aggregates? (nothing is selected: aggregates only)',
        canPickMany: true,
        ignoreFocusOut: true,
      },
    );
    if (!picked) return undefined;
    include = picked.map((p) => p.value);
  }
  include = include.filter((x) => (SHAREABLE as readonly string[]).includes(x));
  ledger.refresh();
  let rollup: TeamRollupFile;
  try {
    rollup = buildTeamRollup(ledger.database, ledger.paths.home, {
      timeZone,
      ...period,
      displayName,
      include,
      threshold: model.currentSettings.linkThreshold,
      identities: model.currentSettings.identities,
    });
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
    writeTeamFile(out, text);
  } catch (e) {
    if (!(e instanceof TeamRollupError)) throw e;
    void vscode.window.showErrorMessage(`Outcome Ledger: ${e.message}; nothing was shared.`);
    return undefined;
  }
  void vscode.window.showInformationMessage(
    `Outcome Ledger: saved your team rollup to ${path.basename(out)}. Send it to your team lead (chat, a shared folder or a repository of rollups).`,
  );
  return { file: out, rollup };
}
