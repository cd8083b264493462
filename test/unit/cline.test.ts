import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { cline, rooCode } from '../../src/sources/cline';
import { vscodeUserDirs } from '../../src/sources/vscodeUser';
import { Ledger } from '../../src/store/ledger';
import { total, write, writeCline } from '../fixtures/sources';
import { ledgerSums, tempDir } from '../helpers';

describe('Cline and Roo Code readers', () => {
  it('look in every VS Code user folder of the platform: Code, Insiders, VSCodium and the remote server', () => {
    assert.deepEqual(vscodeUserDirs({ HOME: '/h' }, 'linux'), [
      '/h/.config/Code/User', '/h/.config/Code - Insiders/User', '/h/.config/VSCodium/User', '/h/.config/VSCodium - Insiders/User', '/h/.config/Code - OSS/User',
      '/h/.vscode-server/data/User', '/h/.vscode-server-insiders/data/User', '/h/.vscodium-server/data/User', '/h/.vscode-remote/data/User',
    ]);
    assert.equal(vscodeUserDirs({ HOME: '/h', XDG_CONFIG_HOME: '/x' }, 'linux')[0], '/x/Code/User');
    assert.equal(vscodeUserDirs({ HOME: '/Users/me' }, 'darwin')[0], '/Users/me/Library/Application Support/Code/User');
    assert.equal(vscodeUserDirs({ HOME: 'C:\\Users\\me', APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'win32')[0], path.join('C:\\Users\\me\\AppData\\Roaming', 'Code', 'User'));
    assert.ok(cline.roots({ HOME: '/h' }).every((r) => r.endsWith(path.join('globalStorage', 'saoudrizwan.claude-dev'))));
    assert.ok(rooCode.roots({ HOME: '/h' }).every((r) => r.endsWith(path.join('globalStorage', 'rooveterinaryinc.roo-cline'))));
  });

  describe('import', () => {
    let dir: string;
    let home: string;
    let project: string;
    beforeEach(() => {
      dir = tempDir('ol-cline-');
      home = path.join(dir, 'home');
      project = path.join(dir, 'proj');
      fs.mkdirSync(path.join(project, '.git'), { recursive: true });
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('counts api_req_started entries (and early api_req_finished ones), keeps the recorded cost, models from task metadata', async () => {
      const fx = writeCline(home, project);
      const ledger = await Ledger.open(path.join(dir, 'ledger'));
      const s = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      for (const [source, rejects] of [['cline', fx.rejects.cline], ['roo-code', fx.rejects.roo]] as const) {
        const sum = s.sources.find((x) => x.source === source);
        assert.equal(sum?.found, true, source);
        assert.equal(sum?.linesRejected, rejects, `${source}: ${sum?.reasons.join('; ')}`);
        assert.deepEqual(ledgerSums(ledger.database, source), total(fx.truth.filter((t) => t.source === source)));
      }
      const cost = Number(ledger.database.exec("SELECT sum(recorded_cost_nusd) FROM interactions i JOIN sessions s ON s.id = i.session_ref WHERE s.source = 'cline'")[0]?.values[0]?.[0]) / 1e9;
      assert.ok(Math.abs(cost - fx.truth.filter((t) => t.source === 'cline').reduce((n, t) => n + (t.recordedCostUSD ?? 0), 0)) < 1e-9);
      const models = ledger.database.exec("SELECT m.name, count(*) FROM interactions i JOIN models m ON m.id = i.model_ref JOIN sessions s ON s.id = i.session_ref WHERE s.source = 'cline' GROUP BY m.name ORDER BY m.name")[0]?.values;
      assert.deepEqual(models, [['claude-haiku-4-5', 1], ['claude-sonnet-4-5-20250929', 2], ['unknown', 1]]);
      // Working folder from the task history (and, for the early build and Roo, from the request text); edited files for linking.
      const sessions = ledger.database.exec("SELECT s.source, s.cwd, s.repo, group_concat(f.path) FROM sessions s LEFT JOIN session_files f ON f.session_ref = s.id WHERE s.source IN ('cline','roo-code') GROUP BY s.id ORDER BY s.source, s.session_key")[0]?.values;
      assert.deepEqual(sessions, [
        ['cline', project, project, null],
        ['cline', project, project, 'src/export.ts'],
        ['roo-code', project, project, 'src/list.ts'],
      ]);
      ledger.close();
    });

    it('a task file rewritten in place (the streaming entry gets its counts) adds only the new request; unchanged adds nothing', async () => {
      const fx = writeCline(home, project);
      const ledger = await Ledger.open(path.join(dir, 'ledger'));
      await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      const before = ledgerSums(ledger.database, 'cline');
      const again = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      assert.equal(again.bytesRead, 0);
      const file = fx.files[0] ?? '';
      const messages = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;
      const last = messages[messages.length - 1] as Record<string, unknown>;
      last.text = JSON.stringify({ request: 'x', tokensIn: 3, tokensOut: 70, cacheWrites: 100, cacheReads: 11_100, cost: 0.0048 });
      write(file, JSON.stringify(messages));
      const third = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      // The bad entry of the rewritten file is reported once, not once per read.
      const reasons = Number(ledger.database.exec('SELECT count(*) FROM rejects WHERE path = ?', [file])[0]?.values[0]?.[0]);
      assert.equal(reasons, 1);
      assert.equal(third.sources.find((x) => x.source === 'cline')?.interactionsAdded, 1);
      const after = ledgerSums(ledger.database, 'cline');
      assert.deepEqual(after, { ...before, input: before.input + 3, output: before.output + 70, cacheWrite: before.cacheWrite + 100, cacheRead: before.cacheRead + 11_100, n: before.n + 1 });
      ledger.close();
    });

    it('a half-written task file waits; garbage once quiet is rejected with a reason and loses nothing read before', async () => {
      const fx = writeCline(home, project);
      const file = fx.files[0] ?? '';
      const good = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, good.slice(0, good.length / 2));
      const ledger = await Ledger.open(path.join(dir, 'ledger'));
      const busy = await importAll(ledger, { env: { HOME: home }, quietMs: 60_000 });
      assert.equal(busy.sources.find((x) => x.source === 'cline')?.linesRejected, 0);
      fs.writeFileSync(file, good);
      await importAll(ledger, { env: { HOME: home }, quietMs: 60_000 });
      const full = ledgerSums(ledger.database, 'cline');
      assert.equal(full.n, 4);
      fs.writeFileSync(file, '\u0000\u0001garbage');
      const broken = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      assert.match(broken.sources.find((x) => x.source === 'cline')?.reasons.join('\n') ?? '', /ui_messages\.json: not a whole JSON document/);
      assert.deepEqual(ledgerSums(ledger.database, 'cline'), full);
      ledger.close();
    });
  });
});
