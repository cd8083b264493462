import type { Database, Statement } from 'sql.js';

/**
 * Paths stored once (schema 10, docs/ledger.md): every folder a log file lives in, and every working folder a session
 * ran in, is one row of `paths`; `files` is keyed by (folder, file name) and `sessions` refers to its working folder
 * and its log file's folder by id. A year of heavy use repeats a few thousand folders across tens of thousands of
 * files and sessions, so the snapshot every process loads no longer holds each folder again and again.
 *
 * Ids are assigned by SQLite (`INSERT OR IGNORE` into `paths`, then a sub-select by text inside the statement that
 * uses it), never by a counter in this process: the journal records those statements, so a replay assigns the same
 * ids. Services never see an id: the store hands whole path strings back.
 */

/**
 * Splits a path into its folder (up to and including the last `/` or `\`) and its name: folder + name is the text,
 * character for character, for any string (no separator: an empty folder; a trailing separator: an empty name).
 * The migration to schema 10 splits the paths already stored with this very function (`storePathsOnce`).
 */
export function splitPath(text: string): [folder: string, name: string] {
  const at = Math.max(text.lastIndexOf('/'), text.lastIndexOf('\\'));
  return [text.slice(0, at + 1), text.slice(at + 1)];
}

const INTERN = 'INSERT OR IGNORE INTO paths (text) VALUES (?)';
/** The id of an interned path, in SQL, bound to one `?` (NULL stays NULL). */
export const PATH_ID_SQL = '(SELECT id FROM paths WHERE text = ?)';

/** A session's working folder, as SQL over the sessions row aliased `s`. */
export function sessionCwdSql(s = 's'): string {
  return `(SELECT text FROM paths WHERE id = ${s}.cwd_ref)`;
}

/** A session's log file, as SQL over the sessions row aliased `s` (NULL when it has none). */
export function sessionLogPathSql(s = 's'): string {
  return `((SELECT text FROM paths WHERE id = ${s}.log_dir_ref) || ${s}.log_name)`;
}

/**
 * Interns paths with one prepared statement. `intern(text)` makes sure `text` has a row (a NULL needs none); the
 * statement that stores the reference then finds it with `PATH_ID_SQL`.
 */
export class PathInterner {
  private readonly stmt: Statement;
  /** Folders interned by this writer: a folder's row is never removed, so each is interned once per writer. */
  private readonly done = new Set<string>();
  constructor(db: Database) {
    this.stmt = db.prepare(INTERN);
  }

  intern(text: string | null): void {
    if (text === null || this.done.has(text)) return;
    this.stmt.run([text]);
    if (this.done.size >= MAX_REMEMBERED) this.done.clear();
    this.done.add(text);
  }

  free(): void {
    this.stmt.free();
  }
}

/** Folders a writer remembers having interned (a year of heavy use has about 6,400). */
const MAX_REMEMBERED = 20_000;

/** The values of a session's log file for `log_dir_ref` (via PATH_ID_SQL) and `log_name`. */
export function logPathParts(logPath: string | null): [folder: string | null, name: string | null] {
  return logPath === null ? [null, null] : splitPath(logPath);
}

/** The repositories and working folders of the sessions in the ledger (each once). */
export function sessionFolders(db: Database): string[] {
  const rows = db.exec(
    // The repositories from their counts (repo_totals) and the folders from their index (sessions_cwd; schema 11).
    'SELECT repo FROM repo_totals UNION SELECT text FROM paths WHERE id IN (SELECT DISTINCT cwd_ref FROM sessions)',
  );
  return (rows[0]?.values ?? []).flatMap(([d]) => (typeof d === 'string' ? [d] : []));
}

/** Sets a session's working folder, repository and branch (a manual entry edited). */
export function setSessionPlace(
  db: Database,
  ref: number,
  cwd: string | null,
  repo: string | null,
  branch: string | null,
): void {
  if (cwd !== null) db.run(INTERN, [cwd]);
  db.run(`UPDATE sessions SET cwd_ref = ${PATH_ID_SQL}, repo = ?, branch = ? WHERE id = ?`, [cwd, repo, branch, ref]);
}

/** Forgets a session's log file (a manual entry has none to open). */
export function clearSessionLog(db: Database, ref: number): void {
  db.run('UPDATE sessions SET log_dir_ref = NULL, log_name = NULL WHERE id = ?', [ref]);
}

/**
 * Migration to schema 10: interns the folders of `files.path` and `sessions.log_path` and the working folders, and
 * rebuilds both tables with references (ids, and everything else, unchanged). The folders are split by `splitPath`
 * itself (in one pass here, handed to SQL as a temporary table), so a path migrated and a path written later split
 * alike.
 */
export function storePathsOnce(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS paths (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)');
  // Table by table, each only when not moved yet: a ledger relabelled to an older version keeps what it has.
  if (hasColumn(db, 'files', 'path')) {
    splitInto(db, 'SELECT path FROM files');
    db.exec(FILES_10);
  }
  if (hasColumn(db, 'sessions', 'log_path')) {
    splitInto(db, 'SELECT DISTINCT log_path FROM sessions WHERE log_path IS NOT NULL');
    db.exec(SESSIONS_10);
  }
  db.exec('DROP TABLE IF EXISTS temp.split');
}

function hasColumn(db: Database, table: string, column: string): boolean {
  return (db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).some((v) => v[1] === column);
}

/** Fills `temp.split (path, d)` with the folder of every path `select` gives. */
function splitInto(db: Database, select: string): void {
  db.exec('CREATE TEMP TABLE IF NOT EXISTS split (path TEXT PRIMARY KEY, d TEXT NOT NULL) WITHOUT ROWID');
  db.exec('DELETE FROM temp.split');
  const pairs = (db.exec(select)[0]?.values ?? []).map(([p]) => [String(p), splitPath(String(p))[0]]);
  db.run('INSERT OR IGNORE INTO temp.split (path, d) SELECT value ->> 0, value ->> 1 FROM json_each(?)', [
    JSON.stringify(pairs),
  ]);
}

const FILES_10 = `
DROP INDEX IF EXISTS files_health;
ALTER TABLE files RENAME TO files_9;
CREATE TABLE files (
  dir_ref INTEGER NOT NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL,
  dev INTEGER NOT NULL,
  ino INTEGER NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  line_no INTEGER NOT NULL,
  state TEXT,
  rejected INTEGER NOT NULL DEFAULT 0,
  status TEXT,
  PRIMARY KEY (dir_ref, name)
) WITHOUT ROWID;
INSERT OR IGNORE INTO paths (text) SELECT DISTINCT d FROM temp.split ORDER BY d;
INSERT INTO files (dir_ref, name, source, dev, ino, size, mtime_ms, offset, line_no, state, rejected, status)
  SELECT p.id, substr(f.path, length(x.d) + 1), f.source, f.dev, f.ino, f.size, f.mtime_ms, f.offset, f.line_no, f.state,
         f.rejected, f.status
  FROM files_9 f JOIN temp.split x ON x.path = f.path JOIN paths p ON p.text = x.d;
DROP TABLE files_9;
CREATE INDEX files_health ON files (status, source, rejected);
`;

const SESSIONS_10 = `
ALTER TABLE sessions RENAME TO sessions_9;
CREATE TABLE sessions (
  id INTEGER PRIMARY KEY,
  source TEXT NOT NULL,
  session_key TEXT NOT NULL,
  cwd_ref INTEGER,
  repo TEXT,
  branch TEXT,
  label TEXT,
  log_dir_ref INTEGER,
  log_name TEXT,
  UNIQUE (source, session_key)
);
INSERT OR IGNORE INTO paths (text) SELECT DISTINCT cwd FROM sessions_9 WHERE cwd IS NOT NULL ORDER BY cwd;
INSERT OR IGNORE INTO paths (text) SELECT DISTINCT d FROM temp.split ORDER BY d;
INSERT INTO sessions (id, source, session_key, cwd_ref, repo, branch, label, log_dir_ref, log_name)
  SELECT s.id, s.source, s.session_key, (SELECT id FROM paths WHERE text = s.cwd), s.repo, s.branch, s.label,
         (SELECT id FROM paths WHERE text = x.d), substr(s.log_path, length(x.d) + 1)
  FROM sessions_9 s LEFT JOIN temp.split x ON x.path = s.log_path ORDER BY s.id;
DROP TABLE sessions_9;
`;
