/** Time-zone arithmetic with Intl only: days are grouped in the IANA zone the user asked for. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  if (!timeZone) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(timeZone: string, epochMs: number): WallClock {
  const parts = formatter(timeZone).formatToParts(new Date(epochMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return {
    year: get('year'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
  };
}

/** Offset of the zone from UTC at that instant, in milliseconds (positive east of Greenwich). */
function zoneOffsetMs(timeZone: string, epochMs: number): number {
  const w = wallClock(timeZone, epochMs);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** The calendar date (YYYY-MM-DD) of an instant in the zone. */
export function localDate(timeZone: string, epochMs: number): string {
  const w = wallClock(timeZone, epochMs);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(v: string): boolean {
  const m = DATE_RE.exec(v);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === v;
}

/** The first instant of a calendar date in the zone (handles DST and half-hour zones). */
export function startOfLocalDay(timeZone: string, date: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  const wallMidnight = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  let guess = wallMidnight - zoneOffsetMs(timeZone, wallMidnight);
  for (let i = 0; i < 3; i++) {
    const next = wallMidnight - zoneOffsetMs(timeZone, guess);
    if (next === guess) break;
    guess = next;
  }
  // A DST jump at midnight means the day starts later than the wall midnight: make sure the instant is that day.
  if (localDate(timeZone, guess) !== date) {
    for (let step = 0; step < 4 && localDate(timeZone, guess) < date; step++) guess += 3_600_000;
  }
  return guess;
}

export function addDays(date: string, days: number): string {
  const m = DATE_RE.exec(date);
  if (!m) throw new Error(`not a date: ${date}`);
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + days));
  return d.toISOString().slice(0, 10);
}

/** Inclusive local dates → half-open epoch range [from, to). */
/**
 * The ISO 8601 week of a calendar date, as `YYYY-Www` (weeks start on Monday; week 1 holds the year's first
 * Thursday, so the days around New Year can belong to the neighbouring year's week).
 */
export function isoWeekOf(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = Date.UTC(y, m - 1, d);
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(day + (3 - weekday) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function periodRange(timeZone: string, since?: string, until?: string): { from: number; to: number } {
  return {
    from: since ? startOfLocalDay(timeZone, since) : Number.MIN_SAFE_INTEGER,
    to: until ? startOfLocalDay(timeZone, addDays(until, 1)) : Number.MAX_SAFE_INTEGER,
  };
}

/**
 * Maps many instants to local dates quickly: the zone offset is looked up once per 15-minute bucket
 * (every zone's offset changes on a quarter hour).
 */
export class LocalDayMapper {
  private readonly cache = new Map<number, string>();
  /** Zone offset per UTC day when it is the same at both ends of that day (no transition inside), else null. */
  private readonly dayOffsets = new Map<number, number | null>();
  constructor(private readonly timeZone: string) {}

  private offsetForDay(utcDay: number): number | null {
    let o = this.dayOffsets.get(utcDay);
    if (o === undefined) {
      const start = utcDay * DAY_MS;
      const a = zoneOffsetMs(this.timeZone, start);
      const b = zoneOffsetMs(this.timeZone, start + DAY_MS - 1);
      o = a === b ? a : null;
      this.dayOffsets.set(utcDay, o);
    }
    return o;
  }

  dateOfBucket(bucket: number): string {
    let d = this.cache.get(bucket);
    if (d === undefined) {
      const t = bucket * BUCKET_MS;
      const offset = this.offsetForDay(Math.floor(t / DAY_MS));
      d = offset === null ? localDate(this.timeZone, t) : new Date(t + offset).toISOString().slice(0, 10);
      this.cache.set(bucket, d);
    }
    return d;
  }

  date(epochMs: number): string {
    return this.dateOfBucket(Math.floor(epochMs / BUCKET_MS));
  }

  /**
   * The local date of a bucket as a day number (days since 1970-01-01, see `dateOfDayNumber`) without making a string:
   * on a UTC day without an offset change it is arithmetic on the cached offset; on the few days with a change the
   * bucket's date is read once and its number cached.
   */
  dayOfBucket(bucket: number): number {
    const t = bucket * BUCKET_MS;
    const utcDay = Math.floor(t / DAY_MS);
    if (utcDay !== this.lastUtcDay) {
      this.lastUtcDay = utcDay;
      this.lastOffset = this.offsetForDay(utcDay);
    }
    if (this.lastOffset !== null) return Math.floor((t + this.lastOffset) / DAY_MS);
    let n = this.irregular.get(bucket);
    if (n === undefined) {
      n = Date.parse(`${this.dateOfBucket(bucket)}T00:00:00Z`) / DAY_MS;
      this.irregular.set(bucket, n);
    }
    return n;
  }

  private lastUtcDay = Number.NaN;
  private lastOffset: number | null = null;
  /** Day numbers of the buckets of UTC days with an offset change. */
  private readonly irregular = new Map<number, number>();
}

/** The calendar date (YYYY-MM-DD) of a day number from `LocalDayMapper.dayOfBucket`. */
export function dateOfDayNumber(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

const DAY_MS = 86_400_000;

export const BUCKET_MS = 15 * 60 * 1000;

export function isoUtc(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

const LOCAL_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/;

/**
 * A moment typed by a person: `YYYY-MM-DD` (noon) or `YYYY-MM-DD HH:MM`, read in the zone; a full ISO string with an
 * offset or `Z` as it says. Undefined when it is not one of those.
 */
export function parseLocalMoment(timeZone: string, text: string): number | undefined {
  const v = text.trim();
  const m = LOCAL_TIME_RE.exec(v);
  if (!m) {
    if (!/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(v)) return undefined;
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : undefined;
  }
  if (!isIsoDate(`${m[1]}-${m[2]}-${m[3]}`)) return undefined;
  const hour = m[4] === undefined ? 12 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  if (hour > 23 || minute > 59) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour, minute);
  let guess = wall - zoneOffsetMs(timeZone, wall);
  for (let i = 0; i < 3; i++) {
    const next = wall - zoneOffsetMs(timeZone, guess);
    if (next === guess) break;
    guess = next;
  }
  return guess;
}
