import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type { Database, SqlJsStatic } from 'sql.js';
import { activePriceBook, costUSD, creditCostUSD, toNanoUSD } from '../core/usage/pricing';
import type { SourceName } from '../core/usage/model';
import { noun, plural } from '../core/usage/format';
import { removeStaleTemps, writeAtomicWith, writeFileAtomic } from './atomic';
import { diskFaultOf, diskFaultState, type DiskFaultError } from './diskFault';
import { ledgerPaths, type LedgerPaths } from './home';
import { acquireLock, type LockOptions } from './lock';
import { getMeta, migrate, schemaVersion, setMeta, SCHEMA_VERSION, SchemaTooNewError } from './schema';
import {
  appendBlock,
  decodeHeader,
  encodeBlock,
  encodeHeader,
  HEADER_BYTES,
  JOURNAL_FORMAT,
  readBlocks,
  readTail,
  Recorder,
  replay,
  totalChanges,
  type Block,
  type JournalHeader,
} from './journal';
import { ensureRollupFresh, isRollupStale, rebuildRollup } from './rollup';
import {
  archiveDir,
  archiveOldSessions,
  type ArchiveStore,
  defaultHorizon,
  registerArchive,
  removeUnusedFiles,
  restoreAll,
  retireStaleFiles,
} from './archive';
import { PagedFile, READ_WHOLE } from './pagedFile';
import { emptyDatabaseImage, loadSqlJs, writableDatabase } from './sqljs';
import { applyPriceConfig } from './prices';
import type { Plan } from '../core/usage/plans';

export class LedgerWriteError extends Error {}

/** What a write that the disk refused could not do, in the one line the user sees (store/diskFault.ts). */
const SAVE = 'save the ledger';

/** A disk fault as DiskFaultError (one plain line), anything else as LedgerWriteError with `what` in front. */
function writeFailure(e: unknown, what: string, target: string): Error {
  return diskFaultOf(e, SAVE, target) ?? new LedgerWriteError(`${what}: ${(e as Error).message}`);
}

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

/**
 * Cheap structural check before trusting a file: magic header and page count agreeing with the file size (`header`:
 * at least the file's first 100 bytes; `size`: the file's).
 */
function headerProblem(header: Uint8Array, size = header.length): string | undefined {
  const bytes = header;
  if (size < 100 || bytes.length < 100) return 'the file is too short to be a ledger';
  if (Buffer.from(bytes.subarray(0, 16)).toString('latin1') !== SQLITE_MAGIC)
    return 'the file is not an SQLite database';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pageSize = view.getUint16(16);
  if (pageSize === 1) pageSize = 65536;
  const pages = view.getUint32(28);
  if (pages > 0 && pages * pageSize !== size) return `the file is truncated (${size} of ${pages * pageSize} bytes)`;
  return undefined;
}

function openBytes(SQL: SqlJsStatic, bytes: Uint8Array): Database {
  const problem = headerProblem(bytes);
  if (problem) throw new Error(problem);
  return checkedDatabase(writableDatabase(SQL, bytes));
}

/** A database that must be a ledger: it answers a first query and its schema is one this build reads. */
function checkedDatabase(db: Database): Database {
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
  /** Fold the journal into a new snapshot once it would grow past this many bytes (default 1 MB). */
  journalLimitBytes?: number;
  /** Model-name aliases beside the home's prices.json (the VS Code setting `outcomeLedger.prices.aliases`). */
  priceAliases?: unknown;
  /**
   * Sessions whose last request is before this time (ms) have their request rows moved to the archive at the next
   * fold (store/archive.ts); default: the start of the previous calendar month (UTC). `false`: never (tests).
   */
  archiveBefore?: number | false;
  /**
   * Archiving starts once the ledger holds more request rows than this (default 50,000, about two months of heavy
   * use): below it the detail costs a few MB and every query reads it directly.
   */
  archiveMinRequests?: number;
}

const JOURNAL_LIMIT = 1 << 20;
/** Below this many request rows the ledger archives nothing (OpenOptions.archiveMinRequests). */
const ARCHIVE_MIN_REQUESTS = 50_000;
/** A write recording more SQL than this is saved as a whole snapshot instead of a journal block. */
const BLOCK_LIMIT = 1 << 20;

const newSnapshotId = (): string => randomBytes(12).toString('hex');

/**
 * Free pages every snapshot keeps: a 32nd of its pages, at most 1,024 (4 MB at SQLite's default page size). sql.js
 * holds the database file in one array exactly the size of the file it was loaded from, so the first write that needs
 * a page past its end makes it allocate a bigger array and copy the whole database into it: on a year of heavy use
 * that is tens of MB copied by every process that writes once (a CLI capture, a window replaying the journal), about
 * a second where fresh memory is slow, and the old array's memory on top until it is collected. With free pages in the
 * file, SQLite reuses them and the array does not grow for ordinary writes.
 */
const SLACK_SHARE = 32;
const SLACK_MAX_PAGES = 1024;

/** Makes sure the database holds at least its share of free pages (above) before it is saved as a snapshot. */
function keepFreePages(db: Database): void {
  const pragma = (name: string): number => Number(db.exec(`PRAGMA ${name}`)[0]?.values[0]?.[0] ?? 0);
  // Adding free pages makes the file longer, and so its share larger: measured again until the share is there.
  for (let round = 0; round < 3; round++) {
    const want = Math.min(SLACK_MAX_PAGES, Math.floor(pragma('page_count') / SLACK_SHARE));
    const missing = want - pragma('freelist_count');
    if (missing <= 0) return;
    // A value spanning `missing` overflow pages, deleted at once: the pages stay in the file as free pages. Not
    // journaled (a fold writes the whole file); rows, rowids and what a replay does are the same with or without them.
    db.run('INSERT OR REPLACE INTO meta (key, value) VALUES (?, zeroblob(?))', [
      'free_pages',
      missing * pragma('page_size'),
    ]);
    db.run("DELETE FROM meta WHERE key = 'free_pages'");
  }
}

function snapshotIdOf(db: Database): string | undefined {
  const hasMeta = db.exec("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").length > 0;
  return hasMeta ? getMeta(db, 'snapshot_id') : undefined;
}

/**
 * The ledger: a SQLite snapshot (sql.js, in memory) plus a journal of the writes made since it was saved whole
 * (store/journal.ts), shared by the CLI and every VS Code window.
 *
 * Writers go through `write()`: lock file, catch up with what others wrote, apply the change in a transaction, then
 * append the statements it executed to the journal as one checksummed, fsync'd block — a few KB, whatever the size
 * of the history. Past a size (or for a write too big to journal, or when this process changed the database on its
 * own: a migration, a regroup), the database is folded into a new snapshot instead: written atomically (temp + fsync
 * + rename), the previous snapshot kept as the backup and the journal folded into it kept beside it.
 *
 * Readers call `refresh()`: one stat of each file; when only the journal grew, they replay the blocks after the
 * offset they had read, nothing else.
 */
export class Ledger {
  private db: Database;
  /** The snapshot's bytes behind `db`, read on demand (store/pagedFile.ts); undefined when `db` holds its own copy. */
  private paged: PagedFile | undefined;
  private recorder: Recorder;
  private stamp: DiskStamp | undefined;
  private journalStamp: DiskStamp | undefined;
  /** Offset after the last journal block applied; undefined when the journal on disk does not apply to our snapshot. */
  private journalEnd: number | undefined;
  private snapshotId: string | undefined;
  /** Schema version the journal's writer knew (its header): blocks of an older writer are applied by a full load. */
  private journalSchema = SCHEMA_VERSION;
  /** This process's database differs from snapshot + journal (migrated, regrouped, restored, journal damaged). */
  private mustFold = false;
  /** This process migrated the schema since its last fold: the fold saves the database vacuumed if that freed pages. */
  private migrated = false;
  /** The journal has a damaged block: it is moved aside when the next write folds. */
  private journalDamaged = false;
  private queue: Promise<unknown> = Promise.resolve();
  private generation = 0;
  readonly warnings: string[] = [];
  /** The plan of the home's prices.json (null: none set there). */
  plan: Plan | null = null;

  private constructor(
    private readonly SQL: SqlJsStatic,
    readonly paths: LedgerPaths,
    private readonly options: OpenOptions,
  ) {
    this.db = new SQL.Database();
    this.recorder = new Recorder(this.db, BLOCK_LIMIT);
    registerArchive(this.db, { dir: archiveDir(paths.home), SQL });
  }

  static async open(home: string, options: OpenOptions = {}): Promise<Ledger> {
    const SQL = await loadSqlJs();
    const ledger = new Ledger(SQL, ledgerPaths(home), options);
    // Prices follow the home's prices.json: a changed file changes the table version, so the next write reprices.
    const prices = applyPriceConfig(home, options.priceAliases);
    ledger.plan = prices.plan;
    for (const p of prices.problems) ledger.warn(p);
    ledger.load();
    return ledger;
  }

  /** The archive folder beside this ledger (store/archive.ts), with the sql.js that reads its files. */
  private get archiveStore(): ArchiveStore {
    return { dir: archiveDir(this.paths.home), SQL: this.SQL };
  }

  /** The in-memory database. Valid until the next `refresh()`/`write()` reloads it: don't keep it. */
  get database(): Database {
    return this.db;
  }

  /**
   * How this process holds the snapshot: bytes read from the file so far, bytes of pages written and held in memory,
   * and whether pages are read from the file on demand (store/pagedFile.ts) or it was read whole.
   */
  get snapshotMemory(): { read: number; held: number; onDemand: boolean } {
    const p = this.paged;
    return { read: p?.bytesRead ?? 0, held: p?.heldBytes ?? 0, onDemand: !!p?.readsFromDisk && !p.detached };
  }

  get schemaVersion(): number {
    return SCHEMA_VERSION;
  }

  /**
   * Changes whenever the in-memory database may differ from what a reader saw: a reload or a journal tail applied
   * from another process's write, or a write of our own. Views compare it instead of guessing which path changed.
   */
  get version(): number {
    return this.generation;
  }

  /** Bytes on disk: the snapshot and the journal. */
  get bytesOnDisk(): number {
    return (stampOf(this.paths.file)?.size ?? 0) + (stampOf(this.paths.journal)?.size ?? 0);
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.options.onWarning?.(message);
  }

  private load(): void {
    const { file, backup } = this.paths;
    let db: Database;
    let paged: PagedFile | undefined;
    let stamp: DiskStamp | undefined;
    try {
      ({ db, paged, stamp } = this.openSnapshot(file));
    } catch (e) {
      if (e instanceof SchemaTooNewError || e instanceof LedgerWriteError) throw e;
      db = this.recover(file, backup, (e as Error).message);
      stamp = stampOf(file);
    }
    let mustFold = false;
    let migrated = false;
    let damaged = false;
    let journalEnd: number | undefined;
    let journalStamp: DiskStamp | undefined;
    let journalSchema = SCHEMA_VERSION;
    const snapshotId = snapshotIdOf(db);
    try {
      const journal = readTail(this.paths.journal, 0);
      if (journal) {
        journalStamp = stampFromStat(journal.stat);
        const header = decodeHeader(journal.bytes);
        if (header) checkHeader(header);
        if (header) journalSchema = header.schema;
        if (header && snapshotId && header.id === snapshotId) {
          const read = readBlocks(journal.bytes.subarray(HEADER_BYTES), HEADER_BYTES);
          const done = replay(db, read.blocks);
          journalEnd = read.end;
          const problem =
            done.problem ?? (done.applied < read.blocks.length ? 'a block could not be applied' : read.damaged);
          if (problem) {
            if (done.applied < read.blocks.length) journalEnd = undefined;
            damaged = true;
            mustFold = true;
            this.warn(
              `The ledger's journal is damaged (${problem}); the writes before it were kept and the journal is moved aside at the next write. ` +
                'Run an import to re-read anything newer from your logs.',
            );
          }
        }
      }
      if (!snapshotId || journalEnd === undefined) mustFold = true;
      if (migrate(db)) mustFold = migrated = true;
      if (isRollupStale(db)) {
        ensureRollupFresh(db);
        mustFold = true;
      }
    } catch (e) {
      db.close();
      paged?.close();
      throw e;
    }
    this.db.close();
    this.paged?.close();
    this.db = db;
    this.paged = paged;
    registerArchive(db, this.archiveStore);
    this.recorder = new Recorder(db, BLOCK_LIMIT);
    this.stamp = stamp;
    this.journalStamp = journalStamp;
    this.journalEnd = journalEnd;
    this.snapshotId = snapshotId;
    this.journalSchema = journalSchema;
    this.mustFold = mustFold;
    this.migrated = migrated;
    this.journalDamaged = damaged;
    this.generation++;
  }

  /**
   * The snapshot as a database whose pages are read from the file when SQLite asks for them (store/pagedFile.ts),
   * with the stamp of the file it reads; a new, empty database when there is none yet. Throws what `recover` mends
   * (a damaged file) as a plain Error; a file that cannot be read at all as a LedgerWriteError.
   */
  private openSnapshot(file: string): { db: Database; paged: PagedFile; stamp: DiskStamp | undefined } {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new LedgerWriteError(`cannot read the ledger at ${file}: ${(e as Error).message}`);
      const paged = PagedFile.inMemory(emptyDatabaseImage(this.SQL));
      return { db: writableDatabase(this.SQL, paged), paged, stamp: undefined };
    }
    let fdOpen = true;
    let paged: PagedFile | undefined;
    try {
      let stat: fs.Stats;
      const header = new Uint8Array(100);
      let got: number;
      try {
        stat = fs.fstatSync(fd);
        got = fs.readSync(fd, header, 0, header.length, 0);
      } catch (e) {
        throw new LedgerWriteError(`cannot read the ledger at ${file}: ${(e as Error).message}`);
      }
      const problem = headerProblem(header.subarray(0, got), stat.size);
      if (problem) throw new Error(problem);
      if (READ_WHOLE) {
        // Windows cannot replace a file another process holds open: there the snapshot is read whole, as before.
        const bytes = fs.readFileSync(fd);
        fs.closeSync(fd);
        fdOpen = false;
        paged = PagedFile.inMemory(bytes);
      } else {
        paged = PagedFile.onDisk(fd, stat.size);
        fdOpen = false;
      }
      return { db: checkedDatabase(writableDatabase(this.SQL, paged)), paged, stamp: stampFromStat(stat) };
    } catch (e) {
      if (fdOpen) fs.closeSync(fd);
      paged?.close();
      throw e;
    }
  }

  /**
   * A damaged snapshot is moved aside (never deleted) and replaced by the backup with the journal that was folded
   * into the damaged one and the journal written since: nothing is lost when both journals are intact. The result is
   * written back at once so the restore sticks. On a folder that cannot be written (read-only, full), the same
   * restore is made in memory only and shown read-only: nothing on disk is touched.
   */
  private recover(file: string, backup: string, problem: string): Database {
    const stampNow = new Date().toISOString().replace(/[:.]/g, '-');
    const aside = `${file}.damaged-${stampNow}`;
    let readOnly: DiskFaultError | undefined;
    try {
      fs.renameSync(file, aside);
    } catch (e) {
      readOnly = diskFaultOf(e, SAVE, file);
      if (!readOnly && (e as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new LedgerWriteError(
          `the ledger at ${file} is damaged (${problem}) and could not be moved aside: ${(e as Error).message}`,
        );
      }
    }
    if (!readOnly && !fs.existsSync(aside)) {
      // Another window or the CLI got there first: use what it restored.
      try {
        if (fs.existsSync(file)) return openBytes(this.SQL, fs.readFileSync(file));
      } catch {
        // fall through to our own restore
      }
    }
    let restored: Database | undefined;
    try {
      if (fs.existsSync(backup)) restored = openBytes(this.SQL, fs.readFileSync(backup));
    } catch {
      restored = undefined;
    }
    if (restored) {
      const backupId = snapshotIdOf(restored);
      let replayed = 0;
      if (backupId) {
        // The journal folded into the damaged snapshot, then the one written since (it names the backup as its
        // predecessor); or, when the backup is a copy of the snapshot itself (the first save ever), its own journal.
        const replayFile = (file: string, applies: (h: JournalHeader) => boolean): boolean => {
          const j = readTail(file, 0);
          const header = j && decodeHeader(j.bytes);
          if (!j || !header || header.format > JOURNAL_FORMAT || !applies(header)) return false;
          const read = readBlocks(j.bytes.subarray(HEADER_BYTES), HEADER_BYTES);
          const done = replay(restored, read.blocks);
          replayed += done.applied;
          return done.applied === read.blocks.length;
        };
        const chained = replayFile(this.paths.journalBackup, (h) => h.id === backupId);
        replayFile(this.paths.journal, (h) => h.id === backupId || (chained && h.prev === backupId));
      }
      if (readOnly) {
        // A fresh id: the journal on disk belongs to the backup and was replayed above, never again by load().
        setMeta(restored, 'snapshot_id', newSnapshotId());
        this.warn(
          `The ledger is damaged (${problem}) and cannot be repaired now: ${diskFaultState(readOnly.code, readOnly.folder)}. ` +
            `Showing its backup${replayed > 0 ? ` with ${plural(replayed, 'write')} from the journal` : ''}, read-only; nothing on disk was changed.`,
        );
        return restored;
      }
      try {
        const id = newSnapshotId();
        setMeta(restored, 'snapshot_id', id);
        writeFileAtomic(file, restored.export());
        writeFileAtomic(
          this.paths.journal,
          encodeHeader({ format: JOURNAL_FORMAT, schema: SCHEMA_VERSION, id, prev: backupId ?? '' }),
        );
      } catch (e) {
        restored.close();
        throw writeFailure(e, `the ledger at ${file} was damaged and its backup could not be written back`, file);
      }
      this.warn(
        `The ledger was damaged (${problem}); it was moved to ${aside} and restored from the backup.` +
          (replayed > 0
            ? ` ${plural(replayed, 'write')} ${noun(replayed, 'was', 'were')} replayed from the journal.`
            : '') +
          ' Run an import to re-read anything newer from your logs.',
      );
      return restored;
    }
    if (readOnly) {
      throw new LedgerWriteError(
        `the ledger at ${file} is damaged (${problem}), has no usable backup, and cannot be moved aside: ${diskFaultState(readOnly.code, readOnly.folder)}`,
      );
    }
    try {
      fs.renameSync(this.paths.journal, `${this.paths.journal}.damaged-${stampNow}`);
    } catch {
      // no journal
    }
    this.warn(
      `The ledger was damaged (${problem}) and no usable backup exists; it was moved to ${aside} and a new ledger was started. ` +
        'Run an import to rebuild it from your logs (labels from the damaged file are lost; logs your tools already deleted cannot be re-read).',
    );
    return writableDatabase(this.SQL);
  }

  /**
   * Catches up with other processes' writes. One stat per file when nothing changed; when only the journal grew,
   * only the new blocks are read and applied. Returns whether anything changed.
   */
  refresh(): boolean {
    const now = stampOf(this.paths.file);
    // A VACUUM that shrank the database made sql.js copy it whole into memory: read it from the saved file again.
    if (!sameStamp(now, this.stamp) || this.paged?.detached) {
      this.load();
      return true;
    }
    const journalNow = stampOf(this.paths.journal);
    if (sameStamp(journalNow, this.journalStamp)) return false;
    const from = this.journalEnd;
    // Blocks written by an older build (before a migration this process ran in memory) do not keep what the
    // migration added (the aggregates): load, which replays them onto the old schema and migrates again.
    if (
      from === undefined ||
      this.journalSchema < SCHEMA_VERSION ||
      !journalNow ||
      !this.journalStamp ||
      journalNow.ino !== this.journalStamp.ino ||
      journalNow.size < from
    ) {
      this.load();
      return true;
    }
    const tail = readTail(this.paths.journal, from);
    if (!tail || tail.stat.ino !== journalNow.ino) {
      this.load();
      return true;
    }
    const read = readBlocks(tail.bytes, from);
    const done = replay(this.db, read.blocks);
    this.journalStamp = stampFromStat(tail.stat);
    if (done.applied < read.blocks.length || read.damaged) {
      // Damage another process wrote: reload, which keeps what is good and says so.
      this.load();
      return true;
    }
    this.journalEnd = read.end;
    if (done.applied === 0) return false;
    this.generation++;
    return true;
  }

  /** Serialises writes within this process and across processes (lock file). */
  write<T>(change: (db: Database, ctx: WriteContext) => T | Promise<T>, lockOptions: LockOptions = {}): Promise<T> {
    const run = this.queue.then(() => this.writeLocked(change, lockOptions));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Bytes of writes in the journal not yet folded into the snapshot (what every other process's open replays). */
  get journalBytes(): number {
    return Math.max(0, (this.journalEnd ?? 0) - HEADER_BYTES);
  }

  /** Folds the journal into a new snapshot now (idle time, tests); nothing to do when the journal is empty. */
  compact(lockOptions: LockOptions = {}): Promise<void> {
    return this.write(() => {
      if ((this.journalEnd ?? 0) > HEADER_BYTES) this.mustFold = true;
    }, lockOptions);
  }

  /**
   * Folds the journal when it holds at least `minBytes` of writes (another process's included): the extension calls
   * it once captures have been quiet for a while, so the fold is paid at idle and later opens replay nothing.
   */
  async foldIfAtLeast(minBytes: number, lockOptions: LockOptions = {}): Promise<boolean> {
    this.refresh();
    if (this.journalBytes < Math.max(1, minBytes)) return false;
    let folded = false;
    await this.write(() => {
      // Under the lock, after catching up: another writer may have folded meanwhile.
      if (this.journalBytes >= Math.max(1, minBytes)) {
        this.mustFold = true;
        folded = true;
      }
    }, lockOptions);
    return folded;
  }

  private async writeLocked<T>(
    change: (db: Database, ctx: WriteContext) => T | Promise<T>,
    lockOptions: LockOptions,
  ): Promise<T> {
    try {
      fs.mkdirSync(this.paths.home, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw writeFailure(e, `cannot create the ledger folder ${this.paths.home}`, this.paths.home);
    }
    let lock: Awaited<ReturnType<typeof acquireLock>>;
    try {
      lock = await acquireLock(this.paths.lock, { ...this.options, ...lockOptions });
    } catch (e) {
      throw diskFaultOf(e, SAVE, this.paths.lock) ?? e;
    }
    try {
      this.refresh();
      removeStaleTemps(this.paths.file, this.paths.backup, this.paths.journal, this.paths.folderListings);
      if (!this.stamp) this.mustFold = true;
      this.recorder.start();
      let base = totalChanges(this.db);
      if (getMeta(this.db, 'pricing_version') !== activePriceBook().version) repriceAll(this.db);
      /** A checkpoint saved part of this write: it is a big one (a first import), and its end is folded too. */
      let checkpointed = false;
      /** Saves what the write did so far; `midWrite`: a checkpoint, more of the same write follows (see fold). */
      const commit = (midWrite = false): void => {
        const changed = totalChanges(this.db) - base;
        const block = this.recorder.take(changed);
        if (this.mustFold || block === 'overflow' || (checkpointed && !midWrite)) this.fold(midWrite);
        else if (block) this.append(block, midWrite);
        if (midWrite) checkpointed = true;
        base = totalChanges(this.db);
      };
      const ctx: WriteContext = {
        checkpoint: () => {
          this.db.exec('COMMIT');
          commit(true);
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
        this.recorder.stop();
        this.discardUnsaved();
        throw e;
      }
      try {
        commit();
      } catch (e) {
        // The disk refused the save: what memory holds beyond the disk is dropped, so this process keeps showing
        // (and later builds on) exactly what was saved.
        this.recorder.stop();
        this.discardUnsaved();
        throw e;
      }
      return result;
    } finally {
      this.recorder.stop();
      lock.release();
    }
  }

  /** Whatever was checkpointed is on disk; drops the rest of the in-memory state by reloading what was saved. */
  private discardUnsaved(): void {
    this.stamp = undefined;
    try {
      this.refresh();
    } catch {
      // the ledger cannot be read back now either: the next refresh tries again
    }
  }

  /** Appends one block to the journal (folding instead when the journal would grow past its limit). */
  private append(block: Block, midWrite: boolean): void {
    const bytes = encodeBlock(block);
    const end = this.journalEnd;
    if (end === undefined || end + bytes.length > (this.options.journalLimitBytes ?? JOURNAL_LIMIT)) {
      this.fold(midWrite);
      return;
    }
    try {
      this.journalEnd = appendBlock(this.paths.journal, end, bytes);
    } catch (e) {
      throw writeFailure(e, `cannot write the ledger's journal at ${this.paths.journal}`, this.paths.journal);
    }
    this.journalStamp = stampOf(this.paths.journal);
    this.generation++;
  }

  /**
   * Saves the whole database as a new snapshot: the previous snapshot becomes the backup and the journal folded into
   * the new one is kept beside it (together they rebuild it), then a new, empty journal starts.
   */
  /** Saves the whole database as a new snapshot; `midWrite`: at a checkpoint, the same write goes on after it. */
  private fold(midWrite = false): void {
    const id = newSnapshotId();
    const prev = this.snapshotId ?? '';
    const damaged = this.journalDamaged;
    this.recorder.stop();
    let archived: boolean;
    try {
      archived = this.archive();
    } catch (e) {
      throw writeFailure(e, `cannot write the ledger's archive in ${archiveDir(this.paths.home)}`, this.paths.home);
    }
    // A VACUUM rewrites every page and sql.js then copies the shrunk file whole (twice) and exports it (once more):
    // about four copies of the ledger in memory. In the middle of a write (a first import's checkpoint) the pages an
    // archive pass freed are about to be filled again by the rest of it, so only the fold that ends a write does it.
    if ((archived && !midWrite) || this.migrated) this.vacuumIfFree();
    setMeta(this.db, 'snapshot_id', id);
    retireStaleFiles(this.db);
    keepFreePages(this.db);
    // Written from the pages (those in memory and the rest read from the old snapshot) when the content is paged;
    // sql.js's export() — a copy of the database, copied again — only when it holds the content itself.
    const paged = this.paged && !this.paged.detached ? this.paged : undefined;
    const bytes = paged ? undefined : this.db.export();
    const save = (target: string, options?: { backup: string }): void => {
      if (bytes) writeFileAtomic(target, bytes, options);
      else if (paged) writeAtomicWith(target, (fd) => paged.writeTo(fd), options);
    };
    const size = bytes ? bytes.length : (paged?.byteLength ?? 0);
    try {
      const first = !fs.existsSync(this.paths.file);
      save(this.paths.file, { backup: this.paths.backup });
      // The first save has no previous snapshot to keep: a copy of itself is the backup (with the journal after it).
      if (first) save(this.paths.backup);
      if (fs.existsSync(this.paths.journal)) {
        const to = damaged
          ? `${this.paths.journal}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`
          : this.paths.journalBackup;
        fs.renameSync(this.paths.journal, to);
      }
      writeFileAtomic(this.paths.journal, encodeHeader({ format: JOURNAL_FORMAT, schema: SCHEMA_VERSION, id, prev }));
    } catch (e) {
      throw writeFailure(e, `cannot write the ledger at ${this.paths.file}`, this.paths.file);
    }
    this.readFromSaved(size);
    // Saved: archive files neither this snapshot nor its backup can read go (store/archive.ts retireStaleFiles).
    removeUnusedFiles(this.db, this.archiveStore);
    this.recorder.start();
    this.stamp = stampOf(this.paths.file);
    this.journalStamp = stampOf(this.paths.journal);
    this.journalEnd = HEADER_BYTES;
    this.snapshotId = id;
    this.journalSchema = SCHEMA_VERSION;
    this.mustFold = false;
    this.migrated = false;
    this.journalDamaged = false;
    this.generation++;
  }

  /**
   * The snapshot just saved holds exactly what the database holds: read its pages from that file from now on and let
   * the pages written in memory go, so what a long import or a window keeps is what it touches, not what it wrote.
   */
  private readFromSaved(size: number): void {
    const paged = this.paged;
    if (!paged || paged.detached || READ_WHOLE) return;
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.paths.file, 'r');
      if (fs.fstatSync(fd).size === size) {
        paged.rebase(fd, size);
        fd = undefined;
      }
    } catch {
      // Keep the pages in memory: they are the same content.
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /**
   * Moves the request rows of sessions that ended before the horizon to archive files (store/archive.ts), in the
   * database this fold is about to save: what every open loads keeps the aggregates and recent detail only.
   */
  private archive(): boolean {
    const horizon = this.options.archiveBefore ?? defaultHorizon();
    // A checkpoint of a big import left the sums behind the rows: archive only once they are regrouped.
    if (horizon === false || isRollupStale(this.db)) return false;
    const store = this.archiveStore;
    registerArchive(this.db, store);
    this.db.exec('BEGIN');
    try {
      const min = this.options.archiveMinRequests ?? ARCHIVE_MIN_REQUESTS;
      const hot = Number(this.db.exec('SELECT count(*) FROM interactions')[0]?.values[0]?.[0] ?? 0);
      if (hot > min) archiveOldSessions(this.db, store, horizon);
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
    return true;
  }

  /**
   * SQLite keeps the pages freed rows leave inside the file: when they are an eighth of it, the snapshot this fold
   * saves is rebuilt without them (after an archive pass moved many rows, or a migration rebuilt a table; a fold is
   * under the lock).
   */
  private vacuumIfFree(): void {
    const pages = Number(this.db.exec('PRAGMA page_count')[0]?.values[0]?.[0] ?? 0);
    const free = Number(this.db.exec('PRAGMA freelist_count')[0]?.values[0]?.[0] ?? 0);
    if (free * 8 <= pages) return;
    this.db.exec('VACUUM');
    // The file shrank, and sql.js copies a file it resizes whole into its own memory: the next refresh reads the
    // saved snapshot on demand again (store/pagedFile.ts).
    if (this.paged) this.paged.detached = true;
  }

  close(): void {
    this.db.close();
    this.paged?.close();
    this.paged = undefined;
  }
}

function stampFromStat(s: fs.Stats): DiskStamp {
  return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs };
}

/** A journal from a newer build is never replayed or written by this one. */
function checkHeader(h: JournalHeader): void {
  if (h.schema > SCHEMA_VERSION) throw new SchemaTooNewError(h.schema);
  if (h.format > JOURNAL_FORMAT) {
    throw new SchemaTooNewError(SCHEMA_VERSION, `journal format ${h.format}; this build knows ${JOURNAL_FORMAT}`);
  }
}

/**
 * Stored costs follow the price table (the embedded database and the engineer's prices.json): when its version changes,
 * every interaction is priced again, at the price of its own time; requests metered in credits stay priced from them.
 */
function repriceAll(db: Database): void {
  // Every request is priced again: archived sessions come back first (the next fold archives them again).
  restoreAll(db);
  const rows = db.prepare(
    `SELECT i.id, m.name, i.input, i.output, i.cache_read, i.cache_write, i.cache_write_1h, i.reasoning, i.ts, i.credits_u, s.source
     FROM interactions i JOIN models m ON m.id = i.model_ref JOIN sessions s ON s.id = i.session_ref`,
  );
  const update = db.prepare('UPDATE interactions SET cost_nusd = ? WHERE id = ?');
  try {
    while (rows.step()) {
      const [id, model, input, output, cacheRead, cacheWrite, cacheWrite1h, reasoning, ts, credits, source] =
        rows.get() as number[] & [number, string];
      const cost =
        Number(credits) > 0
          ? creditCostUSD(String(source) as SourceName, Number(credits) / 1e6)
          : costUSD(
              String(model),
              {
                input: Number(input),
                output: Number(output),
                cacheRead: Number(cacheRead),
                cacheWrite: Number(cacheWrite),
                cacheWrite1h: Number(cacheWrite1h),
                reasoning: Number(reasoning),
              },
              Number(ts),
            );
      update.run([cost === null ? null : toNanoUSD(cost), id as number]);
    }
  } finally {
    rows.free();
    update.free();
  }
  rebuildRollup(db, 'all');
  setMeta(db, 'pricing_version', activePriceBook().version);
}
