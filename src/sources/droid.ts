import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SessionContext } from '../core/usage/model';
import { optionalCount, type Tokens, unknownUsageShape } from '../core/usage/tokens';
import {
  interactionRecord,
  isNonEmptyString,
  isObject,
  parseTimestamp,
  restoreState,
  wholeJson,
  type LineParser,
  type LogFile,
  type SourceReader,
  type WholeResult,
} from './parser';
import { openRegular } from './regular';
import { homeDir, isDirectory, isLogCandidate, uniqueDirs, walkFiles } from './walk';

/**
 * Factory Droid: `~/.factory/sessions/<project>/<id>.settings.json` (older builds `sessions/<id>.settings.json`),
 * rewritten whole as the session runs. It holds the session's model (`model`) and its RUNNING TOTALS
 * `tokenUsage{inputTokens, outputTokens, cacheCreationTokens, cacheReadTokens, thinkingTokens}` — no per-request
 * counts anywhere. So each read stores the growth since the previous read as one interaction (the parser remembers
 * the totals it has counted), keyed by the totals it brings the session to: re-reading the same totals adds nothing,
 * and a session's interactions always add up to its latest totals. Totals that shrink (the session was reset) start
 * a new count. Each step is dated by the newest message of `<id>.jsonl` beside it (else the file's time), which also
 * gives the working folder (`cwd`) when it names one.
 *
 * Counts: input excludes the cache (Anthropic style, as Droid keeps them); thinking tokens are counted beside the
 * output (`output = outputTokens + thinkingTokens`, reasoning = thinkingTokens), as peer readers do.
 */
export const droid: SourceReader = {
  source: 'droid',

  roots(env) {
    return uniqueDirs([path.join(homeDir(env), '.factory', 'sessions')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (isLogCandidate(root)) {
        if (root.endsWith('.settings.json')) files.push(settingsFile(root, root));
        continue;
      }
      if (!isDirectory(root)) continue;
      const sessions = isDirectory(path.join(root, 'sessions')) ? path.join(root, 'sessions') : root;
      for (const p of walkFiles(sessions, (n) => n.endsWith('.settings.json'), 2)) files.push(settingsFile(p, root));
    }
    return files;
  },

  createParser(file, state) {
    return new DroidSettingsParser(file.path, state);
  },
};

function settingsFile(p: string, root: string): LogFile {
  // The message log beside it dates the growth: its changes count as changes of the totals file.
  return { source: 'droid', path: p, root, whole: true, companions: [companionLog(p)] };
}

function companionLog(settings: string): string {
  return path.join(path.dirname(settings), `${path.basename(settings, '.settings.json')}.jsonl`);
}

const TOTAL_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheCreationTokens',
  'cacheReadTokens',
  'thinkingTokens',
] as const;
type Totals = Record<(typeof TOTAL_FIELDS)[number], number>;

interface DroidState {
  /** The totals already counted into the ledger. */
  counted: Totals;
}

const ZERO: Totals = { inputTokens: 0, outputTokens: 0, cacheCreationTokens: 0, cacheReadTokens: 0, thinkingTokens: 0 };

/** Reads `bytes` bytes from the start (`from: 'head'`) or the end of a regular file; empty when it cannot. */
function readEdge(file: string, bytes: number, from: 'head' | 'tail'): string {
  const opened = openRegular(file);
  if ('refused' in opened) return '';
  try {
    const n = Math.min(bytes, opened.stat.size);
    const buf = Buffer.alloc(n);
    const got = fs.readSync(opened.fd, buf, 0, n, from === 'head' ? 0 : opened.stat.size - n);
    return buf.toString('utf8', 0, got);
  } catch {
    return '';
  } finally {
    fs.closeSync(opened.fd);
  }
}

const EDGE = 64 << 10;

/** The newest `timestamp` and the first `cwd` of a Droid message log (only its first and last 64 KB are read). */
function logFacts(log: string): { last?: number; cwd?: string } {
  const out: { last?: number; cwd?: string } = {};
  for (const line of readEdge(log, EDGE, 'head').split('\n')) {
    if (!line.includes('"cwd"')) continue;
    try {
      const v: unknown = JSON.parse(line);
      const cwd = isObject(v)
        ? [v.cwd, isObject(v.session) ? v.session.cwd : undefined].find(isNonEmptyString)
        : undefined;
      if (cwd) {
        out.cwd = cwd;
        break;
      }
    } catch {
      // a line cut by the 64 KB window, or not JSON: look further
    }
  }
  const lines = readEdge(log, EDGE, 'tail').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const v: unknown = JSON.parse(lines[i] ?? '');
      const ts = isObject(v) ? parseTimestamp(v.timestamp) : undefined;
      if (ts !== undefined) {
        out.last = ts;
        break;
      }
    } catch {
      // a half-written last line, or the first line cut by the window
    }
  }
  return out;
}

/** The `.factory` folder a session file is under (`~/.factory/sessions/…`), if it is under one. */
function factoryDirOf(file: string): string | undefined {
  for (let dir = path.dirname(file), i = 0; i < 6; i++, dir = path.dirname(dir)) {
    if (path.basename(dir) === '.factory') return dir;
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

/**
 * The model a `custom:` name stands for. Droid names a bring-your-own-key model `custom:<name>`; the engineer's
 * `~/.factory/settings.json` (`customModels[] {model, displayName}`, also `settings.local.json`) or the legacy
 * `config.json` (`custom_models[] {model, model_display_name}`) says which model it calls. The name is matched to an
 * entry by its model id, its display name, or the display name with spaces as dashes and the entry's index appended
 * (`custom:My-Model-0`). Only those two fields are read; undefined when no entry matches (the name stays as written).
 */
export function customModelOf(name: string, factoryDir: string | undefined): string | undefined {
  if (!factoryDir || !name.startsWith('custom:')) return undefined;
  const wanted = name.slice('custom:'.length);
  for (const [file, key, display] of [
    ['settings.local.json', 'customModels', 'displayName'],
    ['settings.json', 'customModels', 'displayName'],
    ['config.json', 'custom_models', 'model_display_name'],
  ] as const) {
    let doc: unknown;
    try {
      doc = JSON.parse(readSmallText(path.join(factoryDir, file)) ?? 'null');
    } catch {
      continue; // JSONC comments or mid-write: try the next file
    }
    const list = isObject(doc) && Array.isArray(doc[key]) ? doc[key] : [];
    for (const [i, e] of list.entries()) {
      if (!isObject(e) || typeof e.model !== 'string' || !e.model) continue;
      const shown = typeof e[display] === 'string' ? e[display] : '';
      const names = [e.model, shown, `${shown.replace(/\s+/g, '-')}-${i}`, typeof e.id === 'string' ? e.id : ''].filter(
        Boolean,
      );
      if (names.includes(wanted)) return e.model;
    }
  }
  return undefined;
}

function readSmallText(file: string): string | undefined {
  const r = readEdge(file, 1 << 20, 'head');
  return r || undefined;
}

class DroidSettingsParser implements LineParser {
  private s: DroidState;

  constructor(
    private readonly file: string,
    state: string | null,
  ) {
    const restored = restoreState<DroidState>(state);
    this.s =
      restored && isObject(restored.counted) && TOTAL_FIELDS.every((f) => typeof restored.counted[f] === 'number')
        ? restored
        : { counted: { ...ZERO } };
  }

  state(): string | null {
    return JSON.stringify(this.s);
  }

  parse(): null {
    return null; // whole-file format: see parseWhole
  }

  parseWhole(buf: Buffer): WholeResult | { incomplete: string } {
    const read = wholeJson(buf);
    if ('incomplete' in read) return read;
    const doc = read.doc;
    if (!isObject(doc)) return { incomplete: 'not a Droid session settings document' };
    const out: WholeResult = { records: [], rejects: [] };
    const u = doc.tokenUsage;
    if (u === undefined || u === null) return out; // a session that has not spent anything yet
    if (!isObject(u)) return { records: [], rejects: [{ entry: 0, reason: 'tokenUsage is not an object' }] };
    const unknown = unknownUsageShape(u, TOTAL_FIELDS, 'tokenUsage');
    if (unknown) return { records: [], rejects: [{ entry: 0, reason: unknown }] };
    const now = {} as Totals;
    for (const f of TOTAL_FIELDS) {
      const v = optionalCount(u[f]);
      if (v === undefined)
        return { records: [], rejects: [{ entry: 0, reason: `tokenUsage.${f} is not a non-negative integer` }] };
      now[f] = v;
    }
    // Totals that went down: the session's counter restarted; what it holds now is new.
    const reset = TOTAL_FIELDS.some((f) => now[f] < this.s.counted[f]);
    const base = reset ? ZERO : this.s.counted;
    const d = {} as Totals;
    for (const f of TOTAL_FIELDS) d[f] = now[f] - base[f];
    if (TOTAL_FIELDS.every((f) => d[f] === 0)) {
      this.s = { counted: now };
      return out;
    }
    const sessionId = path.basename(this.file, '.settings.json');
    const facts = logFacts(companionLog(this.file));
    const locked = parseTimestamp(doc.providerLockTimestamp);
    let mtime: number | undefined;
    try {
      mtime = fs.statSync(this.file).mtimeMs;
    } catch {
      mtime = undefined;
    }
    const ts = facts.last ?? mtime ?? locked;
    if (ts === undefined) return { records: [], rejects: [{ entry: 0, reason: "no time for the session's usage" }] };
    const session: SessionContext = {
      source: 'droid',
      sessionId,
      ...(facts.cwd ? { cwd: facts.cwd } : typeof doc.cwd === 'string' && doc.cwd ? { cwd: doc.cwd } : {}),
    };
    const tokens: Tokens = {
      input: d.inputTokens,
      output: d.outputTokens + d.thinkingTokens,
      cacheRead: d.cacheReadTokens,
      cacheWrite: d.cacheCreationTokens,
      reasoning: d.thinkingTokens,
    };
    const written = typeof doc.model === 'string' && doc.model ? doc.model : undefined;
    // A bring-your-own-key model: the one the settings name, else the name as written (unpriced, shown in data health).
    const model = written ? (customModelOf(written, factoryDirOf(this.file)) ?? written) : undefined;
    const at = TOTAL_FIELDS.map((f) => now[f]).join('.');
    out.records.push(
      interactionRecord({
        key: `droid:${sessionId}:${at}`,
        session,
        timestamp: Math.max(ts, locked ?? 0),
        model,
        tokens,
      }),
    );
    this.s = { counted: now };
    return out;
  }
}
