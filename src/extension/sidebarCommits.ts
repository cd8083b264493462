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

/**
 * Opens a commit where VS Code shows commits: the git extension's own commit view (a multi-file diff, the same as a
 * click in the Source Control Graph), after opening the repository in it when it is not part of the workspace.
 * Without the git extension (disabled, or a host without it) the commit is shown as `git show` output in a read-only
 * document. Returns which of the two it used.
 */
export async function openCommit(repo: string, sha: string): Promise<'scm' | 'text'> {
  const ext = vscode.extensions.getExtension<GitExtensionLike>('vscode.git');
  if (ext) {
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
