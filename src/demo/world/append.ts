/**
 * Appends to a built world: one more turn in a Claude Code or Codex session, completing a half-written line first.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng, type TextPool } from '../rng';
import type { TruthInteraction } from '../truth';
import { type ClaudeAction, type ClaudeLive, ClaudeWriter } from '../claude';
import { type CodexCall, type CodexLive, type CodexPatchFile, CodexWriter } from '../codex';
import { FOLLOW_UPS, posixRel, uniqSorted, poolFor } from './common';
import type { PendingTail, World } from './types';

export interface AppendClaudeOptions {
  /** Timestamp of the new prompt (default: 30-180 s after the session's last line). */
  at?: number | Date;
  model?: string;
  /** Non-edit tool steps (Read/Grep/Bash). Default 2. */
  steps?: number;
  /** Files to Edit, relative to the session's repo root (or cwd without a repo). */
  edits?: string[];
  /** Files to create with Write, same base. */
  creates?: string[];
  toolResultBytes?: number;
  /** End with a half-written line (its interaction is returned by the next append that completes it). */
  leaveHalfWritten?: boolean;
}

export interface AppendCodexOptions {
  at?: number | Date;
  /** Model for this turn's turn_context (sessions without turn_context ignore it). */
  model?: string;
  /** Shell calls. Default 2. */
  calls?: number;
  /** apply_patch Update File, relative to the session's repo root (or cwd). */
  edits?: string[];
  /** apply_patch Add File, same base. */
  creates?: string[];
  toolResultBytes?: number;
  leaveHalfWritten?: boolean;
}

function msOf(at: number | Date | undefined): number | undefined {
  return at === undefined ? undefined : typeof at === 'number' ? at : at.getTime();
}

function completePending(
  world: World,
  file: string,
): { text: string; truth: TruthInteraction[]; pend: PendingTail | undefined } {
  const pend = world.state.pending[file];
  if (!pend) return { text: '', truth: [], pend: undefined };
  delete world.state.pending[file];
  return { text: `${pend.rest}\n`, truth: [pend.truth], pend };
}

function recordAppend(
  world: World,
  sessionId: string,
  added: TruthInteraction[],
  edited: string[],
  bytes: number,
  end: number,
): void {
  world.truth.interactions.push(...added);
  world.bytes += bytes;
  const s = world.truth.sessions.find((x) => x.sessionId === sessionId);
  if (s) {
    s.editedFiles = uniqSorted([...s.editedFiles, ...edited]);
    s.models = uniqSorted([...s.models, ...added.map((a) => a.model)]);
    s.end = Math.max(s.end, end);
  }
}

/**
 * The opening of every append: the file's half-written line completed first (its truth and text lead the append's),
 * then the writer's options: this append's own random stream, the world's text pool and the tool-result size.
 */
function beginAppend(
  world: World,
  file: string,
  toolResultBytes: number | undefined,
): { done: ReturnType<typeof completePending>; writer: { rng: Rng; pool: TextPool; toolResultBytes: number } } {
  const done = completePending(world, file);
  const rng = new Rng(world.state.seed).fork(`append:${world.state.appends++}`);
  return {
    done,
    writer: { rng, pool: poolFor(world.state.seed), toolResultBytes: toolResultBytes ?? world.state.toolResultBytes },
  };
}

/** Append one complete user turn to a Claude Code session's file (completing a half-written line first). */
export function appendClaudeTurn(world: World, sessionId: string, opts: AppendClaudeOptions = {}): TruthInteraction[] {
  const st = world.state.claude[sessionId];
  if (!st) throw new Error(`no Claude Code session ${sessionId} in this world`);
  const { done, writer } = beginAppend(world, st.file, opts.toolResultBytes);
  if (done.pend?.claude) st.live = done.pend.claude;
  const { rng: r, pool } = writer;
  const live = st.live;
  if (opts.model !== undefined) live.model = opts.model;
  const at = msOf(opts.at);
  const w = new ClaudeWriter({ ...writer, live, file: st.file });
  const steps: ClaudeAction[][] = [];
  for (let i = 0; i < (opts.steps ?? 2); i++)
    steps.push([r.chance(0.6) ? { kind: 'read', abs: path.join(live.cwd, 'README.md') } : { kind: 'bash' }]);
  for (const rel of opts.edits ?? [])
    steps.push([{ kind: 'edit', edit: { tool: 'Edit', abs: path.join(st.base, rel) } }]);
  for (const rel of opts.creates ?? [])
    steps.push([{ kind: 'edit', edit: { tool: 'Write', abs: path.join(st.base, rel) } }]);
  w.turn({ prompt: r.pick(FOLLOW_UPS), model: live.model, steps, ...(at !== undefined ? { at } : {}) });
  const added = [...done.truth, ...w.out];
  let text = `${done.text}${w.lines.join('\n')}\n`;
  if (opts.leaveHalfWritten === true) {
    const after: ClaudeLive = { ...live, lastUuid: w.em.parent };
    const hw = new ClaudeWriter({
      rng: r.fork('half'),
      pool,
      toolResultBytes: world.state.toolResultBytes,
      live: after,
      file: st.file,
    });
    const { line, truth } = hw.finalLine(after.model);
    after.lastUuid = hw.em.parent;
    const cut = Math.floor(line.length * 0.55);
    text += line.slice(0, cut);
    world.state.pending[st.file] = { source: 'claude-code', sessionId, rest: line.slice(cut), truth, claude: after };
  }
  live.lastUuid = w.em.parent;
  fs.appendFileSync(st.file, text);
  const edited = w.edited.map((a) => posixRel(st.base, a));
  recordAppend(world, sessionId, added, edited, Buffer.byteLength(text), live.t);
  return added;
}

/** Append one complete turn to a Codex session's rollout (completing a half-written line first). */
export function appendCodexTurn(world: World, sessionId: string, opts: AppendCodexOptions = {}): TruthInteraction[] {
  const st = world.state.codex[sessionId];
  if (!st) throw new Error(`no Codex session ${sessionId} in this world`);
  const { done, writer } = beginAppend(world, st.file, opts.toolResultBytes);
  if (done.pend?.codex) st.live = done.pend.codex;
  const { rng: r, pool } = writer;
  const live = st.live;
  const at = msOf(opts.at);
  const w = new CodexWriter({ ...writer, live });
  const calls: CodexCall[] = [];
  for (let i = 0; i < (opts.calls ?? 2); i++) calls.push({ kind: 'shell' });
  const files: CodexPatchFile[] = [
    ...(opts.edits ?? []).map((rel) => ({ rel: posixRel(live.cwd, path.join(st.base, rel)), add: false })),
    ...(opts.creates ?? []).map((rel) => ({ rel: posixRel(live.cwd, path.join(st.base, rel)), add: true })),
  ];
  if (files.length > 0) calls.push({ kind: 'patch', via: 'custom', files });
  w.turn({
    prompt: r.pick(FOLLOW_UPS),
    calls,
    ...(opts.model !== undefined ? { model: opts.model } : {}),
    ...(at !== undefined ? { at } : {}),
    reemit: 0.2,
  });
  const added = [...done.truth, ...w.out];
  let text = `${done.text}${w.lines.join('\n')}\n`;
  if (opts.leaveHalfWritten === true) {
    const after: CodexLive = { ...live, total: { ...live.total } };
    const hw = new CodexWriter({
      rng: r.fork('half'),
      pool,
      toolResultBytes: world.state.toolResultBytes,
      live: after,
    });
    const { line, truth } = hw.pendingTokenCount();
    const cut = Math.floor(line.length * 0.55);
    text += line.slice(0, cut);
    world.state.pending[st.file] = { source: 'codex', sessionId, rest: line.slice(cut), truth, codex: after };
  }
  fs.appendFileSync(st.file, text);
  const edited = w.editedRel.map((f) => posixRel(st.base, path.resolve(live.cwd, f)));
  recordAppend(world, sessionId, added, edited, Buffer.byteLength(text), live.t);
  return added;
}
