import * as path from 'node:path';
import type { LedgerRecord, SessionContext, SourceName } from '../core/usage/model';
import { optionalCount } from '../core/usage/tokens';
import { isObject, type LogFile, type SourceReader, WholeFileParser, wholeJson, type WholeResult } from './parser';
import { vscodeUserDirs } from './vscodeUser';
import { isDirectory, isLogCandidate, listDir, uniqueDirs } from './walk';
import { readRegularText } from './regular';

/** The model when a task recorded none (older builds keep no task_metadata.json): flagged as assumed. */
export const CLINE_UNKNOWN_MODEL = 'unknown';

const CWD_IN_REQUEST = /# Current (?:Working|Workspace) Directory \(([^)\n]+)\)/;

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
            if (isLogCandidate(ui)) files.push({ source: f.source, path: ui, root, whole: true, companions: [path.join(tasks, id, 'task_metadata.json')] });
          }
        }
      }
      return files;
    },

    createParser(file) {
      return new ClineParser(file, f);
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
export const rooCode = clineReader({ source: 'roo-code', extensionId: 'rooveterinaryinc.roo-cline', editedBy: 'roo_edited' });

interface ModelUse {
  ts: number;
  model: string;
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
      if (isObject(m) && typeof m.model_id === 'string' && m.model_id && typeof m.ts === 'number') out.models.push({ ts: m.ts, model: m.model_id });
    }
    out.models.sort((a, b) => a.ts - b.ts);
  }
  if (Array.isArray(data.files_in_context)) {
    for (const e of data.files_in_context) {
      if (!isObject(e) || typeof e.path !== 'string' || !e.path) continue;
      const edited = e.record_source === editedBy || e.record_source === 'cline_edited' || e.record_source === 'roo_edited';
      const editDate = Object.entries(e).find(([k, v]) => k.endsWith('_edit_date') && k !== 'user_edit_date' && typeof v === 'number')?.[1];
      if (edited || typeof editDate === 'number') out.edits.push({ path: e.path, ts: typeof editDate === 'number' ? editDate : 0 });
    }
  }
  return out;
}

/** The model in force at `ts`: the latest recorded switch at or before it (the first one for earlier requests). */
function modelAt(models: ModelUse[], ts: number): string | undefined {
  let found = models[0]?.model;
  for (const m of models) {
    if (m.ts <= ts) found = m.model;
    else break;
  }
  return found;
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

class ClineParser extends WholeFileParser {
  constructor(private readonly file: LogFile, private readonly f: Flavour) {
    super();
  }

  parseWhole(buf: Buffer): WholeResult | { incomplete: string } {
    const read = wholeJson(buf);
    if ('incomplete' in read) return read;
    const messages = read.doc;
    if (!Array.isArray(messages)) return { incomplete: 'not a list of task messages' };
    const taskDir = path.dirname(this.file.path);
    const taskId = path.basename(taskDir);
    const meta = readMetadata(path.join(taskDir, 'task_metadata.json'), this.f.editedBy);
    let cwd = cwdFromHistory(path.dirname(taskDir), taskId);
    const records: LedgerRecord[] = [];
    const rejects: WholeResult['rejects'] = [];
    const session = (): SessionContext => ({ source: this.f.source, sessionId: taskId, ...(cwd ? { cwd } : {}) });
    let lastStarted: { index: number; ts: number; counted: boolean } | undefined;
    messages.forEach((m, i) => {
      if (!isObject(m) || m.type !== 'say') return;
      if (m.say !== 'api_req_started' && m.say !== 'api_req_finished') return;
      const entry = i + 1;
      if (typeof m.text !== 'string') {
        if (m.say === 'api_req_started' && m.partial !== true) rejects.push({ entry: 0, reason: `entry ${entry}: api_req_started without text` });
        return;
      }
      let info: unknown;
      try {
        info = JSON.parse(m.text);
      } catch {
        rejects.push({ entry: 0, reason: `entry ${entry}: api_req_started text is not JSON` });
        return;
      }
      if (!isObject(info)) return;
      if (!cwd && typeof info.request === 'string') cwd = CWD_IN_REQUEST.exec(info.request)?.[1]?.trim();
      const ts = typeof m.ts === 'number' && Number.isFinite(m.ts) ? m.ts : undefined;
      if (m.say === 'api_req_started') {
        if (ts === undefined) {
          rejects.push({ entry: 0, reason: `entry ${entry}: ts missing or not a number` });
          return;
        }
        lastStarted = { index: i, ts, counted: false };
      }
      // Early builds put the counts on a separate api_req_finished entry after the request's api_req_started.
      const at = m.say === 'api_req_started' ? ts : lastStarted && !lastStarted.counted ? lastStarted.ts : undefined;
      if (at === undefined) return;
      if (info.tokensIn === undefined && info.tokensOut === undefined) return; // still streaming: counts come later
      const input = optionalCount(info.tokensIn);
      const output = optionalCount(info.tokensOut);
      const cacheWrite = optionalCount(info.cacheWrites);
      const cacheRead = optionalCount(info.cacheReads);
      if (input === undefined || output === undefined || cacheWrite === undefined || cacheRead === undefined) {
        rejects.push({ entry: 0, reason: `entry ${entry}: token counts are not non-negative integers` });
        return;
      }
      if (lastStarted) lastStarted.counted = true;
      const model = modelAt(meta.models, at);
      const cost = info.cost;
      records.push({
        kind: 'interaction',
        key: `${this.f.source}:${taskId}:${at}`,
        session: session(),
        timestamp: at,
        model: model ?? CLINE_UNKNOWN_MODEL,
        tokens: { input, output, cacheRead, cacheWrite, reasoning: 0 },
        cacheWrite1h: 0,
        sidechain: false,
        ...(typeof cost === 'number' && Number.isFinite(cost) && cost >= 0 ? { recordedCostUSD: cost } : {}),
        ...(model ? {} : { modelAssumed: true }),
      });
    });
    const firstTs = records[0]?.timestamp ?? 0;
    for (const e of meta.edits) records.push({ kind: 'edit', session: session(), timestamp: e.ts || firstTs, path: e.path });
    return { records, rejects };
  }
}
