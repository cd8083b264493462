/**
 * Durability: of the lines a linked commit added, how many are still present at HEAD once the commit is N days old
 * (git blame over the files it touched). Cached per commit with the HEAD it was computed at; when HEAD moves, only
 * commits touching a file that changed since the HEAD the cache was last brought up to date at are blamed again
 * (one `git diff --name-only`), so a new commit costs a blame of the few files it touched, not of everything.
 */
import type { Database } from 'sql.js';
import { COMMIT_GONE, COMMIT_MERGE, decodeFiles } from '../core/outcomes/commits';
import { blameCounts, blameRanges, changedFiles, removedRanges } from '../git/log';
import { GitMissingError } from '../git/run';
import type { Ledger } from '../store/ledger';
import { loadKeptPerFile, loadRepos, saveKept } from '../store/outcomes';
import { getMeta, setMeta } from '../store/schema';

export interface DurabilityOptions {
  /** Commits younger than this are pending (default 30). */
  days: number;
  now: number;
  /** Stop blaming after this long; what is left is done by the next run. */
  budgetMs?: number;
  /** Do nothing when more files than this need blaming (left for `link`). */
  maxFiles?: number;
  timeoutMs?: number;
}

export interface DurabilitySummary {
  /** Commits whose kept lines were computed by blame in this run. */
  computed: number;
  blamedFiles: number;
  /** Mature linked commits still without a current count (the budget ran out). */
  remaining: number;
}

const CONCURRENCY = 2;
/** Past this many changed hunks in one file, blaming the whole file is simpler than many line ranges. */
const MAX_RANGES = 200;

interface Mature {
  id: number;
  sha: string;
  files: string[];
  /** Files to blame (all, or only those that changed when the other files' counts are known). */
  blame: string[];
  /** Counts per file from before, for the files not blamed again. */
  known?: ReadonlyMap<string, number>;
  /** The HEAD `known` was counted at. */
  knownHead?: string;
}

interface RepoWork {
  repoId: number;
  root: string;
  head: string;
  /** The HEAD the cache was last brought up to date at (null: never). */
  keptHead: string | null;
  /** Commits to blame. */
  mature: Mature[];
}

export interface DurabilityPlan {
  repos: RepoWork[];
}

const keptHeadKey = (repoId: number): string => `kept_head:${repoId}`;

/** Changed files beyond this: blame everything again rather than build a long SQL filter. */
const MAX_CHANGED_FILTER = 50;

/**
 * What needs blaming: per repository, linked commits old enough that were never counted, and, where HEAD moved
 * since the cache was brought up to date, those touching a file that changed (one `git diff --name-only`, then a
 * filter in SQL). Cheap when nothing moved (one query, no git): the report path calls it every time.
 */
export async function planDurability(db: Database, o: DurabilityOptions): Promise<DurabilityPlan | null> {
  const cutoff = o.now - o.days * 24 * 3_600_000;
  const repos = loadRepos(db).filter((r) => r.state === 'ok' && r.head);
  const mature = `l.state != 2 AND c.author_ts < ? AND (c.flags & ${COMMIT_GONE | COMMIT_MERGE}) = 0`;
  const work = new Map<number, RepoWork>();
  const add = (repoId: number, v: unknown[], changed?: ReadonlySet<string>): void => {
    const w = work.get(repoId);
    if (!w) return;
    if (w.mature.some((m) => m.id === Number(v[0]))) return;
    const files = decodeFiles(String(v[2] ?? ''))
      .filter((f) => (f.added ?? 0) > 0)
      .map((f) => f.path);
    w.mature.push({
      id: Number(v[0]),
      sha: String(v[1]),
      files,
      blame: changed ? files.filter((f) => changed.has(f)) : files,
    });
  };
  for (const r of repos)
    work.set(r.id, {
      repoId: r.id,
      root: r.root,
      head: r.head as string,
      keptHead: getMeta(db, keptHeadKey(r.id)) ?? null,
      mature: [],
    });
  for (const v of db.exec(
    `SELECT DISTINCT c.id, c.sha, c.files, c.repo_ref FROM links l JOIN commits c ON c.id = l.commit_ref LEFT JOIN kept_lines k ON k.commit_ref = c.id
     WHERE ${mature} AND k.commit_ref IS NULL`,
    [cutoff],
  )[0]?.values ?? []) {
    add(Number(v[3]), v);
  }
  for (const w of work.values()) {
    if (w.keptHead === w.head) continue;
    const changed = w.keptHead ? await changedFiles(w.root, w.keptHead, w.head) : null;
    if (changed !== null && changed.size === 0) continue;
    const filter =
      changed !== null && changed.size <= MAX_CHANGED_FILTER
        ? ` AND (${[...changed].map(() => 'instr(char(10) || c.files || char(10), char(9) || ? || char(10)) > 0').join(' OR ')})`
        : '';
    const before = w.mature.length;
    for (const v of db.exec(
      `SELECT DISTINCT c.id, c.sha, c.files FROM links l JOIN commits c ON c.id = l.commit_ref WHERE ${mature} AND c.repo_ref = ?${filter}`,
      [cutoff, w.repoId, ...(filter ? [...(changed as Set<string>)] : [])],
    )[0]?.values ?? []) {
      add(w.repoId, v, filter ? (changed as Set<string>) : undefined);
    }
    // Counted before with per-file counts: only the files that changed need a new blame.
    const again = w.mature.slice(before);
    const perFile = loadKeptPerFile(
      db,
      again.map((m) => m.id),
    );
    for (const m of again) {
      const known = perFile.get(m.id);
      if (known && m.files.every((f) => known.files.has(f))) {
        m.known = known.files;
        m.knownHead = known.head;
      } else m.blame = m.files;
    }
  }
  // Remember a HEAD that moved even when nothing needs blaming.
  const todo = [...work.values()].filter((w) => w.mature.length > 0 || w.keptHead !== w.head);
  return todo.length > 0 ? { repos: todo } : null;
}

export interface DurabilityResult {
  rows: Array<{ commitRef: number; head: string; kept: number; perFile: ReadonlyMap<string, number> }>;
  /** Repositories whose cache is now current at this HEAD. */
  heads: Array<{ repoId: number; head: string }>;
  summary: DurabilitySummary;
}

/** Files the plan will blame (to decide whether it is small enough to run while holding the ledger lock). */
export function filesToBlame(plan: DurabilityPlan): number {
  return plan.repos.reduce((n, w) => n + filesOf(w).length, 0);
}

function filesOf(w: RepoWork): string[] {
  return [...new Set(w.mature.flatMap((m) => m.blame))].sort();
}

/** Runs the blames (no lock held). */
export async function runDurability(plan: DurabilityPlan, o: DurabilityOptions): Promise<DurabilityResult> {
  const started = Date.now();
  const result: DurabilityResult = { rows: [], heads: [], summary: { computed: 0, blamedFiles: 0, remaining: 0 } };
  try {
    for (const w of plan.repos) {
      const commits = w.mature;
      const files = filesOf(w);
      // A file whose every commit was counted at the HEAD the cache is current at only needs the lines it lost
      // since then attributed (`git diff -U0` + `git blame -L` at that HEAD): the cost of the change, not of the
      // file's history. Otherwise the whole file is blamed at HEAD.
      const incremental = new Set(
        w.keptHead === null
          ? []
          : files.filter((f) =>
              commits.every((m) => !m.blame.includes(f) || (m.known?.has(f) === true && m.knownHead === w.keptHead)),
            ),
      );
      const counts = new Map<string, Map<string, number> | null>();
      const lost = new Map<string, Map<string, number>>();
      let next = 0;
      let outOfTime = false;
      const worker = async (): Promise<void> => {
        while (next < files.length) {
          if (o.budgetMs !== undefined && Date.now() - started > o.budgetMs) {
            outOfTime = true;
            return;
          }
          const f = files[next++] as string;
          if (incremental.has(f) && w.keptHead) {
            const ranges = await removedRanges(w.root, w.keptHead, w.head, f);
            const gone =
              ranges && ranges.length <= MAX_RANGES ? await blameRanges(w.root, w.keptHead, f, ranges) : null;
            if (gone) {
              lost.set(f, gone);
              result.summary.blamedFiles++;
              continue;
            }
          }
          counts.set(f, await blameCounts(w.root, w.head, f));
          result.summary.blamedFiles++;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      for (const m of commits) {
        if (!m.blame.every((f) => counts.has(f) || lost.has(f))) {
          result.summary.remaining++;
          continue;
        }
        const perFile = new Map<string, number>();
        for (const f of m.files) {
          const gone = lost.get(f);
          if (!m.blame.includes(f)) perFile.set(f, m.known?.get(f) ?? 0);
          else if (gone) perFile.set(f, Math.max(0, (m.known?.get(f) ?? 0) - (gone.get(m.sha) ?? 0)));
          else perFile.set(f, counts.get(f)?.get(m.sha) ?? 0);
        }
        result.rows.push({
          commitRef: m.id,
          head: w.head,
          kept: [...perFile.values()].reduce((a, b) => a + b, 0),
          perFile,
        });
        result.summary.computed++;
      }
      if (outOfTime) {
        result.summary.remaining += plan.repos
          .slice(plan.repos.indexOf(w) + 1)
          .reduce((n, x) => n + x.mature.length, 0);
        // The HEAD is not recorded as current: the commits left are found again next time (never counted yet).
        break;
      }
      result.heads.push({ repoId: w.repoId, head: w.head });
    }
  } catch (e) {
    if (!(e instanceof GitMissingError)) throw e;
  }
  return result;
}

/** Stores counts and the HEADs the cache is current at (inside the caller's write). */
export function saveDurability(db: Database, r: DurabilityResult): void {
  saveKept(db, r.rows);
  for (const h of r.heads) setMeta(db, keptHeadKey(h.repoId), h.head);
}

/** Plans, blames and stores in its own write (when linking did not write anything). */
export async function updateDurability(ledger: Ledger, o: DurabilityOptions): Promise<DurabilitySummary> {
  const plan = await planDurability(ledger.database, o);
  if (!plan) return { computed: 0, blamedFiles: 0, remaining: 0 };
  if (o.maxFiles !== undefined && filesToBlame(plan) > o.maxFiles) {
    return { computed: 0, blamedFiles: 0, remaining: plan.repos.reduce((n, w) => n + w.mature.length, 0) };
  }
  const result = await runDurability(plan, o);
  if (result.rows.length > 0 || result.heads.length > 0) {
    await ledger.write((db) => saveDurability(db, result), o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs });
  }
  return result.summary;
}
