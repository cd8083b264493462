/**
 * A deterministic, realistic "world" in a temp dir: real git repositories plus Claude Code and Codex CLI logs in their
 * real on-disk formats (with every known trap), and the exact truth an importer must find.
 *
 * Used by `npm run demo`, by integration tests (import the world, compare the report to the truth per source, model
 * and day) and by the benchmark (targetBytes: ~600 MB of logs). Node built-ins only.
 *
 * Traps (traps: true; `truth.traps` says where each one is) and how the truth treats them:
 * - Claude: one line per content block, earlier blocks with a partial usage -> one interaction, the final usage;
 *   a resumed session (new file, new id) that first copies another session's lines verbatim -> counted once, in the
 *   original session; subagent files `<enc>/<id>/subagents/agent-<8hex>.jsonl` (isSidechain, parent's sessionId)
 *   -> counted, attributed to the parent, sidechain: true; the subagent's last message also written into the parent
 *   file as a non-sidechain copy -> counted once, sidechain: false; `<synthetic>` lines and isApiErrorMessage lines
 *   (both with nonzero usage) -> never counted; a message without requestId -> deduplicated by message.id alone;
 *   an old-version session with costUSD -> counted, costUSD kept; two roots (CLAUDE_CONFIG_DIR lists both; the second
 *   is also $XDG_CONFIG_HOME/claude) and one file copied into both -> counted once; a session whose cwd is a repo
 *   subdirectory (repo = the repo root, edited files repo-relative); sessions in a `git worktree` (repo = the
 *   worktree root); a mid-session model switch; Task tool results carrying a `usage` object (not an assistant line).
 * - Codex: token_count re-emitted with an unchanged total -> not counted again; `info: null` -> nothing; a total
 *   that drops after `compacted` -> that event counts its last_token_usage, later events are deltas from it; an
 *   active file copied verbatim into archived_sessions/ (same name) -> counted once; a session only in
 *   archived_sessions/ -> counted; a session without turn_context -> model "gpt-5", modelAssumed: true; a model
 *   switch by turn_context; apply_patch edits via custom_tool_call (Update File, Add File) and via a shell
 *   function_call `["apply_patch", ...]`, paths relative to cwd (truth: repo-relative).
 * - badLines (not JSON, truncated JSON, wrong-typed usage, unknown shapes) and halfWrittenTail never change the truth;
 *   a half-written line counts once an append completes it (appendClaudeTurn/appendCodexTurn return it then).
 * - Git: task branches carrying keys (feature/PAY-7), a commit right after each editing session touching exactly the
 *   files it edited (some with a Co-authored-by: Claude trailer), merges (--no-ff), one squash merge, one branch left
 *   open, human-only commits far from any session, exploration sessions that edit nothing; see `truth.commits`.
 *
 * Determinism: all randomness comes from the seed; with the same seed and a root path of the same length the files
 * are byte-identical once the root path is substituted (paths are written into the logs), and commit shas match.
 */
import { Builder } from './world/builder';
import { planWorld } from './world/plan';
import { generateBase, generateExtra, halfWritten } from './world/generate';
import { finishWorld } from './world/truth';
import { addCopilotSessions } from './world/copilotSessions';
import type { World, WorldOptions } from './world/types';

export type {
  ClaudeSessionState,
  CodexSessionState,
  PendingTail,
  World,
  WorldOptions,
  WorldState,
} from './world/types';
export { appendClaudeTurn, appendCodexTurn, type AppendClaudeOptions, type AppendCodexOptions } from './world/append';
export { encodeProjectDir } from './claude';
export { CODEX_DEFAULT_MODEL } from './codex';

/**
 * Builds a world in its steps (world/): the projects and their repositories, the plan (plan.ts), the sessions in time
 * order with the git history they produce (generate.ts, writers.ts, badLines.ts), half-written tails, the world and
 * its truth (truth.ts); Copilot Chat sessions last, from their own random stream.
 */
export function buildWorld(opts: WorldOptions): World {
  const t0 = Date.now();
  const b = new Builder(opts);
  b.setupProjects();
  planWorld(b);
  generateBase(b);
  if (opts.targetBytes !== undefined && opts.targetBytes > 0) generateExtra(b, opts.targetBytes);
  halfWritten(b);
  const world = finishWorld(b, t0);
  if ((opts.copilotSessions ?? 0) > 0) addCopilotSessions(world, opts.copilotSessions ?? 0);
  return world;
}
