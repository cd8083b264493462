import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { fmtCredits, noun } from '../core/usage/format';
import type { SourceName } from '../core/usage/model';
import { CREDIT_PRICE_USD } from '../core/usage/pricing';
import { isoUtc } from '../core/usage/time';
import { sourceHealth } from '../store/files';
import { getMeta } from '../store/schema';
import { OTLP_META } from '../store/records';
import { FLAG_OTLP } from '../store/schema';
import { projectDirs, READERS, sourceRoots, type ExtraSource } from './importer';
import { readOtelStatus, type OtelStats } from './otel';

/** Every request's session, model and flags: the ledger's rows and the dedup keys of archived ones (store/archive.ts). */
const REQUEST_KEYS = `SELECT session_ref, model_ref, flags FROM interactions UNION ALL SELECT session_ref, model_ref, flags FROM archived_requests`;

export interface SourceHealthReport {
  source: SourceName;
  enabled: boolean;
  found: boolean;
  roots: Array<{ path: string; exists: boolean }>;
  files: number;
  first: string | null;
  last: string | null;
  interactions: number;
  rejectedLines: number;
  reasons: Array<{ path: string; lineNo: number; reason: string }>;
  gaps: string[];
  /** Tokens of this source that were estimated (counted from text or rounded by the tool), not reported exactly. */
  estimatedTokens: number;
  /** Requests received live by the OpenTelemetry receiver and not (yet) read from a log file (docs/otel.md). */
  viaOtlp: number;
}

export interface DataHealth {
  ledger: {
    file: string;
    bytes: number;
    schemaVersion: number;
    pricingVersion: string | null;
    firstImport: string | null;
    lastNewData: string | null;
  };
  sources: SourceHealthReport[];
  /** The local OpenTelemetry receiver's last status (its file beside the ledger), or null when it never ran. */
  otel: OtelStats | null;
}

/** Why a source's tokens are estimates, for its data-health line. */
const ESTIMATED_WHY: Partial<Record<SourceName, string>> = {
  'copilot-chat':
    "older Copilot Chat files record no token counts, so the visible prompt and reply were counted with a tokenizer (a floor: Copilot's own context is not in the file)",
  'amazon-q':
    "Amazon Q Developer records no token counts, so each request's prompt and reply were counted with a tokenizer (a floor: the context it sent along is not in its files)",
  kiro: "Kiro IDE records no token counts, so each execution's tokens were counted from the context it sent and its reply with a tokenizer (its cost is its credits, not these tokens)",
  cursor:
    'newer Cursor builds write 0 tokens for some replies (not recorded), so those were counted from their text and prompt with a tokenizer',
};

/** Claude Code deletes logs older than cleanupPeriodDays (30 by default). */
const CLAUDE_CLEANUP_DAYS = 30;

/** Per source: found or not (and where we looked), files, first and last record, rejected lines with reasons, known gaps. */
export function dataHealth(
  db: Database,
  ledgerFile: string,
  options: { env: NodeJS.ProcessEnv; extra?: ExtraSource[]; disabled?: ReadonlySet<SourceName> },
): DataHealth {
  const disabled = options.disabled ?? new Set<SourceName>();
  const roots = sourceRoots(options.env, options.extra, new Set());
  const files = new Map(sourceHealth(db).map((h) => [h.source, h]));
  const spans = new Map<
    string,
    { first: number; last: number; n: number; assumed: number; estimated: number; credits: number }
  >();
  // From the per-source aggregates (store/aggregates.ts): a row per source, not a pass over the rollup.
  const r = db.exec(
    'SELECT source, first_ts, last_ts, n, assumed, estimated, credits_u FROM source_totals WHERE sessions > 0',
  );
  for (const [source, first, last, n, assumed, estimated, credits] of r[0]?.values ?? []) {
    spans.set(String(source), {
      first: Number(first),
      last: Number(last),
      n: Number(n),
      assumed: Number(assumed),
      estimated: Number(estimated ?? 0),
      credits: Number(credits ?? 0),
    });
  }
  const firstImport = getMeta(db, 'first_import') ?? null;
  // Requests received over OTLP (only looked for once the receiver has recorded some).
  const viaOtlp = new Map<string, number>();
  if (getMeta(db, OTLP_META) !== undefined) {
    const q = db.exec(
      `SELECT s.source, count(*) FROM (${REQUEST_KEYS}) i JOIN sessions s ON s.id = i.session_ref WHERE (i.flags & ${FLAG_OTLP}) != 0 GROUP BY s.source`,
    );
    for (const [source, n] of q[0]?.values ?? []) viaOtlp.set(String(source), Number(n));
  }
  // Tools that keep their logs inside projects (Aider) are looked for in the folders the ledger knows.
  const inProjects = new Map<SourceName, string[]>();
  const known = READERS.some((r) => r.discoverInProjects) ? projectDirs(db) : [];
  for (const r of READERS) {
    if (r.discoverInProjects)
      inProjects.set(
        r.source,
        r.discoverInProjects(known).map((f) => f.path),
      );
  }
  const sources: SourceHealthReport[] = [...roots].map(([source, paths]) => {
    const f = files.get(source);
    const span = spans.get(source);
    const gaps: string[] = [];
    if (source === 'claude-code' && span) {
      // Logs older than the cleanup period were deleted before we first looked: the record starts within that window.
      const firstImportMs = firstImport ? Date.parse(firstImport) : Date.now();
      if (span.first > firstImportMs - (CLAUDE_CLEANUP_DAYS + 1) * 86_400_000) {
        gaps.push(
          `history before ${isoUtc(span.first).slice(0, 10)} may have been deleted by Claude Code (cleanupPeriodDays, ` +
            `${CLAUDE_CLEANUP_DAYS} days by default) before the first import on ${isoUtc(firstImportMs).slice(0, 10)}. ` +
            "Raise cleanupPeriodDays in Claude Code's settings.json so nothing more is lost between imports.",
        );
      }
    }
    if (span && span.assumed > 0)
      gaps.push(
        `${span.assumed} requests came from builds that did not record the model; the default model was assumed.`,
      );
    if (span && span.estimated > 0)
      gaps.push(
        `${span.estimated} tokens are estimated: ${ESTIMATED_WHY[source] ?? 'counted from text or rounded by the tool, not reported exactly'}. They are marked ~.`,
      );
    if (source === 'kiro' && span && span.n > 0) {
      gaps.push(
        `Kiro meters credits, not tokens: ${fmtCredits(span.credits / 1e6)} credits were recorded, priced at $${CREDIT_PRICE_USD.kiro ?? 0} a credit; its token counts (0 in current builds) are shown as recorded, never derived from credits.`,
      );
    }
    if (source === 'amp' && span && span.credits > 0) {
      gaps.push(
        `Amp bills in credits (US dollars): ${fmtCredits(span.credits / 1e6)} credits were recorded beside its exact token counts, priced at $${CREDIT_PRICE_USD.amp ?? 0} a credit; the cost of those requests is their credits, not their tokens at list prices.`,
      );
    }
    if (source === 'droid' && span && span.n > 0) {
      gaps.push(
        "Droid keeps running totals per session, not per request: each import stores the growth since the one before, dated by the session's newest message.",
      );
      const custom = Number(
        db.exec(
          `SELECT count(*) FROM (${REQUEST_KEYS}) i JOIN sessions s ON s.id = i.session_ref JOIN models m ON m.id = i.model_ref WHERE s.source = 'droid' AND m.name LIKE 'custom:%'`,
        )[0]?.values[0]?.[0] ?? 0,
      );
      if (custom > 0)
        gaps.push(
          `${custom} Droid requests ran on custom models that ~/.factory/settings.json (customModels) does not name: they keep the name as written and are unpriced; add the model there, or an alias in the prices file.`,
        );
    }
    const existing = [...paths, ...(inProjects.get(source) ?? [])].map((p) => ({ path: p, exists: fs.existsSync(p) }));
    if (inProjects.has(source)) {
      gaps.push(
        `looked for in the ${known.length} repositories and working folders of the sessions in the ledger, the open workspace folders and the folder an import runs in; add others with extra paths or \`import --source ${source}=PATH\`.`,
      );
    }
    return {
      source,
      enabled: !disabled.has(source),
      found: (f?.files ?? 0) > 0 || (viaOtlp.get(source) ?? 0) > 0,
      roots: existing,
      files: f?.files ?? 0,
      first: span ? isoUtc(span.first) : null,
      last: span ? isoUtc(span.last) : null,
      interactions: span?.n ?? 0,
      rejectedLines: f?.rejectedLines ?? 0,
      reasons: f?.reasons ?? [],
      gaps,
      estimatedTokens: span?.estimated ?? 0,
      viaOtlp: viaOtlp.get(source) ?? 0,
    };
  });
  // Manual entries have no files: they are what the engineer logged by hand.
  const manual = spans.get('manual');
  const manualEntries = Number(db.exec('SELECT count(*) FROM manual_entries')[0]?.values[0]?.[0] ?? 0);
  sources.push({
    source: 'manual',
    enabled: true,
    found: manualEntries > 0,
    roots: [],
    files: 0,
    first: manual ? isoUtc(manual.first) : null,
    last: manual ? isoUtc(manual.last) : null,
    interactions: manual?.n ?? 0,
    rejectedLines: 0,
    reasons: [],
    gaps:
      manual && manual.estimated > 0
        ? [
            `${manual.estimated} tokens of manual entries were estimated from pasted text (the text itself is not stored). They are marked ~.`,
          ]
        : [],
    estimatedTokens: manual?.estimated ?? 0,
    viaOtlp: 0,
  });
  let bytes = 0; // not saved yet
  // The snapshot and the journal of writes since it was saved whole (store/journal.ts).
  for (const file of [ledgerFile, path.join(path.dirname(ledgerFile), 'ledger.journal')]) {
    try {
      bytes += fs.statSync(file).size;
    } catch {
      // not there
    }
  }
  return {
    ledger: {
      file: ledgerFile,
      bytes,
      schemaVersion: Number(getMeta(db, 'schema_version') ?? 0),
      pricingVersion: getMeta(db, 'pricing_version') ?? null,
      firstImport,
      lastNewData: getMeta(db, 'last_new_data') ?? null,
    },
    sources,
    otel: readOtelStatus(path.dirname(ledgerFile)) ?? null,
  };
}

/** Plain-text (Markdown) rendering shared by the CLI and the extension. */
export function renderHealth(h: DataHealth): string {
  const out: string[] = ['# Outcome Ledger — data health', ''];
  out.push(
    `Ledger: \`${h.ledger.file}\` (${(h.ledger.bytes / 1024).toFixed(0)} KB, schema ${h.ledger.schemaVersion}, prices ${h.ledger.pricingVersion ?? '—'})`,
  );
  out.push(`First import: ${h.ledger.firstImport ?? 'never'} · last new data: ${h.ledger.lastNewData ?? 'never'}`);
  for (const s of h.sources) {
    out.push('', `## ${s.source}${s.enabled ? '' : ' (disabled in settings)'}`);
    if (s.source === 'manual') {
      out.push(
        s.found
          ? `- ${s.interactions} interactions logged by hand (Log an AI Interaction… or \`outcome-ledger manual add\`), first ${s.first ?? '—'}, last ${s.last ?? '—'}`
          : 'None logged. Log a web chat with "Outcome Ledger: Log an AI Interaction…" or `outcome-ledger manual add`.',
      );
    } else if (!s.found) {
      out.push(
        `Not found. Looked in: ${s.roots.map((r) => `\`${r.path}\`${r.exists ? '' : ' (missing)'}`).join(', ') || '(no folders)'}.`,
      );
    } else {
      out.push(
        `Looked in: ${s.roots.map((r) => `\`${r.path}\`${r.exists ? '' : ' (missing)'}`).join(', ') || '(no folders)'}`,
      );
      out.push(`- the ledger holds ${s.files} log files and ${s.interactions} billed requests from this source`);
      out.push(`- first record ${s.first ?? '—'}, last record ${s.last ?? '—'}`);
      out.push(`- ${s.rejectedLines} ${noun(s.rejectedLines, 'line')} rejected${s.reasons.length ? ':' : ''}`);
      for (const r of s.reasons) out.push(`  - \`${r.path}\`${r.lineNo > 0 ? ` line ${r.lineNo}` : ''}: ${r.reason}`);
    }
    if (s.viaOtlp > 0)
      out.push(
        `- ${s.viaOtlp} ${noun(s.viaOtlp, 'request')} read via OTLP (the OpenTelemetry receiver, exact counts) that no log file has given yet`,
      );
    for (const g of s.gaps) out.push(`- Known gap: ${g}`);
  }
  if (h.otel) out.push('', ...renderOtel(h.otel));
  return out.join('\n');
}

/** The receiver's section of data health: where it listened, what it recorded, and forwarding failures. */
function renderOtel(o: OtelStats): string[] {
  const out = [
    '## OpenTelemetry receiver',
    o.stopped
      ? `- stopped ${o.stopped} (listened on ${o.host}:${o.port} from ${o.since})`
      : `- listening on ${o.host}:${o.port} since ${o.since} (status of ${o.updated})`,
  ];
  out.push(
    `- ${o.bodies} ${noun(o.bodies, 'body', 'bodies')} accepted, ${o.refused} refused; ${o.recorded} ${noun(o.recorded, 'request')} recorded, ${o.duplicates} already in the ledger, ${o.rejected} rejected${o.lastRejection ? ` (last: ${o.lastRejection})` : ''}`,
  );
  if (o.forwardUrl)
    out.push(
      `- forwarding to ${o.forwardUrl}: ${o.forwarded} sent, ${o.forwardFailed} failed${o.lastForwardError ? ` (last: ${o.lastForwardError})` : ''}; failures are not retried`,
    );
  return out;
}
