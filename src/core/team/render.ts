/**
 * The team report as Markdown and as one self-contained HTML page (pure). Every string in it came from untrusted
 * rollup files or file names — display names, model names, repository names, subjects, reasons quoting them — so each
 * one goes through `mdText`/`htmlText` on its way out; numbers are formatted here. The page loads nothing: inline
 * styles, no script, a CSP that forbids every fetch.
 */
import { fmtInt, fmtPercent, fmtTokens, fmtUSD, noun, plural } from '../usage/format';
import { NO_ROSTER_NOTE, type DominanceFigure, type Distribution, type TeamReportJson } from './merge';
import { htmlText, mdText } from '../common/text';
import { sourceTitle } from '../usage/model';

const DOMINANCE_LABELS: Record<DominanceFigure, string> = {
  tokens: 'tokens',
  cost: 'estimated cost',
  commits: 'commits',
  tasks: 'tasks',
  prs: 'pull requests',
};

const listOf = (xs: readonly string[]): string =>
  xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;

function metricValue(d: Distribution, v: number | null): string {
  if (v === null) return '—';
  switch (d.metric) {
    case 'yield':
    case 'shareWithoutOutcome':
      return fmtPercent(v);
    case 'tokensPerCommit':
      return fmtTokens(Math.round(v));
    case 'costPerCommit':
    case 'costPerTask':
      return fmtUSD(v);
    case 'keptLinesPer1kOutput':
      return v.toFixed(2);
  }
}

const sourceLabel = (s: string, k: number): string =>
  s === 'other' ? `Other tools (grouped so that no row covers fewer than ${k} members)` : sourceTitle(s);

/** A token figure, marked ~ when some of it was estimated (counted from text or rounded by the tool), as in `report`. */
const tokens = (n: number, f: { estimatedTokens: number }): string => `${f.estimatedTokens > 0 ? '~' : ''}${fmtInt(n)}`;

function estimatedNote(
  rows: ReadonlyArray<{ estimatedTokens: number }>,
  own: (s: string) => string,
): { text: string[] } | Record<string, never> {
  return rows.some((x) => x.estimatedTokens > 0)
    ? {
        text: [
          own(
            '~ marks token figures that are partly or wholly estimated (counted from text or rounded by the tool), not reported exactly.',
          ),
        ],
      }
    : {};
}

interface Section {
  title: string;
  /** Paragraphs (already escaped per format by the caller's `esc`). */
  text?: string[];
  table?: { head: string[]; rows: string[][]; numeric: boolean[] };
}

/** The report as sections of plain strings, escaped with `esc`: both renderers share one layout. */
function sections(
  r: TeamReportJson,
  esc: (s: string) => string,
  own: (s: string) => string,
): { title: string; lead: string[]; sections: Section[] } {
  const period = r.period.since && r.period.until ? `${r.period.since} … ${r.period.until}` : 'no counted rollup';
  const zones = r.period.timezones.length ? ` (${r.period.timezones.map(esc).join(', ')})` : '';
  const f = r.files;
  const lead = [
    own(`Period: ${period}`) +
      zones +
      own(
        `. ${r.members} ${noun(r.members, 'member')} on ${r.machines} ${noun(r.machines, 'machine')}; ` +
          `${fmtInt(f.read)} rollup ${noun(f.read, 'file')} read: ${fmtInt(f.counted)} counted, ${fmtInt(f.duplicates)} duplicate, ` +
          `${fmtInt(f.superseded)} superseded, ${fmtInt(f.overlapping)} overlapping, ${fmtInt(f.empty)} empty, ${fmtInt(f.implausible)} implausible, ${fmtInt(f.refused)} refused. ` +
          `Breakdowns need at least ${r.k} members (k = ${r.k}).`,
      ),
  ];
  if (r.period.periods.length > 1) {
    lead.push(
      own(
        `The counted rollups cover different periods: ${r.period.periods.map((p) => `${p.since} … ${p.until} (${fmtInt(p.rollups)})`).join(', ')}${r.period.periods.length === 10 ? ', …' : ''}.`,
      ),
    );
  }
  if (r.named.length > 0)
    lead.push(
      `${own(r.roster ? 'Members named by the roster: ' : 'Members who chose a display name: ')}${r.named.map(esc).join(', ')}.`,
    );
  lead.push(
    r.roster
      ? `${own('Checked against the roster ')}${esc(r.roster.source)}${own(` (${plural(r.roster.keys, 'key')}): rollups signed by any other key are refused.`)}`
      : own(NO_ROSTER_NOTE),
  );
  if (f.empty > 0)
    lead.push(
      own(
        `${plural(f.empty, 'empty rollup')} (no request in the period) ignored: members count toward k only with at least one request.`,
      ),
    );
  if (r.dominated.length > 0) {
    lead.push(
      own(
        `One member accounts for more than half of the team's ${listOf(r.dominated.map((d) => DOMINANCE_LABELS[d]))}: read ${noun(r.dominated.length, 'that figure', 'those figures')} as largely one person's work (nobody is named).`,
      ),
    );
  }
  const out: Section[] = [{ title: 'Why there is no per-person figure', text: [own(r.note)] }];
  if (r.withheldBecause === 'differencing' && r.differencing) {
    const d = r.differencing;
    out.push({
      title: 'Figures withheld',
      text: [
        own(
          `The members of this report differ from those of the report published at ${d.publishedAt} for ${d.since} … ${d.until} (an overlapping period) by fewer than ${r.k} members: subtracting one report from the other would show those members' figures. Merge again when the difference is at least ${r.k} members, or for a period that does not overlap.`,
        ),
      ],
    });
  } else if (r.withheld || !r.totals || !r.outcomes) {
    out.push({
      title: 'Figures withheld',
      text: [
        own(
          `Fewer than ${r.k} members contributed (${r.members}), so no token figure, outcome or breakdown is shown: with so few people, team figures would be one person's figures. Merge again when at least ${r.k} members have shared a rollup.`,
        ),
      ],
    });
  } else {
    const t = r.totals;
    const o = r.outcomes;
    /** A section of team figures: each figure's name and its value. */
    const figures = (title: string, rows: string[][]): Section => ({
      title,
      table: { head: ['Figure', 'Value'], numeric: [false, true], rows: rows.map((row) => row.map(own)) },
    });
    out.push(
      figures('Team totals', [
        ['Tokens (input + cache + output)', tokens(t.total, t)],
        ...(t.estimatedTokens > 0
          ? [['… of which estimated (not reported exactly by the tool)', `~${fmtInt(t.estimatedTokens)}`]]
          : []),
        ['Input (not cached)', fmtInt(t.input)],
        ['Cache read', fmtInt(t.cacheRead)],
        ['Cache write', fmtInt(t.cacheWrite)],
        ['Output (incl. reasoning)', fmtInt(t.output)],
        ['Estimated cost (list prices)', fmtUSD(t.costUSD)],
        ['Requests', fmtInt(t.interactions)],
        ['Sessions', fmtInt(t.sessions)],
      ]),
    );
    out.push(
      figures('Outcomes', [
        ['Commits', fmtInt(o.commits)],
        ['Tasks', fmtInt(o.tasks)],
        ['Pull requests', fmtInt(o.prs)],
        ['Shipped sessions', fmtInt(o.shippedSessions)],
        ['Sessions without an outcome (unlinked + labelled)', fmtInt(o.unlinkedSessions + o.labelledSessions)],
        ['Yield (share of tokens in shipped sessions)', fmtPercent(o.yield)],
        ['Tokens per commit', o.tokensPerCommit === null ? '—' : fmtTokens(o.tokensPerCommit)],
        ['Cost per commit', o.costPerCommit === null ? '—' : fmtUSD(o.costPerCommit)],
        ['Cost per task', o.costPerTask === null ? '—' : fmtUSD(o.costPerTask)],
        ['Kept lines per 1k output tokens', o.keptLinesPer1kOutput === null ? '—' : o.keptLinesPer1kOutput.toFixed(2)],
        ['Tokens without an outcome', fmtInt(o.tokensWithoutOutcome)],
      ]),
    );
    out.push({
      title: 'Value metrics across members',
      text: [
        own(
          `Quartiles across the members for whom a metric is defined (for example, tokens per commit needs a commit); shown when at least ${r.k} members have it. A spread, not a ranking: nobody is named.`,
        ),
      ],
      table: {
        head: ['Metric', 'Members', 'Lower quartile', 'Median', 'Upper quartile', 'Better'],
        numeric: [false, true, true, true, true, false],
        rows: (r.distributions ?? []).map((d) =>
          [
            d.label,
            fmtInt(d.members),
            metricValue(d, d.q1),
            metricValue(d, d.median),
            metricValue(d, d.q3),
            d.better,
          ].map(own),
        ),
      },
    });
    out.push({
      title: 'By tool',
      table: {
        head: ['Tool', 'Members', 'Tokens', 'Output', 'Cost (est.)', 'Requests', 'Sessions'],
        numeric: [false, true, true, true, true, true, true],
        rows: (r.bySource ?? []).map((s) => [
          esc(sourceLabel(s.source, r.k)),
          ...[
            fmtInt(s.members),
            tokens(s.total, s),
            fmtInt(s.output),
            fmtUSD(s.costUSD),
            fmtInt(s.interactions),
            fmtInt(s.sessions),
          ].map(own),
        ]),
      },
      ...estimatedNote(r.bySource ?? [], own),
    });
    out.push({
      title: 'By model',
      table: {
        head: ['Tool', 'Model', 'Members', 'Tokens', 'Output', 'Cost (est.)', 'Requests'],
        numeric: [false, false, true, true, true, true, true],
        rows: (r.byModel ?? []).map((m) => [
          esc(m.source === 'other' ? 'Other tools' : sourceLabel(m.source, r.k)),
          esc(m.model),
          ...[fmtInt(m.members), tokens(m.total, m), fmtInt(m.output), fmtUSD(m.costUSD), fmtInt(m.interactions)].map(
            own,
          ),
        ]),
      },
      ...estimatedNote(r.byModel ?? [], own),
    });
    if (r.shared) {
      const text: string[] = [own('Members may opt in, per rollup, to share repository names and commit subjects.')];
      if (r.shared.subjects.length)
        text.push(
          `${own('Commit subjects: ')}${r.shared.subjects.slice(0, 200).map(esc).join(' · ')}${own(r.shared.subjects.length > 200 ? ` … and ${r.shared.subjects.length - 200} more` : '')}`,
        );
      out.push({
        title: 'Shared by members who opted in',
        text,
        ...(r.shared.repos.length
          ? {
              table: {
                head: ['Repository', 'Members'],
                numeric: [false, true],
                rows: r.shared.repos.map((x) => [esc(x.name), own(fmtInt(x.members))]),
              },
            }
          : {}),
      });
    }
  }
  out.push(
    r.notCounted.length === 0
      ? { title: 'Files not counted', text: [own('None: every file read was counted.')] }
      : {
          title: 'Files not counted',
          table: {
            head: ['File', 'Status', 'Reason'],
            numeric: [false, false, false],
            rows: r.notCounted.map((n) => [esc(n.file), own(n.status), esc(n.reason)]),
          },
        },
  );
  return { title: 'Team report', lead, sections: out };
}

export function renderTeamMarkdown(r: TeamReportJson): string {
  const s = sections(r, mdText, (x) => x);
  const lines: string[] = [
    `# ${s.title}`,
    '',
    ...s.lead.flatMap((l) => [l, '']),
    `_Generated by Outcome Ledger at ${r.generatedAt}._`,
    '',
  ];
  for (const sec of s.sections) {
    lines.push(`## ${sec.title}`, '');
    for (const t of sec.text ?? []) lines.push(t, '');
    if (sec.table) {
      const { head, rows, numeric } = sec.table;
      lines.push(`| ${head.join(' | ')} |`, `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`);
      for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --line: #d1d9e0; --head: #f6f8fa; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --line: #3d444d; --head: #151b23; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
.note { border-left: 4px solid var(--accent); padding: 6px 12px; background: var(--head); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
`;

export function renderTeamHtml(r: TeamReportJson): string {
  const s = sections(r, htmlText, htmlText);
  const body: string[] = [
    `<h1>${s.title}</h1>`,
    ...s.lead.map((l) => `<p>${l}</p>`),
    `<p class="muted">Generated by Outcome Ledger at ${htmlText(r.generatedAt)}.</p>`,
  ];
  for (const sec of s.sections) {
    const id = sec.title.toLowerCase().replace(/[^a-z]+/g, '-');
    body.push(`<section aria-labelledby="${id}"><h2 id="${id}">${sec.title}</h2>`);
    for (const t of sec.text ?? []) body.push(`<p${sec.title.startsWith('Why') ? ' class="note"' : ''}>${t}</p>`);
    if (sec.table) {
      const { head, rows, numeric } = sec.table;
      const cls = (i: number): string => (numeric[i] ? ' class="num"' : '');
      body.push(
        '<table>',
        `<thead><tr>${head.map((h, i) => `<th scope="col"${cls(i)}>${htmlText(h)}</th>`).join('')}</tr></thead>`,
        '<tbody>',
      );
      for (const row of rows) body.push(`<tr>${row.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`);
      body.push('</tbody></table>');
    }
    body.push('</section>');
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may load: no script, image, font or stylesheet from anywhere; only the inline style below.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>Team report${r.period.since ? ` ${htmlText(r.period.since)} … ${htmlText(r.period.until ?? '')}` : ''} — Outcome Ledger</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body><main>',
    ...body,
    '</main></body>',
    '</html>',
    '',
  ].join('\n');
}
