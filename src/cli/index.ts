import { main } from './main';

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
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  tty: process.stderr.isTTY ? process.stderr : undefined,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`outcome-ledger: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
