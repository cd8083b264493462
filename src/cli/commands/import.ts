import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceName } from '../../core/usage/model';
import { importAll, READERS, type ExtraSource } from '../../services/importer';
import { UsageError } from '../args';
import type { Command } from '../command';
import { STDIN_LIMIT } from '../io';
import { ProgressBar } from '../format';
import { checkpointOption, withLedger } from '../ledger';
import { collectGarbage } from '../v8';
import { renderImport } from '../render/sessions';
import { didYouMean } from '../suggest';

function parseExtraSources(values: string[] | undefined): ExtraSource[] {
  // One list: the sources this version reads (`manual` is logged with `manual add`, never read from a path).
  const readable = READERS.map((r) => r.source);
  return (values ?? []).map((v) => {
    const eq = v.indexOf('=');
    const name = eq > 0 ? v.slice(0, eq) : '';
    const p = eq > 0 ? v.slice(eq + 1) : '';
    if (!name || !p)
      throw new UsageError(`--source needs NAME=PATH with NAME one of ${readable.join(', ')}; got "${v}"`);
    if (!readable.includes(name as SourceName)) {
      const hint =
        name === 'manual'
          ? ' (manual entries are logged with `outcome-ledger manual add`)'
          : didYouMean(name, readable);
      throw new UsageError(
        `--source ${name}: not a source this version reads${hint}; NAME is one of ${readable.join(', ')}`,
      );
    }
    const resolved = path.resolve(p);
    if (!fs.existsSync(resolved)) throw new UsageError(`--source ${name}=${p}: no such file or folder`);
    return { source: name as SourceName, path: resolved };
  });
}

/** An assistant hook's payload that names no readable log: exit 1, never 2 (a Stop hook takes 2 as "keep going"). */
export class HookInputError extends Error {}

/** Why `p` cannot be read as a log file, or undefined when it can. */
function notAFile(p: string): string | undefined {
  try {
    return fs.statSync(p).isFile() ? undefined : 'not a regular file';
  } catch {
    return 'no such file';
  }
}

function existingFile(p: string, option: string): string {
  const resolved = path.resolve(p);
  const why = notAFile(resolved);
  if (why) throw new UsageError(`${option} ${p}: ${why}`);
  return resolved;
}

/** The hook payload is untrusted input: at most 1 MB of JSON, whose `transcript_path` must name an existing file. */
function hookFile(payload: string): string {
  const problem = (why: string): HookInputError =>
    new HookInputError(
      `import --hook: ${why}; expected the JSON a Claude Code hook writes on stdin, with "transcript_path"`,
    );
  if (payload.trim() === '') throw problem('nothing on stdin');
  if (payload.length > STDIN_LIMIT) throw problem('stdin holds more than 1 MB');
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw problem('stdin is not JSON');
  }
  const file = (parsed as { transcript_path?: unknown } | null)?.transcript_path;
  if (typeof file !== 'string' || file === '' || !path.isAbsolute(file)) throw problem('no absolute "transcript_path"');
  const resolved = path.resolve(file);
  const why = notAFile(resolved);
  if (why) throw problem(`no readable file at ${file}: ${why}`);
  return resolved;
}

export const importCommand: Command = {
  name: 'import',
  summary: "read every AI tool's logs on this machine into the ledger (incremental; see import --help)",
  help: `Usage: outcome-ledger import [--source NAME=PATH]... [--file PATH]... [--hook] [--store-prompts]

Reads every detected source incrementally into the ledger (${READERS.map((r) => r.source).join(', ')})
and prints, per source: files read, requests added, duplicates
skipped and lines rejected (with the first reasons).

  --source NAME=PATH   also read PATH (a file or folder) as source NAME (${READERS.map((r) => r.source).join(', ')});
                       for copilot-chat: a VS Code user folder, a chatSessions folder or one session file
  --file PATH          read only this log file (repeatable), as an assistant's hook does after a turn: a Claude
                       Code or Codex session log (one the ledger follows, or a new one where the tool writes
                       them) costs one stat and its new lines, however many logs and years the machine holds;
                       any other file makes it a full import
  --hook               read the file an assistant's hook names in the JSON on stdin (Claude Code's
                       "transcript_path"), as --file; a payload naming no readable file exits 1 (never 2, which
                       a Stop hook would take as "keep going")
  --store-prompts      keep prompt text in the ledger (off by default: only a hash is kept)`,
  examples: [
    ['outcome-ledger import', "read new lines of every assistant's logs into the ledger"],
    ['outcome-ledger import --source claude-code=~/backup/.claude', 'also read a copied folder of Claude Code logs'],
    [
      'outcome-ledger import --hook',
      'as a Claude Code Stop hook: capture the turn that just ended (docs/cli.md, import)',
    ],
  ],
  options: {
    source: { type: 'string', multiple: true },
    file: { type: 'string', multiple: true },
    hook: { type: 'boolean' },
    'store-prompts': { type: 'boolean' },
  },
  positionals: false,
  async run(p, io) {
    const extra = parseExtraSources(p.values.source as string[] | undefined);
    const changed = [
      ...((p.values.file as string[] | undefined) ?? []).map((f) => existingFile(f, '--file')),
      ...(p.values.hook === true ? [hookFile(io.readStdin?.() ?? '')] : []),
    ];
    return withLedger(p, io, async (ledger) => {
      const bar = io.tty ? new ProgressBar(io.tty, 'importing') : undefined;
      const summary = await importAll(ledger, {
        env: io.env,
        extra,
        storePromptText: p.values['store-prompts'] === true,
        projectDirs: [process.cwd()],
        ...(changed.length > 0 ? { changed } : {}),
        ...checkpointOption(io.env),
        onProgress: bar ? (d, t) => bar.update(d, t) : undefined,
        afterCheckpoint: collectGarbage,
      });
      bar?.done();
      io.out(renderImport(summary));
      return 0;
    });
  },
};
