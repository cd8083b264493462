/**
 * Links sessions to the commits they produced: discovers the repositories sessions worked in, reads their history
 * incrementally (only what moved since the last run), and relinks each repository (services/relink.ts: scores links in
 * core/outcomes/linking.ts, follows squash merges and rebases to successors, and stores links without ever touching a
 * decision the engineer made).
 *
 * Git runs outside the ledger lock (reads can take seconds on a big repository); the write that stores the result
 * holds the lock only for the scoring and the inserts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { reduceCommit, type CommitInfo } from '../core/outcomes/commits';
import type { Tip } from '../core/outcomes/history';
import { DEFAULT_LINK_OPTIONS, type LinkOptions } from '../core/outcomes/linking';
import type { SourceName } from '../core/usage/model';
import { SUCCESSOR_WINDOW_MS } from '../core/outcomes/successors';
import { DEFAULT_TASK_PATTERNS, invalidPattern } from '../core/outcomes/tasks';
import { BUCKET_MS } from '../core/usage/time';
import { GitError, GitMissingError } from '../git/run';
import {
  globalEmail,
  identify,
  parseTipsKey,
  readLog,
  readTips,
  existingCommits,
  tipsKey,
  type RepoIdentity,
  type TipsRead,
} from '../git/log';
import type { Ledger } from '../store/ledger';
import {
  commitsWithoutAuthor,
  insertCommits,
  LinkWriter,
  loadRepoPaths,
  loadRepos,
  loadStamps,
  saveAuthors,
  saveRepoPath,
  saveRepoRead,
  setRepoState,
  StampWriter,
  upsertRepo,
  type RepoPath,
  type RepoRow,
  type RepoState,
} from '../store/outcomes';
import { getMeta, setMeta } from '../store/schema';
import { groupStrings } from '../store/group';
import {
  filesToBlame,
  planDurability,
  runDurability,
  saveDurability,
  updateDurability,
  type DurabilitySummary,
} from './durability';
import { openRegular } from '../sources/regular';
import { relinkRepo, stampOf, type SessionFacts } from './relink';
import { sessionLogPathSql } from '../store/paths';
import { minOf } from '../core/common/numbers';
import { pushAll } from '../core/common/numbers';

export interface LinkConfig {
  /** Hours after a session's last reply in which a commit can still be its outcome. */
  windowHours: number;
  /** Task key patterns (regular expressions). */
  taskPatterns: string[];
}

const DEFAULT_LINK_CONFIG: LinkConfig = { windowHours: 24, taskPatterns: [...DEFAULT_TASK_PATTERNS.patterns] };
export const DEFAULT_DURABILITY_DAYS = 30;
const DAY = 24 * 3_600_000;
/** A repository given with --repo but without sessions is read this far back. */
const REPO_ONLY_HORIZON_DAYS = 30;
/** Blames cheap enough to run while holding the ledger lock (a commit touches a few files). */
const IN_LOCK_BLAMES = 8;

export class LinkConfigError extends Error {}

/**
 * Bumped when what a link run derives about commits (reverts, reverted, unmerged: core/standing.ts) changes: the next
 * run then re-reads the whole graph of every repository once.
 */
const STANDING_VERSION = '1';

export function linkConfigOf(db: Database): LinkConfig {
  const raw = getMeta(db, 'link_config');
  if (!raw) return DEFAULT_LINK_CONFIG;
  try {
    const v = JSON.parse(raw) as Partial<LinkConfig>;
    return {
      windowHours:
        typeof v.windowHours === 'number' && v.windowHours > 0 ? v.windowHours : DEFAULT_LINK_CONFIG.windowHours,
      taskPatterns:
        Array.isArray(v.taskPatterns) && v.taskPatterns.every((p) => typeof p === 'string')
          ? v.taskPatterns
          : DEFAULT_LINK_CONFIG.taskPatterns,
    };
  } catch {
    return DEFAULT_LINK_CONFIG;
  }
}

function optionsOf(c: LinkConfig): LinkOptions {
  return { ...DEFAULT_LINK_OPTIONS, windowMs: c.windowHours * 3_600_000, patterns: { patterns: c.taskPatterns } };
}

export interface LinkRunOptions {
  /** More repositories to read (`link --repo`), besides the ones sessions worked in. */
  repos?: string[];
  /** Changes to the stored configuration (persisted; a change re-links every session). */
  config?: Partial<LinkConfig>;
  /** Re-score every session, not only those near what changed. */
  full?: boolean;
  durabilityDays?: number;
  /** Skip durability (git blame) in this run. */
  skipDurability?: boolean;
  /** Stop blaming after this long (the rest is done by a later run). */
  durabilityBudgetMs?: number;
  /**
   * Leave durability alone when it needs more than this many files blamed (a first pass over a big history belongs
   * to `link` or a background run, not to a report the engineer waits for).
   */
  durabilityMaxFiles?: number;
  now?: () => number;
  /** Lock wait (LockTimeoutError past it). */
  timeoutMs?: number;
  /** Called between the steps of a run that relinks (the CLI collects garbage there: cli/v8.ts). */
  betweenSteps?: () => void;
}

export interface RepoSummary {
  root: string;
  state: RepoState;
  note: string | null;
  commitsRead: number;
  sessions: number;
}

export interface LinkSummary {
  repos: RepoSummary[];
  /** git is not installed: nothing was read or linked. */
  gitMissing: boolean;
  /** Nothing moved since the last run: nothing was written. */
  unchanged: boolean;
  sessionsScored: number;
  linksWritten: number;
  durability: DurabilitySummary | null;
  elapsedMs: number;
}

/**
 * Sessions that worked in a repository, with what linking needs; with `since`, only those active since then (found
 * through the rollup's bucket index: a re-link after a new commit looks at the last day or so, not at all history).
 */
function loadSessionFacts(db: Database, since?: number, alsoIds: readonly number[] = []): SessionFacts[] {
  let only = '';
  if (since !== undefined) {
    const ids = new Set(
      (
        db.exec('SELECT DISTINCT session_ref FROM usage_rollup WHERE bucket >= ?', [Math.floor(since / BUCKET_MS)])[0]
          ?.values ?? []
      ).map((v) => Number(v[0])),
    );
    for (const id of alsoIds) ids.add(id);
    if (ids.size === 0) return [];
    only = ` AND s.id IN (${[...ids].join(',')})`;
  }
  const files = groupStrings(
    db,
    `SELECT f.session_ref, f.path FROM session_files f JOIN sessions s ON s.id = f.session_ref WHERE s.repo IS NOT NULL${only}`,
  );
  const branches = groupStrings(
    db,
    `SELECT b.session_ref, b.branch FROM session_branches b JOIN sessions s ON s.id = b.session_ref WHERE s.repo IS NOT NULL${only}`,
  );
  // A first link of a year holds every session of a repository at once (47,000 in the bench's year world): rows are
  // read one at a time, a repository path or source name is kept once however many sessions share it, a session
  // without edited files or branches shares one empty list, and the log path (read only for Codex's recorded HEAD,
  // codexHeadOf) is not read for other sources. The first link of the year world held ~48 MB live before.
  const texts = new Map<string, string>();
  const once = (v: unknown): string => {
    const t = String(v);
    const kept = texts.get(t);
    if (kept !== undefined) return kept;
    texts.set(t, t);
    return t;
  };
  const out: SessionFacts[] = [];
  const stmt = db.prepare(
    `SELECT s.id, s.source, s.repo, CASE WHEN s.source = 'codex' THEN ${sessionLogPathSql()} END,
            min(r.first_ts), max(r.last_ts)
     FROM sessions s JOIN usage_rollup r ON r.session_ref = s.id WHERE s.repo IS NOT NULL${only} GROUP BY s.id`,
  );
  try {
    while (stmt.step()) {
      const v = stmt.get();
      const ref = Number(v[0]);
      out.push({
        ref,
        source: once(v[1]) as SourceName,
        repoPath: once(v[2]),
        logPath: v[3] === null ? null : String(v[3]),
        start: Number(v[4]),
        end: Number(v[5]),
        files: files.get(ref) ?? NONE,
        branches: branches.get(ref) ?? NONE,
      });
    }
  } finally {
    stmt.free();
  }
  return out;
}

/** The edited files or branches of a session that has none (shared, so it must never be added to). */
const NONE: string[] = Object.freeze([]) as unknown as string[];

/** Codex records the repository state when a session starts (session_meta.git.commit_hash, docs/sources.md). */
function codexHeadOf(logPath: string): string {
  let fd: number | undefined;
  try {
    const opened = openRegular(logPath);
    if ('refused' in opened) return '';
    fd = opened.fd;
    // One buffer for every file, and only the session_meta line decoded: a first link reads the head of each of a
    // year's ~16,000 Codex sessions, and a zeroed 64 KB buffer, decoded and split whole for each, allocated 580 MB
    // (and left the process ~15 MB larger in native memory).
    headBuffer ??= Buffer.allocUnsafe(HEAD_BYTES);
    const buf = headBuffer;
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const at = buf.subarray(0, n).indexOf(SESSION_META);
    if (at === -1) return '';
    const start = buf.lastIndexOf(0x0a, at) + 1;
    const nl = buf.subarray(0, n).indexOf(0x0a, at);
    try {
      const v = JSON.parse(buf.toString('utf8', start, nl === -1 ? n : nl)) as {
        payload?: { git?: { commit_hash?: unknown } };
      };
      const h = v.payload?.git?.commit_hash;
      return typeof h === 'string' && /^[0-9a-f]{7,64}$/.test(h) ? h : '';
    } catch {
      return '';
    }
  } catch {
    // the log is gone: nothing recorded we can use
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return '';
}

/** How much of a Codex log's head is read for its session_meta line. */
const HEAD_BYTES = 64 << 10;
const SESSION_META = Buffer.from('"session_meta"');
let headBuffer: Buffer | undefined;

/**
 * Whether every tip read last time is still a tip or an ancestor of the new commits (a commit, a fast-forward, a
 * merge): then nothing became unreachable. A rebase, an amend, a reset or a deleted branch answers no.
 */
function movedForward(old: readonly Tip[], now: readonly Tip[], read: readonly CommitInfo[]): boolean {
  const tips = new Set(now.map((t) => t.sha));
  const parents = new Set(read.flatMap((c) => c.parents));
  const readShas = new Set(read.map((c) => c.sha));
  return old.every((t) => tips.has(t.sha) || parents.has(t.sha) || readShas.has(t.sha));
}

interface RepoPlan {
  row: RepoRow | null;
  ident: RepoIdentity | null;
  commonDir: string;
  root: string;
  paths: string[];
  state: RepoState;
  note: string | null;
  tips?: TipsRead;
  tipsText?: string;
  horizon: number | null;
  read: CommitInfo[];
  /** Commits stored before their author was (schema 5), read again to fill it. */
  backfill: CommitInfo[];
  moved: boolean;
  /** Every ref only moved forward: nothing became unreachable, and a re-link needs only the recent graph. */
  forwardOnly: boolean;
}

/** What one link run shares across its steps. */
interface LinkRun {
  db: Database;
  options: LinkRunOptions;
  now: () => number;
  config: LinkConfig;
  configChanged: boolean;
  o: LinkOptions;
}

/** The sessions a run relinks (step 3), and what their links need: stamps, Codex's recorded heads, the global identity. */
interface ChosenSessions {
  since: number | undefined;
  facts: SessionFacts[];
  stamps: ReturnType<typeof loadStamps>;
  codexHeads: Map<number, string>;
  graphSince: (plan: RepoPlan) => number | undefined;
  globalIdentity: string | null;
}

/** Step 1 of linkAll: the repository paths sessions worked in, plus --repo, grouped by repository. Throws GitMissingError. */
async function planRepos(run: LinkRun): Promise<{ plans: Map<string, RepoPlan>; pathUpdates: RepoPath[] }> {
  const { db: db0, options } = run;
  const sessionPaths = new Set(
    (db0.exec('SELECT DISTINCT repo FROM sessions WHERE repo IS NOT NULL')[0]?.values ?? []).map((v) => String(v[0])),
  );
  const extra = (options.repos ?? []).map((p) => path.resolve(p));
  const knownPaths = loadRepoPaths(db0);
  const repos = loadRepos(db0);
  const byCommon = new Map(repos.map((r) => [r.commonDir, r]));
  const byId = new Map(repos.map((r) => [r.id, r]));
  const plans = new Map<string, RepoPlan>();
  const pathUpdates: RepoPath[] = [];
  const planFor = (commonDir: string, root: string, row: RepoRow | null, ident: RepoIdentity | null): RepoPlan => {
    let p = plans.get(commonDir);
    if (!p) {
      p = {
        row,
        ident,
        commonDir,
        root,
        paths: [],
        state: 'ok',
        note: null,
        horizon: row?.horizon ?? null,
        read: [],
        backfill: [],
        moved: false,
        forwardOnly: true,
      };
      plans.set(commonDir, p);
    }
    return p;
  };
  for (const p of [...sessionPaths, ...extra]) {
    const known = knownPaths.get(p);
    const exists = fs.existsSync(p);
    // A folder once found outside any repository is asked again only on a full run (a git call per report otherwise).
    if (known && known.state === 'not-a-repo' && exists && !options.full) continue;
    if (known && known.state === 'ok' && exists && known.repoRef !== null) {
      const row = byId.get(known.repoRef);
      if (row) {
        planFor(row.commonDir, row.root, row, null).paths.push(p);
        continue;
      }
    }
    if (!exists) {
      // A vanished working tree keeps its history and links; its repository may live on elsewhere (worktrees).
      if (!known || known.state !== 'vanished')
        pathUpdates.push({ path: p, repoRef: known?.repoRef ?? null, state: 'vanished' });
      const row = known?.repoRef != null ? byId.get(known.repoRef) : undefined;
      if (row) planFor(row.commonDir, row.root, row, null).paths.push(p);
      continue;
    }
    const ident = await identify(p);
    if (!ident) {
      if (!known || known.state !== 'not-a-repo')
        pathUpdates.push({ path: p, repoRef: known?.repoRef ?? null, state: 'not-a-repo' });
      continue;
    }
    const row = byCommon.get(ident.commonDir) ?? null;
    const plan = planFor(ident.commonDir, ident.root, row, ident);
    plan.ident = ident;
    plan.paths.push(p);
    if (known?.repoRef != null && row && known.repoRef !== row.id) plan.moved = true;
    pathUpdates.push({ path: p, repoRef: row?.id ?? null, state: 'ok' });
  }

  return { plans, pathUpdates };
}

/** Step 2 of linkAll: per repository, did any ref move? Reads only the new commits; true when anything was read. Throws GitMissingError. */
async function readHistories(
  run: LinkRun,
  plans: ReadonlyMap<string, RepoPlan>,
  sessionsMoved: boolean,
): Promise<boolean> {
  const { db: db0, now, config } = run;
  // The earliest session per repository sets how far back history is read; it only moves when sessions do.
  let minStartCache: Map<string, number> | undefined;
  const minStart = (): Map<string, number> => {
    if (!minStartCache) {
      minStartCache = new Map();
      for (const [p, first] of db0.exec(
        'SELECT s.repo, min(r.first_ts) FROM sessions s JOIN usage_rollup r ON r.session_ref = s.id WHERE s.repo IS NOT NULL GROUP BY s.repo',
      )[0]?.values ?? []) {
        minStartCache.set(String(p), Number(first));
      }
    }
    return minStartCache;
  };
  let anyRead = false;
  const live = [...plans.values()].filter((plan) => {
    if (fs.existsSync(plan.commonDir)) return true;
    if (plan.row?.state === 'moved') {
      plan.state = 'moved';
      plan.note = plan.row.note;
    } else {
      plan.state = 'vanished';
      plan.note = `${plan.root} no longer exists; its commits and links are kept as history`;
    }
    return false;
  });
  // One `git for-each-ref` per repository, all at once: this is the whole cost of a run where nothing moved.
  const tips = await Promise.all(live.map((plan) => readTips(plan.commonDir, plan.commonDir)));
  for (const [i, plan] of live.entries()) {
    // git runs in the repository's shared git dir, which outlives its working trees: a folder the ledger knew as a
    // worktree may be gone, or exist again outside any repository ("not a git repository" there).
    const cwd = plan.commonDir;
    plan.tips = tips[i] as TipsRead;
    plan.tipsText = tipsKey(plan.tips.tips);
    const me = plan.ident?.me ?? plan.row?.me ?? null;
    const patterns = { patterns: config.taskPatterns };
    const reduce = (raws: Awaited<ReturnType<typeof readLog>>): CommitInfo[] =>
      raws.map((r) => reduceCommit(r, patterns, me));
    if (plan.row !== null) {
      // Rows stored before authors were (schema 5): read those commits again, once.
      const missing = commitsWithoutAuthor(db0, plan.row.id);
      if (missing.length > 0) {
        const present = await existingCommits(cwd, missing);
        plan.backfill = present.size > 0 ? reduce(await readLog(cwd, { include: [...present], noWalk: true })) : [];
        // Commits gone from the object store keep an empty author: never asked again, judged by the old flag.
        const filled = new Set(plan.backfill.map((c) => c.sha));
        for (const sha of missing) {
          if (!filled.has(sha))
            plan.backfill.push({
              sha,
              parents: [],
              authorTime: 0,
              commitTime: 0,
              subject: '',
              files: [],
              flags: 0,
              tasks: [],
              pr: null,
              mergedBranch: null,
              authorEmail: '',
              authorName: '',
              coAuthors: [],
              reverts: null,
            });
        }
        anyRead = true;
      }
    }
    const settled =
      plan.row !== null &&
      plan.row.horizon !== null &&
      plan.row.tips === plan.tipsText &&
      plan.row.state === 'ok' &&
      !sessionsMoved;
    if (settled) continue;
    const starts = plan.paths.map((p) => minStart().get(p)).filter((v): v is number => v !== undefined);
    const wanted = starts.length > 0 ? minOf(starts) - DAY : now() - REPO_ONLY_HORIZON_DAYS * DAY;
    const shas = [...new Set(plan.tips.tips.map((t) => t.sha))];
    const row = plan.row;
    if (!row || row.horizon === null) {
      plan.read = reduce(await readLog(cwd, { include: shas, since: wanted, reflog: true }));
      plan.horizon = wanted;
      anyRead = true;
      continue;
    }
    plan.horizon = Math.min(row.horizon, wanted);
    if (row.tips !== plan.tipsText) {
      const old = [...new Set(parseTipsKey(row.tips).map((t) => t.sha))];
      let raws;
      try {
        raws = await readLog(cwd, { include: shas, exclude: old, since: plan.horizon, reflog: true });
      } catch (e) {
        if (!(e instanceof GitError)) throw e;
        // A tip read last time is gone from the object store (gc after a force-push): exclude only what exists.
        const still = await existingCommits(cwd, old);
        raws = await readLog(cwd, {
          include: shas,
          exclude: old.filter((s) => still.has(s)),
          since: plan.horizon,
          reflog: true,
        });
      }
      plan.read = reduce(raws);
      plan.forwardOnly = movedForward(parseTipsKey(row.tips), plan.tips.tips, plan.read);
      anyRead = true;
    }
    if (wanted < row.horizon) {
      // Older sessions arrived (an import of old logs): read the history between the new and the old horizon.
      pushAll(plan.read, reduce(await readLog(cwd, { include: shas, since: wanted, until: row.horizon })));
      anyRead = true;
    }
    if (shas.length > 0 && row.state !== 'ok') anyRead = true;
  }

  return anyRead;
}

/**
 * Step 3 of linkAll: the sessions to relink. A re-link loads only those that can matter: active since the last link
 * (the ones that changed are among them), new ones, and those within a window of the new commits; relinkRepo loads
 * the rest if it needs them.
 */
async function chooseSessions(
  run: LinkRun,
  plans: ReadonlyMap<string, RepoPlan>,
  sessionsMoved: boolean,
  standingStale: boolean,
): Promise<ChosenSessions> {
  const { db: db0, options, now, configChanged, o } = run;
  const firstRead = [...plans.values()].some((p) => p.state === 'ok' && (p.row === null || p.row.horizon === null));
  const incremental = !configChanged && !standingStale && !options.full && !firstRead;
  // The global user.email is one of the engineer's identities (docs/outcomes.md): read when something is written.
  let globalIdentity: string | null = null;
  try {
    const cwd = [...plans.values()].flatMap((p) => p.paths).find((p) => fs.existsSync(p)) ?? process.cwd();
    globalIdentity = await globalEmail(cwd);
  } catch (e) {
    if (!(e instanceof GitMissingError || e instanceof GitError)) throw e;
  }
  const lastWall = Number(getMeta(db0, 'linked_wall') ?? NaN);
  const maxId = Number(getMeta(db0, 'linked_max_session') ?? NaN);
  const newTimes = [...plans.values()].flatMap((p) => p.read.map((c) => Math.min(c.authorTime, c.commitTime)));
  let since: number | undefined;
  let newIds: number[] = [];
  if (incremental && Number.isFinite(lastWall) && Number.isFinite(maxId)) {
    const bounds = newTimes.map((t) => t - o.windowMs - o.skewMs - DAY);
    if (sessionsMoved) {
      bounds.push(lastWall - DAY);
      newIds = (db0.exec('SELECT id FROM sessions WHERE id > ? AND repo IS NOT NULL', [maxId])[0]?.values ?? []).map(
        (v) => Number(v[0]),
      );
    }
    since = bounds.length > 0 ? minOf(bounds) : now();
  }
  const facts = loadSessionFacts(db0, since, newIds);
  const stamps = loadStamps(db0, since === undefined ? undefined : facts.map((f) => f.ref));
  // How far back the graph must go when refs only moved forward: the window of the new commits and of the changed
  // sessions, plus the 30 days a squash looks back for its originals.
  const changedStarts = facts.filter((f) => stamps.get(f.ref)?.stamp !== stampOf(f)).map((f) => f.start);
  const graphSince = (plan: RepoPlan): number | undefined => {
    if (!incremental || since === undefined || !plan.forwardOnly) return undefined;
    const times = [...plan.read.map((c) => Math.min(c.authorTime, c.commitTime)), ...changedStarts];
    return (times.length > 0 ? minOf(times) : now()) - Math.max(o.windowMs, SUCCESSOR_WINDOW_MS) - DAY;
  };
  const codexHeads = new Map<number, string>();
  for (const s of facts) {
    const known = stamps.get(s.ref)?.codexHead;
    if (known !== null && known !== undefined) codexHeads.set(s.ref, known);
    else if (s.source === 'codex' && s.logPath) codexHeads.set(s.ref, codexHeadOf(s.logPath));
  }

  return { since, facts, stamps, codexHeads, graphSince, globalIdentity };
}

/** Step 4 of linkAll: store the commits read and relink each repository's sessions, under the lock. */
function storeAndLink(
  ledger: Ledger,
  run: LinkRun,
  plans: ReadonlyMap<string, RepoPlan>,
  pathUpdates: readonly RepoPath[],
  chosen: ChosenSessions,
  summary: LinkSummary,
  sessionsByPath: ReadonlyMap<string, number>,
  dataStamp: string,
): Promise<{ scored: number; links: number }> {
  const { options, now, config, configChanged, o } = run;
  const { since, facts, stamps, codexHeads, graphSince, globalIdentity } = chosen;
  return ledger.write(
    async (db) => {
      const result = { scored: 0, links: 0 };
      const idOf = new Map<string, number>();
      for (const plan of plans.values()) {
        if (plan.state !== 'ok') {
          const row = loadRepos(db).find((r) => r.commonDir === plan.commonDir);
          if (row) setRepoState(db, row.id, plan.state, plan.note);
          continue;
        }
        const id = upsertRepo(db, {
          commonDir: plan.commonDir,
          root: plan.root,
          me: plan.ident?.me ?? plan.row?.me ?? null,
        });
        idOf.set(plan.commonDir, id);
        if (plan.moved) setRepoState(db, id, 'ok', null);
      }
      for (const u of pathUpdates) {
        const plan = [...plans.values()].find((p) => p.paths.includes(u.path));
        const repoRef = u.state === 'ok' && plan ? (idOf.get(plan.commonDir) ?? u.repoRef) : u.repoRef;
        saveRepoPath(db, { ...u, repoRef });
      }
      const paths = loadRepoPaths(db);
      const allStamps = since === undefined ? loadStamps(db) : stamps;
      const stampWriter = new StampWriter(db);
      const linkWriter = new LinkWriter(db);
      try {
        for (const plan of plans.values()) {
          const repoId = idOf.get(plan.commonDir);
          if (repoId === undefined || !plan.tips || plan.tipsText === undefined) continue;
          const added = insertCommits(db, repoId, plan.read);
          if (plan.backfill.length > 0) saveAuthors(db, repoId, plan.backfill);
          saveRepoRead(db, repoId, { tips: plan.tipsText, head: plan.tips.head, horizon: plan.horizon, readMs: now() });
          if (plan.row === null) flagMoved(db, repoId, plan.root, plan.read);
          const repoFacts = facts.filter((s) => paths.get(s.repoPath)?.repoRef === repoId);
          const r = await relinkRepo(db, {
            repoId,
            cwd: plan.commonDir,
            tips: plan.tips,
            newShas: new Set(plan.read.map((c) => c.sha)),
            sessions: repoFacts,
            loadedSince: since ?? null,
            loadAll: () => ({
              sessions: loadSessionFacts(db).filter((s) => paths.get(s.repoPath)?.repoRef === repoId),
              stamps: loadStamps(db),
            }),
            stamps: allStamps,
            codexHeads,
            all: configChanged || options.full === true || plan.row === null || plan.row.horizon === null,
            graphSince: graphSince(plan),
            horizon: plan.horizon,
            options: o,
            stampWriter,
            linkWriter,
          });
          result.scored += r.scored;
          result.links += r.links;
          summary.repos.push({
            root: plan.root,
            state: 'ok',
            note: plan.ident?.shallow ? 'shallow clone: history before the clone boundary is not visible' : null,
            commitsRead: added,
            sessions: plan.paths.reduce((n, x) => n + (sessionsByPath.get(x) ?? 0), 0),
          });
        }
      } finally {
        stampWriter.free();
        linkWriter.free();
      }
      const stateNow = new Map(loadRepos(db).map((row) => [row.commonDir, row]));
      for (const plan of plans.values()) {
        if (plan.state === 'ok') continue;
        // As stored: a repository found again elsewhere in this run was flagged "moved" after its plan said "vanished".
        const row = stateNow.get(plan.commonDir);
        summary.repos.push({
          root: plan.root,
          state: row?.state ?? plan.state,
          note: row?.note ?? plan.note,
          commitsRead: 0,
          sessions: plan.paths.reduce((n, x) => n + (sessionsByPath.get(x) ?? 0), 0),
        });
      }
      setMeta(db, 'linked_data', dataStamp);
      setMeta(db, 'linked_wall', String(now()));
      setMeta(
        db,
        'linked_max_session',
        String(Number(db.exec('SELECT coalesce(max(id), 0) FROM sessions')[0]?.values[0]?.[0] ?? 0)),
      );
      setMeta(db, 'link_config', JSON.stringify(config));
      setMeta(db, 'standing_version', STANDING_VERSION);
      setMeta(db, 'git_global_email', globalIdentity ?? '');
      // Durability of what a small change touched is stored in this same write (one save, not two); a big first
      // pass runs after the lock is released.
      if (!options.skipDurability) {
        const dOptions = durabilityOptions(options, now());
        const plan = await planDurability(db, dOptions);
        if (plan && filesToBlame(plan) <= IN_LOCK_BLAMES) {
          const d = await runDurability(plan, dOptions);
          saveDurability(db, d);
          summary.durability = d.summary;
        }
      }
      return result;
    },
    options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
  );
}

/** Is there anything to do? The report path asks before linking (one `git for-each-ref` per repository). */
export async function linkAll(ledger: Ledger, options: LinkRunOptions = {}): Promise<LinkSummary> {
  const t0 = Date.now();
  const now = options.now ?? Date.now;
  const db0 = ledger.database;
  const stored = linkConfigOf(db0);
  const config: LinkConfig = { ...stored, ...(options.config ?? {}) };
  const bad = invalidPattern(config.taskPatterns);
  if (bad) throw new LinkConfigError(bad);
  const configChanged = JSON.stringify(config) !== (getMeta(db0, 'link_config') ?? JSON.stringify(DEFAULT_LINK_CONFIG));
  const run: LinkRun = { db: db0, options, now, config, configChanged, o: optionsOf(config) };
  const summary: LinkSummary = {
    repos: [],
    gitMissing: false,
    unchanged: false,
    sessionsScored: 0,
    linksWritten: 0,
    durability: null,
    elapsedMs: 0,
  };

  const sessionsByPath = new Map<string, number>();
  for (const [p, n] of db0.exec('SELECT repo, count(*) FROM sessions WHERE repo IS NOT NULL GROUP BY repo')[0]
    ?.values ?? [])
    sessionsByPath.set(String(p), Number(n));
  const dataStamp = getMeta(db0, 'last_new_data') ?? '';
  const sessionsMoved = dataStamp !== (getMeta(db0, 'linked_data') ?? '');
  const standingStale = getMeta(db0, 'standing_version') !== STANDING_VERSION;
  let planned: Awaited<ReturnType<typeof planRepos>>;
  let anyRead: boolean;
  try {
    // 1. Repository paths: those sessions worked in, plus --repo.
    planned = await planRepos(run);
    // 2. Per repository: did any ref move? Read only the new commits.
    anyRead = await readHistories(run, planned.plans, sessionsMoved);
  } catch (e) {
    if (e instanceof GitMissingError) return { ...summary, gitMissing: true, elapsedMs: Date.now() - t0 };
    throw e;
  }
  const { plans, pathUpdates } = planned;

  const statesMoved = [...plans.values()].some((p) => p.state !== (p.row?.state ?? 'ok')) || pathUpdates.length > 0;
  if (!anyRead && !sessionsMoved && !statesMoved && !configChanged && !standingStale && !options.full) {
    summary.unchanged = true;
    summary.repos = [...plans.values()].map((p) => ({
      root: p.root,
      state: p.row?.state ?? p.state,
      note: p.row?.note ?? p.note,
      commitsRead: 0,
      sessions: p.paths.reduce((n, x) => n + (sessionsByPath.get(x) ?? 0), 0),
    }));
    if (!options.skipDurability) summary.durability = await updateDurability(ledger, durabilityOptions(options, now()));
    summary.elapsedMs = Date.now() - t0;
    return summary;
  }

  // 3. Sessions to relink.
  const chosen = await chooseSessions(run, plans, sessionsMoved, standingStale);
  options.betweenSteps?.();
  // 4. Store and link, under the lock.
  const written = await storeAndLink(ledger, run, plans, pathUpdates, chosen, summary, sessionsByPath, dataStamp);
  options.betweenSteps?.();
  summary.sessionsScored = written.scored;
  summary.linksWritten = written.links;
  if (!options.skipDurability && !summary.durability)
    summary.durability = await updateDurability(ledger, durabilityOptions(options, now()));
  summary.elapsedMs = Date.now() - t0;
  return summary;
}

function durabilityOptions(o: LinkRunOptions, now: number): Parameters<typeof updateDurability>[1] {
  return {
    days: o.durabilityDays ?? DEFAULT_DURABILITY_DAYS,
    now,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.durabilityBudgetMs !== undefined ? { budgetMs: o.durabilityBudgetMs } : {}),
    ...(o.durabilityMaxFiles !== undefined ? { maxFiles: o.durabilityMaxFiles } : {}),
  };
}

/**
 * A repository seen for the first time that holds commits of one that vanished is where that one went (moved or
 * re-cloned): the vanished one is flagged "moved" and keeps its commits and links as history.
 */
function flagMoved(db: Database, repoId: number, root: string, read: readonly CommitInfo[]): void {
  const vanished = loadRepos(db).filter((r) => r.id !== repoId && r.state === 'vanished');
  if (vanished.length === 0 || read.length === 0) return;
  const sample = read.slice(0, 200).map((c) => c.sha);
  for (const v of vanished) {
    const hit = db.exec(
      `SELECT 1 FROM commits WHERE repo_ref = ? AND sha IN (${sample.map(() => '?').join(',')}) LIMIT 1`,
      [v.id, ...sample],
    );
    if ((hit[0]?.values.length ?? 0) > 0)
      setRepoState(
        db,
        v.id,
        'moved',
        `${v.root} moved to ${root} (or was cloned there again); its links are kept as history`,
      );
  }
}
