import { version as PACKAGE_VERSION } from '../../../package.json';
import { isTeamReportFormat, TEAM_REPORT_FORMATS, teamReportText } from '../../core/team/export';
import { DEFAULT_MIN_MEMBERS, MIN_K, type TeamReportJson } from '../../core/team/merge';
import { renderRollupPreview } from '../../core/team/preview';
import { SHAREABLE, type Shareable } from '../../core/team/rollup';
import { plural } from '../../core/usage/format';
import {
  buildTeamRollup,
  displayNameOf,
  findRoster,
  mergeTeamRollupsAsync,
  readRoster,
  recordTeamReport,
  rollupText,
  teamNameOf,
  teamStateFile,
  writeTeamFile,
} from '../../services/teamRollup';
import {
  durabilityDaysOf,
  identitiesArg,
  LINK_VIEW_OPTIONS,
  numberOption,
  PERIOD_OPTIONS,
  periodOf,
  str,
  thresholdOf,
  timeZoneOf,
  UsageError,
  type Parsed,
} from '../args';
import type { Command } from '../command';
import { checkOutFile, OUT_OPTIONS } from '../output';
import type { CliIo } from '../io';
import { refresh, withLedger } from '../ledger';

async function rollupExport(p: Parsed, extra: string[], io: CliIo): Promise<number> {
  if (extra.length > 0)
    throw new UsageError(`rollup export takes no file arguments (got "${extra[0]}"); use --out FILE`);
  const period = periodOf(p);
  if (!period.since || !period.until) throw new UsageError('rollup export needs --since and --until (YYYY-MM-DD)');
  const { since, until } = period;
  const out = str(p, 'out');
  if (!out) throw new UsageError('rollup export needs --out FILE');
  await checkOutFile(out, p, io, 'rollup.json');
  const include = (str(p, 'include') ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const x of include)
    if (!(SHAREABLE as readonly string[]).includes(x))
      throw new UsageError(`--include takes ${SHAREABLE.join(', ')}; got "${x}"`);
  const consented = p.values.yes === true;
  if (!consented && !io.confirm)
    throw new UsageError(
      'rollup export shares your figures only with your consent: run it in a terminal to preview and confirm, or add --yes',
    );
  let displayName: string | null;
  try {
    displayName = displayNameOf(str(p, 'name'));
  } catch (e) {
    throw new UsageError(`--name: ${(e as Error).message}`);
  }
  const timeZone = timeZoneOf(p, io.env);
  const threshold = thresholdOf(p);
  return withLedger(p, io, async (ledger) => {
    await refresh(ledger, p, io);
    const file = buildTeamRollup(ledger.database, ledger.paths.home, {
      timeZone,
      since,
      until,
      durabilityDays: durabilityDaysOf(p),
      displayName,
      include: include as Shareable[],
      ...(threshold !== undefined ? { threshold } : {}),
      ...identitiesArg(p),
    });
    const text = rollupText(file);
    if (!consented) {
      io.out(renderRollupPreview(file, text, out));
      if (!(await io.confirm?.(`Share this rollup (write it to ${out})?`))) {
        io.err('outcome-ledger: nothing was written (you did not consent)');
        return 1;
      }
    }
    writeTeamFile(out, text);
    const t = file.rollup.totals;
    io.out(
      `Wrote your team rollup for ${since} … ${until} to ${out} (${t.interactions} requests, ${t.sessions} sessions; signed ${file.signature.fingerprint}). Send it to your team lead.`,
    );
    return 0;
  });
}

async function rollupMerge(p: Parsed, files: string[], io: CliIo): Promise<number> {
  if (files.length === 0) throw new UsageError('rollup merge needs at least one FILE, FOLDER or PATTERN');
  const format = str(p, 'format') ?? 'md';
  if (!isTeamReportFormat(format))
    throw new UsageError(`--format takes ${TEAM_REPORT_FORMATS.join(', ')}; got "${format}"`);
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
  if (out) await checkOutFile(out, p, io, `team-report.${format === 'otlp' || format === 'ndjson' ? 'jsonl' : format}`);
  const stateFile = str(p, 'state') ?? teamStateFile(out, files);
  // On a terminal, a count of files read so far (the total is not known until the folders are walked).
  const tty = io.tty;
  // Checked on every core (worker threads); never cancelled, so the report is always there.
  const team = (await mergeTeamRollupsAsync(files, {
    k,
    stateFile,
    ...(roster ? { roster } : {}),
    ...(tty ? { onFile: (n: number) => n % 500 === 0 && tty.write(`\rmerging: ${n} files read`) } : {}),
  })) as TeamReportJson;
  if (tty && team.files.read >= 500) tty.write('\r\x1b[2K');
  const context = { team: teamName, version: PACKAGE_VERSION };
  const text = teamReportText(team, format, context);
  if (out) writeTeamFile(out, text);
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

export const rollupCommand: Command = {
  name: 'rollup',
  summary: "team rollups: export yours (opt-in, previewed), or merge your team's into a team report",
  help: `Usage: outcome-ledger rollup export --since YYYY-MM-DD --until YYYY-MM-DD --out FILE [--yes] [--name NAME] [--include repos,subjects]
       outcome-ledger rollup merge FILE|FOLDER|PATTERN... [--members FILE] [--format md|html|json|otlp|ndjson] [--out FILE] [--k N]

export: your aggregates for a period, signed with your key, to send to your team lead: totals, by tool and
model, outcome counts, the value metrics and a digest of the requests covered. No paths, prompts or commit
subjects unless you opt in with --include. On a terminal it previews exactly what will be shared and asks;
--yes consents without asking (needed when not on a terminal).

  --since DATE, --until DATE   the period (days in --tz)
  --out FILE                   where to write the rollup (JSON; missing folders are created)
  --force                      replace FILE when it exists (on a terminal you are asked instead)
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
  --out FILE      write the report there instead of printing it (missing folders are created)
  --force         replace FILE when it exists, as a scheduled merge does (on a terminal you are asked instead)
  --state FILE    where to remember the member sets of published reports (default: beside --out, else in
                  the first merged folder: ${'.outcome-ledger-team-reports.json'})
  --k N           minimum members for figures and breakdowns (default ${DEFAULT_MIN_MEMBERS}, at least ${MIN_K})`,
  examples: [
    [
      'outcome-ledger rollup export --since 2026-11-01 --until 2026-11-30 --out rollup.json',
      'preview, consent, then write your signed rollup',
    ],
    [
      'outcome-ledger rollup merge team/ --format html --out team.html --force',
      'the team report from a folder of rollups',
    ],
  ],
  options: {
    ...PERIOD_OPTIONS,
    ...LINK_VIEW_OPTIONS,
    ...OUT_OPTIONS,
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
  positionals: true,
  async run(p, io) {
    const [sub, ...files] = p.positionals;
    if (sub === 'export') return rollupExport(p, files, io);
    if (sub === 'merge') return rollupMerge(p, files, io);
    throw new UsageError(
      sub
        ? `unknown rollup subcommand "${sub}" (use export or merge; see --help)`
        : 'rollup needs export or merge (see --help)',
    );
  },
};
