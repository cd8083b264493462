import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { report } from '../../src/services/queries';
import { kiro } from '../../src/sources/kiro';
import { Ledger } from '../../src/store/ledger';
import { credits, writeKiro } from '../fixtures/sources';
import { importExactly, interactions, parseFile, repoFolder, sessionFiles, tempDirEach } from '../helpers';

describe('Kiro reader', () => {
  const tmp = tempDirEach('ol-kiro-');

  const setup = (): { fx: ReturnType<typeof writeKiro>; env: Record<string, string>; project: string } => {
    const project = repoFolder(path.join(tmp.dir, 'proj'));
    const home = path.join(tmp.dir, 'home');
    const fx = writeKiro(home, path.join(tmp.dir, 'data'), project);
    return { fx, env: { HOME: home, XDG_DATA_HOME: path.join(tmp.dir, 'data') }, project };
  };

  it("looks in ~/.kiro/sessions, the CLI data folder and the IDE's agent storage of each platform", () => {
    const ide = (base: string): string => `${base}/Kiro/User/globalStorage/kiro.kiroagent`;
    assert.deepEqual(kiro.roots({ HOME: '/h' }), ['/h/.kiro/sessions', '/h/.local/share/kiro-cli', ide('/h/.config')]);
    assert.deepEqual(kiro.roots({ HOME: '/h', XDG_DATA_HOME: '/d', XDG_CONFIG_HOME: '/c' }), [
      '/h/.kiro/sessions',
      '/d/kiro-cli',
      ide('/c'),
    ]);
  });

  it('imports all three versions: credits stored and summed as credits, tokens only where Kiro wrote them, cost at $0.04 a credit', async () => {
    const { fx, env } = setup();
    const before = fs.readFileSync(fx.files.v1);
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    await importExactly(ledger, env, 'kiro', fx);
    const r = report(ledger.database, { timeZone: 'UTC', since: '2026-01-01', until: '2026-12-31' });
    const bySource = r.bySource.find((x) => x.source === 'kiro');
    assert.equal(bySource?.credits, credits(fx.truth));
    assert.equal(r.totals.credits, credits(fx.truth));
    assert.equal(
      bySource?.costUSD,
      Math.round(credits(fx.truth) * 0.04 * 1e6) / 1e6,
      'credits priced at the documented $0.04, never from invented tokens',
    );
    assert.equal(
      bySource?.unpricedInteractions,
      0,
      'a request metered in credits is priced even when its model ("auto") is not in the price table',
    );
    assert.ok(fs.readFileSync(fx.files.v1).equals(before), 'the CLI database is read from a copy, never written');
    // Re-import adds nothing.
    const again = await importAll(ledger, { env, quietMs: 0 });
    assert.equal(again.sources.find((x) => x.source === 'kiro')?.interactionsAdded, 0);
    assert.equal(
      report(ledger.database, { timeZone: 'UTC', since: '2026-01-01', until: '2026-12-31' }).totals.credits,
      credits(fx.truth),
    );
    // Edits: the v3 fs_write and the v1 file_line_tracker.
    assert.deepEqual(sessionFiles(ledger.database, 'kiro'), ['src/login.ts', 'src/main.rs']);
    ledger.close();
  });

  it('v2: an unknown usage unit is rejected with a reason, never summed; a running session (no turn accounting) is no error', () => {
    const { fx } = setup();
    void fx;
    const parser = kiro.createParser(
      { source: 'kiro', path: path.join(tmp.dir, 'home/.kiro/sessions/cli/k2-0001.json'), root: tmp.dir, whole: true },
      null,
    );
    const res = parser.parseWhole?.(fs.readFileSync(path.join(tmp.dir, 'home/.kiro/sessions/cli/k2-0001.json')), {
      openSqlite: () => {
        throw new Error('no');
      },
    });
    assert.ok(res && 'records' in res);
    assert.deepEqual(
      res.rejects.map((x) => x.reason),
      ['turn 3: metering_usage: usage in an unknown unit "token"'],
    );
    assert.deepEqual(
      interactions(res.records).map((x) => x.credits),
      [0.75, 1],
    );
    const live = kiro
      .createParser({ source: 'kiro', path: 'k2-live.json', root: tmp.dir, whole: true }, null)
      .parseWhole?.(fs.readFileSync(path.join(tmp.dir, 'home/.kiro/sessions/cli/k2-live.json')), {
        openSqlite: () => {
          throw new Error('no');
        },
      });
    assert.deepEqual(live, { records: [], rejects: [] });
  });

  it('v3: credits come from usage_summary lines only (a reply that says "usage_summary" is not one); aborted turns meter nothing', () => {
    setup();
    const file = path.join(tmp.dir, 'home/.kiro/sessions/9f3c1d0b7a4e2856/sess_0a1b2c3d/messages.jsonl');
    const r = parseFile(kiro, file, tmp.dir);
    assert.deepEqual(
      interactions(r.records).map((x) => [x.model, x.credits, x.session.sessionId, x.tokens.input + x.tokens.output]),
      [
        ['auto', 1.06, 'sess_0a1b2c3d', 0],
        ['auto', 0.75, 'sess_0a1b2c3d', 0],
      ],
    );
    assert.deepEqual(r.rejected, ['not JSON'], 'the half-written last line');
    assert.equal(r.records.filter((x) => x.kind === 'prompt').length, 2);
  });

  it('a credit total that grows on a re-read (a turn still running) replaces the smaller copy', async () => {
    const { fx, env } = setup();
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    await importAll(ledger, { env, quietMs: 0 });
    const doc = JSON.parse(fs.readFileSync(fx.files.v2, 'utf8')) as {
      session_state: { conversation_metadata: { user_turn_metadatas: Array<{ metering_usage: unknown[] }> } };
    };
    doc.session_state.conversation_metadata.user_turn_metadatas[0]?.metering_usage.push({
      value: 0.25,
      unit: 'credit',
    });
    fs.writeFileSync(fx.files.v2, JSON.stringify(doc));
    await importAll(ledger, { env, quietMs: 0 });
    const r = report(ledger.database, { timeZone: 'UTC', since: '2026-01-01', until: '2026-12-31' });
    assert.equal(r.totals.credits, Math.round((credits(fx.truth) + 0.25) * 1e6) / 1e6);
    assert.equal(r.totals.interactions, fx.truth.length, 'the same turn, not a new one');
    ledger.close();
  });
});
