import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import type { TruthInteraction } from '../src/demo/truth';
import { isRejection, type InteractionRecord, type LedgerRecord, type SourceName } from '../src/core/usage/model';
import { importAll, type SourceSummary } from '../src/services/importer';
import type { LineParser, LogFile, SourceReader } from '../src/sources/parser';
import { Ledger } from '../src/store/ledger';
import { RecordWriter } from '../src/store/records';
import { totalOf } from '../src/core/usage/tokens';
import { total, type Truth } from './fixtures/sources';

export function tempDir(prefix = 'ol-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh temporary folder for each test of the suite it is called in, removed after the test: read `.dir` in a test. */
export function tempDirEach(prefix: string): { dir: string } {
  const tmp = { dir: '' };
  beforeEach(() => (tmp.dir = tempDir(prefix)));
  afterEach(() => fs.rmSync(tmp.dir, { recursive: true, force: true }));
  return tmp;
}

/** The tokens (input, output, cache read and write) of every request the ledger holds in detail. */
export function ledgerTokens(ledger: Ledger): number {
  return Number(
    ledger.database.exec('SELECT sum(input + output + cache_read + cache_write) FROM interactions')[0]
      ?.values[0]?.[0] ?? 0,
  );
}

/** Makes `dir` a repository's root as the readers see one (a `.git` folder in it) and returns it. */
export function repoFolder(dir: string): string {
  fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
  return dir;
}

export interface ParsedLines {
  records: LedgerRecord[];
  rejected: string[];
  parser: LineParser;
}

/** Feeds lines through a source's parser the way the importer does (one Buffer view per line). */
export function parseLines(
  reader: SourceReader,
  lines: string[],
  file: Partial<LogFile> = {},
  state: string | null = null,
): ParsedLines {
  const logFile: LogFile = {
    source: reader.source,
    path: file.path ?? '/logs/5f0c-session.jsonl',
    root: file.root ?? '/logs',
  };
  const parser = reader.createParser(logFile, state);
  const records: LedgerRecord[] = [];
  const rejected: string[] = [];
  for (const line of lines) {
    const buf = Buffer.from(`pad${line}pad`);
    const outcome = parser.parse(buf, 3, buf.length - 3);
    if (outcome === null) continue;
    if (isRejection(outcome)) rejected.push(outcome.reason);
    else records.push(...outcome);
  }
  return { records, rejected, parser };
}

/** Feeds a log file's non-empty lines through a source's parser (`root`: the folder the reader found it under). */
export function parseFile(reader: SourceReader, file: string, root: string): ParsedLines {
  return parseLines(reader, fs.readFileSync(file, 'utf8').split('\n').filter(Boolean), { path: file, root });
}

export function interactions(records: LedgerRecord[]): Extract<LedgerRecord, { kind: 'interaction' }>[] {
  return records.filter((r): r is Extract<LedgerRecord, { kind: 'interaction' }> => r.kind === 'interaction');
}

/** Sums of what the ledger holds per source (straight from the interactions table). */
export interface LedgerSums {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
  n: number;
}

export function ledgerSums(db: Database, source: string): LedgerSums {
  const r = db.exec(
    'SELECT coalesce(sum(i.input),0), coalesce(sum(i.output),0), coalesce(sum(i.cache_read),0), coalesce(sum(i.cache_write),0), coalesce(sum(i.reasoning),0), count(i.id) FROM interactions i JOIN sessions s ON s.id = i.session_ref WHERE s.source = ?',
    [source],
  );
  const [input, output, cacheRead, cacheWrite, reasoning, n] = (r[0]?.values[0] ?? []).map(Number);
  return {
    input: input ?? 0,
    output: output ?? 0,
    cacheRead: cacheRead ?? 0,
    cacheWrite: cacheWrite ?? 0,
    reasoning: reasoning ?? 0,
    n: n ?? 0,
  };
}

/** The files a source's sessions edited, as the ledger stores them (relative to the repository), sorted. */
export function sessionFiles(db: Database, source: SourceName): string[] {
  const r = db.exec(
    'SELECT f.path FROM session_files f JOIN sessions s ON s.id = f.session_ref WHERE s.source = ? ORDER BY f.path',
    [source],
  );
  return (r[0]?.values ?? []).map((v) => String(v[0]));
}

/**
 * Imports everything `env` points at into the ledger and checks that a source's fixture came in exactly: as many
 * rejected lines as the fixture wrote, and the ledger's sums for the source equal to its truth. Returns the source's
 * import summary for further checks.
 */
export async function importExactly(
  ledger: Ledger,
  env: NodeJS.ProcessEnv,
  source: SourceName,
  fx: { rejects: number; truth: Truth[] },
): Promise<SourceSummary | undefined> {
  const s = await importAll(ledger, { env, quietMs: 0 });
  const row = s.sources.find((x) => x.source === source);
  assert.equal(row?.linesRejected, fx.rejects, row?.reasons.join('\n'));
  assert.deepEqual(ledgerSums(ledger.database, source), total(fx.truth));
  return row;
}

/**
 * Writes a tool's fixture into `<dir>/home` for the project `<dir>/app` and imports it exactly (importExactly) into a
 * fresh ledger at `<dir>/ledger`: returns the fixture, the ledger and the env, for the test's next steps.
 */
export async function importHomeFixture<F extends { rejects: number; truth: Truth[] }>(
  dir: string,
  source: SourceName,
  write: (home: string, project: string) => F,
): Promise<{ fx: F; ledger: Ledger; env: { HOME: string } }> {
  const fx = write(path.join(dir, 'home'), path.join(dir, 'app'));
  const ledger = await Ledger.open(path.join(dir, 'ledger'));
  const env = { HOME: path.join(dir, 'home') };
  await importExactly(ledger, env, source, fx);
  return { fx, ledger, env };
}

/**
 * A Claude Code request whose figures follow from `output` (model, cache, sidechain and a recorded cost vary with it):
 * the synthetic traffic of the ledger's rollup and archive tests.
 */
export function syntheticRequest(key: string, session: string, ts: number, output: number): InteractionRecord {
  return {
    kind: 'interaction',
    key,
    session: { source: 'claude-code', sessionId: session, cwd: '/nowhere' },
    timestamp: ts,
    model: output % 3 === 0 ? 'claude-sonnet-4-5' : 'claude-opus-4-1',
    tokens: { input: 10 + (output % 7), output, cacheRead: 100, cacheWrite: output % 5, reasoning: 0 },
    cacheWrite1h: 0,
    sidechain: output % 4 === 0,
    // Some requests carry the cost the tool recorded (Claude Code's costUSD): summed in the rollup since schema 8.
    ...(output % 2 === 0 ? { recordedCostUSD: output / 10_000 } : {}),
  };
}

/** The total tokens (input, output and both cache figures) of demo-world truth rows: what a report's total must say. */
export function truthTotal(rows: readonly TruthInteraction[]): number {
  return rows.reduce((s, t) => s + totalOf(t), 0);
}

/**
 * Saves a ledger as an older build left it: runs `undo` (the statements that take the newer schemas' additions away),
 * sets the schema version, compacts and closes it. Returns the file's bytes, to show that reading it leaves them be.
 */
export async function saveAsSchema(ledger: Ledger, home: string, version: number, undo: string[]): Promise<Buffer> {
  await ledger.write((db) => {
    for (const sql of undo) db.run(sql);
    db.run("UPDATE meta SET value = ? WHERE key = 'schema_version'", [String(version)]);
  });
  await ledger.compact();
  ledger.close();
  return fs.readFileSync(path.join(home, 'ledger.sqlite'));
}

/** Writes records into the ledger as an import of the log `log` does (one writer, freed); returns each one's outcome. */
export async function addRecords(
  ledger: Ledger,
  records: InteractionRecord[],
  log = '/logs/a.jsonl',
): Promise<string[]> {
  return ledger.write((db) => {
    const w = new RecordWriter(db, { repoOf: () => null });
    try {
      return records.map((r) => w.add(r, log));
    } finally {
      w.free();
    }
  });
}
