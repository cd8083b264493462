import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContributionStore, StoredContribution } from '../core/team/merge';
import { withDiskFaults } from './diskFault';

/** Records kept in memory before the store starts writing to its temporary file (a merge of a few thousand files never does). */
const MEMORY_BYTES = 2 << 20;
/** Records are written in chunks of about this size. */
const CHUNK_BYTES = 1 << 20;
const ACTION = "keep a team merge's figures in a temporary file";

/**
 * The figures of a team merge's counted rollups, spilled to disk: the first few megabytes stay in memory, the rest go
 * to a temporary file (owner-only, in the system's temp folder, removed as soon as it is open where the system allows,
 * else on `close`), so a merge of 100,000 files keeps its memory flat. Each record is encoded once (a small JSON
 * header, then the packed figures as float64) straight into a chunk of about a megabyte: a chunk that is full is kept
 * (while the store is within its memory) or written to the file and filled again, so records allocate no buffer each,
 * and nothing waits for the garbage collector. Records are read back by their handle when the report is computed.
 */
export class SpillContributionStore implements ContributionStore {
  /** Full chunks kept in memory (the start of the records), and where the records in the file begin. */
  private readonly memory: Array<{ start: number; bytes: Buffer }> = [];
  private memoryBytes = 0;
  private spilling = false;
  private fileStart = 0;
  /** The chunk being filled, and where its first byte is among all the records. */
  private chunk: Buffer | undefined;
  private chunkStart = 0;
  private used = 0;
  private readonly chunkBytes: number;
  private dir: string | undefined;
  private fd: number | undefined;
  /** Where record `i` starts among all the records, and its length. */
  private offsets = new Float64Array(1024);
  private lengths = new Int32Array(1024);
  private count = 0;

  constructor(private readonly memoryLimit = MEMORY_BYTES) {
    this.chunkBytes = Math.max(64, Math.min(CHUNK_BYTES, memoryLimit));
  }

  put(c: StoredContribution): number {
    const header = JSON.stringify([c.file, c.displayName, c.timezone, c.sources, c.models, c.shared ?? null]);
    const headerBytes = Buffer.byteLength(header, 'utf8');
    const size = 8 + ((headerBytes + 7) & ~7) + c.figures.length * 8;
    if (!this.chunk || this.used + size > this.chunk.length) this.nextChunk(size);
    const chunk = this.chunk as Buffer;
    encodeInto(chunk, this.used, header, headerBytes, c.figures);
    if (this.count === this.offsets.length) {
      const offsets = new Float64Array(this.offsets.length * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const lengths = new Int32Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.offsets[this.count] = this.chunkStart + this.used;
    this.lengths[this.count] = size;
    this.used += size;
    return this.count++;
  }

  get(handle: number): StoredContribution {
    if (!(handle >= 0 && handle < this.count)) throw new Error(`no stored contribution ${handle}`);
    const offset = this.offsets[handle] as number;
    const length = this.lengths[handle] as number;
    if (this.chunk && offset >= this.chunkStart)
      return decode(this.chunk.subarray(offset - this.chunkStart, offset - this.chunkStart + length));
    if (!this.spilling || offset < this.fileStart) {
      const m = this.memory.find((x) => offset >= x.start && offset < x.start + x.bytes.length);
      if (!m) throw new Error(`no stored contribution ${handle}`);
      return decode(m.bytes.subarray(offset - m.start, offset - m.start + length));
    }
    if (this.fd === undefined) throw new Error(`no stored contribution ${handle}`);
    const bytes = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = fs.readSync(this.fd, bytes, read, length - read, offset - this.fileStart + read);
      if (n === 0) throw new Error(`the merge's temporary file ended early (record ${handle})`);
      read += n;
    }
    return decode(bytes);
  }

  /** Removes the temporary file (the store cannot be used after). */
  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.memory.length = 0;
    this.chunk = undefined;
  }

  /** The chunk being filled is done: kept in memory while there is room, else written to the file (and reused). */
  private nextChunk(size: number): void {
    const full = this.chunk;
    const end = this.chunkStart + this.used;
    if (full && this.used > 0) {
      if (!this.spilling && this.memoryBytes + this.used <= this.memoryLimit) {
        this.memory.push({ start: this.chunkStart, bytes: full.subarray(0, this.used) });
        this.memoryBytes += this.used;
        this.chunk = undefined;
      } else {
        if (!this.spilling) {
          this.spilling = true;
          this.fileStart = this.chunkStart;
          this.open();
        }
        this.write(full.subarray(0, this.used), this.chunkStart - this.fileStart);
      }
    }
    this.chunkStart = end;
    this.used = 0;
    if (!this.chunk || this.chunk.length < size) this.chunk = Buffer.allocUnsafe(Math.max(this.chunkBytes, size));
  }

  private open(): void {
    if (this.fd !== undefined) return;
    const tmp = os.tmpdir();
    withDiskFaults(ACTION, tmp, () => {
      const dir = fs.mkdtempSync(path.join(tmp, 'outcome-ledger-merge-'));
      this.dir = dir;
      const file = path.join(dir, 'contributions.bin');
      this.fd = fs.openSync(file, 'wx+', 0o600);
      try {
        // Gone from the folder while open (POSIX): nothing is left behind, even if the process is killed.
        fs.unlinkSync(file);
        fs.rmdirSync(dir);
        this.dir = undefined;
      } catch {
        // Windows keeps an open file: close() removes it.
      }
    });
  }

  private write(bytes: Buffer, at: number): void {
    const fd = this.fd as number;
    withDiskFaults(ACTION, os.tmpdir(), () => {
      let written = 0;
      while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written, at + written);
    });
  }
}

/** [header length u32][figure count u32][header: JSON, padded to 8 bytes][figures: float64 little-endian], at `at`. */
function encodeInto(out: Buffer, at: number, header: string, headerBytes: number, figures: Float64Array): void {
  out.writeUInt32LE(headerBytes, at);
  out.writeUInt32LE(figures.length, at + 4);
  out.write(header, at + 8, headerBytes, 'utf8');
  const start = at + 8 + ((headerBytes + 7) & ~7);
  out.fill(0, at + 8 + headerBytes, start);
  for (let i = 0; i < figures.length; i++) out.writeDoubleLE(figures[i] as number, start + i * 8);
}

function decode(b: Buffer): StoredContribution {
  const headerLength = b.readUInt32LE(0);
  const count = b.readUInt32LE(4);
  const [file, displayName, timezone, sources, models, shared] = JSON.parse(
    b.toString('utf8', 8, 8 + headerLength),
  ) as [string, string | null, string, string[], string[], StoredContribution['shared'] | null];
  const start = 8 + ((headerLength + 7) & ~7);
  const figures = new Float64Array(count);
  for (let i = 0; i < count; i++) figures[i] = b.readDoubleLE(start + i * 8);
  return { file, displayName, timezone, sources, models, shared: shared ?? undefined, figures };
}
