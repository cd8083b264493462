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

/**
 * `eachRow` for the rows whose `column` is one of `ids` (every row when `ids` is undefined), asked 500 ids at a time
 * (`sql` has no WHERE of its own): a few years of sessions are more than one statement should list.
 */
export function eachRowOf(
  db: Database,
  sql: string,
  column: string,
  ids: readonly number[] | undefined,
  fn: (v: SqlValue[]) => void,
): void {
  if (ids === undefined) return eachRow(db, sql, undefined, fn);
  for (let i = 0; i < ids.length; i += 500)
    eachRow(
      db,
      `${sql} WHERE ${column} IN (${ids
        .slice(i, i + 500)
        .map(Number)
        .join(',')})`,
      undefined,
      fn,
    );
}
