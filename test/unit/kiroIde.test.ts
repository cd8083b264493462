import assert from 'node:assert/strict';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { report } from '../../src/services/queries';
import { decodeWorkspaceFolder, KiroIdeExecutionParser, kiroIdeRoots } from '../../src/sources/kiroIde';
import { Ledger } from '../../src/store/ledger';
import { credits, kiroIdeExecution, total, writeKiroIde } from '../fixtures/sources';
import { importExactly, ledgerSums, repoFolder, tempDirEach } from '../helpers';
import { sessionCwdSql } from '../../src/store/paths';

describe('Kiro IDE reader (kiro.kiroagent executions)', () => {
  const tmp = tempDirEach('ol-kiro-ide-');

  const setup = (): { fx: ReturnType<typeof writeKiroIde>; env: Record<string, string>; project: string } => {
    const project = repoFolder(path.join(tmp.dir, 'proj'));
    const config = path.join(tmp.dir, 'config');
    const fx = writeKiroIde(config, project);
    return { fx, env: { HOME: path.join(tmp.dir, 'home'), XDG_CONFIG_HOME: config }, project };
  };

  it("finds the agent storage in Kiro's user folder on Linux, macOS and Windows", () => {
    assert.deepEqual(kiroIdeRoots({ HOME: '/h' }), [
      path.join('/h', '.config', 'Kiro', 'User', 'globalStorage', 'kiro.kiroagent'),
    ]);
    assert.deepEqual(kiroIdeRoots({ HOME: '/h', XDG_CONFIG_HOME: '/c' }), [
      path.join('/c', 'Kiro', 'User', 'globalStorage', 'kiro.kiroagent'),
    ]);
  });

  it('decodes a workspace-sessions folder name to its workspace; anything that is not an absolute path is refused', () => {
    assert.equal(
      decodeWorkspaceFolder(Buffer.from('/home/me/app').toString('base64').replace(/=/g, '_')),
      '/home/me/app',
    );
    assert.equal(
      decodeWorkspaceFolder(Buffer.from('C:\\work\\app').toString('base64').replace(/=/g, '_')),
      'C:\\work\\app',
    );
    assert.equal(decodeWorkspaceFolder(Buffer.from('relative/dir').toString('base64')), undefined);
    assert.equal(decodeWorkspaceFolder(Buffer.from('/tmp/a\u0007b').toString('base64')), undefined);
    assert.equal(decodeWorkspaceFolder('../../etc'), undefined);
  });

  it("one interaction per execution: credits exact, tokens estimated from the context sent and the reply; the workspace is the session's folder; accepted edits only are edited files; re-import adds nothing", async () => {
    const { fx, env, project } = setup();
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const k = await importExactly(ledger, env, 'kiro', fx);
    const reasons = k?.reasons.join('\n') ?? '';
    assert.match(reasons, /usageSummary: usage in an unknown unit "token"/);
    assert.match(reasons, /not a Kiro execution \(no executionId\)/);
    const r = report(ledger.database, { timeZone: 'UTC', since: '2026-01-01', until: '2026-12-31' });
    assert.equal(r.bySource.find((x) => x.source === 'kiro')?.credits, credits(fx.truth));
    assert.equal(r.bySource.find((x) => x.source === 'kiro')?.tokenAccuracy, 'estimated');
    // Priced from the credits ($0.04 each), never from the estimated tokens.
    assert.equal(
      Math.round((r.bySource.find((x) => x.source === 'kiro')?.costUSD ?? 0) * 1e6),
      Math.round(credits(fx.truth) * 0.04 * 1e6),
    );
    const sessions =
      ledger.database.exec(`SELECT session_key, ${sessionCwdSql()} FROM sessions s WHERE source = 'kiro'`)[0]?.values ??
      [];
    assert.deepEqual(sessions, [['ide-s1', project]]);
    const files = (ledger.database.exec('SELECT path FROM session_files ORDER BY path')[0]?.values ?? []).map((v) =>
      String(v[0]),
    );
    assert.deepEqual(files, fx.edited);
    const again = await importAll(ledger, { env, quietMs: 0 });
    assert.equal(again.sources.find((x) => x.source === 'kiro')?.interactionsAdded, 0);
    assert.deepEqual(ledgerSums(ledger.database, 'kiro'), total(fx.truth));
    ledger.close();
  });

  it('a rewritten execution (Kiro finishing a run) replaces nothing twice; a run not yet metered adds nothing', () => {
    const file = path.join(tmp.dir, 'kiro.kiroagent', '0'.repeat(32), 'a'.repeat(32));
    const parse = (doc: unknown): ReturnType<KiroIdeExecutionParser['parseWhole']> =>
      new KiroIdeExecutionParser(file).parseWhole(Buffer.from(JSON.stringify(doc)));
    const starting = parse(
      kiroIdeExecution({ id: 'x', session: 's', start: 1_760_000_000_000, end: 0, usage: [], messages: [] }),
    );
    assert.deepEqual(starting, { records: [], rejects: [] });
    const hostile = parse(
      kiroIdeExecution({
        id: 'x\u001b[31m',
        session: 's',
        start: 1_760_000_000_000,
        end: 1_760_000_001_000,
        usage: [{ unit: 'credit', usage: -1 }],
        messages: [],
      }),
    );
    assert.deepEqual('rejects' in hostile ? hostile.rejects.map((x) => x.reason) : hostile, [
      'usageSummary: usage value is not a non-negative number',
    ]);
    const nan = parse({
      ...kiroIdeExecution({ id: 'x', session: 's', start: 1, end: 2, usage: [], messages: [] }),
      usageSummary: [{ unit: 'credit', usage: 'NaN' }],
    });
    assert.deepEqual('rejects' in nan ? nan.rejects.map((x) => x.reason) : nan, [
      'usageSummary: usage value is not a non-negative number',
    ]);
    assert.deepEqual(new KiroIdeExecutionParser(file).parseWhole(Buffer.from('{"executionId": "x", "usageSu')), {
      incomplete: 'not a whole JSON document (cut short or being written)',
    });
  });
});
