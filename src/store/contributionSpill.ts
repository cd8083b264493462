import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContributionStore, StoredContribution } from '../core/team/merge';
import { withDiskFaults } from './diskFault';

/** Records kept in memory before the store starts writing to its temporary file (a merge of a few thousand files never does). */
const MEMORY_BYTES = 8 << 20;
/** Records are written in chunks of about this size. */
const CHUNK_BYTES = 1 << 20;
const ACTION = "keep a team merge's figures in a temporary file";

/**
 * The figures of a team merge's counted rollups, spilled to disk: the first few megabytes stay in memory, the rest go
 * to a temporary file (owner-only, in the system's temp folder, removed as soon as it is open where the system allows,
 * else on `close`), so a merge of 100,000 files keeps its memory flat. Each record is encoded once (a small JSON
 * header, then the packed figures as float64) and read back by its handle when the report is computed.
 */
export class SpillContributionStore implements ContributionStore {
  private readonly memory: Buffer[] = [];
  private memoryBytes = 0;
  private dir: string | undefined;
  private fd: number | undefined;
  /** Offset and length in the file of record `memory.length + i`. */
  private offsets = new Float64Array(1024);
  private lengths = new Int32Array(1024);
  private onDisk = 0;
  /** Bytes written to the file so far; `pending` holds what comes after them. */
  private flushed = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly memoryLimit = MEMORY_BYTES) {}

  put(c: StoredContribution): number {
    const record = encode(c);
    if (this.fd === undefined && this.memoryBytes + record.length <= this.memoryLimit) {
      this.memory.push(record);
      this.memoryBytes += record.length;
      return this.memory.length - 1;
    }
    this.open();
    if (this.onDisk === this.offsets.length) {
      const offsets = new Float64Array(this.offsets.length * 2);
      offsets.set(this.offsets);
      this.offsets = offsets;
      const lengths = new Int32Array(this.lengths.length * 2);
      lengths.set(this.lengths);
      this.lengths = lengths;
    }
    this.offsets[this.onDisk] = this.flushed + this.pendingBytes;
    this.lengths[this.onDisk] = record.length;
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (this.pendingBytes >= CHUNK_BYTES) this.flush();
    return this.memory.length + this.onDisk++;
  }

  get(handle: number): StoredContribution {
    if (handle < this.memory.length) return decode(this.memory[handle] as Buffer);
    const i = handle - this.memory.length;
    if (i < 0 || i >= this.onDisk || this.fd === undefined) throw new Error(`no stored contribution ${handle}`);
    const offset = this.offsets[i] as number;
    const length = this.lengths[i] as number;
    if (offset >= this.flushed) {
      // Still in the chunk being filled.
      let at = this.flushed;
      for (const b of this.pending) {
        if (at === offset) return decode(b);
        at += b.length;
      }
      throw new Error(`no stored contribution ${handle}`);
    }
    const bytes = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = fs.readSync(this.fd, bytes, read, length - read, offset + read);
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
    this.pending = [];
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

  private flush(): void {
    if (this.fd === undefined || this.pendingBytes === 0) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    const fd = this.fd;
    withDiskFaults(ACTION, os.tmpdir(), () => {
      let written = 0;
      while (written < chunk.length) written += fs.writeSync(fd, chunk, written, chunk.length - written, this.flushed + written);
    });
    this.flushed += chunk.length;
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** [header length u32][figure count u32][header: JSON, padded to 8 bytes][figures: float64 little-endian]. */
function encode(c: StoredContribution): Buffer {
  const header = Buffer.from(JSON.stringify([c.file, c.displayName, c.timezone, c.sources, c.models, c.shared ?? null]), 'utf8');
  const padded = (header.length + 7) & ~7;
  const out = Buffer.alloc(8 + padded + c.figures.length * 8);
  out.writeUInt32LE(header.length, 0);
  out.writeUInt32LE(c.figures.length, 4);
  header.copy(out, 8);
  for (let i = 0; i < c.figures.length; i++) out.writeDoubleLE(c.figures[i] as number, 8 + padded + i * 8);
  return out;
}

function decode(b: Buffer): StoredContribution {
  const headerLength = b.readUInt32LE(0);
  const count = b.readUInt32LE(4);
  const [file, displayName, timezone, sources, models, shared] = JSON.parse(b.toString('utf8', 8, 8 + headerLength)) as [
    string, string | null, string, string[], string[], StoredContribution['shared'] | null,
  ];
  const start = 8 + ((headerLength + 7) & ~7);
  const figures = new Float64Array(count);
  for (let i = 0; i < count; i++) figures[i] = b.readDoubleLE(start + i * 8);
  return { file, displayName, timezone, sources, models, shared: shared ?? undefined, figures };
}
