import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isIsoDate, isValidTimeZone, systemTimeZone } from '../core/usage/time';
import { DEFAULT_DURABILITY_DAYS } from '../services/linker';
import { isEmail } from '../services/queries';

/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON_OPTIONS: Options = {
  help: { type: 'boolean', short: 'h' },
  home: { type: 'string' },
  tz: { type: 'string' },
};

export const PERIOD_OPTIONS: Options = {
  since: { type: 'string' },
  until: { type: 'string' },
  json: { type: 'boolean' },
};

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: Options, allowPositionals: boolean): Parsed {
  try {
    const r = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function timeZoneOf(p: Parsed, env: NodeJS.ProcessEnv): string {
  const tz = str(p, 'tz') ?? (env.TZ && env.TZ.trim() ? env.TZ.trim().replace(/^:/, '') : systemTimeZone());
  if (!isValidTimeZone(tz)) throw new UsageError(`unknown time zone "${tz}" (use an IANA name such as Europe/Berlin or UTC)`);
  return tz;
}

export function periodOf(p: Parsed): { since?: string; until?: string } {
  const since = str(p, 'since');
  const until = str(p, 'until');
  for (const [name, v] of [['--since', since], ['--until', until]] as const) {
    if (v !== undefined && !isIsoDate(v)) {
      throw new UsageError(/^\d{4}-\d{2}-\d{2}$/.test(v) ? `${name} ${v} is not a date in the calendar (check the month and the day)` : `${name} needs a date as YYYY-MM-DD, got "${v}"`);
    }
  }
  if (since && until && since > until) throw new UsageError(`--since ${since} is after --until ${until}`);
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

export function numberOption(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} needs a number from ${min} to ${max}, got "${v}"`);
  return n;
}

/** The options of the commands that count links: the confidence threshold, the durability age, more identities. */
export const LINK_VIEW_OPTIONS = { threshold: { type: 'string' }, 'durability-days': { type: 'string' }, identity: { type: 'string', multiple: true } } as const;

export function thresholdOf(p: Parsed): number | undefined {
  return numberOption(p, 'threshold', 0, 1);
}

export function durabilityDaysOf(p: Parsed): number {
  return numberOption(p, 'durability-days', 0, 3650) ?? DEFAULT_DURABILITY_DAYS;
}

/** `--identity EMAIL` (repeatable): more author emails that are yours (docs/outcomes.md). */
export function identitiesArg(p: Parsed): { identities?: string[] } {
  const list = (p.values.identity as string[] | undefined) ?? [];
  for (const v of list) if (!isEmail(v)) throw new UsageError(`--identity needs an email address as git records authors, such as you@example.com; got "${v}"`);
  return list.length > 0 ? { identities: list.map((v) => v.trim().toLowerCase()) } : {};
}
