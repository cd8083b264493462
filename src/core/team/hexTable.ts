/**
 * A table from fixed-length lowercase hex keys (an interaction digest, a machine id), each with a small number beside
 * it (a member's number), to a number, kept in typed arrays: a merge of 100,000 rollups keeps its digests and machines
 * in a few megabytes outside the JavaScript heap, where Maps of strings would take tens of megabytes inside it (and
 * the garbage collector's room to grow on top). Open addressing with linear probing; the hash is seeded at random per
 * table, so keys chosen by a hostile rollup cannot be lined up to collide. Keys are never removed: an entry's value
 * is set to -1 instead (what `entry` gives a new key).
 */
export class HexTable {
  /** Bytes per key: the number beside it (4), then the hex digits as bytes. */
  private readonly width: number;
  private keys: Uint8Array;
  private values: Int32Array;
  /** Entry + 1 per slot; 0 is an empty slot. */
  private slots: Int32Array;
  private size = 0;
  private readonly scratch: Uint8Array;
  private readonly seed = (Math.random() * 0x1_0000_0000) >>> 0;

  constructor(private readonly hexLength: number) {
    this.width = 4 + hexLength / 2;
    this.keys = new Uint8Array(this.width * 256);
    this.values = new Int32Array(256);
    this.slots = new Int32Array(512);
    this.scratch = new Uint8Array(this.width);
  }

  /** The entry of a key, or -1 when the table has never seen it. */
  find(hex: string, extra = 0): number {
    const mask = this.slots.length - 1;
    for (let i = this.encode(hex, extra) & mask; ; i = (i + 1) & mask) {
      const e = (this.slots[i] as number) - 1;
      if (e === -1 || this.same(e)) return e;
    }
  }

  /** The entry of a key, added (with the value -1) when new. */
  entry(hex: string, extra = 0): number {
    const mask = this.slots.length - 1;
    let i = this.encode(hex, extra) & mask;
    for (; ; i = (i + 1) & mask) {
      const e = (this.slots[i] as number) - 1;
      if (e === -1) break;
      if (this.same(e)) return e;
    }
    const e = this.size++;
    if (e === this.values.length) this.growEntries();
    this.keys.set(this.scratch, e * this.width);
    this.values[e] = -1;
    this.slots[i] = e + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
    return e;
  }

  value(entry: number): number {
    return this.values[entry] as number;
  }

  setValue(entry: number, value: number): void {
    this.values[entry] = value;
  }

  /** Writes the key's bytes into `scratch`; returns its hash. */
  private encode(hex: string, extra: number): number {
    if (hex.length !== this.hexLength)
      throw new Error(`a key of ${this.hexLength} hex digits was expected, not ${hex.length}`);
    const s = this.scratch;
    s[0] = extra & 0xff;
    s[1] = (extra >>> 8) & 0xff;
    s[2] = (extra >>> 16) & 0xff;
    s[3] = extra >>> 24;
    for (let i = 0; i < hex.length; i += 2)
      s[4 + i / 2] = (nibble(hex.charCodeAt(i)) << 4) | nibble(hex.charCodeAt(i + 1));
    return this.hash(s, 0);
  }

  /** FNV-1a from the table's seed, then MurmurHash3's finaliser (the low bits pick the slot). */
  private hash(bytes: Uint8Array, at: number): number {
    let h = this.seed ^ 0x811c9dc5;
    for (let i = 0; i < this.width; i++) h = Math.imul(h ^ (bytes[at + i] as number), 0x01000193);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private same(entry: number): boolean {
    const k = this.keys;
    const at = entry * this.width;
    for (let i = 0; i < this.width; i++) if (k[at + i] !== this.scratch[i]) return false;
    return true;
  }

  private growEntries(): void {
    const keys = new Uint8Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const values = new Int32Array(this.values.length * 2);
    values.set(this.values);
    this.values = values;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let e = 0; e < this.size; e++) {
      let i = this.hash(this.keys, e * this.width) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = e + 1;
    }
    this.slots = slots;
  }
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  throw new Error('a key of lowercase hex digits was expected');
}
