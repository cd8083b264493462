import type { Tokens } from './tokens';

export const SOURCE_NAMES = [
  'claude-code',
  'codex',
  'copilot-chat',
  'gemini-cli',
  'opencode',
  'cline',
  'roo-code',
  'continue',
  'aider',
  'kiro',
  'amazon-q',
  'cursor',
  'copilot-cli',
  'amp',
  'droid',
  'qwen-code',
  'kimi',
  'manual',
] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** How each source is named to a person (keyed by SourceName: a source without a title does not compile). */
export const SOURCE_TITLES: Record<SourceName, string> = {
  'claude-code': 'Claude Code',
  codex: 'Codex CLI',
  'copilot-chat': 'Copilot Chat',
  'gemini-cli': 'Gemini CLI',
  opencode: 'OpenCode',
  cline: 'Cline',
  'roo-code': 'Roo Code',
  continue: 'Continue',
  aider: 'Aider',
  kiro: 'Kiro',
  'amazon-q': 'Amazon Q Developer',
  cursor: 'Cursor',
  'copilot-cli': 'Copilot CLI',
  amp: 'Amp',
  droid: 'Factory Droid',
  'qwen-code': 'Qwen Code',
  kimi: 'Kimi CLI',
  manual: 'Manual entries',
};

/** The tools whose logs are read, by title, as a list in words: `Claude Code, Codex CLI, … or Copilot CLI`. */
export function toolList(conjunction: 'and' | 'or'): string {
  const titles = SOURCE_NAMES.filter((s) => s !== 'manual').map((s) => SOURCE_TITLES[s]);
  return `${titles.slice(0, -1).join(', ')} ${conjunction} ${titles.at(-1) ?? ''}`;
}

/** The title of a source name read from data (a ledger, a rollup): the name itself when it is not one we know. */
export function sourceTitle(source: string): string {
  return isSourceName(source) ? SOURCE_TITLES[source] : source;
}

export function isSourceName(v: string): v is SourceName {
  return (SOURCE_NAMES as readonly string[]).includes(v);
}

export const SESSION_LABELS = ['exploration', 'learning', 'review', 'abandoned'] as const;
export type SessionLabel = (typeof SESSION_LABELS)[number];

export function isSessionLabel(v: string): v is SessionLabel {
  return (SESSION_LABELS as readonly string[]).includes(v);
}

export type SessionStatus = 'shipped' | 'open' | 'unlinked' | SessionLabel;

/** Where a session happened, as far as one log line tells. */
export interface SessionContext {
  source: SourceName;
  sessionId: string;
  cwd?: string;
  branch?: string;
}

/** One billed model request, normalised. `key` is the source's natural key (stable across re-imports and machines). */
export interface InteractionRecord {
  kind: 'interaction';
  key: string;
  session: SessionContext;
  timestamp: number;
  model: string;
  tokens: Tokens;
  /** Part of cacheWrite billed at the 1-hour rate. */
  cacheWrite1h: number;
  /** Cost the tool itself recorded, when it did (USD). */
  recordedCostUSD?: number;
  sidechain: boolean;
  /** The model was not written in the log and a default was assumed. */
  modelAssumed?: boolean;
  /** Token counts were counted from text or rounded by the tool, not reported exactly by it. */
  estimated?: boolean;
  /**
   * Credits the tool metered for this request (Kiro, Amp), a unit of their own: stored and summed as credits beside the
   * tokens, priced at the tool's documented price per credit (core/pricing), never turned into tokens.
   */
  credits?: number;
  /**
   * Received live over OTLP (the local OpenTelemetry receiver) rather than read from a log file: the same request read
   * from a log later replaces it, and data health counts these separately.
   */
  viaOtlp?: boolean;
}

/** A file the assistant edited or created; `path` as the tool wrote it (absolute, or relative to `cwd`). */
export interface EditRecord {
  kind: 'edit';
  session: SessionContext;
  timestamp: number;
  path: string;
}

/** A prompt the engineer typed: only a hash is kept unless the engineer opted in to storing prompt text. */
export interface PromptRecord {
  kind: 'prompt';
  key: string;
  session: SessionContext;
  timestamp: number;
  text: string;
}

export type LedgerRecord = InteractionRecord | EditRecord | PromptRecord;

/** Why a line was rejected; reasons are short and stable so they can be grouped. */
export interface Rejection {
  reason: string;
}

export type ParseOutcome = LedgerRecord[] | Rejection | null;

export function isRejection(v: ParseOutcome): v is Rejection {
  return v !== null && !Array.isArray(v);
}
