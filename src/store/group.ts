import type { Database } from 'sql.js';

/** Rows of (ref, value) from `sql`, grouped: ref → its values in row order. */
export function groupStrings(db: Database, sql: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [ref, value] of db.exec(sql)[0]?.values ?? []) {
    const list = out.get(Number(ref));
    if (list) list.push(String(value));
    else out.set(Number(ref), [String(value)]);
  }
  return out;
}
