/**
 * The truth of a demo world: every interaction, session and commit an importer and the linker must find, and the
 * aggregation tests compare a report with. Plain data; the world (world.ts) and its writers fill it in.
 */

import type { BillableTokens } from '../core/usage/pricing';

export type TruthSource = 'claude-code' | 'codex' | 'copilot-chat';

export interface TruthInteraction extends BillableTokens {
  source: TruthSource;
  sessionId: string;
  model: string;
  /** Epoch ms. */
  timestamp: number;
  /** The copy an importer keeps came from a sidechain (subagent) line. */
  sidechain: boolean;
  /** Cost the tool recorded itself (old Claude Code versions). */
  costUSD?: number;
  /** The log named no model (Codex without turn_context): the importer's default was assumed. */
  modelAssumed?: boolean;
  /** The log carried no counts: the truth is the tokenizer's count of the visible text (Copilot Chat's oldest files). */
  estimated?: boolean;
}

export interface TruthSession {
  source: TruthSource;
  sessionId: string;
  cwd: string;
  /** Absolute repository root (a worktree's own root for sessions in a worktree), or null. */
  repo: string | null;
  branch: string | null;
  /** Relative to `repo` (or to `cwd` when there is no repo); sorted, unique. */
  editedFiles: string[];
  /** Every log file holding lines of this session (copies, subagents and resumed files included); sorted. */
  logFiles: string[];
  start: number;
  end: number;
  models: string[];
  role: 'task' | 'exploration' | 'extra';
  taskKey: string | null;
  /** Names of the traps this session carries. */
  traps: string[];
  /** Codex: the HEAD recorded in session_meta.git. */
  gitCommit?: string;
}

export interface TruthCommit {
  sha: string;
  /** Absolute root of the main working tree. */
  repo: string;
  /** Working directory the commit was made in (differs from `repo` for a worktree). */
  dir: string;
  branch: string;
  time: number;
  subject: string;
  message: string;
  /** Repo-relative, sorted. */
  files: string[];
  /** Sessions that produced it; [] for human-only commits and merge commits. */
  sessionIds: string[];
  kind: 'initial' | 'session' | 'human' | 'merge' | 'squash';
  added: number;
  removed: number;
  parents: string[];
  pr?: number;
  mergedBranch?: string;
}

export type BadLineKind = 'not-json' | 'truncated-json' | 'wrong-type' | 'unknown-shape';

export interface BadLine {
  file: string;
  kind: BadLineKind;
  line: string;
}

export interface WorldTruth {
  interactions: TruthInteraction[];
  sessions: TruthSession[];
  commits: TruthCommit[];
  badLines: number;
  badLineDetails: BadLine[];
  /** Trap name -> where it is (file paths or session ids). */
  traps: Record<string, string[]>;
}

export interface TruthTotals extends BillableTokens {
  /** input + cacheRead + cacheWrite + output. */
  total: number;
  interactions: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Aggregation

export function truthTotals(
  interactions: readonly TruthInteraction[],
  groupBy: (t: TruthInteraction) => string,
): Map<string, TruthTotals> {
  const m = new Map<string, TruthTotals>();
  for (const t of interactions) {
    const k = groupBy(t);
    let a = m.get(k);
    if (!a) {
      a = {
        input: 0,
        output: 0,
        cacheRead: 0,
        cacheWrite: 0,
        cacheWrite1h: 0,
        reasoning: 0,
        total: 0,
        interactions: 0,
      };
      m.set(k, a);
    }
    a.input += t.input;
    a.output += t.output;
    a.cacheRead += t.cacheRead;
    a.cacheWrite += t.cacheWrite;
    a.cacheWrite1h += t.cacheWrite1h;
    a.reasoning += t.reasoning;
    a.total += t.input + t.cacheRead + t.cacheWrite + t.output;
    a.interactions += 1;
  }
  return m;
}

/** 'YYYY-MM-DD' (UTC) of an epoch-ms timestamp. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
