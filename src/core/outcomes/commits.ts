/**
 * Commits as the linker sees them (pure): what git said about a commit, reduced to what linking, tasks, PRs and
 * durability need. Message bodies are not kept: only the flags and keys derived from them (privacy, size).
 */
import type { SourceName } from '../usage/model';
import { mergedBranchOf, prOf, tasksInText, DEFAULT_TASK_PATTERNS, type TaskPatterns } from './tasks';

/** Commit flags (bit field, stored). */
export const COMMIT_MERGE = 1;
/** "Co-authored-by: Claude" or "Generated with Claude Code". */
export const TRAILER_CLAUDE = 2;
/** Aider's author suffix "(aider)" or its co-author line. */
export const TRAILER_AIDER = 4;
/** GitHub Copilot (coding agent) co-author lines. */
export const TRAILER_COPILOT = 8;
/** Codex co-author lines (some setups add them). */
const TRAILER_CODEX = 16;
/** No longer reachable from any branch (rebased, amended, branch deleted): kept as history. */
export const COMMIT_GONE = 32;
/** Authored by someone other than the repository's configured user (a teammate's commit, pulled in). */
export const COMMIT_OTHER_AUTHOR = 64;
/**
 * A revert: it undoes an earlier commit (a `Revert "…"` subject, a `This reverts commit <sha>` line, or a patch that is
 * exactly the reverse of an earlier one). Never an outcome itself. Derived on every link run (core/standing.ts).
 */
export const COMMIT_REVERT = 128;
/** Undone later by a revert that was not itself undone: not an outcome. Derived. */
export const COMMIT_REVERTED = 256;
/** Never reachable from the repository's default branch (nor any successor of it): not merged, not an outcome. Derived. */
export const COMMIT_UNMERGED = 512;
/** The flags a link run derives from the graph (recomputed, never read from git). */
export const STANDING_MASK = COMMIT_REVERT | COMMIT_REVERTED | COMMIT_UNMERGED;

export const TRAILER_MASK = TRAILER_CLAUDE | TRAILER_AIDER | TRAILER_COPILOT | TRAILER_CODEX;

/** Which tool a trailer flag speaks for. */
export const TRAILER_TOOL: ReadonlyArray<{ flag: number; source: SourceName; name: string }> = [
  { flag: TRAILER_CLAUDE, source: 'claude-code', name: 'Claude' },
  { flag: TRAILER_AIDER, source: 'aider', name: 'aider' },
  { flag: TRAILER_COPILOT, source: 'copilot-chat', name: 'Copilot' },
  { flag: TRAILER_CODEX, source: 'codex', name: 'Codex' },
];

export interface FileStat {
  path: string;
  /** Lines added; null for binary files. */
  added: number | null;
  removed: number | null;
}

/** One commit as read from `git log` (before reduction). */
export interface RawCommit {
  sha: string;
  parents: string[];
  /** Epoch ms. */
  authorTime: number;
  commitTime: number;
  authorName: string;
  authorEmail: string;
  subject: string;
  body: string;
  files: FileStat[];
}

/** A commit as stored and linked. */
export interface CommitInfo {
  sha: string;
  parents: string[];
  authorTime: number;
  commitTime: number;
  subject: string;
  files: FileStat[];
  flags: number;
  /** Task keys named in the message. */
  tasks: string[];
  pr: number | null;
  /** Branch named by a merge subject (merges only). */
  mergedBranch: string | null;
  /** Author as git recorded it (email lower case); absent on rows stored before schema 5 until a link run fills it. */
  authorEmail?: string | null;
  authorName?: string | null;
  /** Emails (lower case) of people named in `Co-authored-by:` trailers (tools such as Claude are left out). */
  coAuthors?: readonly string[];
  /** The sha a `This reverts commit <sha>` line names, or null. */
  reverts?: string | null;
}

const CO_AUTHOR = /^co-authored-by:\s*(.+)$/gim;

/** Trailer flags from the message and author (docs/linking.md). */
export function trailerFlags(body: string, authorName: string, authorEmail: string): number {
  let flags = 0;
  if (/generated with \[?claude code/i.test(body)) flags |= TRAILER_CLAUDE;
  if (/\(aider\)\s*$/i.test(authorName)) flags |= TRAILER_AIDER;
  if (
    /^copilot$|copilot\[bot\]|copilot-swe-agent/i.test(authorName) ||
    (/copilot/i.test(authorEmail) && /\[bot\]|noreply/i.test(authorEmail))
  )
    flags |= TRAILER_COPILOT;
  for (const m of body.matchAll(CO_AUTHOR)) {
    const who = (m[1] ?? '').toLowerCase();
    if (who.includes('claude') || who.includes('anthropic.com')) flags |= TRAILER_CLAUDE;
    else if (who.includes('aider')) flags |= TRAILER_AIDER;
    else if (who.includes('copilot')) flags |= TRAILER_COPILOT;
    else if (who.includes('codex') || who.includes('openai.com')) flags |= TRAILER_CODEX;
  }
  return flags;
}

const TOOL_AUTHOR = /claude|anthropic\.com|aider|copilot|codex|openai\.com|\[bot\]/i;

/** Emails of the people a message names as co-authors (lower case, without AI tools and bots). */
export function coAuthorsOf(body: string): string[] {
  const out = new Set<string>();
  for (const m of body.matchAll(CO_AUTHOR)) {
    const who = m[1] ?? '';
    const email = /<([^<>\s]+@[^<>\s]+)>/.exec(who)?.[1];
    if (!email || TOOL_AUTHOR.test(who)) continue;
    out.add(email.toLowerCase());
  }
  return [...out].sort();
}

/** The commit a `git revert` message names ("This reverts commit <sha>."), or null. */
export function revertTarget(body: string): string | null {
  const m = /^This reverts commit ([0-9a-f]{7,64})\b/im.exec(body);
  return m?.[1] ? m[1].toLowerCase() : null;
}

/**
 * `me`: the repository's configured user.email (lower case), when known: a commit by anyone else is a teammate's
 * and weak evidence for this engineer's sessions.
 */
export function reduceCommit(
  raw: RawCommit,
  patterns: TaskPatterns = DEFAULT_TASK_PATTERNS,
  me: string | null = null,
): CommitInfo {
  const merge = raw.parents.length > 1;
  const coAuthors = coAuthorsOf(raw.body);
  // A teammate's commit that names this engineer as co-author is theirs too (docs/outcomes.md).
  const other =
    me !== null &&
    raw.authorEmail.toLowerCase() !== me &&
    !/\(aider\)\s*$/i.test(raw.authorName) &&
    !coAuthors.includes(me)
      ? COMMIT_OTHER_AUTHOR
      : 0;
  const message = raw.body ? `${raw.subject}\n\n${raw.body}` : raw.subject;
  return {
    sha: raw.sha,
    parents: raw.parents,
    authorTime: raw.authorTime,
    commitTime: raw.commitTime,
    subject: raw.subject,
    files: merge ? [] : raw.files,
    flags: (merge ? COMMIT_MERGE : 0) | other | trailerFlags(raw.body, raw.authorName, raw.authorEmail),
    tasks: tasksInText(message, patterns),
    pr: prOf(raw.subject, raw.body),
    mergedBranch: merge ? mergedBranchOf(raw.subject) : null,
    authorEmail: raw.authorEmail.toLowerCase(),
    authorName: raw.authorName,
    coAuthors,
    reverts: revertTarget(raw.body),
  };
}

/** Stored form of a file list: one "added\tremoved\tpath" line per file ("-" for binary counts, as numstat writes). */
export function encodeFiles(files: readonly FileStat[]): string {
  return files.map((f) => `${f.added ?? '-'}\t${f.removed ?? '-'}\t${f.path}`).join('\n');
}

export function decodeFiles(text: string): FileStat[] {
  if (!text) return [];
  return text.split('\n').map((line) => {
    const a = line.indexOf('\t');
    const b = line.indexOf('\t', a + 1);
    const added = line.slice(0, a);
    const removed = line.slice(a + 1, b);
    return {
      path: line.slice(b + 1),
      added: added === '-' ? null : Number(added),
      removed: removed === '-' ? null : Number(removed),
    };
  });
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
