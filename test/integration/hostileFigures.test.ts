import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_TOKENS_PER_FIELD } from '../../src/core/usage/bounds';
import { copilotWorkspace, writeCopilotJson } from '../../src/demo/copilot';
import { copilotRequest } from '../fixtures/sources';
import { cli, exportAllRollup, reportJson, type HealthJson } from './cli';
import { daysAgo, HOUR, Logs, startRepo } from './scripted';
import { sandbox } from './sandbox';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Issue 12, hostile figures: absurd token counts (Claude Code's 9007199254740991, Aider's 1e44, a Copilot count over
 * 10^9) and a Claude Code line with `input_tokens` twice are rejected lines with a reason (core/usage/bounds.ts, the
 * duplicate-key rule); the plausible lines beside them count, and report, summary (signed, verified) and rollup export
 * still work.
 */
describe('hostile figures: implausible counts and duplicate keys are rejected lines, never stored figures (the bundled CLI)', function () {
  this.timeout(180_000);
  const box = sandbox('ol-figures-');
  let env: Record<string, string>;
  const SESSION = '8ddddddd-0000-4000-8000-000000000001';

  before(() => {
    const logs = new Logs(box.home);
    const repo = startRepo(box.dir, box.home, Date.parse('2026-03-01T10:00:00Z'));
    const D = daysAgo(2);
    const base = {
      sessionId: SESSION,
      cwd: repo.dir,
      gitBranch: 'main',
      version: '2.0.14',
      isSidechain: false,
      userType: 'external',
    };
    const assistant = (i: number, usage: string): string =>
      `{"parentUuid":null,"sessionId":"${SESSION}","cwd":${JSON.stringify(repo.dir)},"gitBranch":"main","version":"2.0.14","isSidechain":false,"userType":"external","type":"assistant","uuid":"${SESSION}-a${i}","timestamp":"${iso(D + i * 60_000)}","requestId":"req_${i}","message":{"id":"msg_${i}","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"ok"}],"usage":${usage}}}`;
    const file = path.join(box.home, '.claude', 'projects', '-app', `${SESSION}.jsonl`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      [
        JSON.stringify({
          ...base,
          type: 'user',
          uuid: `${SESSION}-u0`,
          timestamp: iso(D),
          message: { role: 'user', content: 'Do it' },
        }),
        assistant(
          1,
          '{"input_tokens":100,"output_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}',
        ),
        assistant(
          2,
          '{"input_tokens":9007199254740991,"output_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}',
        ),
        assistant(
          3,
          '{"input_tokens":100,"output_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"input_tokens":5000000}',
        ),
        assistant(
          4,
          `{"input_tokens":100,"output_tokens":${MAX_TOKENS_PER_FIELD + 1},"cache_creation_input_tokens":0,"cache_read_input_tokens":0}`,
        ),
        assistant(
          5,
          `{"input_tokens":${MAX_TOKENS_PER_FIELD},"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}`,
        ),
      ].join('\n') + '\n',
    );
    fs.writeFileSync(
      path.join(repo.dir, '.aider.chat.history.md'),
      [
        '',
        '# aider chat started at 2026-03-09 16:40:11',
        '',
        '> Aider v0.86.1',
        '> Main model: anthropic/claude-sonnet-4-20250514 with diff edit format',
        '',
        '#### make it sortable',
        '',
        'Done.',
        '',
        `> Tokens: 1${'0'.repeat(44)} sent, 251 received. Cost: $0.02 message, $0.02 session.  `,
        '',
        '#### and faster',
        '',
        'Done.',
        '',
        '> Tokens: 2,000 sent, 300 received. Cost: $0.01 message, $0.03 session.  ',
        '',
      ].join('\n'),
    );
    const user = path.join(box.home, '.config', 'Code', 'User');
    const chat = copilotWorkspace(user, 'f00d', repo.dir);
    writeCopilotJson(chat, {
      sessionId: 'huge',
      creationDate: D,
      requests: [
        copilotRequest(1, {
          timestamp: D,
          prompt: 'a',
          reply: 'b',
          promptTokens: 3 * MAX_TOKENS_PER_FIELD,
          outputTokens: 20,
        }),
        copilotRequest(2, { timestamp: D + 1000, prompt: 'c', reply: 'd', promptTokens: 700, outputTokens: 20 }),
      ],
    });
    const old = new Date(Date.now() - HOUR);
    fs.utimesSync(path.join(chat, 'huge.json'), old, old);
    // Amp, Droid, Qwen Code and Kimi CLI: one absurd figure beside a plausible one each.
    const write = (file: string, text: string): void => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    };
    const sonnet = 'claude-sonnet-4-5-20250929';
    write(
      path.join(box.dir, 'xdg-data', 'amp', 'threads', 'T-huge.json'),
      JSON.stringify({
        id: 'T-huge',
        created: D,
        messages: [],
        usageLedger: {
          events: [
            {
              id: 'h1',
              timestamp: iso(D),
              model: sonnet,
              credits: 0.5,
              tokens: { input: 9007199254740991, output: 1 },
            },
            { id: 'h2', timestamp: iso(D + 1000), model: sonnet, credits: 1e12, tokens: { input: 1, output: 1 } },
            { id: 'h3', timestamp: iso(D + 2000), model: sonnet, credits: 0.25, tokens: { input: 300, output: 30 } },
          ],
        },
      }),
    );
    const droid = path.join(box.home, '.factory', 'sessions', '-app');
    write(
      path.join(droid, 'aaaaaaaa-0000-4000-8000-000000000001.settings.json'),
      JSON.stringify({ model: sonnet, tokenUsage: { inputTokens: 5 * MAX_TOKENS_PER_FIELD, outputTokens: 10 } }),
    );
    write(
      path.join(droid, 'aaaaaaaa-0000-4000-8000-000000000002.settings.json'),
      JSON.stringify({ model: sonnet, tokenUsage: { inputTokens: 400, outputTokens: 40 } }),
    );
    const qwenRec = (uuid: string, prompt: number): string =>
      JSON.stringify({
        uuid,
        parentUuid: null,
        sessionId: 'q-huge',
        timestamp: iso(D),
        type: 'assistant',
        cwd: repo.dir,
        version: '0.2.1',
        model: 'qwen3-coder-plus',
        usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: 5, totalTokenCount: prompt + 5 },
      });
    write(
      path.join(box.home, '.qwen', 'projects', '-app', 'chats', 'q-huge.jsonl'),
      `${qwenRec('q1', 3 * MAX_TOKENS_PER_FIELD)}\n${qwenRec('q2', 700)}\n`,
    );
    const kimiRec = (id: string, input: number): string =>
      JSON.stringify({
        timestamp: D / 1000,
        message: {
          type: 'StatusUpdate',
          payload: {
            token_usage: { input_other: input, output: 5, input_cache_read: 0, input_cache_creation: 0 },
            message_id: id,
          },
        },
      });
    write(
      path.join(box.home, '.kimi', 'sessions', 'g', 'k-huge', 'wire.jsonl'),
      `${kimiRec('k1', 2 * MAX_TOKENS_PER_FIELD)}\n${kimiRec('k2', 900)}\n`,
    );
    env = {
      ...logs.env(),
      XDG_CONFIG_HOME: path.join(box.home, '.config'),
      XDG_DATA_HOME: path.join(box.dir, 'xdg-data'),
    };
  });

  it("stores only the plausible requests and names each rejected line's reason in data health", () => {
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    const report = reportJson(box.ledger, env, ['--no-import', '--since', '2000-01-01', '--until', '2100-01-01']);
    const claude = report.bySource.find((s) => s.source === 'claude-code');
    assert.equal(claude?.interactions, 2, 'lines 1 and 5 (10^9 is the ceiling, inclusive)');
    assert.equal(claude?.input, 100 + MAX_TOKENS_PER_FIELD);
    assert.equal(report.bySource.find((s) => s.source === 'aider')?.input, 2000);
    assert.equal(report.bySource.find((s) => s.source === 'copilot-chat')?.input, 700);
    assert.equal(report.bySource.find((s) => s.source === 'amp')?.input, 300);
    assert.equal(report.bySource.find((s) => s.source === 'amp')?.credits, 0.25);
    assert.equal(report.bySource.find((s) => s.source === 'droid')?.input, 400);
    assert.equal(report.bySource.find((s) => s.source === 'qwen-code')?.input, 700);
    assert.equal(report.bySource.find((s) => s.source === 'kimi')?.input, 900);
    assert.ok(report.totals.total < 2e9, `no absurd total: ${report.totals.total}`);
    const h = JSON.parse(cli(['health', '--json', '--home', box.ledger], env).stdout) as HealthJson;
    const reasons = (s: string): string[] =>
      (h.sources.find((x) => x.source === s)?.reasons ?? []).map((x) => x.reason);
    // Each rejected line is named with its reason in the source's health.
    for (const [source, reason] of [
      ['claude-code', /implausible input token count 9007199254740991/],
      ['claude-code', /the key "input_tokens" appears twice/],
      ['claude-code', /implausible output token count 1000000001/],
      ['aider', /implausible input token count 1e\+44/],
      ['copilot-chat', /implausible input token count 3000000000/],
      ['amp', /implausible input token count 9007199254740991/],
      ['amp', /implausible credits 1000000000000/],
      ['droid', /implausible input token count 5000000000/],
      ['qwen-code', /implausible input token count 3000000000/],
      ['kimi', /implausible input token count 2000000000/],
    ] as const)
      assert.ok(
        reasons(source).some((x) => reason.test(x)),
        reasons(source).join(' | '),
      );
  });

  it('report, a signed summary that verifies, and a rollup export still work afterwards', () => {
    const text = cli(['report', '--no-import', '--home', box.ledger], env);
    assert.equal(text.code, 0, text.stderr);
    const md = path.join(box.dir, 'summary.md');
    const s = cli(
      ['summary', '--since', '2000-01-01', '--until', '2100-01-01', '--out', md, '--no-import', '--home', box.ledger],
      env,
    );
    assert.equal(s.code, 0, s.stderr);
    const v = cli(['verify', md, '--ledger', '--home', box.ledger], env);
    assert.equal(v.code, 0, `${v.stdout}${v.stderr}`);
    const out = path.join(box.dir, 'rollup.json');
    const x = exportAllRollup(box.ledger, env, out);
    assert.equal(x.code, 0, x.stderr);
    assert.ok(fs.statSync(out).size > 0);
  });
});
