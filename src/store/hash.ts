import * as crypto from 'node:crypto';

/** Node's one-shot digest (Node 20.12 and later): about half the cost of a Hash object per call. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

function sha1(key: string): Buffer {
  return oneShot ? oneShot('sha1', key, 'buffer') : crypto.createHash('sha1').update(key).digest();
}

/**
 * A stable 53-bit id (a safe JS integer, an SQLite rowid) from a natural key. Computed for every record an import
 * reads (a first import of a year of heavy use: about a million), so by the cheapest SHA-1 Node offers.
 */
export function stableId(key: string): number {
  const d = sha1(key);
  return (d.readUInt32BE(0) & 0x1fffff) * 0x1_0000_0000 + d.readUInt32BE(4);
}

/** Prompts are compared by a hash of their normalised text, never by the text itself. */
export function promptHash(text: string): number {
  return stableId(text.trim().replace(/\s+/g, ' '));
}

/**
 * A 53-bit hash of a path from two independent 32-bit multiplicative lanes — not a digest like `stableId`: it runs for
 * every log file at every rescan, so it must be cheap; a collision costs no data (services/importer.ts RescanMemo).
 */
export function pathKey(p: string): number {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ p.length;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  return (b >>> 11) * 0x1_0000_0000 + (a >>> 0);
}
