/**
 * Durability: of the lines a linked commit added, how many are still present at HEAD once the commit is N days old
 * (git blame over the files it touched). Cached per commit and HEAD; when HEAD moves, a commit none of whose files
 * changed keeps its count (one `git diff --name-only` per previous HEAD), so a new commit costs a blame of the few
 * files it touched, not of everything.
 */
import { COMMIT_GONE, COMMIT_MERGE, decodeFiles } from '../core/commits';
import { blameCounts, changedFiles } from '../git/log';
import { GitMissingError } from '../git/run';
import type { Ledger } from '../store/ledger';
import { loadKept, loadRepos, saveKept } from '../store/outcomes';

export interface DurabilityOptions {
  /** Commits younger than this are pending (default 30). */
  days: number;
  now: number;
  /** Stop blaming after this long; what is left is done by the next run (the report path passes a small budget). */
  budgetMs?: number;
  timeoutMs?: number;
}

export interface DurabilitySummary {
  /** Commits whose kept lines were computed by blame in this run. */
  computed: number;
  /** Commits whose count carried over to the new HEAD (none of their files changed). */
  carried: number;
  blamedFiles: number;
  /** Mature linked commits still without a count at HEAD (budget ran out). */
  remaining: number;
}

const CONCURRENCY = 2;

interface Mature {
  id: number;
  repoRef: number;
  sha: string;
  files: string[];
}

export async function updateDurability(ledger: Ledger, o: DurabilityOptions): Promise<DurabilitySummary> {
  const started = Date.now();
  const db = ledger.database;
  const cutoff = o.now - o.days * 24 * 3_600_000;
  const rows = db.exec(
    `SELECT DISTINCT c.id, c.repo_ref, c.sha, c.files FROM links l JOIN commits c ON c.id = l.commit_ref
     WHERE l.state != 2 AND c.author_ts < ? AND (c.flags & ${COMMIT_GONE | COMMIT_MERGE}) = 0`,
    [cutoff],
  )[0]?.values ?? [];
  const summary: DurabilitySummary = { computed: 0, carried: 0, blamedFiles: 0, remaining: 0 };
  if (rows.length === 0) return summary;
  const kept = loadKept(db);
  const repos = new Map(loadRepos(db).filter((r) => r.state === 'ok' && r.head).map((r) => [r.id, r]));
  const stale: Mature[] = [];
  for (const v of rows) {
    const m: Mature = {
      id: Number(v[0]),
      repoRef: Number(v[1]),
      sha: String(v[2]),
      files: decodeFiles(String(v[3] ?? '')).filter((f) => (f.added ?? 0) > 0).map((f) => f.path),
    };
    const repo = repos.get(m.repoRef);
    if (!repo || kept.get(m.id)?.head === repo.head) continue;
    stale.push(m);
  }
  if (stale.length === 0) return summary;

  const results: Array<{ commitRef: number; head: string; kept: number }> = [];
  try {
    for (const repo of repos.values()) {
      const head = repo.head as string;
      const mine = stale.filter((m) => m.repoRef === repo.id);
      if (mine.length === 0) continue;
      // Carry counts over from an earlier HEAD when none of the commit's files changed since.
      const changedSince = new Map<string, Set<string> | null>();
      const toBlame: Mature[] = [];
      for (const m of mine) {
        const prev = kept.get(m.id);
        if (prev) {
          if (!changedSince.has(prev.head)) changedSince.set(prev.head, await changedFiles(repo.root, prev.head, head));
          const changed = changedSince.get(prev.head);
          if (changed && !m.files.some((f) => changed.has(f))) {
            results.push({ commitRef: m.id, head, kept: prev.kept });
            summary.carried++;
            continue;
          }
        }
        toBlame.push(m);
      }
      const files = [...new Set(toBlame.flatMap((m) => m.files))].sort();
      const counts = new Map<string, Map<string, number> | null>();
      let next = 0;
      let outOfTime = false;
      const worker = async (): Promise<void> => {
        while (next < files.length) {
          if (o.budgetMs !== undefined && Date.now() - started > o.budgetMs) {
            outOfTime = true;
            return;
          }
          const f = files[next++] as string;
          counts.set(f, await blameCounts(repo.root, head, f));
          summary.blamedFiles++;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      for (const m of toBlame) {
        if (!m.files.every((f) => counts.has(f))) {
          summary.remaining++;
          continue;
        }
        const n = m.files.reduce((s, f) => s + (counts.get(f)?.get(m.sha) ?? 0), 0);
        results.push({ commitRef: m.id, head, kept: n });
        summary.computed++;
      }
      if (outOfTime) break;
    }
  } catch (e) {
    if (!(e instanceof GitMissingError)) throw e;
  }
  if (results.length > 0) await ledger.write((w) => saveKept(w, results), o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs });
  return summary;
}
