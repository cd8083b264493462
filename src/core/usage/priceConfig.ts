import { planOf, PlanError, type Plan } from './plans';
import type { PriceConfig } from './pricing';
import type { ModelPrice, PriceSet } from './priceTypes';

/**
 * The engineer's `prices.json` in the ledger home (docs/measurement.md):
 *
 *     { "aliases": { "arn:aws:bedrock:…:application-inference-profile/abc": "claude-sonnet-4-5" },
 *       "overrides": { "my-model": { "input": 1, "output": 2, "cacheRead": 0.1 } },
 *       "plan": "claude-max-5x" }            // or { "name": "custom", "monthlyUsd": 60 }
 *
 * Parsed leniently: a bad entry is left out with a one-line reason, the others still apply.
 */
export interface PriceFile {
  config: PriceConfig;
  plan: Plan | null;
  problems: string[];
}

const MAX_PRICE = 10_000;
const FIELDS = ['input', 'output', 'cacheWrite', 'cacheWrite1h', 'cacheRead'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function priceSet(v: unknown, where: string, problems: string[]): PriceSet | null {
  if (!isRecord(v)) {
    problems.push(`${where}: needs an object such as {"input": 3, "output": 15}`);
    return null;
  }
  const out: Partial<Record<(typeof FIELDS)[number], number>> = {};
  for (const f of FIELDS) {
    const x = v[f];
    if (x === undefined) continue;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > MAX_PRICE) {
      problems.push(`${where}.${f}: needs USD per million tokens from 0 to ${MAX_PRICE}, got ${JSON.stringify(x)}`);
      return null;
    }
    out[f] = x;
  }
  const unknown = Object.keys(v).filter((k) => !(FIELDS as readonly string[]).includes(k) && k !== 'tiers');
  if (unknown.length > 0)
    problems.push(`${where}: ignored unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  if (out.input === undefined || out.output === undefined) {
    problems.push(`${where}: needs at least "input" and "output"`);
    return null;
  }
  return { ...out, input: out.input, output: out.output };
}

function modelPrice(v: unknown, where: string, problems: string[]): ModelPrice | null {
  const base = priceSet(v, where, problems);
  if (!base || !isRecord(v) || v.tiers === undefined) return base;
  if (!Array.isArray(v.tiers)) {
    problems.push(`${where}.tiers: needs a list of {"above": TOKENS, "input": …, "output": …}`);
    return null;
  }
  const tiers: Array<PriceSet & { above: number }> = [];
  for (const [i, t] of v.tiers.entries()) {
    const set = priceSet(
      isRecord(t) ? Object.fromEntries(Object.entries(t).filter(([k]) => k !== 'above')) : t,
      `${where}.tiers[${i}]`,
      problems,
    );
    const above = isRecord(t) ? t.above : undefined;
    if (!set) return null;
    if (typeof above !== 'number' || !Number.isInteger(above) || above < 0) {
      problems.push(`${where}.tiers[${i}].above: needs a whole number of prompt tokens`);
      return null;
    }
    tiers.push({ ...set, above });
  }
  return { ...base, tiers: tiers.sort((a, b) => a.above - b.above) };
}

/** Aliases from any source (the file, the VS Code setting): text → text, bad entries reported. */
export function parseAliases(v: unknown, where: string, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined) return out;
  if (!isRecord(v)) {
    problems.push(`${where}: needs an object of "model name as logged": "model it stands for"`);
    return out;
  }
  for (const [k, target] of Object.entries(v)) {
    if (
      typeof target !== 'string' ||
      target.trim() === '' ||
      k.trim() === '' ||
      k.length > 2048 ||
      target.length > 256
    ) {
      problems.push(`${where}[${JSON.stringify(k.slice(0, 80))}]: needs a model name, got ${JSON.stringify(target)}`);
      continue;
    }
    out[k.trim()] = target.trim();
  }
  return out;
}

export function parsePriceFile(text: string, file: string): PriceFile {
  const problems: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return {
      config: {},
      plan: null,
      problems: [`${file}: not valid JSON (${(e as Error).message}); its aliases, overrides and plan are not used`],
    };
  }
  if (!isRecord(json))
    return { config: {}, plan: null, problems: [`${file}: needs a JSON object with "aliases", "overrides" or "plan"`] };
  const aliases = parseAliases(json.aliases, `${file}: aliases`, problems);
  const overrides: Record<string, ModelPrice> = {};
  if (json.overrides !== undefined) {
    if (!isRecord(json.overrides))
      problems.push(`${file}: overrides needs an object of "model": {"input": …, "output": …}`);
    else {
      for (const [k, v] of Object.entries(json.overrides)) {
        const p = modelPrice(v, `${file}: overrides[${JSON.stringify(k.slice(0, 80))}]`, problems);
        if (p && k.trim() !== '') overrides[k.trim()] = p;
      }
    }
  }
  let plan: Plan | null = null;
  if (json.plan !== undefined) {
    try {
      if (typeof json.plan === 'string') plan = planOf(json.plan);
      else if (isRecord(json.plan) && typeof json.plan.name === 'string') {
        const m = json.plan.monthlyUsd;
        if (m !== undefined && typeof m !== 'number')
          throw new PlanError(`monthlyUsd needs a number, got ${JSON.stringify(m)}`);
        plan = planOf(json.plan.name, m);
      } else throw new PlanError('needs a plan name or {"name": …, "monthlyUsd": …}');
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      problems.push(`${file}: plan: ${e.message}`);
    }
  }
  const known = new Set(['aliases', 'overrides', 'plan', '$comment']);
  const unknown = Object.keys(json).filter((k) => !known.has(k));
  if (unknown.length > 0)
    problems.push(`${file}: ignored unknown key ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  return { config: { aliases, overrides }, plan, problems };
}
