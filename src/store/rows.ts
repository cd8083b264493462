import type { BindParams, Database, SqlValue } from 'sql.js';

/**
 * Hands each row of `sql` to `fn` as SQLite steps to it, instead of `db.exec`'s array of every row: a reader that
 * folds rows into a map keeps only the map, and each row's values are garbage as soon as `fn` returns.
 */
export function eachRow(db: Database, sql: string, params: BindParams | undefined, fn: (v: SqlValue[]) => void): void {
  const stmt = db.prepare(sql);
  try {
    if (params !== undefined) stmt.bind(params);
    while (stmt.step()) fn(stmt.get());
  } finally {
    stmt.free();
  }
}
