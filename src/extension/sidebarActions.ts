import * as vscode from 'vscode';
import type { LinkState } from '../core/outcomes/linking';
import type { ViewCommand, ViewMessage } from '../core/sidebar/protocol';
import { decide } from '../services/decisions';
import { isKnownRepository, relinkChoices, sessionLogPath } from '../services/sessionLookup';
import { CommandId, EXTENSION_ID } from './commands/ids';
import type { LedgerModel } from './ledgerModel';
import { openCommit } from './sidebarCommits';

/** What an action says in the sidebar's live region. */
export interface ActionResult {
  ok: boolean;
  message: string;
}

/** The messages from the page that ask for an action (not the ready handshake, a query or a paint report). */
export type ActionMessage = Exclude<ViewMessage, { type: 'view/ready' | 'view/query' | 'view/rendered' }>;

function short(sha: string): string {
  return sha.slice(0, 7);
}

/**
 * The sidebar's actions (confirm, reject, relink, label, open a commit or a log, run a command): each goes through the
 * same services and commands as the CLI and the tree, and ends with a result for the live region (undefined when the
 * user cancelled, or when the command shows its own outcome). Failures never escape into the host.
 */
export async function sidebarAction(model: LedgerModel, m: ActionMessage): Promise<ActionResult | undefined> {
  try {
    switch (m.type) {
      case 'link/confirm':
      case 'link/reject':
        return await decideLink(model, m.sessionId, m.sha, m.type === 'link/confirm' ? 'confirmed' : 'rejected');
      case 'link/relink':
        return await relink(model, m.sessionId);
      case 'session/label':
        await vscode.commands.executeCommand(CommandId.labelSession, m.sessionId, m.label);
        return {
          ok: true,
          message:
            m.label === 'none'
              ? 'Label removed.'
              : `Labelled ${m.label}: its tokens still count as tokens without an outcome.`,
        };
      case 'session/open':
        return await openLog(model, m.sessionId);
      case 'commit/open':
        return await openCommitOf(model, m.repo, m.sha);
      case 'command/run':
        return await runCommand(m.command);
    }
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

async function decideLink(model: LedgerModel, sessionId: string, sha: string, state: LinkState): Promise<ActionResult> {
  const ledger = await model.get();
  if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
  const d = await decide(ledger, sessionId, sha, state);
  model.refreshFromDisk();
  return {
    ok: true,
    message:
      state === 'confirmed'
        ? `Confirmed: ${short(d.sha)} “${d.subject}” counts as an outcome of this session.`
        : `Rejected: ${short(d.sha)} “${d.subject}” will never count for this session.`,
  };
}

/** "This session produced another commit": pick it among the commits of its repository around its time. */
async function relink(model: LedgerModel, sessionId: string): Promise<ActionResult | undefined> {
  const ledger = await model.get();
  if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
  const { repo, previous, commits } = relinkChoices(ledger.database, sessionId, model.currentSettings.identities);
  type Item = vscode.QuickPickItem & { sha?: string };
  const items: Item[] = commits.map(({ sha, subject, authorTs, link: l }) => ({
    label: `$(git-commit) ${short(sha)} ${subject}`,
    description: new Date(authorTs).toLocaleString(),
    detail: l ? `${Math.round(l.confidence * 100)}% · ${l.state}${l.why ? ` · ${l.why}` : ''}` : undefined,
    sha,
  }));
  items.push({ label: '$(edit) Enter a commit sha…', alwaysShow: true });
  const pick = await vscode.window.showQuickPick(items, {
    title: `Which commit did this session produce?${repo ? ` (${repo})` : ''}`,
    placeHolder: 'Commits of its repository from a day before the session to a week after it',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!pick) return undefined;
  const sha =
    pick.sha ??
    (
      await vscode.window.showInputBox({
        title: 'Commit sha (at least 4 hex digits)',
        validateInput: (v) =>
          /^[0-9a-fA-F]{4,64}$/.test(v.trim()) ? undefined : 'Give at least 4 hex digits of the sha',
      })
    )?.trim();
  if (!sha) return undefined;
  const confirmed = await decide(ledger, sessionId, sha, 'confirmed');
  let note = '';
  if (previous && !confirmed.sha.startsWith(previous.commit) && previous.commit !== confirmed.sha) {
    await decide(ledger, sessionId, previous.commit, 'rejected');
    note = ` (and ${short(previous.commit)} rejected)`;
  }
  model.refreshFromDisk();
  return { ok: true, message: `Relinked to ${short(confirmed.sha)} “${confirmed.subject}”${note}.` };
}

async function openLog(model: LedgerModel, sessionId: string): Promise<ActionResult> {
  const ledger = await model.get();
  if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
  const p = sessionLogPath(ledger.database, sessionId);
  if (p === null) return { ok: false, message: 'This session has no log file on record.' };
  try {
    await vscode.window.showTextDocument(vscode.Uri.file(p), { preview: true });
  } catch {
    return { ok: false, message: `The session's log ${p} is gone (the tool may have deleted it).` };
  }
  return { ok: true, message: 'Opened the session log.' };
}

async function openCommitOf(model: LedgerModel, repo: string, sha: string): Promise<ActionResult> {
  const ledger = await model.get();
  if (!ledger) return { ok: false, message: 'The ledger could not be opened.' };
  // Only a repository the ledger knows: the page never chooses where git runs.
  if (!isKnownRepository(ledger.database, repo)) return { ok: false, message: 'That repository is not in the ledger.' };
  const how = await openCommit(repo, sha);
  return {
    ok: true,
    message: how === 'scm' ? `Opened ${short(sha)} in the commit view.` : `Opened ${short(sha)} (git show).`,
  };
}

async function runCommand(command: ViewCommand): Promise<ActionResult | undefined> {
  switch (command) {
    case 'importNow':
      await vscode.commands.executeCommand(CommandId.importNow);
      return { ok: true, message: 'Import finished.' };
    case 'showDataHealth':
      await vscode.commands.executeCommand(CommandId.showDataHealth);
      return undefined;
    case 'openSettings':
      await vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${EXTENSION_ID}`);
      return undefined;
    case 'openLedgerFolder':
      await vscode.commands.executeCommand(CommandId.openLedgerFolder);
      return undefined;
  }
}
