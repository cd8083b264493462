import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { fromUsageMetadata, qwenCode } from '../../src/sources/qwen';
import { total, writeQwen } from '../fixtures/sources';
import { importHomeFixture, interactions, ledgerSums, parseLines, tempDirEach } from '../helpers';

describe('Qwen Code reader', () => {
  const tmp = tempDirEach('ol-qwen-');

  it('looks in ~/.qwen', () => {
    assert.deepEqual(qwenCode.roots({ HOME: '/h' }), ['/h/.qwen']);
  });

  it('canonical counts: cached input out of the prompt; thoughts inside or beside the candidates as totalTokenCount says', () => {
    const cases: Array<[Record<string, number>, Record<string, number>, string]> = [
      [
        {
          promptTokenCount: 100,
          candidatesTokenCount: 20,
          cachedContentTokenCount: 60,
          thoughtsTokenCount: 5,
          totalTokenCount: 120,
        },
        { input: 40, cacheRead: 60, cacheWrite: 0, output: 20, reasoning: 5 },
        'the total says the thoughts are inside the candidates; the cached input is out of the prompt',
      ],
      [
        { promptTokenCount: 100, candidatesTokenCount: 20, thoughtsTokenCount: 5, totalTokenCount: 125 },
        { input: 100, cacheRead: 0, cacheWrite: 0, output: 25, reasoning: 5 },
        'the total says the thoughts are beside the candidates',
      ],
      [
        { promptTokenCount: 100, candidatesTokenCount: 20, thoughtsTokenCount: 5 },
        { input: 100, cacheRead: 0, cacheWrite: 0, output: 20, reasoning: 5 },
        'no total: never counted twice',
      ],
    ];
    for (const [usage, tokens, why] of cases) assert.deepEqual(fromUsageMetadata(usage), tokens, why);
    assert.deepEqual(fromUsageMetadata({ prompt_tokens: 5 }), {
      bad: 'usageMetadata in an unknown shape (keys: prompt_tokens)',
    });
    assert.deepEqual(fromUsageMetadata({ promptTokenCount: -1 }), {
      bad: 'usageMetadata counts are not non-negative integers',
    });
  });

  it('reads records, keeps the folder and branch, rejects garbage and unknown shapes with a reason', () => {
    const project = path.join(tmp.dir, 'app');
    const fx = writeQwen(path.join(tmp.dir, 'home'), project);
    const lines = fs.readFileSync(fx.file, 'utf8').split('\n');
    lines.pop(); // the half-written last line is never handed to a parser (lines.ts keeps it for later)
    const r = parseLines(qwenCode, lines.filter(Boolean), { path: fx.file, root: tmp.dir });
    assert.deepEqual(
      interactions(r.records).map((x) => [
        x.key.split(':').pop(),
        x.tokens.input,
        x.tokens.output,
        x.session.cwd,
        x.session.branch,
      ]),
      [
        ['a1', 4000, 400, project, 'feat/json'],
        ['a2', 1000, 600, project, 'feat/json'],
        ['a3', 2000, 150, project, 'feat/json'],
        ['a2', 1000, 600, project, 'feat/json'],
      ],
    );
    assert.deepEqual(r.rejected, ['usageMetadata in an unknown shape (keys: prompt, completion)', 'not JSON']);
    assert.equal(r.records.filter((x) => x.kind === 'prompt').length, 1);
  });

  it('imports exactly: a record written again on a resume counts once, the half-written line waits, re-import adds nothing', async () => {
    const { fx, ledger, env } = await importHomeFixture(tmp.dir, 'qwen-code', writeQwen);
    // The tool finishes the line it was writing: it is read then, once.
    fs.appendFileSync(
      fx.file,
      '2000,"candidatesTokenCount":10,"totalTokenCount":12010},"sessionId":"d96bf338-4c1a-4b7e-9f0d-3e2a1b0c9d8e","timestamp":"2026-02-20T14:02:00.000Z"}\n',
    );
    await importAll(ledger, { env, quietMs: 0 });
    assert.equal(ledgerSums(ledger.database, 'qwen-code').input, total(fx.truth).input + 12000);
    assert.equal(
      (await importAll(ledger, { env, quietMs: 0 })).sources.find((x) => x.source === 'qwen-code')?.interactionsAdded,
      0,
    );
    ledger.close();
  });
});
