import * as path from 'node:path';
import type { ParseOutcome, SessionContext } from '../core/usage/model';
import { type Tokens, usageCounts } from '../core/usage/tokens';
import {
  interactionRecord,
  skimmedJsonLine,
  parseTimestamp,
  rejected,
  restoreState,
  isObject,
  StatefulLineParser,
  type LogFile,
  type SourceReader,
} from './parser';
import { chatFolders } from './gemini';
import { homeDir, isLogCandidate, listDir, uniqueDirs } from './walk';

/**
 * Qwen Code (a Gemini CLI fork): `~/.qwen/projects/<project>/chats/<sessionId>.jsonl`, an append-only log of chat
 * records `{uuid, parentUuid, sessionId, timestamp, type: user|assistant|tool_result|system, cwd, version,
 * gitBranch, message, model, usageMetadata}`. Each assistant record is one model response with the API's
 * `usageMetadata{promptTokenCount, candidatesTokenCount, cachedContentTokenCount, thoughtsTokenCount,
 * totalTokenCount}`, keyed by its `uuid` (a record written again — a resumed session — counts once).
 *
 * Canonical counts as for Gemini CLI: the prompt count includes the cached input (input = prompt − cached, cacheRead =
 * cached). Whether the thoughts are inside the candidates count depends on the API behind it: Gemini reports them
 * apart (total = prompt + candidates + thoughts), OpenAI-compatible APIs — Qwen Code's usual path — inside the
 * completion count (total = prompt + candidates). `totalTokenCount` says which; without it they are taken as inside
 * (never counted twice).
 */
export const qwenCode: SourceReader = {
  source: 'qwen-code',

  roots(env) {
    return uniqueDirs([path.join(homeDir(env), '.qwen')]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (isLogCandidate(root)) {
        if (root.endsWith('.jsonl')) files.push({ source: 'qwen-code', path: root, root });
        continue;
      }
      for (const chats of chatFolders(root, 'projects')) {
        for (const name of listDir(chats)) {
          const p = path.join(chats, name);
          if (name.endsWith('.jsonl') && isLogCandidate(p)) files.push({ source: 'qwen-code', path: p, root });
        }
      }
    }
    return files;
  },

  createParser(file, state) {
    return new QwenParser(file.path, state);
  },
};

const USAGE_FIELDS = [
  'promptTokenCount',
  'candidatesTokenCount',
  'cachedContentTokenCount',
  'thoughtsTokenCount',
  'totalTokenCount',
] as const;

/** `usageMetadata` → canonical tokens, or why it cannot be read. */
export function fromUsageMetadata(u: Record<string, unknown>): Tokens | { bad: string } {
  const c = usageCounts(u, 'usageMetadata', USAGE_FIELDS);
  if ('bad' in c) return c;
  const {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    cachedContentTokenCount: cached,
    thoughtsTokenCount: thoughts,
  } = c;
  const total = u.totalTokenCount === undefined || u.totalTokenCount === null ? undefined : c.totalTokenCount;
  const cacheRead = Math.min(cached, prompt);
  const apart = thoughts > 0 && total !== undefined && total === prompt + candidates + thoughts;
  const output = apart ? candidates + thoughts : candidates;
  return { input: prompt - cacheRead, cacheRead, cacheWrite: 0, output, reasoning: Math.min(thoughts, output) };
}

interface QwenState {
  sessionId?: string;
  cwd?: string;
  branch?: string;
}

const NEEDLES = ['"assistant"', '"user"'].map((s) => Buffer.from(s));

class QwenParser extends StatefulLineParser<QwenState> {
  private readonly fallbackId: string;

  constructor(file: string, state: string | null) {
    super(restoreState<QwenState>(state) ?? {});
    this.fallbackId = path.basename(file, '.jsonl');
  }

  private session(): SessionContext {
    return {
      source: 'qwen-code',
      sessionId: this.s.sessionId ?? this.fallbackId,
      ...(this.s.cwd ? { cwd: this.s.cwd } : {}),
      ...(this.s.branch ? { branch: this.s.branch } : {}),
    };
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    // Tool results and system records (often large) are skipped unparsed; a line that is no JSON at all is rejected.
    const parsed = skimmedJsonLine(buf, start, end, NEEDLES);
    if (parsed === null || 'reason' in parsed) return parsed;
    const v = parsed.value;
    if (typeof v.sessionId === 'string' && v.sessionId) this.s.sessionId ??= v.sessionId;
    if (typeof v.cwd === 'string' && v.cwd) this.s.cwd = v.cwd;
    if (typeof v.gitBranch === 'string' && v.gitBranch) this.s.branch = v.gitBranch;
    const ts = parseTimestamp(v.timestamp);
    const id = typeof v.uuid === 'string' && v.uuid ? v.uuid : undefined;
    if (v.type === 'user') {
      const msg = isObject(v.message) ? v.message : {};
      const text = Array.isArray(msg.parts)
        ? msg.parts.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('')
        : '';
      if (!text.trim() || text.startsWith('/') || ts === undefined || !id) return null;
      return [
        {
          kind: 'prompt',
          key: `qwen-code:${this.session().sessionId}:prompt:${id}`,
          session: this.session(),
          timestamp: ts,
          text,
        },
      ];
    }
    if (v.type !== 'assistant') return null;
    if (v.usageMetadata === undefined || v.usageMetadata === null) return null; // a response without accounting (aborted)
    if (!isObject(v.usageMetadata)) return rejected('usageMetadata is not an object');
    const tokens = fromUsageMetadata(v.usageMetadata);
    if ('bad' in tokens) return rejected(tokens.bad);
    if (tokens.input + tokens.output + tokens.cacheRead === 0) return null;
    if (ts === undefined) return rejected('assistant record without a timestamp');
    if (!id) return rejected('assistant record without a uuid');
    const model = typeof v.model === 'string' && v.model ? v.model : undefined;
    return [
      interactionRecord({
        key: `qwen-code:${this.session().sessionId}:${id}`,
        session: this.session(),
        timestamp: ts,
        model,
        tokens,
      }),
    ];
  }
}
