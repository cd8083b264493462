import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers';
import { cli } from './cli';

describe('CLI start-up: the V8 code cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('ol-cache-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cacheFiles = (): string[] => {
    const d = path.join(dir, 'cache', 'outcome-ledger');
    return fs.existsSync(d) ? fs.readdirSync(d).filter((n) => n.endsWith('.v8cache')) : [];
  };

  it('is written by the first run, used by the next, and a damaged cache only costs a compile', () => {
    const env = { HOME: dir, XDG_CACHE_HOME: path.join(dir, 'cache'), OUTCOME_LEDGER_HOME: path.join(dir, 'ledger') };
    const first = cli(['report', '--json', '--no-import'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(cacheFiles().length, 1, 'one cache file for this build and Node version');
    const file = path.join(dir, 'cache', 'outcome-ledger', cacheFiles()[0] ?? '');
    const written = fs.statSync(file).mtimeMs;
    const second = cli(['report', '--json', '--no-import'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    assert.equal(fs.statSync(file).mtimeMs, written, 'an accepted cache is not rewritten');
    fs.writeFileSync(file, 'garbage, not a code cache');
    const third = cli(['report', '--json', '--no-import'], env);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(third.stdout, first.stdout);
    assert.notEqual(fs.readFileSync(file, 'latin1'), 'garbage, not a code cache', 'a rejected cache is written again');
    // A run that imports collects garbage between its phases (cli/v8.ts): the flags that takes are set before the
    // compile, so a cache made by such a run is accepted by the next one, not written again every time.
    fs.rmSync(file);
    const importing = cli(['report', '--json'], env);
    assert.equal(importing.code, 0, importing.stderr);
    const made = fs.statSync(file).mtimeMs;
    const again = cli(['report', '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(fs.statSync(file).mtimeMs, made, 'the cache a run that collected garbage made is accepted');
    const off = cli(['--version'], { ...env, OUTCOME_LEDGER_CODE_CACHE: '0' });
    assert.equal(off.code, 0);
    assert.match(off.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
