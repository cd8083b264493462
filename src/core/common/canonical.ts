/**
 * Canonical JSON: one byte-exact text for one value, so a digest or a signature over it can be recomputed anywhere.
 * Object keys are sorted (by UTF-16 code units, as `Array.prototype.sort` does), no whitespace, properties whose value
 * is `undefined` are left out (as JSON.stringify does). Values JSON cannot carry faithfully are refused rather than
 * silently changed: NaN and ±Infinity (JSON.stringify writes null), `undefined` inside arrays, functions, symbols,
 * bigints, and objects other than plain objects and arrays (a Date would become a string on one side only).
 */
export function canonicalJson(value: unknown): string {
  // The fast path builds no location strings (a team merge writes 100,000 of these); a value it refuses is written
  // again by the slow path, which names where the problem is.
  const fast = writeFast(value);
  return fast ?? write(value, '$');
}

/** The same text as `write`, or undefined for a value canonical JSON cannot carry. */
function writeFast(v: unknown): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : undefined;
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          const x: unknown = v[i];
          const w = x === undefined ? undefined : writeFast(x);
          if (w === undefined) return undefined;
          out += i === 0 ? w : `,${w}`;
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) return undefined;
      const obj = v as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const k of Object.keys(obj).sort()) {
        const x = obj[k];
        if (x === undefined) continue;
        const w = writeFast(x);
        if (w === undefined) return undefined;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${w}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return undefined;
  }
}

export class CanonicalJsonError extends Error {
  constructor(readonly at: string, what: string) {
    super(`${at}: ${what} cannot be written as canonical JSON`);
    this.name = 'CanonicalJsonError';
  }
}

function write(v: unknown, at: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new CanonicalJsonError(at, String(v));
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        return `[${v.map((x, i) => {
          if (x === undefined) throw new CanonicalJsonError(`${at}[${i}]`, 'undefined');
          return write(x, `${at}[${i}]`);
        }).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new CanonicalJsonError(at, 'a non-plain object');
      const obj = v as Record<string, unknown>;
      const parts: string[] = [];
      for (const k of Object.keys(obj).sort()) {
        const x = obj[k];
        if (x === undefined) continue;
        parts.push(`${JSON.stringify(k)}:${write(x, `${at}.${k}`)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(at, typeof v);
  }
}
