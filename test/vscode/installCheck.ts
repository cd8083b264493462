// The .vsix a user installs: `npm run package`, then `code-server --install-extension` into an empty extensions
// folder, then `--list-extensions --show-versions` must name it. Run by `npm test` after the VS Code setup.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { codeServerEntry } from './codeServer';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ol-install-'));
  try {
    const vsix = path.join(dir, 'outcome-ledger.vsix');
    execFileSync(
      path.join(ROOT, 'node_modules', '.bin', 'vsce'),
      ['package', '--no-dependencies', '--no-rewrite-relative-links', '--allow-missing-repository', '--out', vsix],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      publisher: string;
      name: string;
      version: string;
    };
    const expected = `${manifest.publisher}.${manifest.name}@${manifest.version}`;
    const args = ['--extensions-dir', path.join(dir, 'extensions'), '--user-data-dir', path.join(dir, 'user')];
    const env = { ...process.env, HOME: dir, EXTENSIONS_GALLERY: '{"serviceUrl":"http://127.0.0.1:9/"}' };
    execFileSync(process.execPath, [codeServerEntry(ROOT), ...args, '--install-extension', vsix], {
      env,
      stdio: 'pipe',
      timeout: 120_000,
    });
    const listed = execFileSync(
      process.execPath,
      [codeServerEntry(ROOT), ...args, '--list-extensions', '--show-versions'],
      { env, encoding: 'utf8', timeout: 60_000 },
    );
    if (
      !listed
        .split('\n')
        .map((l) => l.trim())
        .includes(expected)
    )
      throw new Error(`installed extensions were:\n${listed}\nexpected ${expected}`);
    const size = fs.statSync(vsix).size;
    process.stdout.write(
      `  ✔ the .vsix (${(size / 1024).toFixed(0)} KB) installs into code-server: ${expected}\nvsix install: 1 passed, 0 failed\n`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  process.stderr.write(
    `  ✖ installing the .vsix into code-server failed: ${(e as Error).message}\nvsix install: 0 passed, 1 failed\n`,
  );
  process.exitCode = 1;
}
