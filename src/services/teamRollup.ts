/**
 * Team rollups, the Node side: build and sign a member's rollup from the ledger (the figures are `report --json`'s
 * for the same period), read untrusted rollup files one at a time (size limit before reading, the pure checks of
 * core/team/rollup.ts, the signature), and merge any number of them into the team report with bounded memory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { type TeamReportJson, TeamMerger, DEFAULT_MIN_MEMBERS } from '../core/team/merge';
import { MAX_ROSTER_BYTES, parsePublished, parseRoster, publishedText, type PublishedReport, type Roster } from '../core/team/guards';
import {
  displayNameProblem,
  MAX_ROLLUP_BYTES,
  parseTeamRollup,
  signedPart,
  sumProblem,
  TEAM_ROLLUP_FORMAT,
  TEAM_ROLLUP_VERSION,
  type Checked,
  type Shareable,
  type TeamRollup,
  type TeamRollupFile,
} from '../core/team/rollup';
import type { UsageFigures } from '../core/outcomes/report';
import { periodRange } from '../core/usage/time';
import { cleanText } from '../core/common/text';
import { loadOrCreateMachineId } from '../store/machineId';
import { loadOrCreateSigningKey, sha256Hex, verifyCanonical } from '../store/signing';
import { listSessions, report, type PeriodQuery } from './queries';
import { openRegular } from '../sources/regular';
import { writeFileAtomic } from '../store/atomic';
import { diskFaultOf } from '../store/diskFault';
import { SpillContributionStore } from '../store/contributionSpill';

export class TeamRollupError extends Error {}

export interface TeamRollupOptions extends PeriodQuery {
  since: string;
  until: string;
  /** A name the member chooses to appear under in the team report (optional; never next to a figure). */
  displayName?: string | null;
  /** What the member opts in to share in this export besides aggregates (nothing by default). */
  include?: readonly Shareable[];
}

/** The pseudonymous member id: derived from the signing key, so nobody can send rollups under someone else's id. */
export function memberIdOf(publicKeyB64: string): string {
  return `m-${sha256Hex(Buffer.from(publicKeyB64, 'base64')).slice(0, 16)}`;
}


/** Checks a display name a member typed; returns it trimmed, or null for none. */
export function displayNameOf(name: string | null | undefined): string | null {
  const v = (name ?? '').trim().replace(/\s+/g, ' ');
  if (!v) return null;
  const problem = displayNameProblem(v);
  if (problem) throw new TeamRollupError(problem);
  return v;
}

/** SHA-256 over the sorted interaction ids of a period: which requests the figures cover, without listing them. */
function interactionDigest(db: Database, from: number, to: number): { count: number; digest: string } {
  const stmt = db.prepare('SELECT id FROM interactions WHERE ts >= ? AND ts < ? ORDER BY id');
  const ids: string[] = [];
  try {
    stmt.bind([from, to]);
    while (stmt.step()) ids.push(String(stmt.get()[0]));
  } finally {
    stmt.free();
  }
  return { count: ids.length, digest: sha256Hex(ids.join('\n')) };
}

const clean = (s: string, max: number): string => cleanText(s).trim().slice(0, max);

function sharedOf(db: Database, q: TeamRollupOptions): TeamRollup['shared'] {
  const include = new Set(q.include ?? []);
  if (include.size === 0) return undefined;
  const sessions = listSessions(db, q);
  const shared: NonNullable<TeamRollup['shared']> = {};
  if (include.has('repos')) {
    // Names only (the last folder of the repository root), never paths.
    shared.repos = [...new Set(sessions.map((s) => (s.repo ? clean(path.basename(s.repo), 200) : '')).filter(Boolean))].sort().slice(0, 500);
  }
  if (include.has('subjects')) {
    const subjects = new Set<string>();
    for (const s of sessions) for (const l of s.links) if (l.counted && l.subject.trim()) subjects.add(clean(l.subject, 300));
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
    throw new TeamRollupError(`the ledger changed while the rollup was built (${ids.count} requests vs ${r.totals.interactions}); try again`);
  }
  const key = loadOrCreateSigningKey(home);
  const figures = (f: UsageFigures): TeamRollup['totals'] => ({
    input: f.input, output: f.output, cacheRead: f.cacheRead, cacheWrite: f.cacheWrite, reasoning: f.reasoning, total: f.total,
    costUSD: f.costUSD, interactions: f.interactions, sessions: f.sessions, unpricedInteractions: f.unpricedInteractions,
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
      commits: o.commits,
      tasks: o.tasks,
      prs: o.prs,
      shippedSessions: o.shippedSessions,
      openSessions: o.openSessions,
      unlinkedSessions: o.unlinkedSessions,
      labelledSessions: o.labelledSessions,
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

let readBuffer: Buffer | undefined;

/** A checked rollup and the fingerprint of the key that signed it (what a roster lists). */
interface Signed {
  rollup: TeamRollup;
  signer: string;
}

/** Every check a merge runs on one file, in order; one line on failure. Reads at most MAX_ROLLUP_BYTES. */
function readTeamRollupFile(file: string): Checked<Signed> {
  let text: string;
  let fd: number | undefined;
  try {
    // Opened without blocking (a FIFO would wait for a writer), then checked on the open file itself: a name swapped
    // for a device or a FIFO between a check and the read cannot make the merge hang or read without end.
    const opened = openRegular(file);
    if ('refused' in opened) return { ok: false, reason: opened.refused };
    fd = opened.fd;
    const st = opened.stat;
    if (st.size > MAX_ROLLUP_BYTES) return { ok: false, reason: `too large (${(st.size / (1 << 20)).toFixed(1)} MB; a rollup is at most ${MAX_ROLLUP_BYTES / 1024} KB)` };
    // At most one byte more than the limit, whatever the size said: a file growing while it is read stays bounded.
    // One buffer for every file (reads are synchronous, and the text is decoded out of it before the next one).
    const bytes = (readBuffer ??= Buffer.allocUnsafe(MAX_ROLLUP_BYTES + 1));
    let length = 0;
    for (let n = -1; n !== 0 && length < bytes.length; length += n) n = fs.readSync(fd, bytes, length, bytes.length - length, null);
    if (length > MAX_ROLLUP_BYTES) return { ok: false, reason: `too large (it grew past ${MAX_ROLLUP_BYTES / 1024} KB while being read)` };
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { ok: false, reason: 'no such file' };
    if (err.code === 'EACCES') return { ok: false, reason: 'cannot be read (permission denied)' };
    if (e instanceof TypeError) return { ok: false, reason: 'not UTF-8 text' };
    if (err.code === 'ELOOP') return { ok: false, reason: 'a symbolic link that loops' };
    if (err.code === 'EISDIR') return { ok: false, reason: 'not a regular file (a folder)' };
    return { ok: false, reason: `cannot be read (${err.code ?? err.message})` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return checkSigned(text);
}


/** The checks of a rollup's text: the pure ones, then the signature and that the member id is the signer's. */
export function checkTeamRollupText(text: string): Checked<TeamRollup> {
  const checked = checkSigned(text);
  return checked.ok ? { ok: true, value: checked.value.rollup } : checked;
}

function checkSigned(text: string): Checked<Signed> {
  const parsed = parseTeamRollup(text);
  if (!parsed.ok) return parsed;
  const f = parsed.value;
  const sig = verifyCanonical(signedPart(f), f.signature);
  if (!sig.ok) return { ok: false, reason: `signature: ${sig.reason}` };
  if (memberIdOf(f.signature.publicKey) !== f.rollup.member.id) {
    return { ok: false, reason: `member id ${f.rollup.member.id} does not belong to the key that signed it (expected ${memberIdOf(f.signature.publicKey)})` };
  }
  const sums = sumProblem(f.rollup);
  if (sums) return { ok: false, reason: `figures do not add up: ${sums}` };
  return { ok: true, value: { rollup: f.rollup, signer: f.signature.fingerprint } };
}

// ---------------------------------------------------------------------------------------------------------------
// Inputs: files, folders (every *.json below them) and glob patterns (* ? and ** in any segment)

const GLOB = /[*?[]/;

function globRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        re += `[${segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function* walkJson(dir: string): Generator<string> {
  for (const e of dirEntries(dir)) {
    if (e.name.startsWith('.')) continue; // .git and friends
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walkJson(p);
    // Symbolic links to folders are not followed (a link loop cannot trap the walk); every other *.json entry is read,
    // so a link to a rollup counts and a link to a device, a FIFO or nothing is refused with its reason.
    else if (e.name.endsWith('.json') && !(e.isSymbolicLink() && isDirectory(p))) yield p;
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function dirEntries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

function* globFiles(base: string, segments: readonly string[]): Generator<string> {
  if (segments.length === 0) {
    // A pattern that names folders takes every rollup below them, like a folder given by name.
    // Anything else that exists (a FIFO, a device, a dangling or looping link) is read and refused with its reason.
    if (isDirectory(base)) yield* walkJson(base);
    else if (fs.lstatSync(base, { throwIfNoEntry: false })) yield base;
    return;
  }
  const [head, ...rest] = segments as [string, ...string[]];
  if (head === '**') {
    yield* globFiles(base, rest);
    for (const e of dirEntries(base)) if (e.isDirectory() && !e.name.startsWith('.')) yield* globFiles(path.join(base, e.name), segments);
    return;
  }
  if (!GLOB.test(head)) {
    yield* globFiles(path.join(base, head), rest);
    return;
  }
  const re = globRegex(head);
  for (const e of dirEntries(base)) {
    if (!re.test(e.name) || (e.name.startsWith('.') && !head.startsWith('.'))) continue;
    if (rest.length === 0 || e.isDirectory()) yield* globFiles(path.join(base, e.name), rest);
  }
}

/** What a merge input names: a file, every *.json under a folder, or the files a pattern matches (or a reason). */
export function* expandRollupInputs(inputs: readonly string[], cwd = process.cwd()): Generator<{ file: string } | { input: string; reason: string }> {
  // A file named twice (by two inputs, or by a pattern with **) is read once. One folder or a pattern without ** cannot
  // name a file twice: no set of every path is kept then (100,000 paths would be 15 MB).
  const seen = inputs.length > 1 || inputs.some((i) => i.includes('**')) ? new Set<string>() : undefined;
  for (const input of inputs) {
    const abs = path.resolve(cwd, input);
    let found = 0;
    const emit = function* (p: string): Generator<{ file: string }> {
      found++;
      if (seen?.has(p)) return;
      seen?.add(p);
      yield { file: p };
    };
    if (GLOB.test(input) && !fs.existsSync(abs)) {
      const parts = abs.split(path.sep);
      const first = parts.findIndex((s) => GLOB.test(s));
      const base = parts.slice(0, first).join(path.sep) || path.sep;
      for (const p of globFiles(base, parts.slice(first))) yield* emit(p);
      if (found === 0) yield { input, reason: 'the pattern matches no file' };
      continue;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch {
      yield { input, reason: 'no such file or folder' };
      continue;
    }
    if (st.isDirectory()) {
      for (const p of walkJson(abs)) yield* emit(p);
      if (found === 0) yield { input, reason: 'the folder holds no .json file' };
    } else {
      yield* emit(abs);
    }
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

/** How a file is named in the report: relative to the working folder when below it. */
function label(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

function mergeOne(merger: TeamMerger, item: { file: string } | { input: string; reason: string }, cwd: string): void {
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
  const same = (p: PublishedReport): boolean => p.since === since && p.until === until && p.members.length === members.length && p.members.every((m, i) => m === members[i]);
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
    if (!v || v.length > 100 || cleanText(v) !== v) throw new TeamRollupError('a team name is 1 to 100 printable characters');
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
    return path.join(parts.slice(0, parts.findIndex((p) => GLOB.test(p))).join(path.sep) || path.sep, TEAM_STATE_FILE);
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
  if (!parsed.ok) throw new TeamRollupError(`the team report state ${file} ${parsed.reason}: it remembers which members earlier reports counted, so it is not replaced silently; restore it, or move it aside knowingly`);
  return parsed.value;
}

/** The roster file given by the lead: one key fingerprint per line, optionally followed by the member's name. */
export function readRoster(file: string, cwd = process.cwd()): Roster {
  const abs = path.resolve(cwd, file);
  let text: string;
  try {
    const st = fs.statSync(abs);
    if (!st.isFile()) throw new TeamRollupError(`the roster ${file} is not a file`);
    if (st.size > MAX_ROSTER_BYTES) throw new TeamRollupError(`the roster ${file} is too large (at most ${MAX_ROSTER_BYTES >> 20} MB)`);
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    if (e instanceof TeamRollupError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TeamRollupError(`cannot read the roster ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message.split('\n')[0]}`);
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

/** The same merge, giving the event loop a turn every 100 files (the extension host stays responsive); undefined when cancelled. */
export async function mergeTeamRollupsAsync(inputs: readonly string[], o: MergeOptions & { cancelled?: () => boolean } = {}): Promise<TeamReportJson | undefined> {
  const published = o.stateFile ? loadPublished(o.stateFile) : [];
  const store = new SpillContributionStore();
  try {
    const merger = new TeamMerger({ store, ...(o.roster ? { roster: o.roster } : {}) });
    for (const done of mergeSteps(merger, inputs, o)) {
      if (done % 100 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (o.cancelled?.()) return undefined;
      }
    }
    return finish(merger, published, o);
  } finally {
    store.close();
  }
}
