import { main } from './main';

main(process.argv.slice(2), {
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
