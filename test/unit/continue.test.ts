import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { continueDev, fromContinueUsage } from '../../src/sources/continue';
import { Ledger } from '../../src/store/ledger';
import { total, write, writeContinue } from '../fixtures/sources';
import { importExactly, interactions, ledgerSums, parseLines, repoFolder, tempDirEach } from '../helpers';
import type { WholeResult } from '../../src/sources/parser';
import { sessionCwdSql } from '../../src/store/paths';

describe('Continue reader', () => {
  it('reads usage with Anthropic semantics when cacheWriteTokens is present, else OpenAI semantics', () => {
    assert.deepEqual(
      fromContinueUsage({
        promptTokens: 10,
        completionTokens: 5,
        promptTokensDetails: { cachedTokens: 100, cacheWriteTokens: 7 },
      }),
      { input: 10, cacheRead: 100, cacheWrite: 7, output: 5, reasoning: 0 },
    );
    assert.deepEqual(
      fromContinueUsage({ promptTokens: 100, completionTokens: 5, promptTokensDetails: { cachedTokens: 60 } }),
      { input: 40, cacheRead: 60, cacheWrite: 0, output: 5, reasoning: 0 },
    );
    assert.equal(fromContinueUsage({ promptTokens: 1.5, completionTokens: 5 }), undefined);
  });

  it('honours CONTINUE_GLOBAL_DIR, else ~/.continue', () => {
    assert.deepEqual(continueDev.roots({ HOME: '/h' }), ['/h/.continue']);
    assert.deepEqual(continueDev.roots({ HOME: '/h', CONTINUE_GLOBAL_DIR: '/c' }), ['/c']);
  });

  it('marks dev-data tokenizer counts as estimated, with a reason for hostile lines', () => {
    const r = parseLines(
      continueDev,
      [
        JSON.stringify({
          model: 'gpt-4o',
          promptTokens: 10,
          generatedTokens: 2,
          timestamp: '2025-11-03T09:12:00.000Z',
        }),
        JSON.stringify({ model: 'gpt-4o', promptTokens: 10, generatedTokens: 2 }),
        '{"model": "gpt-4o", "promptTok',
      ],
      { path: '/nowhere/dev_data/0.2.0/tokensGenerated.jsonl', root: '/nowhere' },
    );
    const [i] = interactions(r.records);
    assert.equal(i?.estimated, true);
    assert.deepEqual(r.rejected, ['timestamp missing or not a date', 'not JSON']);
  });

  describe('import', () => {
    const tmp = tempDirEach('ol-continue-');

    it('exact session usage plus earlier estimates (marked) equal the truth; a request is never counted twice', async () => {
      const project = repoFolder(path.join(tmp.dir, 'proj'));
      const fx = writeContinue(path.join(tmp.dir, 'cont'), project);
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      const env = { HOME: path.join(tmp.dir, 'home'), CONTINUE_GLOBAL_DIR: path.join(tmp.dir, 'cont') };
      await importExactly(ledger, env, 'continue', fx);
      const again = await importAll(ledger, { env, quietMs: 0 });
      assert.equal(again.bytesRead, 0);
      assert.deepEqual(ledgerSums(ledger.database, 'continue'), total(fx.truth));
      const files = ledger.database.exec(
        `SELECT ${sessionCwdSql()}, f.path FROM session_files f JOIN sessions s ON s.id = f.session_ref WHERE s.source = 'continue'`,
      )[0]?.values;
      assert.deepEqual(files, [[project, 'src/search.ts']]);
      ledger.close();
    });

    it('a session caught half-written and a half-written dev-data line wait; garbage once quiet is rejected with a reason and loses nothing', async () => {
      const cont = path.join(tmp.dir, 'cont');
      const fx = writeContinue(cont, path.join(tmp.dir, 'proj'));
      const env = { HOME: path.join(tmp.dir, 'home'), CONTINUE_GLOBAL_DIR: cont };
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      await importAll(ledger, { env, quietMs: 0 });
      const full = ledgerSums(ledger.database, 'continue');
      assert.deepEqual(full, total(fx.truth));
      // Continue rewrites a session while it saves it, and appends a dev-data line: both caught mid-write.
      const session = path.join(cont, 'sessions', 'c-exact.json');
      const text = fs.readFileSync(session, 'utf8');
      fs.writeFileSync(session, text.slice(0, Math.floor(text.length / 2)));
      const dev = path.join(cont, 'dev_data', '0.2.0', 'tokensGenerated.jsonl');
      fs.appendFileSync(
        dev,
        '{"model":"gpt-4o","promptTokens":900,"generatedTokens":40,"timestamp":"2025-11-03T09:30:00.000Z"',
      );
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
      assert.match(
        broken.sources.find((x) => x.source === 'continue')?.reasons.join('\n') ?? '',
        /c-exact\.json: not a whole JSON document/,
      );
      assert.equal(ledgerSums(ledger.database, 'continue').input, full.input + 900);
      ledger.close();
    });
  });
  describe('Continue 1.2.16 session files (snake_case usage) and unknown usage shapes', () => {
    const tmp = tempDirEach('ol-continue-snake-');

    const assistant = (usage: unknown): Record<string, unknown> => ({
      message: { role: 'assistant', content: 'ok', usage },
      contextItems: [],
    });
    function readSession(history: unknown[]): WholeResult {
      const file = write(
        path.join(tmp.dir, 'sessions', 's1.json'),
        JSON.stringify({ sessionId: 's1', title: 't', workspaceDirectory: '/w', history }),
      );
      const parser = continueDev.createParser({ source: 'continue', path: file, root: tmp.dir, whole: true }, null);
      const r = parser.parseWhole?.(fs.readFileSync(file), {
        openSqlite: () => {
          throw new Error('no sqlite');
        },
      });
      assert.ok(r && !('incomplete' in r));
      return r;
    }

    it('imports per-message {prompt_tokens, completion_tokens, total_tokens, model, cost_cents}: counts, model and cost', () => {
      const r = readSession([
        { message: { role: 'user', content: 'hi' }, contextItems: [] },
        assistant({
          prompt_tokens: 41_250,
          completion_tokens: 812,
          total_tokens: 42_062,
          model: 'claude-sonnet-4-5-20250929',
          cost_cents: 13.6,
        }),
        assistant({
          prompt_tokens: 9000,
          completion_tokens: 100,
          total_tokens: 9100,
          model: 'gpt-5',
          cost_cents: 0.4,
          prompt_tokens_details: { cached_tokens: 6000 },
        }),
      ]);
      assert.deepEqual(r.rejects, []);
      const list = interactions(r.records);
      assert.deepEqual(
        list.map((i) => i.tokens),
        [
          { input: 41_250, cacheRead: 0, cacheWrite: 0, output: 812, reasoning: 0 },
          { input: 3000, cacheRead: 6000, cacheWrite: 0, output: 100, reasoning: 0 },
        ],
      );
      assert.deepEqual(
        list.map((i) => i.model),
        ['claude-sonnet-4-5-20250929', 'gpt-5'],
      );
      assert.deepEqual(
        list.map((i) => i.recordedCostUSD),
        [0.136, 0.004],
      );
      assert.ok(list.every((i) => !i.modelAssumed && !i.estimated));
    });

    it('an unrecognised usage shape is a rejected entry with a reason, never a request of 0 tokens', () => {
      const r = readSession([
        assistant({ input_tokens: 500, output_tokens: 20 }),
        assistant({ prompt_tokens: 'many', completion_tokens: 2 }),
        assistant({ prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 }),
      ]);
      assert.deepEqual(
        r.rejects.map((x) => x.reason),
        [
          'history 1: usage in a shape Continue is not known to write (no promptTokens/completionTokens or prompt_tokens/completion_tokens)',
          'history 2: usage counts are not non-negative integers',
        ],
      );
      assert.deepEqual(
        interactions(r.records).map((i) => i.tokens.input),
        [10],
      );
    });

    it('all-zero usage is "not recorded": no request of 0 tokens (the estimate stands for it)', () => {
      const r = readSession([
        assistant({ promptTokens: 0, completionTokens: 0 }),
        assistant({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }),
      ]);
      assert.deepEqual(r.rejects, []);
      assert.deepEqual(interactions(r.records), []);
    });

    it('the estimate cut-off starts at the first session with exact NON-ZERO usage, camelCase or snake_case', async () => {
      const cont = path.join(tmp.dir, 'cont');
      const t = (iso: string): string => String(Date.parse(iso));
      write(
        path.join(cont, 'sessions', 'sessions.json'),
        JSON.stringify([
          { sessionId: 'zero', title: 'z', dateCreated: t('2026-01-10T09:00:00.000Z'), workspaceDirectory: '/w' },
          { sessionId: 'snake', title: 's', dateCreated: t('2026-03-01T09:00:00.000Z'), workspaceDirectory: '/w' },
        ]),
      );
      // A session that merely contains "promptTokens" (all zero) must not stop the estimates after it.
      write(
        path.join(cont, 'sessions', 'zero.json'),
        JSON.stringify({ sessionId: 'zero', history: [assistant({ promptTokens: 0, completionTokens: 0 })] }),
      );
      write(
        path.join(cont, 'sessions', 'snake.json'),
        JSON.stringify({
          sessionId: 'snake',
          history: [
            assistant({
              prompt_tokens: 7000,
              completion_tokens: 300,
              total_tokens: 7300,
              model: 'gpt-5',
              cost_cents: 1.2,
            }),
          ],
        }),
      );
      write(
        path.join(cont, 'dev_data', '0.2.0', 'tokensGenerated.jsonl'),
        [
          { model: 'gpt-4o', promptTokens: 1000, generatedTokens: 10, timestamp: '2026-01-05T09:00:00.000Z' },
          { model: 'gpt-4o', promptTokens: 2000, generatedTokens: 20, timestamp: '2026-02-05T09:00:00.000Z' }, // after the all-zero session: counted
          { model: 'gpt-5', promptTokens: 6900, generatedTokens: 290, timestamp: '2026-03-01T09:00:02.000Z' }, // the snake session holds it exactly
        ]
          .map((x) => JSON.stringify(x))
          .join('\n') + '\n',
      );
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      const s = await importAll(ledger, {
        env: { HOME: path.join(tmp.dir, 'home'), CONTINUE_GLOBAL_DIR: cont },
        quietMs: 0,
      });
      assert.equal(s.sources.find((x) => x.source === 'continue')?.linesRejected, 0);
      assert.deepEqual(ledgerSums(ledger.database, 'continue'), {
        input: 1000 + 2000 + 7000,
        output: 10 + 20 + 300,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        n: 3,
      });
      ledger.close();
    });
  });
});
