/**
 * Garbage lines (not JSON, truncated JSON, wrong-typed usage, unknown shapes) injected into log files; they never
 * change the truth, and the world records each one.
 */
import type { Rng } from '../rng';
import type { BadLineKind, TruthSource } from '../truth';
import { CLAUDE_SONNET } from '../claude';
import type { Builder } from './builder';

export function injectBad(
  b: Builder,
  r: Rng,
  source: TruthSource,
  file: string,
  lines: string[],
  n: number,
  t: number,
): string[] {
  if (n <= 0) return lines;
  const out = lines.slice();
  for (let k = 0; k < n; k++) {
    const kinds: BadLineKind[] = ['not-json', 'truncated-json', 'wrong-type', 'unknown-shape'];
    const kind = kinds[k % kinds.length] ?? 'not-json';
    const line = makeBadLine(r, source, kind, t);
    out.splice(r.int(1, out.length), 0, line);
    b.badLineDetails.push({ file, kind, line });
  }
  b.trap('bad-lines', file);
  return out;
}

function makeBadLine(r: Rng, source: TruthSource, kind: BadLineKind, t: number): string {
  const ts = new Date(t).toISOString();
  if (kind === 'not-json') {
    return r.pick([
      'this is not json',
      '<<<<<<< HEAD',
      'Error: ENOSPC: no space left on device, write',
      '{{{{',
      'undefined',
      '\u0007\u001b[31mgarbage\u001b[0m',
    ]);
  }
  if (source === 'claude-code') {
    const msg = (output: unknown, input: unknown = r.int(1, 9)): string =>
      JSON.stringify({
        parentUuid: null,
        isSidechain: false,
        userType: 'external',
        cwd: '/tmp/bad',
        sessionId: r.uuid4(),
        version: '2.0.37',
        gitBranch: '',
        message: {
          model: CLAUDE_SONNET,
          id: `msg_01BAD${r.base62(18)}`,
          type: 'message',
          role: 'assistant',
          content: [{ type: 'text', text: 'bad' }],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: input,
            cache_creation_input_tokens: 100,
            cache_read_input_tokens: 1000,
            output_tokens: output,
            service_tier: 'standard',
          },
        },
        requestId: `req_011CBAD${r.base62(17)}`,
        type: 'assistant',
        uuid: r.uuid4(),
        timestamp: ts,
      });
    if (kind === 'truncated-json') {
      const full = msg(r.int(10, 500));
      return full.slice(0, Math.floor(full.length * (0.3 + 0.5 * r.next())));
    }
    if (kind === 'wrong-type') {
      const v = r.int(0, 3);
      return v === 0 ? msg('12') : v === 1 ? msg(-5) : v === 2 ? msg(12.5) : msg(40, true);
    }
    return r.pick([
      '[1,2,3]',
      'null',
      '42',
      '"just a string"',
      '{"type":"assistant"}',
      '{"type":"assistant","message":null}',
      '{"type":"assistant","message":{"id":"msg_01BADSHAPE","usage":"lots"}}',
      '{"foo":{"bar":[]}}',
      '{"type":"mystery-entry","payload":{}}',
    ]);
  }
  const usage = (bad: boolean): Record<string, unknown> => ({
    input_tokens: bad ? '12' : 9_000_000,
    cached_input_tokens: 8_000_000,
    output_tokens: 700_000,
    reasoning_output_tokens: 300_000,
    total_tokens: 9_700_000,
  });
  const tc = (bad: boolean): string =>
    JSON.stringify({
      timestamp: ts,
      type: 'event_msg',
      payload: {
        type: 'token_count',
        info: { total_token_usage: usage(bad), last_token_usage: usage(bad), model_context_window: 272000 },
        rate_limits: null,
      },
    });
  if (kind === 'truncated-json') {
    const full = tc(false);
    return full.slice(0, Math.floor(full.length * (0.3 + 0.5 * r.next())));
  }
  if (kind === 'wrong-type') return tc(true);
  return r.pick([
    '[]',
    'null',
    '{"type":"event_msg","payload":null}',
    '{"type":"response_item","payload":{"type":"mystery_item"}}',
    '{"timestamp":"2026-01-01T00:00:00Z","type":"event_msg","payload":{"type":"token_count","info":"n/a"}}',
    '{"type":"unknown_kind","payload":{"x":1}}',
  ]);
}

// ---------------------------------------------------------------------------------------------------------------
// Public entry points
