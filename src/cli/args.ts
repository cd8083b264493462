import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parsePlan, PlanError, type Plan } from '../core/usage/plans';
import { isIsoDate, isValidTimeZone, localDate, systemTimeZone } from '../core/usage/time';
import { DEFAULT_DURABILITY_DAYS } from '../services/linker';
import { isEmail } from '../services/queries';
import { didYouMean } from './suggest';

/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON_OPTIONS: Options = {
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

/**
 * `--input -5` would make node's parser take "-5" for an option ("argument is ambiguous"): a value that looks like a
 * number after an option that takes one is joined to it (`--input=-5`), so the command judges the number itself.
 */
function joinNegativeValues(argv: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : undefined;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (
      name !== undefined &&
      !name.includes('=') &&
      options[name]?.type === 'string' &&
      next !== undefined &&
      /^-\d/.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export function parse(argv: string[], options: Options, allowPositionals: boolean): Parsed {
  const all = { ...COMMON_OPTIONS, ...options };
  try {
    const r = parseArgs({ args: joinNegativeValues(argv, all), options: all, allowPositionals, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    const message = (e as Error).message;
    const code = (e as NodeJS.ErrnoException).code;
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
      const flag = unknown[1] ?? '';
      const names = Object.keys(all).map((n) => `--${n}`);
      const hint = didYouMean(flag.replace(/=.*$/, ''), names);
      throw new UsageError(`unknown option ${flag}${hint || ' (see --help for the options)'}`);
    }
    const positional = /^Unexpected argument '([^']*)'/.exec(message);
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && positional)
      throw new UsageError(
        `unexpected argument "${positional[1] ?? ''}": this command takes options only (see --help)`,
      );
    const missing = /^Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message);
    if (missing) throw new UsageError(`${missing[1] ?? 'an option'} needs a value (see --help)`);
    throw new UsageError(message.split('\n')[0] ?? 'bad arguments');
  }
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function timeZoneOf(p: Parsed, env: NodeJS.ProcessEnv): string {
  const tz = str(p, 'tz') ?? (env.TZ && env.TZ.trim() ? env.TZ.trim().replace(/^:/, '') : systemTimeZone());
  if (!isValidTimeZone(tz))
    throw new UsageError(`unknown time zone "${tz}" (use an IANA name such as Europe/Berlin or UTC)`);
  return tz;
}

export function periodOf(p: Parsed): { since?: string; until?: string } {
  const since = str(p, 'since');
  const until = str(p, 'until');
  for (const [name, v] of [
    ['--since', since],
    ['--until', until],
  ] as const) {
    if (v !== undefined && !isIsoDate(v)) {
      throw new UsageError(
        /^\d{4}-\d{2}-\d{2}$/.test(v)
          ? `${name} ${v} is not a date in the calendar (check the month and the day)`
          : `${name} needs a date as YYYY-MM-DD, got "${v}"`,
      );
    }
  }
  if (since && until && since > until) throw new UsageError(`--since ${since} is after --until ${until}`);
  // Without --until the period ends today: a --since after today is the same inverted range (judged against the
  // furthest-ahead zone, UTC+14, so no zone's today is refused).
  if (since && !until && since > localDate('Etc/GMT-14', Date.now()))
    throw new UsageError(`--since ${since} is after today (the period would end before it starts)`);
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

export function numberOption(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`--${name} needs a number from ${min} to ${max}, got "${v}"`);
  return n;
}

/** The options of the commands that count links: the confidence threshold, the durability age, more identities. */
export const LINK_VIEW_OPTIONS = {
  threshold: { type: 'string' },
  'durability-days': { type: 'string' },
  identity: { type: 'string', multiple: true },
} as const;

export function thresholdOf(p: Parsed): number | undefined {
  return numberOption(p, 'threshold', 0, 1);
}

export function durabilityDaysOf(p: Parsed): number {
  return numberOption(p, 'durability-days', 0, 3650) ?? DEFAULT_DURABILITY_DAYS;
}

/** What `report`, `sessions` and the like query: the time zone, the period, the link threshold and more identities. */
export function periodQueryOf(
  p: Parsed,
  env: NodeJS.ProcessEnv,
): { timeZone: string; since?: string; until?: string; threshold?: number; identities?: string[] } {
  const timeZone = timeZoneOf(p, env);
  const period = periodOf(p);
  const threshold = thresholdOf(p);
  return { timeZone, ...period, ...(threshold !== undefined ? { threshold } : {}), ...identitiesArg(p) };
}

/** `--identity EMAIL` (repeatable): more author emails that are yours (docs/outcomes.md). */
export function identitiesArg(p: Parsed): { identities?: string[] } {
  const list = (p.values.identity as string[] | undefined) ?? [];
  for (const v of list)
    if (!isEmail(v))
      throw new UsageError(
        `--identity needs an email address as git records authors, such as you@example.com; got "${v}"`,
      );
  return list.length > 0 ? { identities: list.map((v) => v.trim().toLowerCase()) } : {};
}

/** `--plan NAME[:USD]`: the plan to amortise (null for `none`); undefined when not given. */
export function planArg(p: Parsed): Plan | null | undefined {
  const v = str(p, 'plan');
  if (v === undefined) return undefined;
  try {
    return parsePlan(v);
  } catch (e) {
    if (e instanceof PlanError) throw new UsageError(`--plan: ${e.message}`);
    throw e;
  }
}
