/**
 * Merging team rollups into the team report (pure). Files arrive one at a time (the service streams them); the merger
 * keeps per file only what counting once needs (typed arrays, no object per file) and hands the figures of the
 * rollups it counts to a ContributionStore (on disk in the service), never a file's text.
 *
 * Counting each piece of work once:
 * - The same rollup sent twice (same member, machine and interaction digest) counts once.
 * - Rollups of one machine whose periods overlap cannot both count (the overlap would count twice): a period that
 *   contains another replaces it (the wider export covers it), the same period keeps the export with more
 *   interactions (it saw more of the logs), and a partial overlap is left out with its reason.
 * - One member's rollups from several machines add up: machines have distinct ids and distinct interactions.
 *
 * The report protects people: nothing is shown per member, token figures and breakdowns appear only when at least k
 * members contribute (each breakdown row too: rows used by fewer than k members are folded into one), and the value
 * metrics are shown as distributions across members (quartiles), never as a list.
 *
 * And it cannot be gamed (guards.ts, docs/team.md): only members with at least one request count toward k (empty
 * rollups are listed, not counted); with a roster, keys outside it are refused; figures beyond the plausibility
 * bounds and near-identical copies under other machine ids are listed, not counted; a report whose member set differs
 * from a published one for an overlapping period by fewer than k members is withheld; and when one member holds more
 * than half of a team figure, the report says so.
 */
import { SOURCE_NAMES } from '../usage/model';
import { TOKEN_FIGURES } from '../usage/tokens';
import { HexTable } from './hexTable';
import { BOUNDS, differencingConflict, implausible, nearIdentical, type PublishedReport, type Roster } from './guards';
import { valueOf, zeroFigures, type RollupFigures, type RollupOutcomes, type TeamRollup } from './rollup';

export const TEAM_REPORT_FORMAT = 'outcome-ledger-team-report';
export const TEAM_REPORT_VERSION = 1;
export const DEFAULT_MIN_MEMBERS = 3;
/** k below 2 would show one person's figures as the team's. */
export const MIN_K = 2;

export const NO_PER_PERSON_NOTE =
  'There is no per-person token figure in this report, on purpose: tokens are not a performance measure. Someone who ' +
  'solves a problem with one precise prompt spends fewer tokens than someone who fumbles through ten, and ranking ' +
  "people by tokens rewards waste. The report shows what the team's AI use produced and how efficiency is spread " +
  'across members, never who spent what.';

export type NoteStatus = 'refused' | 'duplicate' | 'superseded' | 'overlap' | 'empty' | 'implausible';

/** Team figures one member could move: when one member holds more than half of one, the report says so. */
export const DOMINANCE_FIGURES = ['tokens', 'cost', 'commits', 'tasks', 'prs'] as const;
export type DominanceFigure = (typeof DOMINANCE_FIGURES)[number];

/** The note when no roster was given: who could have contributed. */
export const NO_ROSTER_NOTE =
  'No roster was given: anyone with an Outcome Ledger signing key could have contributed a rollup to this report. ' +
  "Merge with a roster of your team's key fingerprints (--members FILE, or roster.txt in the rollups folder) to count only them.";

export interface FileNote {
  file: string;
  status: NoteStatus;
  reason: string;
}

/**
 * A verified rollup reduced to what the merge uses (`reduceRollup`): strings, numbers and one Float64Array, so it
 * crosses to and from a worker thread cheaply, and nothing of the file's text.
 */
export interface ReducedRollup {
  member: string;
  displayName: string | null;
  machine: string;
  since: string;
  until: string;
  timezone: string;
  digest: string;
  interactions: number;
  generatedAt: string;
  /** Why its figures are beyond the documented bounds (guards.ts), or null. */
  implausible: string | null;
  /**
   * Every figure in one packed array: the totals, the outcomes, then one block of FIELDS per source and per model, in
   * the order of `sources` and `models`.
   */
  figures: Float64Array;
  sources: string[];
  /** `source`, NUL, `model` for each byModel row. */
  models: string[];
  shared: TeamRollup['shared'];
}

/** What the merge keeps of a counted rollup until the report is computed (in a `ContributionStore`). */
export interface StoredContribution {
  file: string;
  displayName: string | null;
  timezone: string;
  figures: Float64Array;
  sources: string[];
  models: string[];
  shared: TeamRollup['shared'];
}

/**
 * Where counted contributions wait for the report. The merger itself keeps, per file, only what counting each piece
 * of work once needs (digest, period, member, machine, a handle; typed arrays, no object per file); the figures go
 * here. In memory by default; the service's store spills them to a temporary file, so memory stays flat for any
 * number of files (services/teamRollup.ts).
 */
export interface ContributionStore {
  /** Keeps a contribution; returns its handle. */
  put(c: StoredContribution): number;
  get(handle: number): StoredContribution;
}

/** The store of small merges and tests: contributions stay in memory. */
export class MemoryContributionStore implements ContributionStore {
  private readonly items: StoredContribution[] = [];
  put(c: StoredContribution): number {
    this.items.push(c);
    return this.items.length - 1;
  }
  get(handle: number): StoredContribution {
    const c = this.items[handle];
    if (!c) throw new Error(`no stored contribution ${handle}`);
    return c;
  }
}

export interface Distribution {
  metric:
    | 'yield'
    | 'tokensPerCommit'
    | 'costPerCommit'
    | 'costPerTask'
    | 'keptLinesPer1kOutput'
    | 'shareWithoutOutcome';
  label: string;
  better: 'higher' | 'lower';
  /** Members for whom the metric is defined (for example: with at least one commit). */
  members: number;
  /** Null when fewer than k members have the metric. */
  q1: number | null;
  median: number | null;
  q3: number | null;
}

export interface TeamReportJson {
  format: typeof TEAM_REPORT_FORMAT;
  version: typeof TEAM_REPORT_VERSION;
  generatedAt: string;
  k: number;
  /**
   * From the earliest to the latest day covered; `periods` lists the distinct periods of the counted rollups (most
   * common first, at most 10), so a lead sees when members exported different periods.
   */
  period: {
    since: string | null;
    until: string | null;
    timezones: string[];
    periods: Array<{ since: string; until: string; rollups: number }>;
  };
  members: number;
  machines: number;
  /** Display names the members chose (sorted; members without one are only counted). */
  named: string[];
  /** `empty`: rollups without a request (never counted toward k); `implausible`: beyond the documented bounds. */
  files: {
    read: number;
    counted: number;
    duplicates: number;
    superseded: number;
    overlapping: number;
    refused: number;
    empty: number;
    implausible: number;
  };
  /** The roster the rollups were checked against (keys outside it are refused), or null: anyone with a key could contribute. */
  roster: { source: string; keys: number } | null;
  /**
   * True when no token figure, outcome or breakdown is shown: fewer than k members contributed (`members`), or the
   * member set differs from a report published for an overlapping period by fewer than k members (`differencing`).
   */
  withheld: boolean;
  withheldBecause: 'members' | 'differencing' | null;
  /** The published report this one would difference against (when withheld for that). */
  differencing: { since: string; until: string; publishedAt: string } | null;
  /** Team figures of which one member holds more than half (the report says so; nobody is named). */
  dominated: DominanceFigure[];
  note: string;
  totals: RollupFigures | null;
  outcomes: {
    commits: number;
    tasks: number;
    prs: number;
    shippedSessions: number;
    openSessions: number;
    unlinkedSessions: number;
    labelledSessions: number;
    tokensWithoutOutcome: number;
    keptLines: number;
    pendingCommits: number;
    yield: number | null;
    tokensPerCommit: number | null;
    costPerCommit: number | null;
    costPerTask: number | null;
    keptLinesPer1kOutput: number | null;
  } | null;
  /**
   * Rows used by at least k members; the rest grouped into one row named "other" (source) or `otherModelsLabel(k)`
   * (model; one per tool, and one for the tools grouped as "other"), and a shown row joins the group when the group
   * would otherwise cover fewer than k members.
   */
  bySource: Array<{ source: string; members: number } & RollupFigures> | null;
  byModel: Array<{ source: string; model: string; members: number } & RollupFigures> | null;
  distributions: Distribution[] | null;
  /** What members opted in to share: repository names (with how many members named them) and commit subjects. */
  shared: { repos: Array<{ name: string; members: number }>; subjects: string[] } | null;
  /** Every file that did not count, with its one-line reason. */
  notCounted: FileNote[];
}

const FIELDS = [
  ...TOKEN_FIGURES,
  'costUSD',
  'interactions',
  'sessions',
  'unpricedInteractions',
  'estimatedTokens',
  'credits',
] as const;
const OUTCOME_FIELDS = [
  'commits',
  'tasks',
  'prs',
  'shippedSessions',
  'openSessions',
  'unlinkedSessions',
  'labelledSessions',
  'shippedTokens',
  'tokensWithoutOutcome',
  'keptLines',
  'keptLinesOutput',
  'pendingCommits',
  'taskCostUSD',
] as const;

const F = FIELDS.length;
const O = OUTCOME_FIELDS.length;

function pack(r: TeamRollup): Float64Array {
  const out = new Float64Array(F + O + F * (r.bySource.length + r.byModel.length));
  let i = 0;
  const put = (f: RollupFigures): void => {
    for (const k of FIELDS) out[i++] = f[k] ?? 0;
  };
  put(r.totals);
  for (const k of OUTCOME_FIELDS) out[i++] = r.outcomes[k];
  for (const s of r.bySource) put(s);
  for (const m of r.byModel) put(m);
  return out;
}

/** What the merge uses of a verified rollup (pure; a worker thread computes it beside the checks). */
export function reduceRollup(r: TeamRollup): ReducedRollup {
  return {
    member: r.member.id,
    displayName: r.member.displayName,
    machine: r.machine.id,
    since: r.period.since,
    until: r.period.until,
    timezone: r.period.timezone,
    digest: r.interactions.digest,
    interactions: r.interactions.count,
    generatedAt: r.generatedAt,
    implausible: r.interactions.count > 0 ? (implausible(r) ?? null) : null,
    figures: pack(r),
    sources: r.bySource.map((x) => x.source),
    models: r.byModel.map((x) => `${x.source}\u0000${x.model}`),
    shared: r.shared,
  };
}

/** The packed totals' positions of the figures `nearIdentical` compares. */
const NEAR = { input: 0, output: 1, cacheRead: 2, cacheWrite: 3, interactions: 7, sessions: 8 } as const;

/** The figures block at `offset` of a packed array, added into `into`. */
function addPacked(into: RollupFigures, packed: Float64Array, offset: number): void {
  FIELDS.forEach((k, j) => addField(into, k, packed[offset + j] as number));
}

function addPackedOutcomes(into: RollupOutcomes, packed: Float64Array): void {
  OUTCOME_FIELDS.forEach((k, j) => (into[k] += packed[F + j] as number));
}

/** Adds one figure; the optional credits appear only once some member has credits. */
function addField(into: RollupFigures, k: (typeof FIELDS)[number], v: number): void {
  if (v !== 0 || into[k] !== undefined) into[k] = (into[k] ?? 0) + v;
}

function zeroOutcomes(): RollupOutcomes {
  return {
    commits: 0,
    tasks: 0,
    prs: 0,
    shippedSessions: 0,
    openSessions: 0,
    unlinkedSessions: 0,
    labelledSessions: 0,
    shippedTokens: 0,
    tokensWithoutOutcome: 0,
    keptLines: 0,
    keptLinesOutput: 0,
    pendingCommits: 0,
    taskCostUSD: 0,
  };
}

function addFigures(into: RollupFigures, f: RollupFigures): void {
  for (const k of FIELDS) addField(into, k, f[k] ?? 0);
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Linear interpolation between order statistics (the common "type 7" quantile). */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Periods as day numbers (YYYYMMDD): number order is date order, as text order is for YYYY-MM-DD. */
const dayNumber = (d: string): number =>
  Number(d.slice(0, 4)) * 10_000 + Number(d.slice(5, 7)) * 100 + Number(d.slice(8, 10));
const dayText = (n: number): string =>
  `${String(Math.floor(n / 10_000)).padStart(4, '0')}-${String(Math.floor(n / 100) % 100).padStart(2, '0')}-${String(n % 100).padStart(2, '0')}`;

interface Period {
  since: number;
  until: number;
  interactions: number;
  generatedAt: number;
}

/**
 * What the merger keeps per counted contribution: its member, machine, period, request count, export time, the totals
 * `nearIdentical` compares, its digest and its store handle, in typed arrays (a merge of 100,000 files allocates no
 * object per file), plus the next contribution of the same machine (each machine's list, in the order counted).
 */
class Index {
  size = 0;
  member = new Int32Array(256);
  machine = new Int32Array(256);
  since = new Int32Array(256);
  until = new Int32Array(256);
  next = new Int32Array(256);
  handle = new Float64Array(256);
  interactions = new Float64Array(256);
  generatedAt = new Float64Array(256);
  near = new Float64Array(256 * 6);
  /** The entry of its interaction digest in the merger's table of digests. */
  digest = new Int32Array(256);

  push(member: number, machine: number, p: Period, figures: Float64Array, digest: number, handle: number): number {
    if (this.size === this.member.length) this.grow();
    const i = this.size++;
    this.member[i] = member;
    this.machine[i] = machine;
    this.since[i] = p.since;
    this.until[i] = p.until;
    this.interactions[i] = p.interactions;
    this.generatedAt[i] = p.generatedAt;
    this.next[i] = -1;
    this.handle[i] = handle;
    Object.values(NEAR).forEach((at, j) => (this.near[i * 6 + j] = figures[at] as number));
    this.digest[i] = digest;
    return i;
  }

  period(i: number): Period {
    return {
      since: this.since[i] as number,
      until: this.until[i] as number,
      interactions: this.interactions[i] as number,
      generatedAt: this.generatedAt[i] as number,
    };
  }

  totals(i: number): Parameters<typeof nearIdentical>[0] {
    const n = this.near;
    return {
      input: n[i * 6] as number,
      output: n[i * 6 + 1] as number,
      cacheRead: n[i * 6 + 2] as number,
      cacheWrite: n[i * 6 + 3] as number,
      interactions: n[i * 6 + 4] as number,
      sessions: n[i * 6 + 5] as number,
    };
  }

  private grow(): void {
    const twice = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.member = twice(this.member);
    this.machine = twice(this.machine);
    this.since = twice(this.since);
    this.until = twice(this.until);
    this.next = twice(this.next);
    this.handle = twice(this.handle);
    this.interactions = twice(this.interactions);
    this.generatedAt = twice(this.generatedAt);
    this.near = twice(this.near);
    this.digest = twice(this.digest);
  }
}

const overlaps = (a: Period, b: Period): boolean => a.since <= b.until && b.since <= a.until;
const contains = (a: Period, b: Period): boolean => a.since <= b.since && b.until <= a.until;
/** Of two exports of one machine, which counts: the same period keeps the one with more requests (then the later), else the wider. */
const wins = (a: Period, b: Period): boolean =>
  a.since === b.since && a.until === b.until
    ? a.interactions > b.interactions || (a.interactions === b.interactions && a.generatedAt > b.generatedAt)
    : contains(a, b);

export interface MergerOptions {
  /** Only rollups signed by these keys count; the others are refused with their reason. */
  roster?: Roster;
  /** Where the figures of counted rollups wait for the report (default: in memory). */
  store?: ContributionStore;
}

export class TeamMerger {
  private readonly index = new Index();
  private readonly store: ContributionStore;
  /** Member ids, and each member's number. */
  private readonly memberIds: string[] = [];
  private readonly memberNumbers = new Map<string, number>();
  /** Machines (member/machine) with a counted contribution, numbered in the order first counted; each one's list. */
  private readonly machineNumbers = new HexTable(32);
  private readonly machineHead: number[] = [];
  private readonly machineTail: number[] = [];
  /** Machines with a counted contribution, per member: for the machine bound and near-identical copies. */
  private readonly memberMachines = new Map<number, number[]>();
  private readonly roster: Roster | undefined;
  private counted: ReadonlySet<string> = new Set();

  constructor(o: MergerOptions = {}) {
    this.roster = o.roster;
    this.store = o.store ?? new MemoryContributionStore();
  }
  private readonly notes: FileNote[] = [];
  private read = 0;
  /** One copy of each source and model key, shared by every contribution kept in memory. */
  private readonly keys = new Map<string, string>();
  /** Counted contributions by interaction digest (-1: none now): two members never cover the same requests. */
  private readonly digests = new HexTable(64);

  private intern(k: string): string {
    const found = this.keys.get(k);
    if (found !== undefined) return found;
    this.keys.set(k, k);
    return k;
  }

  private fileOf(c: number): string {
    return this.store.get(this.index.handle[c] as number).file;
  }

  /** The contributions of a machine still counted, in the order they were counted. */
  private listOf(machine: number | undefined): number[] {
    const out: number[] = [];
    if (machine === undefined) return out;
    for (let c = this.machineHead[machine] as number; c !== -1; c = this.index.next[c] as number) out.push(c);
    return out;
  }

  private unlink(machine: number, c: number): void {
    const next = this.index.next;
    let prev = -1;
    for (let x = this.machineHead[machine] as number; x !== -1; prev = x, x = next[x] as number) {
      if (x !== c) continue;
      if (prev === -1) this.machineHead[machine] = next[x] as number;
      else next[prev] = next[x] as number;
      if (this.machineTail[machine] === x) this.machineTail[machine] = prev;
      return;
    }
  }

  /** A file that could not be read or failed a check: it is listed with its reason and counts nowhere. */
  refuse(file: string, reason: string): void {
    this.read++;
    this.notes.push({ file, status: 'refused', reason });
  }

  /**
   * A verified rollup (`signer`: the fingerprint of the key that signed it): counted, or noted as refused (outside the
   * roster), empty, implausible, or a duplicate, superseded or overlapping export.
   */
  add(file: string, r: TeamRollup, signer?: string): void {
    this.addReduced(file, reduceRollup(r), signer);
  }

  /** The same for a rollup already reduced (`reduceRollup`, for example in a worker thread). */
  addReduced(file: string, r: ReducedRollup, signer?: string): void {
    if (this.roster) {
      const listed = signer !== undefined && this.roster.keys.has(signer);
      if (!listed) {
        this.refuse(
          file,
          `signed by ${signer ?? 'an unknown key'}, which is not on the roster (${this.roster.source}): not counted (add the key to the roster if this member belongs to the team)`,
        );
        return;
      }
    }
    this.read++;
    if (r.interactions === 0) {
      this.notes.push({
        file,
        status: 'empty',
        reason:
          'holds no request in its period: an empty rollup never counts toward k (it would add a member without adding work)',
      });
      return;
    }
    if (r.implausible) {
      this.notes.push({ file, status: 'implausible', reason: r.implausible });
      return;
    }
    const ix = this.index;
    let member = this.memberNumbers.get(r.member);
    if (member === undefined) {
      member = this.memberIds.push(r.member) - 1;
      this.memberNumbers.set(r.member, member);
    }
    const machineEntry = this.machineNumbers.find(r.machine, member);
    let machine = machineEntry === -1 ? undefined : this.machineNumbers.value(machineEntry);
    const incoming: Period = {
      since: dayNumber(r.since),
      until: dayNumber(r.until),
      interactions: r.interactions,
      generatedAt: Date.parse(r.generatedAt),
    };
    const digest = this.digests.find(r.digest);
    const claimed = digest === -1 ? -1 : this.digests.value(digest);
    if (claimed !== -1 && ix.member[claimed] !== member) {
      this.notes.push({
        file,
        status: 'duplicate',
        reason: `covers exactly the requests of ${this.fileOf(claimed)}, which another member's key signed: counted once, from that file`,
      });
      return;
    }
    const touching = this.listOf(machine).filter((c) => overlaps(ix.period(c), incoming));
    for (const c of touching) {
      if (ix.digest[c] === digest && ix.since[c] === incoming.since && ix.until[c] === incoming.until) {
        this.notes.push({
          file,
          status: 'duplicate',
          reason: `the same rollup as ${this.fileOf(c)} (same member, machine, period and interactions): counted once`,
        });
        return;
      }
    }
    const machines = this.memberMachines.get(member) ?? [];
    const totals = {
      input: r.figures[NEAR.input] as number,
      output: r.figures[NEAR.output] as number,
      cacheRead: r.figures[NEAR.cacheRead] as number,
      cacheWrite: r.figures[NEAR.cacheWrite] as number,
      interactions: r.figures[NEAR.interactions] as number,
      sessions: r.figures[NEAR.sessions] as number,
    };
    for (const other of machines) {
      if (other === machine) continue;
      const copy = this.listOf(other).find(
        (c) => overlaps(ix.period(c), incoming) && nearIdentical(ix.totals(c), totals),
      );
      if (copy !== undefined) {
        this.notes.push({
          file,
          status: 'duplicate',
          reason: `near-identical to ${this.fileOf(copy)} from another machine of the same member (same requests and sessions, tokens within ${BOUNDS.nearIdentical * 100}%): a copy, counted once`,
        });
        return;
      }
    }
    if (machine === undefined && machines.length >= BOUNDS.machinesPerMember) {
      this.notes.push({
        file,
        status: 'implausible',
        reason: `implausible: one member on more than ${BOUNDS.machinesPerMember} machines in one merge (the documented bound); this machine is not counted`,
      });
      return;
    }
    const covering = touching.find((c) => contains(ix.period(c), incoming) && !wins(incoming, ix.period(c)));
    if (covering !== undefined) {
      this.notes.push({
        file,
        status: 'superseded',
        reason: `${this.fileOf(covering)} from the same machine covers its period (${dayText(ix.since[covering] as number)} … ${dayText(ix.until[covering] as number)}): counted once, from that file`,
      });
      return;
    }
    if (touching.every((c) => wins(incoming, ix.period(c)))) {
      for (const c of touching) {
        this.notes.push({
          file: this.fileOf(c),
          status: 'superseded',
          reason: `${file} from the same machine covers its period (${r.since} … ${r.until}): counted once, from that file`,
        });
        this.unlink(machine as number, c);
        const d = ix.digest[c] as number;
        if (this.digests.value(d) === c) this.digests.setValue(d, -1);
      }
      const rosterName = this.roster && signer !== undefined ? (this.roster.keys.get(signer) ?? null) : undefined;
      const handle = this.store.put({
        file,
        displayName: rosterName === undefined ? r.displayName : rosterName,
        timezone: r.timezone,
        figures: r.figures,
        sources: r.sources.map((x) => this.intern(x)),
        models: r.models.map((x) => this.intern(x)),
        shared: r.shared,
      });
      if (machine === undefined) {
        machine = this.machineHead.length;
        this.machineNumbers.setValue(this.machineNumbers.entry(r.machine, member), machine);
        this.machineHead.push(-1);
        this.machineTail.push(-1);
        machines.push(machine);
        this.memberMachines.set(member, machines);
      }
      const entry = digest === -1 ? this.digests.entry(r.digest) : digest;
      const c = ix.push(member, machine, incoming, r.figures, entry, handle);
      const tail = this.machineTail[machine] as number;
      if (tail === -1) this.machineHead[machine] = c;
      else ix.next[tail] = c;
      this.machineTail[machine] = c;
      this.digests.setValue(entry, c);
      return;
    }
    const other = touching.find((c) => !wins(incoming, ix.period(c))) as number;
    this.notes.push({
      file,
      status: 'overlap',
      reason: `its period ${r.since} … ${r.until} partly overlaps ${this.fileOf(other)} (${dayText(ix.since[other] as number)} … ${dayText(ix.until[other] as number)}) from the same machine: left out so no day counts twice (export periods that do not overlap)`,
    });
  }

  /** The pseudonymous ids of the members the last `result` counted (what the state file remembers once it is published). */
  memberSet(): ReadonlySet<string> {
    return this.counted;
  }

  /**
   * The team report from everything added so far. `published`: the reports published before from the same output
   * folder; when this one differs from one of them for an overlapping period by fewer than k members, it is withheld.
   */
  result(k: number, generatedAt: string, published: readonly PublishedReport[] = []): TeamReportJson {
    k = Math.max(MIN_K, Math.floor(k));
    const totals = zeroFigures();
    const outcomes = zeroOutcomes();
    const members = new Map<string, { figures: RollupFigures; outcomes: RollupOutcomes }>();
    const names = new Map<string, string>();
    const bySource = new Map<string, { figures: RollupFigures; members: Set<string> }>();
    const byModel = new Map<string, { source: string; model: string; figures: RollupFigures; members: Set<string> }>();
    const repos = new Map<string, Set<string>>();
    const subjects = new Set<string>();
    const timezones = new Set<string>();
    const periods = new Map<string, number>();
    let since = null as string | null;
    let until = null as string | null;
    let counted = 0;
    const ix = this.index;
    for (let machine = 0; machine < this.machineHead.length; machine++) {
      for (let at = this.machineHead[machine] as number; at !== -1; at = ix.next[at] as number) {
        const c = this.store.get(ix.handle[at] as number);
        const member = this.memberIds[ix.member[at] as number] as string;
        const cSince = dayText(ix.since[at] as number);
        const cUntil = dayText(ix.until[at] as number);
        counted++;
        addPacked(totals, c.figures, 0);
        addPackedOutcomes(outcomes, c.figures);
        const m = members.get(member) ?? { figures: zeroFigures(), outcomes: zeroOutcomes() };
        addPacked(m.figures, c.figures, 0);
        addPackedOutcomes(m.outcomes, c.figures);
        members.set(member, m);
        let offset = F + O;
        for (const source of c.sources) {
          const row = bySource.get(source) ?? { figures: zeroFigures(), members: new Set<string>() };
          addPacked(row.figures, c.figures, offset);
          offset += F;
          row.members.add(member);
          bySource.set(source, row);
        }
        for (const key of c.models) {
          const [source = '', model = ''] = key.split('\u0000');
          const row = byModel.get(key) ?? { source, model, figures: zeroFigures(), members: new Set<string>() };
          addPacked(row.figures, c.figures, offset);
          offset += F;
          row.members.add(member);
          byModel.set(key, row);
        }
        for (const name of c.shared?.repos ?? []) repos.set(name, (repos.get(name) ?? new Set<string>()).add(member));
        for (const s of c.shared?.subjects ?? []) if (subjects.size < 1000) subjects.add(s);
        if (c.displayName) names.set(member, c.displayName);
        timezones.add(c.timezone);
        const p = `${cSince} ${cUntil}`;
        periods.set(p, (periods.get(p) ?? 0) + 1);
        since = since === null || cSince < since ? cSince : since;
        until = until === null || cUntil > until ? cUntil : until;
      }
    }
    this.counted = new Set(members.keys());
    const few = members.size < k;
    const conflict =
      few || since === null || until === null
        ? undefined
        : differencingConflict(published, { since, until, members: this.counted }, k);
    const withheld = few || conflict !== undefined;
    const notCounted = [...this.notes].sort((a, b) => a.file.localeCompare(b.file));
    const count = (s: NoteStatus): number => this.notes.filter((n) => n.status === s).length;
    const base = {
      format: TEAM_REPORT_FORMAT,
      version: TEAM_REPORT_VERSION,
      generatedAt,
      k,
      period: {
        since,
        until,
        timezones: [...timezones].sort(),
        periods: [...periods]
          .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
          .slice(0, 10)
          .map(([p, rollups]) => {
            const [s = '', u = ''] = p.split(' ');
            return { since: s, until: u, rollups };
          }),
      },
      members: members.size,
      machines: this.machineHead.filter((head) => head !== -1).length,
      named: [],
      files: {
        read: this.read,
        counted,
        duplicates: count('duplicate'),
        superseded: count('superseded'),
        overlapping: count('overlap'),
        refused: count('refused'),
        empty: count('empty'),
        implausible: count('implausible'),
      },
      roster: this.roster ? { source: this.roster.source, keys: this.roster.keys.size } : null,
      withheld,
      withheldBecause: few ? 'members' : conflict ? 'differencing' : null,
      differencing: conflict
        ? { since: conflict.since, until: conflict.until, publishedAt: conflict.generatedAt }
        : null,
      dominated: [],
      note: NO_PER_PERSON_NOTE,
      notCounted,
    } satisfies Partial<TeamReportJson>;
    if (withheld) {
      return {
        ...base,
        totals: null,
        outcomes: null,
        bySource: null,
        byModel: null,
        distributions: null,
        shared: null,
      };
    }
    return {
      ...base,
      dominated: dominance([...members.values()]),
      named: [...names.values()].sort(),
      totals: roundFigures(totals),
      outcomes: {
        commits: outcomes.commits,
        tasks: outcomes.tasks,
        prs: outcomes.prs,
        shippedSessions: outcomes.shippedSessions,
        openSessions: outcomes.openSessions,
        unlinkedSessions: outcomes.unlinkedSessions,
        labelledSessions: outcomes.labelledSessions,
        tokensWithoutOutcome: outcomes.tokensWithoutOutcome,
        keptLines: outcomes.keptLines,
        pendingCommits: outcomes.pendingCommits,
        ...valueOf(totals, outcomes),
      },
      ...breakdowns(bySource, byModel, k),
      distributions: distributions([...members.values()], k),
      shared:
        repos.size + subjects.size > 0
          ? {
              repos: [...repos]
                .map(([name, set]) => ({ name, members: set.size }))
                .sort((a, b) => b.members - a.members || a.name.localeCompare(b.name)),
              subjects: [...subjects].sort(),
            }
          : null,
    };
  }
}

/** The team figures of which one member holds more than half. */
function dominance(members: ReadonlyArray<{ figures: RollupFigures; outcomes: RollupOutcomes }>): DominanceFigure[] {
  const of = (f: DominanceFigure, m: { figures: RollupFigures; outcomes: RollupOutcomes }): number =>
    f === 'tokens' ? m.figures.total : f === 'cost' ? m.figures.costUSD : m.outcomes[f];
  return DOMINANCE_FIGURES.filter((f) => {
    let sum = 0;
    let max = 0;
    for (const m of members) {
      const v = of(f, m);
      sum += v;
      max = Math.max(max, v);
    }
    return sum > 0 && max > sum / 2;
  });
}

function order(source: string): number {
  const i = (SOURCE_NAMES as readonly string[]).indexOf(source);
  return i === -1 ? SOURCE_NAMES.length : i;
}

function roundFigures(f: RollupFigures): RollupFigures {
  return { ...f, costUSD: round6(f.costUSD) };
}

/** The label of the row that groups the tools or models no row may show on its own. */
export const otherModelsLabel = (k: number): string =>
  `other models (grouped so that no row covers fewer than ${k} members)`;

interface Row<L> {
  label: L;
  members: Set<string>;
  figures: RollupFigures;
}

/**
 * Rows with at least k members are shown; the others are summed into one row (members counted as a union). When that
 * row would cover fewer than k members, the smallest shown rows join it until it covers k: otherwise it would show
 * fewer than k people's figures, directly or as the total minus the rows shown.
 */
function foldRows<L extends object>(
  rows: ReadonlyArray<Row<L>>,
  k: number,
  other: L,
): Array<L & { members: number } & RollupFigures> {
  const shown = rows.filter((r) => r.members.size >= k).sort((a, b) => a.figures.total - b.figures.total);
  const folded = rows.filter((r) => r.members.size < k);
  const foldedMembers = new Set<string>();
  for (const r of folded) for (const m of r.members) foldedMembers.add(m);
  while (folded.length > 0 && foldedMembers.size < k && shown.length > 0) {
    const r = shown.shift() as Row<L>;
    folded.push(r);
    for (const m of r.members) foldedMembers.add(m);
  }
  const out = shown.map((r) => ({ ...r.label, members: r.members.size, ...roundFigures(r.figures) }));
  if (folded.length > 0) out.push({ ...other, members: foldedMembers.size, ...roundFigures(sumRows(folded)) });
  return out;
}

function sumRows(rows: ReadonlyArray<{ figures: RollupFigures }>): RollupFigures {
  const sum = zeroFigures();
  for (const r of rows) addFigures(sum, r.figures);
  return sum;
}

type SourceRow = { source: string; members: number } & RollupFigures;
type ModelRow = { source: string; model: string; members: number } & RollupFigures;

/**
 * By tool and by model, k-anonymous together: the models of a tool shown on its own are folded within that tool (the
 * tool's row minus its models shown is then that tool's "other models" row, which covers at least k members), and the
 * models of the tools grouped as "other" form one row, equal to that tool row.
 */
function breakdowns(
  bySource: ReadonlyMap<string, { figures: RollupFigures; members: Set<string> }>,
  byModel: ReadonlyMap<string, { source: string; model: string; figures: RollupFigures; members: Set<string> }>,
  k: number,
): { bySource: SourceRow[]; byModel: ModelRow[] } {
  const sources = foldRows(
    [...bySource].map(([source, row]) => ({ label: { source }, members: row.members, figures: row.figures })),
    k,
    { source: 'other' },
  ).sort((a, b) => order(a.source) - order(b.source) || a.source.localeCompare(b.source));
  const label = otherModelsLabel(k);
  const models: ModelRow[] = [];
  const grouped: Array<Row<{ source: string; model: string }>> = [];
  for (const s of sources) {
    if (s.source === 'other') continue;
    const rows = [...byModel.values()]
      .filter((m) => m.source === s.source)
      .map((m) => ({ label: { source: m.source, model: m.model }, members: m.members, figures: m.figures }));
    models.push(
      ...foldRows(rows, k, { source: s.source, model: label }).sort(
        (a, b) =>
          (a.model === label ? 1 : 0) - (b.model === label ? 1 : 0) ||
          b.total - a.total ||
          a.model.localeCompare(b.model),
      ),
    );
  }
  const shownSources = new Set(sources.map((s) => s.source));
  for (const m of byModel.values())
    if (!shownSources.has(m.source))
      grouped.push({ label: { source: 'other', model: label }, members: m.members, figures: m.figures });
  if (grouped.length > 0) {
    const members = new Set<string>();
    for (const g of grouped) for (const m of g.members) members.add(m);
    models.push({ source: 'other', model: label, members: members.size, ...roundFigures(sumRows(grouped)) });
  }
  return { bySource: sources, byModel: models };
}

const METRICS: ReadonlyArray<{ metric: Distribution['metric']; label: string; better: Distribution['better'] }> = [
  { metric: 'yield', label: 'Yield (share of tokens in shipped sessions)', better: 'higher' },
  { metric: 'shareWithoutOutcome', label: 'Share of tokens without an outcome', better: 'lower' },
  { metric: 'tokensPerCommit', label: 'Tokens per commit', better: 'lower' },
  { metric: 'costPerCommit', label: 'Cost per commit (USD, estimate)', better: 'lower' },
  { metric: 'costPerTask', label: 'Cost per task (USD, estimate)', better: 'lower' },
  { metric: 'keptLinesPer1kOutput', label: 'Kept lines per 1k output tokens', better: 'higher' },
];

function distributions(
  members: ReadonlyArray<{ figures: RollupFigures; outcomes: RollupOutcomes }>,
  k: number,
): Distribution[] {
  const values = new Map<Distribution['metric'], number[]>(METRICS.map((m) => [m.metric, []]));
  for (const m of members) {
    const v = valueOf(m.figures, m.outcomes);
    const push = (metric: Distribution['metric'], x: number | null): void => {
      if (x !== null && Number.isFinite(x)) values.get(metric)?.push(x);
    };
    push('yield', v.yield);
    push('shareWithoutOutcome', m.figures.total > 0 ? m.outcomes.tokensWithoutOutcome / m.figures.total : null);
    push('tokensPerCommit', v.tokensPerCommit);
    push('costPerCommit', v.costPerCommit);
    push('costPerTask', v.costPerTask);
    push('keptLinesPer1kOutput', v.keptLinesPer1kOutput);
  }
  return METRICS.map(({ metric, label, better }) => {
    const xs = (values.get(metric) ?? []).sort((a, b) => a - b);
    const enough = xs.length >= k;
    const q = (p: number): number | null => (enough ? quantile(xs, p) : null);
    return { metric, label, better, members: xs.length, q1: q(0.25), median: q(0.5), q3: q(0.75) };
  });
}
