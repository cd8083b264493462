import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ManualEntry } from '../../src/services/manual';
import { estimateTokens } from '../../src/sources/tokenize';
import { sandbox } from './sandbox';
import { cli, reportJson, sessionsJson } from './cli';

describe('manual entries through the bundled CLI (outcome-ledger manual add|list|edit|delete)', function () {
  this.timeout(60_000);
  const box = sandbox('ol-manual-');
  let env: Record<string, string>;
  let repo: string;
  const PROMPT = 'SECRET-PROMPT-TEXT: how do I make the payment retry idempotent with a request key?';
  const REPLY = 'Store the idempotency key with the charge and return the first result for repeats. '.repeat(20);

  before(() => {
    env = { HOME: box.home, TZ: 'UTC' };
    repo = path.join(box.dir, 'shop');
    fs.mkdirSync(repo, { recursive: true });
    spawnSync('git', ['init', '-q', repo]);
    fs.writeFileSync(path.join(box.dir, 'prompt.txt'), PROMPT);
    fs.writeFileSync(path.join(box.dir, 'reply.txt'), REPLY);
  });

  const add = (args: string[]): ManualEntry => {
    const r = cli(['manual', 'add', '--home', box.ledger, '--json', ...args], env);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ManualEntry;
  };

  it('adds an entry with the counts the tool showed (exact) and one from pasted text (estimated), which report and sessions show', () => {
    const exact = add([
      '--tool',
      'ChatGPT web',
      '--model',
      'gpt-4o',
      '--input',
      '1200',
      '--output',
      '800',
      '--task',
      'PAY-7',
      '--at',
      '2026-10-01 14:30',
    ]);
    assert.deepEqual(exact.tokens, { input: 1200, output: 800, total: 2000 });
    assert.equal(exact.tokenAccuracy, 'exact');
    assert.equal(exact.at, '2026-10-01T14:30:00.000Z');
    assert.ok(exact.costUSD > 0, 'gpt-4o is priced');
    const est = add([
      '--tool',
      'Claude.ai',
      '--model',
      'claude-sonnet-4-5',
      '--prompt-file',
      path.join(box.dir, 'prompt.txt'),
      '--reply-file',
      path.join(box.dir, 'reply.txt'),
      '--repo',
      repo,
      '--branch',
      'feature/PAY-7-retry',
      '--at',
      '2026-10-02',
    ]);
    assert.deepEqual(est.tokens, {
      input: estimateTokens(PROMPT),
      output: estimateTokens(REPLY),
      total: estimateTokens(PROMPT) + estimateTokens(REPLY),
    });
    assert.equal(est.tokenAccuracy, 'estimated');
    const r = reportJson(box.ledger, env, ['--no-import']);
    const manual = r.bySource.find((s) => s.source === 'manual');
    assert.equal(manual?.total, 2000 + est.tokens.total);
    assert.equal(manual?.estimatedTokens, est.tokens.total);
    assert.equal(manual?.tokenAccuracy, 'mixed');
    // The task's tokens say how much of them is estimated (the sidebar and the summary mark them from this).
    const pay7 = r.outcomes.byTask.find((t) => t.task === 'PAY-7');
    assert.deepEqual([pay7?.tokens, pay7?.estimatedTokens], [2000 + est.tokens.total, est.tokens.total]);
    const sessions = sessionsJson(box.ledger, env);
    const s1 = sessions.find((s) => s.id === exact.id);
    assert.deepEqual(s1?.manual, { tool: 'ChatGPT web', task: 'PAY-7' });
    assert.deepEqual(s1?.tasks, ['PAY-7']);
    const s2 = sessions.find((s) => s.id === est.id);
    assert.equal(s2?.tokenAccuracy, 'estimated');
    assert.equal(fs.realpathSync(s2?.repo ?? ''), fs.realpathSync(repo));
    assert.equal(s2?.branch, 'feature/PAY-7-retry');
    assert.equal(s2?.logPath, null);
    // Privacy: the pasted text was counted, never stored.
    for (const file of ['ledger.sqlite', 'ledger.journal']) {
      if (fs.existsSync(path.join(box.ledger, file)))
        assert.ok(!fs.readFileSync(path.join(box.ledger, file)).includes(Buffer.from('SECRET-PROMPT-TEXT')), file);
    }
  });

  it('lists, edits (new counts replace the estimate; other fields stay) and deletes entries, with the figures following', () => {
    const list = cli(['manual', 'list', '--home', box.ledger], env);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /manual:m-[0-9a-f]+ .*ChatGPT web · gpt-4o · 2,000 tokens/);
    assert.match(list.stdout, /Claude\.ai · claude-sonnet-4-5 · ~[\d,]+ tokens .*estimated from text/);
    const entries = JSON.parse(cli(['manual', 'list', '--json', '--home', box.ledger], env).stdout) as ManualEntry[];
    const est = entries.find((e) => e.tool === 'Claude.ai');
    const exact = entries.find((e) => e.tool === 'ChatGPT web');
    assert.ok(est && exact);
    const edited = cli(
      ['manual', 'edit', est.id.slice(0, 12), '--input', '300', '--output', '100', '--json', '--home', box.ledger],
      env,
    );
    assert.equal(edited.code, 0, edited.stderr);
    const e = JSON.parse(edited.stdout) as ManualEntry;
    assert.deepEqual(
      [e.tokens.total, e.tokenAccuracy, e.branch, e.tool],
      [400, 'exact', 'feature/PAY-7-retry', 'Claude.ai'],
    );
    const renamed = JSON.parse(
      cli(['manual', 'edit', exact.id, '--tool', 'ChatGPT app', '--task', '', '--json', '--home', box.ledger], env)
        .stdout,
    ) as ManualEntry;
    assert.deepEqual(
      [renamed.tool, renamed.task, renamed.tokens.total, renamed.at],
      ['ChatGPT app', null, 2000, exact.at],
    );
    let r = reportJson(box.ledger, env, ['--no-import']);
    assert.equal(r.bySource.find((s) => s.source === 'manual')?.total, 2400);
    assert.equal(r.totals.tokenAccuracy, 'exact');
    const del = cli(['manual', 'delete', exact.id, '--home', box.ledger], env);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /Deleted manual:m-/);
    r = reportJson(box.ledger, env, ['--no-import']);
    assert.equal(r.totals.total, 400);
    assert.equal(r.totals.sessions, 1);
    assert.equal(
      sessionsJson(box.ledger, env).some((s) => s.id === exact.id),
      false,
    );
  });

  it('data health lists manual entries like a source', () => {
    const h = JSON.parse(cli(['health', '--json', '--home', box.ledger], env).stdout) as {
      sources: Array<{ source: string; found: boolean; interactions: number; last: string | null }>;
    };
    const m = h.sources.find((s) => s.source === 'manual');
    assert.deepEqual([m?.found, m?.interactions, m?.last], [true, 1, '2026-10-02T12:00:00.000Z']);
    assert.match(cli(['health', '--home', box.ledger], env).stdout, /## manual\n- 1 interactions logged by hand/);
  });

  it('rejects bad input with exit 2 and one clear line, and changes nothing', () => {
    const before = reportJson(box.ledger, env, ['--no-import']).totals;
    const bad: Array<[string[], RegExp]> = [
      [['manual'], /needs add, list, edit or delete/],
      [['manual', 'add', '--model', 'gpt-4o', '--input', '5'], /needs --tool and --model/],
      [['manual', 'add', '--tool', 'x', '--model', 'gpt-4o'], /token counts the tool showed, or paste the text/],
      [['manual', 'add', '--tool', 'x', '--model', 'gpt-4o', '--input', '5.5'], /whole number/],
      [
        [
          'manual',
          'add',
          '--tool',
          'x',
          '--model',
          'gpt-4o',
          '--input',
          '5',
          '--prompt-file',
          path.join(box.dir, 'prompt.txt'),
        ],
        /not both/,
      ],
      [['manual', 'add', '--tool', 'x', '--model', 'gpt-4o', '--input', '5', '--at', 'yesterday'], /--at needs/],
      [['manual', 'add', '--tool', 'x', '--model', 'gpt-4o', '--input', '5', '--at', '2999-01-01'], /in the future/],
      [
        ['manual', 'add', '--tool', 'x', '--model', 'gpt-4o', '--input', '5', '--repo', box.dir],
        /not inside a git repository/,
      ],
      [
        ['manual', 'add', '--tool', 'x', '--model', 'gpt-4o', '--input', '5', '--task', 'not a task!'],
        /does not look like a task key/,
      ],
      [
        ['manual', 'add', '--tool', 'x', '--model', 'gpt-4o', '--prompt-file', path.join(box.dir, 'missing.txt')],
        /no such file/,
      ],
      [['manual', 'edit', 'manual:m-nope', '--input', '5'], /no manual entry matches/],
      [['manual', 'edit', 'm-'], /at least one option/],
      [['manual', 'delete'], /needs the ID/],
      [['manual', 'frob'], /unknown manual subcommand/],
    ];
    for (const [args, re] of bad) {
      const r = cli([...args, '--home', box.ledger], env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re, args.join(' '));
    }
    assert.deepEqual(reportJson(box.ledger, env, ['--no-import']).totals, before);
    const h = cli(['manual', '--help'], env);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Usage: outcome-ledger manual add/);
  });
});
