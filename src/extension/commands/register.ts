import * as vscode from 'vscode';
import { isObject } from './args';
import { dataHealthCommand } from './dataHealth';
import { CommandId } from './ids';
import { importNowCommand } from './importNow';
import { labelCommand } from './label';
import { manualCommands } from './manual';
import { placesCommands } from './places';
import type { Handler, Shell } from './shell';

/**
 * Every command's body, by id: a command missing here is a compile error (the record is keyed by CommandId).
 * The summary and team rollup commands load their code (rendering, schemas, signing) on first use, not at activation.
 */
function handlers(shell: Shell): Record<CommandId, Handler> {
  const { model, documents, subscriptions } = shell;
  const teamRollups = () => import('./teamRollup');
  const summaries = () => import('./summary');
  return {
    ...importNowCommand(shell),
    ...dataHealthCommand(shell),
    ...labelCommand(shell),
    ...manualCommands(shell),
    ...placesCommands(shell),
    [CommandId.exportTeamRollup]: async (args?: unknown) => (await teamRollups()).exportTeamRollup(model, isObject(args) ? args : {}),
    [CommandId.mergeTeamRollups]: async (args?: unknown) =>
      (await teamRollups()).mergeTeamRollupFiles((name, text, language) => documents.show(`/${name}`, text, language, { preview: false }), isObject(args) ? args : {}),
    [CommandId.exportSummary]: async (args?: unknown) => (await summaries()).exportSummaryCommand(model, subscriptions, args),
    [CommandId.verifySummary]: async (args?: unknown) => (await summaries()).verifySummaryCommand(model, args),
  };
}

/** Registers every command of the extension. */
export function registerCommands(shell: Shell): vscode.Disposable[] {
  return Object.entries(handlers(shell)).map(([id, run]) => vscode.commands.registerCommand(id, run as (...args: unknown[]) => unknown));
}
