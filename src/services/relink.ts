/**
 * Relinks one repository (step 4 of linkAll, services/linker.ts, under the ledger lock): refreshes its commits' flags,
 * finds successors of commits rebased, amended or squashed away, chooses the sessions near anything that changed,
 * links them (inheriting through successors, decisions following the work) and derives the commits' standing.
 */
import type { Database } from 'sql.js';
import { COMMIT_GONE, COMMIT_MERGE, type CommitInfo } from '../core/outcomes/commits';
import {
  defaultBranchesOf,
  messageReverts,
  reachableFrom,
  reversePatchCandidates,
  standings,
} from '../core/outcomes/standing';
import { History, type Tip } from '../core/outcomes/history';
import {
  FileIndex,
  linkSession,
  MIN_KEPT_CONFIDENCE,
  SessionIndex,
  type Evidence,
  type LinkOptions,
  type LinkSession,
  type ScoredLink,
} from '../core/outcomes/linking';
import type { SourceName } from '../core/usage/model';
import { findSuccessors, type SuccessorEdge, type SuccessorKind } from '../core/outcomes/successors';
import { patchIds, patchUndoes, type TipsRead } from '../git/log';
import {
  CommitUpdater,
  encodeEvidence,
  loadCommits,
  loadLinks,
  loadSuccessors,
  replaceSuccessors,
  type LinkRow,
  type LinkWriter,
  type SessionStamp,
  type StampWriter,
  type StoredCommit,
} from '../store/outcomes';
import { maxOf, minOf } from '../core/common/numbers';

const DAY = 24 * 3_600_000;

/** What linking needs of a session that worked in a repository. */
export interface SessionFacts {
  ref: number;
  source: SourceName;
  repoPath: string;
  logPath: string | null;
  start: number;
  end: number;
  files: string[];
  branches: string[];
}

const NO_FILES: ReadonlySet<string> = new Set();

/** Changes when anything linking reads of a session changes. */
export function stampOf(s: SessionFacts): string {
  return `${s.repoPath}|${s.start}|${s.end}|${s.files.length}|${s.branches.join(',')}`;
}

interface RelinkInput {
  repoId: number;
  cwd: string;
  tips: TipsRead;
  newShas: ReadonlySet<string>;
  sessions: SessionFacts[];
  /** `sessions` holds only sessions active since then (null: all). */
  loadedSince: number | null;
  loadAll: () => { sessions: SessionFacts[]; stamps: ReadonlyMap<number, SessionStamp> };
  stamps: ReadonlyMap<number, SessionStamp>;
  codexHeads: ReadonlyMap<number, string>;
  all: boolean;
  /** Load only commits committed since then (undefined: the whole graph). */
  graphSince: number | undefined;
  /** Commits committed before this were not read from history (null: unknown). */
  horizon: number | null;
  options: LinkOptions;
  stampWriter: StampWriter;
  linkWriter: LinkWriter;
}

/** How much of an original link's confidence its successor inherits. */
const INHERIT: Record<SuccessorKind, number> = { rebased: 0.98, amended: 0.98, 'same-patch': 0.95, squash: 0.92 };

function successorText(kind: SuccessorKind, s: CommitInfo, pr: number | null): string {
  const short = s.sha.slice(0, 7);
  switch (kind) {
    case 'squash':
      return `squash-merged as ${short}${pr !== null ? ` (#${pr})` : ''}`;
    case 'rebased':
      return `rebased as ${short}`;
    case 'amended':
      return `amended as ${short}`;
    case 'same-patch':
      return `the same patch landed as ${short}`;
  }
}

/** One repository's stored commits, their graph and the two ways to look a commit up. */
interface RepoGraph {
  stored: StoredCommit[];
  history: History;
  byId: ReadonlyMap<number, StoredCommit>;
  idOfSha: ReadonlyMap<string, number>;
}

/** The successor edges of a repository and those stored for the first time in this run. */
interface Successors {
  edges: SuccessorEdge[];
  newEdges: ReturnType<typeof replaceSuccessors>;
  successorsOf: ReadonlyMap<string, SuccessorEdge[]>;
}

/**
 * Rebuilds one repository's graph, successors and the links of the sessions near anything that changed, in four
 * steps: refresh the commits' flags, find successors, choose the sessions to score, link them; then the standing.
 */
export async function relinkRepo(db: Database, r: RelinkInput): Promise<{ scored: number; links: number }> {
  const stored = loadCommits(db, r.repoId, r.graphSince);
  const graph: RepoGraph = {
    stored,
    history: new History(stored, r.tips.tips as Tip[], r.tips.defaultBranches),
    byId: new Map<number, StoredCommit>(stored.map((c) => [c.id, c])),
    idOfSha: new Map<string, number>(stored.map((c) => [c.sha, c.id])),
  };
  // 1. Tasks, PR numbers and gone flags of the stored commits; when the ones that changed were authored.
  const changedTimes = refreshCommits(db, r, graph);
  // 2. Successors of commits rebased, amended or squashed away.
  const successors = await findRepoSuccessors(db, r, graph);
  // 3. The sessions to score.
  const { sessions, affected } = chooseAffected(db, r, changedTimes, successors);
  // 4. Link them, inheriting through successors.
  const links = affected.size === 0 ? 0 : linkAffected(db, r, graph, successors, sessions, affected);
  // After the links are written: which linked commits were reverted is asked about the commits linked now.
  await updateStanding(db, r, graph.history, stored, successors.edges);
  return { scored: affected.size, links };
}

/** Step 1 of relinkRepo: each stored commit's tasks, PR and gone flag; returns the author times of those that changed. */
function refreshCommits(db: Database, r: RelinkInput, { stored, history }: RepoGraph): number[] {
  const changedTimes: number[] = [];
  const updater = new CommitUpdater(db);
  try {
    for (const c of stored) {
      // A commit older than the history read (one `link confirm` fetched alone) has no path to a tip here: not gone.
      const gone = !history.reachable.has(c.sha) && (r.horizon === null || c.commitTime >= r.horizon);
      const wasGone = (c.flags & COMMIT_GONE) !== 0;
      const pr = history.prs.get(c.sha) ?? c.pr;
      updater.update(c, history.tasksOf(c, r.options.patterns), gone, pr);
      if (gone !== wasGone || r.newShas.has(c.sha)) changedTimes.push(c.authorTime);
    }
  } finally {
    updater.free();
  }
  return changedTimes;
}

/**
 * Step 2 of relinkRepo: successors, stored. patch-ids only for gone commits no author-time match explains, and commits
 * with the same files after them. Squashes were found when they were new: search among new commits only, and keep the
 * edges found before.
 */
async function findRepoSuccessors(
  db: Database,
  r: RelinkInput,
  { stored, history, byId, idOfSha }: RepoGraph,
): Promise<Successors> {
  const among = r.all ? undefined : r.newShas;
  const kept: SuccessorEdge[] = r.all
    ? []
    : loadSuccessors(db)
        .filter(
          (e) =>
            e.kind === 'squash' &&
            byId.has(e.original) &&
            byId.has(e.successor) &&
            !r.newShas.has(byId.get(e.successor)?.sha ?? ''),
        )
        .map((e) => ({
          original: byId.get(e.original)?.sha ?? '',
          successor: byId.get(e.successor)?.sha ?? '',
          kind: 'squash' as const,
        }));
  let edges: SuccessorEdge[] = [...findSuccessors(history, new Map(), among), ...kept];
  const explained = new Set(edges.map((e) => e.original));
  const unexplained = stored.filter(
    (c) => !history.reachable.has(c.sha) && (c.flags & COMMIT_MERGE) === 0 && !explained.has(c.sha),
  );
  if (unexplained.length > 0 && unexplained.length <= 500) {
    const want = new Set(unexplained.map((c) => c.sha));
    for (const g of unexplained) {
      const key = g.files
        .map((f) => f.path)
        .sort()
        .join('\n');
      for (const c of history.between(g.authorTime - DAY, g.authorTime + 30 * DAY)) {
        if (
          history.reachable.has(c.sha) &&
          c.files
            .map((f) => f.path)
            .sort()
            .join('\n') === key
        )
          want.add(c.sha);
      }
    }
    if (want.size <= 2000) {
      try {
        edges = [...findSuccessors(history, await patchIds(r.cwd, [...want]), among), ...kept];
      } catch {
        // patch-ids are a refinement: without them gone commits simply have no successor
      }
    }
  }
  const edgeRows = edges
    .map((e) => ({ original: idOfSha.get(e.original), successor: idOfSha.get(e.successor), kind: e.kind }))
    .filter(
      (e): e is { original: number; successor: number; kind: SuccessorKind } =>
        e.original !== undefined && e.successor !== undefined,
    );
  const newEdges = replaceSuccessors(
    db,
    r.repoId,
    edgeRows,
    r.graphSince === undefined ? undefined : new Set(stored.map((c) => c.id)),
  );
  const successorsOf = new Map<string, SuccessorEdge[]>();
  for (const e of edges) {
    const l = successorsOf.get(e.original);
    if (l) l.push(e);
    else successorsOf.set(e.original, [e]);
  }
  return { edges, newEdges, successorsOf };
}

/**
 * Step 3 of relinkRepo: sessions to score: new or changed ones, and every session whose window holds something that
 * changed. A change older than the sessions loaded (a branch deleted long after its commits) needs them all.
 */
function chooseAffected(
  db: Database,
  r: RelinkInput,
  changedTimes: readonly number[],
  { newEdges }: Successors,
): { sessions: LinkSession[]; affected: Set<number> } {
  const changedRanges = [
    ...changedTimes,
    ...r.sessions.filter((s) => r.all || r.stamps.get(s.ref)?.stamp !== stampOf(s)).map((s) => s.start),
  ];
  if (
    r.loadedSince !== null &&
    changedRanges.some((t) => t - r.options.windowMs - r.options.skewMs < (r.loadedSince as number))
  ) {
    const all = r.loadAll();
    r.sessions = all.sessions;
    r.stamps = all.stamps;
  }
  const sessions: LinkSession[] = r.sessions.map((s) => ({
    ref: s.ref,
    source: s.source,
    branches: s.branches,
    // Most sessions edit nothing linking can see: they share one empty set (a set each was ~7 MB on a year).
    files: s.files.length > 0 ? new Set(s.files) : NO_FILES,
    start: s.start,
    end: s.end,
    codexHead: r.codexHeads.get(s.ref) || r.stamps.get(s.ref)?.codexHead || null,
  }));
  const affected = new Set<number>();
  const ranges: Array<[number, number]> = changedTimes.map((t) => [t, t]);
  for (const s of r.sessions) {
    if (r.all || r.stamps.get(s.ref)?.stamp !== stampOf(s)) {
      affected.add(s.ref);
      ranges.push([s.start - r.options.skewMs, s.end + r.options.windowMs]);
    }
  }
  if (newEdges.length > 0) {
    const originals = new Set(newEdges.map((e) => e.original));
    for (const l of loadLinks(
      db,
      r.sessions.map((s) => s.ref),
    ))
      if (originals.has(l.commitRef)) affected.add(l.sessionRef);
  }
  if (ranges.length > 400) for (const s of r.sessions) affected.add(s.ref);
  else if (ranges.length > 0) {
    for (const s of r.sessions) {
      const from = s.start - r.options.skewMs;
      const to = s.end + r.options.windowMs;
      if (ranges.some(([a, b]) => a <= to && b >= from)) affected.add(s.ref);
    }
  }
  return { sessions, affected };
}

/** Step 4 of relinkRepo: score each affected session, inherit through successors, store; returns the links written. */
function linkAffected(
  db: Database,
  r: RelinkInput,
  graph: RepoGraph,
  successors: Successors,
  sessions: readonly LinkSession[],
  affected: ReadonlySet<number>,
): number {
  const { history, idOfSha } = graph;
  const spans = sessions.filter((s) => affected.has(s.ref));
  const files = new FileIndex(
    history,
    minOf(spans.map((s) => s.start)) - r.options.skewMs,
    maxOf(spans.map((s) => s.end)) + r.options.windowMs,
  );
  const index = new SessionIndex(sessions);
  const decisions = loadLinks(db, [...affected]).filter((l) => l.state !== 'auto');
  const factsByRef = new Map(r.sessions.map((s) => [s.ref, s]));
  let written = 0;
  for (const s of sessions) {
    if (!affected.has(s.ref)) continue;
    const direct = linkSession(s, history, files, index, { ...r.options, includeGone: true });
    const mine = decisions.filter((x) => x.sessionRef === s.ref);
    const links = inheritLinks(s.ref, direct, mine, graph, successors);
    carryDecisions(db, s.ref, mine, links, graph, successors);
    const rows = [...links.values()]
      .map((l) => ({ commitRef: idOfSha.get(l.sha), confidence: l.confidence, evidence: l.evidence }))
      .filter((l): l is { commitRef: number; confidence: number; evidence: Evidence[] } => l.commitRef !== undefined);
    r.linkWriter.replace(s.ref, rows);
    written += rows.length;
    const f = factsByRef.get(s.ref);
    if (f) r.stampWriter.save(s.ref, { stamp: stampOf(f), codexHead: r.codexHeads.get(s.ref) ?? null });
  }
  return written;
}

/**
 * A session's links by commit: its direct links to reachable commits, and what they and its confirmed decisions pass
 * on through successors (a squash of a rebased commit is two hops).
 */
function inheritLinks(
  sessionRef: number,
  direct: readonly ScoredLink[],
  decisions: readonly LinkRow[],
  { history, byId }: RepoGraph,
  { successorsOf }: Successors,
): Map<string, ScoredLink> {
  const links = new Map<string, ScoredLink>();
  for (const l of direct) if (history.reachable.has(l.sha)) links.set(l.sha, l);
  let frontier: ScoredLink[] = [
    ...direct,
    ...decisions
      .filter((d) => d.state === 'confirmed')
      .map((d) => ({ sessionRef, sha: byId.get(d.commitRef)?.sha ?? '', confidence: 1, evidence: d.evidence }))
      .filter((l) => l.sha !== ''),
  ];
  for (let hop = 0; hop < 3 && frontier.length > 0; hop++) {
    const next: ScoredLink[] = [];
    for (const l of frontier) {
      for (const e of successorsOf.get(l.sha) ?? []) {
        const succ = history.bySha.get(e.successor);
        if (!succ) continue;
        const confidence = Math.round(l.confidence * INHERIT[e.kind] * 1000) / 1000;
        if (confidence < MIN_KEPT_CONFIDENCE) continue;
        const evidence: Evidence[] = [
          ...l.evidence.filter((x) => x.weight > 0 && x.kind !== 'successor'),
          { kind: 'successor', text: successorText(e.kind, succ, history.prs.get(succ.sha) ?? succ.pr), weight: 0 },
        ];
        const inherited: ScoredLink = { sessionRef, sha: e.successor, confidence, evidence, via: l.sha };
        const have = links.get(e.successor);
        if (!have || have.confidence < confidence) links.set(e.successor, inherited);
        next.push(inherited);
      }
    }
    frontier = next;
  }
  return links;
}

/** Decisions follow the work: a confirmed or rejected commit that was rebased or squashed carries the decision. */
function carryDecisions(
  db: Database,
  sessionRef: number,
  decisions: readonly LinkRow[],
  links: ReadonlyMap<string, ScoredLink>,
  { history, byId, idOfSha }: RepoGraph,
  { successorsOf }: Successors,
): void {
  for (const d of decisions) {
    const c = byId.get(d.commitRef);
    if (!c || history.reachable.has(c.sha)) continue;
    for (const e of successorsOf.get(c.sha) ?? []) {
      const succId = idOfSha.get(e.successor);
      if (succId === undefined || decisions.some((x) => x.commitRef === succId)) continue;
      const code = d.state === 'confirmed' ? 1 : 2;
      const ev = links.get(e.successor)?.evidence ?? [
        {
          kind: 'successor' as const,
          text: successorText(e.kind, history.bySha.get(e.successor) ?? c, null),
          weight: 0,
        },
      ];
      db.run(
        'INSERT INTO links (session_ref, commit_ref, confidence, evidence, state) VALUES (?, ?, ?, ?, ?) ON CONFLICT (session_ref, commit_ref) DO UPDATE SET state = excluded.state',
        [sessionRef, succId, links.get(e.successor)?.confidence ?? (code === 1 ? 1 : 0), encodeEvidence(ev), code],
      );
    }
  }
}

/** Pairs of commits checked for a reversed patch per run, at most. */
const MAX_UNDO_CHECKS = 200;

/**
 * Derives which commits are reverts, were reverted or never merged (core/standing.ts) and stores the flags. A revert
 * by patch (a squash or a hand-made revert) is looked for only for linked commits: git compares the few pairs whose
 * line counts mirror each other.
 */
async function updateStanding(
  db: Database,
  r: RelinkInput,
  history: History,
  stored: StoredCommit[],
  edges: readonly SuccessorEdge[],
): Promise<void> {
  const defaults = defaultBranchesOf(history, r.tips.defaultBranches);
  const onDefault = reachableFrom(history, defaults);
  const byMessage = messageReverts(history);
  const known = new Set(byMessage.map(([a, b]) => `${a} ${b}`));
  const linked = (
    db.exec(
      'SELECT DISTINCT c.sha FROM links l JOIN commits c ON c.id = l.commit_ref WHERE c.repo_ref = ? AND l.state != 2',
      [r.repoId],
    )[0]?.values ?? []
  )
    .map((v) => String(v[0]))
    .filter((sha) => history.bySha.has(sha));
  const candidates = reversePatchCandidates(history, linked, onDefault, MAX_UNDO_CHECKS).filter(
    ([a, b]) => !known.has(`${a} ${b}`),
  );
  let byPatch: Array<[string, string]> = [];
  if (candidates.length > 0) {
    try {
      byPatch = await patchUndoes(r.cwd, candidates);
    } catch {
      // a refinement like patch-ids for successors: without it only reverts their message names are known
    }
  }
  const flags = standings({
    history,
    defaultBranches: defaults,
    reverts: [...byMessage, ...byPatch],
    successors: edges,
    horizon: r.horizon,
  });
  const updater = new CommitUpdater(db);
  try {
    for (const c of stored) updater.update(c, c.tasks, (c.flags & COMMIT_GONE) !== 0, c.pr, flags.get(c.sha) ?? 0);
  } finally {
    updater.free();
  }
}
