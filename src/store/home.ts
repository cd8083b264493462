import * as os from 'node:os';
import * as path from 'node:path';

/** The ledger home (docs/ledger.md, "Where the ledger lives"): one ledger per user, shared by the CLI and every VS Code window. */
export function defaultLedgerHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  if (env.OUTCOME_LEDGER_HOME) return path.resolve(env.OUTCOME_LEDGER_HOME);
  const home = env.HOME || env.USERPROFILE || os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'outcome-ledger');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'outcome-ledger');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'outcome-ledger');
}

export interface LedgerPaths {
  home: string;
  file: string;
  backup: string;
  /** The journal of writes since the snapshot was last saved whole (store/journal.ts). */
  journal: string;
  /** The journal that was folded into the current snapshot: with `backup` it rebuilds the snapshot. */
  journalBackup: string;
  lock: string;
  /** What the last discovery walk saw per log folder (a cache: services/folderListings.ts). */
  folderListings: string;
}

export function ledgerPaths(home: string): LedgerPaths {
  return {
    home,
    file: path.join(home, 'ledger.sqlite'),
    backup: path.join(home, 'ledger.sqlite.bak'),
    journal: path.join(home, 'ledger.journal'),
    journalBackup: path.join(home, 'ledger.journal.bak'),
    lock: path.join(home, 'ledger.lock'),
    folderListings: path.join(home, 'folder-listings.json'),
  };
}
