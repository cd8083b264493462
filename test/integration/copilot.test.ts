import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { truthTotals } from '../../src/demo/truth';
import {
  copilotMutationLines,
  copilotWorkspace,
  writeCopilotJson,
  writeCopilotJsonl,
  type CopilotRequestSpec,
  type CopilotSessionSpec,
} from '../../src/demo/copilot';
import { estimateTokens } from '../../src/sources/tokenize';
import { cli, reportJson, sessionsJson } from './cli';
import { sandbox, worldSandbox } from './sandbox';

const T0 = Date.parse('2026-10-05T09:00:00Z');
const HOUR = 3_600_000;

function req(id: string, at: number, over: Partial<CopilotRequestSpec> = {}): CopilotRequestSpec {
  return {
    requestId: id,
    timestamp: at,
    modelId: 'copilot/gpt-4.1',
    prompt: `Please fix ${id}`,
    reply: `Fixed ${id}: the loop now stops after three attempts.`,
    promptTokens: 0,
    outputTokens: 0,
    style: 'metadata',
    ...over,
  };
}

/** What a request must count for: exact counts where the file has them, else the tokenizer's estimate. */
function truthOf(r: CopilotRequestSpec): { input: number; output: number; estimated: boolean } {
  if (r.style === 'none') return { input: estimateTokens(r.prompt), output: estimateTokens(r.reply), estimated: true };
  return { input: r.promptTokens, output: r.outputTokens, estimated: false };
}

function old(file: string): void {
  const t = new Date(Date.now() - 10 * 60_000);
  fs.utimesSync(file, t, t);
}

describe('Copilot Chat: end to end through the bundled CLI (real VS Code user folder layout, real git)', function () {
  this.timeout(120_000);
  const box = sandbox('ol-copilot-');
  let env: Record<string, string>;
  let repo: string;
  let chat: string;
  const sessions: CopilotSessionSpec[] = [];
  const files: Record<string, string> = {};

  before(() => {
    env = { HOME: box.home, XDG_CONFIG_HOME: path.join(box.home, '.config'), TZ: 'UTC' };
    repo = path.join(box.dir, 'repos', 'shop');
    fs.mkdirSync(path.join(repo, 'src'), { recursive: true });
    spawnSync('git', ['init', '-q', repo]);
    const user = path.join(box.home, '.config', 'Code', 'User');
    chat = copilotWorkspace(user, '9f1c0ab2e3', repo);
    // Current build: result.metadata counts, a .jsonl mutation log with a streamed response and an edit group.
    sessions.push({
      sessionId: 'jsonl-new',
      creationDate: T0,
      requests: [
        req('request_a1', T0, { promptTokens: 12_400, outputTokens: 830, edits: [path.join(repo, 'src', 'cart.ts')] }),
        req('request_a2', T0 + 5 * 60_000, {
          modelId: 'copilot/claude-sonnet-4',
          promptTokens: 15_020,
          outputTokens: 1_204,
          edits: [path.join(repo, 'src', 'cart.ts'), path.join(repo, 'src', 'price.ts')],
        }),
      ],
    });
    files.jsonl = writeCopilotJsonl(chat, sessions[0] as CopilotSessionSpec);
    // Older build: a .json document with result.usage counts.
    sessions.push({
      sessionId: 'json-usage',
      creationDate: T0 + HOUR,
      requests: [req('request_b1', T0 + HOUR, { style: 'usage', promptTokens: 8_000, outputTokens: 400 })],
    });
    files.usage = writeCopilotJson(chat, sessions[1] as CopilotSessionSpec);
    // Oldest: no counts at all (estimated), no modelId.
    sessions.push({
      sessionId: 'json-none',
      creationDate: T0 + 2 * HOUR,
      requests: [req('request_c1', T0 + 2 * HOUR, { style: 'none', modelId: undefined })],
    });
    files.none = writeCopilotJson(chat, sessions[2] as CopilotSessionSpec);
    // An empty window's chat (no folder), compacted.
    const empty = path.join(user, 'globalStorage', 'emptyWindowChatSessions');
    fs.mkdirSync(empty, { recursive: true });
    sessions.push({
      sessionId: 'empty-window',
      creationDate: T0 + 3 * HOUR,
      requests: [req('request_d1', T0 + 3 * HOUR, { promptTokens: 300, outputTokens: 90 })],
    });
    files.empty = writeCopilotJsonl(empty, sessions[3] as CopilotSessionSpec, true);
    // Garbage: a session file that is not JSON at all (quiet: not being written), and a log with a bad line.
    files.garbage = path.join(chat, 'broken.json');
    fs.writeFileSync(files.garbage, '{"version": 3, "requests": [ {"requestId": "x", ');
    old(files.garbage);
  });

  const truthTotal = (): { total: number; estimated: number; interactions: number } => {
    let total = 0;
    let estimated = 0;
    let interactions = 0;
    for (const s of sessions)
      for (const r of s.requests) {
        if (r.pending) continue;
        const t = truthOf(r);
        total += t.input + t.output;
        if (t.estimated) estimated += t.input + t.output;
        interactions++;
      }
    return { total, estimated, interactions };
  };

  it("imports every format and reports totals equal to the fixtures' truth, exact and estimated apart", () => {
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /copilot-chat/);
    assert.match(r.stdout, /broken\.json: not a complete JSON document/);
    const report = reportJson(box.ledger, env, ['--no-import']);
    const truth = truthTotal();
    const src = report.bySource.find((s) => s.source === 'copilot-chat');
    assert.ok(src);
    assert.equal(src.total, truth.total);
    assert.equal(src.interactions, truth.interactions);
    assert.equal(src.estimatedTokens, truth.estimated);
    assert.equal(src.tokenAccuracy, 'mixed');
    assert.equal(report.totals.tokenAccuracy, 'mixed');
    assert.equal(report.totals.cacheRead + report.totals.cacheWrite, 0, 'Copilot reports no cache split');
    const byModel = Object.fromEntries(report.byModel.map((m) => [m.model, [m.total, m.tokenAccuracy]]));
    assert.deepEqual(byModel, {
      'gpt-4.1': [12_400 + 830 + 8_000 + 400 + 300 + 90, 'exact'],
      'claude-sonnet-4': [15_020 + 1_204, 'exact'],
      'gpt-4o': [truth.estimated, 'estimated'],
    });
    const cov = report.coverage.find((c) => c.source === 'copilot-chat');
    assert.equal(cov?.rejectedLines, 1);
    assert.equal(cov?.assumedModelInteractions, 1);
    const text = cli(['report', '--home', box.ledger, '--no-import'], env).stdout;
    assert.match(text, /copilot-chat\s+~/);
    assert.match(text, /~ marks token figures that are partly or wholly estimated/);
  });

  it('sessions --json: the workspace folder as cwd and repository, repo-relative edited files, and whether tokens are estimated', () => {
    const list = sessionsJson(box.ledger, env);
    const by = new Map(list.map((s) => [s.sessionId, s]));
    const a = by.get('jsonl-new');
    assert.equal(a?.cwd, repo);
    assert.equal(fs.realpathSync(a?.repo ?? ''), fs.realpathSync(repo));
    assert.deepEqual(a?.editedFiles, ['src/cart.ts', 'src/price.ts']);
    assert.equal(a?.tokenAccuracy, 'exact');
    assert.equal(a?.estimatedTokens, 0);
    assert.deepEqual(a?.models, ['claude-sonnet-4', 'gpt-4.1']);
    assert.equal(by.get('json-none')?.tokenAccuracy, 'estimated');
    assert.equal(by.get('json-none')?.estimatedTokens, by.get('json-none')?.tokens.total);
    assert.equal(by.get('empty-window')?.cwd, null);
    assert.match(cli(['sessions', '--home', box.ledger, '--no-import'], env).stdout, /~\d/);
  });

  it('data health shows Copilot Chat: found, where, last record, rejected lines with reasons, and the estimated tokens', () => {
    const r = cli(['health', '--json', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    const h = JSON.parse(r.stdout) as {
      sources: Array<{
        source: string;
        found: boolean;
        roots: Array<{ path: string; exists: boolean }>;
        files: number;
        last: string | null;
        rejectedLines: number;
        reasons: Array<{ reason: string }>;
        gaps: string[];
        estimatedTokens: number;
      }>;
    };
    const c = h.sources.find((s) => s.source === 'copilot-chat');
    assert.ok(c);
    assert.equal(c.found, true);
    assert.equal(c.files, 5);
    assert.ok(c.roots.some((x) => x.exists && x.path === path.join(env.XDG_CONFIG_HOME as string, 'Code', 'User')));
    assert.ok(c.roots.some((x) => x.path.endsWith(path.join('.vscode-server', 'data', 'User'))));
    assert.equal(c.last, new Date(T0 + 3 * HOUR).toISOString());
    assert.equal(c.rejectedLines, 1);
    assert.deepEqual(
      c.reasons.map((x) => x.reason),
      ['not a complete JSON document'],
    );
    assert.equal(c.estimatedTokens, truthTotal().estimated);
    assert.ok(c.gaps.some((g) => /estimated: older Copilot Chat files record no token counts/.test(g)));
    const text = cli(['health', '--home', box.ledger], env).stdout;
    assert.match(text, /## copilot-chat/);
    assert.match(text, /broken\.json`: not a complete JSON document/);
  });

  it('re-import of unchanged files adds nothing', () => {
    const before = reportJson(box.ledger, env, ['--no-import']).totals;
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Read 0\.0 MB/);
    assert.deepEqual(reportJson(box.ledger, env, ['--no-import']).totals, before);
  });

  it('appends to the mutation log (a new request, its result later) and a rewritten .json add exactly the new requests', () => {
    const s = sessions[0] as CopilotSessionSpec;
    const next = req('request_a3', T0 + 9 * 60_000, { promptTokens: 17_777, outputTokens: 333, pending: true });
    s.requests.push(next);
    // VS Code pushes the request first; its result arrives with a later write.
    const full = copilotMutationLines(s);
    fs.writeFileSync(files.jsonl as string, `${full.join('\n')}\n`);
    assert.equal(cli(['import', '--home', box.ledger], env).code, 0);
    assert.equal(
      reportJson(box.ledger, env, ['--no-import']).totals.total,
      truthTotal().total,
      'a running request adds nothing yet',
    );
    next.pending = false;
    fs.appendFileSync(
      files.jsonl as string,
      `${JSON.stringify({ kind: 1, k: ['requests', 2, 'result'], v: { metadata: { promptTokens: 17_777, outputTokens: 333 } } })}\n`,
    );
    // The old .json session is rewritten whole with one more request.
    const u = sessions[1] as CopilotSessionSpec;
    u.requests.push(req('request_b2', T0 + HOUR + 60_000, { style: 'usage', promptTokens: 900, outputTokens: 50 }));
    writeCopilotJson(chat, u);
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    const totals = reportJson(box.ledger, env, ['--no-import']).totals;
    assert.equal(totals.total, truthTotal().total);
    assert.equal(totals.interactions, truthTotal().interactions);
  });

  it('compaction (the log rewritten as one kind 0 line) and a half-written tail add nothing and lose nothing', () => {
    const before = reportJson(box.ledger, env, ['--no-import']).totals;
    const s = sessions[0] as CopilotSessionSpec;
    fs.writeFileSync(files.jsonl as string, `${copilotMutationLines(s, true).join('\n')}\n{"kind":1,"k":["customTi`);
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0);
    assert.doesNotMatch(r.stdout, /jsonl.*rejected|half-written/);
    assert.deepEqual(reportJson(box.ledger, env, ['--no-import']).totals, before);
  });

  it('reads one session file given with --source copilot-chat=FILE (a whole document, not lines)', () => {
    const loose = path.join(box.dir, 'exported', 'chat.json');
    fs.mkdirSync(path.dirname(loose), { recursive: true });
    const spec: CopilotSessionSpec = {
      sessionId: 'exported',
      creationDate: T0 + 5 * HOUR,
      requests: [req('request_e1', T0 + 5 * HOUR, { promptTokens: 1_111, outputTokens: 222 })],
    };
    writeCopilotJson(path.dirname(loose), spec);
    fs.renameSync(path.join(path.dirname(loose), 'exported.json'), loose);
    const before = reportJson(box.ledger, env, ['--no-import']).totals.total;
    const r = cli(['import', '--home', box.ledger, '--source', `copilot-chat=${loose}`], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(reportJson(box.ledger, env, ['--no-import']).totals.total, before + 1_333);
    assert.equal(cli(['import', '--home', box.ledger, '--source', 'gemini-nope=/x'], env).code, 2);
  });

  it('opens a ledger written by the previous schema (no estimated column) and keeps its figures', async () => {
    const SQL = await initSqlJs();
    const file = path.join(box.ledger, 'ledger.sqlite');
    const db = new SQL.Database(fs.readFileSync(file));
    // Make it look like a version-3 ledger: drop what versions 4 (estimates) and 6 (credits) added.
    db.exec('ALTER TABLE interactions DROP COLUMN credits_u');
    db.exec(
      'CREATE TABLE r3 AS SELECT session_ref, model_ref, bucket, first_ts, last_ts, input, output, cache_read, cache_write, reasoning, cost_nusd, n, unpriced, assumed FROM usage_rollup; DROP TABLE usage_rollup; DROP TABLE manual_entries;',
    );
    db.exec(
      'CREATE TABLE usage_rollup (session_ref INTEGER NOT NULL, model_ref INTEGER NOT NULL, bucket INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, input INTEGER NOT NULL, output INTEGER NOT NULL, cache_read INTEGER NOT NULL, cache_write INTEGER NOT NULL, reasoning INTEGER NOT NULL, cost_nusd INTEGER NOT NULL, n INTEGER NOT NULL, unpriced INTEGER NOT NULL, assumed INTEGER NOT NULL, PRIMARY KEY (session_ref, model_ref, bucket)) WITHOUT ROWID; INSERT INTO usage_rollup SELECT * FROM r3; DROP TABLE r3;',
    );
    // Version 3 knew no estimates.
    db.exec('UPDATE interactions SET flags = flags & ~4');
    db.run("UPDATE meta SET value = '3' WHERE key = 'schema_version'");
    const before = Number(db.exec('SELECT sum(input + output) FROM interactions')[0]?.values[0]?.[0]);
    fs.writeFileSync(file, Buffer.from(db.export()));
    db.close();
    const r = reportJson(box.ledger, env, ['--no-import']);
    assert.equal(r.totals.total, before);
    assert.equal(r.totals.tokenAccuracy, 'exact');
    assert.equal(r.totals.estimatedTokens, 0);
  });
});

describe("Copilot Chat in the demo world (copilotSessions): totals equal the world's truth", function () {
  this.timeout(120_000);
  const box = worldSandbox('ol-copilot-world-', { seed: 11, copilotSessions: 8 });

  it('imports Claude Code, Codex and Copilot Chat together: per source and model equal to the truth, estimates marked, re-import adds nothing', () => {
    const { world, env } = box;
    const r = cli(['import', '--home', box.ledger], env);
    assert.equal(r.code, 0, r.stderr);
    const report = reportJson(box.ledger, env, ['--no-import']);
    const pick = (f: { input: number; output: number; total: number; interactions: number }): number[] => [
      f.input,
      f.output,
      f.total,
      f.interactions,
    ];
    const bySource = truthTotals(world.truth.interactions, (t) => t.source);
    assert.deepEqual(
      Object.fromEntries(report.bySource.map((s) => [s.source, pick(s)])),
      Object.fromEntries([...bySource].map(([k, v]) => [k, pick(v)])),
    );
    const byModel = truthTotals(world.truth.interactions, (t) => `${t.source}/${t.model}`);
    assert.deepEqual(
      Object.fromEntries(report.byModel.map((m) => [`${m.source}/${m.model}`, pick(m)])),
      Object.fromEntries([...byModel].map(([k, v]) => [k, pick(v)])),
    );
    const estimated = world.truth.interactions.filter((t) => t.estimated).reduce((s, t) => s + t.input + t.output, 0);
    assert.ok(estimated > 0);
    assert.equal(report.totals.estimatedTokens, estimated);
    assert.equal(report.bySource.find((s) => s.source === 'claude-code')?.tokenAccuracy, 'exact');
    assert.equal(report.bySource.find((s) => s.source === 'copilot-chat')?.tokenAccuracy, 'mixed');
    const sessions = sessionsJson(box.ledger, env).filter((s) => s.source === 'copilot-chat');
    assert.deepEqual(
      sessions.map((s) => [s.sessionId, s.cwd]).sort(),
      world.truth.sessions
        .filter((s) => s.source === 'copilot-chat')
        .map((s) => [s.sessionId, s.cwd])
        .sort(),
    );
    assert.equal(cli(['import', '--home', box.ledger], env).code, 0);
    assert.deepEqual(reportJson(box.ledger, env, ['--no-import']).totals, report.totals);
  });
});
