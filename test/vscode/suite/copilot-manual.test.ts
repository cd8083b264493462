import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { copilotWorkspace, writeCopilotJsonl } from '../../../src/demo/copilot';
import { CommandId } from '../../../src/extension/commands/ids';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import type { SessionsNode } from '../../../src/extension/sessionsTree';
import type { ManualEntry } from '../../../src/services/manual';
import type { SessionJson } from '../../../src/services/queries';
import { activateExtension, waitFor, world } from '../host';

async function treeSessions(api: OutcomeLedgerApi): Promise<SessionJson[]> {
  const out: SessionJson[] = [];
  for (const day of await api.tree.getChildren()) {
    for (const node of await api.tree.getChildren(day)) if (node.kind === 'session') out.push(node.session);
  }
  return out;
}

/** The user folder VS Code runs with in this test run (code-server's --user-data-dir, or the desktop runner's). */
function thisWindowsUserDir(): string {
  const root = world().root;
  const found = ['user-data', 'user-data-main'].map((d) => path.join(root, d, 'User')).find((d) => fs.existsSync(d));
  assert.ok(found, `no user data folder under ${root}`);
  return found;
}

describe('Copilot Chat and manual entries in VS Code', function () {
  let api: OutcomeLedgerApi;

  before(async () => {
    api = await activateExtension<OutcomeLedgerApi>();
  });

  it("finds Copilot Chat sessions in this window's own user folder (next to its global storage) and lists them with their workspace", async () => {
    const w = world();
    const user = thisWindowsUserDir();
    assert.equal(api.hostUserDir, user, 'the extension derives its user folder from its global storage');
    // Not one of the platform folders under HOME: only the path derived from the extension's global storage finds it.
    assert.ok(!user.startsWith(path.join(w.home, '.config')));
    const chat = copilotWorkspace(user, 'c0ffee1234', w.workspace);
    const at = Date.now() - 5 * 60_000;
    writeCopilotJsonl(chat, {
      sessionId: 'copilot-vscode-suite',
      creationDate: at,
      requests: [
        {
          requestId: 'request_vs1',
          timestamp: at,
          modelId: 'copilot/gpt-4.1',
          prompt: 'Tidy the README',
          reply: 'Done.',
          promptTokens: 4_321,
          outputTokens: 123,
          style: 'metadata',
          edits: [path.join(w.workspace, 'README.md')],
        },
      ],
    });
    await vscode.commands.executeCommand(CommandId.importNow);
    const s = await waitFor(
      'the Copilot session in the tree',
      async () => (await treeSessions(api)).find((x) => x.sessionId === 'copilot-vscode-suite'),
      15_000,
    );
    assert.equal(s.source, 'copilot-chat');
    assert.equal(s.tokens.total, 4_321 + 123);
    assert.equal(s.tokenAccuracy, 'exact');
    assert.equal(s.cwd, w.workspace);
    assert.equal(s.repo, w.workspace);
    assert.deepEqual(s.editedFiles, ['README.md']);
    const item = api.tree.getTreeItem({ kind: 'session', session: s });
    assert.match(String(item.label), /^Copilot Chat · /);
    const health = (await vscode.commands.executeCommand(CommandId.showDataHealth)) as {
      sources: Array<{ source: string; found: boolean; roots: Array<{ path: string }> }>;
    };
    const copilot = health.sources.find((x) => x.source === 'copilot-chat');
    assert.equal(copilot?.found, true);
    assert.ok(
      copilot?.roots.some((r) => r.path === user),
      `roots: ${copilot?.roots.map((r) => r.path).join(', ')}`,
    );
  });

  it('Log an AI Interaction… logs a web chat (estimated from text, never stored); Edit and Delete Manual Entry change and remove it', async () => {
    const w = world();
    const secret = 'MANUAL-SUITE-SECRET how should the cache key include the tenant?';
    const entry = (await vscode.commands.executeCommand(CommandId.logInteraction, {
      tool: 'ChatGPT web',
      model: 'gpt-4o',
      promptText: secret,
      replyText: 'Include the tenant id first, then the resource key. '.repeat(8),
      task: 'PAY-9',
      repo: w.workspace,
      at: Date.now() - 60_000,
    })) as ManualEntry | undefined;
    assert.ok(entry, 'the command returned no entry');
    assert.equal(entry.tokenAccuracy, 'estimated');
    const inTree = await waitFor(
      'the manual entry in the tree',
      async () => (await treeSessions(api)).find((x) => x.id === entry.id),
      15_000,
    );
    const node: SessionsNode = { kind: 'session', session: inTree };
    let item = api.tree.getTreeItem(node);
    assert.equal(item.contextValue, 'session.repo.manual');
    assert.match(String(item.label), /^ChatGPT web · PAY-9$/);
    assert.match(String(item.description), /^~[\d.,k]+ tokens · /);
    assert.ok(
      !fs.readFileSync(path.join(w.ledgerHome, 'ledger.sqlite')).includes(Buffer.from('MANUAL-SUITE-SECRET')),
      'pasted text was stored',
    );

    const edited = (await vscode.commands.executeCommand(CommandId.editManualEntry, node, {
      inputTokens: 1_000,
      outputTokens: 250,
    })) as ManualEntry;
    assert.deepEqual([edited.tokens.total, edited.tokenAccuracy, edited.task], [1_250, 'exact', 'PAY-9']);
    const after = await waitFor(
      'the edited entry in the tree',
      async () => (await treeSessions(api)).find((x) => x.id === entry.id && x.tokens.total === 1_250),
      15_000,
    );
    item = api.tree.getTreeItem({ kind: 'session', session: after });
    assert.match(String(item.description), /^1,250 tokens · /);

    const gone = await vscode.commands.executeCommand(
      CommandId.deleteManualEntry,
      { kind: 'session', session: after } satisfies SessionsNode,
      { confirm: false },
    );
    assert.equal(gone, entry.id);
    await waitFor(
      'the entry to leave the tree',
      async () => !(await treeSessions(api)).some((x) => x.id === entry.id),
      15_000,
    );
  });

  it('refuses a bad manual entry with a plain message and logs nothing', async () => {
    const before = (await treeSessions(api)).length;
    const r = await vscode.commands.executeCommand(CommandId.logInteraction, {
      tool: 'ChatGPT web',
      model: 'gpt-4o',
      at: Date.now(),
    });
    assert.equal(r, undefined);
    assert.equal((await treeSessions(api)).length, before);
  });
});
