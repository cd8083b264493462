import type { Database } from 'sql.js';
import type {
  InteractionRecord,
  LedgerRecord,
  ParseOutcome,
  Rejection,
  SessionContext,
  SourceName,
} from '../core/usage/model';
import type { Tokens } from '../core/usage/tokens';

/** What the importer lends a whole-file parser: a SQLite engine (sql.js) for tools that keep a database. */
export interface WholeContext {
  /** Opens an in-memory copy of a database image (never the file itself); the caller closes it. */
  openSqlite(bytes: Uint8Array): Database;
}

/** What a whole-file parser found: its records, and the entries it could not use (each with where and why). */
export interface WholeResult {
  records: LedgerRecord[];
  /**
   * `entry`: the line it is on when the file is made of lines (a mutation log), else 0 — a JSON document's entry or a
   * database row is no line a user could open the file at, so the reason names it instead ("entry 7: …").
   */
  rejects: Array<{ entry: number; reason: string }>;
}

/** Parses the lines of one log file in order, carrying whatever state the format needs between reads. */
export interface LineParser {
  parse(buf: Buffer, start: number, end: number): ParseOutcome;
  /** Serialised state to resume with after the last line parsed (null when the format needs none). */
  state(): string | null;
  /**
   * Whole-file formats (`LogFile.whole`): the file's entire content, read again from the start whenever it changed.
   * `{ incomplete }` says the file is not a whole document (being written right now, or cut short): the importer
   * retries later and reports it as rejected once the file has been quiet.
   */
  parseWhole?(buf: Buffer, ctx: WholeContext): WholeResult | { incomplete: string };
  /**
   * Natural keys of interactions read earlier from this file that the file has since withdrawn (Gemini CLI's
   * `$rewindTo`): drained by the importer after each read, which removes them from the ledger.
   */
  retracted?(): string[];
}

export interface LogFile {
  source: SourceName;
  path: string;
  /** The root it was found under (for messages). */
  root: string;
  /** Set when the file is known and deliberately not read (for example an archived copy of an active session). */
  skip?: string;
  /**
   * The file is a snapshot rewritten in place (a JSON document, a SQLite database), not an append-only log: it is
   * read whole with `parseWhole` whenever it changed, and records already in the ledger dedupe by their keys.
   */
  whole?: boolean;
  /** Files whose changes count as changes of this one (a SQLite database's `-wal`). */
  companions?: string[];
}

export interface SourceReader {
  readonly source: SourceName;
  /** Where this tool keeps its logs on this machine (existing or not), honouring the tool's own variables. */
  roots(env: NodeJS.ProcessEnv): string[];
  /**
   * The log files under the roots that exist. An iterable: a tool with many files gives them as its walk finds them
   * (taken once, inside the folder listings of the walk that asked: sources/walk.ts `eachFile`).
   */
  discover(roots: string[]): Iterable<LogFile>;
  /**
   * For append logs whose files can be read alone (a line is a record): the log file `p` is, when it stands where this
   * tool writes its sessions under one of `roots` — a new session's file a capture can read without discovering every
   * other one (importer's targeted capture). Absent for tools whose files must be read together or whole.
   */
  sessionFile?(roots: string[], p: string): LogFile | undefined;
  createParser(file: LogFile, state: string | null): LineParser;
  /**
   * Log files this tool keeps inside project folders (Aider's `.aider.chat.history.md`): called with the
   * repositories and working folders the ledger already knows and the open workspace folders. Must cost about one
   * stat per folder.
   */
  discoverInProjects?(dirs: readonly string[]): LogFile[];
}

/**
 * Whether a line contains a byte sequence. Callers take one `subarray` view per line and test it against several
 * needles: `Buffer.indexOf` on the whole chunk would search past the line's end.
 */
export function has(line: Buffer, needle: Buffer, within?: number): boolean {
  return (within !== undefined && within < line.length ? line.subarray(0, within) : line).indexOf(needle) !== -1;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d;
}

/** A line that does not even look like a JSON object is rejected without parsing. */
export function looksLikeJsonObject(buf: Buffer, start: number, end: number): boolean {
  let s = start;
  let e = end - 1;
  while (s < e && isSpace(buf[s])) s++;
  while (e > s && isSpace(buf[e])) e--;
  return buf[s] === OPEN_BRACE && buf[e] === CLOSE_BRACE;
}

export function parseJson(buf: Buffer, start: number, end: number): unknown {
  return JSON.parse(buf.toString('utf8', start, end));
}

/** A string with something in it (a name, an id, a path): what a reader takes from a field that may be anything. */
export function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ISO timestamp → epoch ms, or undefined when it is not a date. */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const t = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/** A parser's saved state, or undefined when there is none or it does not parse (the parser then starts afresh). */
export function restoreState<T>(state: string | null): T | undefined {
  if (!state) return undefined;
  try {
    return JSON.parse(state) as T;
  } catch {
    return undefined;
  }
}

export function rejected(reason: string): { reason: string } {
  return { reason };
}

/** One line as a JSON value, or the rejection of a line that is not JSON (a half-written tail, garbage). */
export function jsonLine(buf: Buffer, start: number, end: number): { value: unknown } | Rejection {
  if (!looksLikeJsonObject(buf, start, end)) return rejected('not JSON');
  try {
    return { value: parseJson(buf, start, end) };
  } catch {
    return rejected('not JSON');
  }
}

/**
 * A log line as a JSON object, or the rejection a parser returns as it is ('not JSON', 'not a JSON object'): the
 * parse-or-reject opening of the JSON-lines parsers.
 */
export function jsonObjectLine(
  buf: Buffer,
  start: number,
  end: number,
): { value: Record<string, unknown> } | Rejection {
  let value: unknown;
  try {
    value = parseJson(buf, start, end);
  } catch {
    return rejected('not JSON');
  }
  return isObject(value) ? { value } : rejected('not a JSON object');
}

/**
 * The opening of a parser that skims its log: a line that mentions none of `needles` is passed over unparsed (null) if
 * it looks like a JSON object and rejected ('not JSON') if not; any other line is read as a JSON object
 * (`jsonObjectLine`).
 */
export function skimmedJsonLine(
  buf: Buffer,
  start: number,
  end: number,
  needles: readonly Buffer[],
): { value: Record<string, unknown> } | Rejection | null {
  const line = buf.subarray(start, end);
  if (!needles.some((n) => has(line, n))) return looksLikeJsonObject(buf, start, end) ? null : rejected('not JSON');
  return jsonObjectLine(buf, start, end);
}

/**
 * A request as the newer readers record it: no model in the file means `auto` was assumed (and flagged); estimated
 * counts and credits are carried only when there are some.
 */
export function interactionRecord(r: {
  key: string;
  session: SessionContext;
  timestamp: number;
  model: string | undefined;
  tokens: Tokens;
  estimated?: boolean;
  credits?: number;
}): InteractionRecord {
  return {
    kind: 'interaction',
    key: r.key,
    session: r.session,
    timestamp: r.timestamp,
    model: r.model ?? 'auto',
    tokens: r.tokens,
    cacheWrite1h: 0,
    sidechain: false,
    ...(r.model ? {} : { modelAssumed: true }),
    ...(r.estimated ? { estimated: true } : {}),
    ...(r.credits !== undefined && r.credits > 0 ? { credits: r.credits } : {}),
  };
}

/**
 * An agent log's event records (Copilot CLI, Kiro): the prompt of a user message that has its id and time (keyed
 * `<keyPrefix>:prompt:<id>`), or the edit of a write tool's call, the file being the first of `pathKeys` its arguments
 * name. Null when the event lacks any of it.
 */
export const agentEvent = {
  prompt(keyPrefix: string, session: SessionContext, ts: number | undefined, id: string | undefined, text: unknown) {
    return typeof text === 'string' && text && ts !== undefined && id
      ? [{ kind: 'prompt', key: `${keyPrefix}:prompt:${id}`, session, timestamp: ts, text } satisfies LedgerRecord]
      : null;
  },
  edit(
    session: SessionContext,
    ts: number | undefined,
    tool: unknown,
    writes: RegExp,
    args: unknown,
    pathKeys: string[],
  ) {
    const named = isObject(args) ? args : {};
    const file = pathKeys.map((k) => named[k]).find(isNonEmptyString);
    return typeof tool === 'string' && writes.test(tool) && file && ts !== undefined
      ? [{ kind: 'edit', session, timestamp: ts, path: file } satisfies LedgerRecord]
      : null;
  },
};

/** Parses a document read whole; one that does not parse was caught mid-write (or is not JSON): the importer retries. */
export function wholeJson(buf: Buffer): { doc: unknown } | { incomplete: string } {
  try {
    return { doc: JSON.parse(buf.toString('utf8')) as unknown };
  } catch {
    return { incomplete: 'not a whole JSON document (cut short or being written)' };
  }
}

/**
 * A line parser whose state between reads is one plain object (`s`: the session it is in, how far it got), saved
 * after every read as it is; the subclass restores it (`restoreState`) and hands it to the constructor.
 */
export abstract class StatefulLineParser<S> implements LineParser {
  protected constructor(protected s: S) {}

  state(): string | null {
    return JSON.stringify(this.s);
  }

  abstract parse(buf: Buffer, start: number, end: number): ParseOutcome;
}

/** A parser for a format read whole: no lines to parse and no state carried between reads. */
export abstract class WholeFileParser implements LineParser {
  state(): string | null {
    return null;
  }

  parse(): null {
    return null; // whole-file format: see parseWhole
  }

  abstract parseWhole(buf: Buffer, ctx: WholeContext): WholeResult | { incomplete: string };
}

/** A parser for a format that is one JSON document read whole: one cut short or being written is read again later. */
export abstract class WholeJsonParser extends WholeFileParser {
  parseWhole(buf: Buffer): WholeResult | { incomplete: string } {
    const read = wholeJson(buf);
    return 'incomplete' in read ? read : this.parseDoc(read.doc);
  }

  /** What the parsed document holds; `incomplete` when it is not (yet) the tool's document. */
  abstract parseDoc(doc: unknown): WholeResult | { incomplete: string };
}
