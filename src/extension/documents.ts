import * as vscode from 'vscode';

export const DOCUMENT_SCHEME = 'outcome-ledger';

/**
 * The extension's read-only editor tabs (Data Health, team rollup previews and reports): virtual documents of one
 * content provider, by URI. Showing a document again replaces its text (the `documentChanged` event tells VS Code).
 */
export class ReadOnlyDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly documentChanged = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.documentChanged.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Opens `name` (a path such as `Data Health.md`) with this text and language; a preview tab unless `preview` is false. */
  async show(name: string, text: string, language: string, preview: boolean): Promise<void> {
    const uri = vscode.Uri.from({ scheme: DOCUMENT_SCHEME, path: `/${name}` });
    this.texts.set(uri.toString(), text);
    this.documentChanged.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, language);
    await vscode.window.showTextDocument(doc, { preview });
  }

  dispose(): void {
    this.documentChanged.dispose();
  }
}
