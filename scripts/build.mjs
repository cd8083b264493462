// Bundles the CLI, the extension (Node) and the sidebar's page (browser) with esbuild and copies sql.js's wasm beside them.
// The page's stylesheet is media/sidebar.css, loaded as it is (no build step).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

// Minified: the CLI starts in a fresh process every time, and parse time is part of it (source maps keep traces readable).
const production = !process.argv.includes('--dev');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

// The CLI: cli.js is a small launcher that loads the bundle (cli-main.js) through a V8 code cache (src/cli/launch.ts).
await build({
  ...common,
  entryPoints: ['src/cli/index.ts'],
  outfile: join(dist, 'cli-main.js'),
});
await build({
  ...common,
  entryPoints: ['src/cli/launch.ts'],
  outfile: join(dist, 'cli.js'),
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync(join(dist, 'cli.js'), 0o755);

await build({
  ...common,
  entryPoints: ['src/extension/extension.ts'],
  outfile: join(dist, 'extension.js'),
  external: ['vscode'],
  // Lets the extension report activation time including the evaluation of this bundle.
  banner: { js: 'var __outcomeLedgerLoadStart = performance.now();' },
  footer: { js: 'globalThis.__outcomeLedgerLoadMs = performance.now() - __outcomeLedgerLoadStart;' },
});
copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(dist, 'sql-wasm.wasm'));

// A team merge's worker thread (src/services/teamRollupPool.ts): loaded by path beside the CLI and extension bundles.
await build({
  ...common,
  entryPoints: ['src/services/teamRollupWorker.ts'],
  outfile: join(dist, 'teamRollupWorker.js'),
});

// The tokenizer (token estimates for logs without counts) is big: its own file, required on first use only.
await build({
  ...common,
  entryPoints: ['src/tokenizer/entry.ts'],
  outfile: join(dist, 'tokenizer.js'),
});

// The sidebar's page: browser, one IIFE loaded by a nonce'd <script> under a strict CSP (no eval, no inline code).
await build({
  ...common,
  platform: 'browser',
  target: ['chrome120'],
  format: 'iife',
  entryPoints: ['src/webview/main.ts'],
  outfile: join(dist, 'webview.js'),
  metafile: false,
});
