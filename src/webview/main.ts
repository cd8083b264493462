/**
 * The sidebar's page. Handshake: restore the UI state, say `view/ready` with its query, paint every complete snapshot
 * the host sends. Painting swaps only the sections whose inputs changed and puts the focus back where it was, so a live
 * update neither flashes nor moves the reader; scroll position and filters live in getState/setState and survive a
 * reload of the page.
 */
import type { PeriodKind } from '../core/usage/periods';
import { SIDEBAR_PROTOCOL, type HostMessage, type SidebarSnapshot, type ViewMessage } from '../core/sidebar/protocol';
import { formatFigure } from '../core/sidebar/format';
import { h } from './dom';
import * as view from './render';
import { restoreState, sameQuery, type UiState } from './state';

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
  getState(): unknown;
  setState(state: UiState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
const live = document.getElementById('live') as HTMLElement;
let ui = restoreState(vscode.getState());
let snapshot: SidebarSnapshot | undefined;
let painted = false;
/** A query the user changed is on its way: its answer is not a live update. */
let asked = false;
/** Per section: the inputs it was last built from, so an unchanged section is left as it is. */
const built = new Map<string, string>();

function save(): void {
  vscode.setState(ui);
}

function post(m: ViewMessage): void {
  vscode.postMessage(m);
}

/** Reads a message out through the live region (cleared first, so the same words are announced again). */
function announce(text: string): void {
  live.textContent = '';
  window.setTimeout(() => (live.textContent = text), 30);
}

function setQuery(patch: Partial<UiState['query']>, spoken?: string): void {
  ui = { ...ui, query: { ...ui.query, ...patch } };
  save();
  asked = true;
  app.setAttribute('aria-busy', 'true');
  document.body.classList.add('busy');
  post({ type: 'view/query', query: ui.query });
  paint();
  if (spoken) announce(spoken);
}

const actions: view.Actions = {
  post,
  setPeriod(kind: PeriodKind) {
    if (kind === ui.query.period) return;
    if (kind === 'custom' && !(ui.query.since && ui.query.until) && snapshot) {
      // Start the custom range from what is shown now, so "Custom" never shows an empty period.
      setQuery({ period: kind, since: snapshot.period.since, until: snapshot.period.until }, 'Custom range');
    } else
      setQuery(
        { period: kind },
        `Showing ${kind === 'today' ? 'today' : kind === 'quarter' ? 'this quarter' : kind === 'custom' ? 'the custom range' : `the last ${kind.replace('d', ' days')}`}`,
      );
    (document.querySelector(`[data-period="${kind}"]`) as HTMLElement | null)?.focus();
  },
  setCustom(since: string, until: string) {
    if (!since || !until) return announce('Give both dates of the custom range.');
    setQuery({ period: 'custom', since, until }, `Showing ${since} to ${until}`);
  },
  setScope(scope: string) {
    setQuery(
      { scope, decisions: ui.query.decisions },
      scope ? `Showing ${scope.replace(/^(repo|task):/, '')}` : 'Showing all repositories and tasks',
    );
  },
  showMoreDecisions() {
    setQuery({ decisions: Math.min(200, ui.query.decisions + 10) });
  },
  toggle(key: string, open: boolean) {
    if (ui.open[key] === open) return;
    ui = { ...ui, open: { ...ui.open, [key]: open } };
    save();
  },
  setChartTable(shown: boolean) {
    ui = { ...ui, chartTable: shown };
    save();
    paint();
  },
  toggleLabels(sessionId: string) {
    ui = { ...ui, labelsFor: ui.labelsFor === sessionId ? null : sessionId };
    save();
    paint();
    if (ui.labelsFor)
      (
        document.querySelector(`[data-session="${CSS.escape(sessionId)}"] .label-choices button`) as HTMLElement | null
      )?.focus();
  },
};

/** Puts `el` in the slot of section `key` if its inputs changed; keeps the focused control focused. */
function place(key: string, inputs: unknown, make: () => HTMLElement | null): void {
  const sig = JSON.stringify(inputs);
  const slot = document.getElementById(`slot-${key}`) as HTMLElement;
  if (built.get(key) === sig) return;
  built.set(key, sig);
  const active = document.activeElement as HTMLElement | null;
  const focusKey = active && slot.contains(active) ? active.closest<HTMLElement>('[data-key]')?.dataset.key : undefined;
  const el = make();
  slot.replaceChildren(...(el ? [el] : []));
  if (focusKey)
    (slot.querySelector(`[data-key="${CSS.escape(focusKey)}"]`) as HTMLElement | null)?.focus({ preventScroll: true });
}

function ensureSlots(): void {
  if (document.getElementById('slot-controls')) return;
  const keys = ['controls', 'empty', 'figures', 'chart', 'decisions', 'tasks', 'selfcheck', 'health'];
  app.replaceChildren(...keys.map((k) => h('div', { id: `slot-${k}`, class: 'slot' })));
}

let chartWidth = 0;

function paint(): void {
  ensureSlots();
  const s = snapshot;
  // A first run has nothing to pick a period or a repository from.
  const empty = s?.empty ?? false;
  place('controls', empty ? null : [s ? [s.scopes, s.period, s.notice] : null, ui.query], () =>
    empty ? null : view.controls(s, ui, actions),
  );
  if (!s) return;
  place('empty', empty ? [s.health.sources] : null, () => (empty ? view.emptyState(s, actions) : null));
  place('figures', empty ? null : [s.figures, s.pricingVersion], () => (empty ? null : view.figures(s)));
  const width = chartWidth || (document.getElementById('slot-chart')?.clientWidth ?? 280) - 2;
  place('chart', empty ? null : [s.chart, ui.chartTable, width], () =>
    empty ? null : view.chart(s, ui, actions, width),
  );
  place('decisions', empty ? null : [s.decisions, ui.labelsFor, ui.open.decisions], () =>
    empty ? null : view.decisions(s, ui, actions),
  );
  place('tasks', empty ? null : [s.tasks, ui.open.tasks], () => (empty ? null : view.tasks(s, ui, actions)));
  place('selfcheck', empty ? null : [s.selfCheck, ui.open.selfcheck], () =>
    empty ? null : view.selfCheck(s, ui, actions),
  );
  // Relative times ("4 min ago") are redrawn with every snapshot; the rest of the card only when it changed.
  place('health', empty ? null : [s.health, s.seq, ui.open.health], () => (empty ? null : view.health(s, ui, actions)));
}

let readyMs = 0;

function onSnapshot(next: SidebarSnapshot): void {
  // An answer to a query the user has since changed: the answer to the newer one is on its way.
  if (!sameQuery(next.query, ui.query)) return;
  const started = performance.now();
  const before = snapshot;
  snapshot = next;
  paint();
  app.setAttribute('aria-busy', 'false');
  document.body.classList.remove('busy');
  if (!painted && ui.scrollY > 0) window.scrollTo(0, ui.scrollY);
  const liveUpdate = before !== undefined && !asked;
  asked = false;
  if (liveUpdate) {
    // A live update: say what changed in tokens, quietly.
    const was = before?.figures.find((f) => f.id === 'tokens')?.value ?? 0;
    const now = next.figures.find((f) => f.id === 'tokens')?.value ?? 0;
    if (now !== was) announce(`Updated: ${formatFigure('tokens', now)} tokens in the period.`);
  }
  const renderMs = performance.now() - started;
  const first = !painted;
  painted = true;
  // Acknowledge once the frame is on screen (the next frame, then the task after it); a hidden page has no frames.
  let sent = false;
  const ack = (): void => {
    if (sent) return;
    sent = true;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    post({
      type: 'view/rendered',
      seq: next.seq,
      renderMs,
      ...(first
        ? { firstPaintMs: performance.now(), documentMs: nav?.responseEnd ?? 0, readyMs, receivedMs: started }
        : {}),
    });
  };
  requestAnimationFrame(() => window.setTimeout(ack, 0));
  window.setTimeout(ack, 500);
}

window.addEventListener('message', (e: MessageEvent<HostMessage>) => {
  const m = e.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'host/snapshot') onSnapshot(m.snapshot);
  else if (m.type === 'host/result') {
    announce(m.message);
    const toast =
      document.getElementById('toast') ??
      document.body.appendChild(h('div', { id: 'toast', class: 'toast', 'aria-hidden': 'true' }));
    toast.textContent = m.message;
    toast.className = `toast ${m.ok ? 'ok' : 'error'} shown`;
    window.setTimeout(() => toast.classList.remove('shown'), 4000);
  }
});

let scrollTimer = 0;
window.addEventListener('scroll', () => {
  window.clearTimeout(scrollTimer);
  scrollTimer = window.setTimeout(() => {
    ui = { ...ui, scrollY: Math.round(window.scrollY) };
    save();
  }, 150);
});

// The chart is drawn for the width it has: redraw when the sidebar is resized.
const observer = new ResizeObserver(() => {
  const w = (document.getElementById('slot-chart')?.clientWidth ?? 0) - 2;
  if (w > 0 && Math.abs(w - chartWidth) >= 4) {
    chartWidth = w;
    if (snapshot) paint();
  }
});

ensureSlots();
paint();
observer.observe(document.getElementById('slot-chart') as HTMLElement);
readyMs = performance.now();
post({ type: 'view/ready', protocol: SIDEBAR_PROTOCOL, query: ui.query });
