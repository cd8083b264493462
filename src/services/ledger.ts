/**
 * The ledger as the extension sees it: opening it, its home folder and the errors it reports. The extension reaches
 * the store only through services (a lint rule), so what it may touch of the store is listed here.
 */
export { defaultLedgerHome } from '../store/home';
export { Ledger, LedgerWriteError } from '../store/ledger';
export { LockTimeoutError } from '../store/lock';
export { SchemaTooNewError } from '../store/schema';
