import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LedgerRecord } from '../../src/core/usage/model';
import {
  copilotMutationLines,
  copilotWorkspace,
  writeCopilotJson,
  writeCopilotJsonl,
  type CopilotRequestSpec,
  type CopilotSessionSpec,
} from '../../src/demo/copilot';
import {
  copilotChat,
  COPILOT_DEFAULT_MODEL,
  readCopilotFile,
  replayMutationLog,
  uriToPath,
  workspaceFolderOf,
} from '../../src/sources/copilot';
import { vscodeUserDirs } from '../../src/sources/vscodeUser';
import { estimateTokens } from '../../src/sources/tokenize';
import { COPILOT_T0 as T0, copilotRequest as req } from '../fixtures/sources';
import { interactions, tempDir } from '../helpers';

function session(requests: CopilotRequestSpec[], id = 'sess-a'): CopilotSessionSpec {
  return { sessionId: id, creationDate: T0, requests };
}

function read(file: string, text: string, quiet = true): ReturnType<typeof readCopilotFile> {
  return readCopilotFile(file, Buffer.from(text), quiet);
}

const lines = (s: CopilotSessionSpec): string => `${copilotMutationLines(s).join('\n')}\n`;

describe('Copilot Chat reader', () => {
  it('reads tokens from result.metadata (current builds) as exact counts, with the model prefix dropped', () => {
    const r = read('/u/s.json', JSON.stringify({ sessionId: 'sess-a', creationDate: T0, requests: [] }));
    assert.deepEqual(r.records, []);
    const s = session([req(1), req(2)]);
    const list = interactions(read('/u/s.jsonl', lines(s)).records);
    assert.deepEqual(
      list.map((i) => [i.key, i.model, i.tokens.input, i.tokens.output, i.estimated ?? false]),
      [
        ['copilot-chat:request_1', 'gpt-4.1', 1000, 100, false],
        ['copilot-chat:request_2', 'gpt-4.1', 2000, 200, false],
      ],
    );
    assert.deepEqual(list[0]?.tokens, { input: 1000, output: 100, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
  });

  it('reads the older result.usage counts (promptTokens / completionTokens)', () => {
    const dir = tempDir();
    const file = writeCopilotJson(dir, session([req(3, { style: 'usage' })]));
    const [i] = interactions(read(file, fs.readFileSync(file, 'utf8')).records);
    assert.equal(i?.tokens.input, 3000);
    assert.equal(i?.tokens.output, 300);
    assert.equal(i?.estimated, undefined);
  });

  it('estimates files without any counts with the tokenizer and marks them estimated (and an old file without modelId as an assumed model)', () => {
    const r = req(4, { style: 'none', modelId: undefined });
    const dir = tempDir();
    const file = writeCopilotJson(dir, session([r]));
    const [i] = interactions(read(file, fs.readFileSync(file, 'utf8')).records);
    assert.equal(i?.estimated, true);
    assert.equal(i?.tokens.input, estimateTokens(r.prompt));
    assert.equal(i?.tokens.output, estimateTokens(r.reply));
    assert.ok((i?.tokens.input ?? 0) > 3 && (i?.tokens.output ?? 0) > 5);
    assert.equal(i?.model, COPILOT_DEFAULT_MODEL);
    assert.equal(i?.modelAssumed, true);
  });

  it('does not estimate a request that got no reply (an error or an early cancel): nothing to count, nothing billed to read', () => {
    const failed = { ...req(5, { style: 'none' }), reply: '' };
    const dir = tempDir();
    const file = writeCopilotJson(dir, session([failed, req(6, { style: 'none' })]));
    const list = interactions(read(file, fs.readFileSync(file, 'utf8')).records);
    assert.deepEqual(
      list.map((i) => i.key),
      ['copilot-chat:request_6'],
    );
  });

  it('replays the .jsonl mutation log exactly: a streamed response truncated and re-pushed counts once, set and delete apply in order', () => {
    const s = session([req(1, { edits: ['/home/me/app/src/a.ts'] })]);
    const extra = [
      JSON.stringify({ kind: 1, k: ['customTitle'], v: 'Retry' }),
      JSON.stringify({ kind: 3, k: ['customTitle'] }),
      // A later request pushed and then removed again (the engineer undid it before it ran): nothing billed.
      JSON.stringify({
        kind: 2,
        k: ['requests'],
        v: [{ requestId: 'request_gone', timestamp: T0, message: { text: 'x' }, response: [] }],
      }),
      JSON.stringify({ kind: 2, k: ['requests'], v: [], i: 1 }),
    ];
    const text = `${copilotMutationLines(s).join('\n')}\n${extra.join('\n')}\n`;
    const replay = replayMutationLog(Buffer.from(text), true);
    assert.deepEqual(replay.rejects, []);
    const state = replay.state as { requests: Array<{ response: unknown[] }>; customTitle?: string };
    assert.equal(state.requests.length, 1);
    assert.equal(state.customTitle, undefined);
    // The partial markdown part pushed while streaming was truncated away: one markdown part plus the edit group.
    assert.equal(state.requests[0]?.response.length, 2);
    const out = read('/u/workspaceStorage/x/chatSessions/sess-a.jsonl', text);
    assert.equal(interactions(out.records).length, 1);
    assert.deepEqual(
      out.records.filter((r) => r.kind === 'edit').map((r) => (r as Extract<LedgerRecord, { kind: 'edit' }>).path),
      ['/home/me/app/src/a.ts'],
    );
  });

  it('a compacted log (one kind 0 line) yields the same records as the log it replaced', () => {
    const s = session([req(1), req(2, { edits: ['/w/b.ts'] })]);
    const long = read('/u/s.jsonl', lines(s)).records;
    const compact = read('/u/s.jsonl', `${copilotMutationLines(s, true).join('\n')}\n`).records;
    assert.deepEqual(compact, long);
  });

  it('a request still running (no result) yields nothing until its result is set', () => {
    const s = session([req(1), req(2, { pending: true })]);
    const before = interactions(read('/u/s.jsonl', lines(s)).records);
    assert.deepEqual(
      before.map((i) => i.key),
      ['copilot-chat:request_1'],
    );
    const done = `${lines(s)}${JSON.stringify({ kind: 1, k: ['requests', 1, 'result'], v: { metadata: { promptTokens: 7, outputTokens: 3 } } })}\n`;
    assert.deepEqual(
      interactions(read('/u/s.jsonl', done).records).map((i) => [i.key, i.tokens.input]),
      [
        ['copilot-chat:request_1', 1000],
        ['copilot-chat:request_2', 7],
      ],
    );
  });

  it('leaves a half-written last line for later while the file is fresh, and rejects it once the file is quiet', () => {
    const text = `${lines(session([req(1)]))}{"kind":1,"k":["requests",0,"res`;
    const fresh = read('/u/s.jsonl', text, false);
    assert.equal(fresh.complete, false);
    assert.deepEqual(fresh.rejects, []);
    assert.equal(interactions(fresh.records).length, 1);
    const quiet = read('/u/s.jsonl', text, true);
    assert.equal(quiet.complete, true);
    assert.deepEqual(
      quiet.rejects.map((r) => r.reason),
      ['half-written last line'],
    );
  });

  it('a .json session caught mid-rewrite is read again later; once quiet it is rejected with a reason', () => {
    const dir = tempDir();
    const file = writeCopilotJson(dir, session([req(1)]));
    const half = fs.readFileSync(file, 'utf8').slice(0, 200);
    assert.deepEqual(read(file, half, false), { records: [], rejects: [], complete: false });
    assert.deepEqual(
      read(file, half, true).rejects.map((r) => r.reason),
      ['not a complete JSON document'],
    );
  });

  it('counts garbage and impossible mutations as rejected lines with reasons, and keeps every good line', () => {
    const good = copilotMutationLines(session([req(1), req(2)]));
    const text = [
      good[0],
      'this is not json',
      good[1],
      '{"kind":9}',
      '{"kind":1,"k":["requests",42,"result"],"v":{}}',
      ...good.slice(2),
      '[1,2]',
      '{"kind":2,"k":["lastMessageDate"],"v":[1]}',
    ].join('\n');
    const r = read('/u/s.jsonl', `${text}\n`);
    assert.deepEqual(
      r.rejects.map((x) => [x.lineNo, x.reason]),
      [
        [2, 'not JSON'],
        [4, 'unknown mutation kind 9'],
        [5, 'mutation path ["requests",42,"result"] does not exist'],
        [good.length + 4, 'not a JSON object'],
        [good.length + 5, 'push target ["lastMessageDate"] is not an array'],
      ],
    );
    assert.equal(interactions(r.records).length, 2);
  });

  it('rejects a request with wrong-typed counts, naming it, and still reads the others', () => {
    const s = session([req(1), req(2)]);
    const text =
      lines(s) +
      [JSON.stringify({ kind: 1, k: ['requests', 0, 'result', 'metadata', 'promptTokens'], v: -5 })].join('\n') +
      '\n';
    const r = read('/u/s.jsonl', text);
    assert.deepEqual(
      r.rejects.map((x) => x.reason),
      ['requests[0]: result.metadata token counts are not non-negative integers'],
    );
    assert.deepEqual(
      interactions(r.records).map((i) => i.key),
      ['copilot-chat:request_2'],
    );
  });

  it('maps the workspace id to its folder (workspace.json) so sessions get a cwd for linking', () => {
    const user = tempDir();
    const chat = copilotWorkspace(user, 'a1b2c3', '/home/me/my app');
    const file = writeCopilotJson(chat, session([req(1)]));
    assert.equal(workspaceFolderOf(file), '/home/me/my app');
    const [i] = interactions(read(file, fs.readFileSync(file, 'utf8')).records);
    assert.deepEqual(i?.session, { source: 'copilot-chat', sessionId: 'sess-a', cwd: '/home/me/my app' });
    // A multi-root workspace: its first folder, relative to the .code-workspace file.
    const ws = path.join(user, 'proj.code-workspace');
    fs.writeFileSync(ws, JSON.stringify({ folders: [{ path: 'api' }, { path: 'web' }] }));
    const chat2 = path.join(user, 'workspaceStorage', 'd4e5', 'chatSessions');
    fs.mkdirSync(chat2, { recursive: true });
    fs.writeFileSync(
      path.join(user, 'workspaceStorage', 'd4e5', 'workspace.json'),
      JSON.stringify({ workspace: `file://${ws}` }),
    );
    assert.equal(workspaceFolderOf(path.join(chat2, 'x.json')), path.join(user, 'api'));
    assert.equal(uriToPath('vscode-remote://ssh-remote%2Bbox/home/me/app'), '/home/me/app');
    assert.equal(uriToPath({ scheme: 'untitled', path: 'Untitled-1' }), undefined);
  });

  it('discovers workspace and empty-window sessions, not workspace.json or other storage files', () => {
    const user = tempDir();
    const chat = copilotWorkspace(user, 'w1', '/w');
    writeCopilotJson(chat, session([req(1)], 'old'));
    writeCopilotJsonl(chat, session([req(2)], 'new'));
    const empty = path.join(user, 'globalStorage', 'emptyWindowChatSessions');
    fs.mkdirSync(empty, { recursive: true });
    writeCopilotJson(empty, session([req(3)], 'loose'));
    fs.mkdirSync(path.join(user, 'globalStorage', 'some.extension'), { recursive: true });
    fs.writeFileSync(path.join(user, 'globalStorage', 'some.extension', 'state.json'), '{}');
    fs.writeFileSync(path.join(user, 'workspaceStorage', 'w1', 'state.json'), '{}');
    const found = [...copilotChat.discover([user])].map((f) => path.relative(user, f.path)).sort();
    assert.deepEqual(found, [
      path.join('globalStorage', 'emptyWindowChatSessions', 'loose.json'),
      path.join('workspaceStorage', 'w1', 'chatSessions', 'new.jsonl'),
      path.join('workspaceStorage', 'w1', 'chatSessions', 'old.json'),
    ]);
  });

  it('looks in the user folders of VS Code, Insiders, VSCodium and the remote servers, per platform', () => {
    const linux = vscodeUserDirs({ HOME: '/home/me' }, 'linux');
    for (const p of [
      '/home/me/.config/Code/User',
      '/home/me/.config/Code - Insiders/User',
      '/home/me/.config/VSCodium/User',
      '/home/me/.vscode-server/data/User',
      '/home/me/.vscode-server-insiders/data/User',
    ]) {
      assert.ok(linux.includes(p), p);
    }
    assert.ok(vscodeUserDirs({ HOME: '/home/me', XDG_CONFIG_HOME: '/x' }, 'linux').includes('/x/Code/User'));
    assert.ok(
      vscodeUserDirs({ HOME: '/Users/me' }, 'darwin').includes('/Users/me/Library/Application Support/Code/User'),
    );
    assert.ok(
      vscodeUserDirs({ HOME: 'C:\\Users\\me', APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'win32').some(
        (p) => p.includes('Roaming') && p.endsWith(`Code${path.sep}User`),
      ),
    );
  });
  it("an `auto` request takes the model it resolved to (resolvedModel, else the result metadata's model), not `auto`", () => {
    const request = (
      n: number,
      metadata: Record<string, unknown>,
      extra: Record<string, unknown> = {},
    ): Record<string, unknown> => ({
      requestId: `request_auto_${n}`,
      timestamp: T0 + n * 1000,
      modelId: 'copilot/auto',
      message: { text: 'Fix it' },
      response: [{ value: 'Fixed.' }],
      result: { metadata: { promptTokens: 500 * n, outputTokens: 50 * n, ...metadata } },
      ...extra,
    });
    const doc = {
      sessionId: 'sess-auto',
      creationDate: T0,
      requests: [
        request(1, { resolvedModel: 'gpt-4.1-2025-04-14' }),
        request(2, { modelId: 'copilot/claude-sonnet-4' }),
        request(3, {}, { resolvedModel: 'copilot/gpt-5-mini' }),
        request(4, {}),
      ],
    };
    const list = interactions(read('/u/auto.json', JSON.stringify(doc)).records);
    assert.deepEqual(
      list.map((i) => [i.model, i.modelAssumed ?? false]),
      [
        ['gpt-4.1-2025-04-14', false],
        ['claude-sonnet-4', false],
        ['gpt-5-mini', false],
        ['auto', false], // nothing names the model it ran on: `auto`, as recorded
      ],
    );
  });
});
