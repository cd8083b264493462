import { terminalText } from '../core/common/text';
import { CommitNotFoundError } from '../services/decisions';
import { OtelPortBusyError } from '../services/otel';
import { SessionNotFoundError } from '../services/queries';
import { TeamRollupError } from '../services/teamRollup';
import { diskFaultOf, DiskFaultError } from '../store/diskFault';
import { LedgerWriteError } from '../store/ledger';
import { LockTimeoutError } from '../store/lock';
import { SchemaTooNewError } from '../store/schema';
import { ArchiveDamagedError } from '../store/archive';
import { SigningKeyError } from '../store/signing';
import { parse, UsageError } from './args';
import { COMMON_HELP, examplesHelp, type Command } from './command';
import { demoCommand } from './commands/demo';
import { healthCommand } from './commands/health';
import { HookInputError, importCommand } from './commands/import';
import { labelCommand } from './commands/label';
import { linkCommand } from './commands/link';
import { manualCommand } from './commands/manual';
import { otelCommand } from './commands/otel';
import { pricesCommand } from './commands/prices';
import { reportCommand } from './commands/report';
import { rollupCommand } from './commands/rollup';
import { sessionsCommand } from './commands/sessions';
import { summaryCommand } from './commands/summary';
import { verifyCommand } from './commands/verify';
import { colourise, colourWanted } from './format';
import type { CliIo } from './io';
import { didYouMean } from './suggest';
import { setCliV8Flags } from './v8';

// The CLI's V8 flags (cli/v8.ts): set again for a run from the sources; the launcher set them before compiling.
setCliV8Flags();

/** Every command, in the order `--help` lists them. A new command is a file in commands/ and a line here. */
const COMMANDS: readonly Command[] = [
  importCommand,
  linkCommand,
  reportCommand,
  sessionsCommand,
  summaryCommand,
  verifyCommand,
  labelCommand,
  manualCommand,
  healthCommand,
  pricesCommand,
  rollupCommand,
  otelCommand,
  demoCommand,
];

const MAIN_HELP = `outcome-ledger — value per token, not volume

Usage: outcome-ledger <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Every command takes:
${COMMON_HELP}

Run \`outcome-ledger <command> --help\` for a command's options; \`outcome-ledger --version\` prints the version.`;

/**
 * Exit codes by error: 2 for a mistake in how the command was called (or an id that names nothing), 1 for what
 * stopped it at run time (the ledger locked, unwritable or too new, a key or a rollup that cannot be read or written).
 * Anything else is unexpected: exit 1 with its stack.
 */
const EXIT_CODES: ReadonlyArray<readonly [new (...args: never[]) => Error, number]> = [
  [UsageError, 2],
  [SessionNotFoundError, 2],
  [CommitNotFoundError, 2],
  [TeamRollupError, 1],
  [SigningKeyError, 1],
  [LockTimeoutError, 1],
  [LedgerWriteError, 1],
  [DiskFaultError, 1],
  [SchemaTooNewError, 1],
  [ArchiveDamagedError, 1],
  [OtelPortBusyError, 1],
  [HookInputError, 1],
];

function helpOf(name: string | undefined): string {
  const command = COMMANDS.find((c) => c.name === name);
  return command ? `${command.help}\n${COMMON_HELP}\n\n${examplesHelp(command.examples)}` : MAIN_HELP;
}

function unknownCommand(name: string): UsageError {
  const names = COMMANDS.map((c) => c.name);
  const hint = didYouMean(name, [...names, 'help', 'version']);
  return new UsageError(
    `unknown command "${name}"${hint || ` (commands: ${names.join(', ')})`}; see outcome-ledger --help`,
  );
}

/**
 * The flags every command takes, anywhere before `--`: --debug (a stack trace on unexpected errors, otherwise they are
 * one line) and --no-color.
 */
function globalFlags(argv: string[]): { argv: string[]; debug: boolean; noColor: boolean } {
  const before = argv.indexOf('--');
  const scan = before === -1 ? argv : argv.slice(0, before);
  const rest = before === -1 ? [] : argv.slice(before);
  const flags = new Set(['--debug', '--no-color']);
  return {
    argv: [...scan.filter((a) => !flags.has(a)), ...rest],
    debug: scan.includes('--debug'),
    noColor: scan.includes('--no-color'),
  };
}

/** The streams with colour when wanted: the text is made printable first, then coloured by its shape. */
function withColour(io: CliIo, noColor: boolean): CliIo {
  const raw = io.rawOut;
  if (!raw || !colourWanted(io.env, io.stdoutTty === true, noColor)) return io;
  return { ...io, out: (text) => raw(colourise(terminalText(text))) };
}

/** Runs one command; returns the exit code (0 ok, 1 a run-time failure, 2 a usage error). Never throws. */
export async function main(argvIn: string[], ioIn: CliIo): Promise<number> {
  const { argv, debug, noColor } = globalFlags(argvIn);
  const io = withColour(ioIn, noColor);
  const [name, ...rest] = argv;
  try {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      const topic = rest[0];
      if (topic !== undefined && topic !== '--help' && topic !== '-h' && !COMMANDS.some((c) => c.name === topic))
        throw unknownCommand(topic);
      io.out(helpOf(topic));
      return 0;
    }
    if (name === '--version' || name === '-v' || name === 'version') {
      if (rest.length > 0) throw new UsageError(`${name} takes no arguments`);
      const { TOOL_VERSION } = await import('../services/summary');
      io.out(TOOL_VERSION);
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw unknownCommand(name);
    const p = parse(rest, command.options, command.positionals);
    if (p.values.help) {
      io.out(helpOf(command.name));
      return 0;
    }
    return await command.run(p, io);
  } catch (e) {
    const code = EXIT_CODES.find(([type]) => e instanceof type)?.[1];
    if (code !== undefined) {
      io.err(`outcome-ledger: ${(e as Error).message}`);
      return code;
    }
    // A disk that refused a write no command wrapped: still one plain line naming the folder and what to do.
    const fault = diskFaultOf(e, 'write to disk', process.cwd());
    if (fault) {
      io.err(`outcome-ledger: ${fault.message}`);
      if (debug) io.err((e as Error).stack ?? String(e));
      return 1;
    }
    // Anything else is a bug or the machine: one line, and the stack only with --debug.
    const message = (e as Error).message?.split('\n')[0] || String(e);
    io.err(`outcome-ledger: unexpected error: ${message}${debug ? '' : ' (run again with --debug for details)'}`);
    if (debug) io.err((e as Error).stack ?? String(e));
    return 1;
  }
}
