// Prettier at 120 columns (.prettierrc.json). `node scripts/format.mjs` checks, `--write` formats.
// It covers the files listed in FORMATTED: the tree was written before the formatter, and reformatting every file at
// once would conflict with every branch in flight; a folder joins the list once it has been formatted in a commit of
// its own (`npx prettier --write <folder>`). `npm run lint` and `npm test` run the check.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const FORMATTED = [
  '.prettierrc.json',
  'scripts/cycles.mjs',
  'scripts/format.mjs',
  'src/cli/command.ts',
  'src/cli/commands',
  'src/cli/io.ts',
  'src/cli/ledger.ts',
  'src/core/common',
  'src/demo/truth.ts',
  'src/extension/commands/args.ts',
  'src/extension/commands/dataHealth.ts',
  'src/extension/commands/ids.ts',
  'src/extension/commands/importNow.ts',
  'src/extension/commands/label.ts',
  'src/extension/commands/places.ts',
  'src/extension/commands/register.ts',
  'src/extension/commands/shell.ts',
  'src/extension/documents.ts',
  'src/extension/observations.ts',
  'src/extension/sidebarActions.ts',
  'src/services/ledger.ts',
  'src/services/sessionLookups.ts',
];

const write = process.argv.includes('--write');
const r = spawnSync(
  join(root, 'node_modules', '.bin', 'prettier'),
  [write ? '--write' : '--check', '--log-level', write ? 'log' : 'warn', ...FORMATTED],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (r.status !== 0 && !write) process.stderr.write('Not formatted: run `npm run format` (Prettier, 120 columns).\n');
process.exit(r.status ?? 1);
