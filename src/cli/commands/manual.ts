import * as fs from 'node:fs';
import { parseLocalMoment } from '../../core/usage/time';
import {
  addManualEntry,
  deleteManualEntry,
  editManualEntry,
  listManualEntries,
  ManualEntryError,
  type ManualEntry,
  type ManualEntryPatch,
} from '../../services/manual';
import { str, timeZoneOf, UsageError, type Parsed } from '../args';
import type { Command } from '../command';
import { fmtInt, fmtUSD } from '../format';
import type { CliIo } from '../io';
import { withLedger } from '../ledger';

const MANUAL_OPTIONS = {
  tool: { type: 'string' },
  model: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  'prompt-file': { type: 'string' },
  'reply-file': { type: 'string' },
  task: { type: 'string' },
  branch: { type: 'string' },
  repo: { type: 'string' },
  at: { type: 'string' },
  json: { type: 'boolean' },
} as const;

function countOption(p: Parsed, name: string): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`--${name} needs a whole number of tokens, got "${v}"`);
  return Number(v);
}

function textOption(p: Parsed, name: string): string | undefined {
  const f = str(p, name);
  if (f === undefined) return undefined;
  try {
    return fs.readFileSync(f === '-' ? 0 : f, 'utf8');
  } catch (e) {
    throw new UsageError(
      `--${name} ${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

/** The fields of `manual add|edit` that were given (edit changes only those). */
function manualPatch(p: Parsed, io: CliIo): ManualEntryPatch {
  const patch: ManualEntryPatch = {};
  const tool = str(p, 'tool');
  const model = str(p, 'model');
  if (tool !== undefined) patch.tool = tool;
  if (model !== undefined) patch.model = model;
  const input = countOption(p, 'input');
  const output = countOption(p, 'output');
  if (input !== undefined) patch.inputTokens = input;
  if (output !== undefined) patch.outputTokens = output;
  const prompt = textOption(p, 'prompt-file');
  const reply = textOption(p, 'reply-file');
  if (prompt !== undefined) patch.promptText = prompt;
  if (reply !== undefined) patch.replyText = reply;
  for (const k of ['task', 'branch', 'repo'] as const) {
    const v = str(p, k);
    if (v !== undefined) patch[k] = v.trim() ? v : null;
  }
  const at = str(p, 'at');
  if (at !== undefined) {
    const t = parseLocalMoment(timeZoneOf(p, io.env), at);
    if (t === undefined)
      throw new UsageError(`--at needs YYYY-MM-DD, "YYYY-MM-DD HH:MM" or an ISO time with an offset, got "${at}"`);
    patch.at = t;
  }
  return patch;
}

function renderManual(e: ManualEntry): string {
  const tokens = `${e.tokenAccuracy === 'exact' ? '' : '~'}${fmtInt(e.tokens.total)} tokens (${fmtInt(e.tokens.input)} in, ${fmtInt(e.tokens.output)} out${e.tokenAccuracy === 'exact' ? '' : ', estimated from text'})`;
  const extras = [e.task ? `task ${e.task}` : '', e.branch ? `branch ${e.branch}` : '', e.repo ? `repo ${e.repo}` : '']
    .filter(Boolean)
    .join(' · ');
  return `${e.id}  ${e.at.slice(0, 16).replace('T', ' ')} UTC  ${e.tool} · ${e.model} · ${tokens} · est. ${fmtUSD(e.costUSD)}${extras ? ` · ${extras}` : ''}`;
}

/** A mistake in an entry (an unknown id, a missing figure) is the caller's: exit code 2. */
async function asUsage<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ManualEntryError) throw new UsageError(e.message);
    throw e;
  }
}

export const manualCommand: Command = {
  name: 'manual',
  summary: 'log an AI interaction by hand (web chats): add, list, edit, delete',
  help: `Usage: outcome-ledger manual add --tool NAME --model MODEL (--input N --output N | --prompt-file FILE [--reply-file FILE])
                              [--task KEY] [--branch NAME] [--repo PATH] [--at WHEN] [--json]
       outcome-ledger manual list [--json]
       outcome-ledger manual edit ID [any option of add]
       outcome-ledger manual delete ID

Logs an AI interaction that left no log on this machine (a web chat, a phone app) so it counts like any other
session. Tokens are the counts the tool showed (exact), or estimated from the text of the chat (--prompt-file,
--reply-file; "-" reads stdin): the text is only counted, never stored, and the figures are marked estimated (~).
ID is the id \`manual list\` prints (manual:m-…), or a unique prefix.

  --tool NAME          the tool, e.g. "ChatGPT web", "Claude.ai"
  --model MODEL        the model, e.g. gpt-4o, claude-sonnet-4-5 (priced when the price table knows it)
  --input N            input (prompt) tokens the tool showed
  --output N           output tokens the tool showed
  --prompt-file FILE   text you sent, to estimate input tokens from
  --reply-file FILE    text you received, to estimate output tokens from
  --task KEY           the task it was for (e.g. PAY-7); '' removes it on edit
  --branch NAME        the branch it was for (used for linking); '' removes it on edit
  --repo PATH          a folder of the repository it was for (used for linking); '' removes it on edit
  --at WHEN            when: YYYY-MM-DD, "YYYY-MM-DD HH:MM" (in --tz) or an ISO time with offset (default: now)
  --json               print JSON`,
  examples: [
    [
      'outcome-ledger manual add --tool ChatGPT --model gpt-5 --input 1200 --output 800',
      'log a chat the tools do not record',
    ],
    ['outcome-ledger manual list', 'the entries you added'],
  ],
  options: MANUAL_OPTIONS,
  positionals: true,
  async run(p, io) {
    const [sub, ...args] = p.positionals;
    if (sub === 'add') {
      if (args.length > 0) throw new UsageError('manual add takes options only (see --help)');
      const patch = manualPatch(p, io);
      if (patch.tool === undefined || patch.model === undefined)
        throw new UsageError('manual add needs --tool and --model (see --help)');
      return withLedger(p, io, async (ledger) => {
        const e = await asUsage(() =>
          addManualEntry(ledger, { at: Date.now(), ...patch, tool: patch.tool ?? '', model: patch.model ?? '' }),
        );
        io.out(p.values.json ? JSON.stringify(e, null, 2) : `Logged ${renderManual(e)}`);
        return 0;
      });
    }
    if (sub === 'list') {
      if (args.length > 0) throw new UsageError('manual list takes no arguments');
      return withLedger(p, io, (ledger) => {
        const list = listManualEntries(ledger.database);
        io.out(
          p.values.json
            ? JSON.stringify(list, null, 2)
            : list.length === 0
              ? 'No manual entries. Log one with `outcome-ledger manual add`.'
              : list.map(renderManual).join('\n'),
        );
        return 0;
      });
    }
    if (sub === 'edit' || sub === 'delete') {
      const [id, ...rest] = args;
      if (!id || rest.length > 0)
        throw new UsageError(`manual ${sub} needs the ID of one entry (see \`outcome-ledger manual list\`)`);
      const patch = sub === 'edit' ? manualPatch(p, io) : {};
      if (sub === 'edit' && Object.keys(patch).length === 0)
        throw new UsageError('manual edit needs at least one option to change (see --help)');
      return withLedger(p, io, async (ledger) => {
        if (sub === 'delete') {
          const gone = await asUsage(() => deleteManualEntry(ledger, id));
          io.out(`Deleted ${gone}.`);
        } else {
          const e = await asUsage(() => editManualEntry(ledger, id, patch));
          io.out(p.values.json ? JSON.stringify(e, null, 2) : `Updated ${renderManual(e)}`);
        }
        return 0;
      });
    }
    throw new UsageError(
      sub === undefined
        ? 'manual needs add, list, edit or delete (see --help)'
        : `unknown manual subcommand "${sub}" (use add, list, edit or delete)`,
    );
  },
};
