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
    walkthroughs: Array<{ id: string; title: string; when?: string; steps: Array<{ id: string; title: string; description: string; media: { image?: string; altText?: string }; completionEvents?: string[] }> }>;
  };
  files: string[];
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;

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

  it('has a walkthrough: find your tools, the sidebar, link a session, export a summary, team rollups — each with an image and its command', () => {
    const [walkthrough, ...others] = manifest.contributes.walkthroughs;
    assert.equal(others.length, 0);
    assert.ok(walkthrough);
    assert.deepEqual(walkthrough.steps.map((s) => s.id), ['findTools', 'sidebar', 'linkSession', 'exportSummary', 'teamRollups']);
    const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const step of walkthrough.steps) {
      const image = step.media.image ?? '';
      assert.ok(fs.existsSync(path.join(ROOT, image)), `${step.id}: ${image} exists`);
      assert.ok(step.media.altText, `${step.id}: alt text`);
      const commands = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1] ?? '');
      assert.ok(commands.length >= 1, `${step.id} offers its command`);
      for (const c of commands) assert.ok(contributed.has(c), `${step.id}: ${c} is a contributed command`);
    }
    // The step images ship in the package (vsce and npm read the same allow-list).
    assert.ok(manifest.files.includes('docs/screenshots/*.png'));
  });
});
