/** Bytes of stdin read at the most: an assistant hook's JSON payload is a few hundred bytes. */
export const STDIN_LIMIT = 1 << 20;

/** What a CLI command reads and writes: its output streams, environment and terminal (tests pass their own). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** stderr when it is a terminal (progress bars go there), else undefined. */
  tty?: NodeJS.WriteStream;
  /** Asks a yes/no question on the terminal; absent when stdin or stderr is not one (then nothing is asked). */
  confirm?: (question: string) => Promise<boolean>;
  /** The width of the terminal stdout is, if it is one (tables drop columns to fit). */
  columns?: number;
  /** Whether stdout is a terminal (colour is used only there, or with FORCE_COLOR). */
  stdoutTty?: boolean;
  /** Writes a line to stdout as is: the caller has made it printable already (main.ts, to add colour). */
  rawOut?: (text: string) => void;
  /** Reads what is piped to stdin (at most 1 MB; an assistant hook's JSON payload); absent in tests that pipe nothing. */
  readStdin?: () => string;
  /** How the user runs this CLI, for hints they can paste: `outcome-ledger` when installed, `node dist/cli.js` from a checkout. */
  self?: string;
  /** Resolves once stdout has taken what was written (at once when it has): long output waits for a slow reader. */
  drained?: () => Promise<void>;
}
