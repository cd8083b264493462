import assert from 'node:assert/strict';
import { mapOtlp, MAX_ITEMS } from '../../src/core/usage/otlp';
import {
  attrs,
  claudeBody,
  claudePromptBody,
  codexBody,
  copilotBody,
  geminiBody,
  geminiMetricsBody,
  logsBody,
} from '../fixtures/otlp';

describe('OTLP mapping (core/usage/otlp)', () => {
  it('Claude Code api_request: string counts, Anthropic semantics (input excludes the cache), recorded cost, session', () => {
    const m = mapOtlp(
      'logs',
      claudeBody([
        {
          sessionId: 's-1',
          at: '2026-05-13T09:00:05.000Z',
          model: 'claude-sonnet-4-5',
          input: 12,
          output: 340,
          cacheRead: 20000,
          cacheWrite: 1500,
          cost: 0.0172,
        },
      ]),
    );
    assert.deepEqual(m.rejected, []);
    const [r] = m.records;
    assert.deepEqual(r?.tokens, { input: 12, output: 340, cacheRead: 20000, cacheWrite: 1500, reasoning: 0 });
    assert.equal(r?.model, 'claude-sonnet-4-5');
    assert.deepEqual(r?.session, { source: 'claude-code', sessionId: 's-1' });
    assert.equal(r?.timestamp, Date.parse('2026-05-13T09:00:05.000Z'));
    assert.equal(r?.recordedCostUSD, 0.0172);
    assert.equal(r?.viaOtlp, true);
  });

  it('Claude Code: a request id, when sent, is the key (a retried body dedupes by it)', () => {
    const a = mapOtlp(
      'logs',
      claudeBody([
        {
          sessionId: 's',
          at: '2026-05-13T09:00:05.000Z',
          model: 'm',
          input: 1,
          output: 2,
          cacheRead: 0,
          cacheWrite: 0,
          requestId: 'req_01',
        },
      ]),
    );
    assert.equal(a.records[0]?.key, 'claude-code:otlp:req_01');
  });

  it('Codex sse_event: only response.completed counts; OpenAI semantics (cached inside input, reasoning inside output)', () => {
    const m = mapOtlp(
      'logs',
      codexBody([
        {
          conversationId: 'conv-1',
          at: '2026-05-13T09:01:00.000Z',
          model: 'gpt-5-codex',
          input: 1000,
          cached: 250,
          output: 125,
          reasoning: 75,
        },
      ]),
    );
    assert.equal(m.records.length, 1);
    assert.equal(m.ignored, 1, 'response.created is not usage');
    assert.deepEqual(m.records[0]?.tokens, { input: 750, cacheRead: 250, cacheWrite: 0, output: 125, reasoning: 75 });
    assert.deepEqual(m.records[0]?.session, { source: 'codex', sessionId: 'conv-1' });
  });

  it("Gemini CLI api_response: the chat files' canonicalisation (input − cached + tool, output + thoughts)", () => {
    const m = mapOtlp(
      'logs',
      geminiBody([
        {
          sessionId: 'g-1',
          at: '2026-04-10T09:00:12.000Z',
          model: 'gemini-2.5-pro',
          input: 30000,
          output: 900,
          cached: 24000,
          thoughts: 50,
          tool: 120,
        },
      ]),
    );
    assert.deepEqual(m.records[0]?.tokens, {
      input: 6120,
      cacheRead: 24000,
      cacheWrite: 0,
      output: 950,
      reasoning: 50,
    });
    assert.equal(m.records[0]?.session.source, 'gemini-cli');
  });

  it('Gemini CLI token.usage metric: accepted, never recorded (a running sum of the same requests)', () => {
    const m = mapOtlp('metrics', geminiMetricsBody('g-1', 'gemini-2.5-pro', 30000));
    assert.deepEqual(m, { records: [], rejected: [], ignored: 1 });
  });

  it('Copilot CLI gen_ai chat spans: Copilot semantics, keyed like the OTel file export', () => {
    const m = mapOtlp(
      'traces',
      copilotBody([
        {
          traceId: 'ab12',
          spanId: 'cd34',
          conversationId: 'cp-1',
          end: '2026-05-01T10:00:00.000Z',
          model: 'claude-sonnet-4.5',
          input: 5000,
          output: 300,
          cacheRead: 4000,
        },
      ]),
    );
    assert.equal(m.records[0]?.key, 'copilot-cli:otel:ab12:cd34');
    assert.deepEqual(m.records[0]?.tokens, { input: 1000, output: 300, cacheRead: 4000, cacheWrite: 0, reasoning: 0 });
    assert.deepEqual(m.records[0]?.session, { source: 'copilot-cli', sessionId: 'cp-1' });
    // gen_ai spans of a service that is not Copilot are not ours to attribute.
    assert.equal(
      mapOtlp(
        'traces',
        copilotBody(
          [
            {
              traceId: 'a',
              spanId: 'b',
              conversationId: 'c',
              end: '2026-05-01T10:00:00.000Z',
              model: 'x',
              input: 1,
              output: 1,
              cacheRead: 0,
            },
          ],
          'some-app',
        ),
      ).records.length,
      0,
    );
  });

  it('prompt events are never read (their text is not stored, whatever they carry)', () => {
    const m = mapOtlp('logs', claudePromptBody('s-1', '2026-05-13T09:00:00.000Z', 'my secret prompt'));
    assert.deepEqual(m, { records: [], rejected: [], ignored: 1 });
  });

  it('hostile figures: absurd, negative, fractional, wrong-typed counts and costs are rejected with a reason, not stored', () => {
    const base = {
      'event.name': 'gemini_cli.api_response',
      'event.timestamp': '2026-04-10T09:00:12.000Z',
      'session.id': 'g',
      model: 'gemini-2.5-pro',
      output_token_count: 1,
    };
    const bad = [
      { input_token_count: { int: '99999999999999999999' } },
      { input_token_count: { int: '-5' } },
      { input_token_count: { double: 1.5 } },
      { input_token_count: 'lots' },
      { input_token_count: 2_000_000_000 },
      { input_token_count: { raw: { arrayValue: { values: [] } } } },
      { input_token_count: { double: Number.NaN } },
    ];
    const m = mapOtlp(
      'logs',
      logsBody(
        'gemini-cli',
        bad.map((b) => ({ attributes: { ...base, ...b } })),
      ),
    );
    assert.equal(m.records.length, 0);
    assert.equal(m.rejected.length, bad.length);
    assert.match(m.rejected[0] ?? '', /not integers from 0 to 10\^9/);
    const cost = mapOtlp(
      'logs',
      logsBody('claude-code', [
        {
          body: 'claude_code.api_request',
          attributes: {
            'event.timestamp': '2026-05-13T09:00:05.000Z',
            'session.id': 's',
            model: 'm',
            input_tokens: '1',
            output_tokens: '1',
            cost_usd: '1e300',
          },
        },
      ]),
    );
    assert.match(cost.rejected[0] ?? '', /cost_usd/);
    const time = mapOtlp(
      'logs',
      logsBody('claude-code', [
        {
          body: 'claude_code.api_request',
          time: '99999999999999999999',
          attributes: {
            'event.timestamp': 'yesterday',
            'session.id': 's',
            model: 'm',
            input_tokens: '1',
            output_tokens: '1',
          },
        },
      ]),
    );
    assert.match(time.rejected[0] ?? '', /time/);
  });

  it('hostile text: control characters, escape sequences and bidi overrides are removed from names and ids', () => {
    const m = mapOtlp(
      'logs',
      claudeBody([
        {
          sessionId: 's\u001b]8;;http://x\u0007-1\u202e',
          at: '2026-05-13T09:00:05.000Z',
          model: 'claude\u001b[31m-red\u0000',
          input: 1,
          output: 1,
          cacheRead: 0,
          cacheWrite: 0,
        },
      ]),
    );
    assert.equal(m.records[0]?.model, 'claude-red');
    assert.equal(m.records[0]?.session.sessionId, 's-1');
  });

  it('wrong shapes: not an object, arrays of junk, missing fields — nothing thrown, nothing recorded', () => {
    assert.deepEqual(mapOtlp('logs', [1, 2]).rejected, ['the body is not a JSON object']);
    assert.deepEqual(mapOtlp('logs', null).records, []);
    for (const body of [
      { resourceLogs: 'x' },
      {
        resourceLogs: [
          null,
          1,
          { scopeLogs: [{ logRecords: [null, 'x', { attributes: 'y' }, { attributes: [null, { key: 1 }] }] }] },
        ],
      },
      { resourceSpans: [{ scopeSpans: [{ spans: [{ attributes: attrs({ 'gen_ai.operation.name': 'chat' }) }] }] }] },
    ]) {
      assert.deepEqual(mapOtlp('logs', body).records, []);
      assert.deepEqual(mapOtlp('traces', body).records, []);
    }
  });

  it('reads at most MAX_ITEMS items of one body', () => {
    const many = logsBody(
      'x',
      Array.from({ length: MAX_ITEMS + 5 }, () => ({ attributes: { 'event.name': 'other' } })),
    );
    const m = mapOtlp('logs', many);
    assert.equal(m.ignored, MAX_ITEMS);
    assert.match(m.rejected[0] ?? '', /more than/);
  });
});
