import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TreeWatch } from '../../src/services/treeWatch';
import { tempDirEach } from '../helpers';

/** Resolves with the first reported path `want` accepts, or rejects after `ms` (an event that never comes). */
function reported(seen: string[], want: (p: string) => boolean, ms = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const hit = seen.find(want);
      if (hit !== undefined) {
        clearInterval(poll);
        resolve(hit);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`not reported within ${ms} ms; seen: ${seen.join(', ')}`));
      }
    }, 10);
  });
}

describe('a bounded tree watch (where Node would emulate a recursive fs.watch)', function () {
  this.timeout(20_000);
  const tmp = tempDirEach('ol-treewatch-');

  it("reports a session file written in a project folder, and one in a project folder created after it started, with the new folder's files", async () => {
    // Claude Code's layout: <config>/projects/<project>/<session>.jsonl.
    const root = path.join(tmp.dir, 'claude');
    fs.mkdirSync(path.join(root, 'projects', 'old-project'), { recursive: true });
    const seen: string[] = [];
    const watch = new TreeWatch(root, 2, (p) => seen.push(p));
    try {
      assert.equal(watch.folders, 3, 'the root, projects/ and the project folder');
      fs.appendFileSync(path.join(root, 'projects', 'old-project', 's1.jsonl'), '{}\n');
      assert.equal(
        await reported(seen, (p) => p.endsWith('s1.jsonl')),
        path.join('projects', 'old-project', 's1.jsonl'),
      );
      // A new project: the folder and its first session file written at once.
      const fresh = path.join(root, 'projects', 'new-project');
      fs.mkdirSync(fresh);
      fs.writeFileSync(path.join(fresh, 's2.jsonl'), '{}\n');
      assert.equal(
        await reported(seen, (p) => p.endsWith('s2.jsonl')),
        path.join('projects', 'new-project', 's2.jsonl'),
      );
      assert.equal(watch.folders, 4, 'the new project folder is watched');
      // And later lines in it are reported too.
      seen.length = 0;
      fs.writeFileSync(path.join(fresh, 's3.jsonl'), '{}\n');
      await reported(seen, (p) => p.endsWith('s3.jsonl'));
    } finally {
      watch.close();
    }
  });

  it('watches folders down to its depth only, never reads the deepest ones, and stops at its cap', () => {
    // A year of Claude Code: a folder per session below each project (their subagents), none of them watched.
    const root = path.join(tmp.dir, 'claude');
    for (let i = 0; i < 50; i++)
      fs.mkdirSync(path.join(root, 'projects', 'p', `session-${i}`, 'subagents'), { recursive: true });
    const shallow = new TreeWatch(root, 2, () => undefined);
    try {
      assert.equal(shallow.folders, 3);
    } finally {
      shallow.close();
    }
    const capped = new TreeWatch(root, 4, () => undefined, 10);
    try {
      assert.equal(capped.folders, 10);
    } finally {
      capped.close();
      assert.equal(capped.folders, 0);
    }
  });

  it('a missing root watches nothing and throws nothing; a removed folder stops being watched', async () => {
    const none = new TreeWatch(path.join(tmp.dir, 'nowhere'), 2, () => undefined);
    assert.equal(none.folders, 0);
    none.close();
    const root = path.join(tmp.dir, 'codex');
    fs.mkdirSync(path.join(root, 'sessions', '2026', '12', '07'), { recursive: true });
    const seen: string[] = [];
    const watch = new TreeWatch(root, 4, (p) => seen.push(p));
    try {
      assert.equal(watch.folders, 5);
      fs.rmSync(path.join(root, 'sessions', '2026', '12', '07'), { recursive: true });
      // The day's folder is let go once its parent reports it gone; a new day is watched again.
      fs.mkdirSync(path.join(root, 'sessions', '2026', '12', '08'));
      fs.writeFileSync(path.join(root, 'sessions', '2026', '12', '08', 'rollout.jsonl'), '{}\n');
      await reported(seen, (p) => p.endsWith('rollout.jsonl'));
      // The parent reported the removal before the new day (its events come in order): 07 went, 08 came.
      assert.equal(watch.folders, 5);
    } finally {
      watch.close();
    }
  });
});
