/**
 * Claude Code session writer for the demo world: lines in the real on-disk shape (compact JSON, the key order Claude
 * Code uses, one line per content block repeating message.id / requestId / usage), plus the truth of every billed
 * message it writes.
 */
import * as path from 'node:path';
import type { TruthInteraction } from './truth';
import { type Rng, type TextPool, around, iso, stringify } from './rng';

export const CLAUDE_SONNET = 'claude-sonnet-4-5-20250929';
export const CLAUDE_OPUS = 'claude-opus-4-5-20251101';
export const CLAUDE_HAIKU = 'claude-haiku-4-5-20251001';
export const CLAUDE_VERSIONS = ['2.0.14', '2.0.28', '2.0.37', '2.0.42', '2.0.55'] as const;
export const CLAUDE_OLD_VERSION = '1.0.24';

/** `<enc>`: every non-alphanumeric character of the project path replaced by `-`. */
export function encodeProjectDir(p: string): string {
  return p.replace(/[^a-zA-Z0-9]/g, '-');
}

export type ClaudeEditTool = 'Edit' | 'MultiEdit' | 'Write' | 'NotebookEdit';

export interface ClaudeEdit {
  tool: ClaudeEditTool;
  /** Absolute path. */
  abs: string;
}

export type ClaudeAction =
  | { kind: 'edit'; edit: ClaudeEdit }
  | { kind: 'read'; abs: string }
  | { kind: 'grep'; abs: string }
  | { kind: 'bash' }
  | { kind: 'task'; sub: SubagentSpec };

export interface SubagentSpec {
  model: string;
  steps: number;
  reads: string[];
  edit?: ClaudeEdit;
  /** Also write the subagent's final message into the parent file as a non-sidechain copy (trap). */
  dual: boolean;
}

interface Usage {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  cacheWrite1h: number;
}

/** Everything needed to continue a Claude Code session file (appends, half-written tails). */
export interface ClaudeLive {
  sessionId: string;
  cwd: string;
  gitBranch: string;
  version: string;
  model: string;
  lastUuid: string | null;
  t: number;
  ctx: number;
  pending: number;
  oneHour: boolean;
  oldVersion: boolean;
}

interface AssistantMsg {
  id: string;
  requestId: string | null;
  model: string;
  blocks: Record<string, unknown>[];
  usage: Usage;
  /** How many leading block lines carry a partial usage (smaller output_tokens). */
  partial: number;
  partialOutput: number;
  stop: string | null;
}

const PRICES: Record<string, [number, number]> = {
  [CLAUDE_SONNET]: [3, 15],
  [CLAUDE_OPUS]: [5, 25],
  [CLAUDE_HAIKU]: [1, 5],
};

function costOf(model: string, u: Usage): number {
  const [inp, out] = PRICES[model] ?? [3, 15];
  const c = (u.input * inp + u.output * out + u.cacheWrite * inp * 1.25 + u.cacheRead * inp * 0.1) / 1e6;
  return Math.round(c * 1e8) / 1e8;
}

function usageJson(u: Usage, old: boolean): Record<string, unknown> {
  if (old) {
    return {
      input_tokens: u.input,
      cache_creation_input_tokens: u.cacheWrite,
      cache_read_input_tokens: u.cacheRead,
      output_tokens: u.output,
      service_tier: 'standard',
    };
  }
  return {
    input_tokens: u.input,
    cache_creation_input_tokens: u.cacheWrite,
    cache_read_input_tokens: u.cacheRead,
    cache_creation: {
      ephemeral_5m_input_tokens: u.cacheWrite - u.cacheWrite1h,
      ephemeral_1h_input_tokens: u.cacheWrite1h,
    },
    output_tokens: u.output,
    service_tier: 'standard',
  };
}

/** What every line of one Claude Code session file repeats. */
interface LineHeader {
  sessionId: string;
  cwd: string;
  gitBranch: string;
  version: string;
  isSidechain: boolean;
  agentId?: string;
}

/** Writes lines that share one header (session, cwd, branch, version, sidechain). */
class ClaudeEmitter {
  readonly lines: string[] = [];
  parent: string | null;
  private readonly tail: string;

  constructor(
    private readonly r: Rng,
    readonly h: LineHeader,
    parent: string | null,
  ) {
    const head: Record<string, unknown> = {
      isSidechain: h.isSidechain,
      userType: 'external',
      cwd: h.cwd,
      sessionId: h.sessionId,
      version: h.version,
      gitBranch: h.gitBranch,
    };
    if (h.agentId !== undefined) head.agentId = h.agentId;
    this.tail = JSON.stringify(head).slice(1, -1);
    this.parent = parent;
  }

  /** One chained line; `build` gets the new uuid and returns the type-specific keys in order. */
  line(build: (uuid: string) => Record<string, unknown>, uuid = this.r.uuid4()): string {
    const p = this.parent === null ? 'null' : `"${this.parent}"`;
    const s = `{"parentUuid":${p},${this.tail},${stringify(build(uuid)).slice(1)}`;
    this.lines.push(s);
    this.parent = uuid;
    return s;
  }

  raw(obj: Record<string, unknown>): void {
    this.lines.push(stringify(obj));
  }
}

export interface ClaudeWriterInit {
  rng: Rng;
  pool: TextPool;
  toolResultBytes: number;
  live: ClaudeLive;
  isSidechain?: boolean;
  agentId?: string;
  deadline?: number;
  /** Where the session's file lives; subagent files go to `<dir>/<sessionId>/subagents/`. */
  file: string;
}

export interface WrittenFile {
  file: string;
  lines: string[];
}

/** Generates turns of one Claude Code session (or subagent) and records the truth. */
export class ClaudeWriter {
  readonly em: ClaudeEmitter;
  readonly out: TruthInteraction[] = [];
  readonly edited: string[] = [];
  readonly subagents: WrittenFile[] = [];
  readonly live: ClaudeLive;
  private readonly r: Rng;
  private readonly pool: TextPool;
  private readonly trb: number;
  private readonly deadline: number;
  private readonly file: string;

  constructor(init: ClaudeWriterInit) {
    this.r = init.rng;
    this.pool = init.pool;
    this.trb = init.toolResultBytes;
    this.live = init.live;
    this.deadline = init.deadline ?? Number.POSITIVE_INFINITY;
    this.file = init.file;
    const h: LineHeader = {
      sessionId: init.live.sessionId,
      cwd: init.live.cwd,
      gitBranch: init.live.gitBranch,
      version: init.live.version,
      isSidechain: init.isSidechain ?? false,
    };
    if (init.agentId !== undefined) h.agentId = init.agentId;
    this.em = new ClaudeEmitter(this.r, h, init.live.lastUuid);
  }

  get lines(): string[] {
    return this.em.lines;
  }

  private adv(minMs: number, maxMs: number): number {
    const d = this.r.int(minMs, maxMs);
    const t = this.live.t;
    this.live.t = Math.max(t + 1, Math.min(t + d, this.deadline));
    return this.live.t;
  }

  private nextUsage(thinking: boolean): Usage {
    const r = this.r;
    const input = r.chance(0.1) ? r.int(20, 2500) : r.int(1, 9);
    const cacheRead = this.live.ctx;
    const cacheWrite = this.live.pending + r.int(0, 400);
    const output = r.int(20, 900) + (thinking ? r.int(100, 1500) : 0);
    const cacheWrite1h =
      this.live.oneHour && !this.live.oldVersion ? (r.chance(0.7) ? cacheWrite : Math.floor(cacheWrite / 2)) : 0;
    this.live.ctx = cacheRead + cacheWrite + input;
    this.live.pending = output;
    return { input, output, cacheRead, cacheWrite, cacheWrite1h };
  }

  private msgId(): string {
    return `msg_01${this.r.base62(22)}`;
  }

  private reqId(): string {
    return `req_011C${this.r.base62(20)}`;
  }

  /** Write an assistant message, one line per block; returns the timestamp of the first final-usage line. */
  private emitAssistant(m: AssistantMsg, em: ClaudeEmitter = this.em, fixedT?: number): number {
    let finalT = -1;
    const old = this.live.oldVersion;
    for (let i = 0; i < m.blocks.length; i++) {
      if (i > 0 && fixedT === undefined) this.adv(150, 2500);
      const t = fixedT ?? this.live.t;
      const partial = i < m.partial;
      const u: Usage = partial ? { ...m.usage, output: m.partialOutput } : m.usage;
      if (!partial && finalT < 0) finalT = t;
      const message = {
        model: m.model,
        id: m.id,
        type: 'message',
        role: 'assistant',
        content: [m.blocks[i]],
        stop_reason: i === m.blocks.length - 1 ? m.stop : null,
        stop_sequence: null,
        usage: usageJson(u, old),
      };
      em.line((uuid) => {
        const o: Record<string, unknown> = { message };
        if (old) {
          o.costUSD = costOf(m.model, u);
          o.durationMs = this.r.int(1500, 40000);
        }
        if (m.requestId !== null) o.requestId = m.requestId;
        o.type = 'assistant';
        o.uuid = uuid;
        o.timestamp = iso(t);
        return o;
      });
    }
    return finalT;
  }

  private record(m: AssistantMsg, t: number, sidechain: boolean): TruthInteraction {
    const ti: TruthInteraction = {
      source: 'claude-code',
      sessionId: this.live.sessionId,
      model: m.model,
      timestamp: t,
      input: m.usage.input,
      output: m.usage.output,
      cacheRead: m.usage.cacheRead,
      cacheWrite: m.usage.cacheWrite,
      cacheWrite1h: m.usage.cacheWrite1h,
      reasoning: 0,
      sidechain,
    };
    if (this.live.oldVersion) ti.costUSD = costOf(m.model, m.usage);
    this.out.push(ti);
    return ti;
  }

  /** Build, write and record one billed message. */
  private message(
    model: string,
    blocks: Record<string, unknown>[],
    opts: { noRequestId?: boolean; stop?: string | null } = {},
  ): AssistantMsg {
    const thinking = blocks.some((b) => b.type === 'thinking');
    const usage = this.nextUsage(thinking);
    const partialMode = blocks.length > 1 && (opts.noRequestId === true || this.r.chance(0.5));
    const m: AssistantMsg = {
      id: this.msgId(),
      requestId: opts.noRequestId === true ? null : this.reqId(),
      model,
      blocks,
      usage,
      partial: partialMode ? this.r.int(1, blocks.length - 1) : 0,
      partialOutput: Math.max(1, Math.min(usage.output - 1, this.r.int(1, 12))),
      stop: opts.stop ?? null,
    };
    const t = this.emitAssistant(m);
    this.record(m, t, this.em.h.isSidechain);
    return m;
  }

  private thinkingBlock(): Record<string, unknown> {
    return {
      type: 'thinking',
      thinking: this.pool.words(this.r, this.r.int(12, 60)),
      signature: `Eq${this.pool.slice(this.r, 'b64', this.r.int(200, 900))}`,
    };
  }

  private textBlock(n?: number): Record<string, unknown> {
    return { type: 'text', text: this.pool.words(this.r, n ?? this.r.int(6, 40)) };
  }

  private toolId(): string {
    return `toolu_01${this.r.base62(22)}`;
  }

  prompt(text: string, at?: number): void {
    if (this.live.ctx > 155000) this.compact();
    if (at !== undefined) this.live.t = Math.max(this.live.t + 1, at);
    else this.adv(20000, 180000);
    const t = this.live.t;
    const uuid = this.r.uuid4();
    if (!this.live.oldVersion && !this.em.h.isSidechain) {
      this.em.raw({
        type: 'file-history-snapshot',
        messageId: uuid,
        snapshot: { messageId: uuid, trackedFileBackups: {}, timestamp: iso(t) },
        isSnapshotUpdate: false,
      });
    }
    const old = this.live.oldVersion;
    this.em.line((u) => {
      const o: Record<string, unknown> = {
        type: 'user',
        message: { role: 'user', content: text },
        uuid: u,
        timestamp: iso(t),
      };
      if (!old) {
        o.thinkingMetadata = { level: 'high', disabled: false, triggers: [] };
        o.todos = [];
      }
      return o;
    }, uuid);
    this.live.pending += Math.ceil(text.length / 4);
  }

  private compact(): void {
    this.adv(2000, 20000);
    const t = this.live.t;
    const logical = this.em.parent;
    this.em.parent = null;
    const pre = this.live.ctx;
    this.em.line((uuid) => ({
      logicalParentUuid: logical,
      type: 'system',
      subtype: 'compact_boundary',
      content: 'Conversation compacted',
      isMeta: false,
      timestamp: iso(t),
      uuid,
      level: 'info',
      compactMetadata: { trigger: 'auto', preTokens: pre },
    }));
    this.live.ctx = this.r.int(15000, 30000);
    this.live.pending = this.r.int(3000, 8000);
  }

  private toolResult(toolUseId: string, content: unknown, toolUseResult: unknown): void {
    this.adv(200, 9000);
    const t = this.live.t;
    this.em.line((uuid) => ({
      type: 'user',
      message: { role: 'user', content: [{ tool_use_id: toolUseId, type: 'tool_result', content }] },
      uuid,
      timestamp: iso(t),
      toolUseResult,
    }));
  }

  private toolUse(a: ClaudeAction): { block: Record<string, unknown>; run: () => void } {
    const r = this.r;
    const pool = this.pool;
    const id = this.toolId();
    const size = around(r, this.trb);
    const feed = (chars: number): void => {
      this.live.pending += Math.ceil(chars / 3.6);
    };
    switch (a.kind) {
      case 'read': {
        const block = { type: 'tool_use', id, name: 'Read', input: { file_path: a.abs } };
        return {
          block,
          run: () => {
            const shown = pool.raw(r, 'numbered', size);
            const raw = pool.raw(r, 'code', size);
            const lines = Math.max(1, Math.floor(size / 48));
            this.toolResult(id, shown, {
              type: 'text',
              file: { filePath: a.abs, content: raw, numLines: lines, startLine: 1, totalLines: lines },
            });
            feed(size);
          },
        };
      }
      case 'grep': {
        const pattern = pool.words(r, 1);
        const block = {
          type: 'tool_use',
          id,
          name: 'Grep',
          input: { pattern, path: path.dirname(a.abs), output_mode: 'content', '-n': true },
        };
        return {
          block,
          run: () => {
            const content = pool.raw(r, 'shell', size);
            this.toolResult(id, content, {
              mode: 'content',
              numFiles: 0,
              filenames: [],
              content,
              numLines: Math.max(1, Math.floor(size / 70)),
            });
            feed(size);
          },
        };
      }
      case 'bash': {
        const command = r.pick([
          'npm test',
          'npx tsc --noEmit',
          'git status --short',
          'git diff --stat',
          'ls -la src',
          'npm run lint',
        ]);
        const block = { type: 'tool_use', id, name: 'Bash', input: { command, description: pool.words(r, 4) } };
        return {
          block,
          run: () => {
            const stdout = pool.raw(r, 'shell', size);
            this.toolResult(id, stdout, { stdout, stderr: '', interrupted: false, isImage: false });
            feed(size);
          },
        };
      }
      case 'edit':
        return this.editUse(id, a.edit, size);
      case 'task': {
        const prompt = `Investigate ${pool.words(r, 6)} and report the relevant files`;
        const description = pool.words(r, 3);
        const block = {
          type: 'tool_use',
          id,
          name: 'Task',
          input: { description, prompt, subagent_type: 'general-purpose' },
        };
        return {
          block,
          run: () => {
            const res = this.subagent(a.sub, prompt);
            const content = [{ type: 'text', text: res.text }];
            this.toolResult(id, content, {
              status: 'completed',
              prompt,
              agentId: res.agentId,
              content,
              totalDurationMs: res.durationMs,
              totalTokens: res.last.input + res.last.cacheRead + res.last.cacheWrite + res.last.output,
              totalToolUseCount: res.tools,
              // Not an assistant line: usage here must never be counted.
              usage: usageJson(res.last, false),
            });
            feed(res.text.length);
          },
        };
      }
    }
  }

  private editUse(id: string, e: ClaudeEdit, size: number): { block: Record<string, unknown>; run: () => void } {
    const r = this.r;
    const pool = this.pool;
    const small = (): string => pool.slice(r, 'code', r.int(30, 300));
    this.edited.push(e.abs);
    const snippet = (): unknown =>
      pool.raw(
        r,
        'numbered',
        Math.max(64, Math.floor(size / 4)),
        `The file ${e.abs} has been updated. Here's the result of running \`cat -n\` on a snippet of the edited file:\n`,
      );
    const patch = (): unknown[] => {
      const start = r.int(1, 300);
      return [
        {
          oldStart: start,
          oldLines: 3,
          newStart: start,
          newLines: 4,
          lines: [` ${small()}`, `-${small()}`, `+${small()}`, `+${small()}`, ` ${small()}`],
        },
      ];
    };
    switch (e.tool) {
      case 'Edit': {
        const oldString = small();
        const newString = small();
        return {
          block: {
            type: 'tool_use',
            id,
            name: 'Edit',
            input: { file_path: e.abs, old_string: oldString, new_string: newString },
          },
          run: () => {
            this.toolResult(id, snippet(), {
              filePath: e.abs,
              oldString,
              newString,
              originalFile: pool.raw(r, 'code', size),
              structuredPatch: patch(),
              userModified: false,
              replaceAll: false,
            });
            this.live.pending += Math.ceil(size / 14);
          },
        };
      }
      case 'MultiEdit': {
        const edits = [
          { old_string: small(), new_string: small(), replace_all: false },
          { old_string: small(), new_string: small(), replace_all: false },
        ];
        return {
          block: { type: 'tool_use', id, name: 'MultiEdit', input: { file_path: e.abs, edits } },
          run: () => {
            this.toolResult(id, snippet(), {
              filePath: e.abs,
              edits,
              originalFileContents: pool.raw(r, 'code', size),
              structuredPatch: patch(),
              userModified: false,
            });
            this.live.pending += Math.ceil(size / 14);
          },
        };
      }
      case 'Write': {
        const content = pool.raw(r, 'code', Math.max(64, Math.floor(size / 2)));
        return {
          block: { type: 'tool_use', id, name: 'Write', input: { file_path: e.abs, content } },
          run: () => {
            this.toolResult(id, `File created successfully at: ${e.abs}`, {
              type: 'create',
              filePath: e.abs,
              content,
              structuredPatch: [],
            });
            this.live.pending += 20;
          },
        };
      }
      case 'NotebookEdit': {
        const cellId = `cell-${r.int(0, 12)}`;
        const newSource = small();
        return {
          block: {
            type: 'tool_use',
            id,
            name: 'NotebookEdit',
            input: {
              notebook_path: e.abs,
              cell_id: cellId,
              new_source: newSource,
              cell_type: 'code',
              edit_mode: 'replace',
            },
          },
          run: () => {
            this.toolResult(id, `Updated cell ${cellId} with ${newSource}`, {
              new_source: newSource,
              cell_id: cellId,
              cell_type: 'code',
              language: 'python',
              edit_mode: 'replace',
              error: '',
            });
            this.live.pending += 40;
          },
        };
      }
    }
  }

  /** One assistant step: optional thinking/text, then one or more tool_use blocks, then their results. */
  step(model: string, actions: ClaudeAction[], opts: { noRequestId?: boolean } = {}): void {
    this.adv(1500, 25000);
    const blocks: Record<string, unknown>[] = [];
    if (this.r.chance(0.35) || opts.noRequestId === true) blocks.push(this.thinkingBlock());
    if (this.r.chance(0.5)) blocks.push(this.textBlock());
    const uses = actions.map((a) => this.toolUse(a));
    for (const u of uses) blocks.push(u.block);
    this.message(model, blocks, { noRequestId: opts.noRequestId, stop: 'tool_use' });
    for (const u of uses) u.run();
  }

  /** The closing text message of a turn. */
  final(model: string): void {
    this.adv(1500, 20000);
    const blocks: Record<string, unknown>[] = [];
    if (this.r.chance(0.3)) blocks.push(this.thinkingBlock());
    blocks.push(this.textBlock(this.r.int(15, 90)));
    this.message(model, blocks, { stop: 'end_turn' });
  }

  /** A model "<synthetic>" line: never billed (nonzero usage on purpose so that counting it shows). */
  synthetic(nonzero: boolean): void {
    this.adv(500, 4000);
    const t = this.live.t;
    const usage: Usage = nonzero
      ? { input: 0, output: this.r.int(5, 40), cacheRead: this.r.int(1000, 9000), cacheWrite: 0, cacheWrite1h: 0 }
      : { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0 };
    const message = {
      id: this.r.uuid4(),
      container: null,
      model: '<synthetic>',
      role: 'assistant',
      stop_reason: 'stop_sequence',
      stop_sequence: '',
      type: 'message',
      usage: usageJson(usage, false),
      content: [{ type: 'text', text: 'No response requested.' }],
    };
    this.em.line((uuid) => ({ type: 'assistant', uuid, timestamp: iso(t), message }));
  }

  /** An API error line (isApiErrorMessage): never billed, even though it names a real model and carries usage. */
  apiError(model: string): void {
    this.adv(500, 6000);
    const t = this.live.t;
    const usage: Usage = {
      input: this.r.int(1, 9),
      output: this.r.int(1, 30),
      cacheRead: this.live.ctx,
      cacheWrite: this.r.int(100, 900),
      cacheWrite1h: 0,
    };
    const message = {
      id: this.msgId(),
      container: null,
      model,
      role: 'assistant',
      stop_reason: 'stop_sequence',
      stop_sequence: '',
      type: 'message',
      usage: usageJson(usage, false),
      content: [
        {
          type: 'text',
          text: 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        },
      ],
    };
    const requestId = this.reqId();
    this.em.line((uuid) => ({
      type: 'assistant',
      uuid,
      timestamp: iso(t),
      message,
      requestId,
      isApiErrorMessage: true,
    }));
  }

  /** A hook / informational system line. */
  system(text: string): void {
    this.adv(100, 1500);
    const t = this.live.t;
    this.em.line((uuid) => ({
      type: 'system',
      subtype: 'informational',
      content: text,
      isMeta: false,
      timestamp: iso(t),
      uuid,
      level: 'info',
    }));
  }

  summary(text: string, leafUuid: string): void {
    this.em.raw({ type: 'summary', summary: text, leafUuid });
  }

  private subagent(
    spec: SubagentSpec,
    prompt: string,
  ): { agentId: string; text: string; last: Usage; tools: number; durationMs: number } {
    const agentId = this.r.hex(8);
    const started = this.live.t;
    const subLive: ClaudeLive = {
      ...this.live,
      model: spec.model,
      lastUuid: null,
      ctx: this.r.chance(0.5) ? this.r.int(8000, 14000) : 0,
      pending: this.r.int(3000, 7000),
    };
    const dir = path.join(path.dirname(this.file), this.live.sessionId, 'subagents');
    const sub = new ClaudeWriter({
      rng: this.r.fork(`agent-${agentId}`),
      pool: this.pool,
      toolResultBytes: this.trb,
      live: subLive,
      isSidechain: true,
      agentId,
      deadline: this.deadline,
      file: path.join(dir, `agent-${agentId}.jsonl`),
    });
    // The subagent's first line is its prompt (parentUuid null), written right after the Task tool_use.
    subLive.t = this.live.t;
    const t0 = Math.max(subLive.t + 1, Math.min(subLive.t + 300, this.deadline));
    subLive.t = t0;
    sub.em.line((uuid) => ({ type: 'user', message: { role: 'user', content: prompt }, uuid, timestamp: iso(t0) }));
    let tools = 0;
    for (let i = 0; i < spec.steps; i++) {
      const abs = spec.reads.length > 0 ? this.r.pick(spec.reads) : path.join(this.live.cwd, 'README.md');
      const a: ClaudeAction = this.r.chance(0.6) ? { kind: 'read', abs } : { kind: 'grep', abs };
      sub.step(spec.model, [a]);
      tools++;
    }
    if (spec.edit) {
      sub.step(spec.model, [{ kind: 'edit', edit: spec.edit }]);
      tools++;
    }
    // Final message: a single text block, so that the dual copy is exactly the same line content.
    sub.adv(1500, 15000);
    const usage = sub.nextUsage(false);
    const m: AssistantMsg = {
      id: sub.msgId(),
      requestId: sub.reqId(),
      model: spec.model,
      blocks: [sub.textBlock(this.r.int(20, 80))],
      usage,
      partial: 0,
      partialOutput: 1,
      stop: 'end_turn',
    };
    const tFinal = sub.emitAssistant(m);
    const ti = sub.record(m, tFinal, true);
    if (spec.dual) {
      // The same message (same id, requestId, usage, timestamp) also lands in the parent file, not as a sidechain:
      // counted once, and the non-sidechain copy is the one to keep.
      this.emitAssistant(m, this.em, tFinal);
      ti.sidechain = false;
    }
    this.live.t = Math.max(this.live.t, sub.live.t);
    this.out.push(...sub.out);
    this.edited.push(...sub.edited);
    this.subagents.push({ file: path.join(dir, `agent-${agentId}.jsonl`), lines: sub.lines }, ...sub.subagents);
    const text = String((m.blocks[0] as { text?: unknown }).text ?? '');
    return { agentId, text, last: usage, tools, durationMs: this.live.t - started };
  }

  /** A complete single-block final message built from the current state (used for half-written tails). */
  finalLine(model: string): { line: string; truth: TruthInteraction } {
    this.adv(1500, 20000);
    const before = this.em.lines.length;
    this.message(model, [this.textBlock(this.r.int(15, 90))], { stop: 'end_turn' });
    const line = this.em.lines[before] ?? '';
    const truth = this.out[this.out.length - 1];
    if (this.em.lines.length !== before + 1 || truth === undefined)
      throw new Error('finalLine: expected exactly one line');
    return { line, truth };
  }

  /** One user turn: the prompt, tool steps, a closing message, and optional traps. */
  turn(spec: ClaudeTurnSpec): void {
    this.prompt(spec.prompt, spec.at);
    let first = true;
    for (const group of spec.steps) {
      this.step(spec.model, group, { noRequestId: first && spec.noRequestId === true });
      if (group.some((a) => a.kind === 'edit') && this.r.chance(0.2)) {
        this.system(`PostToolUse:Edit [npx prettier --write] completed successfully`);
      }
      first = false;
    }
    if (spec.apiError === true) this.apiError(spec.model);
    if (first && spec.noRequestId === true) {
      // No tool step to carry the trap: make the closing message multi-block without a requestId.
      this.adv(1500, 20000);
      this.message(spec.model, [this.thinkingBlock(), this.textBlock()], { noRequestId: true, stop: 'end_turn' });
    } else {
      this.final(spec.model);
    }
    if (spec.synthetic !== undefined) {
      this.prompt('[Request interrupted by user]');
      this.synthetic(spec.synthetic === 'nonzero');
    }
  }
}

export interface ClaudeTurnSpec {
  prompt: string;
  /** Exact time of the prompt line (default: 20-180 s after the last line). */
  at?: number;
  model: string;
  /** Each inner array is one assistant message; several actions = parallel tool calls. */
  steps: ClaudeAction[][];
  noRequestId?: boolean;
  synthetic?: 'zero' | 'nonzero';
  apiError?: boolean;
}
