import * as path from 'node:path';
import type { EditRecord, LedgerRecord, ParseOutcome, SessionContext } from '../core/usage/model';
import { fromAnthropicUsage } from '../core/usage/tokens';
import {
  isObject,
  has,
  looksLikeJsonObject,
  jsonObjectLine,
  parseTimestamp,
  rejected,
  type LineParser,
  type SourceReader,
} from './parser';
import { eachFile, homeDir, isDirectory, isWithin, uniqueDirs } from './walk';

const USAGE = Buffer.from('"usage"');
const USER = Buffer.from('"user"');
const TOOL_RESULT = Buffer.from('"tool_result"');
const ROLE_USER = Buffer.from('"role":"user"');
const TYPE_USER = Buffer.from('"type":"user"');
/**
 * Tool results (tens of KB each) are most of a Claude Code log's bytes and never carry usage. Their line says so in
 * its first bytes (the user role and a tool_result block), so the rest of the line is never scanned. In compact JSON
 * these byte sequences cannot occur inside a string value (its quotes would be escaped).
 */
const HEAD_BYTES = 1024;

/** Tools whose input names a file the assistant wrote. */
const EDIT_TOOLS: Readonly<Record<string, string>> = {
  Edit: 'file_path',
  MultiEdit: 'file_path',
  Write: 'file_path',
  NotebookEdit: 'notebook_path',
};

/** Prompt lines can be long pastes; past this size they are not hashed (they cannot be "repeated prompts" anyway). */
const MAX_PROMPT_LINE = 256 * 1024;

/**
 * Claude Code: `<root>/projects/<enc>/<sessionId>.jsonl`, subagents in `<enc>/<sessionId>/subagents/agent-*.jsonl`.
 * One line per content block, each repeating message.id, requestId and usage: dedup is by those keys (the ledger keeps
 * the larger copy). The project path comes from each line's `cwd`, never from the lossy folder name.
 */
export const claudeCode: SourceReader = {
  source: 'claude-code',

  roots(env) {
    if (env.CLAUDE_CONFIG_DIR && env.CLAUDE_CONFIG_DIR.trim()) {
      return uniqueDirs(
        env.CLAUDE_CONFIG_DIR.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    }
    const home = homeDir(env);
    const xdg = env.XDG_CONFIG_HOME || path.join(home, '.config');
    return uniqueDirs([path.join(home, '.claude'), path.join(xdg, 'claude')]);
  },

  // One at a time (a year of sessions is 50,000 files): the importer plans each as the walk finds it.
  *discover(roots) {
    for (const root of roots) {
      const projects = projectsDir(root);
      if (!isDirectory(projects)) continue;
      for (const p of eachFile(projects, (n) => n.endsWith('.jsonl'), 4))
        yield { source: 'claude-code' as const, path: p, root };
    }
  },

  sessionFile(roots, p) {
    if (!p.endsWith('.jsonl')) return undefined;
    const root = roots.find((r) => isWithin(projectsDir(r), p, 4));
    return root === undefined ? undefined : { source: 'claude-code', path: p, root };
  },

  createParser(file) {
    return new ClaudeParser(file.path);
  },
};

/** A root is a Claude config dir (holding projects/) or, given explicitly, a projects folder itself. */
function projectsDir(root: string): string {
  return isDirectory(path.join(root, 'projects')) ? path.join(root, 'projects') : root;
}

function sessionIdFromPath(file: string): string {
  const parts = file.split(path.sep);
  const sub = parts.lastIndexOf('subagents');
  if (sub > 0) return parts[sub - 1] ?? path.basename(file, '.jsonl');
  return path.basename(file, '.jsonl');
}

class ClaudeParser implements LineParser {
  private readonly fallbackSessionId: string;

  constructor(file: string) {
    this.fallbackSessionId = sessionIdFromPath(file);
  }

  state(): string | null {
    return null;
  }

  parse(buf: Buffer, start: number, end: number): ParseOutcome {
    const line = buf.subarray(start, end);
    if ((has(line, ROLE_USER, HEAD_BYTES) || has(line, TYPE_USER, HEAD_BYTES)) && has(line, TOOL_RESULT, HEAD_BYTES))
      return null;
    const hasUsage = has(line, USAGE);
    const maybePrompt = !hasUsage && line.length < MAX_PROMPT_LINE && has(line, USER) && !has(line, TOOL_RESULT);
    if (!hasUsage && !maybePrompt) {
      return looksLikeJsonObject(buf, start, end) ? null : rejected('not JSON');
    }
    const parsed = jsonObjectLine(buf, start, end);
    if ('reason' in parsed) return parsed;
    const value = parsed.value;
    if (value.type === 'assistant') return this.assistant(value);
    if (value.type === 'user') return this.prompt(value);
    return null;
  }

  private context(line: Record<string, unknown>): SessionContext {
    const sessionId = typeof line.sessionId === 'string' && line.sessionId ? line.sessionId : this.fallbackSessionId;
    const ctx: SessionContext = { source: 'claude-code', sessionId };
    if (typeof line.cwd === 'string' && line.cwd) ctx.cwd = line.cwd;
    if (typeof line.gitBranch === 'string' && line.gitBranch && line.gitBranch !== 'HEAD') ctx.branch = line.gitBranch;
    return ctx;
  }

  private assistant(line: Record<string, unknown>): ParseOutcome {
    const message = line.message;
    if (!isObject(message)) return rejected('assistant line without a message object');
    const usage = message.usage;
    if (usage === undefined) return null;
    if (!isObject(usage)) return rejected('message.usage is not an object');
    const model = message.model;
    if (model === '<synthetic>' || line.isApiErrorMessage === true) return null;
    if (typeof model !== 'string' || !model) return rejected('message.model missing or not a string');
    const timestamp = parseTimestamp(line.timestamp);
    if (timestamp === undefined) return rejected('timestamp missing or not a date');
    const tokens = fromAnthropicUsage(usage);
    if (!tokens) return rejected('usage counts are not non-negative integers');
    const messageId = typeof message.id === 'string' && message.id ? message.id : undefined;
    const requestId = typeof line.requestId === 'string' && line.requestId ? line.requestId : undefined;
    const uuid = typeof line.uuid === 'string' && line.uuid ? line.uuid : undefined;
    if (!messageId && !uuid) return rejected('assistant line without message.id');
    const key = messageId ? `claude-code:${messageId}${requestId ? `:${requestId}` : ''}` : `claude-code:uuid:${uuid}`;
    const session = this.context(line);
    const { cacheWrite1h, ...canonical } = tokens;
    const records: LedgerRecord[] = [
      {
        kind: 'interaction',
        key,
        session,
        timestamp,
        model,
        tokens: canonical,
        cacheWrite1h,
        sidechain: line.isSidechain === true,
        ...(typeof line.costUSD === 'number' && Number.isFinite(line.costUSD) && line.costUSD >= 0
          ? { recordedCostUSD: line.costUSD }
          : {}),
      },
    ];
    if (Array.isArray(message.content)) {
      for (const block of message.content) {
        const edit = editOf(block, session, timestamp);
        if (edit) records.push(edit);
      }
    }
    return records;
  }

  private prompt(line: Record<string, unknown>): ParseOutcome {
    if (line.isMeta === true || line.isSidechain === true) return null;
    const message = line.message;
    if (!isObject(message)) return null;
    let text: string | undefined;
    if (typeof message.content === 'string') text = message.content;
    else if (Array.isArray(message.content)) {
      const texts = message.content.filter(
        (b): b is Record<string, unknown> => isObject(b) && b.type === 'text' && typeof b.text === 'string',
      );
      if (texts.length === message.content.length && texts.length > 0)
        text = texts.map((b) => String(b.text)).join('\n');
    }
    if (!text || !text.trim()) return null;
    // Slash-command plumbing and interrupted-request notes are not prompts the engineer wrote.
    if (text.startsWith('<command-') || text.startsWith('<local-command-') || text.startsWith('[Request interrupted'))
      return null;
    const timestamp = parseTimestamp(line.timestamp);
    const uuid = typeof line.uuid === 'string' ? line.uuid : undefined;
    if (timestamp === undefined || !uuid) return null;
    return [{ kind: 'prompt', key: `claude-code:prompt:${uuid}`, session: this.context(line), timestamp, text }];
  }
}

function editOf(block: unknown, session: SessionContext, timestamp: number): EditRecord | undefined {
  if (!isObject(block) || block.type !== 'tool_use' || typeof block.name !== 'string') return undefined;
  const field = EDIT_TOOLS[block.name];
  if (!field || !isObject(block.input)) return undefined;
  const p = block.input[field];
  if (typeof p !== 'string' || !p) return undefined;
  return { kind: 'edit', session, timestamp, path: p };
}
