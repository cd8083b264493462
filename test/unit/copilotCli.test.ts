import assert from 'node:assert/strict';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { copilotCli } from '../../src/sources/copilotCli';
import { Ledger } from '../../src/store/ledger';
import { writeCopilotCli } from '../fixtures/sources';
import { importExactly, interactions, parseLines, repoFolder, sessionFiles, tempDirEach } from '../helpers';

describe('GitHub Copilot CLI reader', () => {
  const tmp = tempDirEach('ol-copilot-cli-');

  it('looks in ~/.copilot and the OTel export file $COPILOT_OTEL_FILE_EXPORTER_PATH names', () => {
    assert.deepEqual(copilotCli.roots({ HOME: '/h' }), ['/h/.copilot']);
    assert.deepEqual(copilotCli.roots({ HOME: '/h', COPILOT_OTEL_FILE_EXPORTER_PATH: '/t/otel.jsonl' }), [
      '/h/.copilot',
      '/t/otel.jsonl',
    ]);
  });

  it('a user message with an id and a time is a prompt; a write tool with a path is an edit; others are neither', () => {
    const file = '/h/.copilot/session-state/s-8/events.jsonl';
    const ev = (id: string, type: string, data: Record<string, unknown>): string =>
      JSON.stringify({ type, data, id, timestamp: '2026-02-14T11:00:00.000Z', parentId: null });
    const r = parseLines(
      copilotCli,
      [
        ev('a', 'session.start', { sessionId: 's-8', context: { cwd: '/p', branch: 'main' } }),
        ev('b', 'user.message', { content: 'Fix the login redirect' }),
        ev('c', 'user.message', { content: '' }),
        ev('', 'user.message', { content: 'no id' }),
        ev('d', 'tool.execution_start', { toolName: 'str_replace_editor', arguments: { path: '/p/a.ts' } }),
        ev('e', 'tool.execution_start', { toolName: 'create', arguments: { filePath: '/p/b.ts' } }),
        ev('f', 'tool.execution_start', { toolName: 'view', arguments: { path: '/p/c.ts' } }),
        ev('g', 'tool.execution_start', { toolName: 'edit', arguments: { path: '' } }),
      ],
      { path: file },
    );
    const at = Date.parse('2026-02-14T11:00:00.000Z');
    assert.deepEqual(
      r.records.filter((x) => x.kind === 'prompt').map((x) => [x.key, x.timestamp, x.text]),
      [['copilot-cli:s-8:prompt:b', at, 'Fix the login redirect']],
    );
    assert.deepEqual(
      r.records.filter((x) => x.kind === 'edit').map((x) => [x.path, x.timestamp, x.session.sessionId]),
      [
        ['/p/a.ts', at, 's-8'],
        ['/p/b.ts', at, 's-8'],
      ],
    );
  });

  it('per-request usage: input includes the cached input; the shutdown totals of the same segment are not added again', () => {
    const file = '/h/.copilot/session-state/s-9/events.jsonl';
    const ev = (id: string, type: string, data: Record<string, unknown>): string =>
      JSON.stringify({ type, data, id, timestamp: '2026-02-14T11:00:00.000Z', parentId: null });
    const usage = { model: 'gpt-5', inputTokens: 1000, outputTokens: 50, cacheReadTokens: 600, cacheWriteTokens: 100 };
    const r = parseLines(
      copilotCli,
      [
        ev('a', 'session.start', { sessionId: 's-9', context: { cwd: '/p', branch: 'main' } }),
        ev('b', 'assistant.usage', usage),
        ev('c', 'session.shutdown', { modelMetrics: { 'gpt-5': { usage } } }),
        ev('d', 'session.shutdown', { modelMetrics: { 'gpt-5': { usage } } }), // a later segment without usage events counts
        ev('e', 'assistant.usage', { ...usage, inputTokens: -1 }),
        'not json at all',
        JSON.stringify({
          type: 'assistant.usage',
          data: 'not an object',
          id: 'f',
          timestamp: '2026-02-14T11:00:01.000Z',
        }),
      ],
      { path: file, root: '/h/.copilot' },
    );
    assert.deepEqual(
      interactions(r.records).map((x) => [
        x.key,
        x.tokens.input,
        x.tokens.cacheRead,
        x.tokens.cacheWrite,
        x.session.branch,
      ]),
      [
        ['copilot-cli:s-9:b', 300, 600, 100, 'main'],
        ['copilot-cli:s-9:d:gpt-5', 300, 600, 100, 'main'],
      ],
    );
    // A line of garbage and a usage event of an unknown shape are rejected with the reason, never read as zeros.
    assert.deepEqual(r.rejected, [
      'assistant.usage counts are not non-negative integers',
      'not JSON',
      'assistant.usage in an unknown shape (no inputTokens or outputTokens)',
    ]);
  });

  it('imports event logs, the session store and the OTel export with one precedence per session: totals equal the truth, nothing twice', async () => {
    const project = repoFolder(path.join(tmp.dir, 'proj'));
    const home = path.join(tmp.dir, 'home');
    const fx = writeCopilotCli(home, project);
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    await importExactly(ledger, { HOME: home }, 'copilot-cli', fx);
    const sessions = ledger.database.exec(
      "SELECT session_key, branch FROM sessions WHERE source = 'copilot-cli' ORDER BY session_key",
    )[0]?.values;
    assert.deepEqual(sessions, [
      ['s-111', 'feature/login'],
      ['s-222', null],
      ['s-333', 'main'],
      ['s-444', null],
    ]);
    assert.deepEqual(sessionFiles(ledger.database, 'copilot-cli'), ['src/login.ts']);
    assert.equal(
      (await importAll(ledger, { env: { HOME: home }, quietMs: 0 })).sources.find((x) => x.source === 'copilot-cli')
        ?.interactionsAdded,
      0,
    );
    ledger.close();
  });
});
