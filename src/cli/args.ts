import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isIsoDate, isValidTimeZone, systemTimeZone } from '../core/usage/time';

/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

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
