/**
 * Subscription plans (issue 14, item 8): what the engineer pays a month for their assistant, amortised over a
 * period's outcomes and shown BESIDE the list-price estimate, never instead of it. List prices are the vendors'
 * published monthly prices per seat (docs/measurement.md gives the dates); `custom` and `NAME:USD` set an amount.
 */
export const PLAN_NAMES = [
  'none',
  'claude-pro',
  'claude-max-5x',
  'claude-max-20x',
  'chatgpt-plus',
  'chatgpt-pro',
  'copilot-business',
  'copilot-enterprise',
  'custom',
] as const;

export type PlanName = (typeof PLAN_NAMES)[number];

/** Published monthly list prices in USD (monthly billing, one seat); `none` and `custom` have none. */
const PLAN_LIST_PRICES: Readonly<
  Partial<Record<PlanName, { monthlyUsd: number; label: string; since: string; source: string }>>
> = {
  'claude-pro': { monthlyUsd: 20, label: 'Claude Pro', since: '2023-09', source: 'claude.com/pricing' },
  'claude-max-5x': { monthlyUsd: 100, label: 'Claude Max 5x', since: '2025-04', source: 'claude.com/pricing' },
  'claude-max-20x': { monthlyUsd: 200, label: 'Claude Max 20x', since: '2025-04', source: 'claude.com/pricing' },
  'chatgpt-plus': { monthlyUsd: 20, label: 'ChatGPT Plus', since: '2023-02', source: 'chatgpt.com/pricing' },
  'chatgpt-pro': { monthlyUsd: 200, label: 'ChatGPT Pro', since: '2024-12', source: 'chatgpt.com/pricing' },
  'copilot-business': {
    monthlyUsd: 19,
    label: 'GitHub Copilot Business',
    since: '2023-02',
    source: 'github.com/features/copilot/plans',
  },
  'copilot-enterprise': {
    monthlyUsd: 39,
    label: 'GitHub Copilot Enterprise',
    since: '2024-02',
    source: 'github.com/features/copilot/plans',
  },
};

/** Days in the average month the plan cost is amortised over (365.25 / 12, rounded as docs/measurement.md states). */
const DAYS_PER_MONTH = 30.4;

export interface Plan {
  name: PlanName;
  /** What the engineer pays a month (the list price unless they gave an amount). */
  monthlyUsd: number;
}

export class PlanError extends Error {}

const MAX_MONTHLY_USD = 100_000;

/** The plan of a name and optional amount; throws PlanError with a one-line, actionable message. None → null. */
export function planOf(name: string, monthlyUsd?: number): Plan | null {
  const n = name.trim().toLowerCase();
  if (!(PLAN_NAMES as readonly string[]).includes(n))
    throw new PlanError(`unknown plan "${name}" (one of ${PLAN_NAMES.join(', ')})`);
  const plan = n as PlanName;
  if (monthlyUsd !== undefined && !(Number.isFinite(monthlyUsd) && monthlyUsd >= 0 && monthlyUsd <= MAX_MONTHLY_USD)) {
    throw new PlanError(
      `a plan's monthly amount is USD from 0 to ${MAX_MONTHLY_USD.toLocaleString('en-US')}, got ${String(monthlyUsd)}`,
    );
  }
  if (plan === 'none') return null;
  const amount = monthlyUsd ?? PLAN_LIST_PRICES[plan]?.monthlyUsd;
  if (amount === undefined)
    throw new PlanError('plan "custom" needs a monthly amount (custom:USD, or the monthly setting)');
  return { name: plan, monthlyUsd: amount };
}

/** `NAME` or `NAME:USD` (the CLI's --plan). */
export function parsePlan(text: string): Plan | null {
  const m = /^([a-z0-9-]+)(?::(.*))?$/i.exec(text.trim());
  if (!m) throw new PlanError(`--plan needs NAME or NAME:USD (one of ${PLAN_NAMES.join(', ')}), got "${text}"`);
  const amount = m[2] === undefined ? undefined : m[2].trim() === '' ? NaN : Number(m[2]);
  return planOf(m[1] ?? '', amount);
}

export interface PlanCost {
  plan: PlanName;
  label: string;
  monthlyUsd: number;
  /** Days of the period the cost is spread over. */
  days: number;
  /** monthlyUsd × days / 30.4. */
  periodUsd: number;
  perCommit: number | null;
  perTask: number | null;
}

const round = (v: number): number => Math.round(v * 1e6) / 1e6;

/** The plan cost of a period of `days` days, amortised over its counted commits and delivered tasks. */
export function planCost(plan: Plan, days: number, commits: number, tasks: number): PlanCost {
  const periodUsd = (plan.monthlyUsd * Math.max(0, days)) / DAYS_PER_MONTH;
  return {
    plan: plan.name,
    label: PLAN_LIST_PRICES[plan.name]?.label ?? 'custom plan',
    monthlyUsd: plan.monthlyUsd,
    days,
    periodUsd: round(periodUsd),
    perCommit: commits > 0 ? round(periodUsd / commits) : null,
    perTask: tasks > 0 ? round(periodUsd / tasks) : null,
  };
}
