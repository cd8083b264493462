import { createHash } from 'node:crypto';

/** A stable 53-bit id (a safe JS integer, an SQLite rowid) from a natural key. */
export function stableId(key: string): number {
  const d = createHash('sha1').update(key).digest();
  return (d.readUInt32BE(0) & 0x1fffff) * 0x1_0000_0000 + d.readUInt32BE(4);
}

/** Prompts are compared by a hash of their normalised text, never by the text itself. */
export function promptHash(text: string): number {
  return stableId(text.trim().replace(/\s+/g, ' '));
}
