import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EditRecord, InteractionRecord, LedgerRecord, ParseOutcome, SessionContext } from '../core/usage/model';
import { fromGeminiTokens } from '../core/usage/tokens';
import {
  isObject,
  jsonObjectLine,
  type LineParser,
  type LogFile,
  parseTimestamp,
  rejected,
  restoreState,
  type SourceReader,
  wholeJson,
  type WholeResult,
} from './parser';
import { homeDir, isDirectory, listDir, uniqueDirs } from './walk';
import { readRegularText } from './regular';
import { pushAll } from '../core/common/numbers';

/** Builds that did not write the model on a reply: the CLI's default model of that era (flagged as assumed). */
export const GEMINI_DEFAULT_MODEL = 'gemini-2.5-pro';

/** Tools whose `args.file_path` names a file the agent wrote. */
const EDIT_TOOLS = new Set(['write_file', 'replace', 'edit', 'smart_edit']);

/**
 * The project folder of a `tmp/<project>` folder: its `.project_root` marker (current builds, slug-named folders), or
 * the project whose entry in `projects.json` names it, or (older builds, folders named by the SHA-256 of the path)
 * the `projects.json` entry whose hash it is. Undefined when nothing says.
 */
export function geminiProjectRoot(projectDir: string): string | undefined {
  try {
    const marker = (readRegularText(path.join(projectDir, '.project_root'), 64 << 10) ?? '').trim();
    if (marker) return marker;
  } catch {
    // no marker: an older layout
  }
  const name = path.basename(projectDir);
  const registry = path.join(path.dirname(path.dirname(projectDir)), 'projects.json');
  let projects: Record<string, unknown> = {};
  try {
    const data: unknown = JSON.parse(readRegularText(registry) ?? '');
    if (isObject(data) && isObject(data.projects)) projects = data.projects;
  } catch {
    return undefined;
  }
  for (const [p, slug] of Object.entries(projects)) {
    if (slug === name) return p;
    if (/^[0-9a-f]{64}$/.test(name) && createHash('sha256').update(p).digest('hex') === name) return p;
  }
  return undefined;
}

/**
 * Gemini CLI: `${GEMINI_CLI_HOME:-~}/.gemini/tmp/<project>/chats/session-*.json|.jsonl`, subagents in
 * `chats/<parentSessionId>/<sessionId>.jsonl`. Legacy `.json` is one ConversationRecord rewritten whole; `.jsonl` is
 * a metadata line, then message records appended again on every update (the last one wins), `{$set}` metadata patches
 * and `{$rewindTo: id}` (that message and everything after it are dropped).
 */
export const geminiCli: SourceReader = {
  source: 'gemini-cli',

  roots(env) {
    const override = env.GEMINI_CLI_HOME && env.GEMINI_CLI_HOME.trim();
    return uniqueDirs([path.join(override || homeDir(env), '.gemini')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      for (const chats of chatFolders(root, 'tmp')) {
        let entries: fs.Dirent[];
        try {
          entries = fs.readdirSync(chats, { withFileTypes: true });
        } catch {
          continue;
        }
        for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
          const p = path.join(chats, e.name);
          if (e.isDirectory()) {
            // Subagent recordings of one parent session.
            for (const sub of listDir(p))
              if (sub.endsWith('.jsonl')) files.push({ source: 'gemini-cli', path: path.join(p, sub), root });
          } else if (e.name.endsWith('.jsonl')) {
            files.push({ source: 'gemini-cli', path: p, root });
          } else if (e.name.endsWith('.json')) {
            files.push({ source: 'gemini-cli', path: p, root, whole: true });
          }
        }
      }
    }
    return files;
  },

  createParser(file, state) {
    return new GeminiParser(file, state);
  },
};

/**
 * The `chats` folders under a root: the tool's folder (`.gemini` holding `tmp/`; its fork Qwen Code's `.qwen` holding
 * `projects/`: the `projects` folder named), that projects folder, one project folder, or a chats folder.
 */
export function chatFolders(root: string, projects: string): string[] {
  if (!isDirectory(root)) return [];
  if (path.basename(root) === 'chats') return [root];
  if (isDirectory(path.join(root, 'chats'))) return [path.join(root, 'chats')];
  const dir = isDirectory(path.join(root, projects)) ? path.join(root, projects) : root;
  return listDir(dir)
    .map((d) => path.join(dir, d, 'chats'))
    .filter(isDirectory);
}

interface GeminiState {
  sessionId?: string;
  cwd?: string | null;
  /** Message ids in conversation order (what a rewind cuts). */
  ids: string[];
  /** Ids whose reply was recorded as an interaction (retracted when a rewind drops them). */
  counted: string[];
}

class GeminiParser implements LineParser {
  private s: GeminiState;
  private readonly subagentOf: string | undefined;
  private readonly fallbackId: string;
  private pending: string[] = [];

  constructor(
    private readonly file: LogFile,
    state: string | null,
  ) {
    const restored = restoreState<GeminiState>(state);
    this.s =
      restored && Array.isArray(restored.ids) && Array.isArray(restored.counted) ? restored : { ids: [], counted: [] };
    const dir = path.dirname(file.path);
    this.subagentOf =
      path.basename(dir) !== 'chats' && path.basename(path.dirname(dir)) === 'chats' ? path.basename(dir) : undefined;
    this.fallbackId = path.basename(file.path).replace(/\.jsonl?$/, '');
    if (this.s.cwd === undefined) {
      const projectDir = path.dirname(this.subagentOf ? path.dirname(dir) : dir);
      this.s.cwd = geminiProjectRoot(projectDir) ?? null;
    }
  }

  state(): string | null {
    return this.file.whole ? null : JSON.stringify(this.s);
  }

  retracted(): string[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const line = jsonObjectLine(buf, start, end);
    if ('reason' in line) return line;
    const value = line.value;
    if (typeof value.$rewindTo === 'string') {
      this.rewind(value.$rewindTo);
      return null;
    }
    if (typeof value.id === 'string') return this.message(value, true);
    if (isObject(value.$set)) {
      const set = value.$set;
      if (typeof set.sessionId === 'string' && set.sessionId && !this.s.sessionId) this.s.sessionId = set.sessionId;
      if (Array.isArray(set.messages)) {
        // The conversation was replaced (compression, a rolled-back turn): its messages are what a rewind cuts from
        // now on. Replies counted before stay counted: their requests were made.
        this.s.ids = [];
        const out: LedgerRecord[] = [];
        for (const m of set.messages) {
          if (!isObject(m) || typeof m.id !== 'string') continue;
          const r = this.message(m, true);
          if (Array.isArray(r)) pushAll(out, r);
        }
        return out;
      }
      return null;
    }
    if (typeof value.sessionId === 'string' && value.sessionId) {
      this.s.sessionId ??= value.sessionId;
      return null;
    }
    return null;
  }

  parseWhole(buf: Buffer): WholeResult | { incomplete: string } {
    const read = wholeJson(buf);
    if ('incomplete' in read) return read;
    const doc = read.doc;
    if (!isObject(doc) || !Array.isArray(doc.messages))
      return { incomplete: 'not a Gemini CLI conversation (no messages list)' };
    if (typeof doc.sessionId === 'string' && doc.sessionId) this.s.sessionId = doc.sessionId;
    const records: LedgerRecord[] = [];
    const rejects: WholeResult['rejects'] = [];
    doc.messages.forEach((m, i) => {
      if (!isObject(m) || typeof m.id !== 'string') {
        rejects.push({ entry: 0, reason: `message ${i + 1}: not a message record` });
        return;
      }
      const r = this.message(m, false);
      if (Array.isArray(r)) pushAll(records, r);
      else if (r) rejects.push({ entry: 0, reason: `message ${i + 1}: ${r.reason}` });
    });
    return { records, rejects };
  }

  private rewind(id: string): void {
    const at = this.s.ids.indexOf(id);
    const dropped = new Set(at === -1 ? this.s.ids : this.s.ids.slice(at));
    this.s.ids = at === -1 ? [] : this.s.ids.slice(0, at);
    const kept: string[] = [];
    for (const c of this.s.counted) {
      if (dropped.has(c)) this.pending.push(this.key(c));
      else kept.push(c);
    }
    this.s.counted = kept;
  }

  private key(id: string): string {
    return `gemini-cli:${this.sessionId()}:${id}`;
  }

  private sessionId(): string {
    return this.s.sessionId ?? this.fallbackId;
  }

  private context(): SessionContext {
    const ctx: SessionContext = { source: 'gemini-cli', sessionId: this.subagentOf ?? this.sessionId() };
    if (this.s.cwd) ctx.cwd = this.s.cwd;
    return ctx;
  }

  private message(m: Record<string, unknown>, track: boolean): ParseOutcome {
    const id = m.id as string;
    if (track && !this.s.ids.includes(id)) this.s.ids.push(id);
    if (m.type === 'user') return this.prompt(m, id);
    if (m.type !== 'gemini') return null;
    const tokens = m.tokens;
    if (tokens === undefined || tokens === null) return null; // not billed yet: a later copy of this id carries them
    if (!isObject(tokens)) return rejected('tokens is not an object');
    const counted = fromGeminiTokens(tokens);
    if (!counted) return rejected('token counts are not non-negative integers');
    const timestamp = parseTimestamp(m.timestamp);
    if (timestamp === undefined) return rejected('timestamp missing or not a date');
    const model = typeof m.model === 'string' && m.model ? m.model : undefined;
    const session = this.context();
    const interaction: InteractionRecord = {
      kind: 'interaction',
      key: this.key(id),
      session,
      timestamp,
      model: model ?? GEMINI_DEFAULT_MODEL,
      tokens: counted,
      cacheWrite1h: 0,
      sidechain: this.subagentOf !== undefined,
      ...(model ? {} : { modelAssumed: true }),
    };
    if (track && !this.s.counted.includes(id)) this.s.counted.push(id);
    const records: LedgerRecord[] = [interaction];
    if (Array.isArray(m.toolCalls)) {
      for (const call of m.toolCalls) {
        if (!isObject(call) || typeof call.name !== 'string' || !EDIT_TOOLS.has(call.name) || !isObject(call.args))
          continue;
        if (call.status !== undefined && call.status !== 'success') continue;
        const p = call.args.file_path ?? call.args.absolute_path;
        if (typeof p === 'string' && p)
          records.push({ kind: 'edit', session, timestamp, path: p } satisfies EditRecord);
      }
    }
    return records;
  }

  private prompt(m: Record<string, unknown>, id: string): ParseOutcome {
    const timestamp = parseTimestamp(m.timestamp);
    let text: string | undefined;
    if (typeof m.content === 'string') text = m.content;
    else if (Array.isArray(m.content)) {
      text = m.content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
    }
    if (!text || !text.trim() || timestamp === undefined || text.startsWith('/')) return null;
    return [
      { kind: 'prompt', key: `gemini-cli:prompt:${this.sessionId()}:${id}`, session: this.context(), timestamp, text },
    ];
  }
}
