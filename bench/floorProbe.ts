/**
 * The floors under the year's targets, each measured in a fresh process by `bench/floors.ts` (run as
 * `node out/bench/floorProbe.js MODE ...`; prints one JSON line). Each does only the one thing any import must do,
 * nothing of the ledger's own work, so the figure is a lower bound of what the real command can cost here:
 *
 * - `stat LIST`: one `stat` of each path listed in the file LIST (what a warm import needs at least, since a file can
 *   grow without its folder changing; docs/ledger.md "How discovery skips unchanged folders");
 * - `parse LIST MARKER`: read each listed file and `JSON.parse` only the lines that hold MARKER (`"usage"` in Claude
 *   Code's files, `"token_count"` in Codex's): the lines that carry usage, which every reader must parse (ccusage
 *   parses every line);
 * - `insert HOME REQUESTS SESSIONS`: a new ledger in HOME (its real schema, indexes and triggers), then REQUESTS request
 *   rows over SESSIONS sessions inserted with the importer's own statement, in one transaction, never saved.
 */
import * as fs from 'node:fs';
import { Ledger } from '../src/store/ledger';
import { INSERT_INTERACTION_SQL } from '../src/store/records';

function listed(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

function statAll(paths: string[]): { ms: number; files: number } {
  const t = performance.now();
  let size = 0;
  for (const p of paths) size += fs.statSync(p).size;
  if (size < 0) throw new Error('unreachable');
  return { ms: performance.now() - t, files: paths.length };
}

function parseAll(paths: string[], marker: string): { ms: number; lines: number; bytes: number } {
  const t = performance.now();
  const needle = Buffer.from(marker);
  let lines = 0;
  let bytes = 0;
  for (const p of paths) {
    const buf = fs.readFileSync(p);
    bytes += buf.length;
    let at = buf.indexOf(needle);
    while (at !== -1) {
      const start = buf.lastIndexOf(0x0a, at) + 1;
      let end = buf.indexOf(0x0a, at);
      if (end === -1) end = buf.length;
      JSON.parse(buf.toString('utf8', start, end));
      lines++;
      at = buf.indexOf(needle, end);
    }
  }
  return { ms: performance.now() - t, lines, bytes };
}

async function insertAll(home: string, requests: number, sessions: number): Promise<{ ms: number }> {
  fs.rmSync(home, { recursive: true, force: true });
  const ledger = await Ledger.open(home);
  try {
    const db = ledger.database;
    const t = performance.now();
    db.exec('BEGIN');
    db.run("INSERT INTO models (name) VALUES ('claude-sonnet-4-5')");
    const session = db.prepare('INSERT INTO sessions (source, session_key) VALUES (?, ?)');
    for (let s = 0; s < sessions; s++) session.run(['claude-code', `session-${s}`]);
    session.free();
    // The importer's statement (store/records.ts), ids spread as its stable ids are.
    const insert = db.prepare(INSERT_INTERACTION_SQL);
    const start = Date.UTC(2026, 0, 1);
    for (let i = 0; i < requests; i++) {
      const id = Math.floor(Math.random() * 2 ** 52) + 1;
      const ref = 1 + Math.floor((i / requests) * sessions);
      insert.run([id, ref, start + i * 120_000, 1, 3, 400, 30_000, 2_000, 0, 0, 45_000_000, null, 0, 0]);
    }
    insert.free();
    db.exec('COMMIT');
    return { ms: performance.now() - t };
  } finally {
    ledger.close();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const [mode, a = '', b = '0', c = '1'] = process.argv.slice(2);
  let result: object;
  if (mode === 'stat') result = statAll(listed(a));
  else if (mode === 'parse') result = parseAll(listed(a), b);
  else if (mode === 'insert') result = await insertAll(a, Number(b), Number(c));
  else throw new Error(`floorProbe: unknown mode ${mode ?? ''}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
