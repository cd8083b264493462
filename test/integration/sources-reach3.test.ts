import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceName } from '../../src/core/usage/model';
import { copilotWorkspace, writeCopilotJsonl } from '../../src/demo/copilot';
import { credits, writeCopilotTraces, writeCursor, writeCursorWorkspaces, writeKiroIde, type Truth } from '../fixtures/sources';
import { tempDir } from '../helpers';
import { assertReimportAddsNothing, assertSourcesFound, cli, importAndCheckTotals, sessionsJson } from './cli';
import { makeHome } from './scripted';

const SOURCES: SourceName[] = ['kiro', 'cursor', 'copilot-chat'];
const PERIOD = ['--since', '2026-01-01', '--until', '2026-12-31', '--tz', 'UTC'];

/** Kiro IDE, Cursor's workspaces and Copilot Chat's OpenTelemetry store in their real formats, through the bundled CLI. */
describe('import → report for Kiro IDE, Cursor workspaces and Copilot Chat exact counts (real formats, the bundled CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let ledger: string;
  let env: Record<string, string>;
  let truth: Truth[];
  let rejects: Record<string, number>;
  let project: string;

  before(() => {
    dir = tempDir('ol-reach3-');
    const home = makeHome(path.join(dir, 'home'));
    ledger = path.join(dir, 'ledger');
    project = path.join(dir, 'app');
    fs.mkdirSync(path.join(project, '.git'), { recursive: true });
    const config = path.join(dir, 'xdg-config');
    const k = writeKiroIde(config, project);
    const c = writeCursor(config);
    writeCursorWorkspaces(config, project, ['c-1']);
    // Copilot Chat: one request the session file has no counts for (the store has its two calls), one it has.
    const user = path.join(config, 'Code', 'User');
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    writeCopilotJsonl(copilotWorkspace(user, 'ws-1', project), { sessionId: 'sess-x', creationDate: t0, requests: [
      { requestId: 'q1', timestamp: t0 + 60_000, modelId: 'copilot/gpt-5', prompt: 'Fix the flaky test', reply: 'Done: the wait is now on the event.', promptTokens: 0, outputTokens: 0, style: 'none' },
      { requestId: 'q2', timestamp: t0 + 120_000, modelId: 'copilot/gpt-4.1', prompt: 'Explain it', reply: 'The event fires after the timer.', promptTokens: 1500, outputTokens: 90, style: 'metadata' },
    ] });
    writeCopilotTraces(user, [
      { spanId: 's1', session: 'sess-x', start: t0 + 61_000, model: 'gpt-5', input: 12000, cached: 9000, output: 700, reasoning: 300 },
      { spanId: 's2', session: 'sess-x', start: t0 + 75_000, model: 'gpt-5', input: 14000, cached: 12000, creation: 1000, output: 150 },
    ]);
    const copilot: Truth[] = [
      { source: 'copilot-chat', model: 'gpt-5', timestamp: t0 + 79_000, input: 3000 + 1000, output: 850, cacheRead: 21000, cacheWrite: 1000, reasoning: 300 },
      { source: 'copilot-chat', model: 'gpt-4.1', timestamp: t0 + 120_000, input: 1500, output: 90, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    ];
    truth = [...k.truth, ...c.truth, ...copilot];
    rejects = { kiro: k.rejects, cursor: c.rejects, 'copilot-chat': 0 };
    env = { HOME: home, XDG_CONFIG_HOME: config, XDG_DATA_HOME: path.join(dir, 'xdg-data'), ...(process.env.TZ ? { TZ: process.env.TZ } : {}) };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('per-source totals equal the fixtures\' truth: Kiro IDE credits exact and tokens estimated, Copilot Chat\'s store exact', () => {
    const report = importAndCheckTotals(ledger, env, PERIOD, SOURCES, truth, rejects);
    const kiro = report.bySource.find((s) => s.source === 'kiro');
    assert.equal(kiro?.credits, credits(truth.filter((t) => t.source === 'kiro')));
    assert.equal(kiro?.tokenAccuracy, 'estimated');
    assert.equal(report.bySource.find((s) => s.source === 'copilot-chat')?.tokenAccuracy, 'exact');
    // Every session carries its folder: Kiro's workspace, Cursor's workspace, Copilot's workspace.
    const sessions = sessionsJson(ledger, env).filter((s) => (SOURCES as string[]).includes(s.source));
    for (const s of SOURCES) assert.ok(sessions.some((x) => x.source === s && x.repo === project), `${s} session in the repository: ${JSON.stringify(sessions.filter((x) => x.source === s))}`);
  });

  it('a second import adds nothing and the totals stay', () => assertReimportAddsNothing(ledger, env, PERIOD));

  it('data health names each source, its rejected entries with reasons, and why Kiro IDE\'s tokens are estimates', () => {
    const h = assertSourcesFound(ledger, env, SOURCES, rejects);
    assert.match(h.sources.find((x) => x.source === 'kiro')?.gaps.join('\n') ?? '', /Kiro IDE records no token counts/);
    const text = cli(['health', '--home', ledger], env).stdout;
    assert.match(text, /usageSummary: usage in an unknown unit "token"/);
    assert.match(text, /not a Kiro execution \(no executionId\)/);
  });
});
