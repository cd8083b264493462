import * as fs from 'node:fs';
import type { Database, SqlJsStatic } from 'sql.js';
import { PRICING_VERSION, costUSD, toNanoUSD } from '../core/usage/pricing';
import { writeFileAtomic, removeStaleTemps } from './atomic';
import { ledgerPaths, type LedgerPaths } from './home';
import { acquireLock, type LockOptions } from './lock';
import { getMeta, migrate, schemaVersion, setMeta, SCHEMA_VERSION, SchemaTooNewError } from './schema';
import { ensureRollupFresh, rebuildRollup } from './rollup';
import { loadSqlJs } from './sqljs';

export class LedgerWriteError extends Error {}

interface DiskStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

function stampOf(file: string): DiskStamp | undefined {
  try {
    const s = fs.statSync(file);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return undefined;
  }
}

function sameStamp(a: DiskStamp | undefined, b: DiskStamp | undefined): boolean {
  if (!a || !b) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** Cheap structural check before trusting a file: magic header and page count agreeing with the file size. */
function headerProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < 100) return 'the file is too short to be a ledger';
  if (Buffer.from(bytes.subarray(0, 16)).toString('latin1') !== SQLITE_MAGIC) return 'the file is not an SQLite database';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pageSize = view.getUint16(16);
  if (pageSize === 1) pageSize = 65536;
  const pages = view.getUint32(28);
  if (pages > 0 && pages * pageSize !== bytes.length) return `the file is truncated (${bytes.length} of ${pages * pageSize} bytes)`;
  return undefined;
}

function openBytes(SQL: SqlJsStatic, bytes: Uint8Array | undefined): Database {
  if (!bytes) return new SQL.Database();
  const problem = headerProblem(bytes);
  if (problem) throw new Error(problem);
  const db = new SQL.Database(bytes);
  try {
    db.exec('SELECT count(*) FROM sqlite_master');
    schemaVersion(db);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

export interface WriteContext {
  /** Saves what was written so far (still holding the lock): long imports keep their progress if killed. */
  checkpoint(): void;
}

export interface OpenOptions extends LockOptions {
  /** Called with plain, actionable messages (a damaged ledger moved aside, a restore from backup). */
  onWarning?: (message: string) => void;
}

/**
 * The ledger: one SQLite file (sql.js, in memory) shared by the CLI and every VS Code window.
 * Readers call `refresh()` to see other writers' saves. Writers go through `write()`: lock file, reload when someone
 * else saved since we loaded, apply the change in a transaction, save atomically (temp + fsync + rename, previous file
 * kept as the backup), release.
 */
export class Ledger {
  private db: Database;
  private stamp: DiskStamp | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private generation = 0;
  readonly warnings: string[] = [];

  private constructor(
    private readonly SQL: SqlJsStatic,
    readonly paths: LedgerPaths,
    private readonly options: OpenOptions,
  ) {
    this.db = new SQL.Database();
  }

  static async open(home: string, options: OpenOptions = {}): Promise<Ledger> {
    const SQL = await loadSqlJs();
    const ledger = new Ledger(SQL, ledgerPaths(home), options);
    ledger.load();
    return ledger;
  }

  /** The in-memory database. Valid until the next `refresh()`/`write()` reloads it: don't keep it. */
  get database(): Database {
    return this.db;
  }

  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  /**
   * Changes whenever the in-memory database may differ from what a reader saw: a reload of another process's save,
   * or a save of our own. Views compare it instead of guessing which path changed the data.
   */
  get version(): number {
    return this.generation;
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.options.onWarning?.(message);
  }

  private load(): void {
    const { file, backup } = this.paths;
    let stamp = stampOf(file);
    let bytes: Uint8Array | undefined;
    if (stamp) {
      try {
        bytes = fs.readFileSync(file);
      } catch (e) {
        throw new LedgerWriteError(`cannot read the ledger at ${file}: ${(e as Error).message}`);
      }
    }
    let db: Database;
    try {
      db = openBytes(this.SQL, bytes);
    } catch (e) {
      if (e instanceof SchemaTooNewError) throw e;
      db = this.recover(file, backup, (e as Error).message);
      stamp = stampOf(file);
    }
    try {
      migrate(db);
      ensureRollupFresh(db);
    } catch (e) {
      db.close();
      throw e;
    }
    this.db.close();
    this.db = db;
    this.stamp = stamp;
    this.generation++;
  }

  /**
   * A damaged ledger is moved aside (never deleted) and replaced by the backup, written back at once so the restore
   * sticks; the next import re-reads from the logs whatever is newer than the backup.
   */
  private recover(file: string, backup: string, problem: string): Database {
    const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    try {
      fs.renameSync(file, aside);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new LedgerWriteError(`the ledger at ${file} is damaged (${problem}) and could not be moved aside: ${(e as Error).message}`);
      }
      // Another window or the CLI got there first: use what it restored.
      try {
        if (fs.existsSync(file)) return openBytes(this.SQL, fs.readFileSync(file));
      } catch {
        // fall through to our own restore
      }
    }
    let restored: Database | undefined;
    let restoredBytes: Uint8Array | undefined;
    try {
      if (fs.existsSync(backup)) {
        restoredBytes = fs.readFileSync(backup);
        restored = openBytes(this.SQL, restoredBytes);
      }
    } catch {
      restored = undefined;
    }
    if (restored && restoredBytes) {
      try {
        writeFileAtomic(file, restoredBytes);
      } catch (e) {
        restored.close();
        throw new LedgerWriteError(`the ledger at ${file} was damaged and its backup could not be written back: ${(e as Error).message}`);
      }
      this.warn(
        `The ledger was damaged (${problem}); it was moved to ${aside} and restored from the backup. ` +
          'Run an import to re-read anything newer from your logs.',
      );
      return restored;
    }
    this.warn(
      `The ledger was damaged (${problem}) and no usable backup exists; it was moved to ${aside} and a new ledger was started. ` +
        'Run an import to rebuild it from your logs (labels from the damaged file are lost; logs your tools already deleted cannot be re-read).',
    );
    return new this.SQL.Database();
  }

  /** Reloads when another process saved since we loaded. Cheap when nothing changed (one stat). */
  refresh(): boolean {
    const now = stampOf(this.paths.file);
    if (sameStamp(now, this.stamp)) return false;
    this.load();
    return true;
  }

  /** Serialises writes within this process and across processes (lock file). */
  write<T>(change: (db: Database, ctx: WriteContext) => T | Promise<T>, lockOptions: LockOptions = {}): Promise<T> {
    const run = this.queue.then(() => this.writeLocked(change, lockOptions));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeLocked<T>(change: (db: Database, ctx: WriteContext) => T | Promise<T>, lockOptions: LockOptions): Promise<T> {
    try {
      fs.mkdirSync(this.paths.home, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new LedgerWriteError(`cannot create the ledger folder ${this.paths.home}: ${(e as Error).message}`);
    }
    const lock = await acquireLock(this.paths.lock, { ...this.options, ...lockOptions });
    try {
      this.refresh();
      removeStaleTemps(this.paths.file);
      const fresh = !this.stamp;
      let dirty = fresh;
      if (getMeta(this.db, 'pricing_version') !== PRICING_VERSION) {
        repriceAll(this.db);
        dirty = true;
      }
      const changes = (): number => Number(this.db.exec('SELECT total_changes()')[0]?.values[0]?.[0] ?? 0);
      let saved = changes();
      const ctx: WriteContext = {
        checkpoint: () => {
          this.db.exec('COMMIT');
          if (changes() !== saved) {
            this.save();
            saved = changes();
          }
          lock.touch();
          this.db.exec('BEGIN');
        },
      };
      this.db.exec('BEGIN');
      let result: T;
      try {
        result = await change(this.db, ctx);
        this.db.exec('COMMIT');
      } catch (e) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // no transaction open
        }
        // Whatever was checkpointed is on disk; drop the rest of the in-memory state.
        this.stamp = undefined;
        this.refresh();
        throw e;
      }
      if (dirty || changes() !== saved) this.save();
      return result;
    } finally {
      lock.release();
    }
  }

  private save(): void {
    const bytes = this.db.export();
    try {
      writeFileAtomic(this.paths.file, bytes, this.paths.backup);
    } catch (e) {
      throw new LedgerWriteError(`cannot write the ledger at ${this.paths.file}: ${(e as Error).message}`);
    }
    this.stamp = stampOf(this.paths.file);
    this.generation++;
  }

  close(): void {
    this.db.close();
  }
}

/** Stored costs follow the embedded price table: when its version changes, every interaction is priced again. */
function repriceAll(db: Database): void {
  const rows = db.prepare(
    'SELECT i.id, m.name, i.input, i.output, i.cache_read, i.cache_write, i.cache_write_1h, i.reasoning FROM interactions i JOIN models m ON m.id = i.model_ref',
  );
  const update = db.prepare('UPDATE interactions SET cost_nusd = ? WHERE id = ?');
  try {
    while (rows.step()) {
      const [id, model, input, output, cacheRead, cacheWrite, cacheWrite1h, reasoning] = rows.get() as number[] & [number, string];
      const cost = costUSD(String(model), {
        input: Number(input), output: Number(output), cacheRead: Number(cacheRead), cacheWrite: Number(cacheWrite),
        cacheWrite1h: Number(cacheWrite1h), reasoning: Number(reasoning),
      });
      update.run([cost === null ? null : toNanoUSD(cost), id as number]);
    }
  } finally {
    rows.free();
    update.free();
  }
  rebuildRollup(db, 'all');
  setMeta(db, 'pricing_version', PRICING_VERSION);
}
