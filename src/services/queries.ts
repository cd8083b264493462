import type { Database } from 'sql.js';
import type { SessionStatus, SourceName } from '../core/model';
import { PRICING_VERSION, fromNanoUSD, priceOf } from '../core/pricing';
import { buildReport, roundUSD, sessionStatus, type ReportJson, type UsageRow } from '../core/report';
import { BUCKET_MS, isoUtc, periodRange } from '../core/time';
import { sourceHealth } from '../store/files';
import { FLAG_MODEL_ASSUMED, getMeta } from '../store/schema';

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

/** Label and last activity of every session (small: one row per session). */
function sessionBasics(db: Database): Map<number, SessionBasics> {
  const out = new Map<number, SessionBasics>();
  const r = db.exec('SELECT s.id, s.label, (SELECT max(ts) FROM interactions WHERE session_ref = s.id) FROM sessions s');
  for (const [id, label, end] of r[0]?.values ?? []) {
    out.set(Number(id), { label: label === null ? null : String(label), end: Number(end ?? 0) });
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
  const stmt = db.prepare(`
    SELECT i.session_ref, s.source, m.name, i.ts / ${BUCKET_MS} AS bucket, min(i.ts), max(i.ts),
           sum(i.input), sum(i.output), sum(i.cache_read), sum(i.cache_write), sum(i.reasoning),
           sum(coalesce(i.cost_nusd, 0)), count(*), count(*) - count(i.cost_nusd), sum((i.flags & ${FLAG_MODEL_ASSUMED}) != 0)
    FROM interactions i JOIN sessions s ON s.id = i.session_ref JOIN models m ON m.id = i.model_ref
    WHERE i.ts >= ? AND i.ts < ?
    GROUP BY i.session_ref, i.model_ref, bucket`);
  const rows: UsageRow[] = [];
  const priced = new Map<string, boolean>();
  try {
    stmt.bind([from, to]);
    while (stmt.step()) {
      const v = stmt.get();
      const model = String(v[2]);
      let p = priced.get(model);
      if (p === undefined) {
        p = priceOf(model) !== null;
        priced.set(model, p);
      }
      rows.push({
        sessionRef: Number(v[0]), source: String(v[1]) as SourceName, model, priced: p, bucket: Number(v[3]),
        firstTs: Number(v[4]), lastTs: Number(v[5]), input: Number(v[6]), output: Number(v[7]), cacheRead: Number(v[8]),
        cacheWrite: Number(v[9]), reasoning: Number(v[10]), costNano: Number(v[11]), interactions: Number(v[12]),
        unpriced: Number(v[13]), assumedModel: Number(v[14]),
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
            min(i.ts), max(i.ts), sum(i.input), sum(i.output), sum(i.cache_read), sum(i.cache_write), sum(i.reasoning),
            sum(coalesce(i.cost_nusd, 0)), count(*)
     FROM sessions s JOIN interactions i ON i.session_ref = s.id
     GROUP BY s.id HAVING max(i.ts) >= ? AND min(i.ts) < ?
     ORDER BY min(i.ts)`,
    [from, to],
  );
  const files = groupStrings(db, 'SELECT session_ref, path FROM session_files ORDER BY session_ref, path');
  const branches = groupStrings(db, 'SELECT session_ref, branch FROM session_branches ORDER BY session_ref, branch');
  const models = groupStrings(
    db,
    'SELECT DISTINCT i.session_ref, m.name FROM interactions i JOIN models m ON m.id = i.model_ref ORDER BY i.session_ref, m.name',
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
