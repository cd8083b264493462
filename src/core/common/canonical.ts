/**
 * Canonical JSON: one byte-exact text for one value, so a digest or a signature over it can be recomputed anywhere.
 * Object keys are sorted (by UTF-16 code units, as `Array.prototype.sort` does), no whitespace, properties whose value
 * is `undefined` are left out (as JSON.stringify does). Values JSON cannot carry faithfully are refused rather than
 * silently changed: NaN and ±Infinity (JSON.stringify writes null), `undefined` inside arrays, functions, symbols,
 * bigints, and objects other than plain objects and arrays (a Date would become a string on one side only).
 */
export function canonicalJson(value: unknown): string {
  try {
    return write(value);
  } catch (e) {
    if (e instanceof Refused) throw new CanonicalJsonError(`$${e.path.reverse().join('')}`, e.what);
    throw e;
  }
}

export class CanonicalJsonError extends Error {
  constructor(
    readonly at: string,
    what: string,
  ) {
    super(`${at}: ${what} cannot be written as canonical JSON`);
    this.name = 'CanonicalJsonError';
  }
}

/**
 * A value canonical JSON cannot carry, and where: each enclosing array or object adds its step on the way out. The
 * location is built only when a value is refused, so writing (a team merge verifies 100,000 of these) builds none.
 */
class Refused {
  readonly path: string[] = [];
  constructor(readonly what: string) {}
}

function write(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new Refused(String(v));
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        let i = 0;
        try {
          for (; i < v.length; i++) {
            const x: unknown = v[i];
            if (x === undefined) throw new Refused('undefined');
            out += i === 0 ? write(x) : `,${write(x)}`;
          }
        } catch (e) {
          if (e instanceof Refused) e.path.push(`[${i}]`);
          throw e;
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) throw new Refused('a non-plain object');
      const obj = v as Record<string, unknown>;
      let out = '{';
      let k = '';
      try {
        for (k of Object.keys(obj).sort()) {
          const x = obj[k];
          if (x === undefined) continue;
          out += `${out.length === 1 ? '' : ','}${JSON.stringify(k)}:${write(x)}`;
        }
      } catch (e) {
        if (e instanceof Refused) e.path.push(`.${k}`);
        throw e;
      }
      return `${out}}`;
    }
    default:
      throw new Refused(typeof v);
  }
}
