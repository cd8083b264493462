/**
 * The team rollup: what one engineer shares with their team for a period, by choice, per export
 * (docs/team-rollups.md). Aggregates only — totals, by source and model, outcome counts and the inputs of the value metrics — plus
 * what a merge needs to count every machine's work exactly once: a pseudonymous member id (derived from the member's
 * signing key), a random machine id, and the digest of the interaction ids the figures cover. No paths, prompts or
 * commit subjects unless the member opts in for that export (`shared`).
 *
 * A rollup file is untrusted input when it is merged. Everything here is pure: the checks that need no key (size and
 * shape of the text, dangerous keys, the versioned schema, sums that must add up) live here; reading files and
 * checking signatures live in src/services/teamRollup.ts. Every check answers with one line a team lead can act on.
 */
import * as z from 'zod/mini';
import { duplicateKey } from '../common/json';
import { PRINTABLE_LINE } from '../common/text';
import { SOURCE_NAMES } from '../usage/model';
import { TOKEN_FIGURES } from '../usage/tokens';

export const TEAM_ROLLUP_FORMAT = 'outcome-ledger-team-rollup';
/** Bumped when the shape changes incompatibly: a merge names the version it does not know instead of misreading it. */
export const TEAM_ROLLUP_VERSION = 1;
/** A rollup is a few kilobytes; anything much bigger is not one. */
export const MAX_ROLLUP_BYTES = 1 << 20;
/** Deepest nesting a genuine rollup has is 4; refuse anything deeper before parsing it. */
const MAX_ROLLUP_DEPTH = 12;
/** Upper bounds that no real ledger reaches in a period: 10 trillion tokens, $100M, 100M requests or sessions. */
const MAX_TOKENS = 1e13;
const MAX_USD = 1e8;
const MAX_COUNT = 1e8;
const MAX_MODELS = 500;
const MAX_SHARED = 500;

/** What a member may opt in to share in one export (off by default). */
export const SHAREABLE = ['repos', 'subjects'] as const;
export type Shareable = (typeof SHAREABLE)[number];

/** Keys that would reach an object's prototype if some code copied them: a rollup never has them. */
const DANGEROUS_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A display name: letters, spaces and . ' ’ - only, at most 64 characters — a name, never a place to carry a figure
 * into the team report next to a person. Beyond the characters (`displayNameProblem`): no figure words ("tokens",
 * "commits", "pct", "million", "seven"…) and no words spelled with digit look-alikes (O, o, l, I: "lO", "OO").
 */
export const DISPLAY_NAME = /^[\p{L}\p{M} .'’-]{1,64}$/u;
export const DISPLAY_NAME_RULE =
  "letters, spaces and . ' - only (no digits, no figure words such as tokens or commits), up to 64 characters";

/** Words that name a figure or a number: a display name holding one could say something about someone's figures. */
const FIGURE_WORDS: ReadonlySet<string> = new Set([
  'token',
  'tokens',
  'tok',
  'toks',
  'commit',
  'commits',
  'pct',
  'percent',
  'percentage',
  'yield',
  'cost',
  'costs',
  'usd',
  'eur',
  'dollar',
  'dollars',
  'cent',
  'cents',
  'request',
  'requests',
  'req',
  'reqs',
  'session',
  'sessions',
  'pr',
  'prs',
  'task',
  'tasks',
  'line',
  'lines',
  'loc',
  'kloc',
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'twenty',
  'thirty',
  'forty',
  'fifty',
  'hundred',
  'hundreds',
  'thousand',
  'thousands',
  'million',
  'millions',
  'billion',
  'billions',
  'trillion',
  'mm',
  'bn',
]);
/** A word of two or more characters made only of letters that read as 0 or 1. */
const LOOK_ALIKE = /^[OoIl]{2,}$/u;

/** Why a display name is not accepted (its characters, a figure word, a digit look-alike), or undefined. */
export function displayNameProblem(name: string): string | undefined {
  if (!DISPLAY_NAME.test(name)) return `a display name has ${DISPLAY_NAME_RULE}`;
  for (const word of name.split(/[\s.'’-]+/u).filter(Boolean)) {
    const lower = word.toLowerCase();
    if (FIGURE_WORDS.has(lower)) return `a display name holds no figure words (“${word}”)`;
    if (LOOK_ALIKE.test(word)) return `a display name has no words spelled like digits (“${word}”)`;
  }
  return undefined;
}

function schemas() {
  const tokens = z.number().check(z.int(), z.gte(0), z.lte(MAX_TOKENS));
  const count = z.number().check(z.int(), z.gte(0), z.lte(MAX_COUNT));
  const usd = z.number().check(z.gte(0), z.lte(MAX_USD));
  const ratio = z.nullable(z.number().check(z.gte(0), z.lte(1)));
  const positive = (max: number) => z.nullable(z.number().check(z.gte(0), z.lte(max)));
  const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max), z.regex(PRINTABLE_LINE));
  const date = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/));
  const figures = {
    input: tokens,
    output: tokens,
    cacheRead: tokens,
    cacheWrite: tokens,
    reasoning: tokens,
    total: tokens,
    costUSD: usd,
    interactions: count,
    sessions: count,
    unpricedInteractions: count,
    /** Tokens in `total` that are estimates (counted from text or rounded by the tool), as in `report --json`. */
    estimatedTokens: tokens,
    /** Credits metered by tools that bill in credits (Kiro, Amp), as in `report --json`; absent when there are none. */
    credits: z.optional(z.number().check(z.gte(0), z.lte(MAX_USD))),
  };
  const source = z.enum(SOURCE_NAMES);
  const rollup = z.strictObject({
    period: z.strictObject({ since: date, until: date, timezone: text(64) }),
    member: z.strictObject({
      id: z.string().check(z.regex(/^m-[0-9a-f]{16}$/)),
      displayName: z.nullable(z.string().check(z.minLength(1), z.maxLength(64))),
    }),
    machine: z.strictObject({ id: z.string().check(z.regex(/^[0-9a-f]{32}$/)) }),
    generatedAt: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/)),
    pricing: z.strictObject({ version: text(64) }),
    interactions: z.strictObject({ count, digest: z.string().check(z.regex(/^[0-9a-f]{64}$/)) }),
    totals: z.strictObject(figures),
    bySource: z.array(z.strictObject({ source, ...figures })).check(z.maxLength(SOURCE_NAMES.length)),
    byModel: z.array(z.strictObject({ source, model: text(200), ...figures })).check(z.maxLength(MAX_MODELS)),
    outcomes: z.strictObject({
      commits: count,
      tasks: count,
      prs: count,
      shippedSessions: count,
      openSessions: count,
      unlinkedSessions: count,
      labelledSessions: count,
      /** Tokens of shipped sessions (yield's numerator). */
      shippedTokens: tokens,
      tokensWithoutOutcome: tokens,
      keptLines: count,
      /** Output tokens of the outcomes whose kept lines were judged (kept lines per 1k output's denominator). */
      keptLinesOutput: tokens,
      pendingCommits: count,
      /** Estimated cost of the delivered tasks, split per task (cost per task's numerator). */
      taskCostUSD: usd,
    }),
    value: z.strictObject({
      yield: ratio,
      tokensPerCommit: positive(MAX_TOKENS),
      costPerCommit: positive(MAX_USD),
      costPerTask: positive(MAX_USD),
      keptLinesPer1kOutput: positive(1e9),
    }),
    shared: z.optional(
      z.strictObject({
        repos: z.optional(z.array(text(200)).check(z.maxLength(MAX_SHARED))),
        subjects: z.optional(z.array(text(300)).check(z.maxLength(MAX_SHARED))),
      }),
    ),
  });
  const signature = z.strictObject({
    algorithm: z.literal('Ed25519'),
    publicKey: z.string().check(z.maxLength(100)),
    fingerprint: z.string().check(z.maxLength(100)),
    value: z.string().check(z.maxLength(200)),
  });
  const file = z.strictObject({
    format: z.literal(TEAM_ROLLUP_FORMAT),
    version: z.literal(TEAM_ROLLUP_VERSION),
    rollup,
    signature,
  });
  return { rollup, file };
}

let built: ReturnType<typeof schemas> | undefined;
const schema = (): ReturnType<typeof schemas> => (built ??= schemas());

export type TeamRollup = z.infer<ReturnType<typeof schemas>['rollup']>;
export type TeamRollupFile = z.infer<ReturnType<typeof schemas>['file']>;
export type RollupFigures = TeamRollup['totals'];
export type RollupOutcomes = TeamRollup['outcomes'];

/** A row of figures with every count at zero (the optional credits absent), to add rows into. */
export function zeroFigures(): RollupFigures {
  return {
    input: 0,
    output: 0,
    cacheRead: 0,
    cacheWrite: 0,
    reasoning: 0,
    total: 0,
    costUSD: 0,
    interactions: 0,
    sessions: 0,
    unpricedInteractions: 0,
    estimatedTokens: 0,
  };
}

/** What the signature covers: the whole file but the signature. */
export function signedPart(f: Pick<TeamRollupFile, 'format' | 'version' | 'rollup'>): {
  format: string;
  version: number;
  rollup: TeamRollup;
} {
  return { format: f.format, version: f.version, rollup: f.rollup };
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Depth of the JSON text's nesting, without parsing it (strings skipped): a hostile file nested a million levels deep
 * is refused before JSON.parse could run out of stack.
 */
function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) {
      depth--;
    }
  }
  return false;
}

/** The first key anywhere in a parsed value that could pollute a prototype, if any. */
function dangerousKey(v: unknown, depth = 0): string | undefined {
  if (depth > MAX_ROLLUP_DEPTH || v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    for (const x of v) {
      const k = dangerousKey(x, depth + 1);
      if (k !== undefined) return k;
    }
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (DANGEROUS_KEYS.has(k)) return k;
    const inner = dangerousKey((v as Record<string, unknown>)[k], depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

interface Issue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
  code?: string;
  keys?: readonly string[];
  expected?: string;
  received?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  pattern?: string;
  values?: readonly unknown[];
}

/**
 * What is wrong, in words a team lead can act on, whatever locale zod was configured with elsewhere (zod/mini's own
 * message is only "Invalid input"). A message this schema sets itself (the display name's rule) is kept.
 */
function issueText(issue: Issue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unexpected field ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_type':
      if (issue.expected === 'int') return 'not a whole number';
      if (issue.received === 'Infinity' || issue.received === 'NaN') return 'not a finite number';
      return `expected ${issue.expected ?? 'another type'}`;
    case 'too_small':
      return issue.origin === 'string' ? 'empty' : `below ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'string') return `longer than ${String(issue.maximum)} characters`;
      if (issue.origin === 'array') return `more than ${String(issue.maximum)} rows`;
      return `above the limit ${String(issue.maximum)} (no real ledger reaches it)`;
    case 'invalid_format':
      if (issue.pattern === String(PRINTABLE_LINE)) return 'has control characters or bidirectional overrides';
      return issue.message.startsWith('Invalid') ? 'not in the expected format' : issue.message;
    case 'invalid_value':
      return `expected ${(issue.values ?? [])
        .slice(0, 12)
        .map((v) => JSON.stringify(v))
        .join(' or ')}`;
    default:
      return issue.message;
  }
}

function issueLine(issue: Issue): string {
  const at = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  return `${at || 'the file'}: ${issueText(issue)}`;
}

/**
 * Parses a rollup file's text: size, nesting, JSON, dangerous keys, format and version, the schema. Returns the file or
 * one line saying why it is refused. The signature comes next (services), then `sumProblem`: a figure edited by hand
 * is reported as an edit, not as a sum that does not add up.
 */
export function parseTeamRollup(text: string): Checked<TeamRollupFile> {
  if (text.length > MAX_ROLLUP_BYTES)
    return {
      ok: false,
      reason: `too large (${text.length} characters; a rollup is at most ${MAX_ROLLUP_BYTES / 1024} KB)`,
    };
  if (jsonDepthExceeds(text, MAX_ROLLUP_DEPTH))
    return { ok: false, reason: `nested deeper than ${MAX_ROLLUP_DEPTH} levels: not a rollup` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not JSON (${(e as Error).message.split('\n')[0]})` };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return { ok: false, reason: 'not an Outcome Ledger team rollup (a JSON object is expected)' };
  const twice = duplicateKey(text);
  if (twice !== undefined)
    return {
      ok: false,
      reason: `has the key ${JSON.stringify(twice).slice(0, 60)} twice in one object (a reader and a merge could see different values)`,
    };
  const bad = dangerousKey(raw);
  if (bad !== undefined)
    return { ok: false, reason: `has a "${bad}" key, which no rollup has (refused as a prototype-pollution attempt)` };
  const envelope = raw as { format?: unknown; version?: unknown };
  if (envelope.format !== TEAM_ROLLUP_FORMAT)
    return {
      ok: false,
      reason: `not an Outcome Ledger team rollup (format ${JSON.stringify(envelope.format ?? null)?.slice(0, 60)})`,
    };
  if (envelope.version !== TEAM_ROLLUP_VERSION) {
    return {
      ok: false,
      reason: `rollup version ${JSON.stringify(envelope.version ?? null)?.slice(0, 20)} is not supported (this build reads version ${TEAM_ROLLUP_VERSION}; update Outcome Ledger)`,
    };
  }
  const parsed = schema().file.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `invalid: ${first ? issueLine(first as Issue) : 'does not match the rollup schema'}` };
  }
  const name = parsed.data.rollup.member.displayName;
  const nameProblem = name === null ? undefined : displayNameProblem(name);
  if (nameProblem) return { ok: false, reason: `invalid: rollup.member.displayName: ${nameProblem}` };
  for (const k of ['since', 'until'] as const) {
    const d = parsed.data.rollup.period[k];
    if (!isCalendarDate(d)) return { ok: false, reason: `invalid: rollup.period.${k}: ${d} is not a calendar date` };
  }
  return { ok: true, value: parsed.data };
}

/** The whole-number figures of a row: each whole is exactly the sum of its parts (cost is compared within rounding). */
const COUNTED = [...TOKEN_FIGURES, 'interactions', 'sessions', 'unpricedInteractions', 'estimatedTokens'] as const;

function near(a: number, b: number, rows: number): boolean {
  // Costs are rounded to 1e-6 USD per row: their sums may differ by that much per row.
  return Math.abs(a - b) <= 1e-6 * (rows + 1) + 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function close(actual: number | null, expected: number | null, tolerance: number): boolean {
  if (actual === null || expected === null) return actual === expected;
  return Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected));
}

/**
 * Every figure a rollup states twice must agree: totals = the sum of the sources = the sum of the models (per source
 * too), total = input + cache + output, reasoning within output, the interaction count, the outcome tokens within the
 * total, and the value metrics equal to what their inputs give. A signed file whose sums disagree was made by hand.
 * The line names the fields, never their values: it is shown in the team report next to the file's name, and a
 * member's figures must not reach the report that way either.
 */
export function sumProblem(r: TeamRollup): string | undefined {
  const check = (label: string, f: RollupFigures): string | undefined => {
    if (f.total !== f.input + f.output + f.cacheRead + f.cacheWrite)
      return `${label}.total ≠ input + output + cacheRead + cacheWrite`;
    if (f.reasoning > f.output) return `${label}.reasoning > output`;
    if (f.unpricedInteractions > f.interactions) return `${label}.unpricedInteractions > interactions`;
    if (f.estimatedTokens > f.total) return `${label}.estimatedTokens > total`;
    return undefined;
  };
  const against = (
    whole: string,
    parts: string,
    w: RollupFigures,
    rows: readonly RollupFigures[],
    sessionsMayRepeat: boolean,
  ): string | undefined => {
    for (const k of COUNTED) {
      const sum = rows.reduce((s, p) => s + p[k], 0);
      // A session uses one source but may use several models: model rows may count it more than once.
      const ok = k === 'sessions' && sessionsMayRepeat ? sum >= w[k] : sum === w[k];
      if (!ok) return `${whole}.${k} ≠ the sum of ${parts}`;
    }
    const cost = rows.reduce((s, p) => s + p.costUSD, 0);
    if (!near(w.costUSD, cost, rows.length)) return `${whole}.costUSD ≠ the sum of ${parts}`;
    return undefined;
  };
  const problems: Array<string | undefined> = [check('totals', r.totals)];
  r.bySource.forEach((s, i) => problems.push(check(`bySource[${i}]`, s)));
  r.byModel.forEach((m, i) => problems.push(check(`byModel[${i}]`, m)));
  const sources = new Set<string>();
  for (const s of r.bySource) {
    if (sources.has(s.source)) return `bySource lists ${s.source} twice`;
    sources.add(s.source);
  }
  const models = new Set<string>();
  for (const m of r.byModel) {
    const key = `${m.source}\u0000${m.model}`;
    if (models.has(key)) return `byModel lists ${m.source}/${m.model} twice`;
    if (!sources.has(m.source)) return `byModel names ${m.source}, which bySource does not list`;
    models.add(key);
  }
  problems.push(
    against('totals', 'bySource', r.totals, r.bySource, false),
    against('totals', 'byModel', r.totals, r.byModel, true),
  );
  for (const s of r.bySource)
    problems.push(
      against(
        `bySource ${s.source}`,
        `its byModel rows`,
        s,
        r.byModel.filter((m) => m.source === s.source),
        true,
      ),
    );
  const found = problems.find((p) => p !== undefined);
  if (found) return found;
  if (r.interactions.count !== r.totals.interactions) return 'interactions.count ≠ totals.interactions';
  const o = r.outcomes;
  if (o.shippedTokens + o.tokensWithoutOutcome > r.totals.total)
    return 'shipped tokens + tokens without outcome > totals.total';
  if (o.keptLinesOutput > r.totals.output) return 'outcomes.keptLinesOutput > totals.output';
  if (o.shippedSessions + o.openSessions + o.unlinkedSessions + o.labelledSessions !== r.totals.sessions) {
    return 'the session statuses do not add up to totals.sessions';
  }
  if (r.period.since > r.period.until) return `period.since ${r.period.since} is after period.until ${r.period.until}`;
  const v = r.value;
  const expected = valueOf(r.totals, o);
  for (const k of ['yield', 'tokensPerCommit', 'costPerCommit', 'costPerTask', 'keptLinesPer1kOutput'] as const) {
    if (!close(v[k], expected[k], 0.01)) return `value.${k} ≠ what the figures it is computed from give`;
  }
  return undefined;
}

/** YYYY-MM-DD naming a day that exists (2026-02-30 does not). */
function isCalendarDate(d: string): boolean {
  const [y, m, day] = d.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, day));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === day;
}

/** The value metrics of a member (or a machine) from summable figures: the same definitions as `report --json`. */
export function valueOf(t: Pick<RollupFigures, 'total' | 'costUSD'>, o: RollupOutcomes): TeamRollup['value'] {
  return {
    yield: t.total > 0 ? o.shippedTokens / t.total : null,
    tokensPerCommit: o.commits > 0 ? Math.round(o.shippedTokens / o.commits) : null,
    costPerCommit: o.commits > 0 ? Math.round((t.costUSD / o.commits) * 1e6) / 1e6 : null,
    costPerTask: o.tasks > 0 ? Math.round((o.taskCostUSD / o.tasks) * 1e6) / 1e6 : null,
    keptLinesPer1kOutput:
      o.keptLinesOutput > 0 ? Math.round((o.keptLines / (o.keptLinesOutput / 1000)) * 100) / 100 : null,
  };
}
