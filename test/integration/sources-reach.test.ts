import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SourceName } from '../../src/core/usage/model';
import { copilotWorkspace, writeCopilotJsonl } from '../../src/demo/copilot';
import {
  credits,
  writeAmazonQ,
  writeAmp,
  writeCopilotCli,
  writeCopilotTraces,
  writeCursor,
  writeCursorWorkspaces,
  writeDroid,
  writeKimi,
  writeKiro,
  writeKiroIde,
  writeQwen,
  type Truth,
} from '../fixtures/sources';
import { repoFolder, tempDir } from '../helpers';
import {
  assertReimportAddsNothing,
  assertSourcesFound,
  cli,
  importAndCheckTotals,
  reportJson,
  sessionsJson,
} from './cli';
import { makeHome } from './scripted';

const PERIOD = ['--since', '2026-01-01', '--until', '2026-12-31', '--tz', 'UTC'];

/** One group's world: its own temp folder, HOME, XDG folders and a project with a `.git` folder. */
interface ReachWorld {
  dir: string;
  ledger: string;
  env: Record<string, string>;
  truth: Truth[];
  rejects: Record<string, number>;
}

/** A group of sources written in their real formats and checked through the bundled CLI. */
interface ReachGroup {
  /** The tools by title, for the describe. */
  title: string;
  sources: SourceName[];
  /** The one source of the group that bills in credits. */
  credited: SourceName;
  /** Writes the fixtures; returns what each source holds (by name) and any environment beyond HOME and XDG_DATA_HOME. */
  write(f: { dir: string; home: string; data: string; project: string }): {
    written: Partial<Record<SourceName, { truth: Truth[]; rejects: number }>>;
    env?: Record<string, string>;
  };
  /** What the group checks beyond the shared totals, re-import and health checks. */
  checks(world: () => ReachWorld): void;
}

const GROUPS: ReachGroup[] = [
  {
    title: 'Kiro, Amazon Q Developer, Cursor and Copilot CLI',
    sources: ['kiro', 'amazon-q', 'cursor', 'copilot-cli'],
    credited: 'kiro',
    write: ({ dir, home, data, project }) => ({
      written: {
        kiro: writeKiro(home, data, project),
        'amazon-q': writeAmazonQ(home, data, project),
        cursor: writeCursor(path.join(dir, 'xdg-config')),
        'copilot-cli': writeCopilotCli(home, project),
      },
      env: { XDG_CONFIG_HOME: path.join(dir, 'xdg-config') },
    }),
    checks: (w) => {
      it("Kiro's credits are summed as credits, per session and in words; the accuracy of each source is said", () => {
        const { ledger, env } = w();
        const report = reportJson(ledger, env, [...PERIOD, '--no-import']);
        const kiro = report.bySource.find((s) => s.source === 'kiro');
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

      it('data health says what is exact, estimated or in credits, and why entries were rejected', () => {
        const { ledger, env } = w();
        const h = assertSourcesFound(ledger, env, ['kiro', 'amazon-q', 'cursor', 'copilot-cli'], w().rejects);
        assert.match(
          h.sources.find((x) => x.source === 'kiro')?.gaps.join('\n') ?? '',
          /Kiro meters credits, not tokens: 3\.96 credits were recorded, priced at \$0\.04 a credit/,
        );
        assert.match(
          h.sources.find((x) => x.source === 'amazon-q')?.gaps.join('\n') ?? '',
          /Amazon Q Developer records no token counts/,
        );
        assert.match(
          h.sources.find((x) => x.source === 'cursor')?.gaps.join('\n') ?? '',
          /newer Cursor builds write 0 tokens/,
        );
        const text = cli(['health', '--home', ledger], env).stdout;
        assert.match(text, /k2-0001\.json`: turn 3: metering_usage: usage in an unknown unit "token"/);
        assert.match(text, /state\.vscdb`: bubbleId:c-1:a4: tokenCount holds no non-negative integers/);
      });

      it("an outcome summary carries Kiro's credits and verifies", () => {
        const { dir, ledger, env } = w();
        const out = path.join(dir, 'summary.json');
        const r = cli(['summary', '--home', ledger, '--no-import', ...PERIOD, '--format', 'json', '--out', out], env);
        assert.equal(r.code, 0, r.stderr);
        const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as {
          summary: { totals: { credits?: number }; bySource: Array<{ source: string; credits?: number }> };
        };
        assert.equal(doc.summary.totals.credits, 3.96);
        assert.equal(doc.summary.bySource.find((s) => s.source === 'kiro')?.credits, 3.96);
        const v = cli(['verify', out, '--ledger', '--home', ledger], env);
        assert.equal(v.code, 0, v.stderr);
      });
    },
  },
  {
    title: 'Amp, Factory Droid, Qwen Code and Kimi CLI',
    sources: ['amp', 'droid', 'qwen-code', 'kimi'],
    credited: 'amp',
    write: ({ home, data, project }) => ({
      written: {
        amp: writeAmp(data, project),
        droid: writeDroid(home, project),
        'qwen-code': writeQwen(home, project),
        kimi: writeKimi(home, project),
      },
    }),
    checks: (w) => {
      const SOURCES: SourceName[] = ['amp', 'droid', 'qwen-code', 'kimi'];
      it("every count is exact, Amp's credits are said in words, and every session links to the repository", () => {
        const { dir, ledger, env } = w();
        const report = reportJson(ledger, env, [...PERIOD, '--no-import']);
        assert.equal(
          report.totals.credits,
          report.bySource.find((s) => s.source === 'amp')?.credits,
          'only Amp bills in credits here',
        );
        for (const s of SOURCES) assert.equal(report.bySource.find((x) => x.source === s)?.tokenAccuracy, 'exact', s);
        // Sessions carry the folder each tool recorded, so they link to the repository.
        const sessions = sessionsJson(ledger, env).filter((s) => (SOURCES as string[]).includes(s.source));
        for (const s of SOURCES)
          assert.ok(
            sessions.some((x) => x.source === s && x.repo === path.join(dir, 'app')),
            `${s} session in the repository: ${JSON.stringify(sessions.filter((x) => x.source === s))}`,
          );
        const text = cli(['report', '--home', ledger, '--no-import', ...PERIOD], env);
        assert.match(text.stdout, /amp: .*0\.14 credits/);
      });

      it('data health says how each source counts, and why entries were rejected', () => {
        const { ledger, env } = w();
        const h = assertSourcesFound(ledger, env, SOURCES, w().rejects);
        assert.match(
          h.sources.find((x) => x.source === 'amp')?.gaps.join('\n') ?? '',
          /Amp bills in credits \(US dollars\): 0\.14 credits were recorded/,
        );
        assert.match(h.sources.find((x) => x.source === 'droid')?.gaps.join('\n') ?? '', /running totals per session/);
        const text = cli(['health', '--home', ledger], env).stdout;
        assert.match(text, /usageLedger event 4: credits is not a non-negative number/);
        assert.match(text, /tokenUsage in an unknown shape/);
        assert.match(text, /usageMetadata in an unknown shape/);
        assert.match(text, /token_usage in an unknown shape/);
      });

      it('import --source NAME=PATH reads a folder given directly, and a mistyped name is a usage error', () => {
        const { dir, env, truth } = w();
        const other = path.join(dir, 'ledger-direct');
        const r = cli(
          [
            'import',
            '--home',
            other,
            '--source',
            `kimi=${path.join(dir, 'home', '.kimi')}`,
            '--source',
            `kimi=${path.join(dir, 'home', '.kimi-code', 'sessions')}`,
            '--source',
            `qwen-code=${path.join(dir, 'home', '.qwen')}`,
          ],
          { HOME: path.join(dir, 'empty-home') },
        );
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(
          cli(['report', '--json', '--home', other, '--no-import', ...PERIOD], { HOME: path.join(dir, 'empty-home') })
            .stdout,
        ) as { bySource: Array<{ source: string; interactions: number }> };
        assert.equal(
          report.bySource.find((s) => s.source === 'kimi')?.interactions,
          truth.filter((t) => t.source === 'kimi').length,
        );
        assert.equal(
          report.bySource.find((s) => s.source === 'qwen-code')?.interactions,
          truth.filter((t) => t.source === 'qwen-code').length,
        );
        const bad = cli(['import', '--home', other, '--source', `kimmi=${dir}`], env);
        assert.equal(bad.code, 2);
      });
    },
  },
  {
    title: 'Kiro IDE, Cursor workspaces and Copilot Chat exact counts',
    sources: ['kiro', 'cursor', 'copilot-chat'],
    credited: 'kiro',
    write: ({ dir, project }) => {
      const config = path.join(dir, 'xdg-config');
      const k = writeKiroIde(config, project);
      const c = writeCursor(config);
      writeCursorWorkspaces(config, project, ['c-1']);
      // Copilot Chat: one request the session file has no counts for (the store has its two calls), one it has.
      const user = path.join(config, 'Code', 'User');
      const t0 = Date.parse('2026-03-02T09:00:00Z');
      writeCopilotJsonl(copilotWorkspace(user, 'ws-1', project), {
        sessionId: 'sess-x',
        creationDate: t0,
        requests: [
          {
            requestId: 'q1',
            timestamp: t0 + 60_000,
            modelId: 'copilot/gpt-5',
            prompt: 'Fix the flaky test',
            reply: 'Done: the wait is now on the event.',
            promptTokens: 0,
            outputTokens: 0,
            style: 'none',
          },
          {
            requestId: 'q2',
            timestamp: t0 + 120_000,
            modelId: 'copilot/gpt-4.1',
            prompt: 'Explain it',
            reply: 'The event fires after the timer.',
            promptTokens: 1500,
            outputTokens: 90,
            style: 'metadata',
          },
        ],
      });
      writeCopilotTraces(user, [
        {
          spanId: 's1',
          session: 'sess-x',
          start: t0 + 61_000,
          model: 'gpt-5',
          input: 12000,
          cached: 9000,
          output: 700,
          reasoning: 300,
        },
        {
          spanId: 's2',
          session: 'sess-x',
          start: t0 + 75_000,
          model: 'gpt-5',
          input: 14000,
          cached: 12000,
          creation: 1000,
          output: 150,
        },
      ]);
      const copilot: Truth[] = [
        {
          source: 'copilot-chat',
          model: 'gpt-5',
          timestamp: t0 + 79_000,
          input: 3000 + 1000,
          output: 850,
          cacheRead: 21000,
          cacheWrite: 1000,
          reasoning: 300,
        },
        {
          source: 'copilot-chat',
          model: 'gpt-4.1',
          timestamp: t0 + 120_000,
          input: 1500,
          output: 90,
          cacheRead: 0,
          cacheWrite: 0,
          reasoning: 0,
        },
      ];
      return {
        written: { kiro: k, cursor: c, 'copilot-chat': { truth: copilot, rejects: 0 } },
        env: { XDG_CONFIG_HOME: config },
      };
    },
    checks: (w) => {
      const SOURCES: SourceName[] = ['kiro', 'cursor', 'copilot-chat'];
      it("Kiro IDE's credits are exact and its tokens estimated, Copilot Chat's store is exact, every session links to the repository", () => {
        const { dir, ledger, env } = w();
        const report = reportJson(ledger, env, [...PERIOD, '--no-import']);
        assert.equal(report.bySource.find((s) => s.source === 'kiro')?.tokenAccuracy, 'estimated');
        assert.equal(report.bySource.find((s) => s.source === 'copilot-chat')?.tokenAccuracy, 'exact');
        // Every session carries its folder: Kiro's workspace, Cursor's workspace, Copilot's workspace.
        const sessions = sessionsJson(ledger, env).filter((s) => (SOURCES as string[]).includes(s.source));
        for (const s of SOURCES)
          assert.ok(
            sessions.some((x) => x.source === s && x.repo === path.join(dir, 'app')),
            `${s} session in the repository: ${JSON.stringify(sessions.filter((x) => x.source === s))}`,
          );
      });

      it("data health names each source, its rejected entries with reasons, and why Kiro IDE's tokens are estimates", () => {
        const { ledger, env } = w();
        const h = assertSourcesFound(ledger, env, SOURCES, w().rejects);
        assert.match(
          h.sources.find((x) => x.source === 'kiro')?.gaps.join('\n') ?? '',
          /Kiro IDE records no token counts/,
        );
        const text = cli(['health', '--home', ledger], env).stdout;
        assert.match(text, /usageSummary: usage in an unknown unit "token"/);
        assert.match(text, /not a Kiro execution \(no executionId\)/);
      });
    },
  },
];

for (const group of GROUPS) {
  describe(`import → report for ${group.title} (real formats, the bundled CLI)`, function () {
    this.timeout(120_000);
    let world: ReachWorld;

    before(() => {
      const dir = tempDir('ol-reach-');
      const home = makeHome(path.join(dir, 'home'));
      const project = repoFolder(path.join(dir, 'app'));
      const data = path.join(dir, 'xdg-data');
      const { written, env } = group.write({ dir, home, data, project });
      assert.deepEqual(
        Object.keys(written).sort(),
        [...group.sources].sort(),
        'the fixtures write every source of the group',
      );
      const parts = group.sources.map((s) => [s, written[s]!] as const);
      world = {
        dir,
        ledger: path.join(dir, 'ledger'),
        env: { HOME: home, XDG_DATA_HOME: data, ...env, ...(process.env.TZ ? { TZ: process.env.TZ } : {}) },
        truth: parts.flatMap(([, p]) => p.truth),
        rejects: Object.fromEntries(parts.map(([s, p]) => [s, p.rejects])),
      };
    });
    after(() => fs.rmSync(world.dir, { recursive: true, force: true }));

    it(`per-source totals equal the fixtures' truth, ${group.credited}'s credits are summed as credits, rejected entries are counted`, () => {
      const report = importAndCheckTotals(world.ledger, world.env, PERIOD, group.sources, world.truth, world.rejects);
      assert.equal(
        report.bySource.find((s) => s.source === group.credited)?.credits,
        credits(world.truth.filter((t) => t.source === group.credited)),
      );
    });

    it('a second import adds nothing and the totals stay', () =>
      assertReimportAddsNothing(world.ledger, world.env, PERIOD));

    group.checks(() => world);
  });
}
