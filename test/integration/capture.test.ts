import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendClaudeTurn, appendCodexTurn, buildWorld, type World } from '../../src/demo/world';
import { importAll } from '../../src/services/importer';
import { Ledger } from '../../src/store/ledger';
import { ledgerTokens, tempDir, truthTotal } from '../helpers';
import { loadCursors } from '../../src/store/files';

/** The extension's live capture: only the files a watcher reported are read, with the full scan as the fallback. */
describe('live capture of the files a watcher reported', function () {
  this.timeout(120_000);
  let dir: string;
  let world: World;
  let ledger: Ledger;
  const total = (): number => ledgerTokens(ledger);

  before(async () => {
    dir = tempDir('ol-capture-');
    world = buildWorld({ root: path.join(dir, 'world'), seed: 5, repos: 0 });
    ledger = await Ledger.open(path.join(dir, 'ledger'));
    await importAll(ledger, { env: world.env });
    assert.equal(total(), truthTotal(world.truth.interactions));
  });
  after(() => {
    ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads only the reported file: a change elsewhere waits for the next scan, and every line counts once', async () => {
    const claude = Object.keys(world.state.claude);
    const codex = Object.keys(world.state.codex);
    const reported = claude[0] ?? '';
    const unreported = codex[0] ?? '';
    const before = total();
    const a = appendClaudeTurn(world, reported);
    const b = appendCodexTurn(world, unreported);
    const summary = await importAll(ledger, { env: world.env, changed: [world.state.claude[reported]?.file ?? ''] });
    assert.equal(total(), before + truthTotal(a), 'the reported file was read, the other not yet');
    assert.deepEqual(
      summary.sources.map((s) => s.source),
      ['claude-code'],
      'no other source was scanned',
    );
    await importAll(ledger, { env: world.env, changed: [world.state.codex[unreported]?.file ?? ''] });
    assert.equal(total(), before + truthTotal(a) + truthTotal(b));
    await importAll(ledger, { env: world.env });
    assert.equal(total(), truthTotal(world.truth.interactions), 'a full scan after it finds nothing twice');
  });

  it('a file not seen before (a new session) is read alone where its tool writes sessions', async () => {
    const source = world.state.claude[Object.keys(world.state.claude)[1] ?? ''];
    assert.ok(source);
    const fresh = path.join(path.dirname(source.file), 'new-session-copy.jsonl');
    const before = total();
    fs.writeFileSync(
      fresh,
      fs.readFileSync(source.file, 'utf8').replace(/"sessionId":"[^"]+"/g, '"sessionId":"new-session-copy"'),
    );
    await importAll(ledger, { env: world.env, changed: [fresh] });
    assert.ok(total() >= before, 'the new file was read (its copies dedupe by message id)');
    assert.ok(loadCursors(ledger.database, [fresh]).has(fresh), 'the new file is now known');
  });
});
