import * as vscode from 'vscode';
import { fmtInt } from '../../core/usage/format';
import { parseLocalMoment } from '../../core/usage/time';
import { ManualEntryError, type ManualEntry, type ManualEntryInput } from '../../services/manual';
import type { SessionsNode } from '../sessionsTree';

/**
 * The questions of "Log an AI Interaction…" (web chats and other tools without local logs) and of Edit / Delete Manual
 * Entry from the Sessions tree. The logic is services/manual.ts's (the CLI's `manual` command uses the same); these
 * commands only ask. Each also takes its answers as arguments (scripts and tests skip the questions).
 */

export const PRESET_TOOLS = ['ChatGPT web', 'Claude.ai', 'Gemini app', 'Copilot web', 'Perplexity'];

export function describe(e: ManualEntry): string {
  return `${e.tool} · ${e.model} · ${e.tokenAccuracy === 'exact' ? '' : '~'}${fmtInt(e.tokens.total)} tokens${e.tokenAccuracy === 'exact' ? '' : ' (estimated)'}`;
}

const countInput = (title: string, value = ''): Thenable<string | undefined> =>
  vscode.window.showInputBox({
    title,
    value,
    prompt: 'Whole number, as the tool showed it',
    validateInput: (v) => (/^\s*\d+\s*$/.test(v) ? undefined : 'A whole number of tokens (0 or more)'),
  });

export async function askTokens(): Promise<
  Pick<ManualEntryInput, 'inputTokens' | 'outputTokens' | 'promptText' | 'replyText'> | undefined
> {
  const how = await vscode.window.showQuickPick(
    [
      { label: 'Enter the token counts the tool showed', detail: 'Exact figures.', value: 'counts' as const },
      {
        label: 'Estimate from the text on the clipboard',
        detail:
          'Copy the conversation first. The text is counted with a tokenizer, never stored; figures are marked estimated (~).',
        value: 'clipboard' as const,
      },
      {
        label: 'Paste the text to estimate from…',
        detail: 'The text is counted, never stored; figures are marked estimated (~).',
        value: 'paste' as const,
      },
    ],
    { title: 'Tokens' },
  );
  if (!how) return undefined;
  if (how.value === 'counts') {
    const input = await countInput('Input (prompt) tokens');
    if (input === undefined) return undefined;
    const output = await countInput('Output tokens');
    if (output === undefined) return undefined;
    return { inputTokens: Number(input), outputTokens: Number(output) };
  }
  if (how.value === 'clipboard') {
    const text = await vscode.env.clipboard.readText();
    if (!text.trim()) {
      void vscode.window.showWarningMessage(
        'The clipboard holds no text: copy the conversation first, or enter the counts.',
      );
      return undefined;
    }
    return { promptText: text };
  }
  const prompt = await vscode.window.showInputBox({ title: 'Paste what you sent', prompt: 'Counted, never stored.' });
  if (prompt === undefined) return undefined;
  const reply = await vscode.window.showInputBox({
    title: 'Paste what you received (optional)',
    prompt: 'Counted as output tokens, never stored.',
  });
  if (reply === undefined) return undefined;
  return { promptText: prompt, replyText: reply };
}

export function askWhen(tz: string, value = 'now'): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: 'When',
    value,
    prompt: '"now", YYYY-MM-DD or "YYYY-MM-DD HH:MM" (local time)',
    validateInput: (v) =>
      v.trim() === 'now' || parseLocalMoment(tz, v) !== undefined ? undefined : 'now, YYYY-MM-DD or YYYY-MM-DD HH:MM',
  });
}

export function entryIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as SessionsNode | undefined;
  if (node && typeof node === 'object' && node.kind === 'session' && node.session.source === 'manual')
    return node.session.id;
  return undefined;
}

/** A refused entry (ManualEntryError) is one error message; anything else is a bug and propagates. */
export function notLogged(e: unknown): undefined {
  if (e instanceof ManualEntryError) {
    void vscode.window.showErrorMessage(`Not logged: ${e.message}.`);
    return undefined;
  }
  throw e;
}
