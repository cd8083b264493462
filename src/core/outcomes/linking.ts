/**
 * Session → commit links with evidence a person can read and a confidence in [0, 1] (pure).
 *
 * Each rule adds or subtracts log-odds; the confidence is the logistic of the sum. The weights are chosen so that
 * the common true case (same task branch, the files the session edited, committed minutes after the last reply)
 * lands above 0.95, a single strong rule alone stays below the default threshold (0.6), and the known false friends
 * (a teammate's later commit on the same branch, work a later session redid, a human commit on the trunk hours
 * later) fall well below it. bench/link.ts measures precision and recall on generated worlds with known truth.
 */
import { shortSha, TRAILER_MASK, TRAILER_TOOL, COMMIT_MERGE, COMMIT_OTHER_AUTHOR, type CommitInfo } from './commits';
import type { History } from './history';
import type { SourceName } from '../usage/model';
import { lowerBound } from '../common/sorted';
import { tasksInBranch, type TaskPatterns, DEFAULT_TASK_PATTERNS } from './tasks';

export type EvidenceKind =
  | 'branch'
  | 'files'
  | 'time'
  | 'trailer'
  | 'codex-git'
  | 'task'
  | 'author'
  | 'successor'
  | 'manual';

export interface Evidence {
  kind: EvidenceKind;
  /** A short readable clause ("same branch feature/PAY-7"). */
  text: string;
  /** Log-odds contributed (negative for counter-evidence: shown to explain a low confidence). */
  weight: number;
}

export interface LinkSession {
  ref: number;
  source: SourceName;
  branches: readonly string[];
  /** Repository-relative paths the assistant edited or created. */
  files: ReadonlySet<string>;
  /** First and last billed request (epoch ms). */
  start: number;
  end: number;
  /** Codex: the HEAD recorded in session_meta.git when the session started. */
  codexHead?: string | null;
}

export interface LinkOptions {
  /** How long after a session's last reply a commit can still be its outcome (default 24 h); weight decays. */
  windowMs: number;
  /** Commits this much before a session's first request still count as during it (clock skew between tools). */
  skewMs: number;
  patterns: TaskPatterns;
  /** Also score commits no branch reaches any more (their links pass on to squash and rebase successors). */
  includeGone?: boolean;
}

export const DEFAULT_THRESHOLD = 0.6;
export const DEFAULT_LINK_OPTIONS: LinkOptions = {
  windowMs: 24 * 3_600_000,
  skewMs: 2 * 60_000,
  patterns: DEFAULT_TASK_PATTERNS,
};
/** Links below this confidence are not kept at all (they would only be noise to confirm or reject). */
export const MIN_KEPT_CONFIDENCE = 0.3;
/** A session that edited nothing never gets a counted automatic link; its suggestions are capped below any sane threshold. */
const NO_EDIT_CAP = 0.3;

export interface ScoredLink {
  sessionRef: number;
  sha: string;
  confidence: number;
  evidence: Evidence[];
  /** Set for links inherited through a squash, rebase or amend: the commit the session's work first landed in. */
  via?: string;
}

const W = {
  base: -2.2,
  filesNone: -2.5,
  filesSome: 1.0,
  filesOfCommit: 1.5,
  filesOfSession: 0.8,
  branchTask: 1.5,
  branchTrunk: 0.6,
  branchOther: -0.8,
  branchOtherTask: -3.0,
  branchTrunkForTask: -1.5,
  branchLanded: 1.0,
  trailerSame: 1.0,
  trailerOther: -1.5,
  codexParent: 1.2,
  codexAncestor: 0.5,
  task: 0.8,
  otherAuthor: -4.0,
  intervening: -4.0,
  competitor: -2.5,
} as const;

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  if (m < 120) return `${m} min`;
  const h = ms / 3_600_000;
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} days`;
}

/** Time weight: best within the session or shortly after its last reply, decaying to slightly negative at the window edge. */
export function timeWeight(afterEndMs: number, windowMs: number): number {
  if (afterEndMs <= 0) return 1.2;
  const min = afterEndMs / 60_000;
  if (min <= 30) return 1.5;
  if (min <= 120) return 1.5 - ((min - 30) / 90) * 0.7;
  if (min <= 480) return 0.8 - ((min - 120) / 360) * 0.6;
  const rest = Math.max(1, windowMs / 60_000 - 480);
  return 0.2 - Math.min(1, (min - 480) / rest) * 0.5;
}

function listFiles(files: readonly string[], max = 3): string {
  const shown = files.slice(0, max).join(', ');
  return files.length > max ? `${shown} and ${files.length - max} more` : shown;
}

/** Facts about the neighbourhood of a (session, commit) pair that one pair alone cannot see. */
export interface PairContext {
  /** An earlier commit after the session already holds every file it shares with this one. */
  intervening?: CommitInfo;
  /** A later session (not overlapping this one) edited every shared file and ended closer to the commit. */
  competitor?: boolean;
}

/** Scores one candidate. Pure and cheap: called for every commit in each session's window. */
export function scorePair(
  s: LinkSession,
  c: CommitInfo,
  history: History,
  ctx: PairContext,
  o: LinkOptions = DEFAULT_LINK_OPTIONS,
): { confidence: number; evidence: Evidence[] } {
  const ev: Evidence[] = [];
  let x = W.base;
  const add = (kind: EvidenceKind, text: string, weight: number): void => {
    ev.push({ kind, text, weight: round3(weight) });
    x += weight;
  };

  // Branch: the commit is on a branch the session worked on (also after that branch was merged or deleted).
  const onBranch = s.branches.filter((b) => history.onBranch(c.sha, b, s.start - o.skewMs));
  if (onBranch.length > 0) {
    const specific = onBranch.find((b) => !history.trunks.has(b));
    if (specific) add('branch', `same branch ${specific}`, W.branchTask);
    else add('branch', `same branch ${onBranch[0] ?? ''} (shared trunk)`, W.branchTrunk);
  } else if (s.branches.length > 0 && history.branchesOf(c.sha).size > 0) {
    // A squash or rebase merge lands a branch as one new commit on the trunk; its subject names the PR and, often,
    // the task. When that task is the session's branch's, the commit is that branch landing.
    const pr = history.prs.get(c.sha) ?? c.pr;
    const sessionKeys = new Set(s.branches.flatMap((b) => tasksInBranch(b, o.patterns)));
    const landed = pr !== null && (c.flags & COMMIT_MERGE) === 0 && c.tasks.some((k) => sessionKeys.has(k));
    if (landed)
      add(
        'branch',
        `lands the session's branch ${s.branches.find((b) => !history.trunks.has(b)) ?? s.branches[0] ?? ''} as PR #${pr}`,
        W.branchLanded,
      );
    else {
      // How far apart: a task session's work does not land directly on another task's branch (or on the trunk,
      // except by a merge); a trunk session may have moved to a new branch the log did not record.
      const sessionSpecific = s.branches.some((b) => !history.trunks.has(b));
      const commitSpecific = [...history.branchesOf(c.sha)].some((b) => !history.trunks.has(b));
      const weight = !sessionSpecific ? W.branchOther : commitSpecific ? W.branchOtherTask : W.branchTrunkForTask;
      add(
        'branch',
        `on ${[...history.branchesOf(c.sha)].slice(0, 2).join(', ')}, not the session's ${s.branches.slice(0, 2).join(', ')}`,
        weight,
      );
    }
  }

  // Files: which of the commit's files the session edited.
  const shared = c.files.filter((f) => s.files.has(f.path)).map((f) => f.path);
  if (shared.length === 0) {
    add(
      'files',
      s.files.size === 0 ? 'the session edited no files' : 'the session edited none of its files',
      W.filesNone,
    );
  } else {
    const ofCommit = shared.length / Math.max(1, c.files.length);
    const ofSession = shared.length / Math.max(1, s.files.size);
    const how =
      ofCommit === 1 && ofSession === 1
        ? 'edited exactly its files: '
        : ofCommit === 1
          ? 'edited all its files: '
          : `edited ${shared.length} of its ${c.files.length} files: `;
    add('files', `${how}${listFiles(shared)}`, W.filesSome + W.filesOfCommit * ofCommit + W.filesOfSession * ofSession);
  }

  // Time: committed during the session or after its last reply, within the window.
  const after = c.authorTime - s.end;
  add(
    'time',
    after <= 0 ? 'committed during the session' : `committed ${minutes(after)} after the last reply`,
    timeWeight(after, o.windowMs),
  );

  // Trailers name a tool: evidence for that tool's sessions, against the others'.
  const trailers = c.flags & TRAILER_MASK;
  if (trailers !== 0) {
    const same = TRAILER_TOOL.find((t) => (trailers & t.flag) !== 0 && t.source === s.source);
    if (same) add('trailer', `co-authored by ${same.name}`, W.trailerSame);
    else {
      const other = TRAILER_TOOL.find((t) => (trailers & t.flag) !== 0);
      add('trailer', `co-authored by ${other?.name ?? 'another tool'}, not ${s.source}`, W.trailerOther);
    }
  }

  // Codex recorded HEAD at session start: a commit made on top of it is that session's line of work (unless the
  // commit is on another branch: branches forked from one trunk commit share that parent).
  const mismatch = ev.some((e) => e.kind === 'branch' && e.weight < 0);
  if (s.codexHead && !mismatch) {
    if (c.parents[0] === s.codexHead)
      add('codex-git', `made on top of the HEAD Codex recorded (${shortSha(s.codexHead)})`, W.codexParent);
    else if (c.parents.length > 0 && ![...history.branchesOf(c.sha)].some((b) => history.trunks.has(b))) {
      // Off the trunk only: on a busy trunk nearly every later commit descends from it, which says nothing.
      const d = history.distanceTo(c.sha, s.codexHead, 20);
      if (d !== null && d > 0)
        add('codex-git', `descends from the HEAD Codex recorded (${shortSha(s.codexHead)})`, W.codexAncestor);
    }
  }

  // Task keys shared by the session's branch and the commit's message or branch.
  const sessionTasks = new Set(s.branches.flatMap((b) => tasksInBranch(b, o.patterns)));
  if (sessionTasks.size > 0) {
    const ct = history.tasksOf(c, o.patterns).filter((k) => sessionTasks.has(k));
    if (ct.length > 0) add('task', `same task ${ct.join(', ')}`, W.task);
  }

  if ((c.flags & COMMIT_OTHER_AUTHOR) !== 0 && (trailers & TRAILER_MASK) === 0)
    add('author', 'authored by someone else', W.otherAuthor);

  if (ctx.intervening)
    add(
      'time',
      `its shared files were already committed in ${shortSha(ctx.intervening.sha)} before this`,
      W.intervening,
    );
  if (ctx.competitor) add('time', 'a later session edited the same files closer to this commit', W.competitor);

  let confidence = logistic(x);
  if (s.files.size === 0) confidence = Math.min(confidence, NO_EDIT_CAP);
  return { confidence: round3(confidence), evidence: ev };
}

/** The readable evidence line: positive clauses first ("same branch feature/PAY-7; edited …; committed 14 min after …"). */
export function explain(evidence: readonly Evidence[]): string {
  const pos = evidence.filter((e) => e.weight >= 0);
  const neg = evidence.filter((e) => e.weight < 0);
  return [...pos, ...neg].map((e) => (e.weight < 0 ? `but ${e.text}` : e.text)).join('; ');
}

/** Distinct evidence kinds that speak for a link (docs/cli.md `evidence`). */
export function evidenceKinds(evidence: readonly Evidence[]): EvidenceKind[] {
  const out: EvidenceKind[] = [];
  for (const e of evidence) if (e.weight > 0 && !out.includes(e.kind)) out.push(e.kind);
  return out;
}

/** Sessions of one repository, indexed for neighbourhood questions (later sessions near a commit). */
export class SessionIndex {
  private readonly byEnd: LinkSession[];

  constructor(sessions: readonly LinkSession[]) {
    this.byEnd = [...sessions].sort((a, b) => a.end - b.end);
  }

  /** Sessions whose last reply falls in (from, to]. */
  endingIn(from: number, to: number): LinkSession[] {
    const list = this.byEnd;
    const out: LinkSession[] = [];
    for (let i = lowerBound(list, (s) => s.end <= from); i < list.length && (list[i] as LinkSession).end <= to; i++)
      out.push(list[i] as LinkSession);
    return out;
  }
}

/** Index of non-merge commits by file, each list in author-time order: a session's candidates touch its files. */
export class FileIndex {
  private readonly byFile = new Map<string, CommitInfo[]>();

  /** `from`/`to`: index only commits authored in this span (a re-link looks at a few sessions' windows). */
  constructor(history: History, from = -Infinity, to = Infinity) {
    for (const c of from === -Infinity && to === Infinity ? history.byTime : history.between(from, to)) {
      if ((c.flags & COMMIT_MERGE) !== 0) continue;
      for (const f of c.files) {
        const list = this.byFile.get(f.path);
        if (list) list.push(c);
        else this.byFile.set(f.path, [c]);
      }
    }
  }

  /** Commits touching any of `files` with author time in [from, to]. */
  touching(files: Iterable<string>, from: number, to: number): CommitInfo[] {
    const out = new Map<string, CommitInfo>();
    for (const f of files) {
      const list = this.byFile.get(f);
      if (!list) continue;
      for (let i = lowerBound(list, (c) => c.authorTime < from); i < list.length; i++) {
        const c = list[i] as CommitInfo;
        if (c.authorTime > to) break;
        out.set(c.sha, c);
      }
    }
    return [...out.values()].sort((a, b) => a.authorTime - b.authorTime);
  }
}

/**
 * Scores one session against every commit in its window that touches a file it edited (a commit sharing no file
 * with the session can never be counted, so it is not even scored), with the neighbourhood penalties:
 * - intervening: an earlier candidate already holds every file this one shares with the session (the session's
 *   work was committed there; this later commit is someone continuing);
 * - competitor: a later session, not overlapping this one, edited every shared file and ended closer to the commit.
 * Returns links at or above MIN_KEPT_CONFIDENCE.
 */
export function linkSession(
  s: LinkSession,
  history: History,
  files: FileIndex,
  sessions: SessionIndex,
  o: LinkOptions = DEFAULT_LINK_OPTIONS,
): ScoredLink[] {
  if (s.files.size === 0) return [];
  const candidates = files
    .touching(s.files, s.start - o.skewMs, s.end + o.windowMs)
    .filter((c) => o.includeGone === true || history.reachable.has(c.sha));
  const out: ScoredLink[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i] as CommitInfo;
    const shared = c.files.filter((f) => s.files.has(f.path)).map((f) => f.path);
    const ctx: PairContext = {};
    for (let j = 0; j < i; j++) {
      const e = candidates[j] as CommitInfo;
      if (e.authorTime >= c.authorTime || e.authorTime < s.end - o.skewMs || !history.reachable.has(e.sha)) continue;
      // Only a commit that could itself hold the session's work: the engineer's own, on the session's branch.
      if ((e.flags & COMMIT_OTHER_AUTHOR) !== 0) continue;
      if (s.branches.length > 0 && !s.branches.some((b) => history.onBranch(e.sha, b, s.start - o.skewMs))) continue;
      if (shared.every((p) => e.files.some((f) => f.path === p))) {
        ctx.intervening = e;
        break;
      }
    }
    if (c.authorTime > s.end) {
      for (const other of sessions.endingIn(s.end, c.authorTime)) {
        if (other.ref === s.ref || other.start <= s.end) continue; // concurrent work is shared work
        if (shared.every((p) => other.files.has(p))) {
          ctx.competitor = true;
          break;
        }
      }
    }
    const scored = scorePair(s, c, history, ctx, o);
    if (scored.confidence >= MIN_KEPT_CONFIDENCE)
      out.push({ sessionRef: s.ref, sha: c.sha, confidence: scored.confidence, evidence: scored.evidence });
  }
  return out;
}

/** A link counts when the engineer confirmed it, or it is automatic and at or above the threshold; rejected never. */
export function isCounted(state: LinkState, confidence: number, threshold: number): boolean {
  if (state === 'confirmed') return true;
  if (state === 'rejected') return false;
  return confidence >= threshold;
}

export type LinkState = 'auto' | 'confirmed' | 'rejected';
