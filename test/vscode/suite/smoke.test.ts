import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, ui, world } from '../host';

describe('VS Code extension host', () => {
  it('runs VS Code 1.99, the lowest version engines.vscode allows', () => {
    assert.match(vscode.version, /^1\.99\./);
  });

  it('loads Outcome Ledger in development mode', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not among ${vscode.extensions.all.length} loaded extensions`);
    assert.equal(ext.packageJSON.displayName, 'Outcome Ledger');
  });

  it('runs in the isolated world of this test run', () => {
    const w = world();
    assert.equal(process.env.OUTCOME_LEDGER_HOME, w.ledgerHome);
    assert.equal(process.env.HOME, w.home);
    assert.equal(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath, w.workspace);
  });

  it('offers its walkthrough on the Welcome page: five steps, the first open with its command', async () => {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${EXTENSION_ID}#gettingStarted`, false);
    try {
      const page = '.gettingStartedContainer';
      await ui({ kind: 'waitFor', selector: `${page} :text("Get started with Outcome Ledger")` });
      for (const step of [
        'Find your AI tools',
        'See value per token',
        'Link a session to what it produced',
        'Export a summary a reviewer can check',
        'Share with your team, if you choose',
      ]) {
        await ui({ kind: 'waitFor', selector: `${page} .getting-started-step:has-text(${JSON.stringify(step)})` });
      }
      // The first step is open, with its button for Import Now (the images are checked in the manifest test).
      await ui({ kind: 'waitFor', selector: `${page} .getting-started-step.expanded a:has-text("Import Now")` });
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }
  });
});
