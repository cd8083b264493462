import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { continueDev, fromContinueUsage } from '../../src/sources/continue';
import { Ledger } from '../../src/store/ledger';
import { total, writeContinue } from '../fixtures/sources';
import { interactions, ledgerSums, parseLines, tempDir } from '../helpers';

describe('Continue reader', () => {
  it('reads usage with Anthropic semantics when cacheWriteTokens is present, else OpenAI semantics', () => {
    assert.deepEqual(fromContinueUsage({ promptTokens: 10, completionTokens: 5, promptTokensDetails: { cachedTokens: 100, cacheWriteTokens: 7 } }), { input: 10, cacheRead: 100, cacheWrite: 7, output: 5, reasoning: 0 });
    assert.deepEqual(fromContinueUsage({ promptTokens: 100, completionTokens: 5, promptTokensDetails: { cachedTokens: 60 } }), { input: 40, cacheRead: 60, cacheWrite: 0, output: 5, reasoning: 0 });
    assert.equal(fromContinueUsage({ promptTokens: 1.5, completionTokens: 5 }), undefined);
  });

  it('honours CONTINUE_GLOBAL_DIR, else ~/.continue', () => {
    assert.deepEqual(continueDev.roots({ HOME: '/h' }), ['/h/.continue']);
    assert.deepEqual(continueDev.roots({ HOME: '/h', CONTINUE_GLOBAL_DIR: '/c' }), ['/c']);
  });

  it('marks dev-data tokenizer counts as estimated, with a reason for hostile lines', () => {
    const r = parseLines(continueDev, [
      JSON.stringify({ model: 'gpt-4o', promptTokens: 10, generatedTokens: 2, timestamp: '2025-11-03T09:12:00.000Z' }),
      JSON.stringify({ model: 'gpt-4o', promptTokens: 10, generatedTokens: 2 }),
      '{"model": "gpt-4o", "promptTok',
    ], { path: '/nowhere/dev_data/0.2.0/tokensGenerated.jsonl', root: '/nowhere' });
    const [i] = interactions(r.records);
    assert.equal(i?.estimated, true);
    assert.deepEqual(r.rejected, ['timestamp missing or not a date', 'not JSON']);
  });

  describe('import', () => {
    let dir: string;
    beforeEach(() => (dir = tempDir('ol-continue-')));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('exact session usage plus earlier estimates (marked) equal the truth; a request is never counted twice', async () => {
      const project = path.join(dir, 'proj');
      fs.mkdirSync(path.join(project, '.git'), { recursive: true });
      const fx = writeContinue(path.join(dir, 'cont'), project);
      const ledger = await Ledger.open(path.join(dir, 'ledger'));
      const s = await importAll(ledger, { env: { HOME: path.join(dir, 'home'), CONTINUE_GLOBAL_DIR: path.join(dir, 'cont') }, quietMs: 0 });
      const c = s.sources.find((x) => x.source === 'continue');
      assert.equal(c?.linesRejected, fx.rejects, c?.reasons.join('; '));
      assert.deepEqual(ledgerSums(ledger.database, 'continue'), total(fx.truth));
      const again = await importAll(ledger, { env: { HOME: path.join(dir, 'home'), CONTINUE_GLOBAL_DIR: path.join(dir, 'cont') }, quietMs: 0 });
      assert.equal(again.bytesRead, 0);
      assert.deepEqual(ledgerSums(ledger.database, 'continue'), total(fx.truth));
      const files = ledger.database.exec("SELECT s.cwd, f.path FROM session_files f JOIN sessions s ON s.id = f.session_ref WHERE s.source = 'continue'")[0]?.values;
      assert.deepEqual(files, [[project, 'src/search.ts']]);
      ledger.close();
    });

    it('a session caught half-written and a half-written dev-data line wait; garbage once quiet is rejected with a reason and loses nothing', async () => {
      const cont = path.join(dir, 'cont');
      const fx = writeContinue(cont, path.join(dir, 'proj'));
      const env = { HOME: path.join(dir, 'home'), CONTINUE_GLOBAL_DIR: cont };
      const ledger = await Ledger.open(path.join(dir, 'ledger'));
      await importAll(ledger, { env, quietMs: 0 });
      const full = ledgerSums(ledger.database, 'continue');
      assert.deepEqual(full, total(fx.truth));
      // Continue rewrites a session while it saves it, and appends a dev-data line: both caught mid-write.
      const session = path.join(cont, 'sessions', 'c-exact.json');
      const text = fs.readFileSync(session, 'utf8');
      fs.writeFileSync(session, text.slice(0, Math.floor(text.length / 2)));
      const dev = path.join(cont, 'dev_data', '0.2.0', 'tokensGenerated.jsonl');
      fs.appendFileSync(dev, '{"model":"gpt-4o","promptTokens":900,"generatedTokens":40,"timestamp":"2025-11-03T09:30:00.000Z"');
      const busy = await importAll(ledger, { env, quietMs: 60_000 });
      const c = busy.sources.find((x) => x.source === 'continue');
      assert.equal(c?.linesRejected, 0, c?.reasons.join('; '));
      assert.equal(c?.interactionsAdded, 0);
      assert.deepEqual(ledgerSums(ledger.database, 'continue'), full);
      // The session is saved whole again; the dev-data line is finished: exactly that one estimate is added.
      fs.writeFileSync(session, text);
      fs.appendFileSync(dev, ',"provider":"openai"}\n');
      const done = await importAll(ledger, { env, quietMs: 60_000 });
      assert.equal(done.sources.find((x) => x.source === 'continue')?.interactionsAdded, 1);
      assert.equal(ledgerSums(ledger.database, 'continue').input, full.input + 900);
      // Garbage in place of the session, once quiet: one reason, and what it held stays in the ledger.
      fs.writeFileSync(session, '\u0000\u0001 not json');
      const broken = await importAll(ledger, { env, quietMs: 0 });
      assert.match(broken.sources.find((x) => x.source === 'continue')?.reasons.join('\n') ?? '', /c-exact\.json: not a whole JSON document/);
      assert.equal(ledgerSums(ledger.database, 'continue').input, full.input + 900);
      ledger.close();
    });
  });
});
