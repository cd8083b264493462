import { DEFAULT_MIN_MEMBERS, MIN_K } from '../../core/team/merge';
import { renderRollupPreview } from '../../core/team/preview';
import { renderTeamHtml, renderTeamMarkdown } from '../../core/team/render';
import { SHAREABLE, type Shareable } from '../../core/team/rollup';
import { buildTeamRollup, displayNameOf, mergeTeamRollups, rollupText, writeTeamFile } from '../../services/teamRollup';
import { durabilityDaysOf, LINK_VIEW_OPTIONS, numberOption, PERIOD_OPTIONS, periodOf, str, thresholdOf, timeZoneOf, UsageError, type Parsed } from '../args';
import type { Command } from '../command';
import type { CliIo } from '../io';
import { refresh, withLedger } from '../ledger';

async function rollupExport(p: Parsed, extra: string[], io: CliIo): Promise<number> {
  if (extra.length > 0) throw new UsageError(`rollup export takes no file arguments (got "${extra[0]}"); use --out FILE`);
  const period = periodOf(p);
  if (!period.since || !period.until) throw new UsageError('rollup export needs --since and --until (YYYY-MM-DD)');
  const { since, until } = period;
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
  return withLedger(p, io, async (ledger) => {
    await refresh(ledger, p, io);
    const file = buildTeamRollup(ledger.database, ledger.paths.home, {
      timeZone, since, until, durabilityDays: durabilityDaysOf(p), displayName, include: include as Shareable[],
      ...(threshold !== undefined ? { threshold } : {}),
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
    io.out(`Wrote your team rollup for ${since} … ${until} to ${out} (${t.interactions} requests, ${t.sessions} sessions; signed ${file.signature.fingerprint}). Send it to your team lead.`);
    return 0;
  });
}

async function rollupMerge(p: Parsed, files: string[], io: CliIo): Promise<number> {
  if (files.length === 0) throw new UsageError('rollup merge needs at least one FILE, FOLDER or PATTERN');
  const format = str(p, 'format') ?? 'md';
  if (format !== 'md' && format !== 'html' && format !== 'json') throw new UsageError(`--format takes md, html or json; got "${format}"`);
  const k = numberOption(p, 'k', MIN_K, 1_000_000) ?? DEFAULT_MIN_MEMBERS;
  if (!Number.isInteger(k)) throw new UsageError(`--k needs a whole number, got "${str(p, 'k')}"`);
  // On a terminal, a count of files read so far (the total is not known until the folders are walked).
  const tty = io.tty;
  const team = mergeTeamRollups(files, { k, ...(tty ? { onFile: (n: number) => n % 500 === 0 && tty.write(`\rmerging: ${n} files read`) } : {}) });
  if (tty && team.files.read >= 500) tty.write('\r\x1b[2K');
  const text = format === 'json' ? `${JSON.stringify(team, null, 2)}\n` : format === 'html' ? renderTeamHtml(team) : renderTeamMarkdown(team);
  const out = str(p, 'out');
  if (out) writeTeamFile(out, text);
  else io.out(text.trimEnd());
  const f = team.files;
  io.err(
    `outcome-ledger: ${f.counted} of ${f.read} rollup file${f.read === 1 ? '' : 's'} counted (${team.members} member${team.members === 1 ? '' : 's'})` +
      `${f.refused ? `, ${f.refused} refused` : ''}${f.duplicates + f.superseded + f.overlapping ? `, ${f.duplicates + f.superseded + f.overlapping} not counted twice` : ''}` +
      `${team.withheld ? `; figures withheld: fewer than ${team.k} members` : ''}${out ? `; report written to ${out}` : ''}`,
  );
  return f.counted > 0 ? 0 : 1;
}

export const rollupCommand: Command = {
  name: 'rollup',
  summary: "team rollups: export yours (opt-in, previewed), or merge your team's into a team report",
  help: `Usage: outcome-ledger rollup export --since YYYY-MM-DD --until YYYY-MM-DD --out FILE [--yes] [--name NAME] [--include repos,subjects]
       outcome-ledger rollup merge FILE|FOLDER|PATTERN... [--format md|html|json] [--out FILE] [--k N]

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
signature, sums), counts each machine's work once, and writes the team report. Refused files are listed with
their reason; the others still merge. No per-person figure appears; breakdowns need at least k members.

  --format F    md (default), html or json
  --out FILE    write the report there instead of printing it
  --k N         minimum members for figures and breakdowns (default ${DEFAULT_MIN_MEMBERS}, at least ${MIN_K})`,
  options: {
    ...PERIOD_OPTIONS,
    ...LINK_VIEW_OPTIONS,
    out: { type: 'string' },
    yes: { type: 'boolean' },
    name: { type: 'string' },
    include: { type: 'string' },
    'no-import': { type: 'boolean' },
    format: { type: 'string' },
    k: { type: 'string' },
  },
  positionals: true,
  async run(p, io) {
    const [sub, ...files] = p.positionals;
    if (sub === 'export') return rollupExport(p, files, io);
    if (sub === 'merge') return rollupMerge(p, files, io);
    throw new UsageError(sub ? `unknown rollup subcommand "${sub}" (use export or merge; see --help)` : 'rollup needs export or merge (see --help)');
  },
};
