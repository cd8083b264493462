/**
 * The sections of the view, each a pure function of the snapshot and the UI state returning fresh DOM. main.ts
 * swaps a section only when its inputs changed, so a live update leaves the rest (and the focus) alone.
 */
import { fmtInt, fmtTokens, fmtUSD, noun, plural } from '../core/usage/format';
import { PERIOD_KINDS, PERIOD_NAMES, type PeriodKind } from '../core/usage/periods';
import { SESSION_LABELS, toolList } from '../core/usage/model';
import {
  ago,
  decisionReason,
  describeChange,
  formatFigure,
  noCandidateText,
  rangeLabel,
  shortDate,
} from '../core/sidebar/format';
import type {
  Candidate,
  CommitRef,
  DecisionRow,
  Figure,
  FigureId,
  SidebarOtel,
  SidebarSnapshot,
  TaskRow,
  ViewMessage,
} from '../core/sidebar/protocol';
import { chartLegend, chartSvg, chartTable } from './chart';
import { h, srOnly, type Child, type Props } from './dom';
import type { UiState } from './state';

export interface Actions {
  post(m: ViewMessage): void;
  setPeriod(kind: PeriodKind): void;
  setCustom(since: string, until: string): void;
  setScope(scope: string): void;
  showMoreDecisions(): void;
  toggle(key: string, open: boolean): void;
  setChartTable(shown: boolean): void;
  /** Expands or collapses the label choices of a session (kept across live updates). */
  toggleLabels(sessionId: string): void;
}

const TOOL: Record<string, string> = {
  'claude-code': 'Claude Code',
  codex: 'Codex',
  'copilot-chat': 'Copilot Chat',
  kiro: 'Kiro',
  'amazon-q': 'Amazon Q',
  cursor: 'Cursor',
  'copilot-cli': 'Copilot CLI',
  amp: 'Amp',
  droid: 'Droid',
  'qwen-code': 'Qwen Code',
  kimi: 'Kimi',
  manual: 'Manual entry',
};
const toolName = (s: string): string => TOOL[s] ?? s;

function button(
  text: string,
  props: Record<string, string | ((e: Event) => void) | boolean | undefined>,
  ...extra: Child[]
): HTMLButtonElement {
  return h('button', { type: 'button', ...props }, text, ...extra);
}

function commitButton(c: CommitRef, a: Actions, key: string): HTMLButtonElement {
  return button(c.sha.slice(0, 7), {
    class: 'link mono',
    'data-key': key,
    title: `Open commit ${c.sha.slice(0, 12)} in the commit view`,
    'aria-label': `Open commit ${c.sha.slice(0, 7)}: ${c.subject}`,
    onClick: () => a.post({ type: 'commit/open', repo: c.repo, sha: c.sha }),
  });
}

// ---- controls ---------------------------------------------------------------------------------------------------

/** Period picker (a radio group: arrows move and select, as the ARIA pattern says) and the scope filter. */
export function controls(s: SidebarSnapshot | undefined, ui: UiState, a: Actions): HTMLElement {
  const current = ui.query.period;
  const radios = PERIOD_KINDS.map((kind) =>
    button(PERIOD_NAMES[kind], {
      role: 'radio',
      class: 'seg-btn',
      'aria-checked': String(kind === current),
      tabindex: kind === current ? '0' : '-1',
      'data-key': `period-${kind}`,
      'data-period': kind,
      onClick: () => a.setPeriod(kind),
    }),
  );
  const group = h('div', { role: 'radiogroup', 'aria-label': 'Period', class: 'segmented', id: 'period' }, ...radios);
  group.addEventListener('keydown', (e) => {
    const k = (e as KeyboardEvent).key;
    const i = PERIOD_KINDS.indexOf(current);
    const next =
      k === 'ArrowRight' || k === 'ArrowDown'
        ? (i + 1) % PERIOD_KINDS.length
        : k === 'ArrowLeft' || k === 'ArrowUp'
          ? (i + PERIOD_KINDS.length - 1) % PERIOD_KINDS.length
          : k === 'Home'
            ? 0
            : k === 'End'
              ? PERIOD_KINDS.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    a.setPeriod(PERIOD_KINDS[next] as PeriodKind);
  });

  const out = h('div', { class: 'controls' }, group);
  if (current === 'custom') {
    const today = new Date().toISOString().slice(0, 10);
    const dateInput = (id: string, value: string): HTMLInputElement =>
      h('input', { type: 'date', id, 'data-key': id, value, max: today, required: true });
    const since = dateInput('custom-since', ui.query.since ?? s?.period.since ?? '');
    const until = dateInput('custom-until', ui.query.until ?? s?.period.until ?? '');
    const form = h(
      'form',
      { class: 'custom-range', 'aria-label': 'Custom range' },
      h('label', { for: 'custom-since' }, 'From'),
      since,
      h('label', { for: 'custom-until' }, 'to'),
      until,
      h('button', { type: 'submit', class: 'secondary', 'data-key': 'custom-apply' }, 'Apply'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      a.setCustom(since.value, until.value);
    });
    out.append(form);
  }

  const select = h('select', { id: 'scope', 'data-key': 'scope', 'aria-label': 'Repository or task' });
  select.append(h('option', { value: '' }, 'All repositories and tasks'));
  const repos = s?.scopes.repos ?? [];
  const tasks = s?.scopes.tasks ?? [];
  if (repos.length > 0)
    select.append(
      h('optgroup', { label: 'Repository' }, ...repos.map((o) => h('option', { value: o.value }, o.label))),
    );
  if (tasks.length > 0)
    select.append(h('optgroup', { label: 'Task' }, ...tasks.map((o) => h('option', { value: o.value }, o.label))));
  select.value = ui.query.scope;
  // A scope the snapshot does not offer (yet) still shows as chosen.
  if (select.value !== ui.query.scope && ui.query.scope) {
    select.append(h('option', { value: ui.query.scope }, ui.query.scope.replace(/^(repo|task):/, '')));
    select.value = ui.query.scope;
  }
  select.addEventListener('change', () => a.setScope(select.value));
  out.append(h('div', { class: 'scope-row' }, select));

  if (s) {
    const p = s.period;
    out.append(
      h(
        'p',
        { class: 'period-label', id: 'period-label' },
        h('strong', {}, rangeLabel(p)),
        ` · vs. ${rangeLabel(p.previous)}`,
      ),
    );
    if (s.notice) out.append(h('p', { class: 'notice', role: 'note' }, s.notice));
  }
  return out;
}

// ---- headline figures --------------------------------------------------------------------------------------------

const COVERAGE_MARK = { complete: '●', partial: '◐', none: '○' } as const;
const COVERAGE_WORD = { complete: 'Complete', partial: 'Partial', none: 'No data' } as const;

function coverageMark(f: Figure): HTMLElement {
  return h(
    'span',
    {
      class: `cov cov-${f.coverage.level}`,
      title: `${COVERAGE_WORD[f.coverage.level]} coverage: ${f.coverage.note}`,
      'aria-hidden': 'true',
    },
    COVERAGE_MARK[f.coverage.level],
  );
}

const APPROX_TEXT = {
  estimated: 'Estimated: counted from text or rounded by the tool, not reported exactly.',
  mixed: 'Partly estimated: some tokens were counted from text or rounded by the tool.',
} as const;

/** `~` beside a token figure that is wholly or partly estimated (nothing for exact figures). */
function approxMark(f: Figure): HTMLElement | null {
  if (!f.accuracy || f.accuracy === 'exact') return null;
  return h(
    'span',
    { class: `approx approx-${f.accuracy}`, title: APPROX_TEXT[f.accuracy], 'aria-hidden': 'true' },
    '~',
  );
}

function change(f: Figure): HTMLElement {
  const c = describeChange(f);
  return h(
    'div',
    { class: `change tone-${c.tone}` },
    h('span', { 'aria-hidden': 'true' }, c.text),
    srOnly(c.spoken ? `, ${c.spoken}` : ''),
  );
}

/** The unrounded figure, for the tooltip ("1,234,567 tokens" behind "1.2M"). */
function exact(f: Figure): string {
  if (f.value === null) return 'no figure';
  if (f.id === 'tokens' || f.id === 'withoutOutcome' || f.id === 'tokensPerCommit')
    return `${fmtInt(Math.round(f.value))} tokens`;
  if (f.id === 'cost') return `$${f.value.toFixed(4)} (estimate)`;
  if (f.id === 'credits') return `${f.value} credits`;
  return formatFigure(f.id, f.value);
}

function tile(f: Figure, wide = false): HTMLElement {
  const labelId = `fig-${f.id}-label`;
  const el = h(
    'div',
    {
      class: `tile${wide ? ' wide' : ''}`,
      role: 'group',
      'aria-labelledby': labelId,
      'data-figure': f.id,
      id: `tile-${f.id}`,
    },
    h(
      'div',
      { class: 'tile-head' },
      h('span', { class: 'tile-label', id: labelId }, f.label),
      approxMark(f),
      coverageMark(f),
    ),
    h(
      'div',
      {
        class: 'tile-value',
        id: `fig-${f.id}`,
        'data-value': f.value === null ? '' : String(f.value),
        'data-accuracy': f.accuracy ?? '',
        title: exact(f),
      },
      formatFigure(f.id, f.value),
    ),
    change(f),
    srOnly(
      `${f.accuracy && f.accuracy !== 'exact' ? `${APPROX_TEXT[f.accuracy]} ` : ''}${COVERAGE_WORD[f.coverage.level]} coverage: ${f.coverage.note}`,
    ),
  );
  if (f.coverage.level !== 'complete')
    el.append(h('div', { class: 'tile-note', 'aria-hidden': 'true' }, f.coverage.note));
  return el;
}

const UNITS: Partial<Record<FigureId, [string, string]>> = {
  commits: ['commit', 'commits'],
  tasks: ['task', 'tasks'],
  prs: ['PR', 'PRs'],
};

function unitOf(f: Figure): string {
  const [one, many] = UNITS[f.id] ?? [f.label, f.label];
  return f.value === 1 ? one : many;
}

export function figures(s: SidebarSnapshot): HTMLElement {
  const by = new Map<FigureId, Figure>(s.figures.map((f) => [f.id, f]));
  const get = (id: FigureId): Figure => by.get(id) as Figure;
  const outcomes = ['commits', 'tasks', 'prs'].map((id) => get(id as FigureId));
  const cov = outcomes[0] as Figure;
  const outcomeTile = h(
    'div',
    { class: 'tile wide outcomes', role: 'group', 'aria-labelledby': 'fig-outcomes-label', id: 'tile-outcomes' },
    h(
      'div',
      { class: 'tile-head' },
      h('span', { class: 'tile-label', id: 'fig-outcomes-label' }, 'Outcomes'),
      coverageMark(cov),
    ),
    h(
      'div',
      { class: 'outcome-row' },
      ...outcomes.map((f) =>
        h(
          'div',
          { class: 'outcome', 'data-figure': f.id },
          h(
            'span',
            { class: 'tile-value', id: `fig-${f.id}`, 'data-value': f.value === null ? '' : String(f.value) },
            formatFigure(f.id, f.value),
          ),
          ' ',
          h('span', { class: 'outcome-unit' }, unitOf(f)),
          change(f),
        ),
      ),
    ),
    srOnly(`${COVERAGE_WORD[cov.coverage.level]} coverage: ${cov.coverage.note}`),
  );
  if (cov.coverage.level !== 'complete')
    outcomeTile.append(h('div', { class: 'tile-note', 'aria-hidden': 'true' }, cov.coverage.note));
  return h(
    'section',
    { class: 'figures', 'aria-labelledby': 'figures-title' },
    h('h2', { id: 'figures-title', class: 'sr-only' }, 'Figures for the period'),
    outcomeTile,
    // Credits only when a tool that bills in credits (Kiro, Amp) was used: beside the tokens, never folded into them.
    h(
      'div',
      { class: 'grid' },
      ...(
        [
          'tokens',
          ...(by.has('credits') ? ['credits'] : []),
          'cost',
          ...(by.has('planCost') ? ['planCost'] : []),
          'yield',
          'tokensPerCommit',
          'keptPer1k',
          'withoutOutcome',
        ] as FigureId[]
      ).map((id) => tile(get(id))),
    ),
    h(
      'p',
      { class: 'fineprint' },
      `Tokens and cost are what was spent, not a score. Costs are list-price estimates (prices ${s.pricingVersion}). Coverage: `,
      h('span', { 'aria-hidden': 'true' }, '● complete, ◐ partial, ○ no data'),
      srOnly('each figure says how complete its data is'),
      '.',
    ),
  );
}

// ---- chart -------------------------------------------------------------------------------------------------------

export function chart(s: SidebarSnapshot, ui: UiState, a: Actions, width: number): HTMLElement {
  const total = s.chart.bars.reduce((n, b) => n + b.shipped + b.open + b.without, 0);
  const commits = s.chart.bars.reduce((n, b) => n + b.commits, 0);
  const toggle = button(ui.chartTable ? 'Show chart' : 'Show table', {
    class: 'link small',
    'data-key': 'chart-toggle',
    'aria-pressed': String(ui.chartTable),
    'aria-controls': 'chart-table',
    onClick: () => a.setChartTable(!ui.chartTable),
  });
  const body: Child[] = [];
  if (total === 0) body.push(h('p', { class: 'muted' }, 'No tokens in this period.'));
  else if (!ui.chartTable) body.push(chartSvg(s.chart, width), chartLegend());
  return h(
    'section',
    { class: 'card chart-card', 'aria-labelledby': 'chart-title' },
    h(
      'div',
      { class: 'card-head' },
      h('h2', { id: 'chart-title' }, `Tokens per ${s.chart.unit}`),
      total > 0 ? toggle : null,
    ),
    h(
      'p',
      { class: 'sr-only' },
      `${fmtTokens(total)} tokens and ${commits} commits in the period; the table below has the numbers per ${s.chart.unit}.`,
    ),
    ...body,
    total > 0 ? chartTable(s.chart, ui.chartTable) : null,
  );
}

// ---- sections in disclosures -------------------------------------------------------------------------------------

function disclosure(
  key: string,
  title: string,
  count: string | null,
  ui: UiState,
  a: Actions,
  ...content: Child[]
): HTMLDetailsElement {
  const open = ui.open[key] ?? key !== 'selfcheck';
  const d = h(
    'details',
    { class: 'card', id: `section-${key}`, open },
    h(
      'summary',
      { 'data-key': `summary-${key}` },
      h('h2', {}, title),
      count !== null ? h('span', { class: 'badge' }, count) : null,
    ),
    h('div', { class: 'card-body' }, ...content),
  );
  d.addEventListener('toggle', () => a.toggle(key, d.open));
  return d;
}

function candidateLine(c: Candidate, a: Actions, key: string): HTMLElement {
  return h(
    'div',
    { class: 'candidate' },
    h(
      'div',
      { class: 'cand-head' },
      commitButton(c, a, `${key}-commit`),
      ' ',
      h('span', { class: 'subject' }, c.subject),
      c.pr !== null ? h('span', { class: 'muted' }, ` #${c.pr}`) : null,
    ),
    h(
      'div',
      { class: 'cand-meta' },
      h('span', { class: `conf ${c.counted ? 'counted' : 'uncounted'}` }, `${Math.round(c.confidence * 100)}%`),
      ` ${c.counted ? 'counts' : c.standing ? `not counted: ${c.standing}` : 'below the threshold'}${c.state === 'confirmed' ? ' · confirmed' : ''}`,
    ),
    c.why ? h('div', { class: 'why' }, c.why) : null,
  );
}

function decisionItem(d: DecisionRow, ui: UiState, a: Actions): HTMLElement {
  const key = `d-${d.sessionId}`;
  const reason = decisionReason(d.reason);
  const labelsOpen = ui.labelsFor === d.sessionId;
  const actions: Child[] = [];
  if (d.candidate && d.candidate.state !== 'confirmed') {
    actions.push(
      button('Confirm', {
        class: 'primary small',
        'data-key': `${key}-confirm`,
        'aria-label': `Confirm ${d.candidate.sha.slice(0, 7)} as this session's outcome`,
        onClick: () => a.post({ type: 'link/confirm', sessionId: d.sessionId, sha: d.candidate?.sha ?? '' }),
      }),
      button('Reject', {
        class: 'secondary small',
        'data-key': `${key}-reject`,
        'aria-label': `Reject ${d.candidate.sha.slice(0, 7)} for this session`,
        onClick: () => a.post({ type: 'link/reject', sessionId: d.sessionId, sha: d.candidate?.sha ?? '' }),
      }),
    );
  }
  actions.push(
    button('Relink…', {
      class: 'secondary small',
      'data-key': `${key}-relink`,
      title: 'Pick the commit this session produced',
      onClick: () => a.post({ type: 'link/relink', sessionId: d.sessionId }),
    }),
    button('Label…', {
      class: 'secondary small',
      'data-key': `${key}-label`,
      'aria-expanded': String(labelsOpen),
      onClick: () => a.toggleLabels(d.sessionId),
    }),
  );
  return listRow(
    { class: 'decision', 'data-session': d.sessionId },
    [
      d.hasLog
        ? button(d.title, {
            class: 'link title',
            'data-key': `${key}-open`,
            title: 'Open the session log',
            onClick: () => a.post({ type: 'session/open', sessionId: d.sessionId }),
          })
        : h('span', { class: 'title' }, d.title),
    ],
    h(
      'div',
      { class: 'meta' },
      `${toolName(d.source)} · ${shortDate(d.start.slice(0, 10))} · ${d.estimated ? '~' : ''}${fmtTokens(d.tokens)} tokens${d.estimated ? ' (estimated)' : ''} · ${fmtUSD(d.costUSD)} · `,
      h('span', { class: `status status-${d.status}` }, reason),
    ),
    d.candidate ? candidateLine(d.candidate, a, key) : h('div', { class: 'why' }, noCandidateText(d.rejected)),
    h('div', { class: 'actions', role: 'group', 'aria-label': `Decide on ${d.title}` }, ...actions),
    labelsOpen
      ? h(
          'div',
          { class: 'label-choices', role: 'group', 'aria-label': 'Label as' },
          ...SESSION_LABELS.map((l) =>
            button(l, {
              class: 'chip',
              'data-key': `${key}-label-${l}`,
              onClick: () => a.post({ type: 'session/label', sessionId: d.sessionId, label: l }),
            }),
          ),
          h('span', { class: 'muted small-text' }, 'Labelled tokens still count as without outcome.'),
        )
      : null,
  );
}

export function decisions(s: SidebarSnapshot, ui: UiState, a: Actions): HTMLElement {
  const rows = s.decisions.rows;
  const content: Child[] = [];
  if (rows.length === 0)
    content.push(
      h('p', { class: 'muted' }, 'Nothing to decide in this period: every session is linked, open or labelled.'),
    );
  else content.push(h('ul', { class: 'list', id: 'decisions' }, ...rows.map((d) => decisionItem(d, ui, a))));
  if (s.decisions.total > rows.length) {
    content.push(
      button(`Show more (${s.decisions.total - rows.length} more)`, {
        class: 'link',
        'data-key': 'decisions-more',
        onClick: () => a.showMoreDecisions(),
      }),
    );
  }
  return disclosure('decisions', 'Needs a decision', fmtInt(s.decisions.total), ui, a, ...content);
}

function taskItem(t: TaskRow, a: Actions): HTMLElement {
  return listRow(
    { class: 'task', 'data-task': t.task },
    [
      h('span', { class: 'title mono' }, t.task),
      h('span', { class: t.delivered ? 'pill delivered' : 'pill' }, t.delivered ? 'delivered' : 'no outcome yet'),
    ],
    h(
      'div',
      { class: 'meta' },
      `${t.estimated ? '~' : ''}${fmtTokens(t.tokens)} tokens${t.estimated ? ' (partly estimated)' : ''} · ${fmtUSD(t.costUSD)} · ${plural(t.sessions, 'session')} · ${plural(t.commits.length, 'commit')}${t.prs.length ? ` · PR ${t.prs.map((p) => `#${p}`).join(', ')}` : ''}`,
    ),
    t.commits.length > 0
      ? h(
          'ul',
          { class: 'commits' },
          ...t.commits.map((c) =>
            h('li', {}, commitButton(c, a, `t-${t.task}-${c.sha}`), ' ', h('span', { class: 'subject' }, c.subject)),
          ),
        )
      : null,
  );
}

export function tasks(s: SidebarSnapshot, ui: UiState, a: Actions): HTMLElement {
  const content: Child[] =
    s.tasks.rows.length === 0
      ? [
          h(
            'p',
            { class: 'muted' },
            'No task keys (like PAY-7 or #12) in branch names or linked commits in this period.',
          ),
        ]
      : [h('ul', { class: 'list', id: 'tasks' }, ...s.tasks.rows.map((t) => taskItem(t, a)))];
  if (s.tasks.total > s.tasks.rows.length)
    content.push(h('p', { class: 'muted' }, `and ${s.tasks.total - s.tasks.rows.length} more tasks`));
  return disclosure('tasks', 'Tasks', fmtInt(s.tasks.total), ui, a, ...content);
}

export function selfCheck(s: SidebarSnapshot, ui: UiState, a: Actions): HTMLElement {
  const c = s.selfCheck;
  const share = (tokens: number): string =>
    c.tokens > 0 ? ` (${((tokens / c.tokens) * 100).toFixed(tokens / c.tokens < 0.1 ? 1 : 0)}% of the period)` : '';
  const examples = (ids: readonly string[]): Child =>
    ids.length === 0
      ? null
      : h(
          'div',
          { class: 'examples' },
          'Look at: ',
          ...ids.flatMap((id, i) => [
            i > 0 ? ', ' : '',
            button(id.split(':')[1]?.slice(0, 8) ?? id, {
              class: 'link mono',
              'data-key': `sc-${id}`,
              title: 'Open the session log',
              onClick: () => a.post({ type: 'session/open', sessionId: id }),
            }),
          ]),
        );
  /** A signal measured in sessions and their tokens, with the sessions to look at. */
  const signal = (name: string, x: (typeof c)['contextPadding']): [string, string, string, Child] => [
    name,
    x.sessions === 0 ? 'none' : `${x.sessions} sessions · ${fmtTokens(x.tokens)} tokens${share(x.tokens)}`,
    x.rule,
    examples(x.examples),
  ];
  const items: Array<[string, string, string, Child]> = [
    [
      'Repeated prompts',
      c.repeatedPrompts.prompts === 0
        ? 'none'
        : `${plural(c.repeatedPrompts.prompts, 'prompt')} sent ${c.repeatedPrompts.prompts + c.repeatedPrompts.repeats} times in ${plural(c.repeatedPrompts.sessions, 'session')}`,
      c.repeatedPrompts.rule,
      null,
    ],
    signal('Context padding', c.contextPadding),
    signal('Loops without edits', c.loopsWithoutEdits),
    signal('Long, nothing shipped', c.longWithoutOutcome),
  ];
  const flagged = items.filter(([, v]) => v !== 'none').length;
  return disclosure(
    'selfcheck',
    'Self-check',
    flagged === 0 ? null : String(flagged),
    ui,
    a,
    h('p', { class: 'muted' }, 'Private: your own mirror, never exported or shared.'),
    h(
      'dl',
      { class: 'signals' },
      ...items.flatMap(([name, value, rule, ex]) => [
        h('dt', {}, name),
        h(
          'dd',
          {},
          h('span', { class: value === 'none' ? 'muted' : '' }, value),
          h('div', { class: 'rule' }, rule),
          ex,
        ),
      ]),
    ),
  );
}

type HealthSourceView = SidebarSnapshot['health']['sources'][number];

/**
 * The folders worth naming: those that exist, else the first few looked in (Copilot Chat looks in the user folders
 * of every VS Code build, most of which a machine does not have).
 */
function shownRoots(src: HealthSourceView): { roots: HealthSourceView['roots']; more: number } {
  const existing = src.roots.filter((r) => r.exists);
  const roots = existing.length > 0 ? existing : src.roots.slice(0, 3);
  return { roots, more: src.roots.length - roots.length };
}

function rootList(src: HealthSourceView, missing: string, present: string): Child[] {
  const { roots, more } = shownRoots(src);
  return [
    ...roots.flatMap((r, i) => [i > 0 ? ', ' : '', h('code', {}, r.path), r.exists ? present : missing]),
    more > 0 ? ` (and ${more} other places)` : '',
  ];
}

/** A list's row: its head line (a title and what it is in a word or two), then the lines under it. */
function listRow(props: Props, head: Child[], ...body: Child[]): HTMLElement {
  return h('li', props, h('div', { class: 'row-head' }, ...head), ...body);
}

/** A source's row in Data health, headed by found or not (a dot), its name and its state. */
function sourceRow(src: HealthSourceView, state: string, ...body: Child[]): HTMLElement {
  return listRow(
    { class: 'source', 'data-source': src.source },
    [
      h('span', { class: `dot ${src.found ? 'found' : 'missing'}`, 'aria-hidden': 'true' }, src.found ? '●' : '○'),
      h('span', { class: 'title' }, src.name),
      h('span', { class: 'muted' }, state),
    ],
    ...body,
  );
}

function manualSource(src: HealthSourceView, now: number): HTMLElement {
  return sourceRow(
    src,
    src.found ? 'logged by hand' : 'none',
    h(
      'div',
      { class: 'meta' },
      src.found
        ? `${fmtInt(src.interactions)} interactions · last ${ago(src.last, now)}`
        : 'Log a web chat with "Log an AI Interaction…" in the Sessions view.',
    ),
    ...src.gaps.map((g) => h('div', { class: 'gap' }, g)),
  );
}

export function health(s: SidebarSnapshot, ui: UiState, a: Actions): HTMLElement {
  const now = Date.now();
  const h0 = s.health;
  const sources = h0.sources.map((src) =>
    src.source === 'manual'
      ? manualSource(src, now)
      : sourceRow(
          src,
          src.enabled ? (src.found ? 'found' : 'not found') : 'off in settings',
          src.found
            ? h(
                'div',
                { class: 'meta' },
                `${fmtInt(src.files)} ${noun(src.files, 'file')} · ${fmtInt(src.interactions)} ${noun(src.interactions, 'request')}${src.viaOtlp ? ` (${fmtInt(src.viaOtlp)} via OTLP, no log file yet)` : ''} · last record ${ago(src.last, now)}`,
                src.rejectedLines > 0
                  ? h(
                      'span',
                      { class: 'warn' },
                      ` · ${fmtInt(src.rejectedLines)} ${noun(src.rejectedLines, 'line')} rejected`,
                    )
                  : ' · no rejected lines',
              )
            : null,
          h('div', { class: 'paths' }, `${src.found ? 'Reads' : 'Looked in'} `, ...rootList(src, ' (missing)', '')),
          ...src.reasons.map((r) =>
            h(
              'div',
              { class: 'why' },
              `${r.path.split('/').pop() ?? r.path}${r.lineNo > 0 ? `:${r.lineNo}` : ''}: ${r.reason}`,
            ),
          ),
          ...src.gaps.map((g) => h('div', { class: 'gap' }, h('strong', {}, 'Known gap: '), g)),
        ),
  );
  const missing = h0.sources.filter((x) => !x.found && x.source !== 'manual').length;
  return disclosure(
    'health',
    'Data health',
    missing > 0 ? `${missing} not found` : null,
    ui,
    a,
    h('ul', { class: 'list', id: 'health-sources' }, ...sources),
    h(
      'p',
      { class: 'meta' },
      `Last new data ${ago(h0.ledger.lastNewData, now)} · first import ${h0.ledger.firstImport ? shortDate(h0.ledger.firstImport.slice(0, 10), true) : 'never'} · ledger ${(h0.ledger.bytes / 1024 / 1024).toFixed(1)} MB`,
    ),
    h(
      'p',
      { class: 'meta' },
      `Linking: ${plural(h0.linking.repos, 'repository', 'repositories')} read.`,
      h0.linking.note ? h('span', { class: 'warn' }, ` ${h0.linking.note}`) : null,
    ),
    h0.otel ? otelReceiver(h0.otel, now) : null,
    h0.otelProblem
      ? h(
          'p',
          { class: 'meta', id: 'health-otel-problem' },
          h('span', { class: 'warn' }, `OpenTelemetry receiver of this window: ${h0.otelProblem}`),
        )
      : null,
    h(
      'div',
      { class: 'actions' },
      button('Import Now', {
        class: 'secondary small',
        'data-key': 'health-import',
        onClick: () => a.post({ type: 'command/run', command: 'importNow' }),
      }),
      button('Full report', {
        class: 'secondary small',
        'data-key': 'health-report',
        title: 'Show Data Health',
        onClick: () => a.post({ type: 'command/run', command: 'showDataHealth' }),
      }),
    ),
  );
}

/** The local OpenTelemetry receiver's last status: where it listens (or when it stopped), what it recorded, forwarding. */
function otelReceiver(o: SidebarOtel, now: number): HTMLElement {
  return h(
    'p',
    { class: 'meta', id: 'health-otel' },
    `OpenTelemetry receiver: ${o.stopped ? `stopped ${ago(o.stopped, now)} (was on ${o.address})` : `listening on ${o.address} since ${ago(o.since, now)}`} · ${plural(o.recorded, 'request')} recorded, ${fmtInt(o.duplicates)} already in the ledger`,
    o.rejected + o.refused > 0
      ? h(
          'span',
          { class: 'warn' },
          ` · ${fmtInt(o.rejected)} rejected, ${plural(o.refused, 'body', 'bodies')} refused`,
        )
      : null,
    o.forwardUrl ? ` · forwarding to ${o.forwardUrl}: ${fmtInt(o.forwarded)} sent` : null,
    o.forwardUrl && o.forwardFailed > 0 ? h('span', { class: 'warn' }, `, ${fmtInt(o.forwardFailed)} failed`) : null,
  );
}

/** A first run: what was looked for, where, and what to do. */
export function emptyState(s: SidebarSnapshot, a: Actions): HTMLElement {
  return h(
    'section',
    { class: 'empty', id: 'empty', 'aria-labelledby': 'empty-title' },
    h('h2', { id: 'empty-title' }, 'No AI-assistant usage recorded yet'),
    h(
      'p',
      {},
      'Outcome Ledger reads the logs your AI tools already write, on this machine only, and shows what each token produced.',
    ),
    h('h3', {}, 'Where it looked'),
    h(
      'ul',
      { class: 'looked', id: 'empty-sources' },
      ...s.health.sources
        .filter((src) => src.source !== 'manual')
        .map((src) =>
          h(
            'li',
            { 'data-source': src.source },
            h('strong', {}, src.name),
            src.enabled ? '' : ' (off in settings)',
            ': ',
            ...rootList(src, ' (not found)', ' (no logs)'),
          ),
        ),
    ),
    h('h3', {}, 'What to do next'),
    h(
      'ol',
      { class: 'steps' },
      h(
        'li',
        {},
        `Work with ${toolList('or')} in a git repository: sessions show up here within seconds, with the commits they led to.`,
      ),
      h(
        'li',
        {},
        'Used a web chat? Log it with "Log an AI Interaction…" in the Sessions view (counts, or text to estimate them from).',
      ),
      h(
        'li',
        {},
        "Logs somewhere else? Add the folder to a source's extra paths. ",
        button('Open Settings', {
          class: 'link',
          'data-key': 'empty-settings',
          onClick: () => a.post({ type: 'command/run', command: 'openSettings' }),
        }),
      ),
      h(
        'li',
        {},
        'Already used them here? ',
        button('Import Now', {
          class: 'primary small',
          'data-key': 'empty-import',
          id: 'empty-import',
          onClick: () => a.post({ type: 'command/run', command: 'importNow' }),
        }),
      ),
    ),
    h(
      'p',
      { class: 'muted' },
      'Nothing leaves this machine. Only a hash of each prompt is kept unless you opt in to storing prompt text.',
    ),
  );
}
