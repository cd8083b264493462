/**
 * Team rollups, the Node side: build and sign a member's rollup from the ledger (the figures are `report --json`'s
 * for the same period), and merge any number of untrusted rollup files into the team report with bounded memory: the
 * files are listed by teamRollupInputs.ts, each read and checked by teamRollupFile.ts, on every core through
 * teamRollupPool.ts and its worker threads (teamRollupWorker.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Database } from 'sql.js';
import { eachRequestOfPeriodById } from '../store/archive';
import { type TeamReportJson, TeamMerger, DEFAULT_MIN_MEMBERS } from '../core/team/merge';
import {
  MAX_ROSTER_BYTES,
  parsePublished,
  parseRoster,
  publishedText,
  type PublishedReport,
  type Roster,
} from '../core/team/guards';
import {
  displayNameProblem,
  signedPart,
  TEAM_ROLLUP_FORMAT,
  TEAM_ROLLUP_VERSION,
  type Shareable,
  type TeamRollup,
  type TeamRollupFile,
} from '../core/team/rollup';
import { outcomeCounts, type UsageFigures } from '../core/outcomes/report';
import { periodRange } from '../core/usage/time';
import { cleanText } from '../core/common/text';
import { loadOrCreateMachineId } from '../store/machineId';
import { loadOrCreateSigningKey } from '../store/signing';
import { listSessions, report, type PeriodQuery } from './queries';
import { writeFileAtomic } from '../store/atomic';
import { diskFaultOf } from '../store/diskFault';
import { SpillContributionStore } from '../store/contributionSpill';
import { checkTeamRollupText, memberIdOf, readTeamRollupFile } from './teamRollupFile';
import {
  defaultThreads,
  foldFiles,
  MERGE_WORKER_LIMITS,
  WORKER_SCRIPT,
  type MergeJob,
  type MergeMessage,
} from './teamRollupPool';
import { expandRollupInputs, GLOB, isDirectory, label, type MergeItem } from './teamRollupInputs';

export { checkTeamRollupText, expandRollupInputs, memberIdOf };

export class TeamRollupError extends Error {}

export interface TeamRollupOptions extends PeriodQuery {
  since: string;
  until: string;
  /** A name the member chooses to appear under in the team report (optional; never next to a figure). */
  displayName?: string | null;
  /** What the member opts in to share in this export besides aggregates (nothing by default). */
  include?: readonly Shareable[];
}

/** Checks a display name a member typed; returns it trimmed, or null for none. */
export function displayNameOf(name: string | null | undefined): string | null {
  const v = (name ?? '').trim().replace(/\s+/g, ' ');
  if (!v) return null;
  const problem = displayNameProblem(v);
  if (problem) throw new TeamRollupError(problem);
  return v;
}

/**
 * SHA-256 over the sorted interaction ids of a period (joined by newlines): which requests the figures cover, without
 * listing them. The ids are hashed as they are read in id order, from the ledger and the period's archive files
 * (store/archive.ts `eachRequestOfPeriodById`): a year of heavy use is 250,000 of them, never copied or held.
 */
function interactionDigest(db: Database, from: number, to: number): { count: number; digest: string } {
  const hash = createHash('sha256');
  let count = 0;
  eachRequestOfPeriodById(db, from, to, (row) => {
    hash.update(count++ === 0 ? String(row[0]) : `\n${String(row[0])}`);
  });
  return { count, digest: hash.digest('hex') };
}

const clean = (s: string, max: number): string => cleanText(s).trim().slice(0, max);

function sharedOf(db: Database, q: TeamRollupOptions): TeamRollup['shared'] {
  const include = new Set(q.include ?? []);
  if (include.size === 0) return undefined;
  const sessions = listSessions(db, q);
  const shared: NonNullable<TeamRollup['shared']> = {};
  if (include.has('repos')) {
    // Names only (the last folder of the repository root), never paths.
    shared.repos = [...new Set(sessions.map((s) => (s.repo ? clean(path.basename(s.repo), 200) : '')).filter(Boolean))]
      .sort()
      .slice(0, 500);
  }
  if (include.has('subjects')) {
    const subjects = new Set<string>();
    for (const s of sessions)
      for (const l of s.links) if (l.counted && l.subject.trim()) subjects.add(clean(l.subject, 300));
    shared.subjects = [...subjects].filter(Boolean).sort().slice(0, 500);
  }
  return shared;
}

/** The member's signed rollup for a period, from the ledger as it is. */
export function buildTeamRollup(db: Database, home: string, q: TeamRollupOptions): TeamRollupFile {
  const r = report(db, q);
  const { from, to } = periodRange(q.timeZone, q.since, q.until);
  const ids = interactionDigest(db, from, to);
  if (ids.count !== r.totals.interactions) {
    throw new TeamRollupError(
      `the ledger changed while the rollup was built (${ids.count} requests vs ${r.totals.interactions}); try again`,
    );
  }
  const key = loadOrCreateSigningKey(home);
  const figures = (f: UsageFigures): TeamRollup['totals'] => ({
    input: f.input,
    output: f.output,
    cacheRead: f.cacheRead,
    cacheWrite: f.cacheWrite,
    reasoning: f.reasoning,
    total: f.total,
    costUSD: f.costUSD,
    interactions: f.interactions,
    sessions: f.sessions,
    unpricedInteractions: f.unpricedInteractions,
    estimatedTokens: f.estimatedTokens,
    ...(f.credits !== undefined ? { credits: f.credits } : {}),
  });
  const o = r.outcomes;
  const shared = sharedOf(db, q);
  const rollup: TeamRollup = {
    period: { since: q.since, until: q.until, timezone: q.timeZone },
    member: { id: memberIdOf(key.publicKey), displayName: displayNameOf(q.displayName) },
    machine: { id: loadOrCreateMachineId(home) },
    generatedAt: new Date(q.now ?? Date.now()).toISOString(),
    pricing: { version: r.pricing.version },
    interactions: ids,
    totals: figures(r.totals),
    bySource: r.bySource.map((s) => ({ source: s.source, ...figures(s) })),
    byModel: r.byModel.map((m) => ({ source: m.source, model: m.model, ...figures(m) })),
    outcomes: {
      ...outcomeCounts(o),
      shippedTokens: o.yield === null ? 0 : Math.round(o.yield * r.totals.total),
      tokensWithoutOutcome: o.tokensWithoutOutcome,
      keptLines: o.keptLines,
      keptLinesOutput: o.keptLinesOutput,
      pendingCommits: o.pendingCommits,
      taskCostUSD: o.costPerTask === null ? 0 : Math.round(o.costPerTask * o.tasks * 1e6) / 1e6,
    },
    value: {
      yield: o.yield,
      tokensPerCommit: o.tokensPerCommit,
      costPerCommit: o.costPerCommit,
      costPerTask: o.costPerTask,
      keptLinesPer1kOutput: o.keptLinesPer1kOutput,
    },
    ...(shared ? { shared } : {}),
  };
  const unsigned = { format: TEAM_ROLLUP_FORMAT, version: TEAM_ROLLUP_VERSION, rollup } as const;
  const file: TeamRollupFile = { ...unsigned, signature: key.signCanonical(signedPart(unsigned)) };
  // What we send must pass the checks a team lead's merge runs: check it the same way before anyone sees it.
  const self = checkTeamRollupText(JSON.stringify(file));
  if (!self.ok) throw new TeamRollupError(`this ledger's rollup would be refused by a merge: ${self.reason}`);
  return file;
}

/** The text written to disk: pretty JSON, so what the preview shows is byte for byte what is shared. */
export function rollupText(file: TeamRollupFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

/**
 * Writes a rollup, a team report or the team-report state (temp file + rename: a reader never sees half of it). A write that fails is one
 * line (TeamRollupError) and leaves no temp file behind.
 */
export function writeTeamFile(file: string, text: string): void {
  try {
    writeFileAtomic(file, text, { mode: 0o644, mkdirMode: 0o777 });
  } catch (e) {
    // A disk that refuses the write: one plain line naming the folder and what to do.
    const fault = diskFaultOf(e, `write ${path.basename(file)}`, file);
    if (fault) throw new TeamRollupError(fault.message);
    throw new TeamRollupError(`cannot write ${file}: ${(e as Error).message.split('\n')[0] ?? String(e)}`);
  }
}

export interface MergeOptions {
  /** Minimum members for figures and breakdowns (default 3). */
  k?: number;
  /** Only rollups signed by the roster's keys count (see `readRoster`, `findRoster`). */
  roster?: Roster;
  /**
   * The output folder's state file (see `teamStateFile`): the member sets of the reports published before. A report
   * that would difference against one of them is withheld. Record the report once published: `recordTeamReport`.
   */
  stateFile?: string;
  now?: number;
  cwd?: string;
  /** Called after each file (progress). */
  onFile?: (done: number) => void;
}

function mergeOne(merger: TeamMerger, item: MergeItem, cwd: string): void {
  if ('reason' in item) {
    merger.refuse(item.input, item.reason);
    return;
  }
  const checked = readTeamRollupFile(item.file);
  if (checked.ok) merger.add(label(item.file, cwd), checked.value.rollup, checked.value.signer);
  else merger.refuse(label(item.file, cwd), checked.reason);
}

/** Merges the inputs one file at a time, yielding the count done after each; the callers decide how to pace it. */
function* mergeSteps(merger: TeamMerger, inputs: readonly string[], o: MergeOptions): Generator<number> {
  const cwd = o.cwd ?? process.cwd();
  let done = 0;
  for (const item of expandRollupInputs(inputs, cwd)) {
    mergeOne(merger, item, cwd);
    o.onFile?.(++done);
    yield done;
  }
}

/**
 * Merges rollup files into the team report. Streams: one file is read, checked and reduced to its figures before the
 * next is opened; refused files are listed with their reason and the others still merge.
 */
export function mergeTeamRollups(inputs: readonly string[], o: MergeOptions = {}): TeamReportJson {
  const published = o.stateFile ? loadPublished(o.stateFile) : [];
  const store = new SpillContributionStore();
  try {
    const merger = new TeamMerger({ store, ...(o.roster ? { roster: o.roster } : {}) });
    const steps = mergeSteps(merger, inputs, o);
    while (!steps.next().done) {
      // each step merges one file
    }
    return finish(merger, published, o);
  } finally {
    store.close();
  }
}

/** The member ids each report counted, for `recordTeamReport` (kept beside the report, never in it). */
const countedMembers = new WeakMap<TeamReportJson, string[]>();

function finish(merger: TeamMerger, published: PublishedReport[], o: MergeOptions): TeamReportJson {
  const report = merger.result(o.k ?? DEFAULT_MIN_MEMBERS, new Date(o.now ?? Date.now()).toISOString(), published);
  countedMembers.set(report, [...merger.memberSet()].sort());
  return report;
}

/**
 * Records a report that was published (written, printed or shown) in the output folder's state file: its period and
 * the ids of the members it counted, so a later report cannot difference against it. A withheld report showed no
 * member's work and is not recorded; the same report again is recorded once.
 */
export function recordTeamReport(stateFile: string, report: TeamReportJson): void {
  const members = countedMembers.get(report);
  if (!members || report.withheld || !report.period.since || !report.period.until) return;
  const published = loadPublished(stateFile);
  const { since, until } = report.period;
  const same = (p: PublishedReport): boolean =>
    p.since === since &&
    p.until === until &&
    p.members.length === members.length &&
    p.members.every((m, i) => m === members[i]);
  if (published.some(same)) return;
  published.push({ since, until, k: report.k, generatedAt: report.generatedAt, members });
  writeTeamFile(stateFile, publishedText(published));
}

/**
 * The team's name in OTLP and NDJSON exports: `--team`, else the name of the first merged folder, else "team". Printable
 * text of at most 100 characters (it becomes a metric attribute and a warehouse column).
 */
export function teamNameOf(name: string | undefined, inputs: readonly string[], cwd = process.cwd()): string {
  if (name !== undefined) {
    const v = name.trim();
    if (!v || v.length > 100 || cleanText(v) !== v)
      throw new TeamRollupError('a team name is 1 to 100 printable characters');
    return v;
  }
  const first = inputs[0] !== undefined ? path.resolve(cwd, inputs[0]) : undefined;
  const folder = first && isDirectory(first) ? path.basename(first) : '';
  return clean(folder, 100) || 'team';
}

/** Where a merge keeps the member sets of the reports it published: beside the report, else in the rollups folder. */
export const TEAM_STATE_FILE = '.outcome-ledger-team-reports.json';

export function teamStateFile(out: string | undefined, inputs: readonly string[], cwd = process.cwd()): string {
  if (out) return path.join(path.dirname(path.resolve(cwd, out)), TEAM_STATE_FILE);
  const input = inputs[0] ?? '.';
  const first = path.resolve(cwd, input);
  if (GLOB.test(input) && !fs.existsSync(first)) {
    // A pattern: the folder it starts from (the segments before the first wildcard).
    const parts = first.split(path.sep);
    return path.join(
      parts
        .slice(
          0,
          parts.findIndex((p) => GLOB.test(p)),
        )
        .join(path.sep) || path.sep,
      TEAM_STATE_FILE,
    );
  }
  return path.join(isDirectory(first) ? first : path.dirname(first), TEAM_STATE_FILE);
}

function loadPublished(file: string): PublishedReport[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    // None yet (or its folder is not there: writing the report says why it cannot be written).
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw new TeamRollupError(`cannot read the team report state ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
  const parsed = parsePublished(text);
  if (!parsed.ok)
    throw new TeamRollupError(
      `the team report state ${file} ${parsed.reason}: it remembers which members earlier reports counted, so it is not replaced silently; restore it, or move it aside knowingly`,
    );
  return parsed.value;
}

/** The roster file given by the lead: one key fingerprint per line, optionally followed by the member's name. */
export function readRoster(file: string, cwd = process.cwd()): Roster {
  const abs = path.resolve(cwd, file);
  let text: string;
  try {
    const st = fs.statSync(abs);
    if (!st.isFile()) throw new TeamRollupError(`the roster ${file} is not a file`);
    if (st.size > MAX_ROSTER_BYTES)
      throw new TeamRollupError(`the roster ${file} is too large (at most ${MAX_ROSTER_BYTES >> 20} MB)`);
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    if (e instanceof TeamRollupError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TeamRollupError(
      `cannot read the roster ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message.split('\n')[0]}`,
    );
  }
  const parsed = parseRoster(text, path.basename(file));
  if (!parsed.ok) throw new TeamRollupError(`roster: ${parsed.reason}`);
  return parsed.value;
}

/** The roster file a rollups folder may hold (`roster.txt` at its top), when one of the inputs is such a folder. */
export const ROSTER_FILE = 'roster.txt';

export function findRoster(inputs: readonly string[], cwd = process.cwd()): string | undefined {
  for (const input of inputs) {
    const abs = path.resolve(cwd, input);
    if (isDirectory(abs) && fs.existsSync(path.join(abs, ROSTER_FILE))) return path.join(abs, ROSTER_FILE);
  }
  return undefined;
}

/**
 * The same merge, on several cores, for the CLI and the extension: a worker thread lists the files and folds them
 * into the merger; past the first few hundred files, each file is read, checked and reduced in checking workers
 * (`threads`, default one per core; services/teamRollupPool.ts), and the folding follows the order the files were
 * listed, so the report is the same as `mergeTeamRollups`'s. The calling thread only waits (the extension host stays
 * responsive, and its heap does not grow with the merge); undefined when cancelled. Without the worker's script (a
 * build without it), the same steps run in this thread, giving the event loop a turn between batches.
 */
export async function mergeTeamRollupsAsync(
  inputs: readonly string[],
  o: MergeOptions & { cancelled?: () => boolean; threads?: number; inThreadFirst?: number } = {},
): Promise<TeamReportJson | undefined> {
  const published = o.stateFile ? loadPublished(o.stateFile) : [];
  const cwd = o.cwd ?? process.cwd();
  const threads = o.threads ?? defaultThreads();
  const inThreadFirst = o.inThreadFirst ?? IN_THREAD_FIRST;
  let progressed = 0;
  const onProgress = (done: number): void => {
    // Every count, as the one-thread merge gives them (callers report every so many files).
    for (const onFile = o.onFile; onFile && progressed < done; ) onFile(++progressed);
  };
  if (threads > 0 && fs.existsSync(WORKER_SCRIPT)) {
    const k = o.k ?? DEFAULT_MIN_MEMBERS;
    const generatedAt = new Date(o.now ?? Date.now()).toISOString();
    const job: MergeJob = {
      role: 'merge',
      inputs: [...inputs],
      cwd,
      roster: o.roster,
      k,
      generatedAt,
      published,
      threads,
      inThreadFirst,
    };
    const merged = await mergeInWorker(job, onProgress, o.cancelled);
    if (!merged) return undefined;
    countedMembers.set(merged.report, merged.members);
    return merged.report;
  }
  const store = new SpillContributionStore();
  try {
    const merger = new TeamMerger({ store, ...(o.roster ? { roster: o.roster } : {}) });
    const complete = await foldFiles(merger, inputs, {
      cwd,
      threads: 0,
      inThreadFirst,
      onProgress,
      ...(o.cancelled ? { cancelled: o.cancelled } : {}),
    });
    return complete ? finish(merger, published, o) : undefined;
  } finally {
    store.close();
  }
}

/** Files a merge checks in its own thread before starting workers: a small merge is done before they would be ready. */
const IN_THREAD_FIRST = 256;

/** Runs a merge in a worker thread (`MergeJob`); undefined when cancelled. */
function mergeInWorker(
  job: MergeJob,
  onProgress: (done: number) => void,
  cancelled?: () => boolean,
): Promise<{ report: TeamReportJson; members: string[] } | undefined> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SCRIPT, { workerData: job, resourceLimits: MERGE_WORKER_LIMITS });
    let settled = false;
    const settle = (then: () => void): void => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      then();
    };
    worker.on('message', (m: MergeMessage) => {
      if (m.type === 'progress') {
        onProgress(m.done);
        if (cancelled?.()) worker.postMessage({ type: 'cancel' });
      } else if (m.type === 'done') settle(() => resolve({ report: m.report, members: m.members }));
      else if (m.type === 'cancelled') settle(() => resolve(undefined));
      else settle(() => reject(new TeamRollupError(m.message)));
    });
    worker.on('error', (e: Error & { code?: string }) => {
      const why =
        e.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? 'it ran out of memory (one merge holds what counting once needs for about two million rollups: merge fewer at a time)'
          : (e.message.split('\n')[0] ?? '');
      settle(() => reject(new TeamRollupError(`the merge stopped: ${why}`)));
    });
    worker.on('exit', (code) =>
      settle(() => reject(new TeamRollupError(`the merge stopped: its worker thread ended early (exit code ${code})`))),
    );
  });
}
