import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceName } from '../../src/core/usage/model';
import { writeAider, writeCline, writeContinue, writeGemini, writeOpenCode, type Truth } from '../fixtures/sources';
import { assertReimportAddsNothing, assertSourcesFound, cli, importAndCheckTotals, sessionsJson } from './cli';
import { ME, Repo } from './scripted';
import { sandbox } from './sandbox';

const SOURCES: SourceName[] = ['gemini-cli', 'opencode', 'cline', 'roo-code', 'continue', 'aider'];
const PERIOD = ['--since', '2024-01-01', '--until', '2026-12-31', '--tz', 'UTC'];

/** Gemini CLI, OpenCode, Cline, Roo Code, Continue and Aider logs in their real formats, imported by the bundled CLI. */
describe('import → report for Gemini CLI, OpenCode, Cline, Roo Code, Continue and Aider (real formats, the bundled CLI)', function () {
  this.timeout(120_000);
  const box = sandbox('ol-more-');
  let env: Record<string, string>;
  let truth: Truth[];
  let rejects: Record<string, number>;
  let repo: Repo;

  before(() => {
    repo = new Repo(path.join(box.dir, 'app'), box.home);
    repo.append('src/report.py', 3, 'r');
    repo.commit('Initial commit', Date.parse('2026-03-01T10:00:00Z'));
    const gemini = writeGemini(path.join(box.dir, 'gemini-home'), {
      legacy: path.join(box.dir, 'old-app'),
      current: repo.dir,
    });
    const oc = writeOpenCode(path.join(box.dir, 'xdg-data'), repo.dir);
    const cl = writeCline(box.home, repo.dir);
    const cont = writeContinue(path.join(box.home, '.continue'), repo.dir);
    const ai = writeAider(repo.dir);
    truth = [...gemini.truth, ...oc.truth, ...cl.truth, ...cont.truth, ...ai.truth];
    rejects = {
      'gemini-cli': gemini.rejects,
      opencode: oc.rejects,
      cline: cl.rejects.cline,
      'roo-code': cl.rejects.roo,
      continue: cont.rejects,
      aider: ai.rejects,
    };
    // aider's own commit of the session's edit, minutes after the exchange (its author suffix and co-author trailer).
    repo.append('src/report.py', 5, 's');
    repo.commit(
      'feat: Make the report sortable\n\nCo-authored-by: aider (anthropic/claude-sonnet-4-20250514) <aider@aider.chat>',
      new Date(2026, 2, 9, 16, 48, 0).getTime(),
      { name: `${ME.name} (aider)`, email: ME.email },
    );
    env = {
      HOME: box.home,
      GEMINI_CLI_HOME: path.join(box.dir, 'gemini-home'),
      XDG_DATA_HOME: path.join(box.dir, 'xdg-data'),
      ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
    };
  });

  it("reports per-source totals equal to the fixtures' truth, with rejected lines counted per source", () => {
    // aider's history is found in the repository the other tools' sessions worked in, on the first import.
    importAndCheckTotals(box.ledger, env, PERIOD, SOURCES, truth, rejects);
  });

  it('a second import adds nothing and the totals stay', () => assertReimportAddsNothing(box.ledger, env, PERIOD));

  it('data health shows every source: found, where, last record, rejected lines', () => {
    assertSourcesFound(box.ledger, env, SOURCES, rejects);
    // A JSON document's entry or a database row is no line to open the file at: the reason names it instead.
    const text = cli(['health', '--home', box.ledger], env).stdout;
    assert.match(text, /ui_messages\.json`: entry \d+: api_req_started text is not JSON/);
    assert.match(text, /opencode\.db`: message msg_bad: data is not JSON/);
    assert.match(text, /c-exact\.json`: history \d+: usage counts/);
    // An unknown usage shape and a database row that is not JSON are named, never read as zeros or skipped.
    assert.match(text, /c-snake\.json`: history 4: usage in a shape Continue is not known to write/);
    assert.match(text, /opencode\.db`: message msg_garbled: data is not JSON/);
    assert.match(
      text,
      /session-2026-04-10T09-00-bbbb2222\.jsonl` line 15: not JSON/,
      'a line-based log keeps its line number',
    );
  });

  it('links the aider session to the commit aider made, with its author and trailer as evidence', () => {
    const r = cli(['link', '--home', box.ledger, '--repo', repo.dir, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const sessions = sessionsJson(box.ledger, env).filter((s) => s.source === 'aider');
    const linked = sessions.flatMap((s) =>
      s.links.filter((l) => l.counted).map((l) => ({ session: s.sessionId, subject: l.subject, evidence: l.evidence })),
    );
    assert.equal(linked.length, 1, JSON.stringify(sessions.map((s) => s.links)));
    assert.equal(linked[0]?.subject, 'feat: Make the report sortable');
    assert.ok(linked[0]?.evidence.includes('trailer'));
    assert.ok(linked[0]?.evidence.includes('files'));
  });

  it("an outcome summary of these sources carries no path (aider's session key holds its folder) and verifies", () => {
    const out = path.join(box.dir, 'summary.json');
    const r = cli(
      [
        'summary',
        '--home',
        box.ledger,
        '--no-import',
        ...PERIOD,
        '--format',
        'json',
        '--redact',
        'repos',
        '--out',
        out,
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const text = fs.readFileSync(out, 'utf8');
    assert.ok(!text.includes(box.dir), 'no path of this machine is in the summary');
    const doc = JSON.parse(text) as {
      summary: {
        tasks: Array<{ citedSessions: string[] }>;
        withoutOutcome: { groups: Array<{ sessionIds: string[] }> };
      };
    };
    const cited = [
      ...doc.summary.tasks.flatMap((t) => t.citedSessions),
      ...doc.summary.withoutOutcome.groups.flatMap((g) => g.sessionIds),
    ];
    const aider = cited.filter((id) => id.startsWith('aider:'));
    assert.ok(aider.length >= 2, JSON.stringify(cited));
    for (const id of aider) assert.match(id, /^aider:#[0-9a-f]{16}$/);
    const v = cli(['verify', out, '--ledger', '--home', box.ledger], env);
    assert.equal(v.code, 0, v.stderr);
  });
});
