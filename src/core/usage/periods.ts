/**
 * The periods the sidebar offers and the period each is compared with (pure). Dates are local calendar dates
 * (YYYY-MM-DD) in the user's zone; both ends are inclusive, as everywhere else (`report --since/--until`).
 */
import { addDays, isIsoDate } from './time';

export const PERIOD_KINDS = ['today', '7d', '30d', 'quarter', 'custom'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export const PERIOD_NAMES: Record<PeriodKind, string> = {
  today: 'Today',
  '7d': '7 days',
  '30d': '30 days',
  quarter: 'Quarter',
  custom: 'Custom',
};

/** A custom range longer than this is refused: the chart and the snapshot stay small. */
const MAX_PERIOD_DAYS = 3 * 366;

export interface DateRange {
  since: string;
  until: string;
}

export interface ResolvedPeriod extends DateRange {
  kind: PeriodKind;
  days: number;
  /**
   * The preceding range of the same length: "vs. the previous period" always compares like with like (a quarter to
   * date is compared with the same number of days before it, not with a whole quarter).
   */
  previous: DateRange;
}

export class PeriodError extends Error {}

const DAY_MS = 86_400_000;

function utcOf(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** Whole days from `a` to `b` (b − a), for ISO dates. */
function daysBetween(a: string, b: string): number {
  return Math.round((utcOf(b) - utcOf(a)) / DAY_MS);
}

function quarterStart(date: string): string {
  const month = Number(date.slice(5, 7));
  const first = Math.floor((month - 1) / 3) * 3 + 1;
  return `${date.slice(0, 4)}-${String(first).padStart(2, '0')}-01`;
}

function withPrevious(kind: PeriodKind, since: string, until: string): ResolvedPeriod {
  const days = daysBetween(since, until) + 1;
  return { kind, since, until, days, previous: { since: addDays(since, -days), until: addDays(since, -1) } };
}

/** The range of a period kind on `today` (the local date); `custom` needs a valid range. */
export function resolvePeriod(kind: PeriodKind, today: string, custom?: Partial<DateRange>): ResolvedPeriod {
  switch (kind) {
    case 'today':
      return withPrevious(kind, today, today);
    case '7d':
      return withPrevious(kind, addDays(today, -6), today);
    case '30d':
      return withPrevious(kind, addDays(today, -29), today);
    case 'quarter':
      return withPrevious(kind, quarterStart(today), today);
    case 'custom': {
      const since = custom?.since ?? '';
      const until = custom?.until ?? '';
      if (!isIsoDate(since) || !isIsoDate(until))
        throw new PeriodError('Give both dates of the custom range (YYYY-MM-DD).');
      if (since > until) throw new PeriodError('The custom range starts after it ends.');
      if (daysBetween(since, until) + 1 > MAX_PERIOD_DAYS)
        throw new PeriodError(`A custom range covers at most ${MAX_PERIOD_DAYS} days.`);
      return withPrevious(kind, since, until);
    }
  }
}

/** The periods "Export outcome summary…" offers (a summary always has both ends). */
export const SUMMARY_PERIODS = ['last30', 'thisQuarter', 'lastQuarter', 'custom'] as const;
export type SummaryPeriod = (typeof SUMMARY_PERIODS)[number];

export const SUMMARY_PERIOD_NAMES: Record<SummaryPeriod, string> = {
  last30: 'Last 30 days',
  thisQuarter: 'This quarter',
  lastQuarter: 'Last quarter',
  custom: 'Custom dates…',
};

/** The range of a summary period on `today` (the local date); `custom` needs a valid range. */
export function summaryRange(kind: SummaryPeriod, today: string, custom?: Partial<DateRange>): DateRange {
  switch (kind) {
    case 'last30':
      return { since: addDays(today, -29), until: today };
    case 'thisQuarter':
      return { since: quarterStart(today), until: today };
    case 'lastQuarter': {
      const end = addDays(quarterStart(today), -1);
      return { since: quarterStart(end), until: end };
    }
    case 'custom': {
      const r = resolvePeriod('custom', today, custom);
      return { since: r.since, until: r.until };
    }
  }
}
