import * as vscode from 'vscode';

export const DOCUMENT_SCHEME = 'outcome-ledger';

/**
 * The extension's read-only tabs (Data Health, team rollup previews and team reports): their text is kept in memory
 * by URI and served to VS Code, which asks again when `onDidChange` fires for a URI.
 */
export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Sets the text of the tab `name` and shows it (a preview tab replaces the previous preview). */
  async show(name: string, text: string, language: string, options: { preview: boolean }): Promise<void> {
    const uri = vscode.Uri.from({ scheme: DOCUMENT_SCHEME, path: name });
    this.texts.set(uri.toString(), text);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, language);
    await vscode.window.showTextDocument(doc, { preview: options.preview });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
