/**
 * Canonical token semantics (docs/measurement.md): every source is normalised to these fields.
 * input = non-cached input, cacheRead = cached input read, cacheWrite = cache-creation input,
 * output = output including reasoning, reasoning = subset of output (informational),
 * total = input + cacheRead + cacheWrite + output.
 */
export interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}

export const TOKEN_FIELDS = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning'] as const;

/** The token figures every report row carries, in the order reports list them: the five counts, then their total. */
export const TOKEN_FIGURES = [...TOKEN_FIELDS, 'total'] as const;

/** Each token figure in words, as messages name it ("the cache-read tokens in the totals"). */
export const TOKEN_WORDS: Record<(typeof TOKEN_FIGURES)[number], string> = {
  input: 'input tokens',
  output: 'output tokens',
  cacheRead: 'cache-read tokens',
  cacheWrite: 'cache-write tokens',
  reasoning: 'reasoning tokens',
  total: 'total tokens',
};

export function totalOf(t: Tokens): number {
  return t.input + t.cacheRead + t.cacheWrite + t.output;
}

/** A token count from a log file: a finite, non-negative integer. Anything else is not a count. */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
}

/** Optional count: absent or null reads as 0; anything present must be a count. */
export function optionalCount(v: unknown): number | undefined {
  if (v === undefined || v === null) return 0;
  return isCount(v) ? v : undefined;
}

/**
 * The named fields of a usage object as counts (each an `optionalCount`: absent or null reads as 0), or undefined
 * when one of them is not a count: the check every reader of a log's usage object starts with.
 */
export function countsOf<K extends string>(
  o: Record<string, unknown>,
  fields: readonly K[],
): Record<K, number> | undefined {
  const counts = {} as Record<K, number>;
  for (const f of fields) {
    const v = optionalCount(o[f]);
    if (v === undefined) return undefined;
    counts[f] = v;
  }
  return counts;
}

/**
 * Why a usage object that has none of the fields its format names is rejected (never read as zeros): `what` in an
 * unknown shape, with its first keys. Undefined when one of the fields is there.
 */
export function unknownUsageShape(
  u: Record<string, unknown>,
  fields: readonly string[],
  what: string,
): string | undefined {
  if (fields.some((f) => u[f] !== undefined && u[f] !== null)) return undefined;
  return `${what} in an unknown shape (keys: ${Object.keys(u).slice(0, 6).join(', ') || 'none'})`;
}

/**
 * A usage object's counts (`countsOf`), or why it is rejected: `what` in an unknown shape when it has none of the
 * fields its format knows (`known`, by default the counted ones), or counts that are not counts.
 */
export function usageCounts<K extends string>(
  u: Record<string, unknown>,
  what: string,
  counted: readonly K[],
  known: readonly string[] = counted,
): Record<K, number> | { bad: string } {
  const unknown = unknownUsageShape(u, known, what);
  if (unknown) return { bad: unknown };
  return countsOf(u, counted) ?? { bad: `${what} counts are not non-negative integers` };
}

const ANTHROPIC_FIELDS = [
  'input_tokens',
  'output_tokens',
  'cache_creation_input_tokens',
  'cache_read_input_tokens',
] as const;

/**
 * Anthropic usage: input_tokens excludes cache tokens and the four counts add up; thinking is inside output.
 * Returns undefined when a field has the wrong type (the caller reports the line as rejected).
 */
export function fromAnthropicUsage(usage: Record<string, unknown>): (Tokens & { cacheWrite1h: number }) | undefined {
  const c = countsOf(usage, ANTHROPIC_FIELDS);
  if (!c) return undefined;
  let cacheWrite1h = 0;
  const creation = usage.cache_creation;
  if (creation && typeof creation === 'object') {
    const oneHour = optionalCount((creation as Record<string, unknown>).ephemeral_1h_input_tokens);
    if (oneHour === undefined) return undefined;
    cacheWrite1h = Math.min(oneHour, c.cache_creation_input_tokens);
  }
  return {
    input: c.input_tokens,
    output: c.output_tokens,
    cacheRead: c.cache_read_input_tokens,
    cacheWrite: c.cache_creation_input_tokens,
    reasoning: 0,
    cacheWrite1h,
  };
}

/** OpenAI usage counters as Codex writes them. */
export interface OpenAiUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

/** The counters of `OpenAiUsage`, in the order Codex writes them. */
export const OPENAI_USAGE_FIELDS = [
  'input_tokens',
  'cached_input_tokens',
  'output_tokens',
  'reasoning_output_tokens',
  'total_tokens',
] as const satisfies ReadonlyArray<keyof OpenAiUsage>;

/** Codex's usage counters, or undefined when one is not a count; a total of 0 (not written) is input + output. */
export function readOpenAiUsage(v: unknown): OpenAiUsage | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const u = countsOf(v as Record<string, unknown>, OPENAI_USAGE_FIELDS);
  if (u && u.total_tokens === 0) u.total_tokens = u.input_tokens + u.output_tokens;
  return u;
}

/** Whether two usage counters say the same (a repeated report of the same request). */
export function sameOpenAiUsage(a: OpenAiUsage, b: OpenAiUsage): boolean {
  return OPENAI_USAGE_FIELDS.every((f) => a[f] === b[f]);
}

/**
 * OpenAI semantics: cached_input_tokens is part of input_tokens, reasoning is part of output.
 * Canonical: input = input - cached, cacheRead = cached, cacheWrite = 0.
 */
export function fromOpenAiUsage(u: OpenAiUsage): Tokens {
  const cached = Math.min(u.cached_input_tokens, u.input_tokens);
  return {
    input: u.input_tokens - cached,
    cacheRead: cached,
    cacheWrite: 0,
    output: u.output_tokens,
    reasoning: Math.min(u.reasoning_output_tokens, u.output_tokens),
  };
}

/**
 * Gemini CLI keeps `tokens{input, output, cached, thoughts, tool, total}` per reply: `input` includes `cached`,
 * `thoughts` is separate from `output`. Canonical: input = input − cached + tool, cacheRead = cached,
 * output = output + thoughts, reasoning = thoughts (docs/sources.md). Undefined when a count is not a count.
 */
export function fromGeminiTokens(t: Record<string, unknown>): Tokens | undefined {
  const c = countsOf(t, ['input', 'output', 'cached', 'thoughts', 'tool']);
  if (!c) return undefined;
  const { input, output, thoughts, tool } = c;
  const cacheRead = Math.min(c.cached, input);
  return { input: input - cacheRead + tool, cacheRead, cacheWrite: 0, output: output + thoughts, reasoning: thoughts };
}

/** Copilot's counts (CLI and gen_ai spans): input includes the cached input (read and written); canonical input excludes both. */
export function fromCopilotTokens(
  input: unknown,
  output: unknown,
  cacheRead: unknown,
  cacheWrite: unknown,
  reasoning: unknown,
): Tokens | undefined {
  const c = countsOf({ input, output, cacheRead, cacheWrite, reasoning }, TOKEN_FIELDS);
  if (!c) return undefined;
  return {
    input: Math.max(0, c.input - c.cacheRead - c.cacheWrite),
    output: c.output,
    cacheRead: c.cacheRead,
    cacheWrite: c.cacheWrite,
    reasoning: Math.min(c.reasoning, c.output),
  };
}
