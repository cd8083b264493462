import type { ImportSummary } from '../../services/importer';
import type { SessionJson } from '../../services/queries';
import { fmtCredits } from '../../core/usage/format';
import { fmtInt, fmtTokensMarked, fmtUSD, table } from '../format';

export function renderImport(s: ImportSummary): string {
  const found = s.sources.filter((src) => src.found);
  const missing = s.sources.filter((src) => !src.found).map((src) => src.source);
  if (found.length === 0) {
    return `No AI-assistant logs found on this machine; looked for ${s.sources.length} tools. \`outcome-ledger health\` shows where it looked, and --source NAME=PATH reads a folder of your choice.`;
  }
  const rows = found.map((src) => [
    src.source,
    `${fmtInt(src.filesRead)}/${fmtInt(src.files)}`,
    fmtInt(src.interactionsAdded),
    fmtInt(src.duplicatesSkipped),
    fmtInt(src.linesRejected),
  ]);
  const out = [table(['source', 'files read', 'requests added', 'duplicates skipped', 'lines rejected'], rows)];
  for (const src of found) for (const reason of src.reasons) out.push(`  ${src.source} rejected ${reason}`);
  if (missing.length > 0)
    out.push(`Not found on this machine: ${missing.join(', ')} (\`outcome-ledger health\` shows where it looked).`);
  out.push(`Read ${(s.bytesRead / (1 << 20)).toFixed(1)} MB in ${(s.elapsedMs / 1000).toFixed(1)} s.`);
  return out.join('\n');
}

export function renderSessions(list: SessionJson[]): string {
  if (list.length === 0) return 'No sessions recorded for this period.';
  const t = table(
    ['session', 'start', 'tool', 'branch', 'tokens', 'est. cost', 'files', 'commits', 'status'],
    list.map((s) => [
      s.id.length > 24 ? `${s.id.slice(0, 23)}…` : s.id,
      s.start.slice(0, 16).replace('T', ' '),
      s.manual ? `manual: ${s.manual.tool}` : s.source,
      s.branch ?? s.manual?.task ?? '—',
      `${fmtTokensMarked(s.tokens.total, s.tokenAccuracy)}${s.credits !== undefined ? ` + ${fmtCredits(s.credits)} cr` : ''}`,
      fmtUSD(s.costUSD),
      fmtInt(s.editedFiles.length),
      fmtInt(s.links.filter((l) => l.counted).length),
      s.status,
    ]),
  );
  return list.some((s) => s.tokenAccuracy !== 'exact')
    ? `${t}\n~ tokens estimated (counted from text or rounded by the tool), not reported exactly`
    : t;
}
