/** What a CLI command reads and writes: its output streams, environment and terminal (tests pass their own). */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** stderr when it is a terminal (progress bars go there), else undefined. */
  tty?: NodeJS.WriteStream;
  /** Asks a yes/no question on the terminal; absent when stdin or stderr is not one (then nothing is asked). */
  confirm?: (question: string) => Promise<boolean>;
}
