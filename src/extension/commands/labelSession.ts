import * as vscode from 'vscode';
import { SESSION_LABELS, isSessionLabel, type SessionLabel } from '../../core/usage/model';
import { addDays, localDate } from '../../core/usage/time';
import { fmtTokens } from '../../core/usage/format';
import { DiskFaultError } from '../../services/ledger';
import { listSessions, resolveSession, setLabel } from '../../services/queries';
import { sessionOf, type CommandDeps } from './deps';

/**
 * "Label Session…": marks a session exploration, abandoned and so on (its tokens still count). Takes the session (a
 * tree node, an id, or `{ sessionId }`) and the label as arguments (the sidebar passes both); asks for what is missing.
 */
export async function labelSession({ model, tree }: CommandDeps, arg?: unknown, labelArg?: unknown): Promise<void> {
  const ledger = await model.get();
  if (!ledger) return;
  let id: string | undefined =
    sessionOf(arg)?.id ?? (typeof arg === 'string' ? arg : (arg as { sessionId?: string } | undefined)?.sessionId);
  if (!id) {
    const tz = model.currentSettings.timeZone;
    const recent = listSessions(ledger.database, {
      timeZone: tz,
      since: addDays(localDate(tz, Date.now()), -14),
    }).reverse();
    const pick = await vscode.window.showQuickPick(
      recent.map((s) => ({
        label: `${s.source} · ${s.branch ?? s.repo ?? s.cwd ?? ''}`,
        description: `${fmtTokens(s.tokens.total)} tokens · ${s.status}`,
        detail: s.start.slice(0, 16).replace('T', ' '),
        id: s.id,
      })),
      { title: 'Label which session?', matchOnDescription: true },
    );
    id = pick?.id;
  }
  if (!id) return;
  let label: SessionLabel | 'none' | undefined =
    typeof labelArg === 'string' && (isSessionLabel(labelArg) || labelArg === 'none') ? labelArg : undefined;
  if (!label) {
    const pick = await vscode.window.showQuickPick(
      [
        ...SESSION_LABELS.map((l) => ({ label: l, value: l as SessionLabel | 'none' })),
        { label: 'Remove label', value: 'none' as const },
      ],
      { title: 'Label the session honestly: its tokens still count as tokens without an outcome' },
    );
    label = pick?.value;
  }
  if (!label) return;
  const chosen = label;
  const sessionKey = id;
  try {
    await ledger.write((db) => setLabel(db, resolveSession(db, sessionKey).ref, chosen === 'none' ? null : chosen));
  } catch (e) {
    if (!(e instanceof DiskFaultError)) throw e;
    model.report(e); // a read-only or full disk: one plain message, not a stack
    return;
  }
  model.refreshFromDisk();
  tree.refreshNow();
}
