/**
 * Renders a signed summary document as Markdown, HTML or JSON, and reads the signed document back out of a file
 * (pure). Markdown and HTML carry the signed document itself (canonical JSON in an HTML comment / a
 * `<script type="application/json">` block), and rendering is deterministic: `verify` renders the document again and
 * compares it with the file, so editing a visible figure is caught even though the signature covers the data.
 *
 * Numbers are formatted by hand (no toLocaleString): the same bytes on every machine, in every locale.
 */
import { canonicalJson } from '../common/canonical';
import { noun } from '../usage/format';
import { int, usd } from './numbers';
import type { Summary, SummaryCommit, SummaryDocument, SummarySetAside, SummaryTask } from './schema';
import { lineText, terminalText } from '../common/text';

const SUMMARY_FORMATS = ['md', 'html', 'json'] as const;
export type SummaryFormat = (typeof SUMMARY_FORMATS)[number];

export function isSummaryFormat(v: string): v is SummaryFormat {
  return (SUMMARY_FORMATS as readonly string[]).includes(v);
}

const MD_OPEN =
  '<!-- outcome-ledger-summary: the signed data this file was rendered from (verify compares every line with it)';
const MD_CLOSE = '-->';
const HTML_ID = 'outcome-ledger-summary';

export function renderSummary(doc: SummaryDocument, format: SummaryFormat): string {
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  return format === 'md' ? renderMarkdown(doc) : renderHtml(doc);
}

/** Canonical JSON that can sit inside an HTML comment or a script element: `<`, `>` and `&` escaped (still JSON). */
function embedded(doc: SummaryDocument): string {
  return canonicalJson(doc).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export type Extracted = { ok: true; format: SummaryFormat; value: unknown } | { ok: false; reason: string };

/** Finds the signed document in a summary file of any format. */
export function extractDocument(text: string): Extracted {
  const body = text.replace(/^\uFEFF/, '');
  const trimmed = body.trimStart();
  const parse = (json: string, format: SummaryFormat): Extracted => {
    try {
      return { ok: true, format, value: JSON.parse(json) as unknown };
    } catch (e) {
      return {
        ok: false,
        reason: `the signed data in this ${format === 'json' ? 'JSON' : format === 'md' ? 'Markdown' : 'HTML'} file is not valid JSON (${(e as Error).message})`,
      };
    }
  };
  if (trimmed.startsWith('{')) return parse(trimmed, 'json');
  if (/^<!doctype html/i.test(trimmed) || /^<html[\s>]/i.test(trimmed)) {
    const m = /<script type="application\/json" id="outcome-ledger-summary">([^<]*)<\/script>/.exec(body);
    if (!m) {
      if (body.includes('<script type="application/json" id="outcome-ledger-summary">'))
        return {
          ok: false,
          reason:
            'the signed data block of this HTML file is cut off (the file is incomplete: export or copy it again)',
        };
      if (!/<\/html>\s*$/i.test(body))
        return {
          ok: false,
          reason:
            'this HTML file is cut off before its signed data block (the file is incomplete: export or copy it again)',
        };
      return {
        ok: false,
        reason:
          'this HTML file carries no signed Outcome Ledger data (the <script type="application/json" id="outcome-ledger-summary"> block is missing)',
      };
    }
    return parse(m[1] as string, 'html');
  }
  const start = body.lastIndexOf(MD_OPEN);
  if (start < 0)
    return {
      ok: false,
      reason:
        'this file carries no signed Outcome Ledger data (expected a JSON summary, or Markdown/HTML exported by `outcome-ledger summary`)',
    };
  const end = body.indexOf(MD_CLOSE, start + MD_OPEN.length);
  if (end < 0)
    return {
      ok: false,
      reason:
        'the signed data block at the end of this Markdown file is cut off (the file is incomplete: export or copy it again)',
    };
  return parse(body.slice(start + MD_OPEN.length, end).trim(), 'md');
}

/** The first line where a file differs from what its signed data renders to (line endings normalised). */
export function firstDifference(
  actual: string,
  expected: string,
): { line: number; found: string; expected: string } | null {
  const a = actual.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  if (a === expected) return null;
  const al = a.split('\n');
  const el = expected.split('\n');
  for (let i = 0; i < Math.max(al.length, el.length); i++) {
    if (al[i] !== el[i]) return { line: i + 1, found: al[i] ?? '(end of file)', expected: el[i] ?? '(end of file)' };
  }
  return { line: al.length, found: '', expected: '' };
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting (deterministic)

/** An estimated cost: the ≈ says it is one. */
function est(v: number | null): string {
  return v === null ? '—' : `≈ ${usd(v)}`;
}

function pct(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}

/** `1 session`, `3 sessions`. */
function count(n: number, word: string): string {
  return `${int(n)} ${noun(Math.round(n), word)}`;
}

/** A token count, marked ≈ when some of it was estimated rather than reported by the tool. */
function tokensText(n: number, a: { estimatedTokens?: number }): string {
  return a.estimatedTokens && n > 0 ? `≈ ${int(n)}` : int(n);
}

function maybeInt(v: number | null): string {
  return v === null ? '—' : int(v);
}

/** The weekly table: per commit and per task, tokens and estimated cost share a cell (the table fits a printed page). */
const TREND_HEAD = [
  'Week',
  'Tokens',
  'Est. cost',
  'Outcomes',
  'Tasks',
  'Yield',
  'Per commit: tokens · cost',
  'Per task: tokens · cost',
  'Without outcome',
];

function perText(tokens: number | null, cost: number | null, a: { estimatedTokens?: number }): string {
  return tokens === null ? '—' : `${tokensText(tokens, a)} · ${est(cost)}`;
}

/** The same in HTML: tokens above the cost, so the table fits a printed page. */
function perHtml(tokens: number | null, cost: number | null, a: { estimatedTokens?: number }): string {
  return tokens === null ? '—' : `${esc(tokensText(tokens, a))}<br>${esc(est(cost))}`;
}

function maybeTokens(v: number | null, a: { estimatedTokens?: number }): string {
  return v === null ? '—' : tokensText(v, a);
}

function share(part: number, whole: number): string {
  return whole > 0 ? pct(part / whole) : '—';
}

function dateTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** `claude-code:5f0c1a2b` for a session id (the tool and the first 8 characters of its own id). */
function shortSession(id: string, length = 8): string {
  const i = id.indexOf(':');
  return i < 0 ? id.slice(0, length) : `${id.slice(0, i)}:${id.slice(i + 1, i + 1 + length)}`;
}

/**
 * Short names for the sessions a summary cites: the tool and the first 8 characters of its own id, longer where two
 * cited sessions of one tool would otherwise read the same (Codex ids begin with the time, some ids share a prefix).
 */
export function sessionNamer(s: Summary): (id: string) => string {
  const ids = new Set<string>();
  for (const t of s.tasks) {
    for (const id of t.citedSessions) ids.add(id);
    for (const o of t.outcomes) for (const id of o.sessions) ids.add(id);
  }
  for (const g of s.withoutOutcome.groups) for (const id of g.sessionIds) ids.add(id);
  const bySource = new Map<string, string[]>();
  for (const id of ids) {
    const source = id.slice(0, Math.max(0, id.indexOf(':')));
    // Added to in place: a copy per id made a year of heavy use (47,000 sessions) take 43 s to render.
    const list = bySource.get(source);
    if (list) list.push(id);
    else bySource.set(source, [id]);
  }
  const lengths = new Map<string, number>();
  for (const [source, list] of bySource) {
    let length = 8;
    let longest = 0;
    for (const id of list) longest = Math.max(longest, id.length);
    while (length < longest && new Set(list.map((id) => shortSession(id, length))).size < list.length) length++;
    lengths.set(source, length);
  }
  return (id) => shortSession(id, lengths.get(id.slice(0, Math.max(0, id.indexOf(':')))) ?? 8);
}

const EVIDENCE_WORDS: Record<string, string> = {
  branch: 'branch',
  files: 'edited files',
  time: 'time',
  trailer: 'commit trailer',
  'codex-git': 'recorded git state',
  task: 'task key',
  author: 'author',
  successor: 'squash/rebase',
  manual: 'confirmed by the engineer',
};

function evidenceText(kinds: readonly string[]): string {
  return kinds.map((k) => EVIDENCE_WORDS[k] ?? k).join(', ') || 'none recorded';
}

const STATUS_WORDS: Record<string, string> = {
  unlinked: 'Unlinked (no commit found, not labelled)',
  exploration: 'Exploration',
  learning: 'Learning',
  review: 'Review',
  abandoned: 'Abandoned',
};

function taskTitle(t: SummaryTask): string {
  return t.task === null ? 'Outcomes without a task key' : t.task;
}

function periodTitle(s: Summary): string {
  return `${s.period.since} – ${s.period.until}`;
}

function redactionText(s: Summary): string {
  const r = [s.redacted.repos ? 'repository names' : '', s.redacted.subjects ? 'commit subjects' : ''].filter(Boolean);
  return r.length ? `${r.join(' and ')} redacted` : 'nothing redacted';
}

/** Visible text cites 7 characters of a sha (the signed data holds the full one). */
function shaText(c: Pick<SummaryCommit, 'sha'>): string {
  return c.sha.slice(0, 7);
}

const NOT_COUNTED_WORDS: Record<SummarySetAside['reason'], string> = {
  others: 'assisted, authored by someone else',
  reverted: 'reverted later',
  unmerged: 'not merged into the default branch',
};

/** The "not counted" line of the glance, when the file says (summaries since issue 14). */
function notCountedNote(o: Summary['outcomes']): string | null {
  if (o.reverted === undefined && o.unmerged === undefined && o.authoredByOthers === undefined) return null;
  return `${int(o.reverted ?? 0)} reverted · ${int(o.unmerged ?? 0)} not merged · ${int(o.authoredByOthers ?? 0)} authored by someone else (assisted)`;
}

/** Rows of the "linked but not counted" table: commit, repository, subject, why, author, sessions. */
function notCountedRows(
  s: Summary,
  cell: (v: string) => string,
  code: (v: string) => string,
  sid: (id: string) => string,
): string[][] {
  return (s.notCounted ?? []).map((c) => [
    `${code(shaText(c))} ${cell(c.committed)}`,
    cell(c.repo),
    c.subject === null ? '(redacted)' : cell(c.subject),
    cell(NOT_COUNTED_WORDS[c.reason]),
    cell(c.author ?? '—'),
    c.sessions.map((id) => code(sid(id))).join(', '),
  ]);
}

const NOT_COUNTED_HEAD = ['Commit', 'Repository', 'Subject', 'Not counted because', 'Author', 'Sessions'];
const NOT_COUNTED_TEXT =
  "Commits these sessions helped with that are not the engineer's outcomes: reverted later, never merged into the default branch, or authored by someone else. They are in no figure above.";

interface Glance {
  label: string;
  value: string;
  /** Qualifies the value (a median, a share, what is pending). */
  note?: string;
}

function glance(s: Summary): Glance[] {
  const o = s.outcomes;
  const t = s.totals;
  // Per-commit and per-task tokens come from the tasks' sessions: marked when any delivered task has estimated tokens.
  const perTask = { estimatedTokens: s.tasks.reduce((a, x) => a + (x.delivered ? (x.estimatedTokens ?? 0) : 0), 0) };
  return [
    { label: 'Outcomes (commits; a squash or rebase counted once)', value: int(o.commits) },
    { label: 'Tasks delivered', value: int(o.tasks) },
    { label: 'Pull requests', value: int(o.prs) },
    {
      label: 'Sessions',
      value: int(t.sessions),
      note: `${int(o.shippedSessions)} shipped · ${int(o.openSessions)} open · ${int(o.unlinkedSessions)} unlinked · ${int(o.labelledSessions)} labelled`,
    },
    {
      label: 'Tokens',
      value: tokensText(t.total, t),
      ...(t.estimatedTokens ? { note: `${int(t.estimatedTokens)} of them estimated, not reported by their tool` } : {}),
    },
    { label: 'Estimated cost', value: est(t.costUSD), note: `list-price estimate, price table ${s.pricing.version}` },
    ...(s.planCost
      ? [
          {
            label: 'Plan cost (amortised)',
            value: usd(s.planCost.periodUsd),
            note: `${s.planCost.label} at ${usd(s.planCost.monthlyUsd)}/month over ${int(s.planCost.days)} days${s.planCost.perCommit !== null ? ` · ${usd(s.planCost.perCommit)} per commit` : ''}${s.planCost.perTask !== null ? ` · ${usd(s.planCost.perTask)} per task` : ''}; what the engineer pays, beside the list-price estimate`,
          },
        ]
      : []),
    { label: 'Yield', value: pct(o.yield), note: 'share of tokens in sessions that shipped' },
    {
      label: 'Tokens per commit',
      value: maybeTokens(o.tokensPerCommit, perTask),
      note: `median ${maybeTokens(o.tokensPerCommitMedian, perTask)}`,
    },
    { label: 'Cost per commit', value: est(o.costPerCommit), note: `median ${est(o.costPerCommitMedian)}` },
    {
      label: 'Tokens per task',
      value: maybeTokens(o.tokensPerTask, perTask),
      note: `median ${maybeTokens(o.tokensPerTaskMedian, perTask)}`,
    },
    { label: 'Cost per task', value: est(o.costPerTask), note: `median ${est(o.costPerTaskMedian)}` },
    {
      label: `Kept lines after ${s.settings.durabilityDays} days`,
      value: int(o.keptLines),
      note: `${o.keptLinesPer1kOutput === null ? '—' : o.keptLinesPer1kOutput.toFixed(2)} per 1k output tokens; ${count(o.pendingCommits, 'outcome')} pending`,
    },
    {
      label: 'Tokens without outcome',
      value: tokensText(o.tokensWithoutOutcome, s.withoutOutcome),
      note: `${share(o.tokensWithoutOutcome, t.total)} of all tokens`,
    },
    ...(notCountedNote(o) === null
      ? []
      : [
          {
            label: 'Linked commits not counted',
            value: int((o.reverted ?? 0) + (o.unmerged ?? 0) + (o.authoredByOthers ?? 0)),
            note: notCountedNote(o) as string,
          },
        ]),
  ];
}

function methodology(s: Summary): Array<{ title: string; text: string }> {
  return [
    {
      title: 'What a token is',
      text: 'A token is the unit AI models read and write, roughly three quarters of an English word. Each request the assistant made counts its new input, cached input read, cache writes and output (reasoning included), exactly as the tools logged them on this machine. Nothing here is sampled or modelled.',
    },
    {
      title: 'What counts as an outcome, and how links are found',
      text: `An outcome is a commit a session produced. Outcome Ledger links each session to commits by evidence it can show: the branch the session worked on, files the assistant edited that the commit touched, the commit following the session in time, commit trailers such as "Co-authored-by: Claude", the git state Codex recorded, and the engineer's own confirmations. A link counts when its confidence is at least ${s.settings.threshold} or the engineer confirmed it; a rejected link never counts. Only the engineer's own commits count: authored with one of their git identities${s.settings.identities ? ` (${s.settings.identities.join(', ') || 'none found'})` : ''}, or naming them in a Co-authored-by trailer; a commit reverted later, one never merged into the default branch, and a revert itself are not outcomes and are listed apart. A squash or rebase of the same work is one outcome. Tasks are issue keys (ABC-123, #123, GH-123) in branch names and commit messages; pull requests come from merge and squash subjects. Every outcome below names the sessions it rests on and the kinds of evidence of their links.`,
    },
    {
      title: 'Why volume is not value',
      text: 'More tokens for the same outcomes make every figure here worse: yield, tokens and cost per commit and per task. Tokens without an outcome are shown beside everything else, including the sessions the engineer labelled as exploration, learning, review or abandoned: labels are honest categories, not a way to hide tokens. There is no composite score.',
    },
    {
      title: 'Kept lines',
      text: `Lines that linked commits added and that are still present at HEAD (git blame) once the commit is ${s.settings.durabilityDays} days old; younger outcomes are pending. A session that ended less than ${s.settings.openWindowHours} hours before the export is open: it may still lead to a commit.`,
    },
    {
      title: 'What the cost estimate is based on',
      text: `List prices per model from the price table ${s.pricing.version} embedded in Outcome Ledger (input, output, cache write, cache read). It is an estimate of what the tokens would cost at list price, not an invoice. ${s.pricing.note}`,
    },
  ];
}

/** How the signature is named to a reader: the built-in Ed25519 key, or the engineer's git SSH signing key. */
function signatureName(doc: Pick<SummaryDocument, 'signature'>): string {
  return doc.signature.algorithm === 'ssh'
    ? `SSH (the engineer's git signing key, ssh-keygen -Y, namespace ${doc.signature.namespace})`
    : "Ed25519 (Outcome Ledger's signing key)";
}

function integrityText(doc: SummaryDocument): { proves: string; repository: string; cannot: string; how: string[] } {
  const claim = doc.summary.claim;
  return {
    proves: claim.signature,
    repository: claim.repository,
    cannot: claim.cannot,
    how: [
      `npx outcome-ledger verify ${'<this file>'} --key ${doc.signature.fingerprint}   # the fingerprint the engineer publishes`,
      `npx outcome-ledger verify ${'<this file>'} --key ${doc.signature.fingerprint} --repo <a clone of each repository>`,
      `npx outcome-ledger verify ${'<this file>'} --ledger   # on the engineer's machine: recompute every figure from the ledger`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

/** A string in Markdown: one line, controls and bidi characters neutralised (core/common/text.ts), markup escaped. */
function mdCell(v: string): string {
  return lineText(v.replace(/\r?\n|\t/g, ' ')).replace(/[\\`*_[\]<>|#]/g, (c) => `\\${c}`);
}

function mdTable(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

function renderMarkdown(doc: SummaryDocument): string {
  const s = doc.summary;
  const sid = sessionNamer(s);
  const out: string[] = [];
  out.push(`# Outcome summary: ${periodTitle(s)}`, '');
  out.push(
    `Outcome Ledger ${mdCell(s.tool.version)} · exported ${dateTime(s.generatedAt)} · ${s.period.days} days in ${mdCell(s.period.timezone)} · ${redactionText(s)} · signed by ${doc.signature.fingerprint}`,
    '',
  );
  out.push('## At a glance', '');
  out.push(
    ...mdTable(
      ['Figure', 'Value'],
      glance(s).map((g) => [mdCell(g.label), g.note ? `${g.value} (${mdCell(g.note)})` : g.value]),
    ),
    '',
  );
  out.push(
    `Figures marked ≈ are estimates: costs at list price (price table ${mdCell(s.pricing.version)})${s.totals.estimatedTokens ? ', and token figures that include tokens estimated rather than reported by their tool' : ''}.`,
    '',
  );

  out.push('## Outcomes by task', '');
  if (s.tasks.length === 0) out.push('No commit was linked to a session in this period.', '');
  for (const t of s.tasks) {
    out.push(`### ${mdCell(taskTitle(t))}${t.delivered ? '' : ' (not delivered in this period)'}`, '');
    out.push(
      `${t.estimatedTokens ? '≈ ' : ''}${count(t.tokens, 'token')} · ${est(t.costUSD)} · ${count(t.sessions, 'session')} · ${count(t.commits, 'outcome')} · kept lines ${int(t.keptLines)}${t.pendingCommits ? ` (${int(t.pendingCommits)} pending)` : ''}`,
      '',
    );
    out.push(`Tools: ${mdCell(t.sources.join(', ') || '—')} · models: ${mdCell(t.models.join(', ') || '—')}`, '');
    if (t.outcomes.length > 0) {
      out.push(
        ...mdTable(
          ['Commits', 'Repository', 'Subject', 'PR', 'Kept lines', 'Sessions (evidence)'],
          t.outcomes.map((o) => [
            o.commits.map((c) => `\`${shaText(c)}\` ${c.committed}${c.coAuthored ? ' (co-authored)' : ''}`).join(' → '),
            mdCell([...new Set(o.commits.map((c) => c.repo))].join(', ')),
            o.commits.map((c) => (c.subject === null ? '(redacted)' : mdCell(c.subject))).join(' → '),
            [...new Set(o.commits.map((c) => c.pr).filter((p): p is number => p !== null))]
              .map((p) => `#${p}`)
              .join(', ') || '—',
            o.pending ? 'pending' : maybeInt(o.keptLines),
            `${o.sessions.map((id) => `\`${sid(id)}\``).join(', ')} (${evidenceText(o.evidence)})`,
          ]),
        ),
        '',
      );
    }
    out.push(`Sessions cited: ${t.citedSessions.map((id) => `\`${sid(id)}\``).join(', ') || '—'}`, '');
  }

  if ((s.notCounted ?? []).length > 0) {
    out.push('## Linked but not counted', '', NOT_COUNTED_TEXT, '');
    out.push(
      ...mdTable(
        NOT_COUNTED_HEAD,
        notCountedRows(s, mdCell, (v) => `\`${v}\``, sid),
      ),
      '',
    );
  }

  out.push('## Efficiency over the period', '');
  out.push(
    ...mdTable(
      TREND_HEAD,
      s.trend.map((w) => [
        `${w.since} – ${w.until}`,
        tokensText(w.tokens, w),
        est(w.costUSD),
        int(w.commits),
        maybeInt(w.tasks ?? null),
        pct(w.yield),
        perText(w.tokensPerCommit, w.costPerCommit, w),
        perText(w.tokensPerTask ?? null, w.costPerTask ?? null, w),
        tokensText(w.tokensWithoutOutcome, w),
      ]),
    ),
    '',
  );

  out.push('## Tokens without an outcome', '');
  out.push(
    `${tokensText(s.withoutOutcome.tokens, s.withoutOutcome)} tokens (${share(s.withoutOutcome.tokens, s.totals.total)} of all, ${est(s.withoutOutcome.costUSD)}) went into sessions with no counted commit. The engineer's labels say what they were; labelled tokens still count here.`,
    '',
  );
  if (s.withoutOutcome.groups.length > 0) {
    out.push(
      ...mdTable(
        ['Status', 'Sessions', 'Tokens', 'Share of all tokens', 'Est. cost'],
        s.withoutOutcome.groups.map((g) => [
          STATUS_WORDS[g.status] ?? g.status,
          int(g.sessions),
          tokensText(g.tokens, g),
          share(g.tokens, s.totals.total),
          est(g.costUSD),
        ]),
      ),
      '',
    );
    for (const g of s.withoutOutcome.groups)
      out.push(`- ${STATUS_WORDS[g.status] ?? g.status}: ${g.sessionIds.map((id) => `\`${sid(id)}\``).join(', ')}`);
    out.push('');
  }
  if (s.withoutOutcome.open.sessions > 0)
    out.push(
      `Open (may still lead to a commit): ${count(s.withoutOutcome.open.sessions, 'session')}, ${s.withoutOutcome.open.estimatedTokens ? '≈ ' : ''}${count(s.withoutOutcome.open.tokens, 'token')}, ${est(s.withoutOutcome.open.costUSD)}.`,
      '',
    );

  out.push('## Tools and models', '');
  if (s.byModel.length === 0) out.push('No AI requests were recorded in this period.', '');
  else
    out.push(
      ...mdTable(
        ['Tool', 'Model', 'Requests', 'Tokens', 'Output', 'Est. cost'],
        s.byModel.map((m) => [
          mdCell(m.source),
          mdCell(m.model) + (m.priced ? '' : ' (not in the price table)'),
          int(m.interactions),
          tokensText(m.total, m),
          tokensText(m.output, m),
          m.priced ? est(m.costUSD) : '—',
        ]),
      ),
      '',
    );

  out.push('## Methodology', '');
  for (const m of methodology(s)) out.push(`**${m.title}.** ${mdCell(m.text)}`, '');

  out.push('## Coverage and limits', '');
  out.push(
    ...mdTable(
      ['Source', 'First record', 'Last record', 'Log files', 'Rejected lines'],
      s.coverage.sources.map((c) => [
        mdCell(c.source),
        c.first ? dateTime(c.first) : '—',
        c.last ? dateTime(c.last) : '—',
        int(c.files),
        int(c.rejectedLines),
      ]),
    ),
    '',
  );
  for (const g of s.coverage.gaps) out.push(`- Gap: ${mdCell(g)}`);
  for (const e of s.coverage.estimates) out.push(`- Estimate: ${mdCell(e)}`);
  out.push(
    '- Only tools whose logs Outcome Ledger reads are included; AI use elsewhere (web chats, other tools) is not in these figures.',
    '',
  );

  const it = integrityText(doc);
  out.push('## Integrity', '');
  out.push(
    `- Records digest (${s.records.algorithm} over the canonical ledger records the figures came from: ${int(s.records.interactions)} requests in ${int(s.records.sessions)} sessions, ${int(s.records.links)} counted links, ${int(s.records.commits)} commits): \`${s.records.digest}\``,
  );
  out.push(
    `- Signature: ${signatureName(doc)}, key fingerprint \`${doc.signature.fingerprint}\`, public key \`${doc.signature.publicKey}\``,
  );
  out.push(`- What it proves: ${mdCell(it.proves)}`);
  out.push(`- What the repositories add: ${mdCell(it.repository)}`);
  out.push(`- What nothing can prove: ${mdCell(it.cannot)}`, '');
  out.push('How to verify:', '', '```sh', ...it.how, '```', '');
  out.push(MD_OPEN, embedded(doc), MD_CLOSE, '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// HTML: one self-contained file (inline CSS and SVG, no script, no external resource), prints cleanly.

function esc(v: string): string {
  return terminalText(v).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

function htmlTable(
  head: string[],
  rows: string[][],
  caption?: string,
  numeric: readonly number[] = [],
  className?: string,
): string {
  const cls = (i: number): string => (numeric.includes(i) ? ' class="num"' : '');
  return [
    className ? `<table class="${className}">` : '<table>',
    caption ? `<caption>${esc(caption)}</caption>` : '',
    `<thead><tr>${head.map((h, i) => `<th scope="col"${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ]
    .filter(Boolean)
    .join('\n');
}

/** The frame both weekly bar charts share: 640 wide, `n` bars, values 0..max mapped to y, and each bar's left edge. */
function barFrame(
  n: number,
  h: number,
  max: number,
): {
  w: number;
  pad: { l: number; r: number; t: number; b: number };
  bar: number;
  y: (v: number) => number;
  x: (i: number) => number;
} {
  const w = 640;
  const pad = { l: 56, r: 12, t: 22, b: 34 };
  const band = (w - pad.l - pad.r) / n;
  const bar = Math.max(4, band * 0.6);
  return {
    w,
    pad,
    bar,
    y: (v) => pad.t + (h - pad.t - pad.b) * (1 - v / max),
    x: (i) => pad.l + i * band + (band - bar) / 2,
  };
}

/** Weekly tokens, shipped part dark, the rest light; the yield above each bar. */
function trendChart(s: Summary): string {
  const weeks = s.trend;
  if (weeks.length === 0) return '';
  const h = 200;
  const max = Math.max(1, ...weeks.map((x) => x.tokens));
  const { w, pad, bar, y, x: left } = barFrame(weeks.length, h, max);
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-labelledby="trend-title" xmlns="http://www.w3.org/2000/svg">`,
  );
  parts.push(
    '<title id="trend-title">Tokens per week: the dark part went into sessions that shipped; the yield is written above each bar</title>',
  );
  parts.push(`<line class="axis" x1="${pad.l}" y1="${y(0).toFixed(1)}" x2="${w - pad.r}" y2="${y(0).toFixed(1)}"/>`);
  parts.push(
    `<text class="tick" x="${pad.l - 6}" y="${(y(max) + 4).toFixed(1)}" text-anchor="end">${esc(compact(max))}</text>`,
  );
  parts.push(`<text class="tick" x="${pad.l - 6}" y="${(y(0) + 4).toFixed(1)}" text-anchor="end">0</text>`);
  weeks.forEach((wk, i) => {
    const x = left(i);
    const shipped = wk.yield === null ? 0 : wk.tokens * wk.yield;
    parts.push(
      `<rect class="rest" x="${x.toFixed(1)}" y="${y(wk.tokens).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(0) - y(wk.tokens)).toFixed(1)}"><title>${esc(`${wk.since} – ${wk.until}: ${int(wk.tokens)} tokens`)}</title></rect>`,
    );
    parts.push(
      `<rect class="shipped" x="${x.toFixed(1)}" y="${y(shipped).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(0) - y(shipped)).toFixed(1)}"><title>${esc(`${int(shipped)} tokens in shipped sessions (${pct(wk.yield)})`)}</title></rect>`,
    );
    parts.push(
      `<text class="label" x="${(x + bar / 2).toFixed(1)}" y="${(y(wk.tokens) - 5).toFixed(1)}" text-anchor="middle">${esc(pct(wk.yield))}</text>`,
    );
    parts.push(
      `<text class="tick" x="${(x + bar / 2).toFixed(1)}" y="${(h - pad.b + 16).toFixed(1)}" text-anchor="middle">${esc(wk.since.slice(5))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Estimated cost per commit per week (a week without outcomes has no bar). */
function costChart(s: Summary): string {
  const weeks = s.trend;
  if (!weeks.some((x) => x.costPerCommit !== null)) return '';
  const h = 160;
  const max = Math.max(0.0001, ...weeks.map((x) => x.costPerCommit ?? 0));
  const { w, pad, bar, y, x: left } = barFrame(weeks.length, h, max);
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-labelledby="cost-title" xmlns="http://www.w3.org/2000/svg">`,
  );
  parts.push('<title id="cost-title">Estimated cost per commit, per week (lower is better)</title>');
  parts.push(`<line class="axis" x1="${pad.l}" y1="${y(0).toFixed(1)}" x2="${w - pad.r}" y2="${y(0).toFixed(1)}"/>`);
  parts.push(
    `<text class="tick" x="${pad.l - 6}" y="${(y(max) + 4).toFixed(1)}" text-anchor="end">${esc(usd(max))}</text>`,
  );
  weeks.forEach((wk, i) => {
    const x = left(i);
    parts.push(
      `<text class="tick" x="${(x + bar / 2).toFixed(1)}" y="${(h - pad.b + 16).toFixed(1)}" text-anchor="middle">${esc(wk.since.slice(5))}</text>`,
    );
    if (wk.costPerCommit === null) return;
    parts.push(
      `<rect class="cost" x="${x.toFixed(1)}" y="${y(wk.costPerCommit).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(0) - y(wk.costPerCommit)).toFixed(1)}"><title>${esc(`${wk.since} – ${wk.until}: ${est(wk.costPerCommit)} per commit`)}</title></rect>`,
    );
    parts.push(
      `<text class="label" x="${(x + bar / 2).toFixed(1)}" y="${(y(wk.costPerCommit) - 5).toFixed(1)}" text-anchor="middle">${esc(usd(wk.costPerCommit))}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function compact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return int(n);
}

const CSS = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5b6472; --bg: #ffffff; --line: #d8dde5; --soft: #f3f5f8; --accent: #1f6feb; --accent-soft: #b9cff5; --cost: #8250df; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ef; --muted: #9aa4b2; --bg: #14171c; --line: #2e3541; --soft: #1c2129; --accent: #5b9dff; --accent-soft: #2c4670; --cost: #b392f0; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 60rem; padding: 2rem 1.5rem 3rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 1.7rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .3rem; }
.meta, .muted { color: var(--muted); }
.glance { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .6rem; margin: 0; }
.glance div { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .55rem .7rem; }
.glance dt { font-size: .8rem; color: var(--muted); }
.glance dd { margin: .15rem 0 0; font-size: 1.15rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.glance dd small { display: block; font-size: .78rem; font-weight: 400; color: var(--muted); }
table.outcomes td:first-child { white-space: nowrap; }
.chart-caption { margin: 1rem 0 0; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
caption { text-align: left; color: var(--muted); padding-bottom: .3rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { font-weight: 600; background: var(--soft); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.num { white-space: normal; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; overflow-wrap: anywhere; }
.chart { width: 100%; height: auto; max-width: 40rem; display: block; margin: .5rem 0; }
.chart .axis { stroke: var(--line); }
.chart .tick, .chart .label { font-size: 11px; fill: var(--muted); }
.chart .rest { fill: var(--accent-soft); }
.chart .shipped { fill: var(--accent); }
.chart .cost { fill: var(--cost); }
.legend span { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px; margin: 0 .3rem 0 .8rem; }
.legend .l-shipped { background: var(--accent); } .legend .l-rest { background: var(--accent-soft); }
.integrity { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .2rem 1rem; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; overflow-x: auto; }
@media print {
  :root { --fg: #000; --muted: #444; --bg: #fff; --line: #bbb; --soft: #f4f4f4; --accent: #1f4fbf; --accent-soft: #b8c8ea; --cost: #6a3fc0; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  th, td { padding: .25rem .3rem; }
  h2 { break-after: avoid; } h3 { break-after: avoid; }
  table, .chart, .glance div, .integrity { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 16mm 14mm; }
`;

function renderHtml(doc: SummaryDocument): string {
  const s = doc.summary;
  const sid = sessionNamer(s);
  const out: string[] = [];
  out.push('<!DOCTYPE html>');
  out.push('<html lang="en">');
  out.push('<head>');
  out.push('<meta charset="utf-8">');
  // Nothing may load: no script runs, no image, font or stylesheet is fetched, the page cannot be framed into a form.
  out.push(
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">`,
  );
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push(`<title>Outcome summary ${esc(periodTitle(s))}</title>`);
  out.push(`<style>${CSS}</style>`);
  out.push('</head>');
  out.push('<body>');
  out.push(`<h1>Outcome summary: ${esc(periodTitle(s))}</h1>`);
  out.push(
    `<p class="meta">Outcome Ledger ${esc(s.tool.version)} · exported ${esc(dateTime(s.generatedAt))} · ${s.period.days} days in ${esc(s.period.timezone)} · ${esc(redactionText(s))} · signed by <code>${esc(doc.signature.fingerprint)}</code></p>`,
  );

  out.push('<h2>At a glance</h2>');
  out.push(
    `<dl class="glance">${glance(s)
      .map(
        (g) =>
          `<div><dt>${esc(g.label)}</dt><dd>${esc(g.value)}${g.note ? `<small>${esc(g.note)}</small>` : ''}</dd></div>`,
      )
      .join('\n')}</dl>`,
  );
  out.push(
    `<p class="muted">Figures marked ≈ are estimates: costs at list price (price table ${esc(s.pricing.version)})${s.totals.estimatedTokens ? ', and token figures that include tokens estimated rather than reported by their tool' : ''}.</p>`,
  );

  out.push('<h2>Outcomes by task</h2>');
  if (s.tasks.length === 0) out.push('<p>No commit was linked to a session in this period.</p>');
  for (const t of s.tasks) {
    out.push(
      `<h3>${esc(taskTitle(t))}${t.delivered ? '' : ' <span class="muted">(not delivered in this period)</span>'}</h3>`,
    );
    out.push(
      `<p>${esc(`${t.estimatedTokens ? '≈ ' : ''}${count(t.tokens, 'token')} · ${est(t.costUSD)} · ${count(t.sessions, 'session')} · ${count(t.commits, 'outcome')} · kept lines ${int(t.keptLines)}${t.pendingCommits ? ` (${int(t.pendingCommits)} pending)` : ''}`)}<br><span class="muted">Tools: ${esc(t.sources.join(', ') || '—')} · models: ${esc(t.models.join(', ') || '—')}</span></p>`,
    );
    if (t.outcomes.length > 0) {
      out.push(
        htmlTable(
          ['Commits', 'Repository', 'Subject', 'PR', 'Kept lines', 'Sessions (evidence)'],
          t.outcomes.map((o) => [
            o.commits
              .map((c) => `<code>${esc(shaText(c))}</code> ${esc(c.committed)}${c.coAuthored ? ' (co-authored)' : ''}`)
              .join('<br>→ '),
            esc([...new Set(o.commits.map((c) => c.repo))].join(', ')),
            o.commits
              .map((c) => (c.subject === null ? '<span class="muted">(redacted)</span>' : esc(c.subject)))
              .join(' → '),
            esc(
              [...new Set(o.commits.map((c) => c.pr).filter((p): p is number => p !== null))]
                .map((p) => `#${p}`)
                .join(', ') || '—',
            ),
            esc(o.pending ? 'pending' : maybeInt(o.keptLines)),
            `${o.sessions.map((id) => `<code>${esc(sid(id))}</code>`).join(', ')} <span class="muted">(${esc(evidenceText(o.evidence))})</span>`,
          ]),
          undefined,
          [4],
          'outcomes',
        ),
      );
    }
    out.push(
      `<p class="muted">Sessions cited: ${t.citedSessions.map((id) => `<code>${esc(sid(id))}</code>`).join(', ') || '—'}</p>`,
    );
  }

  if ((s.notCounted ?? []).length > 0) {
    out.push('<h2>Linked but not counted</h2>', `<p>${esc(NOT_COUNTED_TEXT)}</p>`);
    out.push(
      htmlTable(
        NOT_COUNTED_HEAD,
        notCountedRows(s, esc, (v) => `<code>${esc(v)}</code>`, sid),
        undefined,
        [],
        'not-counted',
      ),
    );
  }

  out.push('<h2>Efficiency over the period</h2>');
  out.push('<p class="chart-caption">Tokens per week</p>');
  out.push(trendChart(s));
  out.push(
    '<p class="legend muted"><span class="l-shipped"></span>tokens in sessions that shipped<span class="l-rest"></span>other tokens · the yield above each bar</p>',
  );
  const cost = costChart(s);
  if (cost) out.push('<p class="chart-caption">Estimated cost per commit, per week (lower is better)</p>', cost);
  out.push(
    htmlTable(
      TREND_HEAD,
      s.trend.map((w) => [
        esc(`${w.since} – ${w.until}`),
        tokensText(w.tokens, w),
        esc(est(w.costUSD)),
        int(w.commits),
        maybeInt(w.tasks ?? null),
        pct(w.yield),
        perHtml(w.tokensPerCommit, w.costPerCommit, w),
        perHtml(w.tokensPerTask ?? null, w.costPerTask ?? null, w),
        tokensText(w.tokensWithoutOutcome, w),
      ]),
      'Figures per week (the last week may be shorter)',
      [1, 2, 3, 4, 5, 6, 7, 8],
      'trend',
    ),
  );

  out.push('<h2>Tokens without an outcome</h2>');
  out.push(
    `<p>${esc(`${tokensText(s.withoutOutcome.tokens, s.withoutOutcome)} tokens (${share(s.withoutOutcome.tokens, s.totals.total)} of all, ${est(s.withoutOutcome.costUSD)}) went into sessions with no counted commit. The engineer's labels say what they were; labelled tokens still count here.`)}</p>`,
  );
  if (s.withoutOutcome.groups.length > 0) {
    out.push(
      htmlTable(
        ['Status', 'Sessions', 'Tokens', 'Share of all tokens', 'Est. cost', 'Sessions cited'],
        s.withoutOutcome.groups.map((g) => [
          esc(STATUS_WORDS[g.status] ?? g.status),
          int(g.sessions),
          tokensText(g.tokens, g),
          share(g.tokens, s.totals.total),
          esc(est(g.costUSD)),
          g.sessionIds.map((id) => `<code>${esc(sid(id))}</code>`).join(', '),
        ]),
        undefined,
        [1, 2, 3, 4],
      ),
    );
  }
  if (s.withoutOutcome.open.sessions > 0)
    out.push(
      `<p class="muted">${esc(`Open (may still lead to a commit): ${count(s.withoutOutcome.open.sessions, 'session')}, ${s.withoutOutcome.open.estimatedTokens ? '≈ ' : ''}${count(s.withoutOutcome.open.tokens, 'token')}, ${est(s.withoutOutcome.open.costUSD)}.`)}</p>`,
    );

  out.push('<h2>Tools and models</h2>');
  if (s.byModel.length === 0) out.push('<p>No AI requests were recorded in this period.</p>');
  else
    out.push(
      htmlTable(
        ['Tool', 'Model', 'Requests', 'Tokens', 'Output', 'Est. cost'],
        s.byModel.map((m) => [
          esc(m.source),
          esc(m.model) + (m.priced ? '' : ' <span class="muted">(not in the price table)</span>'),
          int(m.interactions),
          esc(tokensText(m.total, m)),
          esc(tokensText(m.output, m)),
          m.priced ? esc(est(m.costUSD)) : '—',
        ]),
        undefined,
        [2, 3, 4, 5],
      ),
    );

  out.push('<h2>Methodology</h2>');
  for (const m of methodology(s)) out.push(`<p><strong>${esc(m.title)}.</strong> ${esc(m.text)}</p>`);

  out.push('<h2>Coverage and limits</h2>');
  out.push(
    htmlTable(
      ['Source', 'First record', 'Last record', 'Log files', 'Rejected lines'],
      s.coverage.sources.map((c) => [
        esc(c.source),
        esc(c.first ? dateTime(c.first) : '—'),
        esc(c.last ? dateTime(c.last) : '—'),
        int(c.files),
        int(c.rejectedLines),
      ]),
      undefined,
      [3, 4],
    ),
  );
  out.push('<ul>');
  for (const g of s.coverage.gaps) out.push(`<li>Gap: ${esc(g)}</li>`);
  for (const e of s.coverage.estimates) out.push(`<li>Estimate: ${esc(e)}</li>`);
  out.push(
    '<li>Only tools whose logs Outcome Ledger reads are included; AI use elsewhere (web chats, other tools) is not in these figures.</li>',
  );
  out.push('</ul>');

  const it = integrityText(doc);
  out.push('<h2>Integrity</h2>');
  out.push('<div class="integrity">');
  out.push(
    `<p>Records digest (${esc(s.records.algorithm)} over the canonical ledger records the figures came from: ${int(s.records.interactions)} requests in ${int(s.records.sessions)} sessions, ${int(s.records.links)} counted links, ${int(s.records.commits)} commits):<br><code>${esc(s.records.digest)}</code></p>`,
  );
  out.push(
    `<p>Signature: ${esc(signatureName(doc))}, key fingerprint <code>${esc(doc.signature.fingerprint)}</code>, public key <code>${esc(doc.signature.publicKey)}</code></p>`,
  );
  out.push(`<p><strong>What it proves.</strong> ${esc(it.proves)}</p>`);
  out.push(`<p><strong>What the repositories add.</strong> ${esc(it.repository)}</p>`);
  out.push(`<p><strong>What nothing can prove.</strong> ${esc(it.cannot)}</p>`);
  out.push(`<p>How to verify:</p><pre>${it.how.map(esc).join('\n')}</pre>`);
  out.push('</div>');
  out.push(`<script type="application/json" id="${HTML_ID}">${embedded(doc)}</script>`);
  out.push('</body>');
  out.push('</html>');
  out.push('');
  return out.join('\n');
}
