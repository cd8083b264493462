import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, world } from '../host';

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
});
