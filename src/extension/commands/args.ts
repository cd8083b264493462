import * as vscode from 'vscode';
import type { SessionJson } from '../../services/queries';
import type { SessionsNode } from '../sessionsTree';

/** Command arguments from scripts and tests: an object, else ignored (a menu may pass a URI or a tree node). */
export function isObject(v: unknown): v is Record<string, never> {
  return typeof v === 'object' && v !== null && !(v instanceof vscode.Uri) && !Array.isArray(v);
}

/** The session of a Sessions tree node a context-menu command was run on. */
export function sessionOf(arg: unknown): SessionJson | undefined {
  const node = arg as SessionsNode | undefined;
  return node && typeof node === 'object' && node.kind === 'session' ? node.session : undefined;
}
