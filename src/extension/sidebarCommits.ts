import * as path from 'node:path';
import * as vscode from 'vscode';
import { showCommit } from '../git/head';

/** The little of the built-in git extension's API (vscode.git, API version 1) this file uses. */
interface GitRepositoryLike {
  readonly rootUri: vscode.Uri;
}
interface GitApiLike {
  getRepository(uri: vscode.Uri): GitRepositoryLike | null;
  openRepository?(root: vscode.Uri): Promise<GitRepositoryLike | null>;
}
interface GitExtensionLike {
  getAPI(version: 1): GitApiLike;
}

const SHOW_BYTES = 4 << 20;

/** Whether `repo` may be opened by VS Code's git extension: a trusted workspace, and inside one of its folders. */
export function canHandToGitExtension(repo: string): boolean {
  if (!vscode.workspace.isTrusted) return false;
  const target = path.resolve(repo);
  return (vscode.workspace.workspaceFolders ?? []).some((f) => {
    if (f.uri.scheme !== 'file') return false;
    const rel = path.relative(f.uri.fsPath, target);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}

/**
 * Opens a commit where VS Code shows commits: the git extension's own commit view (a multi-file diff, the same as a
 * click in the Source Control Graph), after opening the repository in it when it is not part of the workspace.
 * Without the git extension (disabled, or a host without it) the commit is shown as `git show` output in a read-only
 * document. Returns which of the two it used.
 */
export async function openCommit(repo: string, sha: string): Promise<'scm' | 'text'> {
  const ext = vscode.extensions.getExtension<GitExtensionLike>('vscode.git');
  // Workspace Trust (package.json, capabilities.untrustedWorkspaces): VS Code's git extension runs git with the
  // repository's own configuration (hooks, fsmonitor, filters). It gets a repository only when this workspace is
  // trusted and the repository lies inside one of its folders; any other repository — reached through a log — is
  // read by our hardened runner alone (src/git/run.ts), which runs nothing of the repository's.
  if (ext && canHandToGitExtension(repo)) {
    try {
      const api = (ext.isActive ? ext.exports : await ext.activate()).getAPI(1);
      const uri = vscode.Uri.file(repo);
      const repository = api.getRepository(uri) ?? (await api.openRepository?.(uri)) ?? null;
      // getRepository answers for any folder inside a repository: make sure it is this one, not an enclosing one.
      if (repository && repository.rootUri.fsPath === uri.fsPath) {
        await vscode.commands.executeCommand('git.viewCommit', repository.rootUri, sha);
        return 'scm';
      }
    } catch {
      // the git extension could not show it (for example a commit it cannot resolve): fall back to git itself
    }
  }
  const text = await showCommit(repo, sha, SHOW_BYTES);
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'diff' });
  await vscode.window.showTextDocument(doc, { preview: true });
  return 'text';
}
