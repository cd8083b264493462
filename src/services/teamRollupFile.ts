/**
 * One untrusted rollup file, read and checked (the same steps in the merge's thread and in its worker threads,
 * services/teamRollupPool.ts): the regular-file reader with the size limit before reading, the pure checks of
 * core/team/rollup.ts, the signature, that the member id is the signer's, and that the figures add up. Node built-ins,
 * core and store only, so the worker's bundle stays small.
 */
import * as fs from 'node:fs';
import { reduceRollup, type ReducedRollup } from '../core/team/merge';
import {
  MAX_ROLLUP_BYTES,
  parseTeamRollup,
  signedPart,
  sumProblem,
  type Checked,
  type TeamRollup,
} from '../core/team/rollup';
import { openRegular } from '../sources/regular';
import { sha256Hex, verifyCanonical } from '../store/signing';

/** The pseudonymous member id: derived from the signing key, so nobody can send rollups under someone else's id. */
export function memberIdOf(publicKeyB64: string): string {
  return `m-${sha256Hex(Buffer.from(publicKeyB64, 'base64')).slice(0, 16)}`;
}

let readBuffer: Buffer | undefined;

/** A checked rollup and the fingerprint of the key that signed it (what a roster lists). */
export interface Signed {
  rollup: TeamRollup;
  signer: string;
}

/** Every check a merge runs on one file, in order; one line on failure. Reads at most MAX_ROLLUP_BYTES. */
export function readTeamRollupFile(file: string): Checked<Signed> {
  let text: string;
  let fd: number | undefined;
  try {
    // Opened without blocking (a FIFO would wait for a writer), then checked on the open file itself: a name swapped
    // for a device or a FIFO between a check and the read cannot make the merge hang or read without end.
    const opened = openRegular(file);
    if ('refused' in opened) return { ok: false, reason: opened.refused };
    fd = opened.fd;
    const st = opened.stat;
    if (st.size > MAX_ROLLUP_BYTES)
      return {
        ok: false,
        reason: `too large (${(st.size / (1 << 20)).toFixed(1)} MB; a rollup is at most ${MAX_ROLLUP_BYTES / 1024} KB)`,
      };
    // At most one byte more than the limit, whatever the size said: a file growing while it is read stays bounded.
    // One buffer for every file (reads are synchronous, and the text is decoded out of it before the next one).
    const bytes = (readBuffer ??= Buffer.allocUnsafe(MAX_ROLLUP_BYTES + 1));
    let length = 0;
    for (let n = -1; n !== 0 && length < bytes.length; length += n)
      n = fs.readSync(fd, bytes, length, bytes.length - length, null);
    if (length > MAX_ROLLUP_BYTES)
      return { ok: false, reason: `too large (it grew past ${MAX_ROLLUP_BYTES / 1024} KB while being read)` };
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, length));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return { ok: false, reason: 'no such file' };
    if (err.code === 'EACCES') return { ok: false, reason: 'cannot be read (permission denied)' };
    if (e instanceof TypeError) return { ok: false, reason: 'not UTF-8 text' };
    if (err.code === 'ELOOP') return { ok: false, reason: 'a symbolic link that loops' };
    if (err.code === 'EISDIR') return { ok: false, reason: 'not a regular file (a folder)' };
    return { ok: false, reason: `cannot be read (${err.code ?? err.message})` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return checkSigned(text);
}

/** The checks of a rollup's text: the pure ones, then the signature and that the member id is the signer's. */
export function checkTeamRollupText(text: string): Checked<TeamRollup> {
  const checked = checkSigned(text);
  return checked.ok ? { ok: true, value: checked.value.rollup } : checked;
}

function checkSigned(text: string): Checked<Signed> {
  const parsed = parseTeamRollup(text);
  if (!parsed.ok) return parsed;
  const f = parsed.value;
  const sig = verifyCanonical(signedPart(f), f.signature);
  if (!sig.ok) return { ok: false, reason: `signature: ${sig.reason}` };
  if (memberIdOf(f.signature.publicKey) !== f.rollup.member.id) {
    return {
      ok: false,
      reason: `member id ${f.rollup.member.id} does not belong to the key that signed it (expected ${memberIdOf(f.signature.publicKey)})`,
    };
  }
  const sums = sumProblem(f.rollup);
  if (sums) return { ok: false, reason: `figures do not add up: ${sums}` };
  return { ok: true, value: { rollup: f.rollup, signer: f.signature.fingerprint } };
}

/** One file of a batch, checked: what the merge uses of it and who signed it, or why it is refused. */
export type CheckedFile = { reduced: ReducedRollup; signer: string } | { reason: string };

/**
 * Reads, checks and reduces a batch of files (a worker thread's unit of work; the merge's own thread runs the same
 * when it works alone). The figures of the batch share one ArrayBuffer, so the batch crosses to the merging thread
 * with that buffer transferred, not copied; nothing of a file's text leaves here.
 */
export function checkBatch(files: readonly string[]): { results: CheckedFile[]; buffer: ArrayBuffer } {
  const checked: Array<{ reduced: ReducedRollup; signer: string } | { reason: string }> = [];
  let length = 0;
  for (const file of files) {
    const c = readTeamRollupFile(file);
    if (!c.ok) {
      checked.push({ reason: c.reason });
      continue;
    }
    const reduced = reduceRollup(c.value.rollup);
    length += reduced.figures.length;
    checked.push({ reduced, signer: c.value.signer });
  }
  const buffer = new ArrayBuffer(length * 8);
  let at = 0;
  for (const c of checked) {
    if (!('reduced' in c)) continue;
    const figures = new Float64Array(buffer, at * 8, c.reduced.figures.length);
    figures.set(c.reduced.figures);
    at += figures.length;
    c.reduced.figures = figures;
  }
  return { results: checked, buffer };
}
