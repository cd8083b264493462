import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS, SESSIONS_VIEW, VIEW_CONTAINER } from '../../src/extension/commands';

interface Manifest {
  main: string;
  engines: { vscode: string };
  activationEvents: string[];
  contributes: {
    commands: Array<{ command: string; title: string }>;
    views: Record<string, Array<{ id: string }>>;
    viewsContainers: { activitybar: Array<{ id: string }> };
    menus: Record<string, Array<{ command: string }>>;
    configuration: { properties: Record<string, unknown> };
  };
}

const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as Manifest;

describe('extension manifest', () => {
  it('contributes exactly the commands the code registers', () => {
    assert.deepEqual(manifest.contributes.commands.map((c) => c.command).sort(), Object.values(COMMANDS).sort());
    for (const menu of Object.values(manifest.contributes.menus)) {
      for (const item of menu) assert.ok(Object.values(COMMANDS).includes(item.command as never), item.command);
    }
  });

  it('declares the view container and the Sessions view the code uses', () => {
    assert.ok(manifest.contributes.viewsContainers.activitybar.some((c) => c.id === VIEW_CONTAINER));
    assert.ok(manifest.contributes.views[VIEW_CONTAINER]?.some((v) => v.id === SESSIONS_VIEW));
  });

  it('never activates on "*", and runs in VS Code 1.99', () => {
    assert.ok(!manifest.activationEvents.includes('*'));
    assert.equal(manifest.engines.vscode, '^1.99.0');
    assert.equal(manifest.main, './dist/extension.js');
  });

  it('offers the settings the README documents', () => {
    for (const key of ['ledgerHome', 'timeZone', 'linkThreshold', 'storePromptText', 'sources.claudeCode.enabled', 'sources.claudeCode.extraPaths', 'sources.codex.enabled', 'sources.codex.extraPaths', 'team.minimumMembers']) {
      assert.ok(manifest.contributes.configuration.properties[`outcomeLedger.${key}`], key);
    }
    for (const source of ['geminiCli', 'opencode', 'cline', 'rooCode', 'continue', 'aider']) {
      for (const key of [`sources.${source}.enabled`, `sources.${source}.extraPaths`]) {
        assert.ok(manifest.contributes.configuration.properties[`outcomeLedger.${key}`], key);
      }
    }
  });
});
