import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dataHealth } from '../../src/services/health';
import { importAll } from '../../src/services/importer';
import { customModelOf, droid } from '../../src/sources/droid';
import { Ledger } from '../../src/store/ledger';
import { jsonl, write, writeDroid } from '../fixtures/sources';
import { importExactly, ledgerSums, tempDirEach } from '../helpers';
import { sessionCwdSql } from '../../src/store/paths';

describe('Factory Droid reader', () => {
  const tmp = tempDirEach('ol-droid-');

  it('looks in ~/.factory/sessions', () => {
    assert.deepEqual(droid.roots({ HOME: '/h' }), ['/h/.factory/sessions']);
  });

  it('running totals: each import stores the growth since the last one, re-reading the same totals adds nothing, a reset starts a new count', async () => {
    const project = path.join(tmp.dir, 'app');
    const home = path.join(tmp.dir, 'home');
    const fx = writeDroid(home, project);
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const env = { HOME: home };
    await importExactly(ledger, env, 'droid', fx);
    const cwd = ledger.database.exec(
      `SELECT ${sessionCwdSql()} FROM sessions s WHERE source = 'droid' AND session_key = '5b1e6c2a-8f3d-4a7b-9e0c-2d4f6a8b0c1e'`,
    )[0]?.values[0]?.[0];
    assert.equal(cwd, project, 'the folder from the message log');

    // The session runs on: the totals grow, a message is appended.
    const doc = JSON.parse(fs.readFileSync(fx.files.settings, 'utf8')) as { tokenUsage: Record<string, number> };
    doc.tokenUsage = {
      inputTokens: 5600,
      outputTokens: 1300,
      cacheCreationTokens: 800,
      cacheReadTokens: 31000,
      thinkingTokens: 300,
    };
    fs.writeFileSync(fx.files.settings, JSON.stringify(doc));
    fs.appendFileSync(
      fx.files.log,
      jsonl([
        {
          type: 'message',
          id: 'm3',
          timestamp: '2026-02-20T10:00:00.000Z',
          message: { role: 'assistant', content: [] },
        },
      ]),
    );
    const grown = await importAll(ledger, { env, quietMs: 0 });
    assert.equal(grown.sources.find((x) => x.source === 'droid')?.interactionsAdded, 1, 'one step: the growth');
    const rows = ledger.database.exec(
      "SELECT i.input, i.output, i.cache_read, i.ts FROM interactions i JOIN sessions s ON s.id = i.session_ref WHERE s.session_key = '5b1e6c2a-8f3d-4a7b-9e0c-2d4f6a8b0c1e' ORDER BY i.ts",
    )[0]?.values;
    assert.deepEqual(
      rows?.map((r) => r.slice(0, 3)),
      [
        [5000, 1500, 20000],
        [600, 100, 11000],
      ],
    );
    assert.equal(rows?.[1]?.[3], Date.parse('2026-02-20T10:00:00.000Z'), 'the growth is dated by the newest message');
    const sums = ledgerSums(ledger.database, 'droid');
    assert.equal(sums.input, 5600 + 100);

    // Nothing changed: nothing added. (Touching the file makes it read again.)
    fs.utimesSync(fx.files.settings, new Date(), new Date());
    assert.equal(
      (await importAll(ledger, { env, quietMs: 0 })).sources.find((x) => x.source === 'droid')?.interactionsAdded,
      0,
    );
    assert.deepEqual(ledgerSums(ledger.database, 'droid'), sums);

    // The counter restarted (smaller totals): what it holds now is new.
    doc.tokenUsage = { inputTokens: 10, outputTokens: 2 };
    fs.writeFileSync(fx.files.settings, JSON.stringify(doc));
    await importAll(ledger, { env, quietMs: 0 });
    assert.equal(ledgerSums(ledger.database, 'droid').input, 5600 + 100 + 10);
    ledger.close();
  });

  it('a settings file cut short is retried while being written, then rejected with a reason; nothing counted before is lost or counted again', async () => {
    const home = path.join(tmp.dir, 'home');
    const fx = writeDroid(home, path.join(tmp.dir, 'app'));
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const env = { HOME: home };
    await importAll(ledger, { env, quietMs: 0 });
    const good = ledgerSums(ledger.database, 'droid');
    const text = fs.readFileSync(fx.files.settings, 'utf8');
    fs.writeFileSync(fx.files.settings, text.slice(0, Math.floor(text.length / 2)));
    const busy = await importAll(ledger, { env, quietMs: 60_000 });
    assert.equal(
      busy.sources.find((x) => x.source === 'droid')?.linesRejected,
      0,
      'a file being written is waited for',
    );
    const quiet = await importAll(ledger, { env, quietMs: 0 });
    assert.match(
      quiet.sources.find((x) => x.source === 'droid')?.reasons.join('\n') ?? '',
      /5b1e6c2a-8f3d-4a7b-9e0c-2d4f6a8b0c1e\.settings\.json: not a whole JSON document/,
    );
    assert.deepEqual(ledgerSums(ledger.database, 'droid'), good);
    // Written whole again, with the same totals: nothing new.
    fs.writeFileSync(fx.files.settings, text);
    assert.equal(
      (await importAll(ledger, { env, quietMs: 0 })).sources.find((x) => x.source === 'droid')?.interactionsAdded,
      0,
    );
    assert.deepEqual(ledgerSums(ledger.database, 'droid'), good);
    ledger.close();
  });

  it('an unknown tokenUsage shape and a count that is not one are rejected with the reason, never read as zeros', async () => {
    writeDroid(path.join(tmp.dir, 'home'), path.join(tmp.dir, 'app'));
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const s = await importAll(ledger, { env: { HOME: path.join(tmp.dir, 'home') }, quietMs: 0 });
    const reasons =
      s.sources.find((x) => x.source === 'droid')?.reasons.map((r) => r.replace(/^.*: (?=tokenUsage)/, '')) ?? [];
    assert.deepEqual(reasons.sort(), [
      'tokenUsage in an unknown shape (keys: prompt, completion)',
      'tokenUsage.inputTokens is not a non-negative integer',
    ]);
    ledger.close();
  });

  it('a custom: model is the one the settings name (settings.json customModels, settings.local.json, legacy config.json); an unknown one stays as written', async () => {
    const factory = path.join(tmp.dir, 'home', '.factory');
    write(
      path.join(factory, 'settings.json'),
      JSON.stringify({
        customModels: [
          {
            model: 'claude-sonnet-4-5-20250929',
            displayName: 'Sonnet [Proxy]',
            baseUrl: 'http://127.0.0.1:8317',
            apiKey: '${NEVER_READ}',
            provider: 'anthropic',
          },
          {
            model: 'gpt-5-codex',
            displayName: 'Codex via gateway',
            baseUrl: 'https://gw.example/v1',
            apiKey: 'sk-never-read',
            provider: 'openai',
          },
        ],
      }),
    );
    write(
      path.join(factory, 'config.json'),
      JSON.stringify({
        custom_models: [
          { model: 'glm-4.6', model_display_name: 'GLM', base_url: 'http://x', api_key: 'k', provider: 'openai' },
        ],
      }),
    );
    assert.equal(customModelOf('custom:Sonnet-[Proxy]-0', factory), 'claude-sonnet-4-5-20250929');
    assert.equal(customModelOf('custom:Codex via gateway', factory), 'gpt-5-codex');
    assert.equal(customModelOf('custom:glm-4.6', factory), 'glm-4.6');
    assert.equal(customModelOf('custom:GLM-0', factory), 'glm-4.6');
    assert.equal(customModelOf('custom:Unknown-3', factory), undefined);
    assert.equal(customModelOf('claude-sonnet-4-5', factory), undefined);
    assert.equal(customModelOf('custom:GLM-0', undefined), undefined);
    // Through an import: the session's model is the underlying one; an unknown custom name is kept as written.
    const sessions = path.join(factory, 'sessions', 'proj');
    write(
      path.join(sessions, 'aaaaaaaa-0000-4000-8000-000000000001.settings.json'),
      JSON.stringify({
        model: 'custom:Sonnet-[Proxy]-0',
        providerLockTimestamp: '2026-02-01T10:00:00.000Z',
        tokenUsage: {
          inputTokens: 100,
          outputTokens: 10,
          cacheCreationTokens: 0,
          cacheReadTokens: 0,
          thinkingTokens: 0,
        },
      }),
    );
    write(
      path.join(sessions, 'aaaaaaaa-0000-4000-8000-000000000002.settings.json'),
      JSON.stringify({
        model: 'custom:Unknown-3',
        providerLockTimestamp: '2026-02-01T11:00:00.000Z',
        tokenUsage: { inputTokens: 5, outputTokens: 1, cacheCreationTokens: 0, cacheReadTokens: 0, thinkingTokens: 0 },
      }),
    );
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    await importAll(ledger, { env: { HOME: path.join(tmp.dir, 'home') }, quietMs: 0 });
    const models = (
      ledger.database.exec('SELECT m.name FROM interactions i JOIN models m ON m.id = i.model_ref ORDER BY i.ts')[0]
        ?.values ?? []
    ).map((v) => String(v[0]));
    assert.deepEqual(models, ['claude-sonnet-4-5-20250929', 'custom:Unknown-3']);
    const h = dataHealth(ledger.database, path.join(tmp.dir, 'ledger', 'ledger.sqlite'), {
      env: { HOME: path.join(tmp.dir, 'home') },
    });
    assert.match(
      h.sources.find((x) => x.source === 'droid')?.gaps.join('\n') ?? '',
      /1 Droid requests ran on custom models that .* does not name: they keep the name as written and are unpriced/,
    );
    ledger.close();
  });
});
