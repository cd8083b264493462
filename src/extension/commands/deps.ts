import * as vscode from 'vscode';
import type { SessionJson } from '../../services/queries';
import type { ReadOnlyDocuments } from '../documents';
import type { LedgerModel } from '../ledgerModel';
import type { Notifier } from '../notifier';
import type { SessionsNode, SessionsTree } from '../sessionsTree';

/** What a command body may use: activate() builds it once and passes it to every command (commands/index.ts). */
export interface CommandDeps {
  readonly context: vscode.ExtensionContext;
  readonly model: LedgerModel;
  readonly tree: SessionsTree;
  readonly notifier: Notifier;
  /** The read-only tabs (Data Health, team rollup previews and reports). */
  readonly documents: ReadOnlyDocuments;
}

/** Command arguments from scripts and tests: an object, else none (a menu may pass a URI or a tree node). */
export function argsOf<T extends object>(v: unknown): Partial<T> {
  return typeof v === 'object' && v !== null && !(v instanceof vscode.Uri) && !Array.isArray(v)
    ? (v as Partial<T>)
    : {};
}

/** The session of a Sessions tree node (the tree's context menu passes the node). */
export function sessionOf(arg: unknown): SessionJson | undefined {
  const node = arg as SessionsNode | undefined;
  return node && typeof node === 'object' && node.kind === 'session' ? node.session : undefined;
}
