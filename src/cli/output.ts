import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError, type Options, type Parsed } from './args';
import type { CliIo } from './io';

/** `--out FILE` and `--force`, for every command that writes a file. */
export const OUT_OPTIONS: Options = { out: { type: 'string' }, force: { type: 'boolean' } };

/** One line of help for --force, the same in every command. */
export const FORCE_HELP = '--force                 replace FILE when it exists (on a terminal you are asked instead)';

/**
 * The one rule for every `--out FILE` (docs/cli.md): missing folders are created (as a scheduled job writing
 * `reports/2026-12/team.html` expects); FILE may not be a folder; an existing FILE is replaced only with --force, or
 * after a yes on a terminal. Checked before any work is done, so a refusal costs nothing and writes nothing.
 * Exit 2 (a usage error) otherwise.
 */
export async function checkOutFile(file: string, p: Parsed, io: CliIo, example: string): Promise<void> {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory())
    throw new UsageError(`--out ${file} is a folder: give a file name, such as ${path.join(file, example)}`);
  if (stat && p.values.force !== true && !(io.confirm && (await io.confirm(`${file} exists. Replace it?`)))) {
    throw new UsageError(`--out ${file} exists: add --force to replace it (nothing was written)`);
  }
  const dir = path.dirname(path.resolve(file));
  if (isDirectory(dir)) return;
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch {
    // A file in the way, a read-only disk: the write itself then fails with its one-line reason (exit 1).
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
