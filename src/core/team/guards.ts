/**
 * What keeps a team report from being gamed (pure): the roster of member keys, the plausibility bounds a member's
 * figures must stay within, and the rule against differencing two published reports. docs/team.md states each rule;
 * the merge (merge.ts) applies them file by file and the service keeps the published member sets on disk.
 */
import * as z from 'zod/mini';
import { displayNameProblem, type Checked, type TeamRollup } from './rollup';

// ---------------------------------------------------------------------------------------------------------------
// The roster: one key fingerprint per line, optionally followed by the member's name

export interface Roster {
  /** Where the roster came from (a file name), for the report. */
  source: string;
  /** Fingerprint (`SHA256:` and 8 groups of 4 lowercase hex digits) → the name the roster gives, or null. */
  keys: ReadonlyMap<string, string | null>;
}

/** A roster is a few kilobytes per hundred members; 100,000 members fit well within this. */
export const MAX_ROSTER_BYTES = 16 << 20;

/** `SHA256:1a2b:…` as `outcome-ledger` prints it, with or without the prefix and the colons, in any case. */
export function normalFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^SHA256:/i, '')
    .replace(/:/g, '')
    .toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `SHA256:${hex.match(/.{4}/g)!.join(':')}`;
}

/**
 * Parses a roster file: one fingerprint per line, then (after spaces) an optional display name; blank lines and lines
 * starting with # are ignored. A line that is not a fingerprint, a name that breaks the display-name rule or a key
 * listed twice is refused with its line number: a roster is the lead's own file, and a silent skip would drop a member.
 */
export function parseRoster(text: string, source: string): Checked<Roster> {
  if (text.length > MAX_ROSTER_BYTES)
    return { ok: false, reason: `${source} is too large for a roster (at most ${MAX_ROSTER_BYTES >> 20} MB)` };
  const keys = new Map<string, string | null>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line || line.startsWith('#')) continue;
    const [first = '', ...rest] = line.split(/\s+/);
    const fingerprint = normalFingerprint(first);
    const at = `${source} line ${i + 1}`;
    if (!fingerprint)
      return {
        ok: false,
        reason: `${at}: not a key fingerprint (expected SHA256:xxxx:… as \`outcome-ledger rollup export\` prints it)`,
      };
    if (keys.has(fingerprint)) return { ok: false, reason: `${at}: the key ${fingerprint} is listed twice` };
    const name = rest.join(' ') || null;
    const problem = name === null ? undefined : displayNameProblem(name);
    if (problem) return { ok: false, reason: `${at}: ${problem}` };
    keys.set(fingerprint, name);
  }
  if (keys.size === 0) return { ok: false, reason: `${source} lists no key fingerprint (one per line)` };
  return { ok: true, value: { source, keys } };
}

// ---------------------------------------------------------------------------------------------------------------
// Plausibility: figures no real member reaches in a period

/** The documented bounds (docs/team.md, "Plausibility"). A rollup beyond one is not counted, and the report says why. */
export const BOUNDS = {
  /** Commits, tasks or pull requests a day, each (a very busy engineer with agents lands a few dozen). */
  outcomesPerDay: 100,
  /** Tokens of one request (input + cache + output): twice the largest context window sold today. */
  tokensPerRequest: 2_000_000,
  /** Machines (ledgers) of one member in one merge. */
  machinesPerMember: 10,
  /** Two rollups of one member from different machines whose requests and sessions are equal and every token figure within this share are copies. */
  nearIdentical: 0.01,
} as const;

const DAY_MS = 86_400_000;

/** Days in an inclusive period of YYYY-MM-DD dates (at least 1). */
export function periodDays(since: string, until: string): number {
  return Math.max(1, Math.round((Date.parse(`${until}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`)) / DAY_MS) + 1);
}

/**
 * Why a rollup's figures are beyond the bounds, or undefined. The reason names the bound, never the member's figure
 * (it is shown next to the file name in the report).
 */
export function implausible(r: TeamRollup): string | undefined {
  const days = periodDays(r.period.since, r.period.until);
  const perDay = BOUNDS.outcomesPerDay * days;
  for (const [k, label] of [
    ['commits', 'commits'],
    ['tasks', 'tasks'],
    ['prs', 'pull requests'],
  ] as const) {
    if (r.outcomes[k] > perDay)
      return `implausible: more ${label} than ${BOUNDS.outcomesPerDay} a day over its period (the documented bound); not counted`;
  }
  if (r.totals.total > BOUNDS.tokensPerRequest * Math.max(1, r.totals.interactions)) {
    return `implausible: more than ${BOUNDS.tokensPerRequest.toLocaleString('en-US')} tokens per request on average (the documented bound); not counted`;
  }
  return undefined;
}

const TOKEN_KEYS = ['input', 'output', 'cacheRead', 'cacheWrite'] as const;

/** Same requests and sessions, and every token figure within `BOUNDS.nearIdentical`: one rollup copied under another machine id. */
export function nearIdentical(
  a: Pick<TeamRollup['totals'], (typeof TOKEN_KEYS)[number] | 'interactions' | 'sessions'>,
  b: typeof a,
): boolean {
  if (a.interactions !== b.interactions || a.sessions !== b.sessions) return false;
  return TOKEN_KEYS.every((k) => Math.abs(a[k] - b[k]) <= BOUNDS.nearIdentical * Math.max(a[k], b[k]));
}

// ---------------------------------------------------------------------------------------------------------------
// No differencing: the member sets of the reports published for overlapping periods

/** A report that was published (printed or written): its period and the pseudonymous ids of the members it counted. */
export interface PublishedReport {
  since: string;
  until: string;
  k: number;
  generatedAt: string;
  members: string[];
}

export const TEAM_STATE_FORMAT = 'outcome-ledger-team-reports';
export const TEAM_STATE_VERSION = 1;
/** The state keeps the latest reports only: a lead publishing weekly keeps about four years. */
export const MAX_PUBLISHED = 200;

function stateSchema() {
  const date = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/));
  return z.strictObject({
    format: z.literal(TEAM_STATE_FORMAT),
    version: z.literal(TEAM_STATE_VERSION),
    reports: z
      .array(
        z.strictObject({
          since: date,
          until: date,
          k: z.number().check(z.int(), z.gte(2)),
          generatedAt: z.string().check(z.maxLength(40)),
          members: z.array(z.string().check(z.regex(/^m-[0-9a-f]{16}$/))),
        }),
      )
      .check(z.maxLength(MAX_PUBLISHED * 2)),
  });
}

/** Reads the state file's text (untrusted like any file): the reports published so far, or why it cannot be used. */
export function parsePublished(text: string): Checked<PublishedReport[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'is not JSON' };
  }
  const parsed = stateSchema().safeParse(raw);
  if (!parsed.success)
    return { ok: false, reason: 'is not an Outcome Ledger team report state file (or a newer version of one)' };
  return { ok: true, value: parsed.data.reports };
}

export function publishedText(reports: readonly PublishedReport[]): string {
  return `${JSON.stringify({ format: TEAM_STATE_FORMAT, version: TEAM_STATE_VERSION, reports: reports.slice(-MAX_PUBLISHED) })}\n`;
}

/**
 * The rule (docs/team.md, "No differencing"): a report may not be published when an earlier report for an overlapping
 * period counted a member set that differs from this one by at least one and fewer than k members (counting members
 * in one set and not the other, either way). Subtracting the two would give those few members' figures. The same set
 * again is allowed (a corrected report), and so is a set that differs by k or more.
 */
export function differencingConflict(
  published: readonly PublishedReport[],
  current: { since: string; until: string; members: ReadonlySet<string> },
  k: number,
): PublishedReport | undefined {
  for (const p of published) {
    if (!(p.since <= current.until && current.since <= p.until)) continue;
    const limit = Math.max(k, p.k);
    let differ = 0;
    const earlier = new Set(p.members);
    for (const m of earlier) if (!current.members.has(m) && ++differ >= limit) break;
    if (differ < limit) for (const m of current.members) if (!earlier.has(m) && ++differ >= limit) break;
    if (differ > 0 && differ < limit) return p;
  }
  return undefined;
}
