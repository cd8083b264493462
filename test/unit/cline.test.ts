import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { cline, clineTokens, rooCode } from '../../src/sources/cline';
import type { LineParser } from '../../src/sources/parser';
import { vscodeUserDirs } from '../../src/sources/vscodeUser';
import { Ledger } from '../../src/store/ledger';
import { total, write, writeCline } from '../fixtures/sources';
import { interactions, ledgerSums, repoFolder, tempDirEach } from '../helpers';
import { sessionCwdSql } from '../../src/store/paths';

describe('Cline and Roo Code readers', () => {
  it('look in every VS Code user folder of the platform: Code, Insiders, VSCodium and the remote server', () => {
    assert.deepEqual(vscodeUserDirs({ HOME: '/h' }, 'linux'), [
      '/h/.config/Code/User',
      '/h/.config/Code - Insiders/User',
      '/h/.config/VSCodium/User',
      '/h/.config/VSCodium - Insiders/User',
      '/h/.config/Code - OSS/User',
      '/h/.vscode-server/data/User',
      '/h/.vscode-server-insiders/data/User',
      '/h/.vscodium-server/data/User',
      '/h/.vscode-remote/data/User',
    ]);
    assert.equal(vscodeUserDirs({ HOME: '/h', XDG_CONFIG_HOME: '/x' }, 'linux')[0], '/x/Code/User');
    assert.equal(vscodeUserDirs({ HOME: '/Users/me' }, 'darwin')[0], '/Users/me/Library/Application Support/Code/User');
    assert.equal(
      vscodeUserDirs({ HOME: 'C:\\Users\\me', APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'win32')[0],
      path.join('C:\\Users\\me\\AppData\\Roaming', 'Code', 'User'),
    );
    assert.ok(
      cline.roots({ HOME: '/h' }).every((r) => r.endsWith(path.join('globalStorage', 'saoudrizwan.claude-dev'))),
    );
    assert.ok(
      rooCode.roots({ HOME: '/h' }).every((r) => r.endsWith(path.join('globalStorage', 'rooveterinaryinc.roo-cline'))),
    );
  });

  describe('import', () => {
    const tmp = tempDirEach('ol-cline-');
    let home: string;
    let project: string;
    beforeEach(() => {
      home = path.join(tmp.dir, 'home');
      project = repoFolder(path.join(tmp.dir, 'proj'));
    });

    it('counts api_req_started entries (and early api_req_finished ones), keeps the recorded cost, models from task metadata', async () => {
      const fx = writeCline(home, project);
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      const s = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      for (const [source, rejects] of [
        ['cline', fx.rejects.cline],
        ['roo-code', fx.rejects.roo],
      ] as const) {
        const sum = s.sources.find((x) => x.source === source);
        assert.equal(sum?.found, true, source);
        assert.equal(sum?.linesRejected, rejects, `${source}: ${sum?.reasons.join('; ')}`);
        assert.deepEqual(ledgerSums(ledger.database, source), total(fx.truth.filter((t) => t.source === source)));
      }
      const cost =
        Number(
          ledger.database.exec(
            "SELECT sum(recorded_cost_nusd) FROM interactions i JOIN sessions s ON s.id = i.session_ref WHERE s.source = 'cline'",
          )[0]?.values[0]?.[0],
        ) / 1e9;
      assert.ok(
        Math.abs(
          cost - fx.truth.filter((t) => t.source === 'cline').reduce((n, t) => n + (t.recordedCostUSD ?? 0), 0),
        ) < 1e-9,
      );
      const models = ledger.database.exec(
        "SELECT m.name, count(*) FROM interactions i JOIN models m ON m.id = i.model_ref JOIN sessions s ON s.id = i.session_ref WHERE s.source = 'cline' GROUP BY m.name ORDER BY m.name",
      )[0]?.values;
      assert.deepEqual(models, [
        ['anthropic/claude-sonnet-4', 2],
        ['claude-haiku-4-5', 1],
        ['claude-sonnet-4-5-20250929', 2],
        ['unknown', 1],
      ]);
      // Working folder from the task history (and, for the early build and Roo, from the request text); edited files for linking.
      const sessions = ledger.database.exec(
        `SELECT s.source, ${sessionCwdSql()}, s.repo, group_concat(f.path) FROM sessions s LEFT JOIN session_files f ON f.session_ref = s.id WHERE s.source IN ('cline','roo-code') GROUP BY s.id ORDER BY s.source, s.session_key`,
      )[0]?.values;
      assert.deepEqual(sessions, [
        ['cline', project, project, null],
        ['cline', project, project, 'src/export.ts'],
        ['cline', project, project, null],
        ['roo-code', project, project, 'src/list.ts'],
      ]);
      ledger.close();
    });

    it('a task file rewritten in place (the streaming entry gets its counts) adds only the new request; unchanged adds nothing', async () => {
      const fx = writeCline(home, project);
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      const before = ledgerSums(ledger.database, 'cline');
      const again = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      assert.equal(again.bytesRead, 0);
      const file = fx.files[0] ?? '';
      const messages = JSON.parse(fs.readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;
      const last = messages[messages.length - 1] as Record<string, unknown>;
      last.text = JSON.stringify({
        request: 'x',
        tokensIn: 3,
        tokensOut: 70,
        cacheWrites: 100,
        cacheReads: 11_100,
        cost: 0.0048,
      });
      write(file, JSON.stringify(messages));
      const third = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      // The bad entry of the rewritten file is reported once, not once per read.
      const reasons = Number(
        ledger.database.exec('SELECT count(*) FROM rejects WHERE path = ?', [file])[0]?.values[0]?.[0],
      );
      assert.equal(reasons, 1);
      assert.equal(third.sources.find((x) => x.source === 'cline')?.interactionsAdded, 1);
      const after = ledgerSums(ledger.database, 'cline');
      assert.deepEqual(after, {
        ...before,
        input: before.input + 3,
        output: before.output + 70,
        cacheWrite: before.cacheWrite + 100,
        cacheRead: before.cacheRead + 11_100,
        n: before.n + 1,
      });
      ledger.close();
    });

    it('a half-written task file waits; garbage once quiet is rejected with a reason and loses nothing read before', async () => {
      const fx = writeCline(home, project);
      const file = fx.files[0] ?? '';
      const good = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, good.slice(0, good.length / 2));
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      const busy = await importAll(ledger, { env: { HOME: home }, quietMs: 60_000 });
      assert.equal(busy.sources.find((x) => x.source === 'cline')?.linesRejected, 0);
      fs.writeFileSync(file, good);
      await importAll(ledger, { env: { HOME: home }, quietMs: 60_000 });
      const full = ledgerSums(ledger.database, 'cline');
      assert.equal(full.n, 6);
      fs.writeFileSync(file, '\u0000\u0001garbage');
      const broken = await importAll(ledger, { env: { HOME: home }, quietMs: 0 });
      assert.match(
        broken.sources.find((x) => x.source === 'cline')?.reasons.join('\n') ?? '',
        /ui_messages\.json: not a whole JSON document/,
      );
      assert.deepEqual(ledgerSums(ledger.database, 'cline'), full);
      ledger.close();
    });
  });
  describe('traps of real task files', () => {
    const tmp = tempDirEach('ol-cline-traps-');

    const t0 = Date.parse('2026-04-07T09:00:00.000Z');
    const req = (
      ts: number,
      info: Record<string, unknown>,
      extra: Record<string, unknown> = {},
    ): Record<string, unknown> => ({ ts, type: 'say', say: 'api_req_started', text: JSON.stringify(info), ...extra });
    function taskFile(id: string, messages: unknown[], side: Record<string, unknown> = {}): string {
      const task = path.join(tmp.dir, 'tasks', id);
      for (const [name, doc] of Object.entries(side)) write(path.join(task, name), JSON.stringify(doc));
      return write(path.join(task, 'ui_messages.json'), JSON.stringify(messages));
    }
    function read(
      reader: typeof cline,
      file: string,
      state: string | null = null,
    ): { r: ReturnType<NonNullable<LineParser['parseWhole']>>; parser: LineParser } {
      const parser = reader.createParser({ source: reader.source, path: file, root: tmp.dir, whole: true }, state);
      const r = parser.parseWhole?.(fs.readFileSync(file), {
        openSqlite: () => {
          throw new Error('no sqlite');
        },
      });
      assert.ok(r && !('incomplete' in r));
      return { r, parser };
    }
    const tokensOf = (x: ReturnType<typeof read>): unknown[] =>
      'records' in x.r ? interactions(x.r.records).map((i) => i.tokens) : [];

    it('OpenRouter: tokensIn already holds the cache reads (the recorded cost is the check); Anthropic direct: it does not', () => {
      // OpenRouter, claude-sonnet-4 ($3 in, $0.30 cache read, $15 out): 0.0270 = (20000 − 15000) × 3 + 15000 × 0.3 + 500 × 15.
      const viaRouter = taskFile(
        '1775552400000',
        [req(t0, { tokensIn: 20_000, tokensOut: 500, cacheWrites: 0, cacheReads: 15_000, cost: 0.027 })],
        {
          'task_metadata.json': {
            files_in_context: [],
            model_usage: [
              { ts: t0, model_id: 'anthropic/claude-sonnet-4', model_provider_id: 'openrouter', mode: 'act' },
            ],
          },
        },
      );
      assert.deepEqual(tokensOf(read(cline, viaRouter)), [
        { input: 5000, output: 500, cacheRead: 15_000, cacheWrite: 0, reasoning: 0 },
      ]);
      // Anthropic direct: 0.01173 = 2000 × 3 + 9100 × 0.3 + 200 × 15 (tokensIn excludes the cache).
      const direct = taskFile(
        '1775552400001',
        [req(t0, { tokensIn: 2000, tokensOut: 200, cacheWrites: 0, cacheReads: 9100, cost: 0.01173 })],
        {
          'task_metadata.json': {
            files_in_context: [],
            model_usage: [
              { ts: t0, model_id: 'claude-sonnet-4-20250514', model_provider_id: 'anthropic', mode: 'act' },
            ],
          },
        },
      );
      assert.deepEqual(tokensOf(read(cline, direct)), [
        { input: 2000, output: 200, cacheRead: 9100, cacheWrite: 0, reasoning: 0 },
      ]);
    });

    it('decides each request from evidence: impossible readings, apiProtocol, the cost, then the provider', () => {
      const raw = { tokensIn: 10_000, tokensOut: 100, cacheWrites: 0, cacheReads: 8000, cost: 0 };
      const inclusive = { input: 2000, output: 100, cacheRead: 8000, cacheWrite: 0, reasoning: 0 };
      const exclusive = { input: 10_000, output: 100, cacheRead: 8000, cacheWrite: 0, reasoning: 0 };
      // More cache reads than tokensIn: tokensIn cannot include them, whatever the provider.
      assert.deepEqual(
        clineTokens({ ...raw, tokensIn: 500 }, { provider: 'openrouter', costRecorded: false }).input,
        500,
      );
      assert.deepEqual(
        clineTokens(raw, { apiProtocol: 'openai', provider: 'anthropic', costRecorded: false }),
        inclusive,
      );
      assert.deepEqual(
        clineTokens(raw, { apiProtocol: 'anthropic', provider: 'openrouter', costRecorded: false }),
        exclusive,
      );
      // gpt-4.1 ($2 in, $0.50 cache read, $8 out): 0.0088 is the inclusive reading, whatever the provider says.
      assert.deepEqual(
        clineTokens({ ...raw, cost: 0.0088 }, { provider: 'anthropic', model: 'gpt-4.1', costRecorded: true }),
        inclusive,
      );
      assert.deepEqual(
        clineTokens({ ...raw, cost: 0.0248 }, { provider: 'openrouter', model: 'gpt-4.1', costRecorded: true }),
        exclusive,
      );
      // No usable cost (unpriced model): the provider's known shape; unknown provider: tokensIn as written.
      assert.deepEqual(
        clineTokens(
          { ...raw, cost: 0.01 },
          { provider: 'openrouter', model: 'someone/unpriced-model', costRecorded: true },
        ),
        inclusive,
      );
      assert.deepEqual(clineTokens(raw, { costRecorded: false }), exclusive);
    });

    it('deleted_api_reqs (a checkpoint restore) stays counted: on a fresh import, and once only after earlier reads', () => {
      const meta = {
        'task_metadata.json': {
          files_in_context: [],
          model_usage: [
            { ts: t0, model_id: 'claude-sonnet-4-5-20250929', model_provider_id: 'anthropic', mode: 'act' },
          ],
        },
      };
      const r1 = { tokensIn: 10, tokensOut: 300, cacheWrites: 4000, cacheReads: 0, cost: 0.0195 };
      const r2 = { tokensIn: 20, tokensOut: 400, cacheWrites: 500, cacheReads: 4000, cost: 0.0092 };
      const r3 = { tokensIn: 30, tokensOut: 500, cacheWrites: 600, cacheReads: 4500, cost: 0.0111 };
      const checkpoint = { ts: t0 + 5000, type: 'say', say: 'checkpoint_created' };
      const before = [req(t0 + 1000, r1), checkpoint, req(t0 + 10_000, r2), req(t0 + 20_000, r3)];
      // The restore to the checkpoint: what came after it is removed, its total written in its place.
      const removed = { tokensIn: 50, tokensOut: 900, cacheWrites: 1100, cacheReads: 8500, cost: 0.0203 };
      const after = [
        req(t0 + 1000, r1),
        checkpoint,
        { ts: t0 + 60_000, type: 'say', say: 'deleted_api_reqs', text: JSON.stringify(removed) },
      ];
      const sum = (list: unknown[]): number[] => {
        const t = list as Array<{ input: number; output: number; cacheRead: number; cacheWrite: number }>;
        return [
          t.reduce((n, x) => n + x.input, 0),
          t.reduce((n, x) => n + x.output, 0),
          t.reduce((n, x) => n + x.cacheRead, 0),
          t.reduce((n, x) => n + x.cacheWrite, 0),
        ];
      };
      const truth = [60, 1200, 8500, 5100];
      // A fresh import after the restore: the kept request and the restore's total.
      const fresh = read(cline, taskFile('1775552400002', after, meta));
      assert.deepEqual(sum(tokensOf(fresh)), truth);
      // Read before the restore, then after it: the removed requests are in the ledger already; the total adds nothing.
      const file = taskFile('1775552400003', before, meta);
      const first = read(cline, file);
      assert.deepEqual(sum(tokensOf(first)), truth);
      write(file, JSON.stringify(after));
      const second = read(cline, file, first.parser.state());
      assert.deepEqual(
        sum(tokensOf(second)).map((n, i) => n - (i === 0 ? 10 : i === 1 ? 300 : i === 3 ? 4000 : 0)),
        [0, 0, 0, 0],
      );
    });

    it('tasks without task_metadata.json take the model from the conversation: Cline modelInfo, Roo <model>', () => {
      const withInfo = taskFile('1775552400004', [
        req(
          t0,
          { tokensIn: 10, tokensOut: 5, cacheWrites: 0, cacheReads: 0, cost: 0.0001 },
          { modelInfo: { providerId: 'anthropic', modelId: 'claude-sonnet-4-5-20250929', mode: 'act' } },
        ),
      ]);
      const own = read(cline, withInfo).r;
      assert.ok('records' in own);
      assert.deepEqual(
        interactions(own.records).map((i) => i.model),
        ['claude-sonnet-4-5-20250929'],
      );
      const rooHistory = [
        {
          role: 'user',
          ts: t0 - 10,
          content: [
            { type: 'text', text: '<task>Add paging</task>' },
            {
              type: 'text',
              text: '<environment_details>\n# Current Mode\n<slug>code</slug>\n<name>Code</name>\n<model>anthropic/claude-sonnet-4</model>\n</environment_details>',
            },
          ],
        },
        { role: 'assistant', ts: t0 + 5, content: [{ type: 'text', text: 'ok' }] },
      ];
      const roo = taskFile(
        '0197b2c4-2222-7222-8333-944455556666',
        [req(t0, { apiProtocol: 'openai', tokensIn: 30, tokensOut: 5, cacheWrites: 0, cacheReads: 0, cost: 0.0002 })],
        { 'api_conversation_history.json': rooHistory },
      );
      const r = read(rooCode, roo).r;
      assert.ok('records' in r);
      assert.deepEqual(
        interactions(r.records).map((i) => [i.model, i.modelAssumed]),
        [['anthropic/claude-sonnet-4', undefined]],
      );
    });
  });
});
