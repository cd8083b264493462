/**
 * What the view remembers across reloads (a hidden view loses its page): the query, open sections, the chart/table
 * choice and the scroll position — UI state only, never figures (those always come fresh from the host). Stored with
 * the webview's getState/setState under a version number; anything else found there is ignored.
 */
import { PERIOD_KINDS, type PeriodKind } from '../core/usage/periods';
import type { SidebarQuery } from '../core/sidebar/protocol';

const UI_STATE_VERSION = 1;

export interface UiState {
  v: typeof UI_STATE_VERSION;
  query: SidebarQuery;
  open: Record<string, boolean>;
  chartTable: boolean;
  scrollY: number;
  /** The session whose label choices are expanded. */
  labelsFor: string | null;
}

const DEFAULT_DECISIONS = 8;

function defaultState(): UiState {
  return {
    v: UI_STATE_VERSION,
    query: { period: '7d', scope: '', decisions: DEFAULT_DECISIONS },
    open: {},
    chartTable: false,
    scrollY: 0,
    labelsFor: null,
  };
}

const isDate = (v: unknown): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

/** Reads stored state defensively: a field that is not what this build expects falls back to its default. */
export function restoreState(raw: unknown): UiState {
  const d = defaultState();
  if (!raw || typeof raw !== 'object') return d;
  const r = raw as Partial<Record<keyof UiState, unknown>>;
  if (r.v !== UI_STATE_VERSION) return d;
  const q = (r.query ?? {}) as Partial<Record<keyof SidebarQuery, unknown>>;
  const period = PERIOD_KINDS.includes(q.period as PeriodKind) ? (q.period as PeriodKind) : d.query.period;
  const decisions =
    typeof q.decisions === 'number' && Number.isInteger(q.decisions) && q.decisions >= 1 && q.decisions <= 200
      ? q.decisions
      : DEFAULT_DECISIONS;
  const query: SidebarQuery = {
    period,
    scope: typeof q.scope === 'string' && q.scope.length <= 1024 ? q.scope : '',
    decisions,
  };
  if (isDate(q.since)) query.since = q.since;
  if (isDate(q.until)) query.until = q.until;
  const open: Record<string, boolean> = {};
  if (r.open && typeof r.open === 'object')
    for (const [k, v] of Object.entries(r.open)) if (typeof v === 'boolean') open[k] = v;
  return {
    v: UI_STATE_VERSION,
    query,
    open,
    chartTable: r.chartTable === true,
    scrollY: typeof r.scrollY === 'number' && r.scrollY >= 0 ? r.scrollY : 0,
    labelsFor: typeof r.labelsFor === 'string' ? r.labelsFor : null,
  };
}

export function sameQuery(a: SidebarQuery, b: SidebarQuery): boolean {
  return (
    a.period === b.period &&
    a.scope === b.scope &&
    a.decisions === b.decisions &&
    (a.period !== 'custom' || (a.since === b.since && a.until === b.until))
  );
}
