import { standingSuffix } from '../../core/outcomes/standing';
import type { LinkSummary } from '../../services/linker';
import type { LinkJson } from '../../services/queries';
import { plural } from '../../core/usage/format';
import { SOURCE_TITLES } from '../../core/usage/model';
import { decisionReason, noCandidateText } from '../../core/sidebar/format';
import type { SidebarSnapshot } from '../../core/sidebar/protocol';
import { fmtInt, fmtTokens, fmtUSD, table } from '../format';

/** `link show`: each link with its confidence, whether it counts, the engineer's decision and the reasons. */
export function renderLinks(sessionId: string, links: readonly LinkJson[]): string {
  if (links.length === 0)
    return `${sessionId}: no links. Run \`outcome-ledger link\`, or confirm a commit with \`outcome-ledger link confirm ${sessionId} SHA\`.`;
  const out = [`${sessionId}`];
  for (const l of links) {
    const mark = l.counted ? '✔' : '·';
    const state = l.state === 'auto' ? '' : ` [${l.state}]`;
    // A squash or merge subject usually names its PR already ("… (#71)", "Merge pull request #71 …"): not twice.
    const pr = l.pr !== null && !new RegExp(`#${l.pr}(?!\\d)`).test(l.subject) ? ` (#${l.pr})` : '';
    out.push(
      `  ${mark} ${l.confidence.toFixed(2)} ${l.commit.slice(0, 7)} ${l.subject}${pr}${state}${standingSuffix(l)}`,
    );
    if (l.why) out.push(`      ${l.why}`);
  }
  out.push('✔ counts as an outcome · confirm or reject with `outcome-ledger link confirm|reject SESSION_ID SHA`');
  return out.join('\n');
}

/** `link pending`: each session needing a decision, its best candidate with the evidence, and what to run. */
export function renderPending(d: SidebarSnapshot['decisions'], self: string): string {
  if (d.total === 0)
    return 'Nothing needs a decision: every session in this period has a counted commit, is open, or is labelled.';
  const out = [
    `${plural(d.total, 'session needs', 'sessions need')} a decision${d.rows.length < d.total ? ` (the ${d.rows.length} costliest shown; --limit for more)` : ''}:`,
  ];
  for (const r of d.rows) {
    out.push('');
    out.push(`${r.sessionId} · ${r.title}`);
    out.push(
      `  ${SOURCE_TITLES[r.source]} · ${r.start.slice(0, 10)} · ${r.estimated ? '~' : ''}${fmtTokens(r.tokens)} tokens · ${fmtUSD(r.costUSD)} · ${decisionReason(r.reason)}`,
    );
    const c = r.candidate;
    if (c) {
      out.push(
        `  candidate ${c.sha.slice(0, 7)} ${c.subject}${c.pr !== null ? ` (#${c.pr})` : ''} · ${Math.round(c.confidence * 100)}% · ${c.counted ? 'counts' : c.standing ? `not counted: ${c.standing}` : 'below the threshold'}`,
      );
      if (c.why) out.push(`    ${c.why}`);
      if (c.state !== 'confirmed')
        out.push(`  → ${self} link confirm ${r.sessionId} ${c.sha.slice(0, 7)}   (or reject)`);
    } else {
      out.push(`  ${noCandidateText(r.rejected)}`);
    }
    out.push(`  → ${self} label ${r.sessionId} exploration|learning|review|abandoned   if it was not meant to ship`);
  }
  return out.join('\n');
}

export function renderLinkSummary(s: LinkSummary): string {
  if (s.repos.length === 0)
    return 'No repositories to read: no session worked in a git repository (add one with --repo PATH).';
  const rows = s.repos.map((r) => [r.root, r.state, fmtInt(r.commitsRead), fmtInt(r.sessions)]);
  const out = [table(['repository', 'state', 'new commits', 'sessions'], rows)];
  for (const r of s.repos) if (r.note) out.push(`  ${r.root}: ${r.note}`);
  out.push(
    s.unchanged
      ? 'Nothing moved since the last run: links are current.'
      : `Scored ${fmtInt(s.sessionsScored)} sessions, ${fmtInt(s.linksWritten)} links kept.`,
  );
  if (s.durability && (s.durability.computed > 0 || s.durability.remaining > 0)) {
    out.push(
      `Durability: ${fmtInt(s.durability.computed)} commits measured (${fmtInt(s.durability.blamedFiles)} files blamed)` +
        (s.durability.remaining > 0 ? `, ${fmtInt(s.durability.remaining)} left for the next run` : '') +
        '.',
    );
  }
  out.push(
    `Done in ${(s.elapsedMs / 1000).toFixed(1)} s. See a session's links with \`outcome-ledger link show SESSION_ID\`.`,
  );
  return out.join('\n');
}
