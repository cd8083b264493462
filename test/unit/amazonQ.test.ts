import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { report } from '../../src/services/queries';
import { amazonQ } from '../../src/sources/amazonQ';
import { Ledger } from '../../src/store/ledger';
import { amazonQConversation, amazonQTruth, sqlite3, total, writeAmazonQ } from '../fixtures/sources';
import { importExactly, ledgerSums, repoFolder, sessionFiles, tempDir } from '../helpers';

const q = (v: unknown): string => `'${JSON.stringify(v).replace(/'/g, "''")}'`;

describe('Amazon Q Developer reader', () => {
  let dir: string;
  let project: string;
  let env: Record<string, string>;
  beforeEach(() => {
    dir = tempDir('ol-amazonq-');
    project = repoFolder(path.join(dir, 'proj'));
    env = { HOME: path.join(dir, 'home'), XDG_DATA_HOME: path.join(dir, 'data') };
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  /** The fixture written and imported once into a fresh ledger. */
  const importedOnce = async (): Promise<{ fx: ReturnType<typeof writeAmazonQ>; ledger: Ledger }> => {
    const fx = writeAmazonQ(env.HOME as string, env.XDG_DATA_HOME as string, project);
    const ledger = await Ledger.open(path.join(dir, 'ledger'));
    await importAll(ledger, { env, quietMs: 0 });
    return { fx, ledger };
  };

  it("looks in the CLI data folder of each platform and the IDE plugins' history folder", () => {
    assert.deepEqual(amazonQ.roots({ HOME: '/h' }), ['/h/.local/share/amazon-q', '/h/.aws/amazonq/history']);
  });

  it('imports the CLI database and the IDE history: every figure estimated with the tokenizer and marked so; files the agent wrote are edits', async () => {
    const fx = writeAmazonQ(env.HOME as string, env.XDG_DATA_HOME as string, project);
    const ledger = await Ledger.open(path.join(dir, 'ledger'));
    const src = await importExactly(ledger, env, 'amazon-q', fx);
    assert.match(src?.reasons.join('\n') ?? '', /conversation of \/tmp\/broken: value is not JSON/);
    const r = report(ledger.database, { timeZone: 'UTC', since: '2026-01-01', until: '2026-12-31' });
    const row = r.bySource.find((x) => x.source === 'amazon-q');
    assert.equal(row?.tokenAccuracy, 'estimated');
    assert.equal(row?.estimatedTokens, row?.total);
    assert.equal(row?.credits, undefined, 'Amazon Q bills no credits: no credits field');
    assert.deepEqual(sessionFiles(ledger.database, 'amazon-q'), ['app.py']);
    assert.equal(
      (await importAll(ledger, { env, quietMs: 0 })).sources.find((x) => x.source === 'amazon-q')?.interactionsAdded,
      0,
      're-import adds nothing',
    );
    ledger.close();
  });

  it("a conversation overwritten in its folder's row keeps what was captured of it; the new one is added", async () => {
    const { fx, ledger } = await importedOnce();
    const first = ledgerSums(ledger.database, 'amazon-q');
    // The CLI starts a new conversation in the same folder: one row per folder, overwritten.
    const next = amazonQConversation('q-conv-b', project, Date.parse('2026-02-12T10:00:00.000Z'), [
      { prompt: 'Now dockerize it', reply: 'Added a Dockerfile based on python:3.12-slim.' },
    ]);
    sqlite3(fx.db, `UPDATE conversations SET value = ${q(next)} WHERE key = ${q(project).replace(/^'"|"'$/g, "'")};`);
    await importAll(ledger, { env, quietMs: 0 });
    const want = total([...fx.truth, ...amazonQTruth(next)]);
    assert.deepEqual(ledgerSums(ledger.database, 'amazon-q'), want);
    assert.equal(ledgerSums(ledger.database, 'amazon-q').n, first.n + 1);
    const ids = ledger.database
      .exec("SELECT session_key FROM sessions WHERE source = 'amazon-q' ORDER BY session_key")[0]
      ?.values.map((v) => v[0]);
    assert.deepEqual(ids, ['ide-conv-1', 'q-conv-a', 'q-conv-b']);
    ledger.close();
  });

  it('a history file cut short is retried while being written, then rejected with a reason; nothing read before is lost', async () => {
    const { fx, ledger } = await importedOnce();
    const good = ledgerSums(ledger.database, 'amazon-q');
    const hist = path.join(env.HOME as string, '.aws', 'amazonq', 'history', 'chat-history-3f2a9c.json');
    fs.writeFileSync(hist, fs.readFileSync(hist, 'utf8').slice(0, 200));
    const busy = await importAll(ledger, { env, quietMs: 60_000 });
    assert.equal(busy.sources.find((x) => x.source === 'amazon-q')?.linesRejected, 0);
    const quiet = await importAll(ledger, { env, quietMs: 0 });
    assert.match(
      quiet.sources.find((x) => x.source === 'amazon-q')?.reasons.join('\n') ?? '',
      /chat-history-3f2a9c\.json: not a whole JSON document/,
    );
    assert.deepEqual(ledgerSums(ledger.database, 'amazon-q'), good);
    void fx;
    ledger.close();
  });
});
