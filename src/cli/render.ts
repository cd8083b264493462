import type { ReportJson, UsageFigures } from '../core/report';
import type { ImportSummary } from '../services/importer';
import type { SessionJson } from '../services/queries';
import { fmtInt, fmtPercent, fmtTokens, fmtUSD, table } from './format';

function figureCells(f: UsageFigures): string[] {
  return [
    fmtTokens(f.total),
    fmtTokens(f.input),
    fmtTokens(f.output),
    fmtTokens(f.cacheRead),
    fmtTokens(f.cacheWrite),
    fmtUSD(f.costUSD) + (f.unpricedInteractions > 0 ? '*' : ''),
    fmtInt(f.interactions),
    fmtInt(f.sessions),
  ];
}

const FIGURE_HEADER = ['total', 'input', 'output', 'cache read', 'cache write', 'est. cost', 'requests', 'sessions'];

export function renderReport(r: ReportJson, maxDays = 31): string {
  const out: string[] = [];
  const period = r.period.since || r.period.until ? `${r.period.since ?? 'start'} … ${r.period.until ?? 'today'}` : 'all recorded history';
  out.push(`Outcome Ledger — ${period} (${r.period.timezone})`);
  out.push('');
  if (r.totals.interactions === 0) {
    out.push('No AI-assistant usage recorded for this period.');
    out.push('Run `outcome-ledger import` to read Claude Code and Codex logs from this machine.');
    return out.join('\n');
  }
  const o = r.outcomes;
  out.push('Outcomes');
  out.push(
    `  ${fmtInt(o.commits)} commits · ${fmtInt(o.tasks)} tasks · yield ${fmtPercent(o.yield)} of tokens in shipped sessions` +
      (o.tokensPerCommit !== null ? ` · ${fmtTokens(o.tokensPerCommit)} tokens per commit` : ''),
  );
  out.push(
    `  sessions: ${fmtInt(o.shippedSessions)} shipped, ${fmtInt(o.openSessions)} open, ${fmtInt(o.unlinkedSessions)} without outcome, ` +
      `${fmtInt(o.labelledSessions)} labelled · ${fmtTokens(o.tokensWithoutOutcome)} tokens without outcome`,
  );
  if (o.commits === 0) out.push('  (no sessions are linked to commits yet)');
  out.push('');
  out.push(table(['by source', ...FIGURE_HEADER], [...r.bySource.map((s) => [s.source, ...figureCells(s)]), ['all', ...figureCells(r.totals)]]));
  out.push('');
  out.push(table(['by model', ...FIGURE_HEADER], r.byModel.map((m) => [`${m.model}${m.priced ? '' : ' (unpriced)'}`, ...figureCells(m)])));
  out.push('');
  const days = r.byDay.slice(-maxDays);
  const dayTitle = r.byDay.length > days.length ? `by day (last ${days.length})` : 'by day';
  out.push(table([dayTitle, ...FIGURE_HEADER], days.map((d) => [d.date, ...figureCells(d)])));
  out.push('');
  out.push('Coverage');
  for (const c of r.coverage) {
    const range = c.first && c.last ? `${c.first.slice(0, 10)} … ${c.last.slice(0, 10)}` : 'no records in this period';
    const extras: string[] = [];
    if (c.rejectedLines > 0) extras.push(`${fmtInt(c.rejectedLines)} lines rejected`);
    if (c.unpricedModels.length > 0) extras.push(`unpriced: ${c.unpricedModels.join(', ')}`);
    if (c.assumedModelInteractions > 0) extras.push(`${fmtInt(c.assumedModelInteractions)} requests with an assumed model`);
    out.push(`  ${c.source}: ${range}, ${fmtInt(c.files)} files${extras.length ? ` · ${extras.join(' · ')}` : ''}`);
  }
  out.push('');
  out.push(`Costs are list-price estimates (price table ${r.pricing.version})${r.totals.unpricedInteractions > 0 ? '; * leaves out unpriced models' : ''}.`);
  out.push('Tokens are not value: more tokens for the same outcomes is worse, never better.');
  return out.join('\n');
}

export function renderImport(s: ImportSummary): string {
  const rows = s.sources.map((src) => [
    src.source,
    src.found ? `${fmtInt(src.filesRead)}/${fmtInt(src.files)}` : 'not found',
    fmtInt(src.interactionsAdded),
    fmtInt(src.duplicatesSkipped),
    fmtInt(src.linesRejected),
  ]);
  const out = [table(['source', 'files read', 'requests added', 'duplicates skipped', 'lines rejected'], rows)];
  for (const src of s.sources) {
    if (!src.found) out.push(`  ${src.source}: looked in ${src.roots.join(', ') || '(no folders)'}`);
    for (const reason of src.reasons) out.push(`  ${src.source} rejected ${reason}`);
  }
  out.push(`Read ${(s.bytesRead / (1 << 20)).toFixed(1)} MB in ${(s.elapsedMs / 1000).toFixed(1)} s.`);
  return out.join('\n');
}

export function renderSessions(list: SessionJson[]): string {
  if (list.length === 0) return 'No sessions recorded for this period.';
  return table(
    ['session', 'start', 'tool', 'branch', 'tokens', 'est. cost', 'files', 'status'],
    list.map((s) => [
      s.id.length > 24 ? `${s.id.slice(0, 23)}…` : s.id,
      s.start.slice(0, 16).replace('T', ' '),
      s.source,
      s.branch ?? '—',
      fmtTokens(s.tokens.total),
      fmtUSD(s.costUSD),
      fmtInt(s.editedFiles.length),
      s.status,
    ]),
  );
}
