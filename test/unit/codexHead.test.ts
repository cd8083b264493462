import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld, type World } from '../../src/demo/world';
import { importAll } from '../../src/services/importer';
import { linkAll } from '../../src/services/linker';
import { Ledger } from '../../src/store/ledger';
import { loadStamps } from '../../src/store/outcomes';
import { tempDirEach } from '../helpers';

/** Imports the world into a new ledger, links it, and gives each Codex session's recorded HEAD as the link stored it. */
async function headsAfterFirstLink(
  world: World,
  home: string,
): Promise<(sessionId: string) => string | null | undefined> {
  const ledger = await Ledger.open(home);
  try {
    await importAll(ledger, { env: world.env });
    await linkAll(ledger, { skipDurability: true });
    const db = ledger.database;
    const stamps = loadStamps(db);
    const refs = new Map(
      (db.exec("SELECT session_key, id FROM sessions WHERE source = 'codex'")[0]?.values ?? []).map(([k, id]) => [
        String(k),
        Number(id),
      ]),
    );
    return (sessionId) => stamps.get(refs.get(sessionId) ?? -1)?.codexHead;
  } finally {
    ledger.close();
  }
}

describe('the HEAD Codex recorded when a session started (session_meta.git.commit_hash)', function () {
  this.timeout(120_000);
  const tmp = tempDirEach('ol-codex-head-');

  it('is read from the head of each real Codex log by a first link, for every session that recorded one', async () => {
    // Real git repositories and Codex rollouts in their real format, some with a session_meta.git block.
    const world = buildWorld({ root: path.join(tmp.dir, 'world'), seed: 5, repos: 2 });
    const expected = world.truth.sessions.filter((s) => s.source === 'codex' && s.repo && s.gitCommit);
    assert.ok(expected.length >= 2, `the world has Codex sessions that recorded a HEAD (${expected.length})`);
    const headOf = await headsAfterFirstLink(world, path.join(tmp.dir, 'ledger'));
    for (const s of expected) assert.equal(headOf(s.sessionId), s.gitCommit, `session ${s.sessionId}`);
  });

  it('is read from a session_meta line past the first, and is none when the line is damaged or missing', async () => {
    const world = buildWorld({ root: path.join(tmp.dir, 'world'), seed: 5, repos: 2 });
    const [good, damaged, missing] = world.truth.sessions.filter((s) => s.source === 'codex' && s.repo && s.gitCommit);
    assert.ok(good && damaged && missing, 'three Codex sessions that recorded a HEAD');
    const rewrite = (file: string, edit: (lines: string[]) => string[]): void => {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      fs.writeFileSync(file, edit(lines).join('\n'));
    };
    const logOf = (id: string): string => world.state.codex[id]?.file ?? '';
    const isMeta = (l: string): boolean => l.includes('"session_meta"');
    // Another record first: the session_meta line is found wherever it is in the file's head.
    rewrite(logOf(good.sessionId), (lines) => {
      const meta = lines.findIndex(isMeta);
      const moved = lines.splice(meta, 1);
      return [...lines.slice(0, 1), ...moved, ...lines.slice(1)];
    });
    // A session_meta line cut in the middle, and a file with none: no HEAD (nothing is guessed).
    rewrite(logOf(damaged.sessionId), (lines) => lines.map((l) => (isMeta(l) ? l.slice(0, l.length - 20) : l)));
    rewrite(logOf(missing.sessionId), (lines) => lines.filter((l) => !isMeta(l)));
    const headOf = await headsAfterFirstLink(world, path.join(tmp.dir, 'ledger'));
    assert.equal(headOf(good.sessionId), good.gitCommit);
    assert.ok(!headOf(damaged.sessionId), 'a damaged session_meta line gives no HEAD');
    assert.ok(!headOf(missing.sessionId), 'no session_meta line gives no HEAD');
  });
});
