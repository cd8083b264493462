/**
 * Codex CLI rollout writer for the demo world: `{timestamp, type, payload}` lines as Codex writes them
 * (session_meta, turn_context, response_item, event_msg, compacted), and the truth of every counted token_count.
 */
import type { TruthInteraction } from './truth';
import { type Rng, type TextPool, around, iso, stringify } from './rng';

export const CODEX_MODELS = ['gpt-5-codex', 'gpt-5.1-codex', 'gpt-5'] as const;
/** The importer's documented default when a rollout has no turn_context. */
export const CODEX_DEFAULT_MODEL = 'gpt-5';
export const CODEX_VERSIONS = ['0.46.0', '0.53.0', '0.58.0', '0.63.0'] as const;
const CONTEXT_WINDOW = 272000;

export interface OaUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

export function zeroOa(): OaUsage {
  return { input_tokens: 0, cached_input_tokens: 0, output_tokens: 0, reasoning_output_tokens: 0, total_tokens: 0 };
}

function addOa(a: OaUsage, b: OaUsage): OaUsage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    cached_input_tokens: a.cached_input_tokens + b.cached_input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    reasoning_output_tokens: a.reasoning_output_tokens + b.reasoning_output_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
  };
}

function sameOa(a: OaUsage, b: OaUsage): boolean {
  return (
    a.input_tokens === b.input_tokens &&
    a.cached_input_tokens === b.cached_input_tokens &&
    a.output_tokens === b.output_tokens &&
    a.reasoning_output_tokens === b.reasoning_output_tokens &&
    a.total_tokens === b.total_tokens
  );
}

/** Everything needed to continue a rollout file. */
export interface CodexLive {
  sessionId: string;
  cwd: string;
  /** Model from the last turn_context; null while none was written (the importer must assume the default). */
  model: string | null;
  turnContext: boolean;
  effort: string;
  total: OaUsage;
  t: number;
  ctx: number;
  pending: number;
  primaryUsed: number;
}

export interface CodexPatchFile {
  /** Path relative to the session's cwd, as Codex writes it. */
  rel: string;
  add: boolean;
}

export type CodexCall = { kind: 'shell' } | { kind: 'patch'; via: 'custom' | 'shell'; files: CodexPatchFile[] };

export interface CodexTurnSpec {
  prompt: string;
  /** Exact time of the turn's first line (default: 20-180 s after the last line). */
  at?: number;
  calls: CodexCall[];
  /** Model for this turn's turn_context (ignored for sessions without turn_context). */
  model?: string;
  /** Emit a token_count with `info: null` at the start of the turn. */
  nullInfo?: boolean;
  /** Chance that a token_count is re-emitted with an unchanged total. */
  reemit: number;
  forceReemit?: boolean;
  /** Compaction before this turn: the next total_token_usage drops. */
  reset?: boolean;
}

export interface CodexWriterInit {
  rng: Rng;
  pool: TextPool;
  toolResultBytes: number;
  live: CodexLive;
  deadline?: number;
}

export class CodexWriter {
  readonly lines: string[] = [];
  readonly out: TruthInteraction[] = [];
  readonly editedRel: string[] = [];
  readonly live: CodexLive;
  private readonly r: Rng;
  private readonly pool: TextPool;
  private readonly trb: number;
  private readonly deadline: number;
  private resetPending = false;
  private reemitForced = false;

  constructor(init: CodexWriterInit) {
    this.r = init.rng;
    this.pool = init.pool;
    this.trb = init.toolResultBytes;
    this.live = init.live;
    this.deadline = init.deadline ?? Number.POSITIVE_INFINITY;
  }

  private adv(minMs: number, maxMs: number): number {
    const d = this.r.int(minMs, maxMs);
    const t = this.live.t;
    this.live.t = Math.max(t + 1, Math.min(t + d, this.deadline));
    return this.live.t;
  }

  private push(type: string, payload: unknown): void {
    this.lines.push(stringify({ timestamp: iso(this.live.t), type, payload }));
  }

  meta(cliVersion: string, git: { commit_hash: string; branch: string; repository_url: string } | null): void {
    const payload: Record<string, unknown> = {
      id: this.live.sessionId,
      timestamp: iso(this.live.t),
      cwd: this.live.cwd,
      originator: 'codex_cli_rs',
      cli_version: cliVersion,
      instructions: null,
      source: 'cli',
      model_provider: 'openai',
    };
    if (git) payload.git = git;
    this.push('session_meta', payload);
    this.adv(5, 80);
    this.push('response_item', {
      type: 'message',
      role: 'user',
      content: [
        {
          type: 'input_text',
          text: `<environment_context>\n  <cwd>${this.live.cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n</environment_context>`,
        },
      ],
    });
  }

  private rateLimits(): Record<string, unknown> {
    this.live.primaryUsed = Math.min(100, this.live.primaryUsed + this.r.int(0, 2));
    return {
      primary: { used_percent: this.live.primaryUsed, window_minutes: 299, resets_in_seconds: this.r.int(60, 17000) },
      secondary: {
        used_percent: Math.floor(this.live.primaryUsed / 3),
        window_minutes: 10079,
        resets_in_seconds: this.r.int(20000, 600000),
      },
    };
  }

  /** The usage of one model request; returns the last/total pair to write. */
  private nextUsage(): { last: OaUsage; total: OaUsage } {
    const r = this.r;
    const input = this.live.ctx + this.live.pending + r.int(0, 200);
    const cached = r.chance(0.08)
      ? 0
      : Math.min(input, Math.floor((this.live.ctx * (0.85 + 0.15 * r.next())) / 64) * 64);
    const output = r.int(40, 1400);
    const reasoning = r.chance(0.2) ? 0 : Math.floor(output * (0.2 + 0.6 * r.next()));
    const last: OaUsage = {
      input_tokens: input,
      cached_input_tokens: cached,
      output_tokens: output,
      reasoning_output_tokens: reasoning,
      total_tokens: input + output,
    };
    this.live.ctx = input + output;
    this.live.pending = 0;
    let total = addOa(this.live.total, last);
    if (this.resetPending) {
      this.resetPending = false;
      // After compaction/resume the running total restarts from a small carried-over amount: it DROPS.
      const old = this.live.total;
      const carryIn = Math.floor(old.input_tokens * 0.02);
      const carry: OaUsage = {
        input_tokens: carryIn,
        cached_input_tokens: Math.min(carryIn, Math.floor(old.cached_input_tokens * 0.02)),
        output_tokens: 0,
        reasoning_output_tokens: 0,
        total_tokens: carryIn,
      };
      total = addOa(carry, last);
      if (total.total_tokens >= old.total_tokens) total = { ...last };
    }
    return { last, total };
  }

  private tokenCount(last: OaUsage, total: OaUsage, reemit: number): void {
    const prev = this.live.total;
    this.adv(50, 900);
    this.push('event_msg', {
      type: 'token_count',
      info: { total_token_usage: total, last_token_usage: last, model_context_window: CONTEXT_WINDOW },
      rate_limits: this.rateLimits(),
    });
    let d: OaUsage | null;
    if (total.total_tokens < prev.total_tokens) d = last;
    else if (sameOa(total, prev)) d = null;
    else {
      d = {
        input_tokens: total.input_tokens - prev.input_tokens,
        cached_input_tokens: total.cached_input_tokens - prev.cached_input_tokens,
        output_tokens: total.output_tokens - prev.output_tokens,
        reasoning_output_tokens: total.reasoning_output_tokens - prev.reasoning_output_tokens,
        total_tokens: total.total_tokens - prev.total_tokens,
      };
    }
    this.live.total = total;
    if (d) this.record(d);
    if (this.reemitForced || this.r.chance(reemit)) {
      this.reemitForced = false;
      // Re-emitted with an unchanged total: must not be counted again.
      this.adv(5, 400);
      this.push('event_msg', {
        type: 'token_count',
        info: { total_token_usage: total, last_token_usage: last, model_context_window: CONTEXT_WINDOW },
        rate_limits: this.rateLimits(),
      });
    }
  }

  private record(d: OaUsage): void {
    const cached = Math.min(d.cached_input_tokens, d.input_tokens);
    const ti: TruthInteraction = {
      source: 'codex',
      sessionId: this.live.sessionId,
      model: this.live.model ?? CODEX_DEFAULT_MODEL,
      timestamp: this.live.t,
      input: d.input_tokens - cached,
      output: d.output_tokens,
      cacheRead: cached,
      cacheWrite: 0,
      cacheWrite1h: 0,
      reasoning: Math.min(d.reasoning_output_tokens, d.output_tokens),
      sidechain: false,
    };
    if (this.live.model === null) ti.modelAssumed = true;
    this.out.push(ti);
  }

  private reasoning(): void {
    this.adv(1500, 20000);
    const title = `**${this.pool.words(this.r, this.r.int(2, 5))}**`;
    this.push('response_item', {
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: `${title}\n\n${this.pool.words(this.r, this.r.int(10, 40))}` }],
      content: null,
      encrypted_content: `gAAAAABp${this.pool.slice(this.r, 'b64', this.r.int(600, 4000))}`,
    });
    this.adv(1, 30);
    this.push('event_msg', { type: 'agent_reasoning', text: title });
  }

  private callId(): string {
    return `call_${this.r.base62(24)}`;
  }

  private patch(files: CodexPatchFile[]): string {
    const code = (): string => this.pool.slice(this.r, 'code', this.r.int(20, 120)).replace(/\n/g, ' ');
    let s = '*** Begin Patch\n';
    for (const f of files) {
      if (f.add) {
        s += `*** Add File: ${f.rel}\n`;
        const n = this.r.int(3, 12);
        for (let i = 0; i < n; i++) s += `+${code()}\n`;
      } else {
        s += `*** Update File: ${f.rel}\n@@ ${code()}\n-${code()}\n+${code()}\n+${code()}\n`;
      }
      this.editedRel.push(f.rel);
    }
    return `${s}*** End Patch`;
  }

  private call(c: CodexCall, reemit: number): void {
    const r = this.r;
    this.reasoning();
    const id = this.callId();
    const { last, total } = this.nextUsage();
    this.adv(200, 4000);
    let output: unknown;
    let outputType: 'function_call_output' | 'custom_tool_call_output';
    if (c.kind === 'shell') {
      const cmd = r.pick([
        'rg -n "TODO" src',
        'npm test -- --run',
        "sed -n '1,200p' src/index.ts",
        'git status --short',
        'ls -la src',
        'npx tsc --noEmit',
      ]);
      this.push('response_item', {
        type: 'function_call',
        name: 'shell',
        arguments: JSON.stringify({ command: ['bash', '-lc', cmd], workdir: this.live.cwd, timeout_ms: 120000 }),
        call_id: id,
      });
      const size = around(r, this.trb);
      // output is a JSON document in a string: {"output":"...","metadata":{...}} (pre-escaped twice).
      const metadata = JSON.stringify({ exit_code: r.chance(0.9) ? 0 : 1, duration_seconds: r.int(1, 3000) / 100 });
      output = this.pool.rawNested(r, size, '{"output":"', `","metadata":${metadata}}`);
      outputType = 'function_call_output';
      this.live.pending += Math.ceil(size / 3.6);
    } else {
      const patch = this.patch(c.files);
      const summary = `Success. Updated the following files:\n${c.files.map((f) => `${f.add ? 'A' : 'M'} ${f.rel}`).join('\n')}\n`;
      output = JSON.stringify({ output: summary, metadata: { exit_code: 0, duration_seconds: 0 } });
      if (c.via === 'custom') {
        this.push('response_item', {
          type: 'custom_tool_call',
          status: 'completed',
          call_id: id,
          name: 'apply_patch',
          input: patch,
        });
        outputType = 'custom_tool_call_output';
      } else {
        this.push('response_item', {
          type: 'function_call',
          name: 'shell',
          arguments: JSON.stringify({ command: ['apply_patch', patch], workdir: this.live.cwd }),
          call_id: id,
        });
        outputType = 'function_call_output';
      }
      this.live.pending += Math.ceil(patch.length / 4) + 30;
    }
    this.tokenCount(last, total, reemit);
    this.adv(100, 8000);
    this.push('response_item', { type: outputType, call_id: id, output });
  }

  private finalAnswer(reemit: number): void {
    if (this.r.chance(0.7)) this.reasoning();
    const { last, total } = this.nextUsage();
    this.adv(1000, 15000);
    const text = this.pool.words(this.r, this.r.int(15, 90));
    this.push('response_item', { type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] });
    this.adv(1, 30);
    this.push('event_msg', { type: 'agent_message', message: text });
    this.tokenCount(last, total, reemit);
  }

  turn(spec: CodexTurnSpec): void {
    if (spec.at !== undefined) this.live.t = Math.max(this.live.t + 1, spec.at);
    else this.adv(20000, 180000);
    if (spec.reset === true) {
      this.push('compacted', { message: this.pool.words(this.r, 40) });
      this.live.ctx = this.r.int(6000, 15000);
      this.live.pending = 0;
      this.resetPending = true;
      this.adv(100, 2000);
    }
    if (this.live.turnContext) {
      if (spec.model !== undefined) this.live.model = spec.model;
      this.push('turn_context', {
        cwd: this.live.cwd,
        approval_policy: 'on-request',
        sandbox_policy: {
          mode: 'workspace-write',
          network_access: false,
          exclude_tmpdir_env_var: false,
          exclude_slash_tmp: false,
        },
        model: this.live.model ?? CODEX_DEFAULT_MODEL,
        effort: this.live.effort,
        summary: 'auto',
      });
      if (this.live.model === null) this.live.model = CODEX_DEFAULT_MODEL;
      this.adv(5, 200);
    }
    this.push('response_item', { type: 'message', role: 'user', content: [{ type: 'input_text', text: spec.prompt }] });
    this.adv(1, 30);
    this.push('event_msg', { type: 'user_message', message: spec.prompt, kind: 'plain' });
    this.live.pending += Math.ceil(spec.prompt.length / 4);
    if (spec.nullInfo === true) {
      this.adv(50, 600);
      this.push('event_msg', { type: 'token_count', info: null, rate_limits: this.rateLimits() });
    }
    if (spec.forceReemit === true) this.reemitForced = true;
    for (const c of spec.calls) this.call(c, spec.reemit);
    this.finalAnswer(spec.reemit);
  }

  /** A complete token_count line for one more model request (used for half-written tails). */
  pendingTokenCount(): { line: string; truth: TruthInteraction } {
    const { last, total } = this.nextUsage();
    const before = this.lines.length;
    this.tokenCount(last, total, 0);
    const line = this.lines[before];
    const truth = this.out[this.out.length - 1];
    if (line === undefined || truth === undefined || this.lines.length !== before + 1)
      throw new Error('pendingTokenCount: expected one line');
    return { line, truth };
  }
}

/** `sessions/YYYY/MM/DD/rollout-YYYY-MM-DDTHH-MM-SS-<uuid>.jsonl` (UTC here, for determinism). */
export function rolloutRelPath(start: number, id: string): string[] {
  const s = iso(start);
  const [y, m, d] = [s.slice(0, 4), s.slice(5, 7), s.slice(8, 10)];
  const stamp = `${s.slice(0, 10)}T${s.slice(11, 13)}-${s.slice(14, 16)}-${s.slice(17, 19)}`;
  return [y, m, d, `rollout-${stamp}-${id}.jsonl`];
}
