import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { terminalText } from '../core/common/text';
import { STDIN_LIMIT } from './io';
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

/** How the user ran this CLI: installed (npm -g, npx, a project's node_modules) it is on the PATH; else `node PATH`. */
function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (script.includes(`${path.sep}node_modules${path.sep}`) || path.basename(script) === 'outcome-ledger')
    return 'outcome-ledger';
  const rel = path.relative(process.cwd(), script) || script;
  return `node ${/\s/.test(rel) ? JSON.stringify(rel) : rel}`;
}

/**
 * What is piped to stdin, up to STDIN_LIMIT + 1 bytes (the reader of it can tell "too long"); nothing when stdin is a
 * terminal (a user typing `import --hook` by hand is not kept waiting).
 */
function readStdin(): string {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  let total = 0;
  const buf = Buffer.alloc(64 << 10);
  const deadline = Date.now() + 10_000;
  while (total <= STDIN_LIMIT) {
    let n: number;
    try {
      n = fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EOF') break;
      // A non-blocking pipe with nothing yet: wait a little, never past the deadline.
      if (code === 'EAGAIN' && Date.now() < deadline) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
    total += n;
  }
  return Buffer.concat(chunks)
    .subarray(0, STDIN_LIMIT + 1)
    .toString('utf8');
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
  rawOut: (text) => process.stdout.write(`${text}\n`),
  env: process.env,
  self: selfCommand(),
  stdoutTty: process.stdout.isTTY === true,
  ...(process.stdout.isTTY && process.stdout.columns ? { columns: process.stdout.columns } : {}),
  tty: process.stderr.isTTY ? process.stderr : undefined,
  confirm: process.stdin.isTTY && process.stderr.isTTY ? confirm : undefined,
  readStdin,
  drained: () =>
    process.stdout.writableNeedDrain
      ? new Promise((resolve) => process.stdout.once('drain', resolve))
      : Promise.resolve(),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`outcome-ledger: ${terminalText((e as Error).message)}\n`);
    process.exitCode = 1;
  },
);
