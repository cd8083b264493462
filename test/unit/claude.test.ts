import assert from 'node:assert/strict';
import { claudeCode } from '../../src/sources/claude';
import { interactions, parseLines } from '../helpers';

const usage = {
  input_tokens: 12,
  output_tokens: 240,
  cache_creation_input_tokens: 900,
  cache_read_input_tokens: 48000,
};

function assistant(over: Record<string, unknown> = {}, message: Record<string, unknown> = {}): string {
  return JSON.stringify({
    parentUuid: null,
    isSidechain: false,
    userType: 'external',
    cwd: '/home/me/app',
    sessionId: '5f0c',
    version: '2.0.14',
    gitBranch: 'feat/PAY-7',
    message: {
      id: 'msg_01',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5-20250929',
      content: [{ type: 'text', text: 'hi' }],
      usage,
      ...message,
    },
    requestId: 'req_01',
    type: 'assistant',
    uuid: 'u1',
    timestamp: '2026-05-02T10:14:03.112Z',
    ...over,
  });
}

describe('Claude Code parser', () => {
  it('normalises Anthropic usage to canonical tokens (input excludes cache; the four add up)', () => {
    const [i] = interactions(parseLines(claudeCode, [assistant()]).records);
    assert.ok(i);
    assert.deepEqual(i.tokens, { input: 12, output: 240, cacheRead: 48000, cacheWrite: 900, reasoning: 0 });
    assert.equal(i.model, 'claude-sonnet-4-5-20250929');
    assert.equal(i.timestamp, Date.parse('2026-05-02T10:14:03.112Z'));
    assert.deepEqual(i.session, {
      source: 'claude-code',
      sessionId: '5f0c',
      cwd: '/home/me/app',
      branch: 'feat/PAY-7',
    });
  });

  it('keys every content-block line of one message the same (message.id + requestId) so the ledger counts it once', () => {
    const lines = [
      assistant(
        { uuid: 'a' },
        { content: [{ type: 'thinking', thinking: '…' }], usage: { ...usage, output_tokens: 3 } },
      ),
      assistant({ uuid: 'b' }, { content: [{ type: 'text', text: 'ok' }] }),
    ];
    const keys = interactions(parseLines(claudeCode, lines).records).map((r) => r.key);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    assert.equal(keys[0], 'claude-code:msg_01:req_01');
  });

  it('falls back to message.id alone when requestId is absent', () => {
    const line = JSON.parse(assistant()) as Record<string, unknown>;
    delete line.requestId;
    const [i] = interactions(parseLines(claudeCode, [JSON.stringify(line)]).records);
    assert.equal(i?.key, 'claude-code:msg_01');
  });

  it('skips <synthetic> model lines and API error messages', () => {
    const r = parseLines(claudeCode, [assistant({}, { model: '<synthetic>' }), assistant({ isApiErrorMessage: true })]);
    assert.equal(r.records.length, 0);
    assert.equal(r.rejected.length, 0);
  });

  it('keeps the 1-hour part of cache writes and a recorded costUSD', () => {
    const line = assistant(
      { costUSD: 0.0123 },
      { usage: { ...usage, cache_creation: { ephemeral_5m_input_tokens: 600, ephemeral_1h_input_tokens: 300 } } },
    );
    const [i] = interactions(parseLines(claudeCode, [line]).records);
    assert.equal(i?.cacheWrite1h, 300);
    assert.equal(i?.recordedCostUSD, 0.0123);
  });

  it('marks sidechain copies', () => {
    const [i] = interactions(parseLines(claudeCode, [assistant({ isSidechain: true })]).records);
    assert.equal(i?.sidechain, true);
  });

  it('records files from Edit, MultiEdit, Write and NotebookEdit tool_use blocks, not from Read', () => {
    const content = [
      {
        type: 'tool_use',
        id: 't1',
        name: 'Edit',
        input: { file_path: '/home/me/app/src/a.ts', old_string: 'x', new_string: 'y' },
      },
      { type: 'tool_use', id: 't2', name: 'MultiEdit', input: { file_path: '/home/me/app/src/b.ts', edits: [] } },
      { type: 'tool_use', id: 't3', name: 'Write', input: { file_path: '/home/me/app/src/new.ts', content: '…' } },
      {
        type: 'tool_use',
        id: 't4',
        name: 'NotebookEdit',
        input: { notebook_path: '/home/me/app/nb.ipynb', new_source: '' },
      },
      { type: 'tool_use', id: 't5', name: 'Read', input: { file_path: '/home/me/app/README.md' } },
    ];
    const edits = parseLines(claudeCode, [assistant({}, { content })]).records.filter((r) => r.kind === 'edit');
    assert.deepEqual(
      edits.map((e) => (e.kind === 'edit' ? e.path : '')),
      ['/home/me/app/src/a.ts', '/home/me/app/src/b.ts', '/home/me/app/src/new.ts', '/home/me/app/nb.ipynb'],
    );
  });

  it('takes the project path from cwd, and a subagent file belongs to its parent session', () => {
    const line = JSON.parse(assistant({ isSidechain: true })) as Record<string, unknown>;
    delete line.sessionId;
    const r = parseLines(claudeCode, [JSON.stringify(line)], {
      path: '/c/projects/-home-me-my-app/parent-id/subagents/agent-1a2b3c4d.jsonl',
    });
    const [i] = interactions(r.records);
    assert.equal(i?.session.sessionId, 'parent-id');
    assert.equal(i?.session.cwd, '/home/me/app');
  });

  it('rejects bad lines with a reason and keeps parsing the good ones', () => {
    const r = parseLines(claudeCode, [
      'this is not json',
      '{"type":"assistant","message":{"usage":',
      assistant({}, { usage: { ...usage, output_tokens: '240' } }),
      assistant({ timestamp: 'yesterday' }),
      assistant({}, { model: 42 }),
      assistant({ uuid: 'good', requestId: 'req_02' }),
    ]);
    assert.deepEqual(r.rejected, [
      'not JSON',
      'not JSON',
      'usage counts are not non-negative integers',
      'timestamp missing or not a date',
      'message.model missing or not a string',
    ]);
    assert.equal(interactions(r.records).length, 1);
  });

  it('never parses lines that cannot carry usage (tool results are skipped by a byte scan)', () => {
    // Looks like an object but is not valid JSON: a parse would reject it; the byte scan skips it.
    const toolResult =
      '{"type":"user","message":{"content":[{"type":"tool_result","content":"big output"}]} trailing junk}';
    const r = parseLines(claudeCode, [toolResult, '{"type":"summary","summary":"x", broken}']);
    assert.equal(r.records.length, 0);
    assert.equal(r.rejected.length, 0);
  });

  it('turns typed prompts into prompt records (hashed later), not tool results or slash-command plumbing', () => {
    const prompt = (content: unknown, extra: Record<string, unknown> = {}): string =>
      JSON.stringify({
        type: 'user',
        sessionId: '5f0c',
        cwd: '/home/me/app',
        uuid: `p${String(Math.random())}`,
        timestamp: '2026-05-02T10:00:00Z',
        message: { role: 'user', content },
        ...extra,
      });
    const r = parseLines(claudeCode, [
      prompt('fix the failing test'),
      prompt([{ type: 'text', text: 'and add a case' }]),
      prompt('<command-name>/clear</command-name>'),
      prompt('meta', { isMeta: true }),
      prompt([{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }]),
    ]);
    assert.deepEqual(
      r.records.map((x) => (x.kind === 'prompt' ? x.text : x.kind)),
      ['fix the failing test', 'and add a case'],
    );
  });
});
