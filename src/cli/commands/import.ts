import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceName } from '../../core/usage/model';
import { importAll, READERS, type ExtraSource } from '../../services/importer';
import { UsageError } from '../args';
import type { Command } from '../command';
import { ProgressBar } from '../format';
import { withLedger } from '../ledger';
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

export const importCommand: Command = {
  name: 'import',
  summary: "read every AI tool's logs on this machine into the ledger (incremental; see import --help)",
  help: `Usage: outcome-ledger import [--source NAME=PATH]... [--store-prompts]

Reads every detected source incrementally into the ledger (${READERS.map((r) => r.source).join(', ')})
and prints, per source: files read, requests added, duplicates
skipped and lines rejected (with the first reasons).

  --source NAME=PATH   also read PATH (a file or folder) as source NAME (${READERS.map((r) => r.source).join(', ')});
                       for copilot-chat: a VS Code user folder, a chatSessions folder or one session file
  --store-prompts      keep prompt text in the ledger (off by default: only a hash is kept)`,
  examples: [
    ['outcome-ledger import', "read new lines of every assistant's logs into the ledger"],
    ['outcome-ledger import --source claude-code=~/backup/.claude', 'also read a copied folder of Claude Code logs'],
  ],
  options: { source: { type: 'string', multiple: true }, 'store-prompts': { type: 'boolean' } },
  positionals: false,
  async run(p, io) {
    const extra = parseExtraSources(p.values.source as string[] | undefined);
    return withLedger(p, io, async (ledger) => {
      const bar = io.tty ? new ProgressBar(io.tty, 'importing') : undefined;
      const summary = await importAll(ledger, {
        env: io.env,
        extra,
        storePromptText: p.values['store-prompts'] === true,
        projectDirs: [process.cwd()],
        // Tuning knob (documented in docs/ledger.md): how much to read between saves of progress.
        ...(Number(io.env.OUTCOME_LEDGER_CHECKPOINT_MB) > 0
          ? { checkpointBytes: Number(io.env.OUTCOME_LEDGER_CHECKPOINT_MB) * (1 << 20) }
          : {}),
        onProgress: bar ? (d, t) => bar.update(d, t) : undefined,
      });
      bar?.done();
      io.out(renderImport(summary));
      return 0;
    });
  },
};
