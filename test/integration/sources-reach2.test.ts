import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceName } from '../../src/core/usage/model';
import { credits, writeAmp, writeDroid, writeKimi, writeQwen, type Truth } from '../fixtures/sources';
import { tempDir } from '../helpers';
import { assertReimportAddsNothing, assertSourcesFound, cli, importAndCheckTotals, sessionsJson } from './cli';
import { makeHome } from './scripted';

const SOURCES: SourceName[] = ['amp', 'droid', 'qwen-code', 'kimi'];
const PERIOD = ['--since', '2026-01-01', '--until', '2026-12-31', '--tz', 'UTC'];

/** Amp, Factory Droid, Qwen Code and Kimi CLI in their real formats, imported by the bundled CLI. */
describe('import → report for Amp, Factory Droid, Qwen Code and Kimi CLI (real formats, the bundled CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let ledger: string;
  let env: Record<string, string>;
  let truth: Truth[];
  let rejects: Record<string, number>;

  before(() => {
    dir = tempDir('ol-reach2-');
    const home = makeHome(path.join(dir, 'home'));
    ledger = path.join(dir, 'ledger');
    const project = path.join(dir, 'app');
    fs.mkdirSync(path.join(project, '.git'), { recursive: true });
    const data = path.join(dir, 'xdg-data');
    const a = writeAmp(data, project);
    const d = writeDroid(home, project);
    const q = writeQwen(home, project);
    const k = writeKimi(home, project);
    truth = [...a.truth, ...d.truth, ...q.truth, ...k.truth];
    rejects = { amp: a.rejects, droid: d.rejects, 'qwen-code': q.rejects, kimi: k.rejects };
    env = { HOME: home, XDG_DATA_HOME: data, ...(process.env.TZ ? { TZ: process.env.TZ } : {}) };
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('per-source totals equal the fixtures\' truth, Amp\'s credits are summed as credits, rejected entries are counted', () => {
    const report = importAndCheckTotals(ledger, env, PERIOD, SOURCES, truth, rejects);
    const amp = report.bySource.find((s) => s.source === 'amp');
    assert.equal(amp?.credits, credits(truth.filter((t) => t.source === 'amp')));
    assert.equal(report.totals.credits, amp?.credits, 'only Amp bills in credits here');
    for (const s of SOURCES) assert.equal(report.bySource.find((x) => x.source === s)?.tokenAccuracy, 'exact', s);
    // Sessions carry the folder each tool recorded, so they link to the repository.
    const sessions = sessionsJson(ledger, env).filter((s) => (SOURCES as string[]).includes(s.source));
    for (const s of SOURCES) assert.ok(sessions.some((x) => x.source === s && x.repo === path.join(dir, 'app')), `${s} session in the repository: ${JSON.stringify(sessions.filter((x) => x.source === s))}`);
    const text = cli(['report', '--home', ledger, '--no-import', ...PERIOD], env);
    assert.match(text.stdout, /amp: .*0\.14 credits/);
  });

  it('a second import adds nothing and the totals stay', () => assertReimportAddsNothing(ledger, env, PERIOD));

  it('data health names each source, where it was found, its rejected entries and reasons', () => {
    const h = assertSourcesFound(ledger, env, SOURCES, rejects);
    assert.match(h.sources.find((x) => x.source === 'amp')?.gaps.join('\n') ?? '', /Amp bills in credits \(US dollars\): 0\.14 credits were recorded/);
    assert.match(h.sources.find((x) => x.source === 'droid')?.gaps.join('\n') ?? '', /running totals per session/);
    const text = cli(['health', '--home', ledger], env).stdout;
    assert.match(text, /usageLedger event 4: credits is not a non-negative number/);
    assert.match(text, /tokenUsage in an unknown shape/);
    assert.match(text, /usageMetadata in an unknown shape/);
    assert.match(text, /token_usage in an unknown shape/);
  });

  it('import --source NAME=PATH reads a folder given directly, and a mistyped name is a usage error', () => {
    const other = path.join(dir, 'ledger-direct');
    const r = cli(['import', '--home', other, '--source', `kimi=${path.join(dir, 'home', '.kimi')}`, '--source', `kimi=${path.join(dir, 'home', '.kimi-code', 'sessions')}`, '--source', `qwen-code=${path.join(dir, 'home', '.qwen')}`], { HOME: path.join(dir, 'empty-home') });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(cli(['report', '--json', '--home', other, '--no-import', ...PERIOD], { HOME: path.join(dir, 'empty-home') }).stdout) as { bySource: Array<{ source: string; interactions: number }> };
    assert.equal(report.bySource.find((s) => s.source === 'kimi')?.interactions, truth.filter((t) => t.source === 'kimi').length);
    assert.equal(report.bySource.find((s) => s.source === 'qwen-code')?.interactions, truth.filter((t) => t.source === 'qwen-code').length);
    const bad = cli(['import', '--home', other, '--source', `kimmi=${dir}`], env);
    assert.equal(bad.code, 2);
  });
});
