/**
 * Self-check signals (docs/privacy.md): the engineer's own view of waste, never exported by default. Each signal says
 * what it measured and how much, with a few example sessions to look at. Pure.
 */
import type { SessionStatus } from '../usage/model';

export interface SelfCheckSession {
  ref: number;
  /** Its `source:key` (else `idOf` in selfCheck names it, when it is an example). */
  id?: string;
  tokens: number;
  /** input + cacheRead + cacheWrite in the period. */
  sent: number;
  output: number;
  interactions: number;
  editedFiles: number;
  /** Whole-session span (epoch ms). */
  start: number;
  end: number;
  status: SessionStatus;
}

export interface Signal {
  sessions: number;
  tokens: number;
  /** What triggers the signal, in words. */
  rule: string;
  examples: string[];
}

export interface SelfCheck {
  /** Marks the object as the engineer's private view (summaries and rollups leave it out). */
  private: true;
  repeatedPrompts: { prompts: number; repeats: number; sessions: number; rule: string };
  contextPadding: Signal;
  loopsWithoutEdits: Signal;
  longWithoutOutcome: Signal;
}

const SELF_CHECK_RULES = {
  repeatMin: 3,
  paddingRatio: 200,
  paddingMinSent: 200_000,
  loopMinCalls: 25,
  longMs: 2 * 3_600_000,
} as const;

function signal(list: SelfCheckSession[], rule: string, idOf: (ref: number) => string): Signal {
  const sorted = [...list].sort((a, b) => b.tokens - a.tokens);
  return {
    sessions: list.length,
    tokens: list.reduce((n, s) => n + s.tokens, 0),
    rule,
    examples: sorted.slice(0, 3).map((s) => s.id ?? idOf(s.ref)),
  };
}

/** How many times a prompt must be sent, word for word (by hash), to count as repeated. */
export const REPEATED_PROMPT_MIN = SELF_CHECK_RULES.repeatMin;

/** What the repeated-prompt signal counts: prompts sent `REPEATED_PROMPT_MIN`+ times, their repeats, their sessions. */
export interface RepeatedPrompts {
  /** Distinct prompts (hashes) sent REPEATED_PROMPT_MIN or more times. */
  prompts: number;
  /** Of those, every sending after the first. */
  repeats: number;
  /** Sessions that sent any of them. */
  sessions: number;
}

/** The repeated-prompt counts from the hashes typed in the period, per session. */
export function repeatedPromptsOf(prompts: ReadonlyMap<number, readonly number[]>): RepeatedPrompts {
  const refs: number[] = [];
  const hashes: number[] = [];
  for (const [ref, list] of prompts) {
    for (const h of list) {
      refs.push(ref);
      hashes.push(h);
    }
  }
  return repeatedPromptsIn(refs, hashes);
}

/**
 * The repeated-prompt counts from the prompts typed in the period as two parallel lists (the session and the hash of
 * each prompt), so a reader of many prompts keeps two arrays of numbers rather than an object per prompt. The hashes
 * are counted by sorting a copy (a year of heavy use: 72,000 prompts; a Map of counts keyed by 53-bit numbers cost
 * several times more), and only the sessions of repeated ones are looked for.
 */
export function repeatedPromptsIn(refs: ArrayLike<number>, hashes: ArrayLike<number>): RepeatedPrompts {
  const sorted = Float64Array.from(hashes).sort();
  let repeated = 0;
  let repeats = 0;
  const often = new Set<number>();
  for (let i = 0; i < sorted.length; ) {
    const h = sorted[i] as number;
    let j = i + 1;
    while (j < sorted.length && sorted[j] === h) j++;
    if (j - i >= REPEATED_PROMPT_MIN) {
      repeated++;
      repeats += j - i - 1;
      often.add(h);
    }
    i = j;
  }
  const sessions = new Set<number>();
  if (repeated > 0)
    for (let i = 0; i < hashes.length; i++) if (often.has(hashes[i] as number)) sessions.add(refs[i] as number);
  return { prompts: repeated, repeats, sessions: sessions.size };
}

/**
 * `prompts`: hashes of the prompts typed in the period, per session, or what `repeatedPromptsOf` makes of them. A
 * prompt repeated word for word `repeatMin` times or more (across sessions) is a retry loop worth a look.
 */
export function selfCheck(
  sessions: readonly SelfCheckSession[],
  prompts: ReadonlyMap<number, readonly number[]> | RepeatedPrompts,
  idOf: (ref: number) => string = String,
): SelfCheck {
  const r = SELF_CHECK_RULES;
  const repeated = prompts instanceof Map ? repeatedPromptsOf(prompts) : (prompts as RepeatedPrompts);
  const noEdits = sessions.filter((s) => s.editedFiles === 0);
  return {
    private: true,
    repeatedPrompts: {
      prompts: repeated.prompts,
      repeats: repeated.repeats,
      sessions: repeated.sessions,
      rule: `the same prompt (by hash) sent ${r.repeatMin} or more times`,
    },
    contextPadding: signal(
      noEdits.filter((s) => s.sent >= r.paddingMinSent && s.sent >= r.paddingRatio * Math.max(1, s.output)),
      `no edits and ${r.paddingRatio}+ input tokens per output token (at least ${r.paddingMinSent / 1000}k sent)`,
      idOf,
    ),
    loopsWithoutEdits: signal(
      noEdits.filter((s) => s.interactions >= r.loopMinCalls),
      `${r.loopMinCalls}+ model calls without a single edit`,
      idOf,
    ),
    longWithoutOutcome: signal(
      sessions.filter((s) => s.end - s.start >= r.longMs && s.status !== 'shipped' && s.status !== 'open'),
      `active for ${r.longMs / 3_600_000}+ hours and nothing shipped`,
      idOf,
    ),
  };
}
