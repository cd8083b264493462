import * as path from 'node:path';
import { isSessionLabel, isSourceName, SESSION_LABELS, SOURCE_NAMES, type SourceName } from '../core/model';
import { dataHealth, renderHealth } from '../services/health';
import { importAll, type ExtraSource } from '../services/importer';
import { listSessions, report, resolveSession, SessionNotFoundError, setLabel } from '../services/queries';
import { defaultLedgerHome } from '../store/home';
import { Ledger, LedgerWriteError } from '../store/ledger';
import { LockTimeoutError } from '../store/lock';
import { SchemaTooNewError } from '../store/schema';
import { parse, PERIOD_OPTIONS, periodOf, str, timeZoneOf, UsageError, type Parsed } from './args';
import { ProgressBar } from './format';
import { renderImport, renderReport, renderSessions } from './render';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** stderr when it is a terminal (progress bars go there), else undefined. */
  tty?: NodeJS.WriteStream;
}

const COMMON_HELP = `  --home DIR     ledger home (default: $OUTCOME_LEDGER_HOME or the platform data dir)
  --tz ZONE      IANA time zone for grouping by day (default: $TZ or the system zone)
  -h, --help     show this help`;

const HELP: Record<string, string> = {
  main: `outcome-ledger — value per token, not volume

Usage: outcome-ledger <command> [options]

Commands:
  import     read Claude Code and Codex logs on this machine into the ledger (incremental)
  report     token totals, estimated cost and value metrics for a period
  sessions   one row per session with its status
  label      label a session: ${SESSION_LABELS.join(' | ')}
  health     data health: per source found or not, files, first and last record, rejected lines, known gaps
  demo       build a demo world in a temp folder, import it and print its report

Every command takes:
${COMMON_HELP}

Run \`outcome-ledger <command> --help\` for a command's options.`,
  import: `Usage: outcome-ledger import [--source NAME=PATH]... [--store-prompts]

Reads every detected source incrementally into the ledger and prints, per source: files read,
requests added, duplicates skipped and lines rejected (with the first reasons).

  --source NAME=PATH   also read PATH (a file or folder) as source NAME (${SOURCE_NAMES.filter((s) => s === 'claude-code' || s === 'codex').join(', ')})
  --store-prompts      keep prompt text in the ledger (off by default: only a hash is kept)
${COMMON_HELP}`,
  report: `Usage: outcome-ledger report [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json] [--no-import]

Totals (tokens in canonical fields, estimated cost), by source, model and day, outcomes and coverage.
New log lines are imported first (incremental), so the report is current.

  --since DATE   first day included (in --tz)
  --until DATE   last day included (in --tz)
  --json         print JSON (the stable shape documented in the README)
  --no-import    report the ledger as it is, without reading new log lines
${COMMON_HELP}`,
  sessions: `Usage: outcome-ledger sessions [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json] [--no-import]

One row per session active in the period: tool, branch, tokens, estimated cost, edited files, status.
New log lines are imported first (incremental).

  --since DATE   first day included (in --tz)
  --until DATE   last day included (in --tz)
  --json         print JSON (one object per session)
  --no-import    list the ledger as it is, without reading new log lines
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
  demo: `Usage: outcome-ledger demo [--keep]

Builds a realistic demo world in a temp folder (git repositories plus Claude Code and Codex logs in their real
formats), imports it into a ledger inside that folder and prints its report. Your own ledger is not touched.

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
    if (name !== 'claude-code' && name !== 'codex') throw new UsageError(`--source ${name}: this version reads claude-code and codex logs`);
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
      // Tuning knob (documented in the README): how much to read between saves of progress.
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
    await importAll(ledger, { env: io.env, timeoutMs: 3000 });
  } catch (e) {
    if (e instanceof LockTimeoutError || e instanceof LedgerWriteError) {
      io.err(`outcome-ledger: showing the ledger as last saved; new log lines were not read (${e.message})`);
      return;
    }
    throw e;
  }
}

async function cmdReport(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { ...PERIOD_OPTIONS, 'no-import': { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'report');
  const timeZone = timeZoneOf(p, io.env);
  const period = periodOf(p);
  const ledger = await openLedger(p, io);
  try {
    await refresh(ledger, p, io);
    const r = report(ledger.database, { timeZone, ...period });
    io.out(p.values.json ? JSON.stringify(r, null, 2) : renderReport(r));
    return 0;
  } finally {
    ledger.close();
  }
}

async function cmdSessions(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { ...PERIOD_OPTIONS, 'no-import': { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'sessions');
  const timeZone = timeZoneOf(p, io.env);
  const period = periodOf(p);
  const ledger = await openLedger(p, io);
  try {
    await refresh(ledger, p, io);
    const list = listSessions(ledger.database, { timeZone, ...period });
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

async function cmdDemo(argv: string[], io: CliIo): Promise<number> {
  const p = parse(argv, { keep: { type: 'boolean' } }, false);
  if (p.values.help) return help(io, 'demo');
  const { runDemo } = await import('./demo');
  return runDemo({ keep: p.values.keep === true, timeZone: timeZoneOf(p, io.env), io });
}

function help(io: CliIo, topic: string): number {
  io.out(HELP[topic] ?? HELP.main ?? '');
  return 0;
}

const COMMANDS: Record<string, (argv: string[], io: CliIo) => Promise<number>> = {
  import: cmdImport,
  report: cmdReport,
  sessions: cmdSessions,
  label: cmdLabel,
  health: cmdHealth,
  demo: cmdDemo,
};

/** Runs one command; returns the exit code (0 ok, 1 the ledger could not be read or written, 2 usage). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    return help(io, rest[0] && HELP[rest[0]] ? rest[0] : 'main');
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
    if (e instanceof SessionNotFoundError) {
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
