import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { kimi, kimiModel } from '../../src/sources/kimi';
import { writeKimi } from '../fixtures/sources';
import { importHomeFixture, interactions, parseFile, tempDirEach } from '../helpers';

describe('Kimi CLI reader', () => {
  const tmp = tempDirEach('ol-kimi-');

  it("looks in ~/.kimi (or $KIMI_SHARE_DIR) and Kimi Code's ~/.kimi-code (or $KIMI_CODE_HOME)", () => {
    assert.deepEqual(kimi.roots({ HOME: '/h' }), ['/h/.kimi', '/h/.kimi-code']);
    assert.deepEqual(kimi.roots({ HOME: '/h', KIMI_SHARE_DIR: '/k', KIMI_CODE_HOME: '/c' }), ['/k', '/c']);
  });

  it('StatusUpdate steps: the model from config.json, the folder from kimi.json, unknown shapes and negative counts rejected', () => {
    const project = path.join(tmp.dir, 'app');
    const fx = writeKimi(path.join(tmp.dir, 'home'), project);
    const r = parseFile(kimi, fx.file, path.join(tmp.dir, 'home', '.kimi'));
    assert.deepEqual(
      interactions(r.records).map((x) => [
        x.key.split(':').pop(),
        x.model,
        x.tokens.input,
        x.tokens.cacheRead,
        x.session.cwd,
      ]),
      [
        ['chatcmpl-1', 'kimi-k2-turbo-preview', 1500, 4800, project],
        ['chatcmpl-2', 'kimi-k2-turbo-preview', 100, 0, project],
        ['chatcmpl-2', 'kimi-k2-turbo-preview', 120, 5, project],
        [
          `t${String(Date.parse('2026-02-21T08:00:00.000Z') / 1000 + 12.123456)}`,
          'kimi-k2-turbo-preview',
          40,
          0,
          project,
        ],
      ],
    );
    assert.deepEqual(r.rejected, [
      'token_usage in an unknown shape (keys: tokens)',
      'token_usage counts are not non-negative integers',
      'not JSON',
    ]);
    assert.equal(r.records.filter((x) => x.kind === 'prompt').length, 1);
  });

  it('Kimi Code: turn-scoped usage records only, an alias model resolved by the request before it, the folder from workspaces.json', () => {
    const project = path.join(tmp.dir, 'app');
    const fx = writeKimi(path.join(tmp.dir, 'home'), project);
    const r = parseFile(kimi, fx.codeFile, path.join(tmp.dir, 'home', '.kimi-code'));
    assert.deepEqual(
      interactions(r.records).map((x) => [
        x.model,
        x.tokens.input,
        x.tokens.cacheRead,
        x.session.sessionId,
        x.session.cwd,
      ]),
      [
        ['k3', 2000, 9000, 'sess-code-1', project],
        ['kimi-for-coding', 300, 0, 'sess-code-1', project],
      ],
    );
    assert.deepEqual(r.rejected, ['usage in an unknown shape (keys: tokens)']);
    const files = [...kimi.discover(kimi.roots({ HOME: path.join(tmp.dir, 'home') }))].map((f) =>
      path.relative(tmp.dir, f.path),
    );
    assert.deepEqual(
      files.sort(),
      [
        'home/.kimi-code/sessions/wd_app_4c02790435a7/sess-code-1/agents/explore/wire.jsonl',
        'home/.kimi-code/sessions/wd_app_4c02790435a7/sess-code-1/agents/main/wire.jsonl',
        path.relative(tmp.dir, fx.file),
      ].sort(),
    );
  });

  it('imports exactly: a step reported twice counts once (the larger), re-import adds nothing', async () => {
    const { ledger, env } = await importHomeFixture(tmp.dir, 'kimi', writeKimi);
    assert.equal(
      (await importAll(ledger, { env, quietMs: 0 })).sources.find((x) => x.source === 'kimi')?.interactionsAdded,
      0,
    );
    ledger.close();
  });
});

describe('Kimi CLI configuration', () => {
  const tmp = tempDirEach('ol-kimi-config-');

  it('config.toml (current builds) names the model: default_model resolved through [models.<name>]; config.json is the older place', () => {
    fs.writeFileSync(
      path.join(tmp.dir, 'config.toml'),
      [
        'default_model = "kimi-for-coding"',
        'default_thinking = false',
        '',
        '[models.other]',
        'provider = "moonshot"',
        'model = "not-this-one"',
        '',
        '[models."kimi-for-coding"]',
        'provider = "kimi"',
        "model = 'kimi-k2-thinking-turbo'",
        'max_context_size = 262144',
        '',
        '[providers.kimi]',
        'type = "kimi"',
        'api_key = "NEVER-READ"',
        '',
        '[[hooks]]',
        'model = "nor-this"',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(tmp.dir, 'config.json.bak'), JSON.stringify({ default_model: 'old' }));
    assert.equal(kimiModel(tmp.dir), 'kimi-k2-thinking-turbo');
    fs.rmSync(path.join(tmp.dir, 'config.toml'));
    assert.equal(kimiModel(tmp.dir), 'old', 'the migrated-away config.json');
    fs.writeFileSync(path.join(tmp.dir, 'config.toml'), 'default_thinking = true\n');
    assert.equal(kimiModel(tmp.dir), undefined, 'no model named: none invented');
  });
});
