import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { fromGeminiTokens } from '../../src/core/usage/tokens';
import { geminiCli, GEMINI_DEFAULT_MODEL } from '../../src/sources/gemini';
import { Ledger } from '../../src/store/ledger';
import { total, writeGemini } from '../fixtures/sources';
import { interactions, ledgerSums, parseLines, tempDirEach, type ParsedLines } from '../helpers';
import { sessionCwdSql } from '../../src/store/paths';

const FILE = '/g/.gemini/tmp/app/chats/session-2026-04-10T09-00-bbbb2222.jsonl';
/** Gemini CLI lines of the conversation FILE, fed through the parser as the importer reads them. */
const parse = (...lines: string[]): ParsedLines => parseLines(geminiCli, lines, { path: FILE });
const meta = JSON.stringify({
  sessionId: 'sess-g',
  projectHash: 'h',
  startTime: '2026-04-10T09:00:00.000Z',
  lastUpdated: '2026-04-10T09:00:00.000Z',
});
const reply = (id: string, input: number, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    id,
    timestamp: '2026-04-10T09:00:10.000Z',
    type: 'gemini',
    content: 'x',
    model: 'gemini-2.5-pro',
    tokens: { input, output: 10, cached: 0, thoughts: 0, tool: 0, total: input + 10 },
    ...extra,
  });

describe('Gemini CLI reader', () => {
  it('normalises tokens: input includes cached, thoughts and tool prompt tokens are separate', () => {
    assert.deepEqual(fromGeminiTokens({ input: 1000, output: 100, cached: 600, thoughts: 40, tool: 25, total: 1165 }), {
      input: 425,
      cacheRead: 600,
      cacheWrite: 0,
      output: 140,
      reasoning: 40,
    });
    assert.equal(fromGeminiTokens({ input: -1, output: 1 }), undefined);
    assert.equal(fromGeminiTokens({ input: '5', output: 1 }), undefined);
  });

  it('honours GEMINI_CLI_HOME, else ~/.gemini', () => {
    assert.deepEqual(geminiCli.roots({ HOME: '/home/me' }), ['/home/me/.gemini']);
    assert.deepEqual(geminiCli.roots({ HOME: '/home/me', GEMINI_CLI_HOME: '/srv/gem' }), ['/srv/gem/.gemini']);
  });

  it('counts a reply re-appended on every update once, under one key (the last copy carries the tokens)', () => {
    const r = parse(
      meta,
      JSON.stringify({ id: 'a', timestamp: '2026-04-10T09:00:10.000Z', type: 'gemini', content: '' }),
      reply('a', 100),
      reply('a', 100, { content: 'done' }),
    );
    const list = interactions(r.records);
    assert.equal(new Set(list.map((i) => i.key)).size, 1);
    assert.equal(list[0]?.key, 'gemini-cli:sess-g:a');
    assert.equal(list[0]?.session.sessionId, 'sess-g');
  });

  it('$rewindTo drops that message and everything after it (retracting what was counted), even across reads', () => {
    const first = parse(
      meta,
      JSON.stringify({ id: 'u1', type: 'user', content: 'q', timestamp: '2026-04-10T09:00:00Z' }),
      reply('a', 100),
      reply('b', 200),
    );
    assert.equal(interactions(first.records).length, 2);
    // Next import resumes from the saved state and sees the rewind to the first user message.
    const second = parseLines(
      geminiCli,
      [JSON.stringify({ $rewindTo: 'u1' }), reply('c', 300)],
      { path: FILE },
      first.parser.state(),
    );
    assert.deepEqual(second.parser.retracted?.().sort(), ['gemini-cli:sess-g:a', 'gemini-cli:sess-g:b']);
    assert.deepEqual(
      interactions(second.records).map((i) => i.key),
      ['gemini-cli:sess-g:c'],
    );
  });

  it("a rewind to an id it never saw clears the conversation (as Gemini CLI's loader does)", () => {
    const r = parse(meta, reply('a', 100), JSON.stringify({ $rewindTo: 'nope' }));
    assert.deepEqual(r.parser.retracted?.(), ['gemini-cli:sess-g:a']);
  });

  it('$set patches metadata; $set.messages replaces the conversation without uncounting replies already made', () => {
    const r = parse(
      meta,
      reply('a', 100),
      JSON.stringify({ $set: { summary: 's', messages: [JSON.parse(reply('z', 50)) as unknown] } }),
      JSON.stringify({ $rewindTo: 'z' }),
    );
    assert.deepEqual(
      interactions(r.records).map((i) => i.key),
      ['gemini-cli:sess-g:a', 'gemini-cli:sess-g:z'],
    );
    assert.deepEqual(r.parser.retracted?.(), ['gemini-cli:sess-g:z']);
  });

  it('assumes the default model when a reply names none, and rejects hostile counts with a reason', () => {
    const r = parseLines(
      geminiCli,
      [
        meta,
        JSON.stringify({
          id: 'a',
          timestamp: '2026-04-10T09:00:10.000Z',
          type: 'gemini',
          tokens: { input: 5, output: 1, cached: 0, thoughts: 0, tool: 0, total: 6 },
        }),
        JSON.stringify({
          id: 'b',
          timestamp: '2026-04-10T09:00:10.000Z',
          type: 'gemini',
          model: 'm',
          tokens: { input: 'many', output: 1 },
        }),
        JSON.stringify({
          id: 'c',
          timestamp: 'yesterday',
          type: 'gemini',
          model: 'm',
          tokens: { input: 1, output: 1 },
        }),
        '{"id": "d", "type": "gem',
      ],
      { path: FILE },
    );
    const [i] = interactions(r.records);
    assert.equal(i?.model, GEMINI_DEFAULT_MODEL);
    assert.equal(i?.modelAssumed, true);
    assert.deepEqual(r.rejected, [
      'token counts are not non-negative integers',
      'timestamp missing or not a date',
      'not JSON',
    ]);
  });

  describe('import', () => {
    const tmp = tempDirEach('ol-gemini-');

    it('legacy .json, its migrated .jsonl copy, rewinds and subagents add up to the truth; re-import adds nothing', async () => {
      const projects = { legacy: path.join(tmp.dir, 'old-app'), current: path.join(tmp.dir, 'app') };
      const fx = writeGemini(path.join(tmp.dir, 'gh'), projects);
      const env = { HOME: path.join(tmp.dir, 'home'), GEMINI_CLI_HOME: path.join(tmp.dir, 'gh') };
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      const first = await importAll(ledger, { env, quietMs: 0 });
      const g = first.sources.find((s) => s.source === 'gemini-cli');
      assert.equal(g?.found, true);
      assert.equal(g?.interactionsAdded, fx.truth.length, 'a reply rewound in the same read is not reported as added');
      assert.equal(g?.linesRejected, fx.rejects);
      const want = total(fx.truth);
      assert.deepEqual(ledgerSums(ledger.database, 'gemini-cli'), want);
      const again = await importAll(ledger, { env, quietMs: 0 });
      assert.equal(again.sources.find((s) => s.source === 'gemini-cli')?.interactionsAdded, 0);
      assert.equal(again.bytesRead, 0);
      assert.deepEqual(ledgerSums(ledger.database, 'gemini-cli'), want);
      // Working folders came from .project_root and from projects.json (the legacy folder is named by the path's hash).
      const cwds = ledger.database
        .exec(`SELECT DISTINCT ${sessionCwdSql()} AS cwd FROM sessions s WHERE source = 'gemini-cli' ORDER BY cwd`)[0]
        ?.values.map((v) => v[0]);
      assert.deepEqual(cwds, [projects.current, projects.legacy].sort());
      ledger.close();
    });

    it('a rewind appended after an import removes the replies it dropped from the ledger', async () => {
      const chats = path.join(tmp.dir, 'gh', '.gemini', 'tmp', 'p', 'chats');
      fs.mkdirSync(chats, { recursive: true });
      const file = path.join(chats, 'session-x.jsonl');
      fs.writeFileSync(
        file,
        [
          meta,
          JSON.stringify({ id: 'u1', type: 'user', content: 'q', timestamp: '2026-04-10T09:00:00Z' }),
          reply('a', 100),
          reply('b', 200),
        ].join('\n') + '\n',
      );
      const env = { HOME: path.join(tmp.dir, 'home'), GEMINI_CLI_HOME: path.join(tmp.dir, 'gh') };
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      await importAll(ledger, { env, quietMs: 0 });
      assert.equal(ledgerSums(ledger.database, 'gemini-cli').n, 2);
      fs.appendFileSync(file, JSON.stringify({ $rewindTo: 'b' }) + '\n' + reply('c', 7) + '\n');
      await importAll(ledger, { env, quietMs: 0 });
      const after = ledgerSums(ledger.database, 'gemini-cli');
      assert.equal(after.n, 2);
      assert.equal(after.input, 107);
      // The usage rollup (what reports read) follows.
      const rolled = Number(ledger.database.exec('SELECT sum(input) FROM usage_rollup')[0]?.values[0]?.[0]);
      assert.equal(rolled, 107);
      ledger.close();
    });

    it('a legacy .json caught half-written is retried, not lost; once quiet and still broken it is rejected with a reason', async () => {
      const chats = path.join(tmp.dir, 'gh', '.gemini', 'tmp', 'p', 'chats');
      fs.mkdirSync(chats, { recursive: true });
      const file = path.join(chats, 'session-y.json');
      const doc = JSON.stringify(
        { sessionId: 'y', projectHash: 'h', messages: [JSON.parse(reply('a', 100)) as unknown] },
        null,
        2,
      );
      fs.writeFileSync(file, doc.slice(0, doc.length - 20));
      const env = { HOME: path.join(tmp.dir, 'home'), GEMINI_CLI_HOME: path.join(tmp.dir, 'gh') };
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      const busy = await importAll(ledger, { env, quietMs: 60_000 });
      assert.equal(busy.sources.find((s) => s.source === 'gemini-cli')?.linesRejected, 0);
      fs.writeFileSync(file, doc);
      await importAll(ledger, { env, quietMs: 60_000 });
      assert.equal(ledgerSums(ledger.database, 'gemini-cli').input, 100);
      fs.writeFileSync(file, '{"sessionId": "y", "messages": [');
      const broken = await importAll(ledger, { env, quietMs: 0 });
      const s = broken.sources.find((x) => x.source === 'gemini-cli');
      assert.equal(s?.linesRejected, 1);
      assert.match(s?.reasons[0] ?? '', /not a whole JSON document/);
      assert.equal(ledgerSums(ledger.database, 'gemini-cli').input, 100, 'what was read stays');
      ledger.close();
    });
  });
});
