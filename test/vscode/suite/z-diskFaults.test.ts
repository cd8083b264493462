import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import { CommandId } from '../../../src/extension/commands/ids';
import { Ledger } from '../../../src/store/ledger';
import { getMeta, setMeta } from '../../../src/store/schema';
import { loadOrCreateSigningKey } from '../../../src/store/signing';
import { activateExtension, messageShown, ui, waitFor, world } from '../host';

/*
 * Named z-… so it runs after the other suites of this window: its notifications and the switch of the ledger home
 * must not change the toasts and quick picks those suites wait for.
 */
const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('outcomeLedger');
const modeOf = (p: string): number => fs.statSync(p).mode & 0o777;

/** Points the extension at `home` (the setting), runs `use`, and always points it back at the world's ledger. */
async function withLedgerHome(api: OutcomeLedgerApi, home: string, use: () => Promise<void>): Promise<void> {
  await config().update('ledgerHome', home, vscode.ConfigurationTarget.Global);
  try {
    await waitFor('the extension to use the other ledger home', () => api.model.home === home, 10_000);
    await use();
  } finally {
    await config().update('ledgerHome', undefined, vscode.ConfigurationTarget.Global);
    await waitFor("the extension to use the world's ledger again", () => api.model.home === world().ledgerHome, 10_000);
  }
}

describe('disk faults and permissions in VS Code', () => {
  let api: OutcomeLedgerApi;

  before(async () => {
    api = await activateExtension<OutcomeLedgerApi>();
  });

  // The toasts this suite raised would cover the next suites' quick picks and notifications.
  after(async () => {
    await vscode.commands.executeCommand('notifications.clearAll');
  });

  it('a ledger home others may write and a key others may read: one warning whose "Fix permissions" button makes them 700/600', async () => {
    const home = path.join(world().root, 'open-ledger');
    const ledger = await Ledger.open(home);
    await ledger.write(() => undefined); // a real, saved ledger
    ledger.close();
    const key = loadOrCreateSigningKey(home).file;
    const keys = path.dirname(key);
    fs.chmodSync(home, 0o777);
    fs.chmodSync(keys, 0o777);
    fs.chmodSync(key, 0o644);
    await withLedgerHome(api, home, async () => {
      await api.model.get(); // opening the ledger checks its permissions
      const warning = await messageShown(api, 'permissions', 'the permissions warning');
      assert.equal(
        warning.message,
        `The ledger home ${home} is writable by other users (mode 777); the keys folder ${keys} is writable by other users (mode 777); ` +
          `the private key ${key} is readable by other users (mode 644). Other users could alter your ledger or sign summaries as you: ` +
          'choose "Fix permissions" to make them private (folders 700, the key 600).',
      );
      assert.equal(api.observed.messages.filter((m) => m.kind === 'permissions').length, 1, 'once');
      if (world().ui) {
        await ui({
          kind: 'click',
          selector:
            '.notifications-toasts .notification-list-item:has-text("writable by other users") .monaco-button:has-text("Fix permissions")',
        });
      } else {
        await vscode.commands.executeCommand(CommandId.fixPermissions); // what the button runs
      }
      await waitFor(
        'the modes to be fixed',
        () => modeOf(home) === 0o700 && modeOf(keys) === 0o700 && modeOf(key) === 0o600,
        10_000,
      );
      assert.deepEqual(await vscode.commands.executeCommand(CommandId.fixPermissions), [], 'nothing left to fix');
    });
  });

  it('a read-only ledger home: the ledger still shows as saved, with one message saying so; nothing is written', async () => {
    const home = path.join(world().root, 'read-only-ledger');
    fs.mkdirSync(home, { recursive: true });
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=700', 'tmpfs', home], { encoding: 'utf8' });
    // The harness runs as root on the CI machine, where mount works: say so rather than skip silently.
    assert.equal(
      mounted.status,
      0,
      `mount -t tmpfs must work for this test (run as root): ${mounted.stderr || mounted.error?.message}`,
    );
    try {
      const ledger = await Ledger.open(home);
      await ledger.write((db) => setMeta(db, 'first_import', '2026-01-01T00:00:00.000Z'));
      ledger.close();
      execFileSync('mount', ['-o', 'remount,ro', home]);
      const before = fs.readdirSync(home).sort();
      await withLedgerHome(api, home, async () => {
        const summary = await vscode.commands.executeCommand(CommandId.importNow);
        assert.equal(summary, undefined, 'the import could not save');
        const message = await messageShown(api, 'ledger-read-only', 'the read-only message');
        assert.match(
          message.message,
          new RegExp(
            `^Outcome Ledger shows the ledger read-only, as last saved: ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is on a read-only file system \\(EROFS\\)\\. `,
          ),
        );
        assert.ok(api.model.readOnly, 'the model knows it is read-only');
        const opened = await api.model.get();
        assert.ok(opened, 'the ledger is open');
        assert.equal(getMeta(opened.database, 'first_import'), '2026-01-01T00:00:00.000Z', 'the saved data is shown');
        await vscode.commands.executeCommand(CommandId.importNow);
        assert.equal(api.observed.messages.filter((m) => m.kind === 'ledger-read-only').length, 1, 'said once');
        assert.deepEqual(fs.readdirSync(home).sort(), before, 'no lock, no temp file');
      });
    } finally {
      spawnSync('umount', [home]);
    }
  });
});
