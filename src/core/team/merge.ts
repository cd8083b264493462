/**
 * Merging team rollups into the team report (pure). Files arrive one at a time (the service streams them); the merger
 * keeps, per member and machine, only the figures of the rollups it counts and their dedup keys, never a file's text.
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
import { BOUNDS, differencingConflict, implausible, nearIdentical, type PublishedReport, type Roster } from './guards';
import { valueOf, type RollupFigures, type RollupOutcomes, type TeamRollup } from './rollup';

export const TEAM_REPORT_FORMAT = 'outcome-ledger-team-report';
export const TEAM_REPORT_VERSION = 1;
export const DEFAULT_MIN_MEMBERS = 3;
/** k below 2 would show one person's figures as the team's. */
export const MIN_K = 2;

export const NO_PER_PERSON_NOTE =
  'There is no per-person token figure in this report, on purpose: tokens are not a performance measure. Someone who ' +
  'solves a problem with one precise prompt spends fewer tokens than someone who fumbles through ten, and ranking ' +
  'people by tokens rewards waste. The report shows what the team\'s AI use produced and how efficiency is spread ' +
  'across members, never who spent what.';

export type NoteStatus = 'refused' | 'duplicate' | 'superseded' | 'overlap' | 'empty' | 'implausible';

/** Team figures one member could move: when one member holds more than half of one, the report says so. */
export const DOMINANCE_FIGURES = ['tokens', 'cost', 'commits', 'tasks', 'prs'] as const;
export type DominanceFigure = (typeof DOMINANCE_FIGURES)[number];

/** The note when no roster was given: who could have contributed. */
export const NO_ROSTER_NOTE =
  'No roster was given: anyone with an Outcome Ledger signing key could have contributed a rollup to this report. ' +
  'Merge with a roster of your team\'s key fingerprints (--members FILE, or roster.txt in the rollups folder) to count only them.';

export interface FileNote {
  file: string;
  status: NoteStatus;
  reason: string;
}

interface Contribution {
  file: string;
  member: string;
  displayName: string | null;
  since: string;
  until: string;
  timezone: string;
  digest: string;
  interactions: number;
  generatedAt: string;
  totals: Pick<RollupFigures, 'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'interactions' | 'sessions'>;
  /**
   * Every figure in one packed array (a merge of 10,000 rollups keeps 10,000 of these): the totals, the outcomes,
   * then one block of FIELDS per source and per model, in the order of `sources` and `models` (interned keys).
   */
  figures: Float64Array;
  sources: string[];
  models: string[];
  shared: TeamRollup['shared'];
}

export interface Distribution {
  metric: 'yield' | 'tokensPerCommit' | 'costPerCommit' | 'costPerTask' | 'keptLinesPer1kOutput' | 'shareWithoutOutcome';
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
  period: { since: string | null; until: string | null; timezones: string[]; periods: Array<{ since: string; until: string; rollups: number }> };
  members: number;
  machines: number;
  /** Display names the members chose (sorted; members without one are only counted). */
  named: string[];
  /** `empty`: rollups without a request (never counted toward k); `implausible`: beyond the documented bounds. */
  files: { read: number; counted: number; duplicates: number; superseded: number; overlapping: number; refused: number; empty: number; implausible: number };
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

const FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning', 'total', 'costUSD', 'interactions', 'sessions', 'unpricedInteractions', 'estimatedTokens', 'credits'] as const;
const OUTCOME_FIELDS = [
  'commits', 'tasks', 'prs', 'shippedSessions', 'openSessions', 'unlinkedSessions', 'labelledSessions', 'shippedTokens', 'tokensWithoutOutcome',
  'keptLines', 'keptLinesOutput', 'pendingCommits', 'taskCostUSD',
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

function zeroFigures(): RollupFigures {
  return { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0, total: 0, costUSD: 0, interactions: 0, sessions: 0, unpricedInteractions: 0, estimatedTokens: 0 };
}

function zeroOutcomes(): RollupOutcomes {
  return {
    commits: 0, tasks: 0, prs: 0, shippedSessions: 0, openSessions: 0, unlinkedSessions: 0, labelledSessions: 0, shippedTokens: 0,
    tokensWithoutOutcome: 0, keptLines: 0, keptLinesOutput: 0, pendingCommits: 0, taskCostUSD: 0,
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

/** Periods are inclusive day ranges as YYYY-MM-DD: text order is date order. */
const overlaps = (a: { since: string; until: string }, b: { since: string; until: string }): boolean => a.since <= b.until && b.since <= a.until;
const contains = (a: { since: string; until: string }, b: { since: string; until: string }): boolean => a.since <= b.since && b.until <= a.until;

export interface MergerOptions {
  /** Only rollups signed by these keys count; the others are refused with their reason. */
  roster?: Roster;
}

export class TeamMerger {
  private readonly machines = new Map<string, Contribution[]>();
  /** Machine keys (member/machine) with a counted contribution, per member: for the machine bound and near-identical copies. */
  private readonly memberMachines = new Map<string, Set<string>>();
  private readonly roster: Roster | undefined;
  private counted: ReadonlySet<string> = new Set();

  constructor(o: MergerOptions = {}) {
    this.roster = o.roster;
  }
  private readonly notes: FileNote[] = [];
  private read = 0;
  /** One copy of each source and model key, shared by every contribution. */
  private readonly keys = new Map<string, string>();
  /** Counted contributions by interaction digest: two members never cover the same requests. */
  private readonly digests = new Map<string, Contribution>();

  private intern(k: string): string {
    const found = this.keys.get(k);
    if (found !== undefined) return found;
    this.keys.set(k, k);
    return k;
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
    if (this.roster) {
      const listed = signer !== undefined && this.roster.keys.has(signer);
      if (!listed) {
        this.refuse(file, `signed by ${signer ?? 'an unknown key'}, which is not on the roster (${this.roster.source}): not counted (add the key to the roster if this member belongs to the team)`);
        return;
      }
    }
    this.read++;
    if (r.interactions.count === 0) {
      this.notes.push({ file, status: 'empty', reason: 'holds no request in its period: an empty rollup never counts toward k (it would add a member without adding work)' });
      return;
    }
    const beyond = implausible(r);
    if (beyond) {
      this.notes.push({ file, status: 'implausible', reason: beyond });
      return;
    }
    const key = `${r.member.id}/${r.machine.id}`;
    const list = this.machines.get(key) ?? [];
    const rosterName = this.roster && signer !== undefined ? (this.roster.keys.get(signer) ?? null) : undefined;
    const incoming: Contribution = {
      file, member: r.member.id, displayName: rosterName === undefined ? r.member.displayName : rosterName, since: r.period.since, until: r.period.until,
      timezone: r.period.timezone, digest: r.interactions.digest, interactions: r.interactions.count, generatedAt: r.generatedAt,
      totals: { input: r.totals.input, output: r.totals.output, cacheRead: r.totals.cacheRead, cacheWrite: r.totals.cacheWrite, interactions: r.totals.interactions, sessions: r.totals.sessions },
      figures: pack(r), sources: r.bySource.map((x) => this.intern(x.source)), models: r.byModel.map((x) => this.intern(`${x.source}\u0000${x.model}`)), shared: r.shared,
    };
    const claimed = r.interactions.count > 0 ? this.digests.get(incoming.digest) : undefined;
    if (claimed && claimed.member !== incoming.member) {
      this.notes.push({ file, status: 'duplicate', reason: `covers exactly the requests of ${claimed.file}, which another member's key signed: counted once, from that file` });
      return;
    }
    const touching = list.filter((c) => overlaps(c, incoming));
    for (const c of touching) {
      if (c.digest === incoming.digest && c.since === incoming.since && c.until === incoming.until) {
        this.notes.push({ file, status: 'duplicate', reason: `the same rollup as ${c.file} (same member, machine, period and interactions): counted once` });
        return;
      }
    }
    const machines = this.memberMachines.get(incoming.member) ?? new Set<string>();
    for (const other of machines) {
      if (other === key) continue;
      const copy = (this.machines.get(other) ?? []).find((c) => overlaps(c, incoming) && nearIdentical(c.totals, incoming.totals));
      if (copy) {
        this.notes.push({ file, status: 'duplicate', reason: `near-identical to ${copy.file} from another machine of the same member (same requests and sessions, tokens within ${BOUNDS.nearIdentical * 100}%): a copy, counted once` });
        return;
      }
    }
    if (!machines.has(key) && machines.size >= BOUNDS.machinesPerMember) {
      this.notes.push({ file, status: 'implausible', reason: `implausible: one member on more than ${BOUNDS.machinesPerMember} machines in one merge (the documented bound); this machine is not counted` });
      return;
    }
    const wins = (a: Contribution, b: Contribution): boolean =>
      a.since === b.since && a.until === b.until ? a.interactions > b.interactions || (a.interactions === b.interactions && a.generatedAt > b.generatedAt) : contains(a, b);
    const covering = touching.find((c) => contains(c, incoming) && !wins(incoming, c));
    if (covering) {
      this.notes.push({ file, status: 'superseded', reason: `${covering.file} from the same machine covers its period (${covering.since} … ${covering.until}): counted once, from that file` });
      return;
    }
    if (touching.every((c) => wins(incoming, c))) {
      for (const c of touching) {
        this.notes.push({ file: c.file, status: 'superseded', reason: `${file} from the same machine covers its period (${incoming.since} … ${incoming.until}): counted once, from that file` });
        list.splice(list.indexOf(c), 1);
        if (this.digests.get(c.digest) === c) this.digests.delete(c.digest);
      }
      list.push(incoming);
      if (incoming.interactions > 0) this.digests.set(incoming.digest, incoming);
      this.machines.set(key, list);
      this.memberMachines.set(incoming.member, machines.add(key));
      return;
    }
    const other = touching.find((c) => !wins(incoming, c)) as Contribution;
    this.notes.push({
      file,
      status: 'overlap',
      reason: `its period ${incoming.since} … ${incoming.until} partly overlaps ${other.file} (${other.since} … ${other.until}) from the same machine: left out so no day counts twice (export periods that do not overlap)`,
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
    for (const list of this.machines.values()) {
      for (const c of list) {
        counted++;
        addPacked(totals, c.figures, 0);
        addPackedOutcomes(outcomes, c.figures);
        const m = members.get(c.member) ?? { figures: zeroFigures(), outcomes: zeroOutcomes() };
        addPacked(m.figures, c.figures, 0);
        addPackedOutcomes(m.outcomes, c.figures);
        members.set(c.member, m);
        let offset = F + O;
        for (const source of c.sources) {
          const row = bySource.get(source) ?? { figures: zeroFigures(), members: new Set<string>() };
          addPacked(row.figures, c.figures, offset);
          offset += F;
          row.members.add(c.member);
          bySource.set(source, row);
        }
        for (const key of c.models) {
          const [source = '', model = ''] = key.split('\u0000');
          const row = byModel.get(key) ?? { source, model, figures: zeroFigures(), members: new Set<string>() };
          addPacked(row.figures, c.figures, offset);
          offset += F;
          row.members.add(c.member);
          byModel.set(key, row);
        }
        for (const name of c.shared?.repos ?? []) repos.set(name, (repos.get(name) ?? new Set<string>()).add(c.member));
        for (const s of c.shared?.subjects ?? []) if (subjects.size < 1000) subjects.add(s);
        if (c.displayName) names.set(c.member, c.displayName);
        timezones.add(c.timezone);
        const p = `${c.since} ${c.until}`;
        periods.set(p, (periods.get(p) ?? 0) + 1);
        since = since === null || c.since < since ? c.since : since;
        until = until === null || c.until > until ? c.until : until;
      }
    }
    this.counted = new Set(members.keys());
    const few = members.size < k;
    const conflict = few || since === null || until === null ? undefined : differencingConflict(published, { since, until, members: this.counted }, k);
    const withheld = few || conflict !== undefined;
    const notCounted = [...this.notes].sort((a, b) => a.file.localeCompare(b.file));
    const count = (s: NoteStatus): number => this.notes.filter((n) => n.status === s).length;
    const base = {
      format: TEAM_REPORT_FORMAT,
      version: TEAM_REPORT_VERSION,
      generatedAt,
      k,
      period: {
        since, until, timezones: [...timezones].sort(),
        periods: [...periods].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10).map(([p, rollups]) => {
          const [s = '', u = ''] = p.split(' ');
          return { since: s, until: u, rollups };
        }),
      },
      members: members.size,
      machines: [...this.machines.values()].filter((l) => l.length > 0).length,
      named: [],
      files: {
        read: this.read, counted, duplicates: count('duplicate'), superseded: count('superseded'), overlapping: count('overlap'), refused: count('refused'),
        empty: count('empty'), implausible: count('implausible'),
      },
      roster: this.roster ? { source: this.roster.source, keys: this.roster.keys.size } : null,
      withheld,
      withheldBecause: few ? 'members' : conflict ? 'differencing' : null,
      differencing: conflict ? { since: conflict.since, until: conflict.until, publishedAt: conflict.generatedAt } : null,
      dominated: [],
      note: NO_PER_PERSON_NOTE,
      notCounted,
    } satisfies Partial<TeamReportJson>;
    if (withheld) {
      return { ...base, totals: null, outcomes: null, bySource: null, byModel: null, distributions: null, shared: null };
    }
    return {
      ...base,
      dominated: dominance([...members.values()]),
      named: [...names.values()].sort(),
      totals: roundFigures(totals),
      outcomes: {
        commits: outcomes.commits, tasks: outcomes.tasks, prs: outcomes.prs, shippedSessions: outcomes.shippedSessions, openSessions: outcomes.openSessions,
        unlinkedSessions: outcomes.unlinkedSessions, labelledSessions: outcomes.labelledSessions, tokensWithoutOutcome: outcomes.tokensWithoutOutcome,
        keptLines: outcomes.keptLines, pendingCommits: outcomes.pendingCommits, ...valueOf(totals, outcomes),
      },
      ...breakdowns(bySource, byModel, k),
      distributions: distributions([...members.values()], k),
      shared: repos.size + subjects.size > 0
        ? { repos: [...repos].map(([name, set]) => ({ name, members: set.size })).sort((a, b) => b.members - a.members || a.name.localeCompare(b.name)), subjects: [...subjects].sort() }
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
export const otherModelsLabel = (k: number): string => `other models (grouped so that no row covers fewer than ${k} members)`;

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
function foldRows<L extends object>(rows: ReadonlyArray<Row<L>>, k: number, other: L): Array<L & { members: number } & RollupFigures> {
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
  const sources = foldRows([...bySource].map(([source, row]) => ({ label: { source }, members: row.members, figures: row.figures })), k, { source: 'other' })
    .sort((a, b) => order(a.source) - order(b.source) || a.source.localeCompare(b.source));
  const label = otherModelsLabel(k);
  const models: ModelRow[] = [];
  const grouped: Array<Row<{ source: string; model: string }>> = [];
  for (const s of sources) {
    if (s.source === 'other') continue;
    const rows = [...byModel.values()].filter((m) => m.source === s.source).map((m) => ({ label: { source: m.source, model: m.model }, members: m.members, figures: m.figures }));
    models.push(...foldRows(rows, k, { source: s.source, model: label }).sort((a, b) => (a.model === label ? 1 : 0) - (b.model === label ? 1 : 0) || b.total - a.total || a.model.localeCompare(b.model)));
  }
  const shownSources = new Set(sources.map((s) => s.source));
  for (const m of byModel.values()) if (!shownSources.has(m.source)) grouped.push({ label: { source: 'other', model: label }, members: m.members, figures: m.figures });
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

function distributions(members: ReadonlyArray<{ figures: RollupFigures; outcomes: RollupOutcomes }>, k: number): Distribution[] {
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
