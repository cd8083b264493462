import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SessionJson } from '../../src/services/queries';
import { cli } from './cli';
import { sandbox } from './sandbox';

const PERIOD = ['--since', '2026-01-01', '--until', '2026-12-31', '--tz', 'UTC'];
const iso = (t: number): string => new Date(t).toISOString();

function sessions(home: string, env: Record<string, string>): SessionJson[] {
  const r = cli(['sessions', '--json', '--home', home, ...PERIOD], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as SessionJson[];
}

interface Usage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}
const usage = (input: number, cached: number, output: number): Usage => ({
  input_tokens: input,
  cached_input_tokens: cached,
  output_tokens: output,
  reasoning_output_tokens: 0,
  total_tokens: input + output,
});
const add = (a: Usage, b: Usage): Usage => ({
  input_tokens: a.input_tokens + b.input_tokens,
  cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
  output_tokens: a.output_tokens + b.output_tokens,
  reasoning_output_tokens: 0,
  total_tokens: a.total_tokens + b.total_tokens,
});
const tokenCount = (t: number, total: Usage, last: Usage): string =>
  JSON.stringify({
    timestamp: iso(t),
    type: 'event_msg',
    payload: { type: 'token_count', info: { total_token_usage: total, last_token_usage: last } },
  });

/**
 * Readers that were wrong on real data, end to end through the bundled CLI: Codex forked subagents, and Copilot
 * Chat requests made with the `auto` model. (Continue, Cline, Roo Code and OpenCode traps are in their fixtures,
 * checked by sources-more.)
 */
describe('readers on real data: Codex forked subagents and Copilot auto requests (the bundled CLI)', function () {
  this.timeout(120_000);
  const box = sandbox('ol-readers-');
  let env: Record<string, string>;
  const PARENT = '0199c0de-0000-7000-8000-0000000000aa';
  const CHILD = '0199c0de-0000-7000-8000-0000000000bb';
  /** Tokens (input + output, OpenAI semantics) of all plain sessions, the parent and the child's own requests. */
  let truth = 0;

  before(() => {
    const codexHome = path.join(box.home, '.codex');
    const day = path.join(codexHome, 'sessions', '2026', '05', '13');
    fs.mkdirSync(day, { recursive: true });
    const t0 = Date.parse('2026-05-13T08:00:00.000Z');
    // 70 ordinary sessions of one request each.
    for (let n = 0; n < 70; n++) {
      const id = `0199c0de-0000-7000-8000-${String(n).padStart(12, '0')}`;
      const t = t0 + n * 60_000;
      const u = usage(1000 + n, 200, 100);
      truth += u.input_tokens + u.output_tokens;
      fs.writeFileSync(
        path.join(day, `rollout-2026-05-13T08-00-00-${id}.jsonl`),
        [
          JSON.stringify({
            timestamp: iso(t),
            type: 'session_meta',
            payload: { id, cwd: '/w/app', cli_version: '0.119.0' },
          }),
          JSON.stringify({ timestamp: iso(t), type: 'turn_context', payload: { cwd: '/w/app', model: 'gpt-5-codex' } }),
          tokenCount(t + 5000, u, u),
        ].join('\n') + '\n',
      );
    }
    // The parent: three requests.
    const p0 = Date.parse('2026-05-13T10:00:00.000Z');
    const parentLines = [
      JSON.stringify({
        timestamp: iso(p0),
        type: 'session_meta',
        payload: { id: PARENT, cwd: '/w/app', cli_version: '0.119.0', originator: 'Codex Desktop' },
      }),
      JSON.stringify({ timestamp: iso(p0), type: 'turn_context', payload: { cwd: '/w/app', model: 'gpt-5.1-codex' } }),
    ];
    let total = usage(0, 0, 0);
    for (let i = 1; i <= 3; i++) {
      const u = usage(10_000 * i, 5000 * i, 400 * i);
      total = add(total, u);
      truth += u.input_tokens + u.output_tokens;
      parentLines.push(tokenCount(p0 + i * 20_000, total, u));
    }
    fs.writeFileSync(path.join(day, `rollout-2026-05-13T10-00-00-${PARENT}.jsonl`), parentLines.join('\n') + '\n');
    // The child, forked from the parent: its own meta, the parent's rollout copied in (re-stamped in one burst at the
    // fork instant), then two requests of its own whose running totals continue from the parent's.
    const f0 = Date.parse('2026-05-13T10:05:00.000Z');
    const stamped = (line: string, t: number): string =>
      JSON.stringify({ ...(JSON.parse(line) as object), timestamp: iso(t) });
    const childLines = [
      JSON.stringify({
        timestamp: iso(f0),
        type: 'session_meta',
        payload: {
          id: CHILD,
          forked_from_id: PARENT,
          cwd: '/w/app',
          cli_version: '0.119.0',
          source: { subagent: { thread_spawn: { parent_thread_id: PARENT, depth: 1 } } },
          agent_nickname: 'Carson',
        },
      }),
      ...parentLines.map((l, i) => stamped(l, f0 + 1 + Math.floor(i / 3))),
    ];
    for (let i = 1; i <= 2; i++) {
      const u = usage(3000 * i, 1000, 200 * i);
      total = add(total, u);
      truth += u.input_tokens + u.output_tokens;
      childLines.push(tokenCount(f0 + i * 15_000, total, u));
    }
    fs.writeFileSync(path.join(day, `rollout-2026-05-13T10-05-00-${CHILD}.jsonl`), childLines.join('\n') + '\n');

    // Copilot Chat in VS Code: an `auto` request that resolved to gpt-4.1.
    const chat = path.join(box.home, '.config', 'Code', 'User', 'workspaceStorage', 'a1b2c3', 'chatSessions');
    fs.mkdirSync(chat, { recursive: true });
    fs.writeFileSync(
      path.join(chat, 'auto-session.json'),
      JSON.stringify({
        version: 3,
        sessionId: 'auto-session',
        creationDate: Date.parse('2026-05-14T09:00:00.000Z'),
        requests: [
          {
            requestId: 'request_auto_1',
            timestamp: Date.parse('2026-05-14T09:00:05.000Z'),
            modelId: 'copilot/auto',
            message: { text: 'Rename the helper' },
            response: [{ value: 'Renamed.' }],
            result: {
              timings: { totalElapsed: 2100 },
              metadata: { promptTokens: 8100, outputTokens: 240, resolvedModel: 'gpt-4.1-2025-04-14' },
            },
          },
        ],
      }),
    );
    env = { HOME: box.home, XDG_CONFIG_HOME: path.join(box.home, '.config') };
  });

  it('a forked subagent is a session of its own (72, not 71) and the copied parent history is counted once, in the parent', () => {
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    const codex = sessions(box.ledger, env).filter((s) => s.source === 'codex');
    assert.equal(codex.length, 72);
    const child = codex.find((s) => s.sessionId === CHILD);
    const parent = codex.find((s) => s.sessionId === PARENT);
    assert.equal(parent?.interactions, 3);
    assert.equal(child?.interactions, 2);
    assert.equal(
      (child?.tokens.input ?? 0) + (child?.tokens.cacheRead ?? 0) + (child?.tokens.output ?? 0),
      3000 + 200 + 6000 + 400,
    );
    assert.equal(
      codex.reduce((n, s) => n + s.tokens.input + s.tokens.cacheRead + s.tokens.output, 0),
      truth,
    );
  });

  it('a second import adds nothing', () => {
    const before = sessions(box.ledger, env);
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      sessions(box.ledger, env).map((s) => [s.sessionId, s.tokens, s.interactions]),
      before.map((s) => [s.sessionId, s.tokens, s.interactions]),
    );
  });

  it('a Copilot `auto` request shows the model it ran on', () => {
    const copilot = sessions(box.ledger, env).filter((s) => s.source === 'copilot-chat');
    assert.deepEqual(
      copilot.map((s) => [s.sessionId, s.models, s.tokens.input, s.tokens.output]),
      [['auto-session', ['gpt-4.1-2025-04-14'], 8100, 240]],
    );
  });
});
