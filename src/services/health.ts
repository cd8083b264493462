import * as fs from 'node:fs';
import type { Database } from 'sql.js';
import type { SourceName } from '../core/model';
import { isoUtc } from '../core/time';
import { sourceHealth } from '../store/files';
import { getMeta } from '../store/schema';
import { projectDirs, READERS, sourceRoots, type ExtraSource } from './importer';

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
}

export interface DataHealth {
  ledger: { file: string; bytes: number; schemaVersion: number; pricingVersion: string | null; firstImport: string | null; lastNewData: string | null };
  sources: SourceHealthReport[];
}

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
  const spans = new Map<string, { first: number; last: number; n: number; assumed: number }>();
  const r = db.exec('SELECT s.source, min(u.first_ts), max(u.last_ts), sum(u.n), sum(u.assumed) FROM usage_rollup u JOIN sessions s ON s.id = u.session_ref GROUP BY s.source');
  for (const [source, first, last, n, assumed] of r[0]?.values ?? []) {
    spans.set(String(source), { first: Number(first), last: Number(last), n: Number(n), assumed: Number(assumed) });
  }
  const firstImport = getMeta(db, 'first_import') ?? null;
  // Tools that keep their logs inside projects (Aider) are looked for in the folders the ledger knows.
  const inProjects = new Map<SourceName, string[]>();
  const known = READERS.some((r) => r.discoverInProjects) ? projectDirs(db) : [];
  for (const r of READERS) {
    if (r.discoverInProjects) inProjects.set(r.source, r.discoverInProjects(known).map((f) => f.path));
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
            'Raise cleanupPeriodDays in Claude Code\'s settings.json so nothing more is lost between imports.',
        );
      }
    }
    if (span && span.assumed > 0) gaps.push(`${span.assumed} requests came from builds that did not record the model; the default model was assumed.`);
    const existing = [...paths, ...(inProjects.get(source) ?? [])].map((p) => ({ path: p, exists: fs.existsSync(p) }));
    if (inProjects.has(source)) {
      gaps.push(`looked for in the ${known.length} repositories and working folders of the sessions in the ledger, the open workspace folders and the folder an import runs in; add others with extra paths or \`import --source ${source}=PATH\`.`);
    }
    return {
      source,
      enabled: !disabled.has(source),
      found: (f?.files ?? 0) > 0,
      roots: existing,
      files: f?.files ?? 0,
      first: span ? isoUtc(span.first) : null,
      last: span ? isoUtc(span.last) : null,
      interactions: span?.n ?? 0,
      rejectedLines: f?.rejectedLines ?? 0,
      reasons: f?.reasons ?? [],
      gaps,
    };
  });
  let bytes: number;
  try {
    bytes = fs.statSync(ledgerFile).size;
  } catch {
    bytes = 0; // not saved yet
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
  };
}

/** Plain-text (Markdown) rendering shared by the CLI and the extension. */
export function renderHealth(h: DataHealth): string {
  const out: string[] = ['# Outcome Ledger — data health', ''];
  out.push(`Ledger: \`${h.ledger.file}\` (${(h.ledger.bytes / 1024).toFixed(0)} KB, schema ${h.ledger.schemaVersion}, prices ${h.ledger.pricingVersion ?? '—'})`);
  out.push(`First import: ${h.ledger.firstImport ?? 'never'} · last new data: ${h.ledger.lastNewData ?? 'never'}`);
  for (const s of h.sources) {
    out.push('', `## ${s.source}${s.enabled ? '' : ' (disabled in settings)'}`);
    if (!s.found) {
      out.push(`Not found. Looked in: ${s.roots.map((r) => `\`${r.path}\`${r.exists ? '' : ' (missing)'}`).join(', ') || '(no folders)'}.`);
    } else {
      out.push(`Looked in: ${s.roots.map((r) => `\`${r.path}\`${r.exists ? '' : ' (missing)'}`).join(', ') || '(no folders)'}`);
      out.push(`- the ledger holds ${s.files} log files and ${s.interactions} billed requests from this source`);
      out.push(`- first record ${s.first ?? '—'}, last record ${s.last ?? '—'}`);
      out.push(`- ${s.rejectedLines} lines rejected${s.reasons.length ? ':' : ''}`);
      for (const r of s.reasons) out.push(`  - \`${r.path}\` line ${r.lineNo}: ${r.reason}`);
    }
    for (const g of s.gaps) out.push(`- Known gap: ${g}`);
  }
  return out.join('\n');
}
