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
 * Anthropic usage: input_tokens excludes cache tokens and the four counts add up; thinking is inside output.
 * Returns undefined when a field has the wrong type (the caller reports the line as rejected).
 */
export function fromAnthropicUsage(usage: Record<string, unknown>): (Tokens & { cacheWrite1h: number }) | undefined {
  const input = optionalCount(usage.input_tokens);
  const output = optionalCount(usage.output_tokens);
  const cacheWrite = optionalCount(usage.cache_creation_input_tokens);
  const cacheRead = optionalCount(usage.cache_read_input_tokens);
  if (input === undefined || output === undefined || cacheWrite === undefined || cacheRead === undefined)
    return undefined;
  let cacheWrite1h = 0;
  const creation = usage.cache_creation;
  if (creation && typeof creation === 'object') {
    const oneHour = optionalCount((creation as Record<string, unknown>).ephemeral_1h_input_tokens);
    if (oneHour === undefined) return undefined;
    cacheWrite1h = Math.min(oneHour, cacheWrite);
  }
  return { input, output, cacheRead, cacheWrite, reasoning: 0, cacheWrite1h };
}

/** OpenAI usage counters as Codex writes them. */
export interface OpenAiUsage {
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_output_tokens: number;
  total_tokens: number;
}

export function readOpenAiUsage(v: unknown): OpenAiUsage | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const input = optionalCount(o.input_tokens);
  const cached = optionalCount(o.cached_input_tokens);
  const output = optionalCount(o.output_tokens);
  const reasoning = optionalCount(o.reasoning_output_tokens);
  const total = optionalCount(o.total_tokens);
  if (
    input === undefined ||
    cached === undefined ||
    output === undefined ||
    reasoning === undefined ||
    total === undefined
  ) {
    return undefined;
  }
  return {
    input_tokens: input,
    cached_input_tokens: cached,
    output_tokens: output,
    reasoning_output_tokens: reasoning,
    total_tokens: total === 0 ? input + output : total,
  };
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
  const input = optionalCount(t.input);
  const output = optionalCount(t.output);
  const cached = optionalCount(t.cached);
  const thoughts = optionalCount(t.thoughts);
  const tool = optionalCount(t.tool);
  if (
    input === undefined ||
    output === undefined ||
    cached === undefined ||
    thoughts === undefined ||
    tool === undefined
  )
    return undefined;
  const cacheRead = Math.min(cached, input);
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
  const i = optionalCount(input);
  const o = optionalCount(output);
  const r = optionalCount(cacheRead);
  const w = optionalCount(cacheWrite);
  const th = optionalCount(reasoning);
  if (i === undefined || o === undefined || r === undefined || w === undefined || th === undefined) return undefined;
  return { input: Math.max(0, i - r - w), output: o, cacheRead: r, cacheWrite: w, reasoning: Math.min(th, o) };
}
