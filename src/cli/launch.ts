/**
 * The `outcome-ledger` executable: loads the CLI bundle (cli-main.js beside it) through a V8 code cache, so a run
 * does not parse and compile the bundle again (Node 20 has no module.enableCompileCache).
 *
 * The cache lives in the user's cache folder (`$XDG_CACHE_HOME/outcome-ledger`, else the platform's), keyed by the
 * bundle's size and mtime, Node's version and the architecture; V8 itself rejects a cache that does not match the
 * source or the flags. A missing or rejected cache is written once, at exit, so it holds the functions that run
 * needed. Any problem with the cache only costs the compile: the CLI runs the same. OUTCOME_LEDGER_CODE_CACHE=0 turns
 * it off. Node built-ins only (and the one atomic writer and cli/v8.ts, themselves built-ins only): this file runs
 * before anything else.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { writeFileAtomic } from '../store/atomic';
import { setCliV8Flags } from './v8';

function cacheDir(env: NodeJS.ProcessEnv): string {
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'outcome-ledger');
  const home = env.HOME || env.USERPROFILE || os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'outcome-ledger');
  if (process.platform === 'win32')
    return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'outcome-ledger', 'Cache');
  return path.join(home, '.cache', 'outcome-ledger');
}

function run(): void {
  // The CLI's V8 flags (cli/v8.ts), set before compiling: V8 accepts a cache only under the flags it was made with.
  setCliV8Flags();
  const bundle = path.join(__dirname, 'cli-main.js');
  const source = fs.readFileSync(bundle, 'utf8');
  const stat = fs.statSync(bundle);
  const enabled = process.env.OUTCOME_LEDGER_CODE_CACHE !== '0';
  const cacheFile = path.join(
    cacheDir(process.env),
    `cli-${process.version}-${process.arch}-${stat.size}-${Math.floor(stat.mtimeMs)}.v8cache`,
  );
  let cachedData: Buffer | undefined;
  if (enabled) {
    try {
      cachedData = fs.readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  // The same wrapper Node gives a CommonJS module.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, ...(cachedData ? { cachedData } : {}) });
  if (enabled && (!cachedData || script.cachedDataRejected)) {
    process.once('exit', () => {
      try {
        const data = script.createCachedData();
        writeFileAtomic(cacheFile, data, { mode: 0o600, mkdirMode: 0o700 });
        // Caches of other builds or Node versions are of no use any more.
        for (const name of fs.readdirSync(path.dirname(cacheFile))) {
          if (name.startsWith('cli-') && name.endsWith('.v8cache') && name !== path.basename(cacheFile))
            fs.rmSync(path.join(path.dirname(cacheFile), name), { force: true });
        }
      } catch {
        // a read-only or full disk: the next run compiles again
      }
    });
  }
  const fn = script.runInThisContext() as (
    exports: unknown,
    require: NodeRequire,
    module: unknown,
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} };
  fn.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, __dirname);
}

run();
