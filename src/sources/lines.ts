import * as fs from 'node:fs';

/** A line handed to a parser: a view into a shared buffer, valid only during the call. */
export type LineSink = (buf: Buffer, start: number, end: number, lineNo: number) => void;

export interface ReadResult {
  /** Offset after the last complete line consumed. */
  offset: number;
  lineNo: number;
  bytesRead: number;
  /** Lines too long to be a real record, skipped. */
  overlong: number[];
}

const NEWLINE = 0x0a;
const CHUNK = 1 << 20;
/** One read buffer per process, reused by every file (allocating one per file made the GC the bottleneck). */
let shared: Buffer | undefined;
/** A line longer than this is not a usage record (tool results of many MB are skipped unparsed). */
export const MAX_LINE_BYTES = 64 << 20;

/**
 * Reads complete lines of `fd` from `from` to `to` in fixed chunks: memory stays bounded whatever the file size.
 * A last line without its newline is left for the next read (the tool may be writing it right now) unless
 * `acceptTail` says the file is quiet and the tail is whole (`isWhole`).
 */
export function readLines(
  fd: number,
  from: number,
  to: number,
  firstLineNo: number,
  sink: LineSink,
  options: {
    acceptTail?: (buf: Buffer, start: number, end: number) => boolean;
    onProgress?: (bytes: number) => void;
  } = {},
): ReadResult {
  let buf = shared ?? Buffer.allocUnsafe(CHUNK);
  let carry = 0; // bytes of an unfinished line at the start of buf
  let pos = from;
  let consumed = from;
  let lineNo = firstLineNo;
  let skipping = false; // inside an over-long line: drop bytes until its newline
  const overlong: number[] = [];
  while (pos < to) {
    if (carry === buf.length) {
      if (buf.length >= MAX_LINE_BYTES) {
        overlong.push(lineNo + 1);
        skipping = true;
        carry = 0;
      } else {
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, MAX_LINE_BYTES));
        buf.copy(bigger, 0, 0, carry);
        buf = bigger;
        if (buf.length <= 8 * CHUNK) shared = buf; // keep moderately grown buffers; drop huge ones after use
      }
    }
    const want = Math.min(buf.length - carry, to - pos);
    const n = fs.readSync(fd, buf, carry, want, pos);
    if (n <= 0) break;
    pos += n;
    options.onProgress?.(n);
    const end = carry + n;
    let lineStart = 0;
    let nl = buf.indexOf(NEWLINE, carry);
    while (nl !== -1 && nl < end) {
      lineNo++;
      if (skipping) skipping = false;
      else if (nl > lineStart) sink(buf, lineStart, nl, lineNo);
      consumed = pos - (end - nl - 1);
      lineStart = nl + 1;
      nl = buf.indexOf(NEWLINE, lineStart);
    }
    if (skipping) {
      carry = 0;
    } else {
      carry = end - lineStart;
      if (carry > 0 && lineStart > 0) buf.copy(buf, 0, lineStart, end);
    }
  }
  if (!skipping && carry > 0 && pos >= to && options.acceptTail?.(buf, 0, carry)) {
    lineNo++;
    sink(buf, 0, carry, lineNo);
    consumed = pos;
  }
  if (!shared) shared = buf;
  return { offset: consumed, lineNo, bytesRead: pos - from, overlong };
}

/** Whether bytes look like one whole JSON object (used for an unterminated last line of a quiet file). */
export function isWholeJson(buf: Buffer, start: number, end: number): boolean {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8', start, end));
    return typeof v === 'object' && v !== null;
  } catch {
    return false;
  }
}
