import * as path from 'node:path';
import type { ParseOutcome, SessionContext } from '../core/usage/model';
import { rejected, restoreState, StatefulLineParser, type LogFile, type SourceReader } from './parser';
import { isDirectory, isLogCandidate, listDir } from './walk';

export const AIDER_HISTORY = '.aider.chat.history.md';
/** The model when a session's header named none: flagged as assumed. */
export const AIDER_UNKNOWN_MODEL = 'unknown';

const STARTED = /^# aider chat started at (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\s*$/;
const MODEL = /^> (?:Main model|Model|Models): (\S+)/;
const TOKENS = /^> Tokens: (.*)$/;
const APPLIED = /^> Applied edit to (.+?)\s*$/;
const COUNT = /^([\d,]+(?:\.\d+)?)([kKmM]?)$/;
const COST = /Cost: \$([\d.]+) (?:message|request)/;

/** A token count as aider prints it: `350`, `1,234`, `1.2k`, `12k`, `1.5M` (rounded: only an estimate). */
export function aiderCount(text: string): number | undefined {
  const m = COUNT.exec(text.trim());
  if (!m) return undefined;
  const n = Number((m[1] ?? '').replace(/,/g, ''));
  if (!Number.isFinite(n)) return undefined;
  const unit = (m[2] ?? '').toLowerCase();
  return Math.round(unit === 'k' ? n * 1000 : unit === 'm' ? n * 1_000_000 : n);
}

export interface AiderTokens {
  sent: number;
  cacheWrite: number;
  cacheHit: number;
  received: number;
  thinking: number;
  cost?: number;
}

/**
 * The body of a `> Tokens:` line: `12k sent, 1.2k cache write, 8k cache hit, 350 received. Cost: $0.02 message, $0.15
 * session.` (older builds: `1,234 sent, 567 received. Cost: $0.01 request, …`; some builds `… cache read; 4.5k Total
 * (1.2k thinking, 3.3k returned)`).
 */
export function parseAiderTokens(body: string): AiderTokens | undefined {
  const [counts = '', ...rest] = body.split(/\.\s+(?=Cost:)/);
  const out: AiderTokens = { sent: -1, cacheWrite: 0, cacheHit: 0, received: -1, thinking: 0 };
  const [main = '', totalPart] = counts.replace(/\.\s*$/, '').split(';');
  for (const part of main.split(/,\s+/)) {
    const m = /^\s*(\S+)\s+(sent|cache write|cache hit|cache read|received)\s*$/.exec(part);
    if (!m) return undefined;
    const n = aiderCount(m[1] ?? '');
    if (n === undefined) return undefined;
    if (m[2] === 'sent') out.sent = n;
    else if (m[2] === 'received') out.received = n;
    else if (m[2] === 'cache write') out.cacheWrite = n;
    else out.cacheHit = n;
  }
  if (totalPart !== undefined) {
    const m = /^\s*(\S+) Total(?: \((\S+) thinking, (\S+) returned\))?\s*$/.exec(totalPart);
    const all = m ? aiderCount(m[1] ?? '') : undefined;
    if (all === undefined) return undefined;
    out.received = all;
    out.thinking = m?.[2] ? (aiderCount(m[2]) ?? 0) : 0;
  }
  if (out.sent < 0 || out.received < 0) return undefined;
  const cost = COST.exec(rest.join(' '));
  if (cost) out.cost = Number(cost[1]);
  return out;
}

/**
 * Aider: `.aider.chat.history.md` in the repository it ran in (looked for in the repositories and working folders of
 * the sessions in the ledger, the workspace folders, and extra paths). Each `# aider chat started at …` (local time)
 * begins a session; `> Model:` / `> Main model:` lines name the model; each `> Tokens:` line is one exchange, rounded
 * to thousands by aider (estimated); `> Applied edit to <file>` names an edited file.
 */
export const aider: SourceReader = {
  source: 'aider',

  roots() {
    return []; // aider keeps its history inside each repository: see discoverInProjects
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      const direct = path.join(root, AIDER_HISTORY);
      if (isLogCandidate(direct)) files.push({ source: 'aider', path: direct, root });
      else if (isDirectory(root)) {
        // A folder of projects: one level down.
        for (const n of listDir(root)) {
          const p = path.join(root, n, AIDER_HISTORY);
          if (isLogCandidate(p)) files.push({ source: 'aider', path: p, root });
        }
      }
    }
    return files;
  },

  discoverInProjects(dirs) {
    const files: LogFile[] = [];
    for (const d of dirs) {
      const p = path.join(d, AIDER_HISTORY);
      if (isLogCandidate(p)) files.push({ source: 'aider', path: p, root: d });
    }
    return files;
  },

  createParser(file, state) {
    return new AiderParser(file, state);
  },
};

interface AiderState {
  /** The `started at` text of the current session (local time, as written). */
  started?: string;
  startMs?: number;
  model?: string;
  ordinal: number;
}

class AiderParser extends StatefulLineParser<AiderState> {
  private readonly cwd: string;

  constructor(file: LogFile, state: string | null) {
    const restored = restoreState<AiderState>(state);
    super(restored ?? { ordinal: 0 });
    this.cwd = path.dirname(file.path);
  }

  private session(): SessionContext {
    return { source: 'aider', sessionId: `${this.s.started ?? 'unknown'} ${this.cwd}`, cwd: this.cwd };
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    // Only lines starting with "# " or "> " matter; the rest is the conversation itself.
    const first = buf[start];
    if (first !== 0x23 && first !== 0x3e) return null;
    const line = buf.toString('utf8', start, end).replace(/\s+$/, '');
    const started = STARTED.exec(line);
    if (started) {
      const [, y, mo, d, h, mi, se] = started.map(Number);
      this.s = {
        started: line.slice('# aider chat started at '.length),
        startMs: new Date(y ?? 0, (mo ?? 1) - 1, d, h, mi, se).getTime(),
        ordinal: 0,
      };
      return null;
    }
    const model = MODEL.exec(line);
    if (model) {
      this.s.model = model[1];
      return null;
    }
    const applied = APPLIED.exec(line);
    if (applied) {
      return [
        {
          kind: 'edit',
          session: this.session(),
          timestamp: (this.s.startMs ?? 0) + this.s.ordinal,
          path: applied[1] ?? '',
        },
      ];
    }
    const tokens = TOKENS.exec(line);
    if (!tokens) return null;
    const t = parseAiderTokens(tokens[1] ?? '');
    if (!t) return rejected('a "Tokens:" line aider did not write in a known form');
    if (this.s.startMs === undefined) return rejected('"Tokens:" line before any "aider chat started at" line');
    this.s.ordinal++;
    // "sent" includes what was written to the cache; cache hits are part of the prompt (as the API reported it).
    const cacheWrite = Math.min(t.cacheWrite, t.sent);
    const cacheRead = Math.min(t.cacheHit, t.sent - cacheWrite);
    const m = this.s.model;
    return [
      {
        kind: 'interaction',
        key: `aider:${this.session().sessionId}:${this.s.ordinal}`,
        session: this.session(),
        timestamp: this.s.startMs + this.s.ordinal,
        model: m ?? AIDER_UNKNOWN_MODEL,
        tokens: {
          input: t.sent - cacheWrite - cacheRead,
          cacheWrite,
          cacheRead,
          output: t.received,
          reasoning: Math.min(t.thinking, t.received),
        },
        cacheWrite1h: 0,
        sidechain: false,
        estimated: true,
        ...(t.cost !== undefined && Number.isFinite(t.cost) ? { recordedCostUSD: t.cost } : {}),
        ...(m ? {} : { modelAssumed: true }),
      },
    ];
  }
}
