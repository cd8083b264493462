import type { ImportSummary } from '../../services/importer';
import type { SessionJson } from '../../services/queries';
import { fmtCredits } from '../../core/usage/format';
import { fmtInt, fmtTokensMarked, fmtUSD, table, TableLines } from '../format';

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

const SESSION_HEADER = ['session', 'start', 'tool', 'branch', 'tokens', 'est. cost', 'files', 'commits', 'status'];

function sessionRow(s: SessionJson): string[] {
  return [
    s.id.length > 24 ? `${s.id.slice(0, 23)}…` : s.id,
    s.start.slice(0, 16).replace('T', ' '),
    s.manual ? `manual: ${s.manual.tool}` : s.source,
    s.branch ?? s.manual?.task ?? '—',
    `${fmtTokensMarked(s.tokens.total, s.tokenAccuracy)}${s.credits !== undefined ? ` + ${fmtCredits(s.credits)} cr` : ''}`,
    fmtUSD(s.costUSD),
    fmtInt(s.editedFiles.length),
    fmtInt(s.links.filter((l) => l.counted).length),
    s.status,
  ];
}

/**
 * The sessions table, line by line. Each session is taken as it is read and kept only as its row's text
 * (`TableLines`): a year's list (`sessionsOf`) is never held as objects.
 */
export function* sessionLines(sessions: Iterable<SessionJson>): Generator<string> {
  const t = new TableLines(SESSION_HEADER);
  let estimated = false;
  for (const s of sessions) {
    t.add(sessionRow(s));
    if (s.tokenAccuracy !== 'exact') estimated = true;
  }
  if (t.size === 0) {
    yield 'No sessions recorded for this period.';
    return;
  }
  yield* t.lines();
  if (estimated) yield '~ tokens estimated (counted from text or rounded by the tool), not reported exactly';
}
