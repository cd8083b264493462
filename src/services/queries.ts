import type { Database } from 'sql.js';
import type { SessionStatus, SourceName } from '../core/model';
import { PRICING_VERSION, fromNanoUSD, priceOf } from '../core/pricing';
import { buildReport, roundUSD, sessionStatus, type ReportJson, type UsageRow } from '../core/report';
import { BUCKET_MS, isoUtc, periodRange } from '../core/time';
import { sourceHealth } from '../store/files';
import { getMeta } from '../store/schema';

export interface PeriodQuery {
  timeZone: string;
  since?: string;
  until?: string;
  now?: number;
}

interface SessionBasics {
  label: string | null;
  end: number;
}

/** Label and last activity of every session (one streaming pass over the rollup, in its key order). */
function sessionBasics(db: Database): Map<number, SessionBasics> {
  const out = new Map<number, SessionBasics>();
  for (const [ref, end] of db.exec('SELECT session_ref, max(last_ts) FROM usage_rollup GROUP BY session_ref')[0]?.values ?? []) {
    out.set(Number(ref), { label: null, end: Number(end ?? 0) });
  }
  for (const [id, label] of db.exec('SELECT id, label FROM sessions WHERE label IS NOT NULL')[0]?.values ?? []) {
    const b = out.get(Number(id));
    if (b) b.label = String(label);
    else out.set(Number(id), { label: String(label), end: 0 });
  }
  return out;
}

export function statusResolver(db: Database, now: number): (ref: number) => SessionStatus {
  const basics = sessionBasics(db);
  return (ref) => {
    const b = basics.get(ref);
    return sessionStatus({ label: b?.label ?? null, shipped: false, end: b?.end ?? 0 }, now);
  };
}

/** `report --json` for a period: SQL aggregates per session, model and 15-minute bucket; the rest is pure. */
export function report(db: Database, q: PeriodQuery): ReportJson {
  const { from, to } = periodRange(q.timeZone, q.since, q.until);
  // Read from the rollup (sums per session, model and 15-minute bucket), not from every interaction. A period starts
  // and ends on local midnights, which fall on quarter hours in every zone, so whole buckets are exact.
  const bounded = q.since !== undefined || q.until !== undefined;
  const stmt = db.prepare(`
    SELECT session_ref, model_ref, bucket, first_ts, last_ts, input, output, cache_read, cache_write, reasoning,
           cost_nusd, n, unpriced, assumed
    FROM usage_rollup ${bounded ? 'WHERE bucket >= ? AND bucket < ?' : ''}`);
  const sources = new Map<number, SourceName>();
  for (const [id, source] of db.exec('SELECT id, source FROM sessions')[0]?.values ?? []) sources.set(Number(id), String(source) as SourceName);
  const models = new Map<number, { name: string; priced: boolean }>();
  for (const [id, name] of db.exec('SELECT id, name FROM models')[0]?.values ?? []) {
    models.set(Number(id), { name: String(name), priced: priceOf(String(name)) !== null });
  }
  const rows: UsageRow[] = [];
  try {
    if (bounded) stmt.bind([Math.floor(from / BUCKET_MS), Math.ceil(to / BUCKET_MS)]);
    while (stmt.step()) {
      const v = stmt.get() as number[];
      const model = models.get(Number(v[1])) ?? { name: 'unknown', priced: false };
      rows.push({
        sessionRef: Number(v[0]), source: sources.get(Number(v[0])) ?? 'manual', model: model.name, priced: model.priced, bucket: Number(v[2]),
        firstTs: Number(v[3]), lastTs: Number(v[4]), input: Number(v[5]), output: Number(v[6]), cacheRead: Number(v[7]),
        cacheWrite: Number(v[8]), reasoning: Number(v[9]), costNano: Number(v[10]), interactions: Number(v[11]),
        unpriced: Number(v[12]), assumedModel: Number(v[13]),
      });
    }
  } finally {
    stmt.free();
  }
  return buildReport({
    rows,
    statusOf: statusResolver(db, q.now ?? Date.now()),
    files: sourceHealth(db),
    timeZone: q.timeZone,
    since: q.since,
    until: q.until,
    pricingVersion: getMeta(db, 'pricing_version') ?? PRICING_VERSION,
  });
}

export interface SessionJson {
  id: string;
  source: SourceName;
  sessionId: string;
  start: string;
  end: string;
  cwd: string | null;
  repo: string | null;
  branch: string | null;
  branches: string[];
  models: string[];
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number; reasoning: number; total: number };
  costUSD: number;
  interactions: number;
  editedFiles: string[];
  status: SessionStatus;
  label: string | null;
  logPath: string | null;
  links: Array<{ commit: string; repo: string; confidence: number; counted: boolean; evidence: string[]; state: 'auto' | 'confirmed' | 'rejected' }>;
  tasks: string[];
}

function groupStrings(db: Database, sql: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [ref, value] of db.exec(sql)[0]?.values ?? []) {
    const list = out.get(Number(ref));
    if (list) list.push(String(value));
    else out.set(Number(ref), [String(value)]);
  }
  return out;
}

/** `sessions --json`: every session that was active in the period, with whole-session totals. */
export function listSessions(db: Database, q: PeriodQuery): SessionJson[] {
  const { from, to } = periodRange(q.timeZone, q.since, q.until);
  const now = q.now ?? Date.now();
  const r = db.exec(
    `SELECT s.id, s.source, s.session_key, s.cwd, s.repo, s.branch, s.label, s.log_path,
            min(i.first_ts), max(i.last_ts), sum(i.input), sum(i.output), sum(i.cache_read), sum(i.cache_write), sum(i.reasoning),
            sum(i.cost_nusd), sum(i.n)
     FROM sessions s JOIN usage_rollup i ON i.session_ref = s.id
     GROUP BY s.id HAVING max(i.last_ts) >= ? AND min(i.first_ts) < ?
     ORDER BY min(i.first_ts)`,
    [from, to],
  );
  const files = groupStrings(db, 'SELECT session_ref, path FROM session_files ORDER BY session_ref, path');
  const branches = groupStrings(db, 'SELECT session_ref, branch FROM session_branches ORDER BY session_ref, branch');
  const models = groupStrings(
    db,
    'SELECT DISTINCT r.session_ref, m.name FROM usage_rollup r JOIN models m ON m.id = r.model_ref ORDER BY r.session_ref, m.name',
  );
  return (r[0]?.values ?? []).map((v) => {
    const ref = Number(v[0]);
    const source = String(v[1]) as SourceName;
    const key = String(v[2]);
    const label = v[6] === null ? null : String(v[6]);
    const end = Number(v[9]);
    const tokens = {
      input: Number(v[10]), output: Number(v[11]), cacheRead: Number(v[12]), cacheWrite: Number(v[13]), reasoning: Number(v[14]), total: 0,
    };
    tokens.total = tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite;
    return {
      id: `${source}:${key}`,
      source,
      sessionId: key,
      start: isoUtc(Number(v[8])),
      end: isoUtc(end),
      cwd: v[3] === null ? null : String(v[3]),
      repo: v[4] === null ? null : String(v[4]),
      branch: v[5] === null ? null : String(v[5]),
      branches: branches.get(ref) ?? [],
      models: models.get(ref) ?? [],
      tokens,
      costUSD: roundUSD(fromNanoUSD(Number(v[15]))),
      interactions: Number(v[16]),
      editedFiles: files.get(ref) ?? [],
      status: sessionStatus({ label, shipped: false, end }, now),
      label,
      logPath: v[7] === null ? null : String(v[7]),
      links: [],
      tasks: [],
    };
  });
}

export class SessionNotFoundError extends Error {}

/** Finds a session by `source:id`, its bare id, or a unique prefix of either. */
export function resolveSession(db: Database, query: string): { ref: number; id: string } {
  const r = db.exec(
    "SELECT id, source || ':' || session_key FROM sessions WHERE source || ':' || session_key = ?1 OR session_key = ?1 OR source || ':' || session_key LIKE ?2 ESCAPE '\\' OR session_key LIKE ?2 ESCAPE '\\' LIMIT 3",
    [query, `${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
  );
  const rows = r[0]?.values ?? [];
  const exact = rows.find((row) => String(row[1]) === query || String(row[1]).endsWith(`:${query}`));
  if (exact) return { ref: Number(exact[0]), id: String(exact[1]) };
  if (rows.length === 1 && rows[0]) return { ref: Number(rows[0][0]), id: String(rows[0][1]) };
  if (rows.length === 0) throw new SessionNotFoundError(`no session matches "${query}" (see \`outcome-ledger sessions\`)`);
  throw new SessionNotFoundError(`"${query}" matches several sessions; give more of the id`);
}

export function setLabel(db: Database, ref: number, label: string | null): void {
  db.run('UPDATE sessions SET label = ? WHERE id = ?', [label, ref]);
}
