import * as path from 'node:path';
import type { LedgerRecord, SessionContext, SourceName } from '../core/usage/model';
import { costUSD } from '../core/usage/pricing';
import { countsOf, type Tokens } from '../core/usage/tokens';
import { isObject, type LogFile, restoreState, type SourceReader, WholeJsonParser, type WholeResult } from './parser';
import { vscodeUserDirs } from './vscodeUser';
import { isDirectory, isLogCandidate, listDir, uniqueDirs } from './walk';
import { readRegularText } from './regular';

/** The model when a task recorded none (older builds keep no task_metadata.json): flagged as assumed. */
export const CLINE_UNKNOWN_MODEL = 'unknown';

const CWD_IN_REQUEST = /# Current (?:Working|Workspace) Directory \(([^)\n]+)\)/;
/** Roo Code names the model in every request's environment details (`# Current Mode … <model>id</model>`). */
const MODEL_IN_REQUEST = /<model>([^<\n]{1,200})<\/model>/g;

/** The last `<model>` a request text names (the environment details come after what the user typed). */
function modelInText(text: string): string | undefined {
  let found: string | undefined;
  for (const m of text.matchAll(MODEL_IN_REQUEST)) found = m[1]?.trim() || found;
  return found;
}
/**
 * Providers whose `tokensIn` is the OpenAI-style prompt count, cache reads included (their usage is passed through
 * from an OpenAI-compatible API): used when the recorded cost cannot tell. Evidence: every recorded OpenRouter cost
 * equals (tokensIn − cacheReads) × input + cacheReads × cache read + tokensOut × output.
 */
const INCLUSIVE_PROVIDERS = new Set([
  'openrouter',
  'openai',
  'openai-native',
  'requesty',
  'litellm',
  'deepseek',
  'xai',
  'groq',
  'together',
  'fireworks',
  'cerebras',
  'sambanova',
  'nebius',
  'huggingface',
  'lmstudio',
  'ollama',
  'vercel-ai-gateway',
]);

interface Flavour {
  source: SourceName;
  /** The extension's id: its folder under globalStorage. */
  extensionId: string;
  /** `record_source` of files the agent edited, in task_metadata.json. */
  editedBy: string;
}

/**
 * Cline (`saoudrizwan.claude-dev`) and Roo Code (`rooveterinaryinc.roo-cline`) keep one folder per task under their
 * VS Code global storage: `tasks/<taskId>/ui_messages.json` (rewritten whole on every change). Usage lives in
 * `say: "api_req_started"` entries whose `text` is a JSON string `{tokensIn, tokensOut, cacheWrites, cacheReads,
 * cost}`; an entry still streaming has no counts yet. `task_metadata.json` lists the files the agent edited and the
 * models it used.
 */
function clineReader(f: Flavour): SourceReader {
  return {
    source: f.source,

    roots(env) {
      return uniqueDirs(vscodeUserDirs(env).map((u) => path.join(u, 'globalStorage', f.extensionId)));
    },

    discover(roots) {
      const files: LogFile[] = [];
      for (const root of roots) {
        for (const tasks of taskFolders(root, f.extensionId)) {
          for (const id of listDir(tasks)) {
            const ui = path.join(tasks, id, 'ui_messages.json');
            if (isLogCandidate(ui))
              files.push({
                source: f.source,
                path: ui,
                root,
                whole: true,
                companions: [
                  path.join(tasks, id, 'task_metadata.json'),
                  path.join(tasks, id, 'api_conversation_history.json'),
                ],
              });
          }
        }
      }
      return files;
    },

    createParser(file, state) {
      return new ClineParser(file, f, state);
    },
  };
}

/** `tasks` folders under a root: the extension's storage folder, a VS Code user folder, or a tasks folder itself. */
function taskFolders(root: string, extensionId: string): string[] {
  if (!isDirectory(root)) return [];
  if (path.basename(root) === 'tasks') return [root];
  const own = path.join(root, 'tasks');
  if (isDirectory(own)) return [own];
  const inUser = path.join(root, 'globalStorage', extensionId, 'tasks');
  return isDirectory(inUser) ? [inUser] : [];
}

export const cline = clineReader({ source: 'cline', extensionId: 'saoudrizwan.claude-dev', editedBy: 'cline_edited' });
export const rooCode = clineReader({
  source: 'roo-code',
  extensionId: 'rooveterinaryinc.roo-cline',
  editedBy: 'roo_edited',
});

interface ModelUse {
  ts: number;
  model: string;
  provider?: string;
}

interface Metadata {
  models: ModelUse[];
  edits: Array<{ path: string; ts: number }>;
}

function readMetadata(file: string, editedBy: string): Metadata {
  const out: Metadata = { models: [], edits: [] };
  let data: unknown;
  try {
    data = JSON.parse(readRegularText(file) ?? '');
  } catch {
    return out;
  }
  if (!isObject(data)) return out;
  if (Array.isArray(data.model_usage)) {
    for (const m of data.model_usage) {
      if (isObject(m) && typeof m.model_id === 'string' && m.model_id && typeof m.ts === 'number') {
        out.models.push({
          ts: m.ts,
          model: m.model_id,
          ...(typeof m.model_provider_id === 'string' && m.model_provider_id ? { provider: m.model_provider_id } : {}),
        });
      }
    }
    out.models.sort((a, b) => a.ts - b.ts);
  }
  if (Array.isArray(data.files_in_context)) {
    for (const e of data.files_in_context) {
      if (!isObject(e) || typeof e.path !== 'string' || !e.path) continue;
      const edited =
        e.record_source === editedBy || e.record_source === 'cline_edited' || e.record_source === 'roo_edited';
      const editDate = Object.entries(e).find(
        ([k, v]) => k.endsWith('_edit_date') && k !== 'user_edit_date' && typeof v === 'number',
      )?.[1];
      if (edited || typeof editDate === 'number')
        out.edits.push({ path: e.path, ts: typeof editDate === 'number' ? editDate : 0 });
    }
  }
  return out;
}

/** The model in force at `ts`: the latest recorded switch at or before it (the first one for earlier requests). */
function modelAt(models: ModelUse[], ts: number): ModelUse | undefined {
  let found = models[0];
  for (const m of models) {
    if (m.ts <= ts) found = m;
    else break;
  }
  return found;
}

/**
 * Models named in the task's conversation history (`api_conversation_history.json`), for tasks without
 * task_metadata.json: an assistant message's `modelInfo.modelId` (Cline), or the `<model>` of a request's environment
 * details (Roo Code). Entries without a time count from the task's start.
 */
function modelsFromHistory(file: string): ModelUse[] {
  let data: unknown;
  try {
    data = JSON.parse(readRegularText(file) ?? '');
  } catch {
    return [];
  }
  if (!Array.isArray(data)) return [];
  const out: ModelUse[] = [];
  for (const m of data) {
    if (!isObject(m)) continue;
    const ts = typeof m.ts === 'number' && Number.isFinite(m.ts) ? m.ts : 0;
    const info = isObject(m.modelInfo) ? m.modelInfo : undefined;
    if (info && typeof info.modelId === 'string' && info.modelId) {
      out.push({
        ts,
        model: info.modelId,
        ...(typeof info.providerId === 'string' && info.providerId ? { provider: info.providerId } : {}),
      });
      continue;
    }
    if (m.role !== 'user') continue;
    const texts =
      typeof m.content === 'string'
        ? [m.content]
        : Array.isArray(m.content)
          ? m.content.map((c) => (isObject(c) && typeof c.text === 'string' ? c.text : ''))
          : [];
    for (const t of texts) {
      const named = modelInText(t);
      if (named) out.push({ ts, model: named });
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/** Raw counts as Cline writes them (`tokensIn` meaning depends on the provider: see clineTokens). */
interface RawUsage {
  tokensIn: number;
  tokensOut: number;
  cacheWrites: number;
  cacheReads: number;
  cost: number;
}

/**
 * Canonical tokens of one request. Cline's Anthropic-style providers write `tokensIn` without the cache; OpenAI-style
 * ones (OpenRouter among them) write the prompt count, cache reads included. Decided per request from evidence:
 * cache reads above tokensIn can only be the first; Roo's `apiProtocol` says which; else the recorded cost, when the
 * model is priced, is matched against both readings; else the provider's known shape; else the first.
 */
export function clineTokens(
  raw: RawUsage,
  evidence: { provider?: string; apiProtocol?: string; model?: string; costRecorded: boolean },
): Tokens {
  const exclusive: Tokens = {
    input: raw.tokensIn,
    output: raw.tokensOut,
    cacheRead: raw.cacheReads,
    cacheWrite: raw.cacheWrites,
    reasoning: 0,
  };
  if (raw.cacheReads === 0 || raw.cacheReads > raw.tokensIn) return exclusive;
  const inclusive: Tokens = { ...exclusive, input: raw.tokensIn - raw.cacheReads };
  if (evidence.apiProtocol === 'anthropic') return exclusive;
  if (evidence.apiProtocol === 'openai') return inclusive;
  if (evidence.costRecorded && raw.cost > 0 && evidence.model) {
    const a = costUSD(evidence.model, { ...exclusive, cacheWrite1h: 0 });
    const b = costUSD(evidence.model, { ...inclusive, cacheWrite1h: 0 });
    if (a !== null && b !== null && a !== b)
      return Math.abs(b - raw.cost) < Math.abs(a - raw.cost) ? inclusive : exclusive;
  }
  return evidence.provider && INCLUSIVE_PROVIDERS.has(evidence.provider.toLowerCase()) ? inclusive : exclusive;
}

/** What a task file's earlier reads counted: raw counts by request time, so a checkpoint restore's total is not counted twice. */
interface ClineState {
  /** [ts, tokensIn, tokensOut, cacheWrites, cacheReads, cost in nano-USD] of every request (or restore total) counted. */
  seen: Array<[number, number, number, number, number, number]>;
}

/** The task's working folder from the task history the extension keeps beside its tasks (`state/taskHistory.json`). */
function cwdFromHistory(tasksDir: string, taskId: string): string | undefined {
  const file = path.join(path.dirname(tasksDir), 'state', 'taskHistory.json');
  let items: unknown;
  try {
    items = JSON.parse(readRegularText(file) ?? '');
  } catch {
    return undefined;
  }
  if (!Array.isArray(items)) return undefined;
  for (const it of items) {
    if (isObject(it) && it.id === taskId) {
      const cwd = it.cwdOnTaskInitialization ?? it.workspace;
      return typeof cwd === 'string' && cwd ? cwd : undefined;
    }
  }
  return undefined;
}

/** The model a ui_messages entry names itself: Cline's `modelInfo` on the message, or Roo's `<model>` in the request text. */
function requestModel(m: Record<string, unknown>, info: Record<string, unknown>): ModelUse | undefined {
  const mi = isObject(m.modelInfo) ? m.modelInfo : undefined;
  if (mi && typeof mi.modelId === 'string' && mi.modelId) {
    return {
      ts: 0,
      model: mi.modelId,
      ...(typeof mi.providerId === 'string' && mi.providerId ? { provider: mi.providerId } : {}),
    };
  }
  const named = typeof info.request === 'string' ? modelInText(info.request) : undefined;
  return named ? { ts: 0, model: named } : undefined;
}

class ClineParser extends WholeJsonParser {
  private s: ClineState;

  constructor(
    private readonly file: LogFile,
    private readonly f: Flavour,
    state: string | null = null,
  ) {
    super();
    const restored = restoreState<ClineState>(state);
    this.s = restored && Array.isArray(restored.seen) ? restored : { seen: [] };
  }

  override state(): string | null {
    return this.s.seen.length ? JSON.stringify(this.s) : null;
  }

  private remember(ts: number, raw: RawUsage): void {
    if (this.s.seen.some((e) => e[0] === ts)) return;
    this.s.seen.push([ts, raw.tokensIn, raw.tokensOut, raw.cacheWrites, raw.cacheReads, Math.round(raw.cost * 1e9)]);
  }

  /**
   * A checkpoint restore removes the requests after the restore point and writes their total as `deleted_api_reqs`
   * ("so we don't lose costs/tokens"): counted, less what earlier reads of this file already counted of those
   * requests (they stay in the ledger). The removed requests lie between the entry before it and it.
   */
  private restored(after: number, at: number, total: RawUsage): RawUsage | undefined {
    const inside = this.s.seen.filter((e) => e[0] > after && e[0] < at);
    const rest: RawUsage = { ...total };
    for (const e of inside) {
      rest.tokensIn -= e[1];
      rest.tokensOut -= e[2];
      rest.cacheWrites -= e[3];
      rest.cacheReads -= e[4];
      rest.cost -= e[5] / 1e9;
    }
    // The restore's total now stands for what it covered (a later restore that removes it counts it once).
    this.s.seen = this.s.seen.filter((e) => !(e[0] > after && e[0] < at));
    this.remember(at, total);
    const clamp = (n: number): number => Math.max(0, Math.round(n));
    const r: RawUsage = {
      tokensIn: clamp(rest.tokensIn),
      tokensOut: clamp(rest.tokensOut),
      cacheWrites: clamp(rest.cacheWrites),
      cacheReads: clamp(rest.cacheReads),
      cost: Math.max(0, rest.cost),
    };
    return r.tokensIn + r.tokensOut + r.cacheWrites + r.cacheReads > 0 ? r : undefined;
  }

  parseDoc(messages: unknown): WholeResult | { incomplete: string } {
    if (!Array.isArray(messages)) return { incomplete: 'not a list of task messages' };
    const taskDir = path.dirname(this.file.path);
    const taskId = path.basename(taskDir);
    const meta = readMetadata(path.join(taskDir, 'task_metadata.json'), this.f.editedBy);
    let history: ModelUse[] | undefined; // read only when a request's model is not in task_metadata.json
    let cwd = cwdFromHistory(path.dirname(taskDir), taskId);
    const records: LedgerRecord[] = [];
    const rejects: WholeResult['rejects'] = [];
    const session = (): SessionContext => ({ source: this.f.source, sessionId: taskId, ...(cwd ? { cwd } : {}) });
    let lastStarted: { index: number; ts: number; counted: boolean } | undefined;
    let prevTs: number | undefined;
    let lastUse: ModelUse | undefined; // the model in force: a restore's total (no model of its own) was run on it
    messages.forEach((m, i) => {
      const before = prevTs;
      if (isObject(m) && typeof m.ts === 'number' && Number.isFinite(m.ts)) prevTs = m.ts;
      if (!isObject(m) || m.type !== 'say') return;
      if (m.say !== 'api_req_started' && m.say !== 'api_req_finished' && m.say !== 'deleted_api_reqs') return;
      const entry = i + 1;
      if (typeof m.text !== 'string') {
        if (m.say !== 'api_req_finished' && m.partial !== true)
          rejects.push({ entry: 0, reason: `entry ${entry}: ${m.say} without text` });
        return;
      }
      let info: unknown;
      try {
        info = JSON.parse(m.text);
      } catch {
        rejects.push({
          entry: 0,
          reason: `entry ${entry}: ${m.say === 'deleted_api_reqs' ? 'deleted_api_reqs' : 'api_req_started'} text is not JSON`,
        });
        return;
      }
      if (!isObject(info)) return;
      if (!cwd && typeof info.request === 'string') cwd = CWD_IN_REQUEST.exec(info.request)?.[1]?.trim();
      const ts = typeof m.ts === 'number' && Number.isFinite(m.ts) ? m.ts : undefined;
      if (m.say !== 'api_req_finished' && ts === undefined) {
        rejects.push({ entry: 0, reason: `entry ${entry}: ts missing or not a number` });
        return;
      }
      if (m.say === 'api_req_started' && ts !== undefined) lastStarted = { index: i, ts, counted: false };
      // Early builds put the counts on a separate api_req_finished entry after the request's api_req_started.
      const at = m.say !== 'api_req_finished' ? ts : lastStarted && !lastStarted.counted ? lastStarted.ts : undefined;
      if (at === undefined) return;
      if (info.tokensIn === undefined && info.tokensOut === undefined) return; // still streaming: counts come later
      const counts = countsOf(info, ['tokensIn', 'tokensOut', 'cacheWrites', 'cacheReads']);
      if (!counts) {
        rejects.push({ entry: 0, reason: `entry ${entry}: token counts are not non-negative integers` });
        return;
      }
      const cost =
        typeof info.cost === 'number' && Number.isFinite(info.cost) && info.cost >= 0 ? info.cost : undefined;
      let raw: RawUsage | undefined = { ...counts, cost: cost ?? 0 };
      let key = `${this.f.source}:${taskId}:${at}`;
      if (m.say === 'deleted_api_reqs') {
        raw = this.restored(before ?? 0, at, raw);
        if (!raw) return;
        key = `${this.f.source}:${taskId}:restored:${at}`;
      } else {
        if (lastStarted) lastStarted.counted = true;
        this.remember(at, raw);
      }
      const named = requestModel(m, info);
      let use = named ?? modelAt(meta.models, at);
      if (!use) {
        history ??= modelsFromHistory(path.join(taskDir, 'api_conversation_history.json'));
        use = modelAt(history, at) ?? lastUse;
      }
      lastUse = use;
      const model = use?.model;
      const tokens = clineTokens(raw, {
        ...((use?.provider ?? named?.provider) ? { provider: use?.provider ?? named?.provider } : {}),
        ...(typeof info.apiProtocol === 'string' ? { apiProtocol: info.apiProtocol } : {}),
        ...(model ? { model } : {}),
        costRecorded: cost !== undefined,
      });
      records.push({
        kind: 'interaction',
        key,
        session: session(),
        timestamp: at,
        model: model ?? CLINE_UNKNOWN_MODEL,
        tokens,
        cacheWrite1h: 0,
        sidechain: false,
        ...(cost !== undefined ? { recordedCostUSD: raw.cost } : {}),
        ...(model ? {} : { modelAssumed: true }),
      });
    });
    const firstTs = records[0]?.timestamp ?? 0;
    for (const e of meta.edits)
      records.push({ kind: 'edit', session: session(), timestamp: e.ts || firstTs, path: e.path });
    return { records, rejects };
  }
}
