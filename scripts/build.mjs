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

/** Bundles one entry point into dist/ with the common options and any of its own. */
const bundle = (entry, file, own = {}) => build({ ...common, entryPoints: [entry], outfile: join(dist, file), ...own });

// The CLI: cli.js is a small launcher that loads the bundle (cli-main.js) through a V8 code cache (src/cli/launch.ts).
await bundle('src/cli/index.ts', 'cli-main.js');
await bundle('src/cli/launch.ts', 'cli.js', { banner: { js: '#!/usr/bin/env node' } });
chmodSync(join(dist, 'cli.js'), 0o755);

await bundle('src/extension/extension.ts', 'extension.js', {
  external: ['vscode'],
  // Lets the extension report activation time including the evaluation of this bundle.
  banner: { js: 'var __outcomeLedgerLoadStart = performance.now();' },
  footer: { js: 'globalThis.__outcomeLedgerLoadMs = performance.now() - __outcomeLedgerLoadStart;' },
});
copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(dist, 'sql-wasm.wasm'));

// A team merge's worker thread (src/services/teamRollupPool.ts): loaded by path beside the CLI and extension bundles.
await bundle('src/services/teamRollupWorker.ts', 'teamRollupWorker.js');
// The extension's full rescan in a worker thread (src/services/rescanThread.ts): loaded by path beside the extension's bundle.
await bundle('src/services/rescanWorker.ts', 'rescanWorker.js');

// The tokenizer (token estimates for logs without counts) is big: its own file, required on first use only.
await bundle('src/tokenizer/entry.ts', 'tokenizer.js');

// The sidebar's page: browser, one IIFE loaded by a nonce'd <script> under a strict CSP (no eval, no inline code).
await bundle('src/webview/main.ts', 'webview.js', {
  platform: 'browser',
  target: ['chrome120'],
  format: 'iife',
  metafile: false,
});
