/**
 * The public shape of a demo world: its options, the world built (where everything is, and its truth) and the
 * state the append helpers continue from.
 */
import type { TruthInteraction, TruthSource, WorldTruth } from '../truth';
import type { ClaudeLive } from '../claude';
import type { CodexLive } from '../codex';

export interface WorldOptions {
  /** Existing (ideally empty) dir; everything goes under it. */
  root: string;
  /** Deterministic PRNG seed: same seed (and same root) => byte-identical files. Default 1. */
  seed?: number;
  /** Last moment of history. Default 2026-11-20T18:00:00Z (the demo passes new Date()). */
  end?: Date;
  /** History span ending at `end`, in days. Default 14. */
  days?: number;
  /** Default 12. */
  claudeSessions?: number;
  /** Default 6. */
  codexSessions?: number;
  /** Real git repositories. Default 3; 0 = no git at all (cwds then point at non-existent dirs under root/projects). */
  repos?: number;
  /** Include every trap (resumed copies, subagents, synthetic lines, archived copies, ...). Default true. */
  traps?: boolean;
  /** Garbage lines injected into random log files; they never change the truth. Default 0. */
  badLines?: number;
  /** Average size of tool-result payloads. Default 2000 (the bench uses ~30000). */
  toolResultBytes?: number;
  /** Keep adding sessions until the log files total at least this many bytes. */
  targetBytes?: number;
  /** Leave a half-written last line (no trailing newline) in one Claude and one Codex file; NOT in the truth. */
  halfWrittenTail?: boolean;
  /**
   * GitHub Copilot Chat sessions in `home/.config/Code/User` (every format: `.jsonl` mutation logs with
   * result.metadata counts, one of them compacted; older `.json` with result.usage; the oldest `.json` without counts,
   * estimated with the tokenizer). Default 0: worlds without it are byte-identical to before.
   */
  copilotSessions?: number;
}

export interface ClaudeSessionState {
  file: string;
  live: ClaudeLive;
  /** Base for relative paths given to appends (repo root, or cwd). */
  base: string;
}

export interface CodexSessionState {
  file: string;
  live: CodexLive;
  base: string;
}

export interface PendingTail {
  source: TruthSource;
  sessionId: string;
  rest: string;
  truth: TruthInteraction;
  claude?: ClaudeLive;
  codex?: CodexLive;
}

/** What the append helpers need to continue writing; plain data. */
export interface WorldState {
  seed: number;
  toolResultBytes: number;
  appends: number;
  claude: Record<string, ClaudeSessionState>;
  codex: Record<string, CodexSessionState>;
  /** Half-written last lines, by file. */
  pending: Record<string, PendingTail>;
}

export interface World {
  root: string;
  /** Fake $HOME under root. */
  home: string;
  /** Env vars to run the importer against this world. */
  env: Record<string, string>;
  claudeRoots: string[];
  codexHome: string;
  /** Absolute roots of the main working trees. */
  repos: string[];
  start: number;
  end: number;
  truth: WorldTruth;
  /** Log files written and their total size in bytes. */
  files: number;
  bytes: number;
  /** Generation time in ms. */
  buildMs: number;
  state: WorldState;
}
