/**
 * Persistence of outcomes (schema version 2): repositories and what was read from them, commits, links with the
 * engineer's decisions, successor edges, link stamps and kept-line counts. Runs inside the caller's transaction.
 */
import type { Database, SqlValue, Statement } from 'sql.js';
import { eachRowOf } from './rows';
import {
  COMMIT_GONE,
  STANDING_MASK,
  decodeFiles,
  encodeFiles,
  type CommitInfo,
  type FileStat,
} from '../core/outcomes/commits';
import type { Evidence, EvidenceKind, LinkState } from '../core/outcomes/linking';

export type RepoState = 'ok' | 'vanished' | 'moved' | 'no-git';

export interface RepoRow {
  id: number;
  commonDir: string;
  root: string;
  state: RepoState;
  note: string | null;
  me: string | null;
  /** Tips read last time (tipsKey text). */
  tips: string;
  head: string | null;
  /** Commits committed at or after this instant have been read (epoch ms), or null before the first read. */
  horizon: number | null;
  readMs: number | null;
}

function str(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

export function loadRepos(db: Database): RepoRow[] {
  return (
    db.exec('SELECT id, common_dir, root, state, note, me, tips, head, horizon, read_ms FROM repos ORDER BY id')[0]
      ?.values ?? []
  ).map((v) => ({
    id: Number(v[0]),
    commonDir: String(v[1]),
    root: String(v[2]),
    state: String(v[3]) as RepoState,
    note: str(v[4]),
    me: str(v[5]),
    tips: String(v[6] ?? ''),
    head: str(v[7]),
    horizon: num(v[8]),
    readMs: num(v[9]),
  }));
}

/** Returns the repository's id, creating its row on first sight (identified by its shared git dir). */
export function upsertRepo(db: Database, r: { commonDir: string; root: string; me: string | null }): number {
  db.run(
    'INSERT INTO repos (common_dir, root, me) VALUES (?, ?, ?) ON CONFLICT (common_dir) DO UPDATE SET root = excluded.root, me = coalesce(excluded.me, me)',
    [r.commonDir, r.root, r.me],
  );
  return Number(db.exec('SELECT id FROM repos WHERE common_dir = ?', [r.commonDir])[0]?.values[0]?.[0]);
}

export function saveRepoRead(
  db: Database,
  id: number,
  r: { tips: string; head: string | null; horizon: number | null; readMs: number },
): void {
  db.run("UPDATE repos SET tips = ?, head = ?, horizon = ?, read_ms = ?, state = 'ok', note = NULL WHERE id = ?", [
    r.tips,
    r.head,
    r.horizon,
    r.readMs,
    id,
  ]);
}

export function setRepoState(db: Database, id: number, state: RepoState, note: string | null): void {
  db.run('UPDATE repos SET state = ?, note = ? WHERE id = ?', [state, note, id]);
}

export interface RepoPath {
  path: string;
  repoRef: number | null;
  state: 'ok' | 'vanished' | 'not-a-repo';
}

/** Session repository paths (worktree roots included) mapped to repositories. */
export function loadRepoPaths(db: Database): Map<string, RepoPath> {
  const out = new Map<string, RepoPath>();
  for (const [p, ref, state] of db.exec('SELECT path, repo_ref, state FROM repo_paths')[0]?.values ?? []) {
    out.set(String(p), { path: String(p), repoRef: num(ref), state: String(state) as RepoPath['state'] });
  }
  return out;
}

export function saveRepoPath(db: Database, p: RepoPath): void {
  db.run('INSERT OR REPLACE INTO repo_paths (path, repo_ref, state) VALUES (?, ?, ?)', [p.path, p.repoRef, p.state]);
}

export interface StoredCommit extends CommitInfo {
  id: number;
  repoRef: number;
}

const COMMIT_COLUMNS =
  'id, repo_ref, sha, parents, author_ts, commit_ts, subject, files, flags, tasks, pr, merged_branch, author_email, author_name, co_authors, reverts';

function commitOf(v: unknown[]): StoredCommit {
  const tasks = String(v[9] ?? '');
  const parents = String(v[3] ?? '');
  const filesText = String(v[7] ?? '');
  let files: FileStat[] | undefined;
  return {
    id: Number(v[0]),
    repoRef: Number(v[1]),
    sha: String(v[2]),
    parents: parents ? parents.split(' ') : [],
    authorTime: Number(v[4]),
    commitTime: Number(v[5]),
    subject: String(v[6]),
    // Decoded on first use: a re-link loads every commit for the graph but looks at the files of a few.
    get files(): FileStat[] {
      files ??= decodeFiles(filesText);
      return files;
    },
    flags: Number(v[8]),
    tasks: tasks ? tasks.split(' ') : [],
    pr: num(v[10]),
    mergedBranch: str(v[11]),
    authorEmail: str(v[12]),
    authorName: str(v[13]),
    coAuthors: v[14] ? String(v[14]).split(' ') : [],
    reverts: str(v[15]),
  };
}

/** Inserts commits not stored yet; returns how many were new. */
export function insertCommits(db: Database, repoRef: number, commits: readonly CommitInfo[]): number {
  if (commits.length === 0) return 0;
  const stmt = db.prepare(
    'INSERT OR IGNORE INTO commits (repo_ref, sha, parents, author_ts, commit_ts, subject, files, flags, tasks, pr, merged_branch, author_email, author_name, co_authors, reverts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
  );
  let added = 0;
  try {
    for (const c of commits) {
      stmt.run([
        repoRef,
        c.sha,
        c.parents.join(' '),
        c.authorTime,
        c.commitTime,
        c.subject,
        encodeFiles(c.files),
        c.flags,
        c.tasks.join(' '),
        c.pr,
        c.mergedBranch,
        c.authorEmail ?? null,
        c.authorName ?? null,
        (c.coAuthors ?? []).join(' '),
        c.reverts ?? null,
      ]);
      added += db.getRowsModified();
    }
  } finally {
    stmt.free();
  }
  return added;
}

/** Shas of a repository's commits stored before their author was (schema 5): the next link run reads them again. */
export function commitsWithoutAuthor(db: Database, repoRef: number): string[] {
  return (
    db.exec('SELECT sha FROM commits WHERE repo_ref = ? AND author_email IS NULL', [repoRef])[0]?.values ?? []
  ).map((v) => String(v[0]));
}

/** Fills the author, co-authors and revert target of commits read again from git (rows stored before schema 5). */
export function saveAuthors(db: Database, repoRef: number, commits: readonly CommitInfo[]): void {
  const stmt = db.prepare(
    'UPDATE commits SET author_email = ?, author_name = ?, co_authors = ?, reverts = ? WHERE repo_ref = ? AND sha = ?',
  );
  try {
    for (const c of commits)
      stmt.run([
        c.authorEmail ?? '',
        c.authorName ?? '',
        (c.coAuthors ?? []).join(' '),
        c.reverts ?? null,
        repoRef,
        c.sha,
      ]);
  } finally {
    stmt.free();
  }
}

/** A repository's commits; with `since`, only those committed since then (the recent part of the graph). */
export function loadCommits(db: Database, repoRef: number, since?: number): StoredCommit[] {
  const out: StoredCommit[] = [];
  const stmt = db.prepare(
    `SELECT ${COMMIT_COLUMNS} FROM commits WHERE repo_ref = ?${since === undefined ? '' : ' AND commit_ts >= ?'}`,
  );
  try {
    stmt.bind(since === undefined ? [repoRef] : [repoRef, since]);
    while (stmt.step()) out.push(commitOf(stmt.get()));
  } finally {
    stmt.free();
  }
  return out;
}

/** Commits whose sha starts with `prefix` (for `link confirm`); optionally in one repository. */
export function findCommits(db: Database, prefix: string, repoRef?: number): StoredCommit[] {
  const like = `${prefix.toLowerCase().replace(/[^0-9a-f]/g, '')}%`;
  const r =
    repoRef === undefined
      ? db.exec(`SELECT ${COMMIT_COLUMNS} FROM commits WHERE sha LIKE ? LIMIT 5`, [like])
      : db.exec(`SELECT ${COMMIT_COLUMNS} FROM commits WHERE repo_ref = ? AND sha LIKE ? LIMIT 5`, [repoRef, like]);
  return (r[0]?.values ?? []).map(commitOf);
}

/** Keeps derived columns current (task keys from branch labels, the gone flag) without rewriting unchanged rows. */
export class CommitUpdater {
  private readonly stmt: Statement;
  constructor(db: Database) {
    this.stmt = db.prepare('UPDATE commits SET tasks = ?, flags = ?, pr = ? WHERE id = ?');
  }
  /** `standing`: the derived revert / reverted / unmerged bits (STANDING_MASK), or undefined to keep them. */
  update(c: StoredCommit, tasks: readonly string[], gone: boolean, pr: number | null, standing?: number): boolean {
    let flags = gone ? c.flags | COMMIT_GONE : c.flags & ~COMMIT_GONE;
    if (standing !== undefined) flags = (flags & ~STANDING_MASK) | (standing & STANDING_MASK);
    const t = tasks.join(' ');
    if (t === c.tasks.join(' ') && flags === c.flags && pr === c.pr) return false;
    this.stmt.run([t, flags, pr, c.id]);
    c.flags = flags;
    c.tasks = [...tasks];
    c.pr = pr;
    return true;
  }
  free(): void {
    this.stmt.free();
  }
}

const STATE_CODE: Record<LinkState, number> = { auto: 0, confirmed: 1, rejected: 2 };
const CODE_STATE: readonly LinkState[] = ['auto', 'confirmed', 'rejected'];

export function encodeEvidence(evidence: readonly Evidence[]): string {
  return JSON.stringify(evidence.map((e) => [e.kind, e.text, e.weight]));
}

export function decodeEvidence(text: string): Evidence[] {
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(Array.isArray).map((e: unknown[]) => ({
      kind: String(e[0]) as EvidenceKind,
      text: String(e[1] ?? ''),
      weight: Number(e[2] ?? 0),
    }));
  } catch {
    return [];
  }
}

export interface LinkRow {
  sessionRef: number;
  commitRef: number;
  confidence: number;
  evidence: Evidence[];
  state: LinkState;
}

export function loadLinks(db: Database, sessionRefs?: readonly number[]): LinkRow[] {
  const sql = 'SELECT session_ref, commit_ref, confidence, evidence, state FROM links';
  const out: LinkRow[] = [];
  // Row by row (a few years hold more links than one call takes as spread arguments).
  const take = (v: SqlValue[]): void => {
    out.push({
      sessionRef: Number(v[0]),
      commitRef: Number(v[1]),
      confidence: Number(v[2]),
      evidence: decodeEvidence(String(v[3])),
      state: CODE_STATE[Number(v[4])] ?? 'auto',
    });
  };
  eachRowOf(db, sql, 'session_ref', sessionRefs, take);
  return out;
}

/** Links as the report needs them: no evidence text (the report never shows it). */
export function loadLinkFacts(
  db: Database,
): Array<{ sessionRef: number; commitRef: number; confidence: number; state: LinkState }> {
  return (db.exec('SELECT session_ref, commit_ref, confidence, state FROM links')[0]?.values ?? []).map((v) => ({
    sessionRef: Number(v[0]),
    commitRef: Number(v[1]),
    confidence: Number(v[2]),
    state: CODE_STATE[Number(v[3])] ?? 'auto',
  }));
}

/**
 * Replaces a session's automatic links. Pairs the engineer decided on keep their decision: their confidence and
 * evidence are refreshed (so the explanation stays current), their state never changes here.
 */
export class LinkWriter {
  private readonly clear: Statement;
  private readonly upsert: Statement;
  constructor(db: Database) {
    this.clear = db.prepare('DELETE FROM links WHERE session_ref = ? AND state = 0');
    this.upsert = db.prepare(
      'INSERT INTO links (session_ref, commit_ref, confidence, evidence, state) VALUES (?, ?, ?, ?, 0) ON CONFLICT (session_ref, commit_ref) DO UPDATE SET confidence = excluded.confidence, evidence = excluded.evidence',
    );
  }
  replace(
    sessionRef: number,
    links: ReadonlyArray<{ commitRef: number; confidence: number; evidence: readonly Evidence[] }>,
  ): void {
    this.clear.run([sessionRef]);
    for (const l of links) this.upsert.run([sessionRef, l.commitRef, l.confidence, encodeEvidence(l.evidence)]);
  }
  free(): void {
    this.clear.free();
    this.upsert.free();
  }
}

/** Records the engineer's decision on a pair; creates the pair (manual evidence) when the linker never proposed it. */
export function setDecision(
  db: Database,
  sessionRef: number,
  commitRef: number,
  state: LinkState,
  manual: readonly Evidence[],
): void {
  db.run(
    'INSERT INTO links (session_ref, commit_ref, confidence, evidence, state) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_ref, commit_ref) DO UPDATE SET state = excluded.state',
    [sessionRef, commitRef, state === 'confirmed' ? 1 : 0, encodeEvidence(manual), STATE_CODE[state]],
  );
  // Undoing a decision on a pair only the engineer created leaves nothing to keep: the next link run re-proposes it.
  if (state === 'auto')
    db.run('DELETE FROM links WHERE session_ref = ? AND commit_ref = ? AND evidence LIKE \'[["manual"%\'', [
      sessionRef,
      commitRef,
    ]);
}

export interface SuccessorRow {
  original: number;
  successor: number;
  kind: string;
}

export function loadSuccessors(db: Database): SuccessorRow[] {
  return (db.exec('SELECT original_ref, successor_ref, kind FROM successors')[0]?.values ?? []).map((v) => ({
    original: Number(v[0]),
    successor: Number(v[1]),
    kind: String(v[2]),
  }));
}

/**
 * Replaces a repository's successor edges (only those whose original is in `scope`, when given: a re-link that
 * loaded the recent history leaves older edges alone); returns the edges that are new.
 */
export function replaceSuccessors(
  db: Database,
  repoRef: number,
  edges: readonly SuccessorRow[],
  scope?: ReadonlySet<number>,
): SuccessorRow[] {
  const inScope = (v: unknown): boolean => scope === undefined || scope.has(Number(v));
  const before = new Set(
    (
      db.exec(
        'SELECT s.original_ref, s.successor_ref FROM successors s JOIN commits c ON c.id = s.original_ref WHERE c.repo_ref = ?',
        [repoRef],
      )[0]?.values ?? []
    )
      .filter((v) => inScope(v[0]))
      .map((v) => `${Number(v[0])}:${Number(v[1])}`),
  );
  if (scope === undefined)
    db.run('DELETE FROM successors WHERE original_ref IN (SELECT id FROM commits WHERE repo_ref = ?)', [repoRef]);
  else {
    const ids = [...scope];
    for (let i = 0; i < ids.length; i += 500)
      db.run(
        `DELETE FROM successors WHERE original_ref IN (${ids
          .slice(i, i + 500)
          .map(Number)
          .join(',')})`,
      );
  }
  const stmt = db.prepare('INSERT OR IGNORE INTO successors (original_ref, successor_ref, kind) VALUES (?, ?, ?)');
  try {
    for (const e of edges) stmt.run([e.original, e.successor, e.kind]);
  } finally {
    stmt.free();
  }
  return edges.filter((e) => !before.has(`${e.original}:${e.successor}`));
}

export interface SessionStamp {
  stamp: string;
  /** Codex's recorded HEAD ('' when the log recorded none), or null when not looked up yet. */
  codexHead: string | null;
}

/** Link stamps of all sessions, or of these. */
export function loadStamps(db: Database, refs?: readonly number[]): Map<number, SessionStamp> {
  const out = new Map<number, SessionStamp>();
  const sql = 'SELECT session_ref, stamp, codex_head FROM session_links';
  const take = ([ref, stamp, head]: SqlValue[]): void => {
    out.set(Number(ref), { stamp: String(stamp), codexHead: str(head) });
  };
  eachRowOf(db, sql, 'session_ref', refs, take);
  return out;
}

export class StampWriter {
  private readonly stmt: Statement;
  constructor(db: Database) {
    this.stmt = db.prepare('INSERT OR REPLACE INTO session_links (session_ref, stamp, codex_head) VALUES (?, ?, ?)');
  }
  save(ref: number, s: SessionStamp): void {
    this.stmt.run([ref, s.stamp, s.codexHead]);
  }
  free(): void {
    this.stmt.free();
  }
}

export function loadKept(db: Database): Map<number, { head: string; kept: number }> {
  const out = new Map<number, { head: string; kept: number }>();
  for (const [ref, head, kept] of db.exec('SELECT commit_ref, head, kept FROM kept_lines')[0]?.values ?? [])
    out.set(Number(ref), { head: String(head), kept: Number(kept) });
  return out;
}

/** Kept lines per file ("count\tpath" lines) of these commits, with the HEAD they were counted at, where known. */
export function loadKeptPerFile(
  db: Database,
  ids: readonly number[],
): Map<number, { head: string; files: Map<string, number> }> {
  const out = new Map<number, { head: string; files: Map<string, number> }>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids
      .slice(i, i + 500)
      .map(Number)
      .join(',');
    for (const [ref, head, text] of db.exec(
      `SELECT commit_ref, head, per_file FROM kept_lines WHERE per_file IS NOT NULL AND commit_ref IN (${chunk})`,
    )[0]?.values ?? []) {
      const m = new Map<string, number>();
      for (const line of String(text).split('\n')) {
        const tab = line.indexOf('\t');
        if (tab > 0) m.set(line.slice(tab + 1), Number(line.slice(0, tab)));
      }
      out.set(Number(ref), { head: String(head), files: m });
    }
  }
  return out;
}

export function saveKept(
  db: Database,
  rows: ReadonlyArray<{ commitRef: number; head: string; kept: number; perFile?: ReadonlyMap<string, number> }>,
): void {
  const stmt = db.prepare('INSERT OR REPLACE INTO kept_lines (commit_ref, head, kept, per_file) VALUES (?, ?, ?, ?)');
  try {
    for (const r of rows) {
      const perFile = r.perFile ? [...r.perFile].map(([p, n]) => `${n}\t${p}`).join('\n') : null;
      stmt.run([r.commitRef, r.head, r.kept, perFile]);
    }
  } finally {
    stmt.free();
  }
}
