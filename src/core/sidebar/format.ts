/**
 * How the sidebar writes its figures (pure; the webview and the tests share it, so a test can compare what it reads
 * on screen with what the ledger says, formatted the same way).
 */
import { fmtCredits, fmtInt, fmtTokens, fmtUSD, plural } from '../usage/format';
import type { DateRange } from '../usage/periods';
import type { DecisionRow, Figure, FigureId } from './protocol';

export function formatFigure(id: FigureId, value: number | null): string {
  if (value === null) return '—';
  switch (id) {
    case 'tokens':
    case 'tokensPerCommit':
    case 'withoutOutcome':
      return fmtTokens(value);
    case 'cost':
    case 'planCost':
      return fmtUSD(value);
    case 'credits':
      return fmtCredits(value);
    case 'yield':
      return `${(value * 100).toFixed(1)}%`;
    case 'keptPer1k':
      return value.toFixed(1);
    case 'commits':
    case 'tasks':
    case 'prs':
      return fmtInt(value);
  }
}

export type Tone = 'better' | 'worse' | 'neutral' | 'none';

export interface Change {
  /** Short text under the figure: "▲ 12% · was 1.8M", "▼ 3.1 pts · was 95.6%", "unchanged". */
  text: string;
  tone: Tone;
  /** The same for a screen reader, in words. */
  spoken: string;
}

/**
 * The change against the previous period. Ratios of value (yield) move in points; counts and volumes in percent.
 * Only figures with a direction get a tone: a token or dollar figure going up is a fact, not a failure or a success.
 */
export function describeChange(f: Figure): Change {
  const prevText = formatFigure(f.id, f.previous);
  if (f.value === null || f.previous === null) {
    if (f.value !== null && f.previous === null)
      return { text: 'nothing to compare', tone: 'none', spoken: 'no figure for the previous period' };
    return { text: '', tone: 'none', spoken: '' };
  }
  const diff = f.value - f.previous;
  if (Math.abs(diff) < 1e-9) return { text: 'unchanged', tone: 'none', spoken: `unchanged from the previous period` };
  const up = diff > 0;
  const arrow = up ? '▲' : '▼';
  let amount: string;
  if (f.id === 'yield') amount = `${Math.abs(diff * 100).toFixed(1)} pts`;
  else if (f.previous === 0) amount = f.id === 'cost' ? fmtUSD(Math.abs(diff)) : formatFigure(f.id, Math.abs(diff));
  else {
    const pct = Math.abs(diff / f.previous) * 100;
    amount = pct >= 1000 ? `${Math.round(pct / 100) / 10}k%` : `${pct >= 10 ? Math.round(pct) : pct.toFixed(1)}%`;
  }
  const tone: Tone = f.better === 'neutral' ? 'neutral' : (f.better === 'higher') === up ? 'better' : 'worse';
  const judged = tone === 'better' ? ', better' : tone === 'worse' ? ', worse' : '';
  return {
    text: `${arrow} ${amount} · was ${prevText}`,
    tone,
    spoken: `${up ? 'up' : 'down'} ${amount} from ${prevText} in the previous period${judged}`,
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Nov 25" (or "Nov 25, 2025" when `withYear`). */
export function shortDate(date: string, withYear = false): string {
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  return `${MONTHS[m - 1] ?? '?'} ${d}${withYear ? `, ${date.slice(0, 4)}` : ''}`;
}

/** "Nov 19 – 25", "Nov 28 – Dec 4", "Dec 28, 2024 – Jan 3, 2025", or one day. */
export function rangeLabel(r: DateRange): string {
  if (r.since === r.until) return shortDate(r.since, false);
  const sameYear = r.since.slice(0, 4) === r.until.slice(0, 4);
  if (sameYear && r.since.slice(5, 7) === r.until.slice(5, 7))
    return `${shortDate(r.since)} – ${Number(r.until.slice(8, 10))}`;
  return sameYear
    ? `${shortDate(r.since)} – ${shortDate(r.until)}`
    : `${shortDate(r.since, true)} – ${shortDate(r.until, true)}`;
}

/** "just now", "4 min ago", "3 h ago", "yesterday", "5 days ago", then the date. */
export function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 2 * 86_400) return 'yesterday';
  if (s < 14 * 86_400) return `${Math.floor(s / 86_400)} days ago`;
  return shortDate(iso.slice(0, 10), true);
}

/** A round axis maximum at or above `v` (1, 2, 2.5, 5 × 10^n): the chart's top gridline reads as a plain number. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const exp = Math.floor(Math.log10(v));
  const base = 10 ** exp;
  for (const m of [1, 2, 2.5, 5, 10]) if (m * base >= v) return m * base;
  return 10 * base;
}

/** Why a session is listed for a decision, in the words the sidebar and `link pending` both use. */
export function decisionReason(reason: DecisionRow['reason']): string {
  return reason === 'unlinked'
    ? 'no commit counts'
    : reason === 'low-confidence'
      ? 'low-confidence link'
      : 'a possible commit';
}

/** The sentence under a listed session without a candidate commit. */
export function noCandidateText(rejected: number): string {
  return rejected > 0
    ? `You rejected ${plural(rejected, 'commit')}; no other candidate.`
    : 'No commit touched the files it edited in time.';
}
