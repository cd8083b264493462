/**
 * The smallest and largest of many numbers. `Math.min(...values)` passes every value as an argument, and V8 throws a
 * RangeError ("Maximum call stack size exceeded") past about 120,000 of them: a few years of heavy use hold more
 * sessions than that. These loop instead; like Math.min and Math.max, they give Infinity and -Infinity for none.
 */
export function minOf(values: Iterable<number>): number {
  let min = Infinity;
  for (const v of values) if (v < min || Number.isNaN(v)) min = v;
  return min;
}

export function maxOf(values: Iterable<number>): number {
  let max = -Infinity;
  for (const v of values) if (v > max || Number.isNaN(v)) max = v;
  return max;
}

/**
 * Appends every item to `target` and returns it. `target.push(...items)` passes each item as an argument and throws the
 * same RangeError past about 120,000 of them (a few years of sessions, a monorepo's history, a huge log).
 */
export function pushAll<T>(target: T[], items: Iterable<T>): T[] {
  for (const item of items) target.push(item);
  return target;
}
