import { createHash } from 'node:crypto';
import * as path from 'node:path';
import type { ParseOutcome, SessionContext } from '../core/usage/model';
import { type Tokens, unknownUsageShape, usageCounts } from '../core/usage/tokens';
import {
  interactionRecord,
  isObject,
  skimmedJsonLine,
  rejected,
  restoreState,
  StatefulLineParser,
  type LogFile,
  type SourceReader,
} from './parser';
import { readRegularText } from './regular';
import { homeDir, isDirectory, isLogCandidate, listDir, uniqueDirs } from './walk';

/**
 * Kimi CLI (Moonshot): `${KIMI_SHARE_DIR:-~/.kimi}/sessions/<md5 of the work folder>/<session>/wire.jsonl`, the
 * session's wire protocol, appended line by line: `{"type": "metadata", ...}` first, then `{timestamp: <epoch
 * seconds>, message: {type, payload}}`. Usage comes in `StatusUpdate` messages, one per model step:
 * `payload.token_usage{input_other, output, input_cache_read, input_cache_creation}` (input_other excludes the
 * cache: the four add up) and `payload.message_id`. A step may report again as it streams: its updates share the
 * message id, and the larger total wins (the ledger's rule). The model is the one `config.toml` (older builds:
 * `config.json`) names (`default_model`, resolved through `models`); the work folder comes from `kimi.json` (`work_dirs[].path`, whose
 * md5 names the session group folder, or `session_to_workdir`).
 *
 * Kimi Code, its successor, keeps `${KIMI_CODE_HOME:-~/.kimi-code}/sessions/<workspace>/<session>/agents/<agent>/
 * wire.jsonl`: `usage.record` lines `{model, usage{inputOther, output, inputCacheRead, inputCacheCreation},
 * usageScope, time (epoch ms)}`, of which only `usageScope: "turn"` ones are requests ("session" ones are
 * bookkeeping such as compaction, and `step.end` repeats the turn's record); a model that is a symbolic alias
 * (`__kimi_env_model__`) is taken from the `llm.request` before it. The folder is `workspaces.json`'s
 * `workspaces[<workspace>].root`, else `session_index.jsonl`'s `workDir`.
 */
export const kimi: SourceReader = {
  source: 'kimi',

  roots(env) {
    const share = env.KIMI_SHARE_DIR?.trim();
    const code = env.KIMI_CODE_HOME?.trim();
    return uniqueDirs([share || path.join(homeDir(env), '.kimi'), code || path.join(homeDir(env), '.kimi-code')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (isLogCandidate(root)) {
        if (path.basename(root) === 'wire.jsonl') files.push({ source: 'kimi', path: root, root });
        continue;
      }
      if (!isDirectory(root)) continue;
      const sessions = isDirectory(path.join(root, 'sessions')) ? path.join(root, 'sessions') : root;
      for (const group of listDir(sessions)) {
        const g = path.join(sessions, group);
        // `<group>/<session>/wire.jsonl`, or a session folder given directly.
        const dirs =
          isLogCandidate(path.join(g, 'wire.jsonl')) || isDirectory(path.join(g, 'agents'))
            ? [g]
            : listDir(g).map((s) => path.join(g, s));
        for (const d of dirs) {
          const wire = path.join(d, 'wire.jsonl');
          if (isLogCandidate(wire)) files.push({ source: 'kimi', path: wire, root });
          // Kimi Code: one wire log per agent of the session.
          for (const agent of listDir(path.join(d, 'agents'))) {
            const log = path.join(d, 'agents', agent, 'wire.jsonl');
            if (isLogCandidate(log)) files.push({ source: 'kimi', path: log, root });
          }
        }
      }
      if (isLogCandidate(path.join(root, 'wire.jsonl')))
        files.push({ source: 'kimi', path: path.join(root, 'wire.jsonl'), root });
    }
    return files;
  },

  createParser(file, state) {
    return isKimiCodeLog(file.path) ? new KimiCodeParser(file.path, state) : new KimiWireParser(file, state);
  },
};

/** The share folder above a wire log (`<share>/sessions/<group>/<session>/wire.jsonl`), if the layout is the usual one. */
function shareDirOf(wire: string): string | undefined {
  const sessions = path.dirname(path.dirname(path.dirname(wire)));
  return path.basename(sessions) === 'sessions' ? path.dirname(sessions) : undefined;
}

function readJson(file: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(readRegularText(file, 4 << 20) ?? '');
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A TOML string value (`"basic"` or `'literal'`), the only kind these keys hold. */
function tomlString(raw: string): string | undefined {
  const v = raw.trim();
  const basic = /^"((?:[^"\\]|\\.)*)"/.exec(v);
  if (basic) return (basic[1] ?? '').replace(/\\(["\\])/g, '$1');
  const literal = /^'([^']*)'/.exec(v);
  return literal ? literal[1] : undefined;
}

/**
 * The two keys the model is named by in `config.toml` (current builds): the top-level `default_model`, and `model` in
 * the `[models.<name>]` table. Read line by line for those keys only (no TOML engine; nothing else is looked at).
 */
function tomlModelConfig(text: string): { default_model?: string; models: Record<string, { model?: string }> } {
  const out: { default_model?: string; models: Record<string, { model?: string }> } = { models: {} };
  let table: string | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?$/.exec(line); // a table or an array of tables
    if (header) {
      const m = /^models\.(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_-]+))$/.exec(header[1] ?? '');
      table = m ? (m[1] ?? m[2] ?? m[3] ?? null) : '';
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!kv) continue;
    const value = tomlString(kv[2] ?? '');
    if (value === undefined) continue;
    if (table === null && kv[1] === 'default_model') out.default_model = value;
    else if (table && kv[1] === 'model') out.models[table] = { model: value };
  }
  return out;
}

/**
 * The model Kimi's configuration names: `default_model`, resolved through `models[name].model` when it is an alias.
 * Current builds keep `config.toml`; older ones `config.json` (left as `config.json.bak` by the migration). API keys
 * beside them are never kept or shown.
 */
export function kimiModel(share: string): string | undefined {
  const toml = readRegularText(path.join(share, 'config.toml'), 1 << 20);
  const config: Record<string, unknown> | undefined =
    toml !== undefined
      ? tomlModelConfig(toml)
      : (readJson(path.join(share, 'config.json')) ?? readJson(path.join(share, 'config.json.bak')));
  if (!config) return undefined;
  const name = typeof config.default_model === 'string' && config.default_model ? config.default_model : undefined;
  if (!name) return typeof config.model === 'string' && config.model ? config.model : undefined;
  const entry = isObject(config.models) ? config.models[name] : undefined;
  return isObject(entry) && typeof entry.model === 'string' && entry.model ? entry.model : name;
}

/** The work folder of a session: `kimi.json`'s `session_to_workdir`, else the `work_dirs[].path` whose md5 is the group. */
export function kimiWorkDir(share: string, group: string, sessionId: string): string | undefined {
  const meta = readJson(path.join(share, 'kimi.json'));
  if (!meta) return undefined;
  const direct = isObject(meta.session_to_workdir) ? meta.session_to_workdir[sessionId] : undefined;
  if (typeof direct === 'string' && direct) return direct;
  for (const w of Array.isArray(meta.work_dirs) ? meta.work_dirs : []) {
    const p = isObject(w) ? w.path : undefined;
    if (typeof p === 'string' && p && createHash('md5').update(p, 'utf8').digest('hex') === group) return p;
  }
  return undefined;
}

const USAGE_FIELDS = ['input_other', 'output', 'input_cache_read', 'input_cache_creation'] as const;

export function fromKimiUsage(u: Record<string, unknown>): Tokens | { bad: string } {
  const c = usageCounts(u, 'token_usage', USAGE_FIELDS);
  if ('bad' in c) return c;
  return {
    input: c.input_other,
    output: c.output,
    cacheRead: c.input_cache_read,
    cacheWrite: c.input_cache_creation,
    reasoning: 0,
  };
}

interface KimiState {
  sessionId: string;
  model?: string;
  cwd?: string;
}

/** The wire lines worth a parse: usage and prompts. */
const WIRE_NEEDLES = ['"StatusUpdate"', '"TurnBegin"'].map((s) => Buffer.from(s));

/** Kimi's times: epoch seconds (a float); milliseconds from builds that write them. */
function kimiTime(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return undefined;
  return v < 1e12 ? Math.round(v * 1000) : Math.round(v);
}

class KimiWireParser extends StatefulLineParser<KimiState> {
  constructor(file: LogFile, state: string | null) {
    const restored = restoreState<KimiState>(state);
    const sessionDir = path.dirname(file.path);
    super(restored && typeof restored.sessionId === 'string' ? restored : { sessionId: path.basename(sessionDir) });
    const share = shareDirOf(file.path);
    if (share && !restored) {
      const model = kimiModel(share);
      if (model) this.s.model = model;
      const cwd = kimiWorkDir(share, path.basename(path.dirname(sessionDir)), this.s.sessionId);
      if (cwd) this.s.cwd = cwd;
    }
  }

  private get session(): SessionContext {
    return { source: 'kimi', sessionId: this.s.sessionId, ...(this.s.cwd ? { cwd: this.s.cwd } : {}) };
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const parsed = skimmedJsonLine(buf, start, end, WIRE_NEEDLES);
    if (parsed === null || 'reason' in parsed) return parsed;
    const v = parsed.value;
    const msg = isObject(v.message) ? v.message : undefined;
    if (!msg) return null;
    const p = isObject(msg.payload) ? msg.payload : {};
    const ts = kimiTime(v.timestamp);
    if (msg.type === 'TurnBegin') {
      const input = p.user_input;
      const text =
        typeof input === 'string'
          ? input
          : Array.isArray(input)
            ? input.map((x) => (isObject(x) && typeof x.text === 'string' ? x.text : '')).join('')
            : '';
      if (!text.trim() || text.startsWith('/') || ts === undefined) return null;
      return [
        {
          kind: 'prompt',
          key: `kimi:${this.s.sessionId}:prompt:${String(v.timestamp)}`,
          session: this.session,
          timestamp: ts,
          text,
        },
      ];
    }
    if (msg.type !== 'StatusUpdate') return null;
    if (p.token_usage === undefined || p.token_usage === null) return null; // a status without usage (context only)
    if (!isObject(p.token_usage)) return rejected('token_usage is not an object');
    const tokens = fromKimiUsage(p.token_usage);
    if ('bad' in tokens) return rejected(tokens.bad);
    if (tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite === 0) return null;
    if (ts === undefined) return rejected('StatusUpdate without a timestamp');
    // One step: its message id (repeated updates of a step share it), else its time.
    const id = typeof p.message_id === 'string' && p.message_id ? p.message_id : `t${String(v.timestamp)}`;
    return [
      interactionRecord({
        key: `kimi:${this.s.sessionId}:${id}`,
        session: this.session,
        timestamp: ts,
        model: this.s.model,
        tokens,
      }),
    ];
  }
}

// ------------------------------------------------------------------------------------------------------ Kimi Code

/** `<root>/sessions/<workspace>/<session>/agents/<agent>/wire.jsonl`: Kimi Code's layout. */
function isKimiCodeLog(file: string): boolean {
  return path.basename(path.dirname(path.dirname(file))) === 'agents';
}

/** A model name Kimi Code writes, without its `kimi-code/` prefix; undefined for a symbolic alias (`__name__`) or blank. */
function concreteModel(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = v
    .trim()
    .replace(/^kimi-code\//, '')
    .trim();
  return m && !/^__.*__$/.test(m) ? m : undefined;
}

/** The project folder of a Kimi Code session: `workspaces.json` by workspace slug, else `session_index.jsonl`. */
export function kimiCodeWorkDir(root: string, slug: string, sessionId: string): string | undefined {
  const index = readJson(path.join(root, 'workspaces.json'));
  const entry = index && isObject(index.workspaces) ? index.workspaces[slug] : undefined;
  if (isObject(entry) && typeof entry.root === 'string' && entry.root) return entry.root;
  for (const line of (readRegularText(path.join(root, 'session_index.jsonl'), 16 << 20) ?? '').split('\n')) {
    if (!line.includes(sessionId)) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (!isObject(v) || typeof v.workDir !== 'string' || !v.workDir) continue;
      const dir = typeof v.sessionDir === 'string' ? path.basename(v.sessionDir) : undefined;
      if (v.sessionId === sessionId || dir === sessionId) return v.workDir;
    } catch {
      // a line being written: the next read of the index finds it
    }
  }
  return undefined;
}

const CODE_USAGE_FIELDS = ['inputOther', 'output', 'inputCacheRead', 'inputCacheCreation'];

interface KimiCodeState {
  sessionId: string;
  agent: string;
  /** The model of the latest `llm.request` (a usage record may name only an alias). */
  model?: string;
  cwd?: string;
}

/** The Kimi Code lines worth a parse: usage records and the requests that name their model. */
const CODE_NEEDLES = ['"usage.record"', '"llm.request"'].map((s) => Buffer.from(s));

class KimiCodeParser extends StatefulLineParser<KimiCodeState> {
  constructor(file: string, state: string | null) {
    const restored = restoreState<KimiCodeState>(state);
    const agentDir = path.dirname(file);
    const sessionDir = path.dirname(path.dirname(agentDir));
    super(
      restored && typeof restored.sessionId === 'string'
        ? restored
        : { sessionId: path.basename(sessionDir), agent: path.basename(agentDir) },
    );
    if (!restored) {
      const slugDir = path.dirname(sessionDir);
      const root = path.dirname(path.dirname(slugDir));
      const cwd = kimiCodeWorkDir(root, path.basename(slugDir), this.s.sessionId);
      if (cwd) this.s.cwd = cwd;
    }
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const parsed = skimmedJsonLine(buf, start, end, CODE_NEEDLES);
    if (parsed === null || 'reason' in parsed) return parsed;
    const v = parsed.value;
    if (v.type === 'llm.request') {
      const model = concreteModel(v.model);
      if (model) this.s.model = model;
      return null;
    }
    if (v.type !== 'usage.record' || v.usageScope !== 'turn') return null; // session bookkeeping, or not usage at all
    if (!isObject(v.usage)) return rejected('usage.record without a usage object');
    const u = v.usage;
    const unknown = unknownUsageShape(u, CODE_USAGE_FIELDS, 'usage');
    if (unknown) return rejected(unknown);
    const tokens = fromKimiUsage({
      input_other: u.inputOther,
      output: u.output,
      input_cache_read: u.inputCacheRead,
      input_cache_creation: u.inputCacheCreation,
    });
    if ('bad' in tokens) return rejected(tokens.bad.replace('token_usage', 'usage'));
    if (tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite === 0) return null;
    const ts = typeof v.time === 'number' && Number.isFinite(v.time) && v.time > 0 ? Math.round(v.time) : undefined;
    if (ts === undefined) return rejected('usage.record without a time');
    const session: SessionContext = {
      source: 'kimi',
      sessionId: this.s.sessionId,
      ...(this.s.cwd ? { cwd: this.s.cwd } : {}),
    };
    const model = concreteModel(v.model) ?? this.s.model;
    return [
      interactionRecord({
        key: `kimi:${this.s.sessionId}:${this.s.agent}:${ts}`,
        session,
        timestamp: ts,
        model,
        tokens,
      }),
    ];
  }
}
