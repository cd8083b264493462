/**
 * The shareable outcome summary (docs/summary.md, issue 6): its versioned schema, the pure model built from a
 * period's report and the facts behind it, and the manifest that lets `verify` name what was changed (pure).
 *
 * A summary file carries one signed document:
 *   { format, version, summary, manifest, signature }
 * - `summary`: the figures (equal to `report --json` for the same period), outcomes grouped by task with the sessions
 *   and link evidence each rests on, the weekly trend, tokens without outcome by label, coverage, and a digest of the
 *   ledger records the figures came from.
 * - `manifest`: the SHA-256 of the canonical JSON of every section of `summary` (and of every task, week and group).
 * - `signature`: Ed25519 (src/store/signing.ts) or SSH (`ssh-keygen -Y sign`, src/store/sshSignature.ts) over the
 *   canonical JSON of `{ format, version, manifest }`.
 * So a changed figure shows as a section whose digest no longer matches the signed manifest, and `verify` names it.
 */
import * as z from 'zod/mini';
import { SESSION_LABELS } from '../usage/model';

export const SUMMARY_FORMAT = 'outcome-ledger/summary';
export const SUMMARY_VERSION = 1;
/** The `ssh-keygen -Y` namespace of a summary signature: a signature made for another purpose never verifies here. */
export const SSH_NAMESPACE = 'outcome-ledger-summary';
/** An OpenSSH public key as `type base64` (no comment), of the key types `ssh-keygen -Y sign` uses. */
const SSH_PUBLIC_KEY =
  /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,2}$/;

/**
 * What a signature proves, what `verify --repo` adds, and what nothing can prove (issue 14): signed with the figures,
 * shown in every format and by `verify`.
 */
export const CLAIM: Readonly<{ signature: string; repository: string; cannot: string }> = {
  signature:
    "The signature proves that this data has not changed since it was signed, and that it was signed by the holder of the key named below. It does not say who holds that key: compare the key's fingerprint with the one the engineer publishes (for an SSH key, the signing key on their code host) and verify with --key FINGERPRINT.",
  repository:
    '`outcome-ledger verify --repo PATH` against the repositories adds that every cited commit exists there with the author time, subject and changed files this summary gives, and whether it is on the default branch (shipped).',
  cannot:
    'Nothing can prove that the AI logs were not edited before they were imported: the token and cost figures are only as genuine as those logs.',
};

export const EVIDENCE_KINDS = [
  'branch',
  'files',
  'time',
  'trailer',
  'codex-git',
  'task',
  'author',
  'successor',
  'manual',
] as const;
export const STATUSES = ['unlinked', ...SESSION_LABELS] as const;

/** The schemas, built on first use (activation and `--help` do not pay for them). */
function buildSchemas() {
  const nat = () => z.number().check(z.int(), z.gte(0));
  const num = () => z.number().check(z.refine(Number.isFinite, 'a finite number'));
  const date = () => z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/));
  const iso = () => z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/));
  const text = (max = 2000) => z.string().check(z.maxLength(max));
  const accuracy = {
    /** Tokens the tool estimated (counted from text or rounded) rather than reported, when the ledger knows. */
    estimatedTokens: z.optional(nat()),
    tokenAccuracy: z.optional(z.enum(['exact', 'estimated', 'mixed'])),
  };
  const usage = {
    input: nat(),
    output: nat(),
    cacheRead: nat(),
    cacheWrite: nat(),
    reasoning: nat(),
    total: nat(),
    costUSD: num(),
    interactions: nat(),
    sessions: nat(),
    unpricedInteractions: nat(),
    ...accuracy,
    /** Credits of tools that bill in credits (Kiro, Amp), beside the tokens. */
    credits: z.optional(num()),
    /** What the tools recorded as their own cost, beside the list-price estimate, and of how many requests. */
    recordedCostUsd: z.optional(num()),
    recordedInteractions: z.optional(nat()),
  };
  /**
   * A cited commit. Since issue 14 the full sha, its author and whether it is the engineer's own (author or named
   * co-author); older files cite 7-character shas without them (the fields are optional so they still verify).
   */
  const standing = {
    author: z.optional(text(320)),
    authoredByEngineer: z.optional(z.boolean()),
    coAuthored: z.optional(z.boolean()),
    reverted: z.optional(z.boolean()),
    merged: z.optional(z.boolean()),
  };
  const commit = z.strictObject({
    /** The full SHA (SHA-1 or SHA-256), so `verify --repo` can find the very commit; the visible text shows 7 digits. */
    sha: z.string().check(z.regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/)),
    repo: text(300),
    subject: z.nullable(text(1000)),
    committed: date(),
    /** The author time, to the second (UTC). */
    authoredAt: iso(),
    /** How many files the commit changed and the SHA-256 of their sorted paths (the paths themselves stay private). */
    files: z.strictObject({ count: nat(), sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)) }),
    pr: z.nullable(nat()),
    keptLines: z.nullable(nat()),
    ...standing,
  });
  /** A linked commit that is not counted as the engineer's outcome, and why (docs/outcomes.md). */
  const setAside = z.strictObject({
    sha: z.string().check(z.regex(/^[0-9a-f]{7,64}$/)),
    repo: text(300),
    subject: z.nullable(text(1000)),
    committed: date(),
    pr: z.nullable(nat()),
    ...standing,
    reason: z.enum(['others', 'reverted', 'unmerged']),
    sessions: z.array(text(400)),
  });
  const outcome = z.strictObject({
    commits: z.array(commit).check(z.minLength(1)),
    sessions: z.array(text(400)).check(z.minLength(1)),
    evidence: z.array(z.enum(EVIDENCE_KINDS)),
    confirmed: z.boolean(),
    keptLines: z.nullable(nat()),
    pending: z.boolean(),
  });
  const task = z.strictObject({
    task: z.nullable(text(200)),
    delivered: z.boolean(),
    tokens: nat(),
    costUSD: num(),
    sessions: nat(),
    commits: nat(),
    sources: z.array(text(40)),
    models: z.array(text(200)),
    keptLines: nat(),
    pendingCommits: nat(),
    outcomes: z.array(outcome),
    citedSessions: z.array(text(400)),
    estimatedTokens: z.optional(nat()),
  });
  const week = z.strictObject({
    since: date(),
    until: date(),
    tokens: nat(),
    costUSD: num(),
    commits: nat(),
    yield: z.nullable(num()),
    tokensPerCommit: z.nullable(num()),
    costPerCommit: z.nullable(num()),
    tokensWithoutOutcome: nat(),
    tasks: z.optional(nat()),
    tokensPerTask: z.optional(z.nullable(num())),
    costPerTask: z.optional(z.nullable(num())),
    estimatedTokens: z.optional(nat()),
  });
  const group = z.strictObject({
    status: z.enum(STATUSES),
    sessions: nat(),
    tokens: nat(),
    costUSD: num(),
    sessionIds: z.array(text(400)),
    estimatedTokens: z.optional(nat()),
  });
  const summary = z.strictObject({
    generatedAt: iso(),
    tool: z.strictObject({ name: z.literal('outcome-ledger'), version: text(40) }),
    period: z.strictObject({ since: date(), until: date(), timezone: text(100), days: nat() }),
    redacted: z.strictObject({ repos: z.boolean(), subjects: z.boolean() }),
    settings: z.strictObject({
      threshold: num(),
      durabilityDays: nat(),
      openWindowHours: num(),
      identities: z.optional(z.array(text(320))),
    }),
    pricing: z.strictObject({ version: text(100), note: text(1000) }),
    /** The engineer's subscription amortised over the period, beside the list-price estimate (absent: no plan set). */
    planCost: z.optional(
      z.strictObject({
        plan: text(40),
        label: text(100),
        monthlyUsd: num(),
        days: nat(),
        periodUsd: num(),
        perCommit: z.nullable(num()),
        perTask: z.nullable(num()),
      }),
    ),
    totals: z.strictObject(usage),
    outcomes: z.strictObject({
      commits: nat(),
      tasks: nat(),
      prs: nat(),
      shippedSessions: nat(),
      openSessions: nat(),
      unlinkedSessions: nat(),
      labelledSessions: nat(),
      yield: z.nullable(num()),
      tokensPerCommit: z.nullable(num()),
      costPerCommit: z.nullable(num()),
      tokensPerCommitMedian: z.nullable(num()),
      costPerCommitMedian: z.nullable(num()),
      tokensPerTask: z.nullable(num()),
      costPerTask: z.nullable(num()),
      tokensPerTaskMedian: z.nullable(num()),
      costPerTaskMedian: z.nullable(num()),
      tokensWithoutOutcome: nat(),
      keptLines: nat(),
      keptLinesPer1kOutput: z.nullable(num()),
      pendingCommits: nat(),
      reverted: z.optional(nat()),
      unmerged: z.optional(nat()),
      authoredByOthers: z.optional(nat()),
    }),
    tasks: z.array(task),
    notCounted: z.optional(z.array(setAside)),
    trend: z.array(week),
    withoutOutcome: z.strictObject({
      tokens: nat(),
      costUSD: num(),
      groups: z.array(group),
      open: z.strictObject({ sessions: nat(), tokens: nat(), costUSD: num(), estimatedTokens: z.optional(nat()) }),
      estimatedTokens: z.optional(nat()),
    }),
    bySource: z.array(z.strictObject({ source: text(40), ...usage })),
    byModel: z.array(z.strictObject({ source: text(40), model: text(200), priced: z.boolean(), ...usage })),
    coverage: z.strictObject({
      sources: z.array(
        z.strictObject({
          source: text(40),
          first: z.nullable(iso()),
          last: z.nullable(iso()),
          files: nat(),
          rejectedLines: nat(),
          unpricedModels: z.array(text(200)),
          assumedModelInteractions: nat(),
          ...accuracy,
        }),
      ),
      gaps: z.array(text()),
      estimates: z.array(text()),
    }),
    claim: z.strictObject({ signature: text(), repository: text(), cannot: text() }),
    records: z.strictObject({
      algorithm: z.literal('sha256'),
      digest: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
      interactions: nat(),
      sessions: nat(),
      links: nat(),
      commits: nat(),
    }),
  });
  const ed25519 = z.strictObject({
    algorithm: z.literal('Ed25519'),
    publicKey: z.string().check(z.regex(/^[A-Za-z0-9+/]{43}=$/)),
    fingerprint: text(100),
    value: z.string().check(z.regex(/^[A-Za-z0-9+/]{86}==$/)),
  });
  /** Signed with the engineer's git SSH signing key (`ssh-keygen -Y sign`), so it matches the key on their code host. */
  const ssh = z.strictObject({
    algorithm: z.literal('ssh'),
    publicKey: z.string().check(z.maxLength(4000), z.regex(SSH_PUBLIC_KEY)),
    fingerprint: z.string().check(z.regex(/^SHA256:[A-Za-z0-9+/]{43}$/)),
    namespace: z.literal(SSH_NAMESPACE),
    value: z
      .string()
      .check(
        z.maxLength(20000),
        z.regex(/^-----BEGIN SSH SIGNATURE-----\n[A-Za-z0-9+/=\n]+\n-----END SSH SIGNATURE-----\n?$/),
      ),
  });
  const signature = z.union([ed25519, ssh]);
  const document = z.strictObject({
    format: z.literal(SUMMARY_FORMAT),
    version: z.literal(SUMMARY_VERSION),
    summary,
    manifest: z.record(z.string().check(z.maxLength(200)), z.string().check(z.regex(/^[0-9a-f]{64}$/))),
    signature,
  });
  return { document, summary };
}

type Schemas = ReturnType<typeof buildSchemas>;
let cached: Schemas | undefined;
function schemas(): Schemas {
  cached ??= buildSchemas();
  return cached;
}

export type Summary = z.infer<Schemas['summary']>;
export type SummaryDocument = z.infer<Schemas['document']>;
export type SummaryTask = Summary['tasks'][number];
export type SummaryOutcome = SummaryTask['outcomes'][number];
export type SummaryCommit = SummaryOutcome['commits'][number];
export type SummarySetAside = NonNullable<Summary['notCounted']>[number];
export type SummaryWeek = Summary['trend'][number];
export type SummarySignature = SummaryDocument['signature'];

/** What the signature covers: the header and the manifest (which covers every section). */
export function signedPart(doc: Pick<SummaryDocument, 'format' | 'version' | 'manifest'>): {
  format: string;
  version: number;
  manifest: Record<string, string>;
} {
  return { format: doc.format, version: doc.version, manifest: doc.manifest };
}

export type ParseResult = { ok: true; doc: SummaryDocument } | { ok: false; reason: string };

/**
 * Checks a parsed JSON value against the schema: format and version first (an unknown version gets its own message),
 * then every field, naming the first few that are wrong.
 */
export function parseSummaryDocument(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'the file does not hold a JSON object' };
  const head = value as { format?: unknown; version?: unknown };
  if (head.format !== SUMMARY_FORMAT)
    return {
      ok: false,
      reason: `this is not an Outcome Ledger summary (format ${JSON.stringify(head.format ?? null)}, expected "${SUMMARY_FORMAT}")`,
    };
  if (head.version !== SUMMARY_VERSION) {
    const newer = typeof head.version === 'number' && head.version > SUMMARY_VERSION;
    return {
      ok: false,
      reason: newer
        ? `summary version ${head.version} was written by a newer Outcome Ledger; this build reads version ${SUMMARY_VERSION}: update Outcome Ledger to verify it`
        : `unknown summary version ${JSON.stringify(head.version ?? null)} (this build reads version ${SUMMARY_VERSION})`,
    };
  }
  const r = schemas().document.safeParse(value);
  if (r.success) return { ok: true, doc: r.data };
  const issues = r.error.issues.slice(0, 3).map((i) => `${pathText(i.path)}: ${issueText(i as unknown as IssueLike)}`);
  return {
    ok: false,
    reason: `the file does not follow the summary schema (version ${SUMMARY_VERSION}): ${issues.join('; ')}`,
  };
}

interface IssueLike {
  code?: string;
  message: string;
  keys?: readonly string[];
  expected?: string;
  origin?: string;
}

/** zod/mini carries no message locale ("Invalid input"): say what is wrong in words. */
function issueText(i: IssueLike): string {
  if (i.code === 'unrecognized_keys' && i.keys)
    return `unexpected field ${i.keys.map((k) => JSON.stringify(k)).join(', ')} (not in this version of the schema)`;
  if (i.code === 'invalid_type' && i.expected)
    return i.expected === 'undefined'
      ? 'unexpected field'
      : `expected ${i.expected === 'nonoptional' ? 'a value' : `a ${i.expected}`}`;
  if (i.code === 'invalid_value' || i.code === 'invalid_format') return 'not an allowed value';
  if (i.code === 'too_small' || i.code === 'too_big')
    return `out of range (${i.code === 'too_small' ? 'too small' : 'too large'})`;
  if (i.code === 'custom') return 'not a finite number';
  return i.message;
}

function pathText(p: ReadonlyArray<PropertyKey>): string {
  return p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : `${acc}.${String(k)}`), '$');
}
