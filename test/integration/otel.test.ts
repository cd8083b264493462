import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { importAll } from '../../src/services/importer';
import { DEFAULT_QUERY } from '../../src/core/sidebar/protocol';
import { dataHealth, renderHealth } from '../../src/services/health';
import { OtelPortBusyError, startOtelReceiver, type OtelReceiver } from '../../src/services/otel';
import { sidebarSnapshot } from '../../src/services/sidebar';
import { Ledger } from '../../src/store/ledger';
import { FLAG_OTLP } from '../../src/store/schema';
import { ledgerSums, tempDir } from '../helpers';
import {
  claudeBody,
  claudePromptBody,
  codexBody,
  copilotBody,
  geminiBody,
  geminiMetricsBody,
  type ClaudeRequest,
  type CodexResponse,
  type GeminiResponse,
} from '../fixtures/otlp';
import { codexUsage as usage, jsonl, write } from '../fixtures/sources';
import { CLI, cli, reportJson } from './cli';
import { sessionCwdSql } from '../../src/store/paths';

interface Posted {
  status: number;
  body: string;
}

/** A real HTTP POST to the receiver. */
function post(
  url: string,
  pathname: string,
  body: string | Buffer,
  headers: Record<string, string> = { 'content-type': 'application/json' },
  method = 'POST',
): Promise<Posted> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${pathname}`,
      { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) =>
      e.code === 'ECONNRESET' || e.code === 'EPIPE' ? resolve({ status: 0, body: e.code }) : reject(e),
    );
    req.end(body);
  });
}

const json = (v: unknown): string => JSON.stringify(v);

// ------------------------------------------------------------------------------------------ real logs of each tool

const CLAUDE_SESSION = '7b1f0c2e-4d5a-4e8f-9a6b-0c1d2e3f4a5b';
const CLAUDE_REQUESTS: ClaudeRequest[] = [
  {
    sessionId: CLAUDE_SESSION,
    at: '2026-05-13T09:00:05.000Z',
    model: 'claude-sonnet-4-5-20250929',
    input: 12,
    output: 340,
    cacheRead: 20000,
    cacheWrite: 1500,
    cost: 0.0172,
  },
  {
    sessionId: CLAUDE_SESSION,
    at: '2026-05-13T09:01:10.000Z',
    model: 'claude-sonnet-4-5-20250929',
    input: 8,
    output: 95,
    cacheRead: 21500,
    cacheWrite: 400,
    cost: 0.0094,
  },
];

/** Claude Code's project log for the same requests: one line per content block, the log line a second after the event. */
function writeClaudeLog(home: string, project: string): void {
  const lines = CLAUDE_REQUESTS.flatMap((r, i) => {
    const at = new Date(Date.parse(r.at) + 1000).toISOString();
    const message = (content: unknown[], output: number) => ({
      id: `msg_01${i}`,
      type: 'message',
      role: 'assistant',
      model: r.model,
      content,
      usage: {
        input_tokens: r.input,
        output_tokens: output,
        cache_read_input_tokens: r.cacheRead,
        cache_creation_input_tokens: r.cacheWrite,
        service_tier: 'standard',
      },
    });
    const common = {
      parentUuid: null,
      isSidechain: false,
      userType: 'external',
      cwd: project,
      sessionId: CLAUDE_SESSION,
      version: '2.0.14',
      gitBranch: 'feature/PAY-7',
      requestId: `req_01${i}`,
      type: 'assistant',
      timestamp: at,
    };
    return [
      // Streaming: the first block's line carries the output so far, the last the whole count.
      { ...common, uuid: `u-${i}-a`, message: message([{ type: 'text', text: 'Looking.' }], 1) },
      {
        ...common,
        uuid: `u-${i}-b`,
        message: message(
          [
            {
              type: 'tool_use',
              id: `t${i}`,
              name: 'Edit',
              input: { file_path: path.join(project, 'src/app.ts'), old_string: 'a', new_string: 'b' },
            },
          ],
          r.output,
        ),
      },
    ];
  });
  write(path.join(home, '.claude', 'projects', '-work-app', `${CLAUDE_SESSION}.jsonl`), jsonl(lines));
}

const CODEX_SESSION = '0197aaaa-bbbb-cccc-dddd-eeeeffff0000';
const CODEX_RESPONSES: CodexResponse[] = [
  {
    conversationId: CODEX_SESSION,
    at: '2026-05-13T10:01:00.000Z',
    model: 'gpt-5-codex',
    input: 1000,
    cached: 250,
    output: 125,
    reasoning: 75,
  },
  {
    conversationId: CODEX_SESSION,
    at: '2026-05-13T10:03:00.000Z',
    model: 'gpt-5-codex',
    input: 2000,
    cached: 800,
    output: 200,
    reasoning: 50,
  },
];

/** Codex's rollout for the same responses: cumulative token_count events. */
function writeCodexLog(home: string, project: string): void {
  let total = usage(0, 0, 0, 0);
  const events = CODEX_RESPONSES.map((r) => {
    const last = usage(r.input, r.cached, r.output, r.reasoning);
    total = usage(
      total.input_tokens + r.input,
      total.cached_input_tokens + r.cached,
      total.output_tokens + r.output,
      total.reasoning_output_tokens + r.reasoning,
    );
    return {
      timestamp: new Date(Date.parse(r.at) + 500).toISOString(),
      type: 'event_msg',
      payload: { type: 'token_count', info: { total_token_usage: total, last_token_usage: last } },
    };
  });
  write(
    path.join(home, '.codex', 'sessions', '2026', '05', '13', `rollout-2026-05-13T10-00-00-${CODEX_SESSION}.jsonl`),
    jsonl([
      {
        timestamp: '2026-05-13T10:00:00.000Z',
        type: 'session_meta',
        payload: { id: CODEX_SESSION, cwd: project, cli_version: '0.46.0', git: { branch: 'main' } },
      },
      {
        timestamp: '2026-05-13T10:00:01.000Z',
        type: 'turn_context',
        payload: { cwd: project, model: 'gpt-5-codex', effort: 'medium' },
      },
      ...events,
    ]),
  );
}

const GEMINI_SESSION = 'bbbb2222-3333-4444-5555-666677778888';
const GEMINI_RESPONSES: GeminiResponse[] = [
  {
    sessionId: GEMINI_SESSION,
    at: '2026-04-10T09:00:12.000Z',
    model: 'gemini-2.5-pro',
    input: 8000,
    output: 600,
    cached: 0,
    thoughts: 250,
    tool: 0,
  },
  {
    sessionId: GEMINI_SESSION,
    at: '2026-04-10T09:02:30.000Z',
    model: 'gemini-2.5-flash',
    input: 30000,
    output: 900,
    cached: 24000,
    thoughts: 0,
    tool: 120,
  },
];

/** Gemini CLI's chat file (current .jsonl layout) for the same replies. */
function writeGeminiLog(home: string, project: string): void {
  const dir = path.join(home, '.gemini', 'tmp', 'app');
  write(path.join(dir, '.project_root'), project);
  write(
    path.join(dir, 'chats', 'session-2026-04-10T09-00-bbbb2222.jsonl'),
    jsonl([
      {
        sessionId: GEMINI_SESSION,
        projectHash: 'h',
        startTime: '2026-04-10T09:00:00.000Z',
        lastUpdated: '2026-04-10T09:00:00.000Z',
        kind: 'main',
      },
      ...GEMINI_RESPONSES.flatMap((r, i) => [
        {
          id: `u${i}`,
          timestamp: new Date(Date.parse(r.at) - 5000).toISOString(),
          type: 'user',
          content: [{ text: 'Fix it' }],
        },
        {
          id: `g${i}`,
          timestamp: r.at,
          type: 'gemini',
          content: 'Done.',
          model: r.model,
          tokens: {
            input: r.input,
            output: r.output,
            cached: r.cached,
            thoughts: r.thoughts,
            tool: r.tool,
            total: r.input + r.output + r.thoughts + r.tool,
          },
        },
      ]),
    ]),
  );
}

const sum = <T>(list: T[], f: (t: T) => number): number => list.reduce((a, t) => a + f(t), 0);

/** The canonical totals of each tool's requests (the readers' canonicalisation). */
const TRUTH = {
  'claude-code': {
    input: sum(CLAUDE_REQUESTS, (r) => r.input),
    output: sum(CLAUDE_REQUESTS, (r) => r.output),
    cacheRead: sum(CLAUDE_REQUESTS, (r) => r.cacheRead),
    cacheWrite: sum(CLAUDE_REQUESTS, (r) => r.cacheWrite),
    n: 2,
  },
  codex: {
    input: sum(CODEX_RESPONSES, (r) => r.input - r.cached),
    output: sum(CODEX_RESPONSES, (r) => r.output),
    cacheRead: sum(CODEX_RESPONSES, (r) => r.cached),
    cacheWrite: 0,
    n: 2,
  },
  'gemini-cli': {
    input: sum(GEMINI_RESPONSES, (r) => r.input - r.cached + r.tool),
    output: sum(GEMINI_RESPONSES, (r) => r.output + r.thoughts),
    cacheRead: sum(GEMINI_RESPONSES, (r) => r.cached),
    cacheWrite: 0,
    n: 2,
  },
} as const;

const BODIES = {
  'claude-code': claudeBody(CLAUDE_REQUESTS),
  codex: codexBody(CODEX_RESPONSES),
  'gemini-cli': geminiBody(GEMINI_RESPONSES),
} as const;
const TOOLS = ['claude-code', 'codex', 'gemini-cli'] as const;

function assertTruth(ledger: Ledger, source: (typeof TOOLS)[number], label: string): void {
  const s = ledgerSums(ledger.database, source);
  const t = TRUTH[source];
  assert.deepEqual(
    { input: s.input, output: s.output, cacheRead: s.cacheRead, cacheWrite: s.cacheWrite, n: s.n },
    t,
    `${source}: ${label}`,
  );
}

function otlpRows(ledger: Ledger): number {
  return Number(
    ledger.database.exec(`SELECT count(*) FROM interactions WHERE (flags & ${FLAG_OTLP}) != 0`)[0]?.values[0]?.[0] ?? 0,
  );
}

describe('OpenTelemetry receiver (a real server on an ephemeral port)', function () {
  this.timeout(60_000);
  let home: string;
  let world: string;
  let ledger: Ledger;
  let receiver: OtelReceiver;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    world = tempDir('ol-otel-');
    home = path.join(world, 'ledger');
    env = { HOME: world };
    ledger = await Ledger.open(home);
    receiver = await startOtelReceiver(ledger, { port: 0 });
  });

  afterEach(async () => {
    await receiver.close();
    ledger.close();
    fs.rmSync(world, { recursive: true, force: true });
  });

  it("records each tool's requests exactly, and a body sent again adds nothing", async () => {
    for (const tool of TOOLS) {
      const r = await post(receiver.url, '/v1/logs', json(BODIES[tool]));
      assert.deepEqual([r.status, r.body], [200, '{}'], tool);
      assertTruth(ledger, tool, 'received');
    }
    const copilot = copilotBody([
      {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        conversationId: 'cp-1',
        end: '2026-05-01T10:00:00.000Z',
        model: 'claude-sonnet-4.5',
        input: 5000,
        output: 300,
        cacheRead: 4000,
      },
    ]);
    assert.equal((await post(receiver.url, '/v1/traces', json(copilot))).status, 200);
    assert.deepEqual(ledgerSums(ledger.database, 'copilot-cli'), {
      input: 1000,
      output: 300,
      cacheRead: 4000,
      cacheWrite: 0,
      reasoning: 0,
      n: 1,
    });
    const metrics = await post(
      receiver.url,
      '/v1/metrics',
      json(geminiMetricsBody(GEMINI_SESSION, 'gemini-2.5-pro', 38000)),
    );
    assert.deepEqual([metrics.status, metrics.body], [200, '{}']);
    for (const tool of TOOLS) await post(receiver.url, '/v1/logs', json(BODIES[tool]));
    for (const tool of TOOLS) assertTruth(ledger, tool, 'sent twice');
    assert.equal(receiver.stats.recorded, 7);
    assert.equal(receiver.stats.duplicates, 6);
  });

  it('a prompt event is answered and nothing of its text is stored', async () => {
    const r = await post(
      receiver.url,
      '/v1/logs',
      json(claudePromptBody(CLAUDE_SESSION, '2026-05-13T09:00:00.000Z', 'PROMPT-SECRET-42')),
    );
    assert.equal(r.status, 200);
    await ledger.compact();
    for (const f of fs.readdirSync(home))
      assert.ok(!fs.readFileSync(path.join(home, f)).includes('PROMPT-SECRET-42'), f);
  });

  for (const order of ['log first', 'OTLP first'] as const) {
    it(`the same requests from the log files and over OTLP count once (${order})`, async () => {
      const project = path.join(world, 'work', 'app');
      fs.mkdirSync(project, { recursive: true });
      writeClaudeLog(world, project);
      writeCodexLog(world, project);
      writeGeminiLog(world, project);
      if (order === 'log first') await importAll(ledger, { env });
      for (const tool of TOOLS) assert.equal((await post(receiver.url, '/v1/logs', json(BODIES[tool]))).status, 200);
      if (order === 'OTLP first') {
        for (const tool of TOOLS) assertTruth(ledger, tool, 'received before the import');
        await importAll(ledger, { env });
      }
      for (const tool of TOOLS) assertTruth(ledger, tool, order);
      // The log copies won: they know the folder (and Claude's edits); nothing is left marked as received over OTLP.
      assert.equal(otlpRows(ledger), 0);
      const cwd = ledger.database.exec(`SELECT ${sessionCwdSql()} FROM sessions s WHERE source = 'claude-code'`)[0]
        ?.values[0]?.[0];
      assert.equal(cwd, project);
      // Again, both ways: still once.
      await importAll(ledger, { env });
      for (const tool of TOOLS) await post(receiver.url, '/v1/logs', json(BODIES[tool]));
      for (const tool of TOOLS) assertTruth(ledger, tool, `${order}, then both again`);
    });
  }

  it('data health counts what came via OTLP and shows the receiver', async () => {
    await post(receiver.url, '/v1/logs', json(BODIES['claude-code']));
    await receiver.close();
    const h = dataHealth(ledger.database, ledger.paths.file, { env });
    const claude = h.sources.find((s) => s.source === 'claude-code');
    assert.equal(claude?.viaOtlp, 2);
    assert.equal(claude?.found, true);
    assert.equal(h.otel?.recorded, 2);
    assert.equal(h.otel?.host, '127.0.0.1');
    assert.match(h.otel?.stopped ?? '', /^\d{4}-\d\d-\d\dT/, 'the status says the receiver stopped');
    const text = renderHealth(h);
    assert.match(
      text,
      /2 requests read via OTLP \(the OpenTelemetry receiver, exact counts\) that no log file has given yet/,
    );
    assert.match(
      text,
      /## OpenTelemetry receiver\n- stopped \S+ \(listened on 127\.0\.0\.1:\d+ from \S+\)\n- 1 body accepted, 0 refused; 2 requests recorded/,
    );
    // The sidebar's data-health card carries the same: per tool, and the receiver.
    const s = sidebarSnapshot(ledger.database, {
      timeZone: 'UTC',
      query: DEFAULT_QUERY,
      health: { ledgerFile: ledger.paths.file, env },
    });
    assert.equal(s.health.sources.find((x) => x.source === 'claude-code')?.viaOtlp, 2);
    assert.deepEqual(
      [s.health.otel?.address, s.health.otel?.recorded, s.health.otel?.bodies, typeof s.health.otel?.stopped],
      [`127.0.0.1:${receiver.port}`, 2, 1, 'string'],
    );
  });

  it('data health says the receiver is listening while it runs', async () => {
    const h = dataHealth(ledger.database, ledger.paths.file, { env });
    assert.equal(h.otel?.stopped, undefined);
    assert.match(renderHealth(h), new RegExp(`- listening on 127\\.0\\.0\\.1:${receiver.port} since `));
    const s = sidebarSnapshot(ledger.database, {
      timeZone: 'UTC',
      query: DEFAULT_QUERY,
      health: { ledgerFile: ledger.paths.file, env },
    });
    assert.equal(s.health.otel?.stopped, null);
  });

  it('hostile bodies get a clear answer and the receiver keeps serving', async () => {
    const url = receiver.url;
    const answers = [
      ['huge', await post(url, '/v1/logs', Buffer.alloc(9 << 20, 0x20))],
      [
        'gzip bomb',
        await post(url, '/v1/logs', zlib.gzipSync(Buffer.alloc(64 << 20, 0x20)), {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        }),
      ],
      ['not JSON', await post(url, '/v1/logs', '{"resourceLogs": [')],
      ['deep JSON', await post(url, '/v1/logs', `${'['.repeat(200_000)}${']'.repeat(200_000)}`)],
      [
        'deep object',
        await post(url, '/v1/logs', `{"resourceLogs":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`),
      ],
      [
        'protobuf',
        await post(url, '/v1/logs', Buffer.from([0x0a, 0x02, 0x08, 0x01]), {
          'content-type': 'application/x-protobuf',
        }),
      ],
      ['text/plain', await post(url, '/v1/logs', '{}', { 'content-type': 'text/plain' })],
      ['GET', await post(url, '/v1/logs', '', {}, 'GET')],
      ['unknown path', await post(url, '/v2/logs', '{}')],
      [
        'other Host',
        await post(url, '/v1/logs', '{}', { 'content-type': 'application/json', host: 'attacker.example:4318' }),
      ],
      [
        'bad gzip',
        await post(url, '/v1/logs', 'not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
      ],
      ['brotli', await post(url, '/v1/logs', '{}', { 'content-type': 'application/json', 'content-encoding': 'br' })],
    ] as const;
    const status = Object.fromEntries(answers.map(([what, r]) => [what, r.status]));
    assert.deepEqual(status, {
      huge: 413,
      'gzip bomb': 413,
      'not JSON': 400,
      'deep JSON': 400,
      'deep object': 200,
      protobuf: 415,
      'text/plain': 415,
      GET: 405,
      'unknown path': 404,
      'other Host': 403,
      'bad gzip': 400,
      brotli: 415,
    });
    assert.match(answers[5][1].body, /JSON only.*http\/json/);
    // Figures out of bounds and wrong types: a partial success naming the reason; nothing stored.
    const bad = claudeBody([
      {
        sessionId: 's',
        at: '2026-05-13T09:00:05.000Z',
        model: 'm\u001b[2J',
        input: 1e12,
        output: 1,
        cacheRead: 0,
        cacheWrite: 0,
      },
    ]);
    const partial = await post(url, '/v1/logs', json(bad));
    assert.equal(partial.status, 200);
    const ps = (JSON.parse(partial.body) as { partialSuccess: { rejectedLogRecords: number; errorMessage: string } })
      .partialSuccess;
    assert.equal(ps.rejectedLogRecords, 1);
    assert.match(ps.errorMessage, /not integers from 0 to 10\^9/);
    assert.equal(ledgerSums(ledger.database, 'claude-code').n, 0);
    // Still serving, and still exact.
    assert.equal((await post(url, '/v1/logs', json(BODIES.codex))).status, 200);
    assertTruth(ledger, 'codex', 'after the hostile bodies');
    // A gzip body of the real thing is read.
    assert.equal(
      (
        await post(url, '/v1/logs', zlib.gzipSync(json(BODIES['gemini-cli'])), {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        })
      ).status,
      200,
    );
    assertTruth(ledger, 'gemini-cli', 'gzip');
  });

  it('a slow sender is cut off by the request timeout', async () => {
    await receiver.close();
    receiver = await startOtelReceiver(ledger, { port: 0, requestTimeoutMs: 500 });
    const started = Date.now();
    const r = await new Promise<number>((resolve) => {
      const req = http.request(
        `${receiver.url}/v1/logs`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' } },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', () => resolve(0));
      req.write('{"resourceLogs":'); // and never the rest
    });
    assert.ok(r === 408 || r === 0, `answered ${r}`);
    assert.ok(Date.now() - started < 10_000);
  });

  it('forwards every accepted body unchanged to the collector, never delaying or failing the local answer', async () => {
    const got: Array<{ path: string; type: string; encoding: string; body: Buffer }> = [];
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got.push({
          path: req.url ?? '',
          type: String(req.headers['content-type']),
          encoding: String(req.headers['content-encoding'] ?? ''),
          body: Buffer.concat(chunks),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const port = (collector.address() as { port: number }).port;
    await receiver.close();
    receiver = await startOtelReceiver(ledger, { port: 0, forwardUrl: `http://127.0.0.1:${port}/v1/logs` });
    const logs = Buffer.from(`${json(BODIES['claude-code'])}\n  `); // bytes exactly as sent, whitespace and all
    const traces = zlib.gzipSync(
      json(
        copilotBody([
          {
            traceId: 'ab',
            spanId: 'cd',
            conversationId: 'c',
            end: '2026-05-01T10:00:00.000Z',
            model: 'gpt-5',
            input: 10,
            output: 2,
            cacheRead: 0,
          },
        ]),
      ),
    );
    assert.equal((await post(receiver.url, '/v1/logs', logs)).status, 200);
    assert.equal(
      (
        await post(receiver.url, '/v1/traces', traces, {
          'content-type': 'application/json; charset=utf-8',
          'content-encoding': 'gzip',
        })
      ).status,
      200,
    );
    assert.equal((await post(receiver.url, '/v1/logs', 'garbage')).status, 400);
    await receiver.close(); // waits for the forwards in flight
    collector.close();
    assert.equal(got.length, 2, 'the refused body is not forwarded');
    assert.deepEqual(
      got.map((g) => [g.path, g.type, g.encoding]),
      [
        ['/v1/logs', 'application/json', ''],
        ['/v1/traces', 'application/json; charset=utf-8', 'gzip'],
      ],
    );
    assert.ok(got[0]?.body.equals(logs), 'byte-identical');
    assert.ok(got[1]?.body.equals(traces), 'byte-identical, still compressed');
    assert.equal(receiver.stats.forwarded, 2);
    // A collector that is down: the local answer is still 200 at once; the failure is counted and shown, not retried.
    const dead = await startOtelReceiver(ledger, { port: 0, forwardUrl: `http://127.0.0.1:${port}` });
    const t0 = Date.now();
    assert.equal((await post(dead.url, '/v1/logs', json(BODIES.codex))).status, 200);
    assert.ok(Date.now() - t0 < 2000);
    await dead.close();
    assert.equal(dead.stats.forwardFailed, 1);
    assert.match(dead.stats.lastForwardError ?? '', /ECONNREFUSED/);
    assert.equal(dataHealth(ledger.database, ledger.paths.file, { env }).otel?.forwardFailed, 1);
  });

  it('a second receiver on the same port finds it busy and says so', async () => {
    await assert.rejects(
      startOtelReceiver(ledger, { port: receiver.port }),
      (e: Error) => e instanceof OtelPortBusyError && /already in use/.test(e.message),
    );
    await assert.rejects(startOtelReceiver(ledger, { port: 0, host: '0.0.0.0' }), /127\.0\.0\.1 only/);
  });
});

describe('otel serve through dist/cli.js', function () {
  this.timeout(60_000);

  it('listens, records what is posted, stops cleanly on Ctrl-C, and report --json shows the counts', async () => {
    const world = tempDir('ol-otel-cli-');
    const home = path.join(world, 'ledger');
    const env = { HOME: world, TZ: 'UTC' };
    try {
      const child = spawn(process.execPath, [CLI, 'otel', 'serve', '--port', '0', '--home', home], {
        env: { PATH: process.env.PATH ?? '', ...env },
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.on('exit', () => reject(new Error(`exited: ${err}`)));
      });
      assert.match(out, /Claude Code, Codex CLI, Gemini CLI and Copilot CLI.*OTEL_EXPORTER_OTLP_PROTOCOL=http\/json/);
      for (const tool of TOOLS) assert.equal((await post(url, '/v1/logs', json(BODIES[tool]))).status, 200);
      const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGINT');
      assert.equal(await exit, 0, err);
      assert.match(out, /Stopped: 6 requests recorded/);
      const report = reportJson(home, env, ['--since', '2026-01-01', '--no-import']);
      for (const tool of TOOLS) {
        const row = report.bySource.find((s) => s.source === tool);
        assert.deepEqual(
          [row?.input, row?.output, row?.cacheRead, row?.interactions],
          [TRUTH[tool].input, TRUTH[tool].output, TRUTH[tool].cacheRead, 2],
          tool,
        );
      }
      const health = cli(['health', '--format', 'md', '--home', home], env);
      assert.match(health.stdout, /2 requests read via OTLP/);
      assert.match(health.stdout, /## OpenTelemetry receiver/);
      // Mistakes in the call: one line, exit 2.
      const bad = cli(['otel', 'serve', '--port', '99999', '--home', home], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /port must be a whole number/);
      assert.equal(cli(['otel', 'serve', '--forward', 'ftp://x', '--home', home], env).code, 2);
      assert.equal(cli(['otel', 'listen', '--home', home], env).code, 2);
    } finally {
      fs.rmSync(world, { recursive: true, force: true });
    }
  });
});
