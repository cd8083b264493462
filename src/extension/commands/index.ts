import * as vscode from 'vscode';
import { argsOf, type CommandDeps } from './deps';
import { deleteManualEntryCommand } from './deleteManualEntry';
import { editManualEntryCommand } from './editManualEntry';
import { fixPermissions } from './fixPermissions';
import { CommandId } from './ids';
import { importNow } from './importNow';
import { labelSession } from './labelSession';
import { logInteraction } from './logInteraction';
import { openLedgerFolder } from './openLedgerFolder';
import { openSessionLog } from './openSessionLog';
import { revealRepository } from './revealRepository';
import { showDataHealth } from './showDataHealth';
import { showView } from './showView';

type Handler = (deps: CommandDeps, ...args: never[]) => unknown;

/**
 * Every command and its body (one file each in this folder), keyed by the id enum, so a command missing here is a
 * compile error. The summary and team rollup commands load their code (rendering, schemas, signing) on first use,
 * not at activation.
 */
const HANDLERS: Record<CommandId, Handler> = {
  [CommandId.importNow]: importNow,
  [CommandId.showDataHealth]: showDataHealth,
  [CommandId.labelSession]: labelSession,
  [CommandId.openLedgerFolder]: openLedgerFolder,
  [CommandId.fixPermissions]: fixPermissions,
  [CommandId.openSessionLog]: openSessionLog,
  [CommandId.revealRepository]: revealRepository,
  [CommandId.logInteraction]: logInteraction,
  [CommandId.editManualEntry]: editManualEntryCommand,
  [CommandId.deleteManualEntry]: deleteManualEntryCommand,
  [CommandId.showView]: showView,
  [CommandId.exportSummary]: async (d: CommandDeps, args?: unknown) =>
    (await import('./exportSummary')).exportSummaryCommand(d, args),
  [CommandId.verifySummary]: async (d: CommandDeps, args?: unknown) =>
    (await import('./verifySummary')).verifySummaryCommand(d, args),
  [CommandId.exportTeamRollup]: async (d: CommandDeps, args?: unknown) =>
    (await import('./exportTeamRollup')).exportTeamRollup(d.model, argsOf(args)),
  [CommandId.mergeTeamRollups]: async (d: CommandDeps, args?: unknown) =>
    (await import('./mergeTeamRollups')).mergeTeamRollupFiles(d.documents, argsOf(args)),
};

/** Registers every contributed command; the disposables go to the extension's subscriptions. */
export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  return (Object.keys(HANDLERS) as CommandId[]).map((id) =>
    vscode.commands.registerCommand(id, (...args: never[]) => HANDLERS[id](deps, ...args)),
  );
}
