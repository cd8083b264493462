import * as fs from 'node:fs';

/**
 * Where files are read whole instead of on demand: on Windows an open file blocks its renaming and removal (a new
 * snapshot renamed over the ledger, an archive file pruned).
 */
export const READ_WHOLE = process.platform === 'win32';

/** The unit the file is kept in: SQLite's page size (the ledger's pages are 4 KB), so a page write fills one chunk. */
const CHUNK = 4096;
/** Reads up to this size are answered from one reused buffer (sql.js copies them at once into its own memory). */
const SCRATCH_MAX = 1 << 16;
/**
 * SQLite reads at most a page at a time (64 KB at the largest page size): a longer read from the start is sql.js
 * copying the file whole because it resized it (a VACUUM, or a rolled back transaction that had grown the file).
 */
const WHOLE_READ = 1 << 16;
/** What a save writes at a time (a multiple of CHUNK). */
const WRITE_BATCH = 256 * CHUNK;
/** Written pages are cut from slabs of this many pages (1 MB). */
const SLAB_PAGES = 256;

/**
 * The bytes of the ledger's database as sql.js sees them, read from the snapshot on disk only when SQLite asks for
 * them, with the pages this process wrote kept in memory.
 *
 * sql.js keeps a database in a file of its in-memory file system, which it fills from the bytes handed to
 * `new Database(bytes)`: a snapshot of a year of heavy use is tens of MB, read whole and held by every process
 * that opens it, and grown by reallocating and copying the whole file. That file system only ever calls `length`,
 * `slice`, `subarray` and `set` on a file's content, so this object stands in for it: the first `slice` (sql.js
 * taking the content) hands over this object itself; `subarray` reads the asked range (SQLite reads a page at a time)
 * from the written pages or the file on disk; `set` keeps written pages here. A process touches the pages its
 * queries need, not the history (docs/ledger.md "Reading the snapshot on demand").
 *
 * The file on disk must not change while it is read: the ledger only ever replaces its snapshot by renaming a new
 * file over it, so the descriptor held here keeps reading the snapshot it opened. After a fold wrote the same content
 * as a new snapshot, `rebase` moves to it and drops the written pages. A read the disk refuses or cuts short gives
 * zeros, which SQLite reports as a damaged database (an exception thrown here would unwind through SQLite).
 */
export class PagedFile {
  private fd: number | undefined;
  private base: Uint8Array | undefined;
  private baseSize: number;
  private size: number;
  private readonly dirty = new Map<number, Uint8Array>();
  private adopted = false;
  private scratch = new Uint8Array(CHUNK);
  private slab: Uint8Array | undefined;
  private slabUsed = 0;
  /** sql.js replaced this content by a copy of it (a resize): nothing is read or written here any more. */
  detached = false;
  /** The first read the disk refused or cut short, if any. */
  readProblem: string | undefined;
  /** Bytes read from the file on disk so far. */
  bytesRead = 0;

  private constructor(fd: number | undefined, base: Uint8Array | undefined, size: number) {
    this.fd = fd;
    this.base = base;
    this.baseSize = size;
    this.size = size;
  }

  /** A snapshot read from an open descriptor on demand; the descriptor is this object's from now on. */
  static onDisk(fd: number, size: number): PagedFile {
    return new PagedFile(fd, undefined, size);
  }

  /** Content already in memory (a new database's first page, or a snapshot read whole). */
  static inMemory(bytes: Uint8Array): PagedFile {
    return new PagedFile(undefined, bytes, bytes.length);
  }

  /** Bytes of written pages held in memory. */
  get heldBytes(): number {
    return this.dirty.size * CHUNK;
  }

  /** Whether reads go to a file on disk (not to bytes held in memory). */
  get readsFromDisk(): boolean {
    return this.fd !== undefined;
  }

  // --- the in-memory file system's side -------------------------------------------------------------------------

  /** The content's size until sql.js takes it; then a capacity it never needs to grow. */
  get length(): number {
    return this.adopted ? Number.MAX_SAFE_INTEGER : this.size;
  }

  slice(start: number, end: number): PagedFile | Uint8Array {
    if (!this.adopted && start === 0 && end === this.size) {
      this.adopted = true;
      return this;
    }
    return this.copy(start, end, new Uint8Array(end - start));
  }

  subarray(start: number, end?: number): Uint8Array {
    const to = end ?? this.size;
    const len = Math.max(0, to - start);
    if (start === 0 && len > WHOLE_READ) this.detached = true;
    if (len > SCRATCH_MAX) return this.copy(start, to, new Uint8Array(len));
    if (this.scratch.length < len) this.scratch = new Uint8Array(Math.max(len, this.scratch.length * 2));
    return this.copy(start, to, this.scratch.subarray(0, len));
  }

  set(src: Uint8Array, offset = 0): void {
    const len = src.length;
    let done = 0;
    while (done < len) {
      const at = offset + done;
      const index = Math.floor(at / CHUNK);
      const within = at - index * CHUNK;
      const n = Math.min(CHUNK - within, len - done);
      let page = this.dirty.get(index);
      if (!page) {
        page = this.newPage();
        if (within !== 0 || n !== CHUNK) this.readBase(page, 0, index * CHUNK, CHUNK);
        this.dirty.set(index, page);
      }
      page.set(src.subarray(done, done + n), within);
      done += n;
    }
    this.size = Math.max(this.size, offset + len);
  }

  /**
   * A page for a write, cut from a slab of SLAB_PAGES pages: one allocation per slab instead of one per page, so a long
   * import's written pages neither cost an allocation each nor leave the allocator fragmented when they are let go.
   */
  private newPage(): Uint8Array {
    if (this.slabUsed === SLAB_PAGES || !this.slab) {
      this.slab = new Uint8Array(SLAB_PAGES * CHUNK);
      this.slabUsed = 0;
    }
    return this.slab.subarray(this.slabUsed * CHUNK, ++this.slabUsed * CHUNK);
  }

  // --- the ledger's side -----------------------------------------------------------------------------------------

  /**
   * The content was saved whole as the file `fd` reads (`size` bytes): read from it from now on and let the written
   * pages go. Only right after such a save: the content must be the same.
   */
  rebase(fd: number, size: number): void {
    this.closeFile();
    this.fd = fd;
    this.base = undefined;
    this.baseSize = size;
    this.size = size;
    this.dirty.clear();
    this.slab = undefined;
  }

  /** The content's size in bytes. */
  get byteLength(): number {
    return this.size;
  }

  /**
   * Writes the whole content to `fd` (a new snapshot) a megabyte at a time: the written pages from memory, the rest
   * read from the file on disk in runs. A fold thus never holds a copy of the database (sql.js's `export()` makes two).
   * Returns the bytes written.
   */
  writeTo(fd: number): number {
    const buf = new Uint8Array(WRITE_BATCH);
    for (let at = 0; at < this.size; at += WRITE_BATCH) {
      const end = Math.min(this.size, at + WRITE_BATCH);
      const out = this.copy(at, end, buf.subarray(0, end - at));
      let written = 0;
      while (written < out.length) written += fs.writeSync(fd, out, written, out.length - written);
    }
    return this.size;
  }

  /** Closes the descriptor (the database must be closed too: nothing can be read any more). */
  close(): void {
    this.closeFile();
    this.base = undefined;
    this.dirty.clear();
    this.slab = undefined;
  }

  private closeFile(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    this.fd = undefined;
  }

  /** Fills `out` with the content's bytes from `start` (`out.length` of them). */
  private copy(start: number, end: number, out: Uint8Array): Uint8Array {
    const len = end - start;
    let done = 0;
    while (done < len) {
      const at = start + done;
      const index = Math.floor(at / CHUNK);
      const within = at - index * CHUNK;
      const page = this.dirty.get(index);
      if (page) {
        const n = Math.min(CHUNK - within, len - done);
        out.set(page.subarray(within, within + n), done);
        done += n;
        continue;
      }
      // A run of pages nobody wrote: one read from the base.
      let next = (index + 1) * CHUNK;
      while (next < end && !this.dirty.has(next / CHUNK)) next += CHUNK;
      const n = Math.min(next, end) - at;
      this.readBase(out, done, at, n);
      done += n;
    }
    return out;
  }

  private readBase(out: Uint8Array, outOffset: number, position: number, length: number): void {
    const have = Math.max(0, Math.min(length, this.baseSize - position));
    let got = 0;
    if (have > 0 && this.base) {
      out.set(this.base.subarray(position, position + have), outOffset);
      got = have;
    } else if (have > 0 && this.fd !== undefined) {
      try {
        while (got < have) {
          const n = fs.readSync(this.fd, out, outOffset + got, have - got, position + got);
          if (n === 0) break;
          got += n;
          this.bytesRead += n;
        }
        if (got < have) this.readProblem ??= `the file ended at ${position + got} bytes, before ${this.baseSize}`;
      } catch (e) {
        this.readProblem ??= (e as Error).message;
      }
    } else if (have > 0) {
      this.readProblem ??= 'the file was closed';
    }
    if (got < length) out.fill(0, outOffset + got, outOffset + length);
  }
}
