import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { ReportJson } from '../../src/core/outcomes/report';
import type { SourceName } from '../../src/core/usage/model';
import { total, type Truth } from '../fixtures/sources';
import type { SessionJson } from '../../src/services/queries';

export const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `rollup export` of everything the ledger holds (2000–2100), consented and without an import: for the tests that
 * check what a rollup carries.
 */
export function exportAllRollup(home: string, env: Record<string, string>, out: string, extra: string[] = []): Run {
  const args = ['rollup', 'export', '--since', '2000-01-01', '--until', '2100-01-01', '--out', out, '--yes'];
  return cli([...args, '--no-import', ...extra, '--home', home], env);
}

/** Runs the real bundled CLI (dist/cli.js) as a user would (`input`: what is piped to its stdin). */
export function cli(args: string[], env: Record<string, string>, input?: string): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function reportJson(home: string, env: Record<string, string>, extra: string[] = []): ReportJson {
  const r = cli(['report', '--json', '--home', home, ...extra], env);
  if (r.code !== 0) throw new Error(`report failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReportJson;
}

export function sessionsJson(home: string, env: Record<string, string>): SessionJson[] {
  const r = cli(['sessions', '--json', '--home', home], env);
  if (r.code !== 0) throw new Error(`sessions failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SessionJson[];
}

/** A second import adds nothing: the figures per source and the totals stay as they were. */
export function assertReimportAddsNothing(home: string, env: Record<string, string>, period: string[]): void {
  const before = reportJson(home, env, [...period, '--no-import']);
  const r = cli(['import', '--home', home], env);
  assert.equal(r.code, 0, r.stderr);
  const after = reportJson(home, env, [...period, '--no-import']);
  assert.deepEqual(after.bySource, before.bySource);
  assert.deepEqual(after.totals, before.totals);
}

/** A `verify --key EXPECTED` run on a file another key signed: exit 1, and the message names both keys. */
export function assertSignedByOtherKey(r: Run, signer: string, expected: string): void {
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`✗ the file was signed by the key ${signer}, not by the expected key ${expected}`));
}

export interface HealthJson {
  sources: Array<{
    source: string;
    found: boolean;
    roots: Array<{ path: string; exists: boolean }>;
    last: string | null;
    rejectedLines: number;
    /** The rejected lines and files not read, each with its reason. */
    reasons: Array<{ path: string; lineNo: number; reason: string }>;
    gaps: string[];
  }>;
}

/** `health --json`, checked to show each source found, where, with a last record and its rejected entries. */
export function assertSourcesFound(
  home: string,
  env: Record<string, string>,
  sources: readonly string[],
  rejects: Readonly<Record<string, number>>,
): HealthJson {
  const r = cli(['health', '--json', '--home', home], env);
  assert.equal(r.code, 0, r.stderr);
  const h = JSON.parse(r.stdout) as HealthJson;
  for (const source of sources) {
    const s = h.sources.find((x) => x.source === source);
    assert.equal(s?.found, true, source);
    assert.ok(
      s?.roots.some((x) => x.exists),
      `${source} shows where it was found`,
    );
    assert.ok(s?.last, `${source} has a last record`);
    assert.equal(s?.rejectedLines, rejects[source], source);
  }
  return h;
}

/**
 * Imports with the CLI, then checks `report --json`: per source, the canonical token fields and the request count
 * equal the fixture's truth, and the rejected entries are counted. Returns the report.
 */
export function importAndCheckTotals(
  home: string,
  env: Record<string, string>,
  period: string[],
  sources: readonly SourceName[],
  truth: readonly Truth[],
  rejects: Readonly<Record<string, number>>,
): ReportJson {
  const r = cli(['import', '--home', home], env);
  assert.equal(r.code, 0, r.stderr);
  for (const s of sources) assert.match(r.stdout, new RegExp(s));
  const report = reportJson(home, env, period);
  for (const source of sources) {
    const want = total(truth.filter((t) => t.source === source));
    const got = report.bySource.find((s) => s.source === source);
    assert.deepEqual(
      got && {
        input: got.input,
        output: got.output,
        cacheRead: got.cacheRead,
        cacheWrite: got.cacheWrite,
        reasoning: got.reasoning,
        n: got.interactions,
      },
      want,
      source,
    );
    assert.equal(
      report.coverage.find((c) => c.source === source)?.rejectedLines,
      rejects[source],
      `${source} rejected entries`,
    );
  }
  return report;
}
