import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copilotWorkspace, writeCopilotJsonl, type CopilotRequestSpec } from '../../src/demo/copilot';
import { importAll } from '../../src/services/importer';
import { exactPerRequest, type TraceCall } from '../../src/sources/copilotOtel';
import { estimateTokens } from '../../src/sources/tokenize';
import { Ledger } from '../../src/store/ledger';
import { COPILOT_T0 as T0, copilotRequest, sqlite3, writeCopilotTraces } from '../fixtures/sources';
import { repoFolder, tempDirEach } from '../helpers';

const req = (n: number, over: Partial<CopilotRequestSpec> = {}): CopilotRequestSpec =>
  copilotRequest(n, { modelId: 'copilot/auto', ...over });

interface Row {
  model: string;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  estimated: boolean;
}

function rows(ledger: Ledger): Row[] {
  const r = ledger.database.exec(
    "SELECT m.name, i.input, i.output, i.cache_read, i.cache_write, i.reasoning, i.flags FROM interactions i JOIN sessions s ON s.id = i.session_ref JOIN models m ON m.id = i.model_ref WHERE s.source = 'copilot-chat' ORDER BY i.ts",
  );
  return (r[0]?.values ?? []).map((v) => ({
    model: String(v[0]),
    input: Number(v[1]),
    output: Number(v[2]),
    cacheRead: Number(v[3]),
    cacheWrite: Number(v[4]),
    reasoning: Number(v[5]),
    estimated: (Number(v[6]) & 4) !== 0,
  }));
}

describe('Copilot Chat exact counts from its OpenTelemetry store (agent-traces.db)', () => {
  const tmp = tempDirEach('ol-copilot-otel-');

  it('gives each call to the request running when it started; calls before the first request belong to none; the model is the one that took most tokens', () => {
    const call = (start: number, model: string, input: number): TraceCall => ({
      spanId: String(start),
      start,
      end: start + 5,
      model,
      tokens: { input, output: 10, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    });
    const got = exactPerRequest(
      [call(5, 'a', 100), call(10, 'b', 1), call(12, 'a', 50), call(25, 'c', 7), call(31, 'd', 9)],
      [10, 20, undefined, 30],
    );
    assert.deepEqual(
      got.map((e) => e && [e.tokens.input, e.tokens.output, e.calls, e.model, e.timestamp]),
      [[51, 20, 2, 'a', 17], [7, 10, 1, 'c', 30], undefined, [9, 10, 1, 'd', 36]],
    );
  });

  it("replaces the estimate of the same request with the exact per-request sum (and the session file's own count when the calls add up to more): counted once; a request without calls keeps its estimate; re-import adds nothing; pruned calls do not bring the estimate back", async () => {
    const config = path.join(tmp.dir, 'config');
    const user = path.join(config, 'Code', 'User');
    const project = repoFolder(path.join(tmp.dir, 'app'));
    const chatDir = copilotWorkspace(user, 'ws-1', project);
    const r1 = req(1, { style: 'none' });
    const r3 = req(3, { style: 'none' });
    const spec = { sessionId: 'sess-o', creationDate: T0, requests: [r1, req(2), r3] };
    const file = writeCopilotJsonl(chatDir, spec);
    const env = { HOME: path.join(tmp.dir, 'home'), XDG_CONFIG_HOME: config };
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    await importAll(ledger, { env, quietMs: 0 });
    const estimate = (r: CopilotRequestSpec): { input: number; output: number } => ({
      input: estimateTokens(r.prompt),
      output: estimateTokens(r.reply),
    });
    assert.deepEqual(
      rows(ledger).map((r) => [r.input, r.output, r.estimated]),
      [
        [estimate(r1).input, estimate(r1).output, true],
        [2000, 200, false],
        [estimate(r3).input, estimate(r3).output, true],
      ],
    );

    // The store is switched on: Copilot Chat's calls of this session, with the ones to leave out.
    writeCopilotTraces(user, [
      { spanId: 'c0', session: 'sess-o', start: T0 + 1000, model: 'gpt-4o-mini', input: 900, output: 20 }, // before the first request: a title call
      {
        spanId: 'c1',
        session: 'sess-o',
        start: T0 + 61_000,
        model: 'gpt-5',
        input: 5000,
        cached: 3000,
        creation: 500,
        output: 200,
        reasoning: 50,
      },
      {
        spanId: 'a1',
        session: 'sess-o',
        start: T0 + 60_500,
        operation: 'invoke_agent',
        model: 'gpt-5',
        input: 11000,
        cached: 8000,
        output: 500,
      }, // repeats its calls
      { spanId: 'c2', session: 'sess-o', start: T0 + 70_000, model: 'gpt-5', input: 6000, cached: 5000, output: 300 },
      { spanId: 'c3', session: 'sess-o', start: T0 + 125_000, model: 'claude-sonnet-4', input: 9000, output: 400 }, // all its rounds: more than the file's count
      {
        spanId: 'c4',
        session: 'sess-o',
        start: T0 + 126_000,
        model: 'claude-sonnet-4',
        input: 100,
        cached: 400,
        output: 1,
      }, // impossible: rejected
      { spanId: 'c5', session: 'sess-o', start: T0 + 127_000, model: 'claude-sonnet-4', input: 'lots', output: 1 }, // not a count: rejected
      { spanId: 'x1', session: 'sess-other', start: T0 + 61_000, model: 'gpt-5', input: 777, output: 7 }, // another chat session
    ]);
    const s = await importAll(ledger, { env, quietMs: 0 });
    const summary = s.sources.find((x) => x.source === 'copilot-chat');
    assert.match(
      summary?.reasons.join('\n') ?? '',
      /agent-traces\.db span c4: cached tokens \(400\) exceed the input tokens \(100\)/,
    );
    assert.match(
      summary?.reasons.join('\n') ?? '',
      /agent-traces\.db span c5: token counts are not non-negative integers/,
    );
    const exact = [
      {
        model: 'gpt-5',
        input: 5000 - 3000 - 500 + 6000 - 5000,
        output: 500,
        cacheRead: 8000,
        cacheWrite: 500,
        reasoning: 50,
        estimated: false,
      },
      {
        model: 'claude-sonnet-4',
        input: 9000,
        output: 400,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        estimated: false,
      },
      {
        model: 'auto',
        input: estimate(r3).input,
        output: estimate(r3).output,
        cacheRead: 0,
        cacheWrite: 0,
        reasoning: 0,
        estimated: true,
      },
    ];
    assert.deepEqual(rows(ledger), exact);
    assert.equal((await importAll(ledger, { env, quietMs: 0 })).bytesRead, 0);

    // Seven days on, Copilot Chat pruned its calls; the session gains a request: what was exact stays exact.
    sqlite3(
      path.join(user, 'globalStorage', 'github.copilot-chat', 'agent-traces.db'),
      'DELETE FROM span_attributes; DELETE FROM spans;',
    );
    writeCopilotJsonl(chatDir, { ...spec, requests: [...spec.requests, req(4)] });
    await importAll(ledger, { env, quietMs: 0 });
    assert.deepEqual(rows(ledger).slice(0, 3), exact);
    assert.equal(rows(ledger).length, 4);
    assert.ok(fs.existsSync(file));
    ledger.close();
  });

  it('a store that is a FIFO or not a database is named in the import summary; the estimate stands; once readable its counts replace it', async () => {
    const config = path.join(tmp.dir, 'config');
    const user = path.join(config, 'Code', 'User');
    const project = repoFolder(path.join(tmp.dir, 'app'));
    const r1 = req(1, { style: 'none' });
    writeCopilotJsonl(copilotWorkspace(user, 'ws-1', project), {
      sessionId: 'sess-f',
      creationDate: T0,
      requests: [r1],
    });
    const env = { HOME: path.join(tmp.dir, 'home'), XDG_CONFIG_HOME: config };
    const store = path.join(user, 'globalStorage', 'github.copilot-chat', 'agent-traces.db');
    fs.mkdirSync(path.dirname(store), { recursive: true });
    execFileSync('mkfifo', [store]);
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const reasons = async (): Promise<string> =>
      (await importAll(ledger, { env, quietMs: 0 })).sources
        .find((x) => x.source === 'copilot-chat')
        ?.reasons.join('\n') ?? '';
    const estimate = [estimateTokens(r1.prompt), estimateTokens(r1.reply), true];
    assert.match(
      await reasons(),
      /agent-traces\.db: not a regular file \(a named pipe\) \(its exact counts for this session are not read/,
    );
    assert.deepEqual(
      rows(ledger).map((r) => [r.input, r.output, r.estimated]),
      [estimate],
    );
    fs.rmSync(store);
    fs.writeFileSync(store, 'SQLite format 3\u0000garbage');
    assert.match(await reasons(), /agent-traces\.db: not a readable agent-traces database right now/);
    assert.deepEqual(
      rows(ledger).map((r) => [r.input, r.output, r.estimated]),
      [estimate],
    );
    fs.rmSync(store);
    writeCopilotTraces(user, [
      { spanId: 'c1', session: 'sess-f', start: T0 + 61_000, model: 'gpt-5', input: 900, output: 40 },
    ]);
    assert.equal(await reasons(), '');
    assert.deepEqual(
      rows(ledger).map((r) => [r.input, r.output, r.estimated]),
      [[900, 40, false]],
    );
    ledger.close();
  });
});
