import * as fs from 'node:fs';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { isSessionLabel, isSourceName, SESSION_LABELS, SOURCE_NAMES, type SourceName } from '../core/usage/model';
import { dataHealth, renderHealth } from '../services/health';
import { CommitNotFoundError, decide } from '../services/decisions';
import { importAll, READERS, type ExtraSource } from '../services/importer';
import { DEFAULT_DURABILITY_DAYS, linkAll, LinkConfigError, type LinkRunOptions, type LinkSummary } from '../services/linker';
import { addManualEntry, deleteManualEntry, editManualEntry, listManualEntries, ManualEntryError, type ManualEntry, type ManualEntryPatch } from '../services/manual';
import { isEmail, keepIdentities, linksOf, listSessions, report, resolveSession, SessionNotFoundError, setLabel } from '../services/queries';
import { DEFAULT_MIN_MEMBERS, MIN_K } from '../core/team/merge';
import { SHAREABLE, type Shareable } from '../core/team/rollup';
import { renderRollupPreview } from '../core/team/preview';
import { renderTeamHtml, renderTeamMarkdown } from '../core/team/render';
import { renderTeamNdjson, renderTeamOtlp } from '../core/team/export';
import { buildTeamRollup, displayNameOf, findRoster, mergeTeamRollups, readRoster, recordTeamReport, rollupText, teamNameOf, teamStateFile, TeamRollupError, writeTeamRollup } from '../services/teamRollup';
import { version as PACKAGE_VERSION } from '../../package.json';
import { defaultLedgerHome } from '../store/home';
import { SigningKeyError } from '../store/signing';
import { SshSignError } from '../store/sshSignature';
import { GitMissingError } from '../git/run';
import { Ledger, LedgerWriteError } from '../store/ledger';
import { LockTimeoutError } from '../store/lock';
import { SchemaTooNewError } from '../store/schema';
import { isSummaryFormat } from '../core/summary/render';
import { parseLocalMoment } from '../core/usage/time';
import { parse, PERIOD_OPTIONS, periodOf, str, timeZoneOf, UsageError, type Parsed } from './args';
import { fmtInt, fmtUSD, ProgressBar } from './format';
import { printable } from '../core/common/printable';
import { plural } from '../core/usage/format';
import { renderImport, renderLinks, renderLinkSummary, renderReport, renderSessions } from './render';
import type { CliIo } from './io';

// sql.js is one large wasm module. V8 compiles it quickly (Liftoff), then recompiles hot functions in the background
// (tier-up); in a CLI run of well under a second that recompilation costs more than it saves, competes for the CPU and
// stalls the first await by ~70 ms. Measured on 150 MB of logs: warm `report --json` 224 → 140 ms, cold 520 → 410 ms;
// `link` when nothing moved 200 → 130 ms. Set before sql.js loads (on the first ledger open).
setFlagsFromString('--liftoff-only');

const COMMON_HELP = `  --home DIR     ledger home (default: $OUTCOME_LEDGER_HOME or the platform data dir)
  --tz ZONE      IANA time zone for grouping by day (default: $TZ or the system zone)
  -h, --help     show this help`;

const HELP: Record<string, string> = {
  main: `outcome-ledger — value per token, not volume

Usage: outcome-ledger <command> [options]

Commands:
  import     read every AI tool's logs on this machine into the ledger (incremental; see import --help)
  link       link sessions to the commits, tasks and PRs they produced (git history, incremental)
  report     token totals, estimated cost and value metrics for a period
  sessions   one row per session with its status and links
  summary    the shareable outcome summary for a period (Markdown, HTML or JSON), signed
  verify     check a summary: its signature and figures, with --key its signer, with --repo its commits
  label      label a session: ${SESSION_LABELS.join(' | ')}
  manual     log an AI interaction by hand (web chats): add, list, edit, delete
  health     data health: per source found or not, files, first and last record, rejected lines, known gaps
  rollup     team rollups: export yours (opt-in, previewed), or merge your team's into a team report
  demo       build a demo world in a temp folder, import it and print its report

Every command takes:
${COMMON_HELP}

Run \`outcome-ledger <command> --help\` for a command's options; \`outcome-ledger --version\` prints the version.`,
  import: `Usage: outcome-ledger import [--source NAME=PATH]... [--store-prompts]

Reads every detected source incrementally into the ledger (Claude Code, Codex, Copilot Chat, Gemini CLI,
OpenCode, Cline, Roo Code, Continue, Aider) and prints, per source: files read, requests added, duplicates
skipped and lines rejected (with the first reasons).

  --source NAME=PATH   also read PATH (a file or folder) as source NAME (${READERS.map((r) => r.source).join(', ')});
                       for copilot-chat: a VS Code user folder, a chatSessions folder or one session file
  --store-prompts      keep prompt text in the ledger (off by default: only a hash is kept)
${COMMON_HELP}`,
  report: `Usage: outcome-ledger report [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json] [--no-import] [--threshold X]

Totals (tokens in canonical fields, estimated cost), by source, model and day, outcomes (commits, tasks, PRs,
yield, cost per commit and per task, kept lines per 1k output tokens), self-check signals and coverage.
New log lines are imported and new commits linked first (incremental), so the report is current.

  --since DATE            first day included (in --tz)
  --until DATE            last day included (in --tz)
  --json                  print JSON (the stable shape documented in docs/cli.md)
  --no-import             report the ledger as it is, without reading new log lines or git history
  --threshold X           confidence from which an automatic link counts (0..1, default 0.6)
  --durability-days N     age from which a commit's kept lines are judged (default ${DEFAULT_DURABILITY_DAYS})
  --identity EMAIL        also count commits authored by EMAIL as yours (repeatable; see docs/outcomes.md)
${COMMON_HELP}`,
  sessions: `Usage: outcome-ledger sessions [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json] [--no-import] [--threshold X]

One row per session active in the period: tool, branch, tokens, estimated cost, edited files, counted commits,
status. New log lines are imported and new commits linked first (incremental).

  --since DATE    first day included (in --tz)
  --until DATE    last day included (in --tz)
  --json          print JSON (one object per session, with its links and tasks)
  --no-import     list the ledger as it is, without reading new log lines or git history
  --threshold X   confidence from which an automatic link counts (0..1, default 0.6)
  --identity EMAIL  also count commits authored by EMAIL as yours (repeatable)
${COMMON_HELP}`,
  link: `Usage: outcome-ledger link [--repo PATH]... [--full] [--window-hours H] [--task-pattern REGEX]... [--json]
       outcome-ledger link show SESSION_ID [--threshold X] [--json]
       outcome-ledger link confirm|reject|reset SESSION_ID COMMIT_SHA

Reads the history of every repository sessions worked in (and any --repo), incrementally, and links each
session to the commits it produced, with evidence and a confidence. Links you confirmed or rejected are
never changed; \`reset\` forgets your decision on a pair. Durability (lines still present at HEAD after
--durability-days) is computed for linked commits with git blame.

  --repo PATH            also read this repository
  --full                 re-score every session (after changing how linking works)
  --window-hours H       how long after a session's last reply a commit can be its outcome (default 24; kept)
  --task-pattern REGEX   task key pattern, repeatable (default: ABC-123, #123, GH-123; kept until changed)
  --identity EMAIL       an author email that is yours besides your git user.email, repeatable (kept until changed)
  --durability-days N    age from which kept lines are judged (default ${DEFAULT_DURABILITY_DAYS})
  --no-durability        link only; leave kept lines (git blame) for a later run
  --threshold X          (show) confidence from which an automatic link counts (default 0.6)
  --json                 print JSON
${COMMON_HELP}`,
  summary: `Usage: outcome-ledger summary --since YYYY-MM-DD --until YYYY-MM-DD [--format md|html|json] [--out FILE]
                              [--redact repos,subjects] [--sign ed25519|ssh] [--no-import] [--threshold X] [--durability-days N]

The shareable outcome summary for a period: outcomes grouped by task (commits, PRs, tokens, estimated cost, tools
and models, kept lines) each citing the sessions and link evidence it rests on; yield, tokens and cost per commit and
per task and their weekly trend; tokens without outcome and how you labelled them; methodology; coverage and limits.
It is signed with your Ed25519 key (created on first use in the ledger home), or with --sign ssh your git SSH signing
key, and carries a digest of the ledger records the figures came from and every cited commit's full SHA, author time
and changed files (for \`verify --repo\`). The figures are the same as \`report --json\` for the period.

  --since DATE            first day included (in --tz), required
  --until DATE            last day included (in --tz), required
  --format F              md (default), html (one self-contained file) or json (versioned schema)
  --out FILE              write the summary to FILE (default: print it)
  --redact WHAT           leave out repository names and/or commit subjects: repos, subjects or repos,subjects
  --sign ssh              sign with your git SSH signing key (git config gpg.format ssh, user.signingkey) via
                          ssh-keygen -Y sign, so a reviewer can match it to the key on your code host
                          (default ed25519: Outcome Ledger's own key)
  --no-import             summarise the ledger as it is, without reading new log lines or git history
  --threshold X           confidence from which an automatic link counts (0..1, default 0.6)
  --durability-days N     age from which a commit's kept lines are judged (default ${DEFAULT_DURABILITY_DAYS})
  --identity EMAIL        also count commits authored by EMAIL as yours (repeatable; the summary lists them)
${COMMON_HELP}`,
  verify: `Usage: outcome-ledger verify FILE [--key FINGERPRINT] [--repo PATH]... [--ledger]

Checks a summary (Markdown, HTML or JSON): the schema version, the signature (Ed25519, or SSH via ssh-keygen), every
figure and citation against its signed digest, for Markdown and HTML every visible line, and that every headline
figure adds up from the records the file carries. The signature proves the data has not changed since it was signed
by the key it names; it does not say who holds that key (--key does), and nothing can prove the AI logs were not
edited before they were imported.

  --key FINGERPRINT   require the signature to be by this key: the fingerprint the engineer gives you (SHA256:…), or
                      for an SSH-signed summary the one ssh-keygen -lf prints for the key on their code host
  --repo PATH         a clone of a repository the summary cites, repeatable: every cited commit must exist in one of
                      them with the author time, subject and changed files the summary gives, and be on that
                      repository's default branch (origin/HEAD, else main, else master, else HEAD); one line per
                      commit that is missing or differs
  --ledger            also recompute every figure from the local ledger (the engineer's machine) and compare

Exit status: 0 verified; 1 not verified (what is wrong is printed); 2 usage error or unreadable file.
${COMMON_HELP}`,
  label: `Usage: outcome-ledger label SESSION_ID ${SESSION_LABELS.join('|')}|none

Labels a session honestly (its tokens still count as tokens without an outcome); "none" removes the label.
SESSION_ID is the id from \`sessions\` (source:id), the tool's own id, or a unique prefix.
${COMMON_HELP}`,
  health: `Usage: outcome-ledger health [--json]

Per source: found or not (and where it looked), log files, first and last record, rejected lines with the first
reasons, and known gaps (for example Claude Code history deleted before the first import).

  --json   print JSON
${COMMON_HELP}`,
  manual: `Usage: outcome-ledger manual add --tool NAME --model MODEL (--input N --output N | --prompt-file FILE [--reply-file FILE])
                              [--task KEY] [--branch NAME] [--repo PATH] [--at WHEN] [--json]
       outcome-ledger manual list [--json]
       outcome-ledger manual edit ID [any option of add]
       outcome-ledger manual delete ID

Logs an AI interaction that left no log on this machine (a web chat, a phone app) so it counts like any other
session. Tokens are the counts the tool showed (exact), or estimated from the text of the chat (--prompt-file,
--reply-file; "-" reads stdin): the text is only counted, never stored, and the figures are marked estimated (~).
ID is the id \`manual list\` prints (manual:m-…), or a unique prefix.

  --tool NAME          the tool, e.g. "ChatGPT web", "Claude.ai"
  --model MODEL        the model, e.g. gpt-4o, claude-sonnet-4-5 (priced when the price table knows it)
  --input N            input (prompt) tokens the tool showed
  --output N           output tokens the tool showed
  --prompt-file FILE   text you sent, to estimate input tokens from
  --reply-file FILE    text you received, to estimate output tokens from
  --task KEY           the task it was for (e.g. PAY-7); '' removes it on edit
  --branch NAME        the branch it was for (used for linking); '' removes it on edit
  --repo PATH          a folder of the repository it was for (used for linking); '' removes it on edit
  --at WHEN            when: YYYY-MM-DD, "YYYY-MM-DD HH:MM" (in --tz) or an ISO time with offset (default: now)
  --json               print JSON
${COMMON_HELP}`,
  rollup: `Usage: outcome-ledger rollup export --since YYYY-MM-DD --until YYYY-MM-DD --out FILE [--yes] [--name NAME] [--include repos,subjects]
       outcome-ledger rollup merge FILE|FOLDER|PATTERN... [--members FILE] [--format md|html|json|otlp|ndjson] [--out FILE] [--k N]

export: your aggregates for a period, signed with your key, to send to your team lead: totals, by tool and
model, outcome counts, the value metrics and a digest of the requests covered. No paths, prompts or commit
subjects unless you opt in with --include. On a terminal it previews exactly what will be shared and asks;
--yes consents without asking (needed when not on a terminal).

  --since DATE, --until DATE   the period (days in --tz)
  --out FILE                   where to write the rollup (JSON)
  --yes                        consent to share without the interactive preview
  --name NAME                  a display name to appear under in the team report (never next to a figure)
  --include LIST               also share: repos (repository names), subjects (commit subjects)
  --no-import                  export the ledger as it is, without reading new log lines or git history

merge: reads rollup files (folders: every .json below them; patterns: * ? **), checks each (size, schema,
signature, sums, plausibility bounds), counts each machine's work once, and writes the team report. Refused
files are listed with their reason; the others still merge. No per-person figure appears; breakdowns need at
least k members, and only members with at least one request count toward k. A report whose members differ from
a report published before for an overlapping period by fewer than k is withheld (the state file beside it).

  --members FILE  the roster: one key fingerprint per line, optionally a name after it; rollups signed by
                  other keys are refused (default: roster.txt in a merged folder, if there is one)
  --format F      md (default), html, json, otlp (OTLP JSON lines for an OpenTelemetry Collector) or
                  ndjson (one row per team, breakdown and metric, for a warehouse)
  --team NAME     the team's name in otlp and ndjson (default: the name of the first merged folder)
  --out FILE      write the report there instead of printing it
  --state FILE    where to remember the member sets of published reports (default: beside --out, else in
                  the first merged folder: ${'.outcome-ledger-team-reports.json'})
  --k N           minimum members for figures and breakdowns (default ${DEFAULT_MIN_MEMBERS}, at least ${MIN_K})
${COMMON_HELP}`,
  demo: `Usage: outcome-ledger demo [--keep]

Builds a realistic demo world in a temp folder (git repositories plus Claude Code, Codex and Copilot Chat logs in
their real formats), imports it into a ledger inside that folder and prints its report. Your own ledger is not touched.

  --keep   keep the demo folder (its path is printed) instead of deleting it
${COMMON_HELP}`,
};

function homeOf(p: Parsed, env: NodeJS.ProcessEnv): string {
  const home = str(p, 'home');
  return home ? path.resolve(home) : defaultLedgerHome(env);
}

async function openLedger(p: Parsed, io: CliIo): Promise<Ledger> {
  return Ledger.open(homeOf(p, io.env), { onWarning: (m) => io.err(`outcome-ledger: ${m}`) });
}

function parseExtraSources(values: string[] | undefined): ExtraSource[] {
  return (values ?? []).map((v) => {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    const p = eq > 0 ? v.slice(eq + 1) : '';
    if (!isSourceName(name) || !p) throw new UsageError(`--source needs NAME=PATH with NAME one of ${SOURCE_NAMES.join(', ')}; got "${v}"`);
    if (!READERS.some((r) => r.source === name)) throw new UsageError(`--source ${name}: this version reads ${READERS.map((r) => r.source).join(', ')}`);
    return { source: name as SourceName, path: path.resolve(p) };
  });
}

async function cmdImport(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { source: { type: 'string', multiple: true }, 'store-prompts': { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'import');
  const extra = parseExtraSources(p.values.source as string[] | undefined);
  const ledger = await openLedger(p, io);
  try {
    const bar = io.tty ? new ProgressBar(io.tty, 'importing') : undefined;
    const summary = await importAll(ledger, {
      env: io.env,
      extra,
      storePromptText: p.values['store-prompts'] === true,
      projectDirs: [process.cwd()],
      // Tuning knob (documented in docs/ledger.md): how much to read between saves of progress.
      ...(Number(io.env.OUTCOME_LEDGER_CHECKPOINT_MB) > 0 ? { checkpointBytes: Number(io.env.OUTCOME_LEDGER_CHECKPOINT_MB) * (1 << 20) } : {}),
      onProgress: bar ? (d, t) => bar.update(d, t) : undefined,
    });
    bar?.done();
    io.out(renderImport(summary));
    return 0;
  } finally {
    ledger.close();
  }
}

/**
 * `report` and `sessions` read new log lines first (incremental: unchanged files cost a stat), so what they print
 * is current. When another process holds the ledger (a long import in VS Code), they show the last saved state.
 */
async function refresh(ledger: Ledger, p: Parsed, io: CliIo): Promise<void> {
  if (p.values['no-import'] === true) return;
  try {
    await importAll(ledger, { env: io.env, timeoutMs: 3000, projectDirs: [process.cwd()] });
  } catch (e) {
    if (e instanceof LockTimeoutError || e instanceof LedgerWriteError) {
      io.err(`outcome-ledger: showing the ledger as last saved; new log lines were not read (${e.message})`);
      return;
    }
    throw e;
  }
  // Linking is incremental: when no ref moved and no session changed it costs one `git for-each-ref` per repository.
  try {
    // Kept lines of what a commit touched are brought up to date here; a first pass over a big history is `link`'s.
    const linked = await linkAll(ledger, { timeoutMs: 3000, durabilityDays: durabilityDaysOf(p), durabilityBudgetMs: 1000, durabilityMaxFiles: 8 });
    if (linked.gitMissing) io.err(`outcome-ledger: ${GIT_MISSING}; sessions were not linked to commits`);
  } catch (e) {
    if (e instanceof LockTimeoutError || e instanceof LedgerWriteError) {
      io.err(`outcome-ledger: links were not updated (${e.message})`);
      return;
    }
    throw e;
  }
}

const GIT_MISSING = 'git was not found on PATH (install git to link sessions to commits)';

function numberOption(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} needs a number from ${min} to ${max}, got "${v}"`);
  return n;
}

function thresholdOf(p: Parsed): number | undefined {
  return numberOption(p, 'threshold', 0, 1);
}

function durabilityDaysOf(p: Parsed): number {
  return numberOption(p, 'durability-days', 0, 3650) ?? DEFAULT_DURABILITY_DAYS;
}

const LINK_VIEW_OPTIONS = { threshold: { type: 'string' }, 'durability-days': { type: 'string' }, identity: { type: 'string', multiple: true } } as const;

/** `--identity EMAIL` (repeatable): more author emails that are yours (docs/outcomes.md). */
function identitiesArg(p: Parsed): { identities?: string[] } {
  const list = (p.values.identity as string[] | undefined) ?? [];
  for (const v of list) if (!isEmail(v)) throw new UsageError(`--identity needs an email address as git records authors, such as you@example.com; got "${v}"`);
  return list.length > 0 ? { identities: list.map((v) => v.trim().toLowerCase()) } : {};
}

async function cmdReport(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { ...PERIOD_OPTIONS, ...LINK_VIEW_OPTIONS, 'no-import': { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'report');
  const timeZone = timeZoneOf(p, io.env);
  const period = periodOf(p);
  const threshold = thresholdOf(p);
  const durabilityDays = durabilityDaysOf(p);
  const identities = identitiesArg(p);
  const ledger = await openLedger(p, io);
  try {
    await refresh(ledger, p, io);
    const r = report(ledger.database, { timeZone, ...period, durabilityDays, ...(threshold !== undefined ? { threshold } : {}), ...identities });
    io.out(p.values.json ? JSON.stringify(r, null, 2) : renderReport(r));
    return 0;
  } finally {
    ledger.close();
  }
}

async function cmdSessions(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { ...PERIOD_OPTIONS, ...LINK_VIEW_OPTIONS, 'no-import': { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'sessions');
  const timeZone = timeZoneOf(p, io.env);
  const period = periodOf(p);
  const threshold = thresholdOf(p);
  const identities = identitiesArg(p);
  const ledger = await openLedger(p, io);
  try {
    await refresh(ledger, p, io);
    const list = listSessions(ledger.database, { timeZone, ...period, ...(threshold !== undefined ? { threshold } : {}), ...identities });
    io.out(p.values.json ? JSON.stringify(list, null, 2) : renderSessions(list));
    return 0;
  } finally {
    ledger.close();
  }
}

async function cmdLabel(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, {}, true);
  if (p.values.help) return help(io, 'label');
  const [id, label, ...rest] = p.positionals;
  if (!id || !label || rest.length > 0) throw new UsageError(`label needs SESSION_ID and one of ${SESSION_LABELS.join(', ')}, none`);
  if (label !== 'none' && !isSessionLabel(label)) throw new UsageError(`unknown label "${label}": use ${SESSION_LABELS.join(', ')} or none`);
  const ledger = await openLedger(p, io);
  try {
    const found = await ledger.write((db) => {
      const s = resolveSession(db, id);
      setLabel(db, s.ref, label === 'none' ? null : label);
      return s;
    });
    io.out(label === 'none' ? `Removed the label of ${found.id}.` : `Labelled ${found.id} as ${label}.`);
    return 0;
  } finally {
    ledger.close();
  }
}

async function cmdLink(argv: string[], io: CliIo): Promise<number> {
  const p = parse(
    argv,
    {
      repo: { type: 'string', multiple: true },
      full: { type: 'boolean' },
      'window-hours': { type: 'string' },
      'task-pattern': { type: 'string', multiple: true },
      'no-durability': { type: 'boolean' },
      json: { type: 'boolean' },
      ...LINK_VIEW_OPTIONS,
    },
    true,
  );
  if (p.values.help) return help(io, 'link');
  const [sub, ...args] = p.positionals;
  if (sub === 'confirm' || sub === 'reject' || sub === 'reset') {
    const [session, sha, ...rest] = args;
    if (!session || !sha || rest.length > 0) throw new UsageError(`link ${sub} needs SESSION_ID and COMMIT_SHA`);
    const ledger = await openLedger(p, io);
    try {
      const d = await decide(ledger, session, sha, sub === 'confirm' ? 'confirmed' : sub === 'reject' ? 'rejected' : 'auto');
      const what = sub === 'confirm' ? 'Confirmed' : sub === 'reject' ? 'Rejected' : 'Forgot your decision on';
      io.out(`${what} ${d.sessionId} → ${d.sha.slice(0, 7)} ${d.subject}`);
      return 0;
    } finally {
      ledger.close();
    }
  }
  if (sub === 'show') {
    const [session, ...rest] = args;
    if (!session || rest.length > 0) throw new UsageError('link show needs SESSION_ID');
    const threshold = thresholdOf(p);
    const ledger = await openLedger(p, io);
    try {
      const s = resolveSession(ledger.database, session);
      const links = linksOf(ledger.database, [s.ref], threshold, identitiesArg(p).identities).get(s.ref) ?? [];
      io.out(p.values.json ? JSON.stringify({ session: s.id, links }, null, 2) : renderLinks(s.id, links));
      return 0;
    } finally {
      ledger.close();
    }
  }
  if (sub !== undefined) throw new UsageError(`unknown link subcommand "${sub}" (use show, confirm, reject or reset; see --help)`);
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
  };
  for (const r of options.repos ?? []) if (!fs.existsSync(r)) throw new UsageError(`--repo ${r}: no such folder`);
  const kept = identitiesArg(p).identities;
  const ledger = await openLedger(p, io);
  try {
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
  } finally {
    ledger.close();
  }
}

async function cmdHealth(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { json: { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'health');
  const ledger = await openLedger(p, io);
  try {
    const h = dataHealth(ledger.database, ledger.paths.file, { env: io.env });
    io.out(p.values.json ? JSON.stringify(h, null, 2) : renderHealth(h));
    return 0;
  } finally {
    ledger.close();
  }
}

const MANUAL_OPTIONS = {
  tool: { type: 'string' },
  model: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  'prompt-file': { type: 'string' },
  'reply-file': { type: 'string' },
  task: { type: 'string' },
  branch: { type: 'string' },
  repo: { type: 'string' },
  at: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function countOption(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`--${name} needs a whole number of tokens, got "${v}"`);
  return Number(v);
}

function textOption(p: Parsed, name: string): string | undefined {
  const f = str(p, name);
  if (f === undefined) return undefined;
  try {
    return fs.readFileSync(f === '-' ? 0 : f, 'utf8');
  } catch (e) {
    throw new UsageError(`--${name} ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** The fields of `manual add|edit` that were given (edit changes only those). */
function manualPatch(p: Parsed, io: CliIo): ManualEntryPatch {
  const patch: ManualEntryPatch = {};
  const tool = str(p, 'tool');
  const model = str(p, 'model');
  if (tool !== undefined) patch.tool = tool;
  if (model !== undefined) patch.model = model;
  const input = countOption(p, 'input');
  const output = countOption(p, 'output');
  if (input !== undefined) patch.inputTokens = input;
  if (output !== undefined) patch.outputTokens = output;
  const prompt = textOption(p, 'prompt-file');
  const reply = textOption(p, 'reply-file');
  if (prompt !== undefined) patch.promptText = prompt;
  if (reply !== undefined) patch.replyText = reply;
  for (const k of ['task', 'branch', 'repo'] as const) {
    const v = str(p, k);
    if (v !== undefined) patch[k] = v.trim() ? v : null;
  }
  const at = str(p, 'at');
  if (at !== undefined) {
    const t = parseLocalMoment(timeZoneOf(p, io.env), at);
    if (t === undefined) throw new UsageError(`--at needs YYYY-MM-DD, "YYYY-MM-DD HH:MM" or an ISO time with an offset, got "${at}"`);
    patch.at = t;
  }
  return patch;
}

function renderManual(e: ManualEntry): string {
  const tokens = `${e.tokenAccuracy === 'exact' ? '' : '~'}${fmtInt(e.tokens.total)} tokens (${fmtInt(e.tokens.input)} in, ${fmtInt(e.tokens.output)} out${e.tokenAccuracy === 'exact' ? '' : ', estimated from text'})`;
  const extras = [e.task ? `task ${e.task}` : '', e.branch ? `branch ${e.branch}` : '', e.repo ? `repo ${e.repo}` : ''].filter(Boolean).join(' · ');
  return `${e.id}  ${e.at.slice(0, 16).replace('T', ' ')} UTC  ${e.tool} · ${e.model} · ${tokens} · est. ${fmtUSD(e.costUSD)}${extras ? ` · ${extras}` : ''}`;
}

async function cmdManual(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, MANUAL_OPTIONS, true);
  if (p.values.help) return help(io, 'manual');
  const [sub, ...args] = p.positionals;
  const wrap = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      if (e instanceof ManualEntryError) throw new UsageError(e.message);
      throw e;
    }
  };
  if (sub === 'add') {
    if (args.length > 0) throw new UsageError('manual add takes options only (see --help)');
    const patch = manualPatch(p, io);
    if (patch.tool === undefined || patch.model === undefined) throw new UsageError('manual add needs --tool and --model (see --help)');
    const ledger = await openLedger(p, io);
    try {
      const e = await wrap(() => addManualEntry(ledger, { at: Date.now(), ...patch, tool: patch.tool ?? '', model: patch.model ?? '' }));
      io.out(p.values.json ? JSON.stringify(e, null, 2) : `Logged ${renderManual(e)}`);
      return 0;
    } finally {
      ledger.close();
    }
  }
  if (sub === 'list') {
    if (args.length > 0) throw new UsageError('manual list takes no arguments');
    const ledger = await openLedger(p, io);
    try {
      const list = listManualEntries(ledger.database);
      io.out(p.values.json ? JSON.stringify(list, null, 2) : list.length === 0 ? 'No manual entries. Log one with `outcome-ledger manual add`.' : list.map(renderManual).join('\n'));
      return 0;
    } finally {
      ledger.close();
    }
  }
  if (sub === 'edit' || sub === 'delete') {
    const [id, ...rest] = args;
    if (!id || rest.length > 0) throw new UsageError(`manual ${sub} needs the ID of one entry (see \`outcome-ledger manual list\`)`);
    const patch = sub === 'edit' ? manualPatch(p, io) : {};
    if (sub === 'edit' && Object.keys(patch).length === 0) throw new UsageError('manual edit needs at least one option to change (see --help)');
    const ledger = await openLedger(p, io);
    try {
      if (sub === 'delete') {
        const gone = await wrap(() => deleteManualEntry(ledger, id));
        io.out(`Deleted ${gone}.`);
      } else {
        const e = await wrap(() => editManualEntry(ledger, id, patch));
        io.out(p.values.json ? JSON.stringify(e, null, 2) : `Updated ${renderManual(e)}`);
      }
      return 0;
    } finally {
      ledger.close();
    }
  }
  throw new UsageError(sub === undefined ? 'manual needs add, list, edit or delete (see --help)' : `unknown manual subcommand "${sub}" (use add, list, edit or delete)`);
}

async function cmdDemo(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { keep: { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'demo');
  const { runDemo } = await import('./demo');
  return runDemo({ keep: p.values.keep === true, timeZone: timeZoneOf(p, io.env), io });
}

function redactionOf(p: Parsed): { repos: boolean; subjects: boolean } {
  const v = str(p, 'redact');
  const out = { repos: false, subjects: false };
  if (v === undefined) return out;
  for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (part === 'repos') out.repos = true;
    else if (part === 'subjects') out.subjects = true;
    else throw new UsageError(`--redact takes repos, subjects or repos,subjects; got "${part}"`);
  }
  return out;
}

async function cmdSummary(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { ...PERIOD_OPTIONS, ...LINK_VIEW_OPTIONS, format: { type: 'string' }, out: { type: 'string' }, redact: { type: 'string' }, sign: { type: 'string' }, 'no-import': { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'summary');
  const sign = str(p, 'sign') ?? 'ed25519';
  if (sign !== 'ed25519' && sign !== 'ssh') throw new UsageError(`--sign takes ed25519 (Outcome Ledger's own key, the default) or ssh (your git SSH signing key); got "${sign}"`);
  if (p.values.json !== undefined) throw new UsageError('summary takes --format json, not --json');
  const timeZone = timeZoneOf(p, io.env);
  const period = periodOf(p);
  if (!period.since || !period.until) throw new UsageError('summary needs --since and --until (YYYY-MM-DD), for example --since 2026-10-01 --until 2026-10-31');
  const format = str(p, 'format') ?? 'md';
  if (!isSummaryFormat(format)) throw new UsageError(`--format takes md, html or json; got "${format}"`);
  const redact = redactionOf(p);
  const threshold = thresholdOf(p);
  const durabilityDays = durabilityDaysOf(p);
  const out = str(p, 'out');
  if (out !== undefined && !fs.existsSync(path.dirname(path.resolve(out)))) throw new UsageError(`--out ${out}: the folder does not exist`);
  if (out !== undefined && fs.existsSync(out) && fs.statSync(out).isDirectory()) throw new UsageError(`--out ${out} is a folder: give a file name, such as ${path.join(out, `outcome-summary.${format}`)}`);
  const home = homeOf(p, io.env);
  const { exportSummary, gitSshSignerIn, GitSigningSetupError } = await import('../services/summary');
  let signer;
  try {
    signer = sign === 'ssh' ? await gitSshSignerIn(process.cwd()) : undefined;
  } catch (e) {
    if (e instanceof GitSigningSetupError) throw new UsageError(`--sign ssh: ${e.message}`);
    if (e instanceof GitMissingError) throw new UsageError('--sign ssh reads your git signing key: git is not on PATH');
    throw e;
  }
  const ledger = await openLedger(p, io);
  try {
    await refresh(ledger, p, io);
    let r;
    try {
      r = exportSummary(ledger.database, home, {
        since: period.since, until: period.until, timeZone, redact, durabilityDays, format, env: io.env, ledgerFile: ledger.paths.file,
        ...(threshold !== undefined ? { threshold } : {}), ...identitiesArg(p),
        ...(signer !== undefined ? { signer } : {}),
      });
    } catch (e) {
      if (!(e instanceof SshSignError)) throw e;
      io.err(`outcome-ledger: ${e.message}`);
      return 1;
    }
    if (out === undefined) {
      io.out(r.text.replace(/\n$/, ''));
      return 0;
    }
    try {
      writeFileAtomic(path.resolve(out), r.text);
    } catch (e) {
      io.err(`outcome-ledger: cannot write ${out}: ${(e as Error).message}`);
      return 1;
    }
    io.err(`Wrote the ${format === 'md' ? 'Markdown' : format.toUpperCase()} summary for ${period.since} – ${period.until} to ${out}, signed with ${r.key.fingerprint}. Check it with: outcome-ledger verify ${out}`);
    return 0;
  } finally {
    ledger.close();
  }
}

async function cmdRollup(argv: string[], io: CliIo): Promise<number> {
  const p = parse(
    argv,
    {
      ...PERIOD_OPTIONS,
      ...LINK_VIEW_OPTIONS,
      out: { type: 'string' },
      yes: { type: 'boolean' },
      name: { type: 'string' },
      include: { type: 'string' },
      'no-import': { type: 'boolean' },
      format: { type: 'string' },
      k: { type: 'string' },
      members: { type: 'string' },
      team: { type: 'string' },
      state: { type: 'string' },
    },
    true,
  );
  if (p.values.help) return help(io, 'rollup');
  const [sub, ...files] = p.positionals;
  if (sub === 'export') return rollupExport(p, files, io);
  if (sub === 'merge') return rollupMerge(p, files, io);
  throw new UsageError(sub ? `unknown rollup subcommand "${sub}" (use export or merge; see --help)` : 'rollup needs export or merge (see --help)');
}

async function rollupExport(p: Parsed, extra: string[], io: CliIo): Promise<number> {
  if (extra.length > 0) throw new UsageError(`rollup export takes no file arguments (got "${extra[0]}"); use --out FILE`);
  const period = periodOf(p);
  if (!period.since || !period.until) throw new UsageError('rollup export needs --since and --until (YYYY-MM-DD)');
  const out = str(p, 'out');
  if (!out) throw new UsageError('rollup export needs --out FILE');
  const include = (str(p, 'include') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of include) if (!(SHAREABLE as readonly string[]).includes(x)) throw new UsageError(`--include takes ${SHAREABLE.join(', ')}; got "${x}"`);
  const consented = p.values.yes === true;
  if (!consented && !io.confirm) throw new UsageError('rollup export shares your figures only with your consent: run it in a terminal to preview and confirm, or add --yes');
  let displayName: string | null;
  try {
    displayName = displayNameOf(str(p, 'name'));
  } catch (e) {
    throw new UsageError(`--name: ${(e as Error).message}`);
  }
  const timeZone = timeZoneOf(p, io.env);
  const threshold = thresholdOf(p);
  const ledger = await openLedger(p, io);
  try {
    await refresh(ledger, p, io);
    const file = buildTeamRollup(ledger.database, ledger.paths.home, {
      timeZone, since: period.since, until: period.until, durabilityDays: durabilityDaysOf(p), displayName, include: include as Shareable[],
      ...(threshold !== undefined ? { threshold } : {}), ...identitiesArg(p),
    });
    const text = rollupText(file);
    if (!consented) {
      io.out(renderRollupPreview(file, text, out));
      if (!(await io.confirm?.(`Share this rollup (write it to ${out})?`))) {
        io.err('outcome-ledger: nothing was written (you did not consent)');
        return 1;
      }
    }
    writeTeamRollup(out, text);
    const t = file.rollup.totals;
    io.out(`Wrote your team rollup for ${period.since} … ${period.until} to ${out} (${t.interactions} requests, ${t.sessions} sessions; signed ${file.signature.fingerprint}). Send it to your team lead.`);
    return 0;
  } finally {
    ledger.close();
  }
}

async function cmdVerify(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { ledger: { type: 'boolean' }, key: { type: 'string' }, repo: { type: 'string', multiple: true } }, true);
  if (p.values.help) return help(io, 'verify');
  const [file, ...rest] = p.positionals;
  if (!file || rest.length > 0) throw new UsageError('verify needs one FILE (a summary exported by `outcome-ledger summary`)');
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
    if (stat.size > MAX_SUMMARY_BYTES) throw new UsageError(`${file} is ${stat.size} bytes: larger than any summary (${MAX_SUMMARY_BYTES} bytes at most)`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const key = str(p, 'key');
  if (key !== undefined && !isFingerprint(key)) throw new UsageError(`--key needs a key fingerprint such as SHA256:1a2b:3c4d:… (Outcome Ledger's key) or SHA256:… as ssh-keygen -l prints it, got "${key}"`);
  const repos = (p.values.repo as string[] | undefined) ?? [];
  for (const r of repos) if (!fs.existsSync(r) || !fs.statSync(r).isDirectory()) throw new UsageError(`--repo ${r}: no such folder (give the path of a clone of the repository)`);
  const expect = key !== undefined ? { fingerprint: key } : {};
  const { verifySummary } = await import('../services/summary');
  const { withRepositories } = await import('../services/summaryRepos');
  let verdict;
  if (p.values.ledger === true) {
    const ledger = await openLedger(p, io);
    try {
      verdict = verifySummary(text, { db: ledger.database, ledgerFile: ledger.paths.file, env: io.env }, expect);
    } finally {
      ledger.close();
    }
  } else {
    verdict = verifySummary(text, undefined, expect);
  }
  try {
    verdict = await withRepositories(verdict, repos);
  } catch (e) {
    if (e instanceof GitMissingError) throw new UsageError('verify --repo needs git on PATH');
    throw e;
  }
  const sig = verdict.doc?.signature;
  if (verdict.ok && sig) {
    const s = verdict.doc?.summary;
    io.out(`Verified: ${file}${s ? ` (${s.period.since} – ${s.period.until})` : ''} has not changed since it was signed by ${key !== undefined ? 'the expected key' : 'the key'} ${sig.fingerprint}.`);
    for (const c of verdict.checks) io.out(`  ✓ ${printable(c)}`);
    for (const w of verdict.warnings) io.out(`  ! ${printable(w)}`);
    for (const n of verdict.notChecked) io.out(`  ○ ${printable(n)}`);
    if (p.values.ledger !== true) io.out('  (on the engineer\'s machine, --ledger also recomputes every figure from the ledger)');
    return 0;
  }
  io.err(`Not verified: ${file}`);
  for (const c of verdict.checks) io.err(`  ✓ ${printable(c)}`);
  for (const w of verdict.warnings) io.err(`  ! ${printable(w)}`);
  for (const problem of verdict.problems) io.err(`  ✗ ${printable(problem)}`);
  return 1;
}

/** A key fingerprint: Outcome Ledger's (SHA256: and 8 groups of 4 hex digits) or OpenSSH's (SHA256: and 43 base64). */
function isFingerprint(v: string): boolean {
  return /^(SHA256:)?([0-9a-f]{4}:?){8}$/i.test(v.trim()) || /^SHA256:[A-Za-z0-9+/]{43}$/.test(v.trim());
}

/** A summary is a few hundred KB at most; anything far larger is not one (and is not read into memory). */
const MAX_SUMMARY_BYTES = 64 << 20;

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

const MERGE_FORMATS = ['md', 'html', 'json', 'otlp', 'ndjson'] as const;

async function rollupMerge(p: Parsed, files: string[], io: CliIo): Promise<number> {
  if (files.length === 0) throw new UsageError('rollup merge needs at least one FILE, FOLDER or PATTERN');
  const format = str(p, 'format') ?? 'md';
  if (!(MERGE_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format takes ${MERGE_FORMATS.join(', ')}; got "${format}"`);
  const k = numberOption(p, 'k', MIN_K, 1_000_000) ?? DEFAULT_MIN_MEMBERS;
  if (!Number.isInteger(k)) throw new UsageError(`--k needs a whole number, got "${str(p, 'k')}"`);
  let teamName: string;
  try {
    teamName = teamNameOf(str(p, 'team'), files);
  } catch (e) {
    throw new UsageError(`--team: ${(e as Error).message}`);
  }
  const rosterFile = str(p, 'members') ?? findRoster(files);
  const roster = rosterFile !== undefined ? readRoster(rosterFile) : undefined;
  const out = str(p, 'out');
  const stateFile = str(p, 'state') ?? teamStateFile(out, files);
  // On a terminal, a count of files read so far (the total is not known until the folders are walked).
  const tty = io.tty;
  const team = mergeTeamRollups(files, { k, stateFile, ...(roster ? { roster } : {}), ...(tty ? { onFile: (n: number) => n % 500 === 0 && tty.write(`\rmerging: ${n} files read`) } : {}) });
  if (tty && team.files.read >= 500) tty.write('\r\x1b[2K');
  const context = { team: teamName, version: PACKAGE_VERSION };
  const text = format === 'json' ? `${JSON.stringify(team, null, 2)}\n` : format === 'html' ? renderTeamHtml(team) : format === 'otlp' ? renderTeamOtlp(team, context)
    : format === 'ndjson' ? renderTeamNdjson(team, context) : renderTeamMarkdown(team);
  if (out) writeTeamRollup(out, text);
  else if (text) io.out(text.trimEnd());
  recordTeamReport(stateFile, team);
  const f = team.files;
  const skipped = f.duplicates + f.superseded + f.overlapping;
  io.err(
    `outcome-ledger: ${f.counted} of ${plural(f.read, 'rollup file')} counted (${plural(team.members, 'member')})` +
      `${f.refused ? `, ${f.refused} refused` : ''}${skipped ? `, ${skipped} not counted twice` : ''}${f.empty ? `, ${f.empty} empty` : ''}${f.implausible ? `, ${f.implausible} implausible` : ''}` +
      `${team.withheldBecause === 'members' ? `; figures withheld: fewer than ${team.k} members` : ''}` +
      `${team.withheldBecause === 'differencing' ? `; figures withheld: the members differ from a report published for an overlapping period by fewer than ${team.k}` : ''}` +
      `${team.withheld && (format === 'otlp' || format === 'ndjson') ? ` (nothing exported)` : ''}` +
      `${roster ? `; roster ${roster.source} (${plural(roster.keys.size, 'key')})` : '; no roster: anyone with a key could have contributed'}${out ? `; report written to ${out}` : ''}`,
  );
  return f.counted > 0 ? 0 : 1;
}

function help(io: CliIo, topic: string): number {
  io.out(HELP[topic] ?? HELP.main ?? '');
  return 0;
}

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  import: cmdImport,
  link: cmdLink,
  report: cmdReport,
  sessions: cmdSessions,
  summary: cmdSummary,
  verify: cmdVerify,
  label: cmdLabel,
  health: cmdHealth,
  manual: cmdManual,
  rollup: cmdRollup,
  demo: cmdDemo,
};

/** Runs one command; returns the exit code (0 ok, 1 the ledger could not be read or written, 2 usage). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    return help(io, rest[0] && HELP[rest[0]] ? rest[0] : 'main');
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    const { TOOL_VERSION } = await import('../services/summary');
    io.out(TOOL_VERSION);
    return 0;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')}; see --help)`);
    return await run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`outcome-ledger: ${e.message}`);
      return 2;
    }
    if (e instanceof TeamRollupError || e instanceof SigningKeyError) {
      io.err(`outcome-ledger: ${e.message}`);
      return 1;
    }
    if (e instanceof SessionNotFoundError || e instanceof CommitNotFoundError) {
      io.err(`outcome-ledger: ${e.message}`);
      return 2;
    }
    if (e instanceof LockTimeoutError || e instanceof LedgerWriteError || e instanceof SchemaTooNewError) {
      io.err(`outcome-ledger: ${e.message}`);
      return 1;
    }
    io.err(`outcome-ledger: unexpected error: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}
