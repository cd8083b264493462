import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendClaudeTurn, buildWorld, type World } from '../../src/demo/world';
import { FOLDER_SETTLED_MS, importAll, RescanMemo } from '../../src/services/importer';
import { rescanInWorker, type RescanJob } from '../../src/services/rescanThread';
import { Ledger } from '../../src/store/ledger';
import { ledgerTokens, tempDirEach, truthTotal } from '../helpers';

describe("the extension's rescans in a worker thread", function () {
  this.timeout(120_000);
  const tmp = tempDirEach('ol-rescan-thread-');
  let world: World;

  beforeEach(() => {
    // Real Claude Code and Codex logs in their real formats, in real git repositories.
    world = buildWorld({ root: path.join(tmp.dir, 'world'), seed: 7, repos: 1 });
  });

  const jobFor = (home: string): RescanJob => ({
    home,
    extra: [],
    disabled: [],
    storePromptText: false,
    projectDirs: [],
    timeoutMs: 10_000,
    // Every file read to its end counts as settled at once, so what the memo learns is visible here.
    settledMs: 0,
    folderSettledMs: FOLDER_SETTLED_MS,
    env: world.env,
  });

  it('imports everything through the lock, this thread reads it, and its memo lets a light rescan skip what an in-thread scan would', async () => {
    const home = path.join(tmp.dir, 'ledger');
    const ledger = await Ledger.open(home);
    try {
      assert.equal(ledgerTokens(ledger), 0);
      const done = await rescanInWorker(jobFor(home));
      ledger.refresh();
      assert.equal(ledgerTokens(ledger), truthTotal(world.truth.interactions), 'the window sees what the worker wrote');
      const read = done.summary.sources.reduce((n, s) => n + s.filesRead, 0);
      assert.ok(read > 0 && done.summary.bytesRead > 0, 'the summary says what the worker read');

      // The same full scan in this thread, on another ledger: the same settled files.
      const other = await Ledger.open(path.join(tmp.dir, 'other'));
      const here = new RescanMemo(0);
      try {
        await importAll(other, { env: world.env, memo: here });
      } finally {
        other.close();
      }
      assert.ok(here.settledFiles > 0);
      assert.deepEqual([...done.settled].sort(), [...here.settledKeys()].sort());

      // Adopted, the memo is filled: a light rescan takes those files as unchanged and reads nothing.
      const memo = new RescanMemo(0);
      memo.adopt(done.settled);
      assert.equal(memo.filled, true);
      const light = await importAll(ledger, { env: world.env, memo, light: true });
      assert.equal(light.bytesRead, 0);
      assert.equal(ledgerTokens(ledger), truthTotal(world.truth.interactions));
    } finally {
      ledger.close();
    }
  });

  it('rejects when the worker cannot start or its import fails, so the window scans in its own thread instead', async () => {
    const home = path.join(tmp.dir, 'ledger');
    await assert.rejects(rescanInWorker(jobFor(home), path.join(tmp.dir, 'no-such-worker.js')));
    // A ledger home that is a file: the worker's open fails, and says why.
    const notADir = path.join(tmp.dir, 'a-file');
    fs.writeFileSync(notADir, 'not a folder');
    await assert.rejects(rescanInWorker(jobFor(notADir)), (e: Error) => e.message.length > 0);
    assert.equal(fs.readFileSync(notADir, 'utf8'), 'not a folder', 'nothing was written over it');
  });

  it("a light rescan takes the window's settled files: it reads only the one a watcher reported, and says what it learnt", async () => {
    const home = path.join(tmp.dir, 'ledger');
    const ledger = await Ledger.open(home);
    try {
      const window = new RescanMemo(0);
      window.adopt((await rescanInWorker(jobFor(home))).settled);
      ledger.refresh();
      const fileOf = (session: string): string => world.state.claude[session]?.file ?? '';
      const [reported, unseen] = Object.keys(world.state.claude).filter((k) => window.isSettled(fileOf(k)));
      assert.ok(reported && unseen, 'the world has two settled Claude Code logs');
      // Both grow; a watcher reported one of them (the window unsettles it), the other waits for a full rescan.
      const size = fs.statSync(fileOf(reported)).size;
      appendClaudeTurn(world, reported);
      const waiting = appendClaudeTurn(world, unseen);
      window.unsettle(fileOf(reported));
      const settled = window.settledKeys();
      const count = settled.length;

      const done = await rescanInWorker({ ...jobFor(home), settled });
      assert.equal(settled.byteLength, 0, 'the keys were transferred to the worker, not copied');
      assert.equal(
        done.summary.bytesRead,
        fs.statSync(fileOf(reported)).size - size,
        'only the reported file was read',
      );
      ledger.refresh();
      assert.equal(ledgerTokens(ledger), truthTotal(world.truth.interactions) - truthTotal(waiting));
      // Read to its end again, the reported file is settled once more in what comes back.
      assert.equal(done.settled.length, count + 1);

      // A full rescan then finds the other one.
      const full = await rescanInWorker(jobFor(home));
      assert.ok(full.summary.bytesRead > 0);
      ledger.refresh();
      assert.equal(ledgerTokens(ledger), truthTotal(world.truth.interactions));
    } finally {
      ledger.close();
    }
  });
});
