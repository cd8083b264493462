/**
 * The ONE way to open a file found in a log folder (issue 12): only regular files are read. A log folder is
 * untrusted: a FIFO (named like Copilot's workspace.json or Cline's task_metadata.json), a symlink to one, a device
 * or a socket would block a plain `open`/`readFileSync` forever — holding the ledger lock, or freezing the
 * extension host. So the file is opened non-blocking (a FIFO opens at once, with no writer), then the OPENED
 * descriptor is checked with fstat (a name swapped between a check and the open cannot slip through), and anything
 * but a regular file is refused with a reason for data health. Every reader of log folders uses these.
 */
import * as fs from 'node:fs';

/** An open regular file (close `fd` when done), or why it was refused. */
export type Opened = { fd: number; stat: fs.Stats } | { refused: string };

/** What a non-regular file is, in words for data health. */
export function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;
const O_NOCTTY = fs.constants.O_NOCTTY ?? 0;

/** Why an open or read failed, in words. */
export function openProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'cannot be read (permission denied)';
    case 'ELOOP':
      return 'a symbolic link that loops';
    case 'EISDIR':
      return 'not a regular file (a folder)';
    case 'ENXIO':
      return 'not a regular file (a socket or a device without a reader)';
    default:
      return `cannot be read (${err.code ?? err.message})`;
  }
}

/** Opens `file` for reading if, and only if, it is a regular file (following symlinks). Never blocks. */
export function openRegular(file: string): Opened {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NONBLOCK | O_NOCTTY);
  } catch (e) {
    return { refused: openProblem(e) };
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) {
      fs.closeSync(fd);
      return { refused: `not a regular file (${kindOf(stat)})` };
    }
    return { fd, stat };
  } catch (e) {
    fs.closeSync(fd);
    return { refused: openProblem(e) };
  }
}

/**
 * Reads a whole regular file (at most `maxBytes`; one byte more means it is too large or grew while read). Never
 * blocks on a FIFO or device; refusals carry a reason.
 */
export function readRegularFile(file: string, maxBytes = 64 << 20): { bytes: Buffer } | { refused: string } {
  const opened = openRegular(file);
  if ('refused' in opened) return opened;
  try {
    if (opened.stat.size > maxBytes)
      return {
        refused: `too large (${(opened.stat.size / (1 << 20)).toFixed(1)} MB; at most ${(maxBytes / (1 << 20)).toFixed(0)} MB is read)`,
      };
    const bytes = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(opened.stat.size + 1, 1)));
    let length = 0;
    for (let n = -1; n !== 0 && length < bytes.length; length += n)
      n = fs.readSync(opened.fd, bytes, length, bytes.length - length, null);
    if (length > maxBytes)
      return { refused: `too large (it grew past ${(maxBytes / (1 << 20)).toFixed(0)} MB while being read)` };
    return { bytes: length === bytes.length ? bytes : bytes.subarray(0, length) };
  } catch (e) {
    return { refused: openProblem(e) };
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** A regular file's text (UTF-8), or undefined when it is missing, not a regular file, or unreadable. */
export function readRegularText(file: string, maxBytes = 64 << 20): string | undefined {
  const r = readRegularFile(file, maxBytes);
  return 'bytes' in r ? r.bytes.toString('utf8') : undefined;
}
