import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportJson, UsageFigures } from '../../src/core/outcomes/report';
import { TOKEN_FIGURES } from '../../src/core/usage/tokens';
import { truthTotals, type TruthInteraction } from '../../src/demo/truth';
import { appendClaudeTurn, appendCodexTurn } from '../../src/demo/world';
import { tempDir, truthTotal } from '../helpers';
import { worldSandbox } from './sandbox';
import { cli, reportJson, sessionsJson } from './cli';

const FIELDS = [...TOKEN_FIGURES, 'interactions'] as const;

function pick(f: UsageFigures): Record<string, number> {
  return Object.fromEntries(FIELDS.map((k) => [k, f[k]]));
}

function expectMatches(
  r: ReportJson,
  truth: TruthInteraction[],
  kolkataDays: ReportJson['byDay'],
  utc: (ms: number) => string,
): void {
  const bySource = truthTotals(truth, (t) => t.source);
  assert.deepEqual(
    Object.fromEntries(r.bySource.map((s) => [s.source, pick(s)])),
    Object.fromEntries(
      [...bySource].map(([k, v]) => [
        k,
        pick({ ...v, costUSD: 0, sessions: 0, unpricedInteractions: 0, estimatedTokens: 0, tokenAccuracy: 'exact' }),
      ]),
    ),
  );
  const byModel = truthTotals(truth, (t) => `${t.source}/${t.model}`);
  assert.deepEqual(
    Object.fromEntries(r.byModel.map((m) => [`${m.source}/${m.model}`, pick(m)])),
    Object.fromEntries(
      [...byModel].map(([k, v]) => [
        k,
        pick({ ...v, costUSD: 0, sessions: 0, unpricedInteractions: 0, estimatedTokens: 0, tokenAccuracy: 'exact' }),
      ]),
    ),
  );
  const byDay = truthTotals(truth, (t) => utc(t.timestamp));
  assert.deepEqual(
    Object.fromEntries(r.byDay.map((d) => [d.date, pick(d)])),
    Object.fromEntries(
      [...byDay].map(([k, v]) => [
        k,
        pick({ ...v, costUSD: 0, sessions: 0, unpricedInteractions: 0, estimatedTokens: 0, tokenAccuracy: 'exact' }),
      ]),
    ),
  );
  // Same world grouped in a +05:30 zone, computed independently of the code under test.
  const kolkata = truthTotals(truth, (t) => new Date(t.timestamp + 5.5 * 3_600_000).toISOString().slice(0, 10));
  assert.deepEqual(
    Object.fromEntries(kolkataDays.map((d) => [d.date, d.total])),
    Object.fromEntries([...kolkata].map(([k, v]) => [k, v.total])),
  );
}

describe('import → report on a generated world (real files, real git, the bundled CLI)', function () {
  this.timeout(120_000);
  const box = worldSandbox('ol-int-', { seed: 42, badLines: 30, halfWrittenTail: true });

  before(() => {});

  it('imports every source and reports totals equal to the truth per source, model and day (UTC and Asia/Kolkata)', () => {
    const r = cli(['import', '--home', box.ledger], box.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /claude-code/);
    assert.match(r.stdout, /codex/);
    const report = reportJson(box.ledger, box.env, ['--tz', 'UTC']);
    const kolkata = reportJson(box.ledger, box.env, ['--tz', 'Asia/Kolkata']);
    expectMatches(report, box.world.truth.interactions, kolkata.byDay, (ms) => new Date(ms).toISOString().slice(0, 10));
    assert.equal(report.totals.total, truthTotal(box.world.truth.interactions));
    assert.ok(report.totals.costUSD > 0);
  });

  it('reports rejected lines per source with reasons, and they never stop the good lines from counting', () => {
    const r = reportJson(box.ledger, box.env);
    const rejected = r.coverage.reduce((s, c) => s + c.rejectedLines, 0);
    const notJson = box.world.truth.badLineDetails.filter(
      (b) => b.kind === 'not-json' || b.kind === 'truncated-json',
    ).length;
    assert.ok(rejected >= notJson, `rejected ${rejected} >= ${notJson} malformed lines`);
    assert.ok(rejected <= box.world.truth.badLines);
  });

  it('derives sessions: repository root (worktrees included), branch, repo-relative edited files', () => {
    const sessions = sessionsJson(box.ledger, box.env);
    const byKey = new Map(sessions.map((s) => [`${s.source}:${s.sessionId}`, s]));
    let compared = 0;
    for (const t of box.world.truth.sessions) {
      const s = byKey.get(`${t.source}:${t.sessionId}`);
      if (!s) continue; // a resumed copy whose lines were all duplicates lives in its original session
      compared++;
      assert.equal(s.repo, t.repo, `repo of ${t.sessionId}`);
      assert.equal(s.cwd, t.cwd);
      if (t.branch)
        assert.ok(s.branches.includes(t.branch), `branch ${t.branch} of ${t.sessionId} in ${s.branches.join(',')}`);
      assert.deepEqual(s.editedFiles, t.editedFiles, `files of ${t.sessionId}`);
    }
    assert.ok(
      compared >= box.world.truth.sessions.length - 2,
      `compared ${compared} of ${box.world.truth.sessions.length}`,
    );
  });

  it('re-import adds nothing and costs one stat per unchanged file', () => {
    const before = reportJson(box.ledger, box.env);
    const r = cli(['import', '--home', box.ledger], box.env);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Read 0\.0 MB/);
    assert.deepEqual(reportJson(box.ledger, box.env).totals, before.totals);
  });

  it('picks up new turns appended to live logs exactly, including a half-written line completed later', () => {
    const claudeSession = box.world.truth.sessions.find((s) => s.source === 'claude-code' && s.role === 'task');
    const codexSession = box.world.truth.sessions.find((s) => s.source === 'codex');
    assert.ok(claudeSession && codexSession);
    const added = [
      ...appendClaudeTurn(box.world, claudeSession.sessionId),
      ...appendCodexTurn(box.world, codexSession.sessionId),
    ];
    assert.ok(added.length > 0);
    assert.equal(cli(['import', '--home', box.ledger], box.env).code, 0);
    const all = [...box.world.truth.interactions];
    const r = reportJson(box.ledger, box.env);
    assert.equal(r.totals.total, truthTotal(all));
    assert.equal(r.totals.interactions, all.length);
  });

  it('report reads new log lines first; --no-import shows the ledger as it is', () => {
    const session = box.world.truth.sessions.find((s) => s.source === 'claude-code' && s.role === 'task');
    assert.ok(session);
    const before = reportJson(box.ledger, box.env, ['--no-import']).totals.total;
    const added = appendClaudeTurn(box.world, session.sessionId);
    const addedTotal = truthTotal(added);
    assert.ok(addedTotal > 0);
    assert.equal(reportJson(box.ledger, box.env, ['--no-import']).totals.total, before);
    assert.equal(reportJson(box.ledger, box.env).totals.total, before + addedTotal);
  });

  it('labels persist across re-imports and show as the session status', () => {
    const s = sessionsJson(box.ledger, box.env)[0];
    assert.ok(s);
    const r = cli(['label', s.sessionId.slice(0, 8), 'exploration', '--home', box.ledger], box.env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Labelled .* as exploration/);
    cli(['import', '--home', box.ledger], box.env);
    const again = sessionsJson(box.ledger, box.env).find((x) => x.id === s.id);
    assert.equal(again?.status, 'exploration');
    const report = reportJson(box.ledger, box.env);
    assert.ok(report.outcomes.labelledSessions >= 1);
    assert.ok(
      report.outcomes.tokensWithoutOutcome >= s.tokens.total,
      'labelled tokens still count as tokens without outcome',
    );
  });

  it('filters by period in the requested zone', () => {
    const day = reportJson(box.ledger, box.env).byDay[1];
    assert.ok(day);
    const r = reportJson(box.ledger, box.env, ['--since', day.date, '--until', day.date]);
    assert.equal(r.totals.total, day.total);
    assert.deepEqual(
      r.byDay.map((d) => d.date),
      [day.date],
    );
  });
});

describe('CLI contract', () => {
  it('exits 2 with a one-line message on usage errors, and every command has --help', () => {
    const env = { HOME: tempDir() };
    for (const args of [
      ['report', '--since', 'yesterday'],
      ['report', '--tz', 'Mars/Base'],
      ['report', '--bogus'],
      ['label', 'x'],
      ['frobnicate'],
      ['import', '--source', 'nope=/x'],
    ]) {
      const r = cli(args, env);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^outcome-ledger: /);
    }
    for (const c of ['import', 'report', 'sessions', 'label', 'demo']) {
      const r = cli([c, '--help'], env);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`Usage: outcome-ledger ${c}`));
    }
  });

  it('uses $OUTCOME_LEDGER_HOME, then the XDG data dir', () => {
    const h = tempDir();
    cli(['import'], { HOME: h, XDG_DATA_HOME: path.join(h, 'data') });
    assert.ok(fs.existsSync(path.join(h, 'data', 'outcome-ledger', 'ledger.sqlite')));
    cli(['import'], { HOME: h, OUTCOME_LEDGER_HOME: path.join(h, 'custom') });
    assert.ok(fs.existsSync(path.join(h, 'custom', 'ledger.sqlite')));
  });
});
