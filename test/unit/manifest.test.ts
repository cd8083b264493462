import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CommandId, SESSIONS_VIEW, VIEW_CONTAINER } from '../../src/extension/commands/ids';

interface Manifest {
  main: string;
  engines: { vscode: string; node?: string };
  activationEvents: string[];
  contributes: {
    commands: Array<{ command: string; title: string }>;
    views: Record<string, Array<{ id: string }>>;
    viewsContainers: { activitybar: Array<{ id: string }> };
    menus: Record<string, Array<{ command: string }>>;
    configuration: { properties: Record<string, unknown> };
    walkthroughs: Array<{
      id: string;
      title: string;
      when?: string;
      steps: Array<{
        id: string;
        title: string;
        description: string;
        media: { image?: string; altText?: string };
        completionEvents?: string[];
      }>;
    }>;
  };
  files: string[];
  private?: boolean;
  bin?: Record<string, string>;
  license?: string;
  dependencies?: Record<string, string>;
  repository?: unknown;
  scripts: Record<string, string>;
}

const ROOT = path.resolve(__dirname, '..', '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;

describe('extension manifest', () => {
  it('contributes exactly the commands the code registers', () => {
    assert.deepEqual(manifest.contributes.commands.map((c) => c.command).sort(), Object.values(CommandId).sort());
    for (const menu of Object.values(manifest.contributes.menus)) {
      for (const item of menu) assert.ok(Object.values(CommandId).includes(item.command as never), item.command);
    }
  });

  it('registers every CommandId member once, with its body in src/extension/commands, and nothing else', () => {
    // commands/index.ts imports vscode, so it cannot load here: its handler table is read as text.
    const dir = path.join(ROOT, 'src', 'extension', 'commands');
    const index = fs.readFileSync(path.join(dir, 'index.ts'), 'utf8');
    // An entry runs from its `[CommandId.x]:` to the next entry or the table's end (a lazy one spans two lines).
    const registered = [...index.matchAll(/^\s+\[CommandId\.(\w+)\]:\s*([\s\S]*?)\s*(?=^\s+\[CommandId\.|^\};)/gm)].map(
      (m) => ({ member: m[1]!, handler: m[2]!.replace(/\s+/g, ' ') }),
    );
    assert.deepEqual(registered.map((r) => r.member).sort(), Object.keys(CommandId).sort());
    for (const { member, handler } of registered) {
      // A command's body is a function of its own file: imported by name, or loaded on first use with import('./file').
      const lazy = /import\('\.\/(\w+)'\)\)\.(\w+)\(/.exec(handler);
      const file = lazy
        ? lazy[1]!
        : new RegExp(`import \\{[^}]*\\b${handler.replace(/,$/, '')}\\b[^}]*\\} from '\\./(\\w+)'`).exec(index)?.[1];
      assert.ok(file, `${member}: its handler ${handler} is not a function imported from a file in commands/`);
      const body = fs.readFileSync(path.join(dir, `${file}.ts`), 'utf8');
      const fn = lazy ? lazy[2]! : handler.replace(/,$/, '');
      assert.match(body, new RegExp(`export (async )?function ${fn}\\(`), `${member}: ${file}.ts exports ${fn}`);
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

  it('documents every setting it offers in docs/vscode.md, and offers every setting documented there', () => {
    const page = fs.readFileSync(path.join(ROOT, 'docs', 'vscode.md'), 'utf8');
    const offered = Object.keys(manifest.contributes.configuration.properties);
    for (const key of offered) {
      const pair = key.endsWith('.extraPaths')
        ? `\`${key.replace(/\.extraPaths$/, '.enabled')}\` / \`.extraPaths\``
        : undefined;
      assert.ok(
        page.includes(`\`${key}\``) || (pair !== undefined && page.includes(pair)),
        `${key} is not documented in docs/vscode.md`,
      );
    }
    // Table rows name settings: each must exist (a row's "`.x.enabled` / `.extraPaths`" pair names both).
    for (const m of page.matchAll(/^\| `(outcomeLedger\.[\w.]+)`( \/ `\.extraPaths`)?/gm)) {
      const key = m[1] ?? '';
      assert.ok(offered.includes(key), `docs/vscode.md documents ${key}, which is not a setting`);
      if (m[2]) assert.ok(offered.includes(key.replace(/\.enabled$/, '.extraPaths')), `${key}: no .extraPaths setting`);
    }
  });

  it('is publishable as a CLI: not private, a bin, an allow-list, engines, a licence, nothing to download at run time', () => {
    assert.equal(manifest.private, undefined);
    assert.equal(manifest.bin?.['outcome-ledger'], 'dist/cli.js');
    assert.ok(manifest.files.includes('dist/*.js') && manifest.files.includes('dist/*.wasm'));
    assert.equal(manifest.license, 'MIT');
    assert.ok(fs.existsSync(path.join(ROOT, 'LICENSE')));
    assert.match(manifest.engines?.node ?? '', /^>=20/);
    assert.deepEqual(manifest.dependencies ?? {}, {}, 'everything is bundled: no run-time dependencies');
    // No public repository exists yet: no made-up URL that looks real; vsce is told so explicitly.
    assert.equal(manifest.repository, undefined);
    assert.match(manifest.scripts.package ?? '', /--allow-missing-repository/);
  });

  it('has a walkthrough whose every step shows a packaged image and runs only commands it contributes', () => {
    const [walk, ...more] = manifest.contributes.walkthroughs;
    assert.ok(walk && more.length === 0, 'one walkthrough');
    assert.deepEqual(
      walk.steps.map((s) => s.id),
      ['findTools', 'sidebar', 'linkSession', 'summary', 'teamRollups'],
    );
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const step of walk.steps) {
      const image = step.media.image ?? '';
      assert.ok(fs.existsSync(path.join(ROOT, image)), `${step.id}: ${image} exists`);
      assert.ok(
        manifest.files.includes('docs/screenshots/*.png') && /^docs\/screenshots\/[^/]+\.png$/.test(image),
        `${step.id}: the image is in the package`,
      );
      assert.ok((step.media.altText ?? '').length > 20, `${step.id}: the image is described for screen readers`);
      const linked = [...step.description.matchAll(/\]\(command:([\w.]+)\)/g)].map((m) => m[1] ?? '');
      assert.ok(linked.length > 0, `${step.id} offers its command`);
      for (const c of linked) assert.ok(commands.has(c), `${step.id}: ${c} is contributed`);
      assert.ok((step.completionEvents ?? []).length > 0, `${step.id} completes when its command runs`);
      for (const e of step.completionEvents ?? [])
        assert.ok(commands.has(e.replace(/^onCommand:/, '')) || e === 'onView:outcomeLedger.sidebar', e);
    }
  });
});
