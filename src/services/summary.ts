import { createHash } from 'node:crypto';
import type { Database, SqlValue } from 'sql.js';
import { eachRequestOfPeriodById, REQUEST_COLUMNS } from '../store/archive';
import { canonicalJson } from '../core/common/canonical';
import { decodeFiles } from '../core/outcomes/commits';
import {
  DEFAULT_THRESHOLD,
  evidenceKinds,
  isCounted,
  type EvidenceKind,
  type LinkState,
} from '../core/outcomes/linking';
import { OPEN_WINDOW_MS, type ReportJson } from '../core/outcomes/report';
import {
  buildSummary,
  figureDifferences,
  weeksOf,
  type SummaryCommitFacts,
  type SummarySession,
} from '../core/summary/build';
import { manifestEntries } from '../core/summary/manifest';
import {
  CLAIM,
  parseSummaryDocument,
  signedPart,
  SSH_NAMESPACE,
  SUMMARY_FORMAT,
  SUMMARY_VERSION,
  type Summary,
  type SummaryDocument,
  type SummarySignature,
} from '../core/summary/schema';
import { extractDocument, firstDifference, renderSummary, type SummaryFormat } from '../core/summary/render';
import { inconsistencies } from '../core/summary/consistency';
import {
  bucketsOf,
  countedOutcomes,
  outcomeFacts,
  reports,
  sessionIdOf,
  sessionTaskKeys,
  statusResolver,
  eachUsageRow,
} from './queries';
import { refsClause } from '../store/aggregates';
import { eachRow } from '../store/rows';
import type { SetAside } from '../core/outcomes/standing';
import { isoUtc, periodRange } from '../core/usage/time';
import { loadLinks } from '../store/outcomes';
import { loadOrCreateSigningKey, sha256Hex, verifyCanonical } from '../store/signing';
import { sshFingerprint, sshSign, sshVerify } from '../store/sshSignature';
import { gitSigningConfig } from '../git/signingConfig';
import { DEFAULT_DURABILITY_DAYS } from './linker';
import { planOf, PlanError, type Plan } from '../core/usage/plans';
import { dataHealth } from './health';

/** The version a summary names as its producer (a unit test keeps it equal to package.json's). */
export const TOOL_VERSION = '0.1.0';

export interface SummaryOptions {
  since: string;
  until: string;
  timeZone: string;
  redact?: { repos?: boolean; subjects?: boolean };
  threshold?: number;
  durabilityDays?: number;
  /** The moment the figures are for (open sessions, kept lines); default now. */
  now?: number;
  /** More author emails that are the engineer's (`--identity`, the setting); the summary records all it used. */
  identities?: readonly string[];
  /** The subscription amortised beside the list-price estimate (`--plan`, the settings, prices.json); none when absent. */
  plan?: Plan | null;
  /** For the coverage gaps (where the tools keep their logs). */
  env?: NodeJS.ProcessEnv;
  ledgerFile?: string;
}

/** The summary's figures for a period, from the same queries as `report --json` (pure assembly in core/summary/build.ts). */
export function summaryOf(db: Database, o: SummaryOptions): Summary {
  const now = o.now ?? Date.now();
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  const durabilityDays = o.durabilityDays ?? DEFAULT_DURABILITY_DAYS;
  const q = {
    timeZone: o.timeZone,
    threshold,
    durabilityDays,
    now,
    plan: o.plan ?? null,
    ...(o.identities ? { identities: o.identities } : {}),
  };
  const spans = weeksOf(o.since, o.until);
  const [main, ...weekly] = reports(db, q, [{ since: o.since, until: o.until }, ...spans]) as [
    ReportJson,
    ...ReportJson[],
  ];
  const weeks = spans.map((w, i) => ({ ...w, report: weekly[i] as ReportJson }));

  const range = periodRange(o.timeZone, o.since, o.until);
  const co = countedOutcomes(db, threshold, o.identities);
  const counted = co.counted;
  // A year holds ~45,000 sessions: their usage (a temporary) is let go once their rows are built.
  const sessions = periodSessions(db, periodUsage(db, range), { now, threshold, counted, setAside: co.setAside });
  const periodRefs = new Set(sessions.map((x) => x.ref));
  const facts = outcomeFacts(db, counted, now, durabilityDays, co.setAside, periodRefs);

  // The commits the period's sessions count (a commit only sessions outside the period count is not cited).
  // Commits set aside (reverted, not merged, someone else's) are cited apart, with what makes them so.
  const commitIds = [...new Set(sessions.flatMap((s) => s.counted))].filter((id) => facts.commits.has(id));
  const asideIds = [
    ...new Set(sessions.flatMap((s) => (s.setAside ?? []).filter((a) => a.why !== 'revert').map((a) => a.id))),
  ];
  const commits = new Map<number, SummaryCommitFacts>();
  const wanted = [...new Set([...commitIds, ...asideIds])];
  for (let i = 0; i < wanted.length; i += 500) {
    const chunk = wanted.slice(i, i + 500).join(',');
    for (const [id, sha, root, subject, repo, tasks, pr, at, files] of db.exec(
      `SELECT c.id, c.sha, r.root, c.subject, c.repo_ref, c.tasks, c.pr, c.author_ts, c.files FROM commits c JOIN repos r ON r.id = c.repo_ref WHERE c.id IN (${chunk})`,
    )[0]?.values ?? []) {
      const f = facts.commits.get(Number(id)) ?? {
        id: Number(id),
        repo: Number(repo),
        tasks: tasks ? String(tasks).split(' ') : [],
        pr: pr === null ? null : Number(pr),
        authorTime: Number(at),
        kept: null,
      };
      const standing = co.standing.get(Number(id));
      commits.set(Number(id), {
        ...f,
        sha: String(sha),
        repoRoot: String(root),
        subject: String(subject),
        files: filesDigest(decodeFiles(String(files)).map((x) => x.path)),
        ...(standing ? { standing } : {}),
      });
    }
  }
  const links = new Map<string, { kinds: EvidenceKind[]; state: LinkState }>();
  for (const l of loadLinks(db, [...periodRefs])) {
    if (!isCounted(l.state, l.confidence, threshold)) continue;
    links.set(`${l.sessionRef}:${l.commitRef}`, { kinds: evidenceKinds(l.evidence), state: l.state });
  }

  const gaps: string[] = [];
  if (o.ledgerFile) {
    // Sources with records in the period. Estimated tokens are left to the summary's own estimate line: data health
    // counts them over the whole ledger (not the period) and marks them ~, where a summary marks them ≈.
    const inPeriod = new Set(main.coverage.filter((c) => c.first !== null).map((c) => c.source as string));
    for (const s of dataHealth(db, o.ledgerFile, { env: o.env ?? {} }).sources) {
      if (inPeriod.has(s.source))
        for (const g of s.gaps) if (!/They are marked ~\.$/.test(g)) gaps.push(`${s.source}: ${g}`);
    }
  }

  return buildSummary({
    generatedAt: isoUtc(now),
    toolVersion: TOOL_VERSION,
    period: { since: o.since, until: o.until, timezone: o.timeZone },
    redact: { repos: o.redact?.repos === true, subjects: o.redact?.subjects === true },
    report: main,
    weeks,
    sessions,
    commits,
    successors: facts.successors,
    links,
    now,
    durabilityDays,
    openWindowHours: OPEN_WINDOW_MS / 3_600_000,
    gaps,
    records: recordsDigest(db, range, sessions, commits),
    identities: co.identities,
  });
}

/** A period's usage of one session: the summary's figures for it. */
interface SessionUsage {
  tokens: number;
  estimatedTokens: number;
  costNano: number;
  /** Its models, each once (a session uses one to three: a list, not a set). */
  models: string[];
}

function periodUsage(db: Database, range: { from: number; to: number }): Map<number, SessionUsage> {
  const out = new Map<number, SessionUsage>();
  eachUsageRow(db, bucketsOf(range), (r) => {
    let s = out.get(r.sessionRef);
    // A list made with its first model holds just it (one pushed onto `[]` takes room for 17).
    if (!s) out.set(r.sessionRef, (s = { tokens: 0, estimatedTokens: 0, costNano: 0, models: [r.model] }));
    else if (!s.models.includes(r.model)) s.models.push(r.model);
    s.tokens += r.input + r.output + r.cacheRead + r.cacheWrite;
    s.estimatedTokens += r.estimatedTokens;
    s.costNano += r.costNano;
  });
  return out;
}

/** No tasks, commits or models: one frozen list shared by every session without them. */
const NONE: readonly never[] = Object.freeze([]);

/**
 * The period's sessions, in ledger order, as the summary counts them. What only this needs (labels and times for the
 * status, task keys, ids) is read for the period's sessions alone and let go on return; each session's strings are
 * kept once (its id is its ledger id when the key is a plain id; sources are shared).
 */
function periodSessions(
  db: Database,
  usage: ReadonlyMap<number, SessionUsage>,
  o: {
    now: number;
    threshold: number;
    counted: Map<number, number[]>;
    setAside: ReadonlyMap<number, ReadonlyArray<{ id: number; why: SetAside }>>;
  },
): SummarySession[] {
  const refs = new Set(usage.keys());
  const statusOf = statusResolver(db, o.now, o.threshold, o.counted, refs);
  const branchTasks = sessionTaskKeys(db, refs);
  const sources = new Map<string, string>();
  const ids = new Map<number, { source: string; key: string }>();
  eachRow(db, `SELECT id, source, session_key FROM sessions WHERE 1${refsClause('id', refs)}`, undefined, (v) => {
    const ref = Number(v[0]);
    if (!refs.has(ref)) return;
    const name = String(v[1]);
    if (!sources.has(name)) sources.set(name, name);
    ids.set(ref, { source: sources.get(name)!, key: String(v[2]) });
  });
  return [...refs]
    .sort((a, b) => a - b)
    .map((ref) => {
      const u = usage.get(ref)!;
      const s = ids.get(ref) ?? { source: 'manual', key: String(ref) };
      const ledgerId = `${s.source}:${s.key}`;
      const cited = citedId(s.source, s.key);
      const tasks = branchTasks.get(ref);
      const counted = o.counted.get(ref);
      const setAside = o.setAside.get(ref);
      return {
        ref,
        id: cited === ledgerId ? ledgerId : cited,
        ledgerId,
        source: s.source,
        status: statusOf(ref),
        tokens: u.tokens,
        estimatedTokens: u.estimatedTokens,
        costNano: u.costNano,
        models: u.models.length > 1 ? u.models.sort() : u.models.length === 1 ? u.models : NONE,
        branchTasks: tasks && tasks.length > 0 ? tasks : NONE,
        counted: counted && counted.length > 0 ? counted : NONE,
        setAside: setAside && setAside.length > 0 ? setAside : NONE,
      };
    });
}

/**
 * How a summary cites a session: `source:key` when the tool's own key is a plain id (a UUID and the like), else
 * `source:#` and the first 16 hex digits of the key's SHA-256. Some keys carry a path (Aider's is the chat's start
 * time and working folder), which must never leave the machine, redaction or not.
 */
export function citedId(source: string, key: string): string {
  return /^[A-Za-z0-9._-]{1,128}$/.test(key) ? `${source}:${key}` : `${source}:#${sha256Hex(key).slice(0, 16)}`;
}

/**
 * How a summary gives a commit's changed files: their count and the SHA-256 of the canonical JSON of the sorted,
 * distinct paths (as `git log --numstat --no-renames` names them; none for a merge). `verify --repo` recomputes it.
 */
export function filesDigest(paths: readonly string[]): { count: number; sha256: string } {
  const list = [...new Set(paths)].sort();
  return { count: list.length, sha256: sha256Hex(canonicalJson(list)) };
}

/**
 * SHA-256 over the canonical JSON of the ledger records the figures came from: every request in the period (its
 * stable id, session, time, model, canonical token fields and estimated cost), the sessions' labels, their counted
 * links and the linked commits (task keys, PR, kept lines, author, and whether each is the engineer's, reverted, merged). Re-importing the same logs gives the same digest.
 */
function recordsDigest(
  db: Database,
  range: { from: number; to: number },
  sessions: readonly SummarySession[],
  commits: ReadonlyMap<number, SummaryCommitFacts>,
): Summary['records'] {
  const inPeriod = new Set(sessions.map((s) => s.ledgerId));
  const labels = (
    db.exec("SELECT source || ':' || session_key, label FROM sessions WHERE label IS NOT NULL")[0]?.values ?? []
  )
    .map((v) => [String(v[0]), String(v[1])])
    .filter(([id]) => inPeriod.has(id as string))
    .sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
  const links: Array<[string, string]> = [];
  for (const s of sessions) {
    if (s.status !== 'shipped') continue;
    for (const id of s.counted) {
      const c = commits.get(id);
      if (c) links.push([s.ledgerId, c.sha]);
    }
  }
  links.sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));
  const commitRecords = [...commits.values()]
    .map(
      (c) =>
        [
          c.sha,
          c.authorTime,
          c.tasks.join(' '),
          c.pr ?? -1,
          c.kept ?? -1,
          c.standing?.author ?? '',
          c.standing
            ? Number(c.standing.authoredByEngineer) + 2 * Number(c.standing.reverted) + 4 * Number(!c.standing.merged)
            : -1,
        ] as const,
    )
    .sort((a, b) => a[0].localeCompare(b[0]));
  // The canonical JSON of { commits, interactions, labels, links } (keys in that order), hashed as it is written: the
  // period's requests are read one at a time, never held (a year of heavy use: 250,000 of them, which as arrays and
  // one string took ~150 MB). The text hashed is byte for byte canonicalJson's (test/unit/archive.test.ts).
  const hash = createHash('sha256');
  hash.update(`{"commits":${canonicalJson(commitRecords)},"interactions":[`);
  let chunk = '';
  // Each request's session and model by name, as the digest has always written them: the period's sessions' ids
  // (every request of the period belongs to one of them), else the session's own row.
  const ledgerIds = new Map(sessions.map((x) => [x.ref, x.ledgerId]));
  const sessionRow = sessionIdOf(db);
  const ledgerIdOf = (ref: number): string | undefined => ledgerIds.get(ref) ?? sessionRow(ref);
  const models = new Map<number, string>();
  for (const [id, name] of db.exec('SELECT id, name FROM models')[0]?.values ?? [])
    models.set(Number(id), String(name));
  const at = Object.fromEntries(REQUEST_COLUMNS.map((c, i) => [c, i])) as Record<string, number>;
  const col = (row: SqlValue[], name: string): SqlValue => row[at[name] ?? -1] ?? null;
  // The period's requests in id order, from the archive files of that period too (store/archive.ts).
  let interactions = 0;
  eachRequestOfPeriodById(db, range.from, range.to, (r) => {
    const session = ledgerIdOf(Number(col(r, 'session_ref')));
    const model = models.get(Number(col(r, 'model_ref')));
    // A request whose session or model row is missing was never in the digest (an inner join): it is left out.
    if (session === undefined || model === undefined) return;
    const cost = col(r, 'cost_nusd');
    const row = [
      Number(col(r, 'id')),
      session,
      Number(col(r, 'ts')),
      model,
      Number(col(r, 'input')),
      Number(col(r, 'output')),
      Number(col(r, 'cache_read')),
      Number(col(r, 'cache_write')),
      Number(col(r, 'reasoning')),
      cost === null ? -1 : Number(cost),
    ];
    chunk += `${interactions++ === 0 ? '' : ','}${canonicalJson(row)}`;
    if (chunk.length >= 1 << 16) {
      hash.update(chunk);
      chunk = '';
    }
  });
  hash.update(`${chunk}],"labels":${canonicalJson(labels)},"links":${canonicalJson(links)}}`);
  return {
    algorithm: 'sha256',
    digest: hash.digest('hex'),
    interactions,
    sessions: sessions.length,
    links: links.length,
    commits: commitRecords.length,
  };
}

/** What signs a summary: the built-in Ed25519 key (store/signing.ts) or the engineer's git SSH signing key. */
export interface SummarySigner {
  signCanonical(payload: unknown): SummarySignature;
}

/** A signer over the engineer's git SSH signing key (`user.signingkey`, `gpg.format ssh`), via `ssh-keygen -Y sign`. */
function gitSshSigner(signingKey: string): SummarySigner {
  return {
    signCanonical: (payload) => ({
      ...sshSign(signingKey, SSH_NAMESPACE, canonicalJson(payload)),
      namespace: SSH_NAMESPACE,
    }),
  };
}

/** Git is not set up to sign with SSH (`gpg.format ssh`, `user.signingkey`): the message says how to set it up. */
export class GitSigningSetupError extends Error {}

/**
 * A signer over the SSH key git would sign a commit with in `cwd` (`gpg.format ssh`, `user.signingkey`, read through
 * git). Throws GitSigningSetupError when git is not set up for it.
 */
export async function gitSshSignerIn(cwd: string): Promise<SummarySigner> {
  const config = await gitSigningConfig(cwd);
  if (config.format !== 'ssh')
    throw new GitSigningSetupError(
      `signing with your git SSH signing key needs git's gpg.format to be ssh (it is ${config.format === null ? 'not set' : `"${config.format}"`}): run git config --global gpg.format ssh and git config --global user.signingkey ~/.ssh/id_ed25519.pub`,
    );
  if (config.key === null)
    throw new GitSigningSetupError(
      'signing with your git SSH signing key needs user.signingkey: run git config --global user.signingkey ~/.ssh/id_ed25519.pub',
    );
  return gitSshSigner(config.key);
}

/** Signs a summary: a digest per section in the manifest, the signature over the header and the manifest. */
export function signSummary(summary: Summary, key: SummarySigner): SummaryDocument {
  const manifest: Record<string, string> = {};
  for (const e of manifestEntries(summary)) manifest[e.key] = sha256Hex(canonicalJson(e.value));
  const head = { format: SUMMARY_FORMAT, version: SUMMARY_VERSION, manifest } as const;
  return {
    format: SUMMARY_FORMAT,
    version: SUMMARY_VERSION,
    summary,
    manifest,
    signature: key.signCanonical(signedPart(head)),
  };
}

export interface ExportedSummary {
  doc: SummaryDocument;
  text: string;
  format: SummaryFormat;
  /** The key it was signed with. */
  key: { fingerprint: string; algorithm: SummarySignature['algorithm'] };
}

/**
 * Figures, signature and rendering, in one call. Signed with `signer` when given (the git SSH key), else with the
 * built-in key in `home` (created on first use).
 */
export function exportSummary(
  db: Database,
  home: string,
  o: SummaryOptions & { format: SummaryFormat; signer?: SummarySigner },
): ExportedSummary {
  const signer = o.signer ?? loadOrCreateSigningKey(home);
  const doc = signSummary(summaryOf(db, o), signer);
  return {
    doc,
    text: renderSummary(doc, o.format),
    format: o.format,
    key: { fingerprint: doc.signature.fingerprint, algorithm: doc.signature.algorithm },
  };
}

export interface Verdict {
  ok: boolean;
  format: SummaryFormat | null;
  /** What is wrong, one sentence each (empty when ok). */
  problems: string[];
  /** What was checked and held. */
  checks: string[];
  /** What this run did not check, and how to (who holds the key, the cited commits), and what nothing can prove. */
  notChecked: string[];
  /** Said but not a failure: cited commits that exist but are not on their repository's default branch. */
  warnings: string[];
  /** Whether the signature held (the file's data is what its key signed): only then are its commits worth looking up. */
  signed: boolean;
  doc?: SummaryDocument;
}

function verdict(
  v: Omit<Verdict, 'notChecked' | 'signed' | 'warnings'> & Partial<Pick<Verdict, 'notChecked' | 'signed' | 'warnings'>>,
): Verdict {
  return { notChecked: [], signed: false, warnings: [], ...v };
}

/** Checks the signature over the signed part, whichever kind it is. */
function checkSignature(doc: SummaryDocument): { ok: true } | { ok: false; reason: string } {
  const sig = doc.signature;
  if (sig.algorithm === 'Ed25519') return verifyCanonical(signedPart(doc), sig);
  if (sshFingerprint(sig.publicKey) !== sig.fingerprint)
    return {
      ok: false,
      reason: `the fingerprint ${sig.fingerprint} does not belong to the embedded public key (it is ${sshFingerprint(sig.publicKey)})`,
    };
  return sshVerify(sig.publicKey, sig.namespace, sig.value, canonicalJson(signedPart(doc)));
}

/** How a reviewer learns the fingerprint to pin, for each kind of key. */
function pinHint(doc: SummaryDocument): string {
  const fp = doc.signature.fingerprint;
  return doc.signature.algorithm === 'ssh'
    ? `compare ${fp} with the SSH signing key the engineer publishes on their code host (for GitHub: save https://github.com/USER.keys and run ssh-keygen -lf on it), then verify with --key ${fp}`
    : `ask the engineer, through a channel you trust, for the fingerprint of their Outcome Ledger key (the summary command prints it when it writes a file), then verify with --key ${fp}`;
}

/**
 * Checks a summary file: the schema (format and version first), the signature over the manifest, each section against
 * its digest in the manifest, for Markdown and HTML that the visible text is exactly what the signed data renders, and
 * that every headline figure adds up from the records the file carries (a key holder can sign figures that do not).
 * With a ledger, the figures are recomputed for the same period and settings and compared, figure by figure.
 */
export function verifySummary(
  text: string,
  ledger?: { db: Database; ledgerFile?: string; env?: NodeJS.ProcessEnv },
  expect: { fingerprint?: string } = {},
): Verdict {
  const checked = checkSummaryText(text, expect);
  return 'problems' in checked ? checked : checkAgainstLedger(checked, ledger);
}

/** A summary file whose own checks all held (`checkSummaryText`): what is left is the check against a ledger. */
export interface CheckedSummary {
  format: SummaryFormat;
  doc: SummaryDocument;
  checks: string[];
  notChecked: string[];
}

/**
 * Everything `verifySummary` checks from the file alone: a failing verdict, or the checked document. The CLI lets go
 * of the file's text here, before a ledger recomputes a year of figures.
 */
export function checkSummaryText(text: string, expect: { fingerprint?: string } = {}): Verdict | CheckedSummary {
  const ex = extractDocument(text);
  if (!ex.ok) return verdict({ ok: false, format: null, problems: [ex.reason], checks: [] });
  const parsed = parseSummaryDocument(ex.value);
  if (!parsed.ok) return verdict({ ok: false, format: ex.format, problems: [parsed.reason], checks: [] });
  const doc = parsed.doc;
  const checks: string[] = [`the file follows the summary schema (version ${doc.version})`];
  /** Once the signature holds, a failing verdict says the file is signed, and why it fails. */
  const failSigned = (problems: string[]): Verdict =>
    verdict({ ok: false, format: ex.format, doc, checks, problems, signed: true });
  const sig = checkSignature(doc);
  if (!sig.ok) {
    return verdict({
      ok: false,
      format: ex.format,
      doc,
      checks,
      problems: [`the signature does not hold: ${sig.reason}`],
    });
  }
  checks.push(
    `the signature holds: the signed data has not changed since it was signed by the key ${doc.signature.fingerprint} (${doc.signature.algorithm === 'ssh' ? 'SSH, ssh-keygen -Y verify' : 'Ed25519'})`,
  );
  const notChecked: string[] = [];
  // Anyone can sign an edited copy with a key of their own: only the fingerprint the engineer gave you says whose it is.
  if (expect.fingerprint !== undefined) {
    if (normalFingerprint(expect.fingerprint) !== normalFingerprint(doc.signature.fingerprint)) {
      return failSigned([
        `the file was signed by the key ${doc.signature.fingerprint}, not by the expected key ${expect.fingerprint}`,
      ]);
    }
    checks.push('the signing key is the one expected (--key)');
  } else {
    notChecked.push(
      `not checked: who signed it. This checked the file's integrity, not who holds the key ${doc.signature.fingerprint} (anyone can sign a copy with a key of their own). To pin it, ${pinHint(doc)}`,
    );
  }
  const entries = manifestEntries(doc.summary);
  const problems: string[] = [];
  const expected = new Set(Object.keys(doc.manifest));
  const changed = entries.filter((e) => {
    const want = doc.manifest[e.key];
    expected.delete(e.key);
    if (want === undefined) {
      problems.push(`${e.label} (${e.key}) is not covered by the signature: it was added after the export`);
      return false;
    }
    return sha256Hex(canonicalJson(e.value)) !== want;
  });
  // A changed figure also changes its section: name the figure alone.
  const named = new Set(changed.map((e) => e.parent).filter((p): p is string => p !== undefined));
  for (const e of changed) {
    if (!named.has(e.key))
      problems.push(`${e.label} (${e.key}) changed after the export: it does not match its signed digest`);
  }
  for (const k of expected) problems.push(`${k} was removed after the export: the signature covers it`);
  if (problems.length > 0) return failSigned(problems);
  checks.push('every figure and citation matches its signed digest');
  if (ex.format !== 'json') {
    const diff = firstDifference(text, renderSummary(doc, ex.format));
    if (diff && doc.summary.tool.version !== TOOL_VERSION) {
      // Another version may render the same signed data in other words: that is not an edit, and cannot be told from one.
      return failSigned([
        `line ${diff.line} of the visible text differs from what this version (${TOOL_VERSION}) renders from the signed data, and the file was exported by Outcome Ledger ${doc.summary.tool.version}, which may word it differently: check the visible text with version ${doc.summary.tool.version} (the signed figures and citations themselves hold)`,
      ]);
    }
    if (diff) {
      return failSigned([
        `line ${diff.line} of the visible text was changed after the export: it reads ${JSON.stringify(clip(diff.found))}, the signed data renders ${JSON.stringify(clip(diff.expected))}`,
      ]);
    }
    checks.push(`the visible ${ex.format === 'md' ? 'Markdown' : 'HTML'} is exactly what the signed data renders`);
  }
  const wrong = inconsistencies(doc.summary);
  if (wrong.length > 0) {
    return failSigned([
      'the figures do not add up from the records the file carries (the signature holds, but whoever holds the key signed figures that disagree with each other)',
      ...wrong,
    ]);
  }
  checks.push(
    'every headline figure adds up from the records the file carries (tools, models, weeks, sessions, cited outcomes and tasks)',
  );
  return { format: ex.format, doc, checks, notChecked };
}

/** With a ledger, a checked summary's figures recomputed for the same period and settings and compared, figure by figure. */
export function checkAgainstLedger(
  checked: CheckedSummary,
  ledger?: { db: Database; ledgerFile?: string; env?: NodeJS.ProcessEnv },
): Verdict {
  const { format, doc, checks, notChecked } = checked;
  const failSigned = (problems: string[]): Verdict =>
    verdict({ ok: false, format, doc, checks, problems, signed: true });
  if (ledger) {
    const s = doc.summary;
    const again = summaryOf(ledger.db, {
      since: s.period.since,
      until: s.period.until,
      timeZone: s.period.timezone,
      redact: s.redacted,
      threshold: s.settings.threshold,
      durabilityDays: s.settings.durabilityDays,
      now: Date.parse(s.generatedAt),
      ...(s.settings.identities ? { identities: s.settings.identities } : {}),
      plan: planOfSummary(s),
      env: ledger.env,
      ledgerFile: ledger.ledgerFile,
    });
    const diffs = figureDifferences(s, again);
    if (diffs.length > 0) {
      const records =
        again.records.digest === s.records.digest
          ? 'the ledger holds the same records, so the figures were computed differently'
          : `the ledger's records for the period differ from those the summary was computed from (${again.records.interactions} requests and ${again.records.links} counted links now; the summary says ${s.records.interactions} and ${s.records.links})`;
      return failSigned([`the figures do not match the local ledger: ${records}`, ...diffs]);
    }
    checks.push(`every figure matches the local ledger (records digest ${s.records.digest.slice(0, 16)}…)`);
  }
  notChecked.push(CLAIM.cannot);
  return verdict({ ok: true, format, doc, checks, problems: [], notChecked, signed: true });
}

function normalFingerprint(v: string): string {
  return v
    .trim()
    .toLowerCase()
    .replace(/^sha256:/, '')
    .replace(/:/g, '');
}

function clip(v: string): string {
  return v.length > 160 ? `${v.slice(0, 157)}…` : v;
}

/** The plan a summary was amortised with, to recompute it from the ledger (an unknown plan: none, so the figures differ). */
function planOfSummary(s: Summary): Plan | null {
  if (!s.planCost) return null;
  try {
    return planOf(s.planCost.plan, s.planCost.monthlyUsd);
  } catch (e) {
    if (e instanceof PlanError) return null;
    throw e;
  }
}
