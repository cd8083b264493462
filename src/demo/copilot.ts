/**
 * Copilot Chat session files in VS Code's real on-disk formats, for fixtures and demo worlds:
 * `workspaceStorage/<id>/workspace.json`, `chatSessions/<sessionId>.json` (VS Code before 1.109, written whole with
 * `JSON.stringify(…, null, 2)`-style indentation) and `chatSessions/<sessionId>.jsonl` (1.109+, a mutation log:
 * kind 0 initial state, 1 set, 2 push with optional truncate index, 3 delete; compacted into one kind 0 line).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Which generation of the format a request's token counts follow. */
export type CopilotTokenStyle = 'metadata' | 'usage' | 'none';

export interface CopilotRequestSpec {
  requestId: string;
  timestamp: number;
  /** e.g. `copilot/gpt-4.1`; omitted in old files. */
  modelId?: string;
  prompt: string;
  reply: string;
  promptTokens: number;
  outputTokens: number;
  style: CopilotTokenStyle;
  /** Absolute paths of files changed through text-edit groups. */
  edits?: string[];
  /** A request still running: no result yet. */
  pending?: boolean;
}

export interface CopilotSessionSpec {
  sessionId: string;
  creationDate: number;
  requests: CopilotRequestSpec[];
}

function fileUri(p: string): Record<string, unknown> {
  return { $mid: 1, fsPath: p, external: `file://${encodeURI(p)}`, path: p, scheme: 'file' };
}

/** One serialised request as VS Code keeps it (response parts, result with timings and metadata). */
function copilotRequestJson(r: CopilotRequestSpec): Record<string, unknown> {
  const response: unknown[] = [{ value: r.reply, supportThemeIcons: false, supportHtml: false }];
  for (const e of r.edits ?? []) {
    response.push({
      kind: 'textEditGroup',
      uri: fileUri(e),
      edits: [
        [
          {
            text: 'export const x = 1;\n',
            range: { startLineNumber: 1, startColumn: 1, endLineNumber: 1, endColumn: 1 },
          },
        ],
      ],
      done: true,
    });
  }
  const out: Record<string, unknown> = {
    requestId: r.requestId,
    message: {
      text: r.prompt,
      parts: [{ range: { start: 0, endExclusive: r.prompt.length }, kind: 'text', text: r.prompt }],
    },
    variableData: { variables: [] },
    response,
    followups: [],
    isCanceled: false,
    agent: { extensionId: { value: 'GitHub.copilot-chat' }, id: 'github.copilot.editsAgent' },
    contentReferences: [],
    codeCitations: [],
    timestamp: r.timestamp,
  };
  if (r.modelId) out.modelId = r.modelId;
  if (!r.pending) {
    const result: Record<string, unknown> = { timings: { firstProgress: 900, totalElapsed: 4200 } };
    if (r.style === 'metadata') {
      result.metadata = {
        promptTokens: r.promptTokens,
        outputTokens: r.outputTokens,
        modelMessageId: `msg-${r.requestId}`,
        responseId: `resp-${r.requestId}`,
        sessionId: 'x',
        agentId: 'github.copilot.editsAgent',
      };
    } else if (r.style === 'usage') {
      result.usage = {
        promptTokens: r.promptTokens,
        completionTokens: r.outputTokens,
        totalTokens: r.promptTokens + r.outputTokens,
      };
      result.metadata = { modelMessageId: `msg-${r.requestId}` };
    } else {
      result.metadata = { modelMessageId: `msg-${r.requestId}` };
    }
    out.result = result;
  }
  return out;
}

function copilotSessionJson(s: CopilotSessionSpec): Record<string, unknown> {
  return {
    version: 3,
    requesterUsername: 'me',
    responderUsername: 'GitHub Copilot',
    initialLocation: 'panel',
    requests: s.requests.map(copilotRequestJson),
    sessionId: s.sessionId,
    creationDate: s.creationDate,
    isImported: false,
    lastMessageDate: s.requests.reduce((m, r) => Math.max(m, r.timestamp), s.creationDate),
  };
}

/** `<user>/workspaceStorage/<id>/` with its workspace.json pointing at `folder`; returns the chatSessions folder. */
export function copilotWorkspace(userDir: string, workspaceId: string, folder: string | null): string {
  const ws = path.join(userDir, 'workspaceStorage', workspaceId);
  fs.mkdirSync(path.join(ws, 'chatSessions'), { recursive: true });
  if (folder)
    fs.writeFileSync(path.join(ws, 'workspace.json'), JSON.stringify({ folder: `file://${encodeURI(folder)}` }));
  return path.join(ws, 'chatSessions');
}

/** A pre-1.109 session document (rewritten whole on every change). */
export function writeCopilotJson(chatDir: string, s: CopilotSessionSpec): string {
  const file = path.join(chatDir, `${s.sessionId}.json`);
  fs.writeFileSync(file, JSON.stringify(copilotSessionJson(s), null, 2));
  return file;
}

/**
 * A 1.109+ mutation log built the way VS Code writes one: the empty session, then per request a push onto
 * `requests`, a streamed response (pushes with a truncate index), and the result set when it completes.
 * `compact` writes the whole state as one kind 0 line instead (what compaction leaves).
 */
export function copilotMutationLines(s: CopilotSessionSpec, compact = false): string[] {
  const full = copilotSessionJson(s);
  if (compact) return [JSON.stringify({ kind: 0, v: full })];
  const lines: unknown[] = [{ kind: 0, v: { ...full, requests: [] } }];
  s.requests.forEach((r, i) => {
    const req = copilotRequestJson(r);
    const { response, result, ...head } = req;
    lines.push({ kind: 2, k: ['requests'], v: [{ ...head, response: [] }] });
    const parts = response as unknown[];
    // Streaming: a first partial markdown part, then the part replaced (truncate at 0) with the whole response.
    lines.push({
      kind: 2,
      k: ['requests', i, 'response'],
      v: [{ value: r.reply.slice(0, Math.ceil(r.reply.length / 2)) }],
    });
    lines.push({ kind: 2, k: ['requests', i, 'response'], v: parts, i: 0 });
    if (result !== undefined) lines.push({ kind: 1, k: ['requests', i, 'result'], v: result });
    lines.push({ kind: 1, k: ['lastMessageDate'], v: r.timestamp });
  });
  return lines.map((l) => JSON.stringify(l));
}

export function writeCopilotJsonl(chatDir: string, s: CopilotSessionSpec, compact = false): string {
  const file = path.join(chatDir, `${s.sessionId}.jsonl`);
  fs.writeFileSync(file, `${copilotMutationLines(s, compact).join('\n')}\n`);
  return file;
}
