import * as fs from 'node:fs';
import { decide } from '../../services/decisions';
import {
  DEFAULT_DURABILITY_DAYS,
  linkAll,
  LinkConfigError,
  type LinkRunOptions,
  type LinkSummary,
} from '../../services/linker';
import { keepIdentities, linksOf, resolveSession } from '../../services/queries';
import {
  durabilityDaysOf,
  identitiesArg,
  LINK_VIEW_OPTIONS,
  numberOption,
  periodQueryOf,
  thresholdOf,
  UsageError,
  type Parsed,
} from '../args';
import type { Command } from '../command';
import { didYouMean } from '../suggest';
import type { CliIo } from '../io';
import { GIT_MISSING, withLedger } from '../ledger';
import { renderLinks, renderLinkSummary, renderPending } from '../render/links';
import { pendingDecisions } from '../../services/sidebar';
import { collectGarbage } from '../v8';

/** `link confirm|reject|reset SESSION_ID COMMIT_SHA`: the engineer's decision on one pair. */
async function linkDecide(p: Parsed, sub: 'confirm' | 'reject' | 'reset', args: string[], io: CliIo): Promise<number> {
  const [session, sha, ...rest] = args;
  if (!session || !sha || rest.length > 0) throw new UsageError(`link ${sub} needs SESSION_ID and COMMIT_SHA`);
  return withLedger(p, io, async (ledger) => {
    const d = await decide(
      ledger,
      session,
      sha,
      sub === 'confirm' ? 'confirmed' : sub === 'reject' ? 'rejected' : 'auto',
    );
    const what = sub === 'confirm' ? 'Confirmed' : sub === 'reject' ? 'Rejected' : 'Forgot your decision on';
    io.out(`${what} ${d.sessionId} → ${d.sha.slice(0, 7)} ${d.subject}`);
    return 0;
  });
}

/** `link show SESSION_ID`: a session's links with their evidence. */
async function linkShow(p: Parsed, args: string[], io: CliIo): Promise<number> {
  const [session, ...rest] = args;
  if (!session || rest.length > 0) throw new UsageError('link show needs SESSION_ID');
  const threshold = thresholdOf(p);
  return withLedger(p, io, (ledger) => {
    const s = resolveSession(ledger.database, session);
    const links = linksOf(ledger.database, [s.ref], threshold, identitiesArg(p).identities).get(s.ref) ?? [];
    io.out(p.values.json ? JSON.stringify({ session: s.id, links }, null, 2) : renderLinks(s.id, links));
    return 0;
  });
}

/** `link pending`: the sessions that need a decision (the sidebar's list), with the evidence for each. */
async function linkPending(p: Parsed, args: string[], io: CliIo): Promise<number> {
  if (args.length > 0) throw new UsageError('link pending takes options only (--since, --until, --limit, --json)');
  const query = periodQueryOf(p, io.env);
  const limit = numberOption(p, 'limit', 1, 10_000) ?? 20;
  return withLedger(p, io, (ledger) => {
    const d = pendingDecisions(ledger.database, { ...query, limit });
    io.out(p.values.json ? JSON.stringify(d, null, 2) : renderPending(d, io.self ?? 'outcome-ledger'));
    return 0;
  });
}

/** `link`: reads the histories and links sessions to commits. */
async function linkRun(p: Parsed, io: CliIo): Promise<number> {
  const windowHours = numberOption(p, 'window-hours', 0.25, 24 * 30);
  const patterns = p.values['task-pattern'] as string[] | undefined;
  const options: LinkRunOptions = {
    repos: (p.values.repo as string[] | undefined) ?? [],
    full: p.values.full === true,
    durabilityDays: durabilityDaysOf(p),
    skipDurability: p.values['no-durability'] === true,
    // A first pass over a big history blames many files: stop after a while, the next run goes on from there.
    durabilityBudgetMs: 60_000,
    config: { ...(windowHours !== undefined ? { windowHours } : {}), ...(patterns ? { taskPatterns: patterns } : {}) },
    betweenSteps: collectGarbage,
  };
  for (const r of options.repos ?? []) if (!fs.existsSync(r)) throw new UsageError(`--repo ${r}: no such folder`);
  const kept = identitiesArg(p).identities;
  return withLedger(p, io, async (ledger) => {
    // `link --identity` keeps the list (like --task-pattern) for every later report, summary and rollup.
    if (kept) await ledger.write((db) => keepIdentities(db, kept));
    let summary: LinkSummary;
    try {
      summary = await linkAll(ledger, options);
    } catch (e) {
      if (e instanceof LinkConfigError) throw new UsageError(e.message);
      throw e;
    }
    if (summary.gitMissing) {
      io.err(`outcome-ledger: ${GIT_MISSING}`);
      return 1;
    }
    io.out(p.values.json ? JSON.stringify(summary, null, 2) : renderLinkSummary(summary));
    return 0;
  });
}

export const linkCommand: Command = {
  name: 'link',
  summary: 'link sessions to the commits, tasks and PRs they produced (git history, incremental)',
  help: `Usage: outcome-ledger link [--repo PATH]... [--full] [--window-hours H] [--task-pattern REGEX]... [--json]
       outcome-ledger link pending [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--limit N] [--json]
       outcome-ledger link show SESSION_ID [--threshold X] [--json]
       outcome-ledger link confirm|reject|reset SESSION_ID COMMIT_SHA

Reads the history of every repository sessions worked in (and any --repo), incrementally, and links each
session to the commits it produced, with evidence and a confidence. Links you confirmed or rejected are
never changed; \`reset\` forgets your decision on a pair. \`pending\` lists the sessions that need your decision
(the sidebar's "Needs a decision"): no counted commit, a low-confidence link, or a possible commit below the
threshold, costliest first, each with its best candidate and the evidence. Durability (lines still present at HEAD after
--durability-days) is computed for linked commits with git blame.

  --repo PATH            also read this repository
  --full                 re-score every session (after changing how linking works)
  --window-hours H       how long after a session's last reply a commit can be its outcome (default 24; kept)
  --task-pattern REGEX   task key pattern, repeatable (default: ABC-123, #123, GH-123; kept until changed)
  --identity EMAIL       an author email that is yours besides your git user.email, repeatable (kept until changed)
  --durability-days N    age from which kept lines are judged (default ${DEFAULT_DURABILITY_DAYS})
  --no-durability        link only; leave kept lines (git blame) for a later run
  --threshold X          (show) confidence from which an automatic link counts (default 0.6)
  --since, --until DATE  (pending) the period (days in --tz; default: all history)
  --limit N              (pending) how many sessions to list (default 20)
  --json                 print JSON`,
  examples: [
    ['outcome-ledger link', 'read new commits and link new sessions'],
    ['outcome-ledger link pending --since 2026-11-01', 'what needs your decision this month'],
    ['outcome-ledger link show claude-code:5f0c', "a session's links and why"],
    ['outcome-ledger link confirm claude-code:5f0c 3fa2b1c', "this commit is that session's outcome"],
  ],
  options: {
    repo: { type: 'string', multiple: true },
    full: { type: 'boolean' },
    'window-hours': { type: 'string' },
    'task-pattern': { type: 'string', multiple: true },
    'no-durability': { type: 'boolean' },
    json: { type: 'boolean' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    ...LINK_VIEW_OPTIONS,
  },
  positionals: true,
  async run(p, io) {
    const [sub, ...args] = p.positionals;
    if (sub === 'confirm' || sub === 'reject' || sub === 'reset') return linkDecide(p, sub, args, io);
    if (sub === 'show') return linkShow(p, args, io);
    if (sub === 'pending') return linkPending(p, args, io);
    if (sub !== undefined)
      throw new UsageError(
        `unknown link subcommand "${sub}"${didYouMean(sub, ['pending', 'show', 'confirm', 'reject', 'reset']) || ' (use pending, show, confirm, reject or reset; see --help)'}`,
      );
    return linkRun(p, io);
  },
};
