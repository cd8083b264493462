import * as path from 'node:path';
import type { Database, Statement } from 'sql.js';
import type { EditRecord, InteractionRecord, LedgerRecord, PromptRecord, SessionContext } from '../core/usage/model';
import { costUSD, creditCostUSD, toMicroCredits, toNanoUSD } from '../core/usage/pricing';
import { totalOf } from '../core/usage/tokens';
import { NumberSet } from '../core/common/numberSet';
import { pathKey, promptHash, stableId } from './hash';
import { isRollupStale, rebuildRollup } from './rollup';
import { restoreSession } from './archive';
import { FLAG_ESTIMATED, FLAG_MODEL_ASSUMED, FLAG_OTLP, FLAG_SIDECHAIN, getMeta } from './schema';
import { logPathParts, PathInterner, PATH_ID_SQL, sessionCwdSql, sessionLogPathSql } from './paths';

export interface RecordWriterOptions {
  /** Repository root for a working directory (null when it is not in a repository or no longer exists). */
  repoOf: (cwd: string) => string | null;
  storePromptText?: boolean;
}

/** How the importer stores a new request (its id first, then the row's values); the bench's insert floor uses it too. */
export const INSERT_INTERACTION_SQL =
  'INSERT OR IGNORE INTO interactions (id, session_ref, ts, model_ref, input, output, cache_read, cache_write, cache_write_1h, reasoning, cost_nusd, recorded_cost_nusd, flags, credits_u) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)';

interface SessionRow {
  id: number;
  cwd: string | null;
  repo: string | null;
  branch: string | null;
  logPath: string | null;
}

/**
 * Writes parsed records into the ledger inside the caller's transaction. Dedup is global and by natural key:
 * on a collision the copy with the larger token total wins, a non-sidechain copy winning a tie (docs/measurement.md).
 */
export class RecordWriter {
  private readonly stmts: Statement[] = [];
  private readonly findInteraction: Statement;
  private readonly insertInteraction: Statement;
  private readonly replaceInteraction: Statement;
  private readonly findSession: Statement;
  private readonly insertSession: Statement;
  private readonly updateSession: Statement;
  private readonly insertModel: Statement;
  private readonly findModel: Statement;
  private readonly insertFile: Statement;
  private readonly insertBranch: Statement;
  private readonly insertPrompt: Statement;
  private readonly sessions = new Map<string, SessionRow>();
  private readonly models = new Map<string, number>();
  private readonly seenBranches = new Set<string>();
  private readonly seenFiles = new Set<string>();
  /** The kept copy per natural key seen in this run (bounded). */
  private readonly recent = new Map<string, Copy & { id: number }>();
  /** Sessions whose interactions changed: their usage rollup is rebuilt by `flush()`. */
  private readonly dirty = new Set<number>();
  /** The twin of a request in its session (same counts, close in time), read from a log / received over OTLP. */
  private readonly findLogTwin: Statement;
  private readonly findOtlpTwin: Statement;
  /** The ledger holds requests received over OTLP (meta `otlp_records`): only then does a log copy look for its twin. */
  private readonly otlpSeen: boolean;
  /** Dedup keys and sessions of requests moved to the archive (schema 9, store/archive.ts); undefined before. */
  private readonly findArchived: Statement | undefined;
  private readonly findArchivedSession: Statement | undefined;
  /** Sessions known to hold their request rows in the ledger (checked, or restored from the archive) in this run. */
  private readonly hot = new Set<number>();
  private readonly paths: PathInterner;
  private readonly lastRowId: Statement;
  /**
   * A first import (the ledger held no request and no session when this writer started): every request the archive
   * can hold, and every session the ledger can hold, was then written by this writer, so those it never wrote need no
   * lookup — on a year of heavy use a quarter of a million random reads of index pages (docs/ledger.md "A first
   * import"). The ids of what it wrote are kept as numbers (a session by a hash of its key: a collision only costs
   * the lookup).
   */
  private readonly written: { requests: NumberSet; sessions: NumberSet } | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: RecordWriterOptions,
  ) {
    const prep = (sql: string): Statement => {
      const s = db.prepare(sql);
      this.stmts.push(s);
      return s;
    };
    this.findInteraction = prep(
      'SELECT input + output + cache_read + cache_write, flags, session_ref, credits_u FROM interactions WHERE id = ?',
    );
    this.insertInteraction = prep(INSERT_INTERACTION_SQL);
    this.replaceInteraction = prep(
      'UPDATE interactions SET session_ref=?, ts=?, model_ref=?, input=?, output=?, cache_read=?, cache_write=?, cache_write_1h=?, reasoning=?, cost_nusd=?, recorded_cost_nusd=?, flags=?, credits_u=? WHERE id=?',
    );
    this.findSession = prep(
      `SELECT id, ${sessionCwdSql()}, repo, branch, ${sessionLogPathSql()} FROM sessions s WHERE source = ? AND session_key = ?`,
    );
    // Working folder and log file by reference (schema 10, store/paths.ts): interned first, then found by text.
    this.insertSession = prep(
      `INSERT INTO sessions (source, session_key, cwd_ref, repo, branch, log_dir_ref, log_name) VALUES (?,?,${PATH_ID_SQL},?,?,${PATH_ID_SQL},?)`,
    );
    this.updateSession = prep(
      `UPDATE sessions SET cwd_ref = ${PATH_ID_SQL}, repo = ?, branch = ?, log_dir_ref = ${PATH_ID_SQL}, log_name = ? WHERE id = ?`,
    );
    this.paths = new PathInterner(db);
    this.findModel = prep('SELECT id FROM models WHERE name = ?');
    this.insertModel = prep('INSERT INTO models (name) VALUES (?)');
    this.insertFile = prep('INSERT OR IGNORE INTO session_files (session_ref, path) VALUES (?, ?)');
    this.insertBranch = prep('INSERT OR IGNORE INTO session_branches (session_ref, branch) VALUES (?, ?)');
    this.insertPrompt = prep('INSERT OR IGNORE INTO prompts (id, session_ref, ts, hash, text) VALUES (?,?,?,?,?)');
    const twin =
      'SELECT id FROM interactions WHERE session_ref = ? AND ts BETWEEN ? AND ? AND input = ? AND output = ? AND cache_read = ? AND cache_write = ?';
    this.findLogTwin = prep(`${twin} AND (flags & ${FLAG_OTLP}) = 0 LIMIT 1`);
    this.findOtlpTwin = prep(`${twin} AND (flags & ${FLAG_OTLP}) != 0 AND id != ? LIMIT 1`);
    this.otlpSeen = getMeta(db, OTLP_META) !== undefined;
    const archive = db.exec("SELECT 1 FROM sqlite_master WHERE type='table' AND name='archived_requests'").length > 0;
    this.findArchived = archive
      ? prep('SELECT session_ref, total, flags, credits_u FROM archived_requests WHERE id = ?')
      : undefined;
    this.findArchivedSession = archive ? prep('SELECT 1 FROM archived_sessions WHERE session_ref = ?') : undefined;
    this.lastRowId = prep('SELECT last_insert_rowid()');
    const empty = (table: string): boolean =>
      db.exec(`SELECT EXISTS (SELECT 1 FROM ${table})`)[0]?.values[0]?.[0] === 0;
    this.written =
      empty('interactions') && empty('sessions') && (!archive || empty('archived_requests'))
        ? { requests: new NumberSet(1 << 14), sessions: new NumberSet(1 << 12) }
        : undefined;
  }

  /** Whether a request with this id may be in the ledger or its archive (always, unless this is a first import). */
  private mayExist(id: number): boolean {
    return this.written === undefined || this.written.requests.has(id);
  }

  private insertedRowId(): number {
    this.lastRowId.step();
    const id = Number(this.lastRowId.get()[0]);
    this.lastRowId.reset();
    return id;
  }

  /**
   * A session whose request rows were moved to the archive is restored before any of its requests changes, so its
   * rollup is regrouped from all of them (store/archive.ts).
   */
  private ensureHot(sessionRef: number): void {
    if (!this.findArchivedSession || this.hot.has(sessionRef)) return;
    this.findArchivedSession.bind([sessionRef]);
    const archived = this.findArchivedSession.step();
    this.findArchivedSession.reset();
    if (archived) restoreSession(this.db, sessionRef);
    this.hot.add(sessionRef);
  }

  /** The dedup key of an archived request with this id, if one is. */
  private archivedCopy(id: number): (Copy & { session: number }) | undefined {
    if (!this.findArchived) return undefined;
    this.findArchived.bind([id]);
    const row = this.findArchived.step() ? (this.findArchived.get() as number[]) : undefined;
    this.findArchived.reset();
    if (!row) return undefined;
    const [session = 0, total = 0, flags = 0, credits = 0] = row.map(Number);
    return {
      session,
      total,
      credits,
      sidechain: (flags & FLAG_SIDECHAIN) !== 0,
      estimated: (flags & FLAG_ESTIMATED) !== 0,
    };
  }

  /**
   * Dedup of a request received over OTLP against the same request read from a log (docs/otel.md): the tools' telemetry
   * carries no log key, so the twin is the request of the same session with the same four counts within TWIN_WINDOW_MS.
   * The log copy always wins (it knows the folder, branch and edits).
   */
  private twin(stmt: Statement, sessionRef: number, r: InteractionRecord, not?: number): number | undefined {
    const t = r.tokens;
    stmt.bind([
      sessionRef,
      r.timestamp - TWIN_WINDOW_MS,
      r.timestamp + TWIN_WINDOW_MS,
      t.input,
      t.output,
      t.cacheRead,
      t.cacheWrite,
      ...(not === undefined ? [] : [not]),
    ]);
    const id = stmt.step() ? Number(stmt.get()[0]) : undefined;
    stmt.reset();
    return id;
  }

  /** After a log copy was stored: the OTLP copy of the same request, if any, is removed (returns whether one was). */
  private dropOtlpTwin(r: InteractionRecord, id: number, sessionRef: number): boolean {
    if (!this.otlpSeen || r.viaOtlp) return false;
    const twin = this.twin(this.findOtlpTwin, sessionRef, r, id);
    if (twin === undefined) return false;
    this.db.run('DELETE FROM interactions WHERE id = ?', [twin]);
    this.dirty.add(sessionRef);
    return true;
  }

  /** Adds one record; returns whether an interaction was new, a duplicate, or neither (edits, prompts). */
  add(record: LedgerRecord, logPath: string): 'added' | 'duplicate' | 'other' {
    const session = this.session(record.session, logPath);
    switch (record.kind) {
      case 'interaction':
        return this.addInteraction(record, session.id);
      case 'edit':
        this.addEdit(record, session);
        return 'other';
      case 'prompt':
        this.addPrompt(record, session.id);
        return 'other';
    }
  }

  private addInteraction(r: InteractionRecord, sessionRef: number): 'added' | 'duplicate' {
    const total = totalOf(r.tokens);
    const credits =
      r.credits !== undefined && Number.isFinite(r.credits) && r.credits > 0 ? toMicroCredits(r.credits) : 0;
    const copy: Copy = { total, credits, sidechain: r.sidechain, estimated: r.estimated === true };
    // Claude Code repeats a message on every content-block line: the copies seen in this run are settled here,
    // without touching SQLite, unless the new copy is better.
    const seen = this.recent.get(r.key);
    if (seen && !betterCopy(copy, seen)) return 'duplicate';
    const id = seen?.id ?? stableId(r.key);
    this.ensureHot(sessionRef);
    if (!seen) {
      // A copy of a request moved to the archive (a resumed session copies old messages): settled from its key, or
      // its session restored first when the new copy is better.
      const archived = this.mayExist(id) ? this.archivedCopy(id) : undefined;
      if (archived) {
        if (!betterCopy(copy, archived)) {
          this.remember(r.key, { id, ...archived });
          return 'duplicate';
        }
        this.ensureHot(archived.session);
      }
    }
    // A request received over OTLP that a log file already gave is not stored twice.
    if (r.viaOtlp && this.twin(this.findLogTwin, sessionRef, r) !== undefined) return 'duplicate';
    const flags =
      (r.sidechain ? FLAG_SIDECHAIN : 0) |
      (r.modelAssumed ? FLAG_MODEL_ASSUMED : 0) |
      (r.estimated ? FLAG_ESTIMATED : 0) |
      (r.viaOtlp ? FLAG_OTLP : 0);
    // A request metered in credits is priced from them (its tokens, if any, are what the credits paid for).
    const cost =
      credits > 0
        ? creditCostUSD(r.session.source, credits / 1e6)
        : costUSD(r.model, { ...r.tokens, cacheWrite1h: r.cacheWrite1h }, r.timestamp);
    const values = [
      sessionRef,
      r.timestamp,
      this.model(r.model),
      r.tokens.input,
      r.tokens.output,
      r.tokens.cacheRead,
      r.tokens.cacheWrite,
      r.cacheWrite1h,
      r.tokens.reasoning,
      cost === null ? null : toNanoUSD(cost),
      r.recordedCostUSD === undefined ? null : toNanoUSD(r.recordedCostUSD),
      flags,
      credits,
    ];
    this.remember(r.key, { id, ...copy });
    this.written?.requests.add(id);
    if (!seen) {
      // Insert first: new is the common case; only a collision with an earlier run pays for the lookup.
      this.insertInteraction.run([id, ...values]);
      if (this.db.getRowsModified() === 1) {
        this.dirty.add(sessionRef);
        return this.dropOtlpTwin(r, id, sessionRef) ? 'duplicate' : 'added';
      }
    }
    this.findInteraction.bind([id]);
    const existing = (this.findInteraction.step() ? this.findInteraction.get() : []) as number[];
    this.findInteraction.reset();
    const [oldTotal = 0, oldFlags = 0, oldSession = sessionRef, oldCredits = 0] = existing;
    const old: Copy = {
      total: oldTotal,
      credits: oldCredits,
      sidechain: (oldFlags & FLAG_SIDECHAIN) !== 0,
      estimated: (oldFlags & FLAG_ESTIMATED) !== 0,
    };
    if (betterCopy(copy, old)) {
      this.replaceInteraction.run([...values, id]);
      this.dirty.add(sessionRef);
      this.dirty.add(oldSession);
      this.dropOtlpTwin(r, id, sessionRef);
    } else {
      this.remember(r.key, { id, ...old });
    }
    return 'duplicate';
  }

  /** Removes an interaction its log has withdrawn (Gemini CLI's rewind); unknown keys are ignored. */
  retract(key: string): void {
    const id = stableId(key);
    this.recent.delete(key);
    if (!this.mayExist(id)) return;
    const archived = this.archivedCopy(id);
    if (archived) this.ensureHot(archived.session);
    this.findInteraction.bind([id]);
    const row = this.findInteraction.step() ? this.findInteraction.get() : undefined;
    this.findInteraction.reset();
    if (!row) return;
    this.db.run('DELETE FROM interactions WHERE id = ?', [id]);
    this.dirty.add(Number(row[2]));
  }

  private remember(key: string, copy: Copy & { id: number }): void {
    if (this.recent.size >= MAX_RECENT) this.recent.clear(); // bounded: copies are adjacent in practice
    this.recent.set(key, copy);
  }

  private addEdit(r: EditRecord, session: SessionRow): void {
    const rel = repoRelative(r.path, session.cwd, session.repo);
    if (!rel) return;
    const key = `${session.id}\u0000${rel}`;
    if (this.seenFiles.has(key)) return;
    this.seenFiles.add(key);
    this.insertFile.run([session.id, rel]);
  }

  private addPrompt(r: PromptRecord, sessionRef: number): void {
    this.insertPrompt.run([
      stableId(r.key),
      sessionRef,
      r.timestamp,
      promptHash(r.text),
      this.options.storePromptText ? r.text : null,
    ]);
  }

  private model(name: string): number {
    let id = this.models.get(name);
    if (id === undefined) {
      this.findModel.bind([name]);
      if (this.findModel.step()) id = Number(this.findModel.get()[0]);
      this.findModel.reset();
      if (id === undefined) {
        this.insertModel.run([name]);
        id = this.insertedRowId();
      }
      this.models.set(name, id);
    }
    return id;
  }

  private storedSession(ctx: SessionContext): SessionRow | undefined {
    this.findSession.bind([ctx.source, ctx.sessionId]);
    let row: SessionRow | undefined;
    if (this.findSession.step()) {
      const [id, cwd, repo, branch, log] = this.findSession.get();
      row = {
        id: Number(id),
        cwd: nullable(cwd),
        repo: nullable(repo),
        branch: nullable(branch),
        logPath: nullable(log),
      };
    }
    this.findSession.reset();
    return row;
  }

  private session(ctx: SessionContext, logPath: string): SessionRow {
    const key = `${ctx.source}\u0000${ctx.sessionId}`;
    let row = this.sessions.get(key);
    if (!row) {
      // In a first import a session this writer never wrote is not in the ledger: no lookup (see `written`).
      const hash = this.written ? pathKey(key) : 0;
      if (!this.written || this.written.sessions.has(hash)) row = this.storedSession(ctx);
      if (!row) {
        const cwd = ctx.cwd ?? null;
        const repo = cwd ? this.options.repoOf(cwd) : null;
        const [folder, name] = logPathParts(logPath);
        this.paths.intern(cwd);
        this.paths.intern(folder);
        this.insertSession.run([ctx.source, ctx.sessionId, cwd, repo, ctx.branch ?? null, folder, name]);
        row = { id: this.insertedRowId(), cwd, repo, branch: ctx.branch ?? null, logPath };
        this.written?.sessions.add(hash);
      }
      this.sessions.set(key, row);
    }
    let changed = false;
    if (!row.cwd && ctx.cwd) {
      row.cwd = ctx.cwd;
      row.repo = this.options.repoOf(ctx.cwd);
      changed = true;
    }
    if (ctx.branch && ctx.branch !== row.branch) {
      row.branch = ctx.branch;
      changed = true;
    }
    // Subagent files belong to their parent session: its log is the parent's file.
    if (
      !row.logPath ||
      (row.logPath.includes(`${path.sep}subagents${path.sep}`) && !logPath.includes(`${path.sep}subagents${path.sep}`))
    ) {
      if (row.logPath !== logPath) {
        row.logPath = logPath;
        changed = true;
      }
    }
    if (changed) {
      const [folder, name] = logPathParts(row.logPath);
      this.paths.intern(row.cwd);
      this.paths.intern(folder);
      this.updateSession.run([row.cwd, row.repo, row.branch, folder, name, row.id]);
    }
    if (ctx.branch) {
      const bkey = `${row.id}\u0000${ctx.branch}`;
      if (!this.seenBranches.has(bkey)) {
        this.seenBranches.add(bkey);
        this.insertBranch.run([row.id, ctx.branch]);
      }
    }
    return row;
  }

  /**
   * Before a checkpoint save: the sessions changed since the last one are regrouped (a cost proportional to what was
   * written, never a regroup of everything), so the fold that follows can move finished sessions to the archive as a
   * first import goes. Leaving the sums behind (a stale rollup) until the end made the last fold archive a year of
   * requests at once and then VACUUM the whole ledger in memory: 495 MB peak and 36 s for a cold import of a year
   * of heavy use, against 285 MB and 26 s this way (docs/ledger.md "Hot ledger and archive").
   */
  checkpoint(): void {
    rebuildRollup(this.db, isRollupStale(this.db) ? 'all' : this.dirty);
    this.dirty.clear();
    // The save that follows may fold and archive sessions this writer has seen (store/archive.ts): what it knew of
    // them is asked again after it.
    this.hot.clear();
    this.recent.clear();
    // What else this writer keeps is a cache of rows already written (every insert is OR IGNORE, every session change
    // is written at once): let it go, so a first import of a year holds one checkpoint's sessions, not all 47,000.
    this.sessions.clear();
    this.seenFiles.clear();
    this.seenBranches.clear();
  }

  /** Brings derived tables up to date with what was written so far. */
  flush(): void {
    // Past a few hundred sessions one full regroup is cheaper than many partial ones (and equally exact).
    if (isRollupStale(this.db) || this.dirty.size > BIG_CHANGE) rebuildRollup(this.db, 'all');
    else rebuildRollup(this.db, this.dirty);
    this.dirty.clear();
  }

  /** Flushes and frees the prepared statements. */
  free(): void {
    if (this.stmts.length === 0) return;
    this.flush();
    for (const s of this.stmts) s.free();
    this.stmts.length = 0;
    this.paths.free();
  }
}

const MAX_RECENT = 100_000;
/** How far apart a request's log line and its OTLP event may be timed and still be the same request (5 minutes). */
export const TWIN_WINDOW_MS = 5 * 60_000;
/** Meta key set once the ledger holds a request received over OTLP. */
export const OTLP_META = 'otlp_records';
const BIG_CHANGE = 300;

/** What the dedup rule compares of two copies of one interaction. */
interface Copy {
  total: number;
  /** Micro-credits (a request that is still running grows its credits, not its tokens, in Kiro's files). */
  credits: number;
  sidechain: boolean;
  /** Counted from text, not reported by the tool. */
  estimated: boolean;
}

/**
 * Dedup rule (docs/measurement.md): counts the tool reported beat an estimate of the same request (Copilot Chat's exact
 * OpenTelemetry counts replace the estimate made from its session file, whichever is larger); then the larger token
 * total wins; on a tie the larger credits (a turn re-read after it metered more), then a non-sidechain copy beats a
 * sidechain one.
 */
function betterCopy(copy: Copy, old: Copy): boolean {
  if (copy.estimated !== old.estimated) return old.estimated;
  if (copy.total !== old.total) return copy.total > old.total;
  if (copy.credits !== old.credits) return copy.credits > old.credits;
  return old.sidechain && !copy.sidechain;
}

function nullable(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/**
 * Edited files are stored relative to the repository (privacy: no absolute paths). Files outside the repository
 * (or outside the working directory when there is none) are not kept: they cannot be part of an outcome.
 */
export function repoRelative(file: string, cwd: string | null, repo: string | null): string | null {
  const base = repo ?? cwd;
  if (!base) return null;
  const abs = path.isAbsolute(file) ? path.normalize(file) : path.resolve(cwd ?? base, file);
  const rel = path.relative(base, abs);
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep).join('/');
}
