import * as readline from 'node:readline';
import { terminalText } from '../core/common/text';
import { main } from './main';

/** A yes/no question on the terminal (answer on stdin); only offered when both ends are a terminal. */
function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    rl.question(`${question} [y/N] `, (answer) => {
      resolve(/^\s*y(es)?\s*$/i.test(answer));
      rl.close();
    });
    // Ctrl-D or a closed terminal is a no.
    rl.on('close', () => resolve(false));
  });
}

// `outcome-ledger report | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const args = process.argv.slice(2);
// `npx outcome-ledger -- --help` passes a literal `--` first.
if (args[0] === '--') args.shift();

main(args, {
  // Strings from logs and repositories are data: nothing printed can carry a terminal escape or bidi override.
  out: (text) => process.stdout.write(`${terminalText(text)}\n`),
  err: (text) => process.stderr.write(`${terminalText(text)}\n`),
  env: process.env,
  tty: process.stderr.isTTY ? process.stderr : undefined,
  confirm: process.stdin.isTTY && process.stderr.isTTY ? confirm : undefined,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`outcome-ledger: ${terminalText((e as Error).message)}\n`);
    process.exitCode = 1;
  },
);
