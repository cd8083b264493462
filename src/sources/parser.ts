import type { LedgerRecord, ParseOutcome, SourceName } from '../core/model';

/** Parses the lines of one log file in order, carrying whatever state the format needs between reads. */
export interface LineParser {
  parse(buf: Buffer, start: number, end: number): ParseOutcome;
  /** Serialised state to resume with after the last line parsed (null when the format needs none). */
  state(): string | null;
}

export interface LogFile {
  source: SourceName;
  path: string;
  /** The root it was found under (for messages). */
  root: string;
  /** Set when the file is known and deliberately not read (for example an archived copy of an active session). */
  skip?: string;
}

/** What a whole-file reader found in one file. */
export interface WholeFileResult {
  records: LedgerRecord[];
  /** Rejected lines (lineNo 0: the document as a whole, or a part of it named in the reason). */
  rejects: Array<{ lineNo: number; reason: string }>;
  /** False when the file looks half-written: it is read again (from the start) once it has been quiet. */
  complete: boolean;
}

export interface SourceReader {
  readonly source: SourceName;
  /** Where this tool keeps its logs on this machine (existing or not), honouring the tool's own variables. */
  roots(env: NodeJS.ProcessEnv): string[];
  /** The log files under the roots that exist. */
  discover(roots: string[]): LogFile[];
  /** Line-by-line formats: a parser resuming with `state` after the last line read. */
  createParser?(file: LogFile, state: string | null): LineParser;
  /**
   * Formats that must be read whole (a JSON document rewritten in place, a mutation log to replay): whenever the file
   * changed it is read from the start and handed over at once. Natural keys make the re-read add only what is new.
   * `quiet`: the file has not changed for a while (a half-written tail will not be completed any more).
   */
  readWhole?(file: LogFile, buf: Buffer, quiet: boolean): WholeFileResult;
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

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ISO timestamp → epoch ms, or undefined when it is not a date. */
export function parseTimestamp(v: unknown): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const t = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

export function rejected(reason: string): { reason: string } {
  return { reason };
}
