// Runs first in the main window (files run in name order): the world has no Claude Code or Codex logs yet, as on a
// machine where neither tool was ever used. extension.test.ts writes the first logs after it.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, SIDEBAR_VIEW } from '../../../src/extension/commands/ids';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import { activateExtension, ui, waitFor, world } from '../host';

describe('The sidebar on a machine with no AI tools', () => {
  let api: OutcomeLedgerApi;

  before(async () => {
    api = await activateExtension<OutcomeLedgerApi>();
  });

  after(async () => {
    // extension.test.ts runs next and expects no links: with the view hidden, nothing links in the background.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
  });

  it('says which tools it looked for and where, and what to do next', async () => {
    await vscode.commands.executeCommand(`${SIDEBAR_VIEW}.focus`);
    // The page has painted the newest snapshot the host posted (an import finishing at start-up may post a second).
    const snapshot = await waitFor(
      'the sidebar to paint the newest snapshot',
      () => {
        const [posted, painted] = [api.observed.snapshot, api.observed.rendered];
        return posted && painted && posted.seq === painted.seq ? posted : undefined;
      },
      30_000,
    );
    assert.equal(snapshot.empty, true);
    const claude = snapshot.health.sources.find((s) => s.source === 'claude-code');
    const codex = snapshot.health.sources.find((s) => s.source === 'codex');
    assert.equal(claude?.found, false);
    assert.equal(codex?.found, false);
    // The world's HOME holds both tool folders (empty): shown with ~, as the user knows them.
    assert.ok(world().claudeConfigDir.startsWith(world().home));
    assert.deepEqual(
      claude?.roots.map((r) => r.path),
      ['~/.claude'],
    );
    assert.deepEqual(
      codex?.roots.map((r) => r.path),
      ['~/.codex'],
    );

    await ui({ kind: 'waitFor', selector: '#empty', webview: EXTENSION_ID });
    const looked = await ui({ kind: 'text', selector: '#empty-sources', webview: EXTENSION_ID });
    assert.match(looked ?? '', /Claude Code: ~\/\.claude \(no logs\)/);
    assert.match(looked ?? '', /Codex CLI: ~\/\.codex \(no logs\)/);
    // The newer sources are named where they were looked for too.
    assert.match(looked ?? '', /Kiro: ~\/\.kiro\/sessions \(no logs\)/);
    for (const name of ['Amazon Q Developer', 'Cursor', 'Copilot CLI', 'Amp', 'Factory Droid', 'Qwen Code', 'Kimi CLI'])
      assert.match(looked ?? '', new RegExp(`${name}: ~/`));
    const page = await ui({ kind: 'text', selector: '#empty', webview: EXTENSION_ID });
    assert.match(page ?? '', /No AI-assistant usage recorded yet/);
    assert.match(page ?? '', /What to do next/);
    // No figures pretend to mean something on an empty ledger.
    assert.equal(
      await ui({ kind: 'text', selector: 'body', webview: EXTENSION_ID }).then((t) =>
        /Tokens per commit/.test(t ?? ''),
      ),
      false,
    );
    await ui({ kind: 'screenshot', name: 'sidebar-empty', selector: '.part.sidebar' });
  });

  it('its Import Now button works from the keyboard and reports the result', async () => {
    const before = api.observed.results.length;
    await ui({ kind: 'click', selector: '#empty-import', webview: EXTENSION_ID });
    const result = await waitFor('the import result', () => api.observed.results[before], 30_000);
    assert.equal(result.ok, true);
    // The same button again, by keyboard: Enter on the focused button.
    await ui({ kind: 'press', key: 'Enter' });
    await waitFor('a second import result', () => api.observed.results[before + 1], 30_000);
    // The result is read out by the live region.
    await waitFor(
      'the live region to read the result',
      async () =>
        /Import finished\./.test((await ui({ kind: 'text', selector: '#live', webview: EXTENSION_ID })) ?? ''),
      10_000,
      300,
    );
  });
});
