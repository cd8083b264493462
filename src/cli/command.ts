import type { Options, Parsed } from './args';
import type { CliIo } from './io';

/** One command of the CLI: `cli/commands/<name>.ts` exports one, `main.ts` dispatches to it. */
export interface Command {
  name: string;
  /** One line in the command list of `outcome-ledger --help`. */
  summary: string;
  /** The text of `outcome-ledger <name> --help` (the common options are appended). */
  help: string;
  /** What a user types, and what it does: printed under "Examples:" at the end of its --help. */
  examples: ReadonlyArray<readonly [command: string, what: string]>;
  /** Its options (the common ones, --home, --tz and --help, are added by the parser). */
  options: Options;
  /** Whether it takes positional arguments (subcommands, ids, files). */
  positionals: boolean;
  /** Runs it with the parsed arguments; returns the exit code. Errors are mapped to exit codes by main.ts. */
  run(p: Parsed, io: CliIo): Promise<number>;
}

export const COMMON_HELP = `  --home DIR     ledger home (default: $OUTCOME_LEDGER_HOME or the platform data dir)
  --tz ZONE      IANA time zone for grouping by day (default: $TZ or the system zone)
  --no-color     no colour (also NO_COLOR=1; FORCE_COLOR=1 colours a pipe)
  --debug        a stack trace on an unexpected error
  -h, --help     show this help`;

/** The "Examples:" block of a command's --help, commands aligned. */
export function examplesHelp(examples: Command['examples']): string {
  const width = Math.max(...examples.map(([c]) => c.length));
  return `Examples:\n${examples.map(([c, what]) => `  ${c.padEnd(width)}  ${what}`).join('\n')}`;
}
