import assert from 'node:assert/strict';
import { codex, CODEX_DEFAULT_MODEL } from '../../src/sources/codex';
import { codexUsage as usage } from '../fixtures/sources';
import { interactions, parseLines, type ParsedLines } from '../helpers';

const FILE = '/c/sessions/2026/05/13/rollout-2026-05-13T09-00-00-0197aaaa-bbbb-cccc-dddd-eeeeffff0000.jsonl';
/** Codex lines of the rollout FILE, fed through the parser as the importer reads them. */
const parse = (...lines: string[]): ParsedLines => parseLines(codex, lines, { path: FILE });
const meta = JSON.stringify({
  timestamp: '2026-05-13T09:00:00.000Z',
  type: 'session_meta',
  payload: {
    id: 'sess-1',
    cwd: '/home/me/app',
    cli_version: '0.46.0',
    git: { commit_hash: '3f2a', branch: 'feature/PAY-7', repository_url: 'git@example.com:me/app.git' },
  },
});
const turn = (model: string): string =>
  JSON.stringify({
    timestamp: '2026-05-13T09:00:01.000Z',
    type: 'turn_context',
    payload: { cwd: '/home/me/app', model, effort: 'medium' },
  });
function tokenCount(total: ReturnType<typeof usage>, last: ReturnType<typeof usage>, minute = 1): string {
  return JSON.stringify({
    timestamp: `2026-05-13T09:${String(minute).padStart(2, '0')}:00.000Z`,
    type: 'event_msg',
    payload: { type: 'token_count', info: { total_token_usage: total, last_token_usage: last } },
  });
}

describe('Codex parser', () => {
  it('converts OpenAI semantics: cached is part of input, reasoning part of output', () => {
    const r = parse(meta, turn('gpt-5-codex'), tokenCount(usage(1000, 250, 125, 75), usage(1000, 250, 125, 75)));
    const [i] = interactions(r.records);
    assert.deepEqual(i?.tokens, { input: 750, cacheRead: 250, cacheWrite: 0, output: 125, reasoning: 75 });
    assert.equal(i?.model, 'gpt-5-codex');
    assert.deepEqual(i?.session, {
      source: 'codex',
      sessionId: 'sess-1',
      cwd: '/home/me/app',
      branch: 'feature/PAY-7',
    });
  });

  it('counts deltas of cumulative totals and skips re-emitted events', () => {
    const r = parse(
      meta,
      turn('gpt-5-codex'),
      tokenCount(usage(1000, 0, 100, 0), usage(1000, 0, 100, 0), 1),
      tokenCount(usage(1000, 0, 100, 0), usage(1000, 0, 100, 0), 2), // re-emit
      tokenCount(usage(3000, 800, 300, 50), usage(2000, 800, 200, 50), 3),
    );
    const list = interactions(r.records);
    assert.equal(list.length, 2);
    assert.deepEqual(list[1]?.tokens, { input: 1200, cacheRead: 800, cacheWrite: 0, output: 200, reasoning: 50 });
    assert.notEqual(list[0]?.key, list[1]?.key);
  });

  it("takes a drop in the totals as a new baseline and counts that event's last_token_usage", () => {
    const r = parse(
      meta,
      turn('gpt-5-codex'),
      tokenCount(usage(5000, 0, 500, 0), usage(5000, 0, 500, 0), 1),
      tokenCount(usage(800, 100, 80, 0), usage(800, 100, 80, 0), 2), // reset (resume/compaction)
      tokenCount(usage(1800, 100, 180, 0), usage(1000, 0, 100, 0), 3),
    );
    const totals = interactions(r.records).map((i) => i.tokens.input + i.tokens.cacheRead + i.tokens.output);
    assert.deepEqual(totals, [5500, 880, 1100]);
  });

  it('ignores token_count events whose info is null', () => {
    const line = JSON.stringify({
      timestamp: '2026-05-13T09:01:00.000Z',
      type: 'event_msg',
      payload: { type: 'token_count', info: null, rate_limits: {} },
    });
    const r = parse(meta, line);
    assert.equal(r.records.length, 0);
    assert.equal(r.rejected.length, 0);
  });

  it('assumes the default model when a build wrote no turn_context, and says so', () => {
    const [i] = interactions(parse(meta, tokenCount(usage(10, 0, 5, 0), usage(10, 0, 5, 0))).records);
    assert.equal(i?.model, CODEX_DEFAULT_MODEL);
    assert.equal(i?.modelAssumed, true);
  });

  it('resumes from saved state: a second read continues the deltas instead of recounting', () => {
    const first = parse(meta, turn('gpt-5'), tokenCount(usage(1000, 0, 100, 0), usage(1000, 0, 100, 0), 1));
    const second = parseLines(
      codex,
      [tokenCount(usage(1500, 0, 150, 0), usage(500, 0, 50, 0), 2)],
      { path: FILE },
      first.parser.state(),
    );
    const [i] = interactions(second.records);
    assert.equal(i?.tokens.input, 500);
    assert.equal(i?.model, 'gpt-5');
    assert.equal(i?.session.sessionId, 'sess-1');
  });

  it('takes the session id from the file name when session_meta is missing', () => {
    const [i] = interactions(parse(tokenCount(usage(10, 0, 5, 0), usage(10, 0, 5, 0))).records);
    assert.equal(i?.session.sessionId, '0197aaaa-bbbb-cccc-dddd-eeeeffff0000');
  });

  it('records files from apply_patch (custom tool call and shell function call)', () => {
    const custom = JSON.stringify({
      timestamp: '2026-05-13T09:02:00Z',
      type: 'response_item',
      payload: {
        type: 'custom_tool_call',
        name: 'apply_patch',
        call_id: 'c1',
        input: '*** Begin Patch\n*** Update File: src/pay.ts\n@@\n-a\n+b\n*** Add File: src/new.ts\n+x\n*** End Patch',
      },
    });
    const shell = JSON.stringify({
      timestamp: '2026-05-13T09:03:00Z',
      type: 'response_item',
      payload: {
        type: 'function_call',
        name: 'shell',
        call_id: 'c2',
        arguments: JSON.stringify({
          command: ['apply_patch', '*** Begin Patch\n*** Update File: /home/me/app/README.md\n*** End Patch'],
        }),
      },
    });
    const edits = parse(meta, custom, shell).records.filter((r) => r.kind === 'edit');
    assert.deepEqual(
      edits.map((e) => (e.kind === 'edit' ? e.path : '')),
      ['src/pay.ts', 'src/new.ts', '/home/me/app/README.md'],
    );
  });

  it('rejects wrong types with a reason and keeps counting the valid lines', () => {
    const bad = JSON.stringify({
      timestamp: '2026-05-13T09:01:00.000Z',
      type: 'event_msg',
      payload: { type: 'token_count', info: { total_token_usage: { input_tokens: 'many' } } },
    });
    const r = parseLines(codex, [meta, 'garbage', bad, tokenCount(usage(10, 0, 5, 0), usage(10, 0, 5, 0))], {
      path: FILE,
    });
    assert.deepEqual(r.rejected, ['not JSON', 'token_count total_token_usage has non-numeric counts']);
    assert.equal(interactions(r.records).length, 1);
  });
  describe('forked subagents (forked_from_id, Codex Desktop 0.119+)', () => {
    // A forked rollout opens with its OWN session_meta, then the parent's rollout copied in (its session_meta and
    // every event, re-stamped in one burst at the fork instant), then the child's own turns. The copied token counts
    // carry the parent's running total, which the child's own totals continue from.
    const PARENT = '0199aaaa-0000-7000-8000-00000000000a';
    const CHILD = '0199bbbb-0000-7000-8000-00000000000b';
    const CHILD_FILE = `/c/sessions/2026/05/13/rollout-2026-05-13T09-30-00-${CHILD}.jsonl`;
    const fork = '2026-05-13T09:30:00.000Z';
    const at = (iso: string, line: string): string =>
      JSON.stringify({ ...(JSON.parse(line) as object), timestamp: iso });
    const childMeta = JSON.stringify({
      timestamp: fork,
      type: 'session_meta',
      payload: {
        id: CHILD,
        forked_from_id: PARENT,
        timestamp: '2026-05-13T09:29:58.000Z',
        cwd: '/home/me/app-sub',
        source: { subagent: { thread_spawn: { parent_thread_id: PARENT, depth: 1 } } },
        agent_nickname: 'Carson',
        git: { branch: 'feature/PAY-7' },
      },
    });
    const parentMeta = JSON.stringify({
      timestamp: fork,
      type: 'session_meta',
      payload: { id: PARENT, cwd: '/home/me/app', git: { branch: 'main' } },
    });
    const user = (text: string): string =>
      JSON.stringify({ timestamp: fork, type: 'event_msg', payload: { type: 'user_message', message: text } });
    const replay = [
      parentMeta,
      at('2026-05-13T09:30:00.001Z', turn('gpt-5-codex')),
      at('2026-05-13T09:30:00.001Z', user('parent prompt')),
      at('2026-05-13T09:30:00.002Z', tokenCount(usage(1000, 0, 100, 0), usage(1000, 0, 100, 0))),
      at('2026-05-13T09:30:00.002Z', tokenCount(usage(3000, 500, 300, 0), usage(2000, 500, 200, 0))),
    ];
    // The child's first turn starts in the same burst (its brief is written with the copy); its first response
    // comes seconds later.
    const own = [
      at('2026-05-13T09:30:00.050Z', turn('gpt-5.1-codex')),
      at('2026-05-13T09:30:00.050Z', user('review the architecture')),
      at('2026-05-13T09:30:09.000Z', tokenCount(usage(3400, 700, 340, 0), usage(400, 200, 40, 0))),
      at('2026-05-13T09:30:20.000Z', tokenCount(usage(4000, 900, 400, 0), usage(600, 200, 60, 0))),
    ];

    it("is its own session (the FIRST session_meta), not the parent's whose meta it copies", () => {
      const r = parseLines(codex, [childMeta, ...replay, ...own], { path: CHILD_FILE });
      const list = interactions(r.records);
      assert.ok(list.length > 0);
      for (const i of list)
        assert.deepEqual(i.session, {
          source: 'codex',
          sessionId: CHILD,
          cwd: '/home/me/app-sub',
          branch: 'feature/PAY-7',
        });
    });

    it('counts only its own requests: the copied parent events are counted once, in the parent', () => {
      const r = parseLines(codex, [childMeta, ...replay, ...own], { path: CHILD_FILE });
      const list = interactions(r.records);
      assert.deepEqual(
        list.map((i) => i.tokens),
        [
          { input: 200, cacheRead: 200, cacheWrite: 0, output: 40, reasoning: 0 },
          { input: 400, cacheRead: 200, cacheWrite: 0, output: 60, reasoning: 0 },
        ],
      );
      assert.deepEqual(
        list.map((i) => i.model),
        ['gpt-5.1-codex', 'gpt-5.1-codex'],
      );
      // The copied prompts are the parent's (recorded in the parent's rollout); the child's brief, written in the same
      // burst, cannot be told from them and is not recorded either.
      assert.deepEqual(
        r.records.filter((x) => x.kind === 'prompt'),
        [],
      );
      const later = parseLines(
        codex,
        [childMeta, ...replay, ...own, at('2026-05-13T09:31:00.000Z', user('and the tests'))],
        { path: CHILD_FILE },
      );
      assert.deepEqual(
        later.records.filter((x) => x.kind === 'prompt').map((x) => (x.kind === 'prompt' ? x.text : '')),
        ['and the tests'],
      );
    });

    it('resumes a forked rollout from saved state without recounting the copy', () => {
      const first = parseLines(codex, [childMeta, ...replay], { path: CHILD_FILE });
      assert.equal(interactions(first.records).length, 0);
      const second = parseLines(codex, own, { path: CHILD_FILE }, first.parser.state());
      assert.deepEqual(
        interactions(second.records).map((i) => i.tokens.input + i.tokens.cacheRead + i.tokens.output),
        [440, 660],
      );
      assert.equal(interactions(second.records)[0]?.session.sessionId, CHILD);
    });

    it('a rollout that is no fork counts everything, however close together its lines are', () => {
      const plain = JSON.stringify({
        timestamp: fork,
        type: 'session_meta',
        payload: { id: PARENT, cwd: '/home/me/app' },
      });
      const r = parse(plain, ...replay.slice(1));
      assert.equal(interactions(r.records).length, 2);
    });
  });
});
