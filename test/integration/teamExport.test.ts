import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
// The official opentelemetry-proto definitions (metrics/v1/metrics.proto and the rest), compiled with protobufjs.
import * as otlpRoot from '@opentelemetry/otlp-transformer/build/src/generated/root';
import type { SourceName } from '../../src/core/usage/model';
import type { TeamReportJson } from '../../src/core/team/merge';
import type { TeamRollupFile } from '../../src/core/team/rollup';
import { NDJSON_COLUMNS, OTLP_METRICS } from '../../src/core/team/export';
import { syntheticRollup } from '../../src/demo/teamRollups';
import { ephemeralSigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';
import { cli } from './cli';

const SONNET: [SourceName, string] = ['claude-code', 'claude-sonnet-4-5-20250929'];
const OPUS: [SourceName, string] = ['claude-code', 'claude-opus-4-5-20251101'];
const CODEX: [SourceName, string] = ['codex', 'gpt-5-codex'];
const GEMINI: [SourceName, string] = ['gemini-cli', 'gemini-2.5-pro'];

/** The protobufjs static API of one message type (the generated module is typed only as a Root). */
interface ProtoType {
  fromObject(o: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: { longs: StringConstructor; enums: NumberConstructor }): unknown;
}
const MetricsDataType = (
  otlpRoot as unknown as { opentelemetry: { proto: { metrics: { v1: { MetricsData: ProtoType } } } } }
).opentelemetry.proto.metrics.v1.MetricsData;

interface DataPoint {
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
  startTimeUnixNano: string;
  timeUnixNano: string;
  asInt?: string;
  asDouble?: number;
}
interface OtlpMetric {
  name: string;
  unit: string;
  sum?: { dataPoints: DataPoint[]; aggregationTemporality: number; isMonotonic: boolean };
  gauge?: { dataPoints: DataPoint[] };
}
interface MetricsData {
  resourceMetrics: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue: string } }> };
    scopeMetrics: Array<{ scope: { name: string }; metrics: OtlpMetric[] }>;
  }>;
}

describe('team report for existing engines: NDJSON into DuckDB, OTLP JSON lines through the OpenTelemetry protobuf schema', function () {
  this.timeout(120_000);
  let dir: string;
  let files: TeamRollupFile[];
  let report: TeamReportJson;
  let ndjson: string;
  let otlp: string;

  before(() => {
    dir = tempDir('ol-team-export-');
    const rollups = path.join(dir, 'payments');
    fs.mkdirSync(rollups);
    // Five members: Claude Code for all (Sonnet for all, Opus for two), Codex for three, Gemini for one (grouped).
    const models: Array<Array<[SourceName, string]>> = [
      [SONNET, OPUS, CODEX],
      [SONNET, CODEX],
      [SONNET, OPUS, CODEX, GEMINI],
      [SONNET],
      [SONNET],
    ];
    files = models.map((m, i) =>
      syntheticRollup({ key: ephemeralSigningKey(), seed: 40 + i, models: m, timezone: 'Europe/Berlin' }),
    );
    files.forEach((f, i) => fs.writeFileSync(path.join(rollups, `m${i}.json`), JSON.stringify(f)));
    const run = (format: string): string => {
      const out = path.join(dir, `team.${format}`);
      const r = cli(
        ['rollup', 'merge', rollups, '--format', format, '--out', out, '--state', path.join(dir, `${format}.state`)],
        {},
      );
      assert.equal(r.code, 0, r.stderr);
      return fs.readFileSync(out, 'utf8');
    };
    report = JSON.parse(run('json')) as TeamReportJson;
    ndjson = run('ndjson');
    otlp = run('otlp');
    assert.equal(report.members, 5);
    assert.ok(report.totals);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('NDJSON loads into DuckDB: one team row, the k-anonymous breakdown rows, and figures that add up', async () => {
    const file = path.join(dir, 'team.ndjson');
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    try {
      await con.run(
        `CREATE TABLE team AS SELECT * FROM read_json('${file.replace(/'/g, "''")}', format = 'newline_delimited')`,
      );
      const columns = (await con.runAndReadAll('SELECT column_name FROM (DESCRIBE team)'))
        .getRowObjectsJS()
        .map((r) => r.column_name);
      assert.deepEqual(columns, [...NDJSON_COLUMNS]);
      const rows = async (sql: string): Promise<Array<Record<string, unknown>>> =>
        (await con.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>;
      const [team] = await rows(
        "SELECT team, CAST(period_start AS VARCHAR) AS since, CAST(period_end AS VARCHAR) AS until, members, total_tokens, input_tokens, commits, cost_usd FROM team WHERE record = 'team'",
      );
      const t = report.totals!;
      assert.deepEqual(team, {
        team: 'payments',
        since: '2026-11-01',
        until: '2026-11-30',
        members: 5n,
        total_tokens: BigInt(t.total),
        input_tokens: BigInt(t.input),
        commits: BigInt(report.outcomes!.commits),
        cost_usd: t.costUSD,
      });
      // The breakdowns add up to the team in SQL, as a warehouse would check them.
      const [sums] = await rows(
        "SELECT SUM(total_tokens) FILTER (WHERE record = 'source') AS by_source, SUM(total_tokens) FILTER (WHERE record = 'model') AS by_model, MIN(members) FILTER (WHERE record <> 'team') AS fewest FROM team",
      );
      assert.equal(sums?.by_source, BigInt(t.total));
      assert.equal(sums?.by_model, BigInt(t.total));
      assert.ok(Number(sums?.fewest) >= report.k, 'every breakdown row covers at least k members');
      // Gemini (one member) is grouped, and Codex (three) joins the group so that the total minus Claude Code is not
      // one member's Gemini use; within Claude Code, Opus (two) is grouped and Sonnet joins it.
      const breakdown = await rows(
        "SELECT record, source, model, grouped, members FROM team WHERE record IN ('source', 'model') ORDER BY record DESC, source",
      );
      assert.deepEqual(
        breakdown.map((r) => [r.record, r.source, r.model, r.grouped, r.members]),
        [
          ['source', 'claude-code', null, false, 5n],
          ['source', 'other', null, true, 3n],
          ['model', 'claude-code', 'other', true, 5n],
          ['model', 'other', 'other', true, 3n],
        ],
      );
      const dist = await rows("SELECT metric, median FROM team WHERE record = 'distribution' AND metric = 'yield'");
      assert.equal(dist[0]?.median, report.distributions?.find((d) => d.metric === 'yield')?.median);
    } finally {
      con.closeSync();
      db.closeSync();
    }
    // Nothing per member leaves: no member's own total appears anywhere.
    for (const f of files) assert.ok(!ndjson.includes(`:${f.rollup.totals.total},`), 'a member total in the NDJSON');
  });

  it('OTLP lines are MetricsData the official protobuf schema reads back field for field, with the metrics and attributes of the contract', () => {
    const lines = otlp.trimEnd().split('\n');
    assert.equal(lines.length, 1, 'one MetricsData per line (one report)');
    const json = JSON.parse(lines[0]!) as MetricsData;
    // Through the schema and back: protobuf bytes, decoded, as proto3 JSON (int64 as strings, enums as numbers).
    const bytes = MetricsDataType.encode(MetricsDataType.fromObject(json)).finish();
    const back = MetricsDataType.toObject(MetricsDataType.decode(bytes), { longs: String, enums: Number });
    assert.deepEqual(back, json, 'every field is one the schema knows, with its type');
    assert.equal(json.resourceMetrics.length, 1);
    const rm = json.resourceMetrics[0]!;
    assert.deepEqual(rm.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'outcome-ledger' } },
      { key: 'outcome_ledger.team', value: { stringValue: 'payments' } },
    ]);
    assert.equal(rm.scopeMetrics[0]?.scope.name, 'outcome-ledger');
    const metrics = rm.scopeMetrics[0]!.metrics;
    assert.deepEqual(
      metrics.map((m) => [m.name, m.unit]),
      [
        [OTLP_METRICS.tokens, '{token}'],
        [OTLP_METRICS.commits, '{commit}'],
        [OTLP_METRICS.tasks, '{task}'],
        [OTLP_METRICS.prs, '{pull_request}'],
        [OTLP_METRICS.cost, '{USD}'],
        [OTLP_METRICS.members, '{member}'],
      ],
    );
    assert.deepEqual(
      metrics.map((m) => m.name),
      [
        'outcome_ledger.team.tokens',
        'outcome_ledger.team.commits',
        'outcome_ledger.team.tasks',
        'outcome_ledger.team.prs',
        'outcome_ledger.team.cost_usd',
        'outcome_ledger.team.members',
      ],
    );
    const attr = (p: DataPoint, key: string): string | undefined =>
      p.attributes.find((a) => a.key === key)?.value.stringValue;
    const tokens = metrics[0]!.sum!;
    assert.equal(tokens.aggregationTemporality, 1, 'delta: the figures cover the period');
    assert.equal(tokens.isMonotonic, true);
    // The period in Berlin: 2026-11-01T00:00+01:00 to 2026-12-01T00:00+01:00.
    for (const p of tokens.dataPoints) {
      assert.equal(p.startTimeUnixNano, `${Date.parse('2026-10-31T23:00:00Z')}000000`);
      assert.equal(p.timeUnixNano, `${Date.parse('2026-11-30T23:00:00Z')}000000`);
    }
    const team = tokens.dataPoints.filter((p) => attr(p, 'outcome_ledger.breakdown') === 'team');
    assert.deepEqual(
      team.map((p) => attr(p, 'gen_ai.token.type')),
      ['input', 'cache_read', 'cache_write', 'output'],
    );
    const t = report.totals!;
    assert.deepEqual(
      team.map((p) => Number(p.asInt)),
      [t.input, t.cacheRead, t.cacheWrite, t.output],
    );
    assert.equal(
      team.reduce((s, p) => s + Number(p.asInt), 0),
      t.total,
    );
    for (const breakdown of ['source', 'model']) {
      const points = tokens.dataPoints.filter((p) => attr(p, 'outcome_ledger.breakdown') === breakdown);
      assert.ok(points.length > 0);
      assert.equal(
        points.reduce((s, p) => s + Number(p.asInt), 0),
        t.total,
        `${breakdown} points add up to the team`,
      );
      for (const p of points) assert.ok(attr(p, 'outcome_ledger.source'));
      if (breakdown === 'model') for (const p of points) assert.ok(attr(p, 'gen_ai.request.model'));
    }
    assert.ok(
      !tokens.dataPoints.some(
        (p) =>
          attr(p, 'gen_ai.request.model') === 'gemini-2.5-pro' || attr(p, 'outcome_ledger.source') === 'gemini-cli',
      ),
      'no row of fewer than k members',
    );
    assert.equal(Number(metrics[1]!.sum!.dataPoints[0]!.asInt), report.outcomes!.commits);
    assert.equal(metrics[4]!.sum!.dataPoints[0]!.asDouble, t.costUSD);
    const members = metrics[5]!.gauge!.dataPoints;
    assert.equal(Number(members[0]!.asInt), 5);
    assert.ok(members.every((p) => Number(p.asInt) >= report.k));
    for (const f of files) assert.ok(!otlp.includes(`"${f.rollup.totals.total}"`), 'a member total in the OTLP');
  });

  it('the roster: rollups signed by keys outside it are refused with their reason; roster.txt in the folder is used; names come from it', () => {
    const rollups = path.join(dir, 'rostered');
    fs.mkdirSync(rollups);
    files.forEach((f, i) => fs.writeFileSync(path.join(rollups, `m${i}.json`), JSON.stringify(f)));
    const roster = path.join(dir, 'members.txt');
    fs.writeFileSync(
      roster,
      `# payments team\n${files
        .slice(0, 4)
        .map((f, i) => `${f.signature.fingerprint}${i === 0 ? '  Ana Lima' : ''}`)
        .join('\n')}\n`,
    );
    const r = cli(
      ['rollup', 'merge', rollups, '--members', roster, '--format', 'json', '--state', path.join(dir, 'roster.state')],
      {},
    );
    assert.equal(r.code, 0, r.stderr);
    const team = JSON.parse(r.stdout) as TeamReportJson;
    assert.equal(team.members, 4);
    assert.deepEqual(team.roster, { source: 'members.txt', keys: 4 });
    assert.deepEqual(team.named, ['Ana Lima']);
    assert.deepEqual(
      team.notCounted.map((n) => [path.basename(n.file), n.status]),
      [['m4.json', 'refused']],
    );
    assert.equal(
      team.notCounted[0]?.reason,
      `signed by ${files[4]!.signature.fingerprint}, which is not on the roster (members.txt): not counted (add the key to the roster if this member belongs to the team)`,
    );
    assert.match(r.stderr, /1 refused.*; roster members\.txt \(4 keys\)/);
    // Without a roster the report says who could have contributed; with roster.txt in the folder, it is used.
    assert.match(
      cli(['rollup', 'merge', rollups, '--state', path.join(dir, 'no-roster.state')], {}).stdout,
      /No roster was given: anyone with an Outcome Ledger signing key could have contributed/,
    );
    fs.copyFileSync(roster, path.join(rollups, 'roster.txt'));
    const md = cli(['rollup', 'merge', rollups, '--state', path.join(dir, 'roster-txt.state')], {}).stdout;
    assert.match(
      md,
      /Checked against the roster roster\\\.txt \(4 keys\): rollups signed by any other key are refused\./,
    );
    // A roster that is not one: exit 1, one line naming the line.
    fs.writeFileSync(roster, `${files[0]!.signature.fingerprint}\nnot-a-key\n`);
    const bad = cli(['rollup', 'merge', rollups, '--members', roster], {});
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr.trim(),
      'outcome-ledger: roster: members.txt line 2: not a key fingerprint (expected SHA256:xxxx:… as `outcome-ledger rollup export` prints it)',
    );
    fs.writeFileSync(roster, `${files[0]!.signature.fingerprint} Dave 15 commits\n`);
    assert.match(
      cli(['rollup', 'merge', rollups, '--members', roster], {}).stderr,
      /^outcome-ledger: roster: members\.txt line 1: a display name has letters, spaces/,
    );
  });
});
