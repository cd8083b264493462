import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { listSessions, report } from '../../src/services/queries';
import { sessionLogPath } from '../../src/services/sessionLookup';
import { CursorWriter, loadCursors, type FileCursor } from '../../src/store/files';
import { Ledger } from '../../src/store/ledger';
import { sessionCwdSql, sessionLogPathSql, splitPath } from '../../src/store/paths';
import { RecordWriter } from '../../src/store/records';
import { SCHEMA_VERSION } from '../../src/store/schema';
import { AWKWARD_PATHS } from '../fixtures/paths';
import { tempDirEach } from '../helpers';
import { writeClaudeTurns } from '../vscode/logs';

const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'ledger-schema9');
const Q = { timeZone: 'UTC', now: Date.parse('2026-06-01T00:00:00Z') };

const byPath = (a: FileCursor, b: FileCursor): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const cursorsOf = (ledger: Ledger, only?: string[]): FileCursor[] =>
  [...loadCursors(ledger.database, only).values()].sort(byPath);
const sessionRows = (ledger: Ledger): unknown[][] =>
  ledger.database.exec(
    `SELECT id, session_key, ${sessionCwdSql()}, ${sessionLogPathSql()} FROM sessions s ORDER BY id`,
  )[0]?.values ?? [];

describe('paths stored once (schema 10)', () => {
  const tmp = tempDirEach('ol-paths-');

  it('a path splits into folder and name that give it back exactly', () => {
    {
      for (const p of AWKWARD_PATHS) {
        const [folder, name] = splitPath(p);
        assert.equal(folder + name, p);
        assert.ok(!/[/\\]/.test(name), `no separator in the name of ${JSON.stringify(p)}`);
        assert.ok(folder === '' || /[/\\]$/.test(folder), `the folder of ${JSON.stringify(p)} ends with its separator`);
      }
      assert.deepEqual(splitPath('C:\\Users\\x\\a.jsonl'), ['C:\\Users\\x\\', 'a.jsonl']);
      assert.deepEqual(splitPath('no-separator.jsonl'), ['', 'no-separator.jsonl']);
      assert.deepEqual(splitPath('/var/log/trailing/'), ['/var/log/trailing/', '']);
    }
  });

  it('a schema 9 ledger file (with a journal block) is migrated with every path, session, cursor and figure intact', async () => {
    // Written by the build before schema 10 from test/fixtures/paths.ts (awkwardSessions), with what it showed.
    const home = path.join(tmp.dir, 'ledger');
    fs.mkdirSync(home);
    for (const f of ['ledger.sqlite', 'ledger.journal']) fs.copyFileSync(path.join(FIXTURE, f), path.join(home, f));
    const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
      cursors: FileCursor[];
      sessions: unknown;
      report: unknown;
      rows: unknown[][];
    };
    const snapshot = fs.readFileSync(path.join(home, 'ledger.sqlite'));
    const check = (ledger: Ledger, when: string): void => {
      assert.equal(ledger.schemaVersion, SCHEMA_VERSION, when);
      assert.deepEqual(cursorsOf(ledger), expected.cursors, `${when}: every cursor`);
      for (const c of expected.cursors) assert.deepEqual(cursorsOf(ledger, [c.path]), [c], `${when}: ${c.path}`);
      assert.deepEqual(
        cursorsOf(
          ledger,
          expected.cursors.map((c) => c.path),
        ),
        expected.cursors,
        when,
      );
      assert.deepEqual(cursorsOf(ledger, ['/not/known.jsonl', 'C:\\Users\\x\\b.jsonl']), [], when);
      assert.deepEqual(sessionRows(ledger), expected.rows, `${when}: working folders and log files`);
      assert.deepEqual(JSON.parse(JSON.stringify(listSessions(ledger.database, Q))), expected.sessions, when);
      assert.deepEqual(JSON.parse(JSON.stringify(report(ledger.database, Q))), expected.report, when);
      const columns = (t: string): unknown[] =>
        ledger.database.exec(`PRAGMA table_info(${t})`)[0]?.values.map((v) => v[1]) ?? [];
      assert.ok(!columns('files').includes('path') && !columns('sessions').includes('log_path'), when);
      assert.equal(
        ledger.database.exec("SELECT count(*) FROM sqlite_master WHERE name IN ('files_9', 'sessions_9')")[0]
          ?.values[0]?.[0],
        0,
      );
      assert.equal(
        ledger.database.exec("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'files_health'")[0]
          ?.values[0]?.[0],
        1,
      );
    };
    const a = await Ledger.open(home);
    check(a, 'migrated in memory');
    assert.ok(fs.readFileSync(path.join(home, 'ledger.sqlite')).equals(snapshot), 'untouched until the first write');
    // The first write folds the migrated database; a follower and a fresh open see the same.
    const follower = await Ledger.open(home);
    // A file set aside (a status): data health's figures stay those of the old build.
    const added = { ...expected.cursors[0]!, path: 'D:\\new\\file.jsonl', ino: 999, status: 'set aside', rejected: 0 };
    await a.write((db) => {
      const c = new CursorWriter(db);
      try {
        c.save(added);
      } finally {
        c.free();
      }
    });
    assert.ok(!fs.readFileSync(path.join(home, 'ledger.sqlite')).equals(snapshot), 'folded at the first write');
    expected.cursors = [...expected.cursors, added].sort(byPath);
    check(a, 'after the first write');
    follower.refresh();
    check(follower, 'a follower');
    a.close();
    follower.close();
    const b = await Ledger.open(home);
    check(b, 'a fresh open');
    b.close();
  });

  it('awkward log paths and working folders survive import, reopen, the importer’s lookup and sessions --json', async () => {
    const config = path.join(tmp.dir, 'claude');
    const home = path.join(tmp.dir, 'ledger');
    // File names Linux allows that look like Windows paths, unicode folders and names; working folders as recorded.
    const cases = [
      { cwd: 'C:\\Users\\x\\proj', name: 'C:\\Users\\x\\a.jsonl' },
      { cwd: '\\\\server\\share\\proj', name: '\\\\server\\share\\x.jsonl' },
      { cwd: '/home/ü/プロジェクト/', name: 'ü プロジェクト 😀.jsonl' },
      { cwd: 'relative-folder', name: 'plain.jsonl' },
    ];
    const files = cases.map((c, i) => {
      const s = writeClaudeTurns(config, {
        sessionId: `0000000${i}-aaaa-4bbb-8ccc-dddddddddddd`,
        cwd: c.cwd,
        turns: [{ input: 10 + i, output: 20, at: new Date(Q.now - 86_400_000) }],
      });
      const file = path.join(path.dirname(s.file), c.name);
      fs.renameSync(s.file, file);
      return { ...c, file, sessionId: s.sessionId };
    });
    const env = { HOME: path.join(tmp.dir, 'home'), CLAUDE_CONFIG_DIR: config };
    const a = await Ledger.open(home);
    const first = await importAll(a, { env, quietMs: 0 });
    assert.equal(first.sources.find((s) => s.source === 'claude-code')?.interactionsAdded, cases.length);
    a.close();
    const b = await Ledger.open(home);
    try {
      // The importer finds each file's cursor by its path: nothing is read again.
      const again = await importAll(b, { env, quietMs: 0 });
      assert.equal(again.bytesRead, 0);
      const known = loadCursors(b.database);
      for (const f of files) {
        assert.ok(known.has(f.file), f.file);
        assert.equal(loadCursors(b.database, [f.file]).get(f.file)?.path, f.file);
        assert.equal(sessionLogPath(b.database, f.sessionId), f.file);
      }
      const listed = listSessions(b.database, { ...Q, since: '2026-01-01' });
      assert.deepEqual(
        listed.map((s) => [s.sessionId, s.cwd, s.logPath]).sort(),
        files.map((f) => [f.sessionId, f.cwd, f.file]).sort(),
      );
      // A capture of one file (as a watcher reports it) reads that file's cursor only.
      fs.appendFileSync(files[0]!.file, '');
      const one = await importAll(b, { env, quietMs: 0, changed: [files[0]!.file] });
      assert.equal(one.bytesRead, 0);
    } finally {
      b.close();
    }
  });

  it('the snapshot holds a shared folder once: bytes per log file on a few thousand files in long folders', async () => {
    const home = path.join(tmp.dir, 'ledger');
    const ledger = await Ledger.open(home);
    const folders = Array.from(
      { length: 40 },
      (_, i) => `/home/someone/.claude/projects/-home-someone-src-github.com-an-organisation-a-long-project-name-${i}/`,
    );
    const n = 4000;
    await ledger.write((db) => {
      const w = new RecordWriter(db, { repoOf: () => null });
      const c = new CursorWriter(db);
      try {
        for (let i = 0; i < n; i++) {
          const folder = folders[i % folders.length]!;
          const file = `${folder}${i.toString(16).padStart(8, '0')}-7d2c-4f1e-9a3b-5c6d7e8f9a0b.jsonl`;
          w.add(
            {
              kind: 'interaction',
              key: `k${i}`,
              session: { source: 'claude-code', sessionId: `s${i}`, cwd: `/home/someone/src/project-${i % 40}` },
              timestamp: Q.now - i * 60_000,
              model: 'claude-sonnet-4-5',
              tokens: { input: 10, output: 20, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
              cacheWrite1h: 0,
              sidechain: false,
            },
            file,
          );
          const cursor = { source: 'claude-code' as const, dev: 1, ino: i, size: 5000, mtimeMs: 1.7e12 + i };
          c.save({ ...cursor, path: file, offset: 5000, lineNo: 12, state: null, rejected: 0, status: null });
        }
      } finally {
        w.free();
        c.free();
      }
    });
    await ledger.compact();
    const size = fs.statSync(path.join(home, 'ledger.sqlite')).size;
    ledger.close();
    // Schema 9 held each file's folder twice (files.path, sessions.log_path) plus the working folder: 887 bytes
    // per file and its session here (518 with paths stored once).
    assert.ok(size / n < 560, `${(size / n).toFixed(0)} bytes per file and its session`);
  });
});
