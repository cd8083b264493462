/** The manifest of a summary: which parts get their own digest, and how each is named to a person (pure). */
import type { Summary } from './schema';
import { TOKEN_WORDS } from '../usage/tokens';

export interface ManifestEntry {
  /** Stable key, e.g. `totals`, `tasks[2]`, `trend[0]`. */
  key: string;
  /** What a person reads, e.g. `the figures of task PAY-7`. */
  label: string;
  value: unknown;
  /** The section a figure belongs to: when the figure's digest fails, naming the figure says more than the section. */
  parent?: string;
}

/** The headline figures get a digest each, so `verify` names the very figure that was changed. */
const FIGURE_WORDS: Record<string, string> = {
  ...TOKEN_WORDS,
  costUSD: 'estimated cost',
  interactions: 'number of requests',
  sessions: 'number of sessions',
  unpricedInteractions: 'number of unpriced requests',
  commits: 'number of outcomes (commits)',
  tasks: 'number of tasks delivered',
  prs: 'number of pull requests',
  shippedSessions: 'number of shipped sessions',
  openSessions: 'number of open sessions',
  unlinkedSessions: 'number of unlinked sessions',
  labelledSessions: 'number of labelled sessions',
  yield: 'yield',
  tokensPerCommit: 'tokens per commit',
  costPerCommit: 'cost per commit',
  tokensPerCommitMedian: 'median tokens per commit',
  costPerCommitMedian: 'median cost per commit',
  tokensPerTask: 'tokens per task',
  costPerTask: 'cost per task',
  tokensPerTaskMedian: 'median tokens per task',
  costPerTaskMedian: 'median cost per task',
  tokensWithoutOutcome: 'tokens without outcome',
  keptLines: 'kept lines',
  keptLinesPer1kOutput: 'kept lines per 1k output tokens',
  pendingCommits: 'number of pending outcomes',
  reverted: 'number of reverted commits',
  unmerged: 'number of commits not merged',
  authoredByOthers: 'number of commits authored by someone else',
};

const SECTION_LABELS: Record<string, string> = {
  generatedAt: 'the export time',
  tool: 'the tool name and version',
  period: 'the period',
  redacted: 'the redaction settings',
  settings: 'the link threshold and durability settings',
  pricing: 'the price-table version',
  totals: 'the token and cost totals',
  outcomes: 'the outcome figures (commits, tasks, yield, cost per commit and per task, kept lines)',
  tasks: 'the list of tasks',
  notCounted: 'the linked commits not counted (reverted, not merged, authored by someone else)',
  trend: 'the weekly trend',
  withoutOutcome: 'the tokens without outcome',
  bySource: 'the figures by tool',
  byModel: 'the figures by model',
  coverage: 'the coverage and limits',
  claim: 'the statement of what the signature proves',
  records: 'the digest of the ledger records',
};

/** Every top-level section, plus each task, week and group on its own (so a change is named precisely). */
export function manifestEntries(s: Summary): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const key of Object.keys(SECTION_LABELS)) {
    const v = (s as Record<string, unknown>)[key];
    if (v === undefined) continue; // an optional section this file does not have
    if (key === 'tasks') {
      out.push({ key: 'tasks', label: SECTION_LABELS.tasks as string, value: s.tasks.map((t) => t.task) });
      s.tasks.forEach((t, i) =>
        out.push({
          key: `tasks[${i}]`,
          label: `the figures or citations of ${t.task === null ? 'the outcomes without a task key' : `task ${t.task}`}`,
          value: t,
        }),
      );
    } else if (key === 'trend') {
      out.push({ key: 'trend', label: SECTION_LABELS.trend as string, value: s.trend.map((w) => w.since) });
      s.trend.forEach((w, i) =>
        out.push({ key: `trend[${i}]`, label: `the figures of the week ${w.since} – ${w.until}`, value: w }),
      );
    } else if (key === 'withoutOutcome') {
      const { groups, ...rest } = s.withoutOutcome;
      out.push({
        key: 'withoutOutcome',
        label: SECTION_LABELS.withoutOutcome as string,
        value: { ...rest, groups: groups.map((g) => g.status) },
      });
      groups.forEach((g, i) =>
        out.push({
          key: `withoutOutcome.groups[${i}]`,
          label: `the ${g.status} tokens and the sessions they cite`,
          value: g,
        }),
      );
    } else {
      out.push({ key, label: SECTION_LABELS[key] as string, value: v });
      if (key === 'totals' || key === 'outcomes') {
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
          out.push({
            key: `${key}.${k}`,
            label: `the ${FIGURE_WORDS[k] ?? k}${key === 'totals' ? ' in the totals' : ''}`,
            value: x,
            parent: key,
          });
        }
      }
    }
  }
  return out;
}
