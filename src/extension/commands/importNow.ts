import * as vscode from 'vscode';
import { plural } from '../../core/usage/format';
import { toolList } from '../../core/usage/model';
import type { ImportSummary } from '../../services/importer';
import type { CommandDeps } from './deps';

/** "Import Now": reads every source's new log lines, waiting for the ledger's lock, and says what it read. */
export async function importNow({ model }: CommandDeps): Promise<ImportSummary | undefined> {
  const summary = await model.importNow(true);
  if (!summary) return undefined;
  const added = summary.sources.reduce((s, x) => s + x.interactionsAdded, 0);
  const rejected = summary.sources.reduce((s, x) => s + x.linesRejected, 0);
  const found = summary.sources.filter((s) => s.found).map((s) => s.source);
  void vscode.window.showInformationMessage(
    found.length === 0
      ? `Outcome Ledger found no logs of ${toolList('or')} on this machine. Show Data Health lists where it looked.`
      : `Imported ${plural(added, 'new request', 'new requests')} from ${found.join(' and ')}${rejected ? ` (${plural(rejected, 'line')} rejected: see Data Health)` : ''}.`,
  );
  return summary;
}
