import type { Database, SqlValue } from 'sql.js';
import {
  DEFAULT_THRESHOLD,
  evidenceKinds,
  explain,
  isCounted,
  type EvidenceKind,
  type LinkState,
} from '../core/outcomes/linking';
import type { SessionStatus, SourceName } from '../core/usage/model';
import type { OutcomeCommit, OutcomeFacts } from '../core/outcomes/outcomes';
import { identitySet, standingOf, type CommitStanding, type SetAside } from '../core/outcomes/standing';
import { PRICING_VERSION, fromNanoUSD, priceOf } from '../core/usage/pricing';
import type { Plan } from '../core/usage/plans';
import {
  accuracyOf,
  creditsField,
  ReportBuilder,
  roundUSD,
  sessionStatus,
  type ReportJson,
  type TokenAccuracy,
  type UsageRow,
} from '../core/outcomes/report';
import { repeatedPromptsIn, type RepeatedPrompts } from '../core/outcomes/selfcheck';
import { tasksInBranch } from '../core/outcomes/tasks';
import { BUCKET_MS, addDays, isoUtc, localDate, periodRange, startOfLocalDay } from '../core/usage/time';
import { sourceHealth } from '../store/files';
import { loadKept, loadLinkFacts, loadLinks, loadSuccessors } from '../store/outcomes';
import { getMeta, setMeta } from '../store/schema';
import { groupStrings } from '../store/group';
import { eachRow } from '../store/rows';
import { refsClause } from '../store/aggregates';
import { DEFAULT_DURABILITY_DAYS, linkConfigOf } from './linker';
import { sessionCwdSql, sessionLogPathSql } from '../store/paths';
import { maxOf, minOf } from '../core/common/numbers';

export interface PeriodQuery {
  timeZone: string;
  since?: string;
  until?: string;
  now?: number;
  /** Confidence from which an automatic link counts (default 0.6). */
  threshold?: number;
  /** Age from which a linked commit's lines are judged for durability (default 30 days). */
  durabilityDays?: number;
  /** More author emails that are the engineer's, for this call (`--identity`, the `outcomeLedger.identities` setting). */
  identities?: readonly string[];
  /** The subscription plan amortised beside the list-price estimate (`--plan`, the `outcomeLedger.plan` setting, prices.json). */
  plan?: Plan | null;
  /** Add one row per session to the report (`report --by session`). */
  bySession?: boolean;
}

/**
 * The engineer's identities (docs/outcomes.md): the user.email git uses in each repository read (stored at link
 * time), the global user.email, those kept with `link --identity`, and `extra` (this call's), lower case and sorted.
 */
function identitiesOf(db: Database, extra: readonly string[] = []): string[] {
  const emails: Array<string | null> = (db.exec('SELECT me FROM repos WHERE me IS NOT NULL')[0]?.values ?? []).map(
    (v) => String(v[0]),
  );
  emails.push(getMeta(db, 'git_global_email') ?? null);
  emails.push(...keptIdentities(db));
  emails.push(...extra);
  return [...identitySet(emails)].sort();
}

/** Identities kept with `link --identity` (replaced by the next `link --identity`). */
function keptIdentities(db: Database): string[] {
  try {
    const v = JSON.parse(getMeta(db, 'identities') ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** Keeps the identities given with `link --identity` (replacing the ones kept before). */
export function keepIdentities(db: Database, emails: readonly string[]): void {
  setMeta(db, 'identities', JSON.stringify([...identitySet(emails)].sort()));
}

/** Whether a string reads as an email address (for `--identity` and the setting). */
export function isEmail(v: string): boolean {
  return /^[^\s@<>]+@[^\s@<>]+$/.test(v.trim());
}

/** Whose each linked commit is and whether it counts (core/standing.ts), by commit id. */
function commitStandings(db: Database, identities: readonly string[]): Map<number, CommitStanding> {
  const ids = identitySet(identities);
  const out = new Map<number, CommitStanding>();
  for (const [id, flags, email, name, co] of db.exec(
    'SELECT id, flags, author_email, author_name, co_authors FROM commits WHERE id IN (SELECT commit_ref FROM links)',
  )[0]?.values ?? []) {
    out.set(
      Number(id),
      standingOf(
        {
          flags: Number(flags),
          authorEmail: email === null ? null : String(email),
          authorName: name === null ? null : String(name),
          coAuthors: co ? String(co).split(' ') : [],
        },
        ids,
      ),
    );
  }
  return out;
}

export interface CountedOutcomes {
  /** Counted commits per session: the link counts (threshold or confirmed) and the commit is the engineer's own outcome. */
  counted: Map<number, number[]>;
  /** Per session, linked commits whose link would count but that are not the engineer's outcome, and why. */
  setAside: Map<number, Array<{ id: number; why: SetAside }>>;
  standing: Map<number, CommitStanding>;
  identities: string[];
}

/**
 * What counts (docs/outcomes.md): a link counts at the threshold or when confirmed, never when rejected;
 * its commit counts only when it is the engineer's (author or co-author), was not reverted, reached the default
 * branch, and is not itself a revert. The rest is set aside, visible as what it is.
 */
export function countedOutcomes(
  db: Database,
  threshold: number = DEFAULT_THRESHOLD,
  extraIdentities: readonly string[] = [],
): CountedOutcomes {
  const identities = identitiesOf(db, extraIdentities);
  const standing = commitStandings(db, identities);
  const counted = new Map<number, number[]>();
  const setAside = new Map<number, Array<{ id: number; why: SetAside }>>();
  for (const l of loadLinkFacts(db)) {
    if (!isCounted(l.state, l.confidence, threshold)) continue;
    const why = standing.get(l.commitRef)?.setAside ?? null;
    if (why !== null) {
      const list = setAside.get(l.sessionRef);
      if (list) list.push({ id: l.commitRef, why });
      else setAside.set(l.sessionRef, [{ id: l.commitRef, why }]);
      continue;
    }
    const list = counted.get(l.sessionRef);
    if (list) list.push(l.commitRef);
    else counted.set(l.sessionRef, [l.commitRef]);
  }
  return { counted, setAside, standing, identities };
}

/** Counted commits per session (countedOutcomes). */
function countedLinks(
  db: Database,
  threshold: number = DEFAULT_THRESHOLD,
  extraIdentities: readonly string[] = [],
): Map<number, number[]> {
  return countedOutcomes(db, threshold, extraIdentities).counted;
}

/** Tool and task of every manual entry's session. */
function manualInfo(db: Database): Map<number, { tool: string; task: string | null }> {
  const out = new Map<number, { tool: string; task: string | null }>();
  for (const [ref, tool, task] of db.exec('SELECT session_ref, tool, task FROM manual_entries')[0]?.values ?? []) {
    out.set(Number(ref), { tool: String(tool), task: task === null ? null : String(task) });
  }
  return out;
}

/**
 * Task keys per session: a manual entry's task, and the keys its branches name. `refs` limits the work to the sessions
 * shown (a period's): the patterns are matched against their branches only, not every branch ever recorded.
 */
export function sessionTaskKeys(db: Database, refs?: ReadonlySet<number>): Map<number, string[]> {
  const patterns = { patterns: linkConfigOf(db).taskPatterns };
  const out = new Map<number, string[]>();
  // A manual entry names its task directly.
  for (const [ref, task] of db.exec(
    `SELECT session_ref, task FROM manual_entries WHERE task IS NOT NULL${refsClause('session_ref', refs)}`,
  )[0]?.values ?? []) {
    out.set(Number(ref), [String(task)]);
  }
  for (const [ref, branch] of db.exec(
    `SELECT session_ref, branch FROM session_branches WHERE 1${refsClause('session_ref', refs)}`,
  )[0]?.values ?? []) {
    const keys = tasksInBranch(String(branch), patterns);
    if (keys.length === 0) continue;
    const list = out.get(Number(ref)) ?? [];
    for (const k of keys) if (!list.includes(k)) list.push(k);
    out.set(Number(ref), list);
  }
  return out;
}

/** Everything the value metrics need about links and commits (`refs`: the sessions shown, for their task keys). */
export function outcomeFacts(
  db: Database,
  counted: Map<number, number[]>,
  now: number,
  durabilityDays: number,
  setAside?: CountedOutcomes['setAside'],
  refs?: ReadonlySet<number>,
): OutcomeFacts {
  const ids = [...new Set([...counted.values()].flat())];
  const commits = new Map<number, OutcomeCommit>();
  const kept = loadKept(db);
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500).join(',');
    for (const [id, repo, tasks, pr, at] of db.exec(
      `SELECT id, repo_ref, tasks, pr, author_ts FROM commits WHERE id IN (${chunk})`,
    )[0]?.values ?? []) {
      const t = String(tasks ?? '');
      commits.set(Number(id), {
        id: Number(id),
        repo: Number(repo),
        tasks: t ? t.split(' ') : [],
        pr: pr === null ? null : Number(pr),
        authorTime: Number(at),
        kept: kept.get(Number(id))?.kept ?? null,
      });
    }
  }
  // A squash or rebase successor and its original are one outcome when both count.
  const successors = loadSuccessors(db).map((e) => [e.original, e.successor] as const);
  return {
    counted,
    commits,
    successors,
    sessionTasks: sessionTaskKeys(db, refs),
    now,
    durabilityDays,
    ...(setAside ? { setAside } : {}),
  };
}

export interface SessionBasics {
  label: string | null;
  /** First and last activity (0 for a session without usage). */
  start: number;
  end: number;
}

/**
 * Label and span of sessions: those given (a period's, from the per-session totals' key), else every one.
 */
export function sessionBasics(db: Database, refs?: ReadonlySet<number>): Map<number, SessionBasics> {
  const out = new Map<number, SessionBasics>();
  eachRow(
    db,
    `SELECT session_ref, first_ts, last_ts FROM session_totals WHERE 1${refsClause('session_ref', refs)}`,
    undefined,
    (v) => out.set(Number(v[0]), { label: null, start: Number(v[1] ?? 0), end: Number(v[2] ?? 0) }),
  );
  eachRow(
    db,
    `SELECT id, label FROM sessions WHERE label IS NOT NULL${refsClause('id', refs)}`,
    undefined,
    ([id, label]) => {
      const b = out.get(Number(id));
      if (b) b.label = String(label);
      else out.set(Number(id), { label: String(label), start: 0, end: 0 });
    },
  );
  return out;
}

/**
 * Status of every session: its label, else shipped when a counted link exists, else open or unlinked. With `refs`
 * (the sessions a view shows) only theirs are read at once (or taken from `basics`, read for them already); any other
 * session asked about is looked up alone.
 */
export function statusResolver(
  db: Database,
  now: number,
  threshold: number = DEFAULT_THRESHOLD,
  counted?: Map<number, number[]>,
  refs?: ReadonlySet<number>,
  basics: Map<number, SessionBasics> = sessionBasics(db, refs),
): (ref: number) => SessionStatus {
  const links = counted ?? countedLinks(db, threshold);
  return (ref) => {
    let b = basics.get(ref);
    if (!b && refs && !refs.has(ref)) {
      b = sessionBasics(db, new Set([ref])).get(ref) ?? { label: null, start: 0, end: 0 };
      basics.set(ref, b);
    }
    return sessionStatus(
      { label: b?.label ?? null, shipped: (links.get(ref)?.length ?? 0) > 0, end: b?.end ?? 0 },
      now,
    );
  };
}

export interface SessionInfo {
  /** `source:key`; absent when not asked for (`sessionIdOf` finds the few a report names). */
  id?: string;
  editedFiles: number;
  start: number;
  end: number;
}

/**
 * Whole-session facts the self-check signals need (edited files, span), only for sessions in the report. `basics`:
 * their spans, read already (sessionBasics); `ids: false` leaves the ids out, which saves a pass over every session of
 * a long period when only a few of them will be named.
 */
export function sessionInfo(
  db: Database,
  refs: ReadonlySet<number>,
  o: { basics?: ReadonlyMap<number, SessionBasics>; ids?: boolean } = {},
): Map<number, SessionInfo> {
  const out = new Map<number, SessionInfo>();
  if (refs.size === 0) return out;
  const files = new Map<number, number>();
  eachRow(
    db,
    `SELECT session_ref, count(*) FROM session_files WHERE 1${refsClause('session_ref', refs)} GROUP BY session_ref`,
    undefined,
    (v) => files.set(Number(v[0]), Number(v[1])),
  );
  const span = o.basics ?? sessionBasics(db, refs);
  if (o.ids === false) {
    for (const ref of refs) {
      const b = span.get(ref);
      out.set(ref, { editedFiles: files.get(ref) ?? 0, start: b?.start ?? 0, end: b?.end ?? 0 });
    }
    return out;
  }
  eachRow(db, `SELECT id, source, session_key FROM sessions WHERE 1${refsClause('id', refs)}`, undefined, (v) => {
    const ref = Number(v[0]);
    if (!refs.has(ref)) return;
    const b = span.get(ref);
    out.set(ref, {
      id: `${String(v[1])}:${String(v[2])}`,
      editedFiles: files.get(ref) ?? 0,
      start: b?.start ?? 0,
      end: b?.end ?? 0,
    });
  });
  return out;
}

/** The `source:key` id of one session, looked up when asked (a report names a few: the self-check's examples). */
export function sessionIdOf(db: Database): (ref: number) => string | undefined {
  return (ref) => {
    const v = db.exec('SELECT source, session_key FROM sessions WHERE id = ?', [ref])[0]?.values[0];
    return v ? `${String(v[0])}:${String(v[1])}` : undefined;
  };
}

export function promptHashes(db: Database, from: number, to: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const [ref, hash] of db.exec('SELECT session_ref, hash FROM prompts WHERE ts >= ? AND ts < ?', [from, to])[0]
    ?.values ?? []) {
    const list = out.get(Number(ref));
    if (list) list.push(Number(hash));
    else out.set(Number(ref), [Number(hash)]);
  }
  return out;
}

/**
 * The self-check's repeated-prompt counts for [from, to) (core/selfcheck.ts), from two arrays of numbers rather than a
 * list per session. The prompts are read in table order: a whole history as one pass over the table, a bounded period
 * through the time index's ids, sorted, so each page of the table is read once however the times fall.
 */
export function repeatedPrompts(db: Database, from: number, to: number): RepeatedPrompts {
  const whole = from <= Number.MIN_SAFE_INTEGER && to >= Number.MAX_SAFE_INTEGER;
  const stmt = db.prepare(
    whole
      ? 'SELECT session_ref, hash FROM prompts NOT INDEXED'
      : 'SELECT session_ref, hash FROM prompts WHERE id IN (SELECT id FROM prompts WHERE ts >= ? AND ts < ?)',
  );
  const refs: number[] = [];
  const hashes: number[] = [];
  try {
    if (!whole) stmt.bind([from, to]);
    while (stmt.step()) {
      const [ref, hash] = stmt.get();
      refs.push(Number(ref));
      hashes.push(Number(hash));
    }
  } finally {
    stmt.free();
  }
  return repeatedPromptsIn(refs, hashes);
}

/**
 * Sources of sessions by id: those of the rollup rows in `buckets` (listed from the bucket index alone), else every
 * one. One pass over `sessions` in id order: a lookup per rollup row would read its pages again and again (the ledger
 * file is read on demand, store/pagedFile.ts).
 */
function sessionSources(db: Database, buckets?: { from: number; to: number }): Map<number, SourceName> {
  let refs: number[] | undefined;
  if (buckets) {
    refs = [];
    const stmt = db.prepare('SELECT DISTINCT session_ref FROM usage_rollup WHERE bucket >= ? AND bucket < ?');
    try {
      stmt.bind([buckets.from, buckets.to]);
      while (stmt.step()) refs.push(Number(stmt.get()[0]));
    } finally {
      stmt.free();
    }
  }
  const out = new Map<number, SourceName>();
  const names = new Map<string, SourceName>();
  const stmt = db.prepare(`SELECT id, source FROM sessions WHERE 1${refsClause('id', refs)}`);
  try {
    while (stmt.step()) {
      const [id, source] = stmt.get();
      const text = String(source);
      let name = names.get(text);
      if (name === undefined) {
        name = text as SourceName;
        names.set(text, name);
      }
      out.set(Number(id), name);
    }
  } finally {
    stmt.free();
  }
  return out;
}

/**
 * Usage rows (sums per session, model and 15-minute bucket, recorded cost included) from the rollup, never from the
 * per-request rows, handed to `fn` one at a time in one reused object (copy it to keep it); `buckets` bounds them to
 * [from, to) through the rollup's bucket index. A period starts and ends on local midnights, which fall on quarter
 * hours in every zone, so whole buckets are exact.
 */
export function eachUsageRow(
  db: Database,
  buckets: { from: number; to: number } | undefined,
  fn: (row: Readonly<UsageRow>) => void,
): void {
  const models = new Map<number, { name: string; priced: boolean }>();
  for (const [id, name] of db.exec('SELECT id, name FROM models')[0]?.values ?? []) {
    models.set(Number(id), { name: String(name), priced: priceOf(String(name)) !== null });
  }
  const sources = sessionSources(db, buckets);
  const stmt = db.prepare(`
    SELECT session_ref, model_ref, bucket, first_ts, last_ts, input, output, cache_read, cache_write, reasoning,
           cost_nusd, n, unpriced, assumed, estimated, credits_u, recorded_nusd, recorded_n
    FROM usage_rollup ${buckets ? 'WHERE bucket >= ? AND bucket < ?' : ''}`);
  const unknown = { name: 'unknown', priced: false };
  const row: UsageRow = {
    sessionRef: 0,
    source: 'manual',
    model: '',
    priced: false,
    bucket: 0,
    firstTs: 0,
    lastTs: 0,
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite: 0,
    reasoning: 0,
    costNano: 0,
    interactions: 0,
    unpriced: 0,
    assumedModel: 0,
    estimatedTokens: 0,
    creditsMicro: 0,
    recordedNano: 0,
    recordedInteractions: 0,
  };
  try {
    if (buckets) stmt.bind([buckets.from, buckets.to]);
    while (stmt.step()) {
      const v = stmt.get() as number[];
      const model = models.get(Number(v[1])) ?? unknown;
      row.sessionRef = Number(v[0]);
      row.source = sources.get(row.sessionRef) ?? 'manual';
      row.model = model.name;
      row.priced = model.priced;
      row.bucket = Number(v[2]);
      row.firstTs = Number(v[3]);
      row.lastTs = Number(v[4]);
      row.input = Number(v[5]);
      row.output = Number(v[6]);
      row.cacheRead = Number(v[7]);
      row.cacheWrite = Number(v[8]);
      row.reasoning = Number(v[9]);
      row.costNano = Number(v[10]);
      row.interactions = Number(v[11]);
      row.unpriced = Number(v[12]);
      row.assumedModel = Number(v[13]);
      row.estimatedTokens = Number(v[14]);
      row.creditsMicro = Number(v[15] ?? 0);
      // What the tools recorded as their own cost (Cline/Roo, Aider, OpenCode, Claude Code's costUSD), summed in the rollup.
      const recorded = Number(v[17]);
      row.recordedNano = recorded > 0 ? Number(v[16]) : 0;
      row.recordedInteractions = recorded > 0 ? recorded : 0;
      fn(row);
    }
  } finally {
    stmt.free();
  }
}

/** The usage rows of `eachUsageRow` as an array (for views that go over them more than once). */
export function usageRows(db: Database, buckets?: { from: number; to: number }): UsageRow[] {
  const rows: UsageRow[] = [];
  eachUsageRow(db, buckets, (r) => {
    const { recordedNano, recordedInteractions, ...rest } = r;
    rows.push((recordedInteractions ?? 0) > 0 ? { ...rest, recordedNano, recordedInteractions } : { ...rest });
  });
  return rows;
}

/** The rollup buckets of a half-open epoch range. */
export function bucketsOf(range: { from: number; to: number }): { from: number; to: number } {
  return { from: Math.floor(range.from / BUCKET_MS), to: Math.ceil(range.to / BUCKET_MS) };
}

/** `report --json` for a period: SQL aggregates per session, model and 15-minute bucket; the rest is pure. */
export function report(db: Database, q: PeriodQuery): ReportJson {
  return reports(db, q, [{ since: q.since, until: q.until }])[0] as ReportJson;
}

/**
 * `report --json` for several periods (the summary's weekly trend), sharing one read of the links, statuses and outcome
 * facts: each report is exactly what `report` gives for that period. The first period's rows are read in one pass that
 * also gathers every period's sessions; each other period is then built from its own buckets, finished and let go
 * before the next, so a year's 53 weeks never hold their sessions' figures at once.
 */
export function reports(
  db: Database,
  q: Omit<PeriodQuery, 'since' | 'until'>,
  periods: ReadonlyArray<{ since?: string; until?: string }>,
): ReportJson[] {
  const ranges = periods.map((p) => {
    const range = periodRange(q.timeZone, p.since, p.until);
    return { ...p, range, buckets: bucketsOf(range), bounded: p.since !== undefined || p.until !== undefined };
  });
  const [first, ...others] = ranges;
  if (!first) return [];
  const now = q.now ?? Date.now();
  const threshold = q.threshold ?? DEFAULT_THRESHOLD;
  const co = countedOutcomes(db, threshold, q.identities);
  const counted = co.counted;
  const files = sourceHealth(db);
  const pricingVersion = getMeta(db, 'pricing_version') ?? PRICING_VERSION;
  const span = ranges.some((r) => !r.bounded)
    ? undefined
    : bucketsOf({ from: minOf(ranges.map((r) => r.range.from)), to: maxOf(ranges.map((r) => r.range.to)) });
  const within = (p: (typeof ranges)[number], bucket: number): boolean =>
    !p.bounded || (bucket >= p.buckets.from && bucket < p.buckets.to);
  // One pass over the rows: the first period's report, and the sessions of the others (nothing is kept per row).
  const builderOf = (): ReportBuilder => new ReportBuilder(q.timeZone, q.bySession === true);
  let firstBuilder: ReportBuilder | undefined = builderOf();
  const refs = new Set<number>();
  eachUsageRow(db, span, (row) => {
    if (within(first, row.bucket)) firstBuilder?.add(row);
    else if (others.some((p) => within(p, row.bucket))) refs.add(row.sessionRef);
  });
  for (const ref of firstBuilder.sessionRefs()) refs.add(ref);
  // Per-session work (status, task keys, span) for the sessions of these periods only.
  const basics = sessionBasics(db, refs);
  const statusOf = statusResolver(db, now, threshold, counted, refs, basics);
  const outcomes = outcomeFacts(db, counted, now, q.durabilityDays ?? DEFAULT_DURABILITY_DAYS, co.setAside, refs);
  // Every session's id only for `--by session`; otherwise the few the self-check names are looked up.
  const info = sessionInfo(db, refs, { basics, ids: q.bySession === true });
  const sessionId = sessionIdOf(db);
  const finish = (builder: ReportBuilder, p: (typeof ranges)[number]): ReportJson =>
    builder.finish({
      statusOf,
      outcomes,
      sessionInfo: info,
      sessionId,
      repeatedPrompts: repeatedPrompts(db, p.range.from, p.range.to),
      threshold,
      files,
      since: p.since,
      until: p.until,
      pricingVersion,
      identities: co.identities,
      plan: q.plan ?? null,
    });
  const out = [finish(firstBuilder, first)];
  firstBuilder = undefined;
  for (const p of others) {
    const builder = builderOf();
    eachUsageRow(db, p.bounded ? p.buckets : undefined, (row) => builder.add(row));
    out.push(finish(builder, p));
  }
  return out;
}

export interface SessionJson {
  id: string;
  source: SourceName;
  sessionId: string;
  start: string;
  end: string;
  cwd: string | null;
  repo: string | null;
  branch: string | null;
  branches: string[];
  models: string[];
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; reasoning: number; total: number };
  /** Compatible extension of docs/cli.md: tokens of `tokens.total` that were estimated, and whether it is exact. */
  estimatedTokens: number;
  tokenAccuracy: TokenAccuracy;
  /** Credits metered by a tool that bills in credits (Kiro, Amp), beside the tokens; absent for the others. */
  credits?: number;
  /** For a manual entry: the tool the engineer named and the task they gave (else null). */
  manual: { tool: string; task: string | null } | null;
  costUSD: number;
  interactions: number;
  editedFiles: string[];
  status: SessionStatus;
  label: string | null;
  logPath: string | null;
  links: LinkJson[];
  tasks: string[];
}

/** docs/cli.md's link shape, plus (compatibly) what a person needs to judge it: the subject, when, and the reasons. */
export interface LinkJson {
  commit: string;
  repo: string;
  confidence: number;
  counted: boolean;
  evidence: EvidenceKind[];
  state: LinkState;
  subject: string;
  committed: string;
  why: string;
  pr: number | null;
  /** docs/outcomes.md: the author (email), whether it is the engineer's own commit (as author or named co-author). */
  author: string;
  authoredByEngineer: boolean;
  coAuthored: boolean;
  /** Undone later by a revert; this commit is itself a revert; the default branch reaches it (or its successor). */
  reverted: boolean;
  revert: boolean;
  merged: boolean;
  /** Why a link that would count is not counted as the engineer's outcome (null when it counts, or never would). */
  excluded: SetAside | null;
}

/** Links of sessions, counted ones first, then by confidence. */
export function linksOf(
  db: Database,
  refs: readonly number[],
  threshold: number = DEFAULT_THRESHOLD,
  extraIdentities: readonly string[] = [],
): Map<number, LinkJson[]> {
  const out = new Map<number, LinkJson[]>();
  const rows = loadLinks(db, refs);
  if (rows.length === 0) return out;
  const standing = commitStandings(db, identitiesOf(db, extraIdentities));
  const ids = [...new Set(rows.map((l) => l.commitRef))];
  const commits = new Map<number, { sha: string; repo: string; subject: string; at: number; pr: number | null }>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500).join(',');
    for (const [id, sha, root, subject, at, pr] of db.exec(
      `SELECT c.id, c.sha, r.root, c.subject, c.author_ts, c.pr FROM commits c JOIN repos r ON r.id = c.repo_ref WHERE c.id IN (${chunk})`,
    )[0]?.values ?? []) {
      commits.set(Number(id), {
        sha: String(sha),
        repo: String(root),
        subject: String(subject),
        at: Number(at),
        pr: pr === null ? null : Number(pr),
      });
    }
  }
  for (const l of rows) {
    const c = commits.get(l.commitRef);
    if (!c) continue;
    const list = out.get(l.sessionRef) ?? [];
    const st = standing.get(l.commitRef);
    const linkCounts = isCounted(l.state, l.confidence, threshold);
    const excluded = linkCounts ? (st?.setAside ?? null) : null;
    list.push({
      commit: c.sha,
      repo: c.repo,
      confidence: l.confidence,
      counted: linkCounts && excluded === null,
      evidence:
        evidenceKinds(l.evidence).length > 0
          ? evidenceKinds(l.evidence)
          : l.evidence.some((e) => e.kind === 'manual')
            ? ['manual']
            : [],
      state: l.state,
      subject: c.subject,
      committed: isoUtc(c.at),
      why: explain(l.evidence) || (l.state === 'auto' ? '' : `${l.state} by you`),
      pr: c.pr,
      author: st?.author ?? '',
      authoredByEngineer: st?.authoredByEngineer ?? true,
      coAuthored: st?.coAuthored ?? false,
      reverted: st?.reverted ?? false,
      revert: st?.revert ?? false,
      merged: st?.merged ?? true,
      excluded,
    });
    out.set(l.sessionRef, list);
  }
  for (const list of out.values())
    list.sort(
      (a, b) =>
        Number(b.counted) - Number(a.counted) || b.confidence - a.confidence || a.committed.localeCompare(b.committed),
    );
  return out;
}

/**
 * The sessions active in a period (bound: its start and end), through the per-session totals' span index, in start
 * order: `sessionsOf` and `sessionDays` read the same sessions. Columns: `s` (sessions) and `t` (session_totals).
 */
const SESSIONS_ACTIVE_IN = `FROM session_totals t JOIN sessions s ON s.id = t.session_ref
     WHERE t.last_ts >= ? AND t.first_ts < ?
     ORDER BY t.first_ts, s.id`;

/** `sessions --json`: every session that was active in the period, with whole-session totals. */
export function listSessions(db: Database, q: PeriodQuery): SessionJson[] {
  return [...sessionsOf(db, q)];
}

/**
 * The sessions of `listSessions`, in the same order, one at a time: what a session carries from other tables (files,
 * branches, models, links, tasks) is read first for all of them, its own row only when it is asked for, so a caller
 * that prints each one (`sessions --json`) never holds the list (a year of heavy use: 47,000). The database must not
 * change while the iteration is open.
 */
export function* sessionsOf(db: Database, q: PeriodQuery): Generator<SessionJson, void, undefined> {
  const { from, to } = periodRange(q.timeZone, q.since, q.until);
  const now = q.now ?? Date.now();
  // The period's sessions through the per-session totals' span index, whole-session sums from the same row: their
  // ids first (in order), their rows one at a time below.
  const select = `SELECT s.id, s.source, s.session_key, ${sessionCwdSql()}, s.repo, s.branch, s.label, ${sessionLogPathSql()},
            t.first_ts, t.last_ts, t.input, t.output, t.cache_read, t.cache_write, t.reasoning,
            t.cost_nusd, t.n, t.estimated, t.credits_u
     ${SESSIONS_ACTIVE_IN}`;
  const ordered: number[] = [];
  const ids = db.prepare(`SELECT s.id ${SESSIONS_ACTIVE_IN}`);
  try {
    ids.bind([from, to]);
    while (ids.step()) ordered.push(Number(ids.get()[0]));
  } finally {
    ids.free();
  }
  const refs = new Set(ordered);
  const files = groupStrings(
    db,
    `SELECT session_ref, path FROM session_files WHERE 1${refsClause('session_ref', refs)} ORDER BY session_ref, path`,
  );
  const branches = groupStrings(
    db,
    `SELECT session_ref, branch FROM session_branches WHERE 1${refsClause('session_ref', refs)} ORDER BY session_ref, branch`,
  );
  const models = groupStrings(
    db,
    `SELECT DISTINCT r.session_ref, m.name FROM usage_rollup r JOIN models m ON m.id = r.model_ref WHERE 1${refsClause('r.session_ref', refs)} ORDER BY r.session_ref, m.name`,
  );
  const threshold = q.threshold ?? DEFAULT_THRESHOLD;
  const links = linksOf(db, ordered, threshold, q.identities);
  const branchTasks = sessionTaskKeys(db, refs);
  const counted = countedLinks(db, threshold, q.identities);
  const manual = manualInfo(db);
  const commitTasks = new Map<number, string[]>();
  for (const [id, tasks] of db.exec(
    "SELECT id, tasks FROM commits WHERE tasks != '' AND id IN (SELECT commit_ref FROM links)",
  )[0]?.values ?? []) {
    commitTasks.set(Number(id), String(tasks).split(' '));
  }
  const stmt = db.prepare(select);
  try {
    stmt.bind([from, to]);
    while (stmt.step()) yield sessionJson(stmt.get());
  } finally {
    stmt.free();
  }
  function sessionJson(v: SqlValue[]): SessionJson {
    const ref = Number(v[0]);
    const source = String(v[1]) as SourceName;
    const key = String(v[2]);
    const label = v[6] === null ? null : String(v[6]);
    const end = Number(v[9]);
    const tokens = {
      input: Number(v[10]),
      output: Number(v[11]),
      cacheRead: Number(v[12]),
      cacheWrite: Number(v[13]),
      reasoning: Number(v[14]),
      total: 0,
    };
    tokens.total = tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite;
    return {
      id: `${source}:${key}`,
      source,
      sessionId: key,
      start: isoUtc(Number(v[8])),
      end: isoUtc(end),
      cwd: v[3] === null ? null : String(v[3]),
      repo: v[4] === null ? null : String(v[4]),
      branch: v[5] === null ? null : String(v[5]),
      branches: branches.get(ref) ?? [],
      models: models.get(ref) ?? [],
      tokens,
      estimatedTokens: Number(v[17]),
      tokenAccuracy: accuracyOf(tokens.total, Number(v[17])),
      ...creditsField(Number(v[18] ?? 0)),
      manual: manual.get(ref) ?? null,
      costUSD: roundUSD(fromNanoUSD(Number(v[15]))),
      interactions: Number(v[16]),
      editedFiles: files.get(ref) ?? [],
      status: sessionStatus({ label, shipped: (counted.get(ref)?.length ?? 0) > 0, end }, now),
      label,
      logPath: v[7] === null ? null : String(v[7]),
      links: links.get(ref) ?? [],
      tasks: [
        ...new Set([
          ...(branchTasks.get(ref) ?? []),
          ...(counted.get(ref) ?? []).flatMap((id) => commitTasks.get(id) ?? []),
        ]),
      ].sort(),
    };
  }
}

/** One local day of the Sessions view: the sessions that started that day, their count and whole-session sums. */
export interface SessionDay {
  date: string;
  sessions: number;
  /** Canonical total (input + output + cache read + cache write) and the part of it that was estimated. */
  tokens: number;
  estimated: number;
  costUSD: number;
}

/**
 * The days of the sessions active in the period (as `listSessions` selects them), each session under the local day it
 * started, newest day first. Read from the per-session totals alone: no session object is built, so a heavy user's
 * 90 days (~12,000 sessions) cost one pass over as many rows, not 12,000 session objects with their links and files.
 * Sums are those of `listSessions`'s sessions (cost summed before rounding, once per day).
 */
export function sessionDays(db: Database, q: PeriodQuery): SessionDay[] {
  const { from, to } = periodRange(q.timeZone, q.since, q.until);
  const out: Array<SessionDay & { nanoUSD: number }> = [];
  // Rows come in start order, so a day's bounds are worked out once, when its first session is met.
  let day: (SessionDay & { nanoUSD: number }) | undefined;
  let dayEnd = -Infinity;
  const stmt = db.prepare(
    `SELECT t.first_ts, t.input + t.output + t.cache_read + t.cache_write, t.estimated, t.cost_nusd ${SESSIONS_ACTIVE_IN}`,
  );
  try {
    stmt.bind([from, to]);
    while (stmt.step()) {
      const v = stmt.get();
      const start = Number(v[0]);
      if (!day || start >= dayEnd) {
        const date = localDate(q.timeZone, start);
        dayEnd = startOfLocalDay(q.timeZone, addDays(date, 1));
        day = { date, sessions: 0, tokens: 0, estimated: 0, costUSD: 0, nanoUSD: 0 };
        out.push(day);
      }
      day.sessions++;
      day.tokens += Number(v[1]);
      day.estimated += Number(v[2]);
      day.nanoUSD += Number(v[3]);
    }
  } finally {
    stmt.free();
  }
  return out.reverse().map(({ nanoUSD, ...d }) => ({ ...d, costUSD: roundUSD(fromNanoUSD(nanoUSD)) }));
}

export class SessionNotFoundError extends Error {}

/** Finds a session by `source:id`, its bare id, or a unique prefix of either. */
export function resolveSession(db: Database, query: string): { ref: number; id: string } {
  const r = db.exec(
    "SELECT id, source || ':' || session_key FROM sessions WHERE source || ':' || session_key = ?1 OR session_key = ?1 OR source || ':' || session_key LIKE ?2 ESCAPE '\\' OR session_key LIKE ?2 ESCAPE '\\' LIMIT 3",
    [query, `${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
  );
  const rows = r[0]?.values ?? [];
  const exact = rows.find((row) => String(row[1]) === query || String(row[1]).endsWith(`:${query}`));
  if (exact) return { ref: Number(exact[0]), id: String(exact[1]) };
  if (rows.length === 1 && rows[0]) return { ref: Number(rows[0][0]), id: String(rows[0][1]) };
  if (rows.length === 0)
    throw new SessionNotFoundError(`no session matches "${query}" (see \`outcome-ledger sessions\`)`);
  throw new SessionNotFoundError(`"${query}" matches several sessions; give more of the id`);
}

export function setLabel(db: Database, ref: number, label: string | null): void {
  db.run('UPDATE sessions SET label = ? WHERE id = ?', [label, ref]);
}
