/**
 * Every contributed command id, in one place. test/unit/manifest.test.ts checks that each package.json command has a
 * member here and a registration in commands/index.ts, and the other way round.
 */
export enum CommandId {
  importNow = 'outcomeLedger.importNow',
  showDataHealth = 'outcomeLedger.showDataHealth',
  labelSession = 'outcomeLedger.labelSession',
  openLedgerFolder = 'outcomeLedger.openLedgerFolder',
  fixPermissions = 'outcomeLedger.fixPermissions',
  openSessionLog = 'outcomeLedger.openSessionLog',
  revealRepository = 'outcomeLedger.revealRepository',
  logInteraction = 'outcomeLedger.logInteraction',
  editManualEntry = 'outcomeLedger.editManualEntry',
  deleteManualEntry = 'outcomeLedger.deleteManualEntry',
  showView = 'outcomeLedger.showView',
  exportSummary = 'outcomeLedger.exportSummary',
  verifySummary = 'outcomeLedger.verifySummary',
  exportTeamRollup = 'outcomeLedger.exportTeamRollup',
  mergeTeamRollups = 'outcomeLedger.mergeTeamRollups',
}

export const VIEW_CONTAINER = 'outcomeLedger';
export const SESSIONS_VIEW = 'outcomeLedger.sessions';
/** The webview view above the Sessions tree: value per token for a period (sidebarView.ts). */
export const SIDEBAR_VIEW = 'outcomeLedger.sidebar';
export const EXTENSION_ID = 'outcome-ledger.outcome-ledger';
