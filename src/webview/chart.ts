/**
 * Tokens per day as stacked bars — shipped (sessions with a counted commit), open (may still ship) and without an
 * outcome — with the days commits were made marked above the bars. The SVG is for the eye (aria-hidden); the same
 * numbers are in a real table, always in the document for screen readers and shown on request to everyone.
 */
import { fmtInt, fmtTokens, plural } from '../core/usage/format';
import { niceMax, shortDate } from '../core/sidebar/format';
import type { ChartBar, SidebarSnapshot } from '../core/sidebar/protocol';
import { h, svg } from './dom';

const HEIGHT = 112;
const TOP = 14; // room for the commit marks above the tallest bar
const BOTTOM = 16; // the date labels

const SERIES: Array<{ key: 'shipped' | 'open' | 'without'; label: string; cls: string }> = [
  { key: 'shipped', label: 'Shipped', cls: 'shipped' },
  { key: 'open', label: 'Open', cls: 'open' },
  { key: 'without', label: 'Without outcome', cls: 'without' },
];

function barTitle(b: ChartBar, unit: 'day' | 'week'): string {
  const total = b.shipped + b.open + b.without;
  const when = unit === 'week' ? `week of ${shortDate(b.date)}` : shortDate(b.date);
  const parts = [`${when}: ${fmtTokens(total)} tokens`];
  if (total > 0)
    parts.push(`${fmtTokens(b.shipped)} shipped, ${fmtTokens(b.open)} open, ${fmtTokens(b.without)} without outcome`);
  if (b.commits > 0) parts.push(plural(b.commits, 'commit'));
  return parts.join(' · ');
}

/** The SVG for `width` CSS pixels. */
export function chartSvg(chart: SidebarSnapshot['chart'], width: number): SVGSVGElement {
  const bars = chart.bars;
  const w = Math.max(120, Math.floor(width));
  const max = niceMax(Math.max(1, ...bars.map((b) => b.shipped + b.open + b.without)));
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = w / Math.max(1, bars.length);
  const gap = slot >= 6 ? Math.min(3, slot * 0.2) : 0.5;
  const bw = Math.max(1, slot - gap);
  const y = (v: number): number => TOP + plotH - (v / max) * plotH;
  const root = svg('svg', {
    class: 'chart',
    width: w,
    height: HEIGHT,
    viewBox: `0 0 ${w} ${HEIGHT}`,
    'aria-hidden': 'true',
    focusable: 'false',
  });
  // Gridlines at the top value and half of it, labelled inside the plot (no axis column at sidebar width).
  for (const v of [max, max / 2]) {
    root.append(svg('line', { class: 'gridline', x1: 0, x2: w, y1: y(v), y2: y(v) }));
    root.append(svg('text', { class: 'axis value', x: 2, y: y(v) - 3 }, axisLabel(v)));
  }
  root.append(svg('line', { class: 'baseline', x1: 0, x2: w, y1: y(0), y2: y(0) }));
  bars.forEach((b, i) => {
    const x = i * slot + gap / 2;
    const g = svg('g', { class: 'bar' }, svg('title', {}, barTitle(b, chart.unit)));
    let base = 0;
    for (const s of SERIES) {
      const v = b[s.key];
      if (v <= 0) continue;
      const top = y(base + v);
      g.append(
        svg('rect', {
          class: `seg ${s.cls}`,
          x: x.toFixed(2),
          y: top.toFixed(2),
          width: bw.toFixed(2),
          height: Math.max(0.5, y(base) - top).toFixed(2),
        }),
      );
      base += v;
    }
    // An invisible full-height target, so the tooltip shows on empty days too.
    g.append(svg('rect', { class: 'hit', x: x.toFixed(2), y: TOP, width: bw.toFixed(2), height: plotH }));
    if (b.commits > 0) {
      const cx = x + bw / 2;
      const cy = Math.max(4, y(base) - 5);
      g.append(
        svg('path', {
          class: 'commit-mark',
          d: `M ${cx.toFixed(2)} ${(cy - 3.5).toFixed(2)} l 3.5 3.5 l -3.5 3.5 l -3.5 -3.5 z`,
        }),
      );
    }
    root.append(g);
  });
  // Dates: first, middle, last (as many as fit at sidebar width).
  const labelAt = bars.length >= 7 ? [0, Math.floor((bars.length - 1) / 2), bars.length - 1] : bars.map((_, i) => i);
  for (const i of new Set(labelAt)) {
    const b = bars[i];
    if (!b) continue;
    const cx = i * slot + slot / 2;
    const anchor = i === 0 && bars.length > 1 ? 'start' : i === bars.length - 1 && bars.length > 1 ? 'end' : 'middle';
    const x = anchor === 'start' ? Math.max(0, i * slot) : anchor === 'end' ? Math.min(w, (i + 1) * slot) : cx;
    root.append(
      svg('text', { class: 'axis', x: x.toFixed(2), y: HEIGHT - 3, 'text-anchor': anchor }, shortDate(b.date)),
    );
  }
  return root;
}

export function chartLegend(): HTMLElement {
  return h(
    'ul',
    { class: 'legend', 'aria-hidden': 'true' },
    ...SERIES.map((s) => h('li', {}, h('span', { class: `swatch ${s.cls}` }), s.label)),
    h('li', {}, h('span', { class: 'swatch commit' }), 'Commit'),
  );
}

/**
 * The same numbers as a table: the screen reader's chart, and everyone's on request. The hiding is on a wrapper: a
 * table does not shrink to the 1 px of the visually-hidden pattern and would widen the page.
 */
export function chartTable(chart: SidebarSnapshot['chart'], shown: boolean): HTMLDivElement {
  const head = chart.unit === 'week' ? 'Week of' : 'Day';
  return h(
    'div',
    { class: shown ? 'table-wrap' : 'table-wrap sr-only', id: 'chart-table' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', {}, `Tokens per ${chart.unit}: shipped, open and without outcome, and commits`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...[head, 'Shipped', 'Open', 'Without outcome', 'Commits'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        ...chart.bars.map((b) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, shortDate(b.date)),
            h('td', {}, fmtTokens(b.shipped)),
            h('td', {}, fmtTokens(b.open)),
            h('td', {}, fmtTokens(b.without)),
            h('td', {}, fmtInt(b.commits)),
          ),
        ),
      ),
    ),
  );
}

/** Axis labels: "250k", "1M", "2.5M" (no decimals a gridline does not need). */
function axisLabel(v: number): string {
  if (v >= 1e9) return `${+(v / 1e9).toFixed(1)}B`;
  if (v >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v));
}
