import type * as vscode from 'vscode';
import type { ReadOnlyDocuments } from '../documents';
import type { LedgerModel } from '../ledgerModel';
import type { Notifier } from '../notifier';
import type { SessionsTree } from '../sessionsTree';
import type { CommandId } from './ids';

/** What the commands work with: the parts activate() creates. */
export interface Shell {
  model: LedgerModel;
  tree: SessionsTree;
  notifier: Notifier;
  documents: ReadOnlyDocuments;
  subscriptions: vscode.Disposable[];
}

/** A command's body: any arguments (menus pass a tree node or a URI, scripts and tests an object), any result. */
export type Handler = (...args: never[]) => unknown;

/** Each command file gives the bodies of its commands, by id. */
export type Handlers<K extends CommandId> = Record<K, Handler>;
