import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceName } from '../../src/core/usage/model';
import { credits, writeAmazonQ, writeCopilotCli, writeCursor, writeKiro, type Truth } from '../fixtures/sources';
import { tempDir } from '../helpers';
import { assertReimportAddsNothing, assertSourcesFound, cli, importAndCheckTotals, sessionsJson } from './cli';
import { makeHome } from './scripted';

const SOURCES: SourceName[] = ['kiro', 'amazon-q', 'cursor', 'copilot-cli'];
const PERIOD = ['--since', '2026-01-01', '--until', '2026-12-31', '--tz', 'UTC'];

/** Kiro, Amazon Q Developer, Cursor and Copilot CLI in their real formats, imported by the bundled CLI. */
describe('import → report for Kiro, Amazon Q Developer, Cursor and Copilot CLI (real formats, the bundled CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let ledger: string;
  let env: Record<string, string>;
  let truth: Truth[];
  let rejects: Record<string, number>;

  before(() => {
    dir = tempDir('ol-reach-');
    const home = makeHome(path.join(dir, 'home'));
    ledger = path.join(dir, 'ledger');
    const project = path.join(dir, 'app');
    fs.mkdirSync(path.join(project, '.git'), { recursive: true });
    const data = path.join(dir, 'xdg-data');
    const k = writeKiro(home, data, project);
    const q = writeAmazonQ(home, data, project);
    const c = writeCursor(path.join(dir, 'xdg-config'));
    const g = writeCopilotCli(home, project);
    truth = [...k.truth, ...q.truth, ...c.truth, ...g.truth];
    rejects = { kiro: k.rejects, 'amazon-q': q.rejects, cursor: c.rejects, 'copilot-cli': g.rejects };
    env = { HOME: home, XDG_DATA_HOME: data, XDG_CONFIG_HOME: path.join(dir, 'xdg-config'), ...(process.env.TZ ? { TZ: process.env.TZ } : {}) };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('per-source totals equal the fixtures\' truth, Kiro\'s credits are summed as credits, rejected entries are counted', () => {
    const report = importAndCheckTotals(ledger, env, PERIOD, SOURCES, truth, rejects);
    const kiro = report.bySource.find((s) => s.source === 'kiro');
    assert.equal(kiro?.credits, credits(truth.filter((t) => t.source === 'kiro')));
    assert.equal(report.totals.credits, kiro?.credits, 'only Kiro bills in credits');
    assert.equal(report.bySource.find((s) => s.source === 'cursor')?.credits, undefined);
    assert.equal(report.bySource.find((s) => s.source === 'amazon-q')?.tokenAccuracy, 'estimated');
    assert.equal(report.bySource.find((s) => s.source === 'cursor')?.tokenAccuracy, 'mixed');
    assert.equal(report.bySource.find((s) => s.source === 'copilot-cli')?.tokenAccuracy, 'exact');
    // sessions --json carries each Kiro session's credits beside its tokens.
    const sessions = sessionsJson(ledger, env).filter((s) => s.source === 'kiro');
    assert.equal(Math.round(sessions.reduce((a, s) => a + (s.credits ?? 0), 0) * 1e6) / 1e6, kiro?.credits);
    // The text report says what credits are.
    const text = cli(['report', '--home', ledger, '--no-import', ...PERIOD], env);
    assert.match(text.stdout, /kiro: .*3\.96 credits/);
    assert.match(text.stdout, /Credits \(3\.96\) are what tools that bill in credits \(Kiro, Amp\) metered/);
  });

  it('a second import adds nothing and the totals stay', () => assertReimportAddsNothing(ledger, env, PERIOD));

  it('data health names each source, where it was found, and what is exact, estimated or in credits', () => {
    const h = assertSourcesFound(ledger, env, SOURCES, rejects);
    assert.match(h.sources.find((x) => x.source === 'kiro')?.gaps.join('\n') ?? '', /Kiro meters credits, not tokens: 3\.96 credits were recorded, priced at \$0\.04 a credit/);
    assert.match(h.sources.find((x) => x.source === 'amazon-q')?.gaps.join('\n') ?? '', /Amazon Q Developer records no token counts/);
    assert.match(h.sources.find((x) => x.source === 'cursor')?.gaps.join('\n') ?? '', /newer Cursor builds write 0 tokens/);
    const text = cli(['health', '--home', ledger], env).stdout;
    assert.match(text, /k2-0001\.json`: turn 3: metering_usage: usage in an unknown unit "token"/);
    assert.match(text, /state\.vscdb`: bubbleId:c-1:a4: tokenCount holds no non-negative integers/);
  });

  it('an outcome summary carries Kiro\'s credits and verifies', () => {
    const out = path.join(dir, 'summary.json');
    const r = cli(['summary', '--home', ledger, '--no-import', ...PERIOD, '--format', 'json', '--out', out], env);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { summary: { totals: { credits?: number }; bySource: Array<{ source: string; credits?: number }> } };
    assert.equal(doc.summary.totals.credits, 3.96);
    assert.equal(doc.summary.bySource.find((s) => s.source === 'kiro')?.credits, 3.96);
    const v = cli(['verify', out, '--ledger', '--home', ledger], env);
    assert.equal(v.code, 0, v.stderr);
  });
});
