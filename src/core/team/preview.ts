/** What a member sees before consenting to share a team rollup: a plain summary, then the exact file (pure). */
import { fmtInt, fmtTokens, fmtUSD, noun } from '../usage/format';
import type { TeamRollupFile } from './rollup';

export function renderRollupPreview(file: TeamRollupFile, exactText: string, destination?: string): string {
  const r = file.rollup;
  const t = r.totals;
  const o = r.outcomes;
  const shared = r.shared ?? {};
  const extra: string[] = [];
  if (shared.repos)
    extra.push(
      `${shared.repos.length} repository ${noun(shared.repos.length, 'name')} (${shared.repos.slice(0, 10).join(', ')}${shared.repos.length > 10 ? ', …' : ''})`,
    );
  if (shared.subjects) extra.push(`${shared.subjects.length} commit ${noun(shared.subjects.length, 'subject')}`);
  const est = (f: { estimatedTokens: number }): string => (f.estimatedTokens > 0 ? '~' : '');
  const lines = [
    `Team rollup for ${r.period.since} … ${r.period.until} (${r.period.timezone})${destination ? ` → ${destination}` : ''}`,
    '',
    `You appear as: ${r.member.displayName ? `"${r.member.displayName}"` : 'no display name (only counted)'}; member id ${r.member.id} (derived from your signing key ${file.signature.fingerprint})`,
    `Machine id: ${r.machine.id} (random, created once for this ledger; lets a merge count this machine once)`,
    '',
    'It contains aggregates only:',
    `  totals: ${fmtTokens(t.total)} tokens (${fmtInt(t.total)}${t.estimatedTokens > 0 ? `, ~${fmtInt(t.estimatedTokens)} of them estimated` : ''}), ${fmtUSD(t.costUSD)} estimated, ${fmtInt(t.interactions)} ${noun(t.interactions, 'request')}, ${fmtInt(t.sessions)} ${noun(t.sessions, 'session')}`,
    `  by tool: ${r.bySource.map((s) => `${s.source} ${est(s)}${fmtTokens(s.total)}`).join(', ') || 'none'}`,
    `  by model: ${r.byModel.map((m) => `${m.model} ${est(m)}${fmtTokens(m.total)}`).join(', ') || 'none'}`,
    ...(t.estimatedTokens > 0
      ? ['  (~ marks token figures that are partly or wholly estimated: counted from text or rounded by the tool)']
      : []),
    `  outcomes: ${fmtInt(o.commits)} commits, ${fmtInt(o.tasks)} tasks, ${fmtInt(o.prs)} PRs, ${fmtInt(o.shippedSessions)} shipped sessions; the value metrics`,
    `  a SHA-256 digest of the ${fmtInt(r.interactions.count)} request ids it covers (so a merge never counts them twice)`,
    extra.length
      ? `  and, because you opted in: ${extra.join('; ')}`
      : '  no paths, prompts, commit subjects, repository or session names',
    '',
    'The team report never shows a figure per person: your tokens are added to the team total and your value metrics',
    'only appear inside quartiles across at least k members.',
    '',
    'The exact file:',
    exactText.trimEnd(),
  ];
  return `${lines.join('\n')}\n`;
}

/** The periods the export command offers, for a local date `today` (YYYY-MM-DD): weeks start on Monday. */
export function rollupPeriodChoices(today: string): Array<{ label: string; since: string; until: string }> {
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const t = Date.UTC(y, m - 1, d);
  const weekday = (new Date(t).getUTCDay() + 6) % 7; // Monday = 0
  const DAY = 86_400_000;
  const monday = t - weekday * DAY;
  return [
    { label: 'Last week', since: day(monday - 7 * DAY), until: day(monday - DAY) },
    { label: 'This week so far', since: day(monday), until: today },
    { label: 'Last month', since: day(Date.UTC(y, m - 2, 1)), until: day(Date.UTC(y, m - 1, 0)) },
    { label: 'This month so far', since: day(Date.UTC(y, m - 1, 1)), until: today },
    { label: 'Last 30 days', since: day(t - 29 * DAY), until: today },
  ];
}
