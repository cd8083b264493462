/** JSON checks JSON.parse does not make: shared by the team rollups and the log importer. */

const utf8 = new TextDecoder();
const utf8Out = new TextEncoder();

/**
 * The first key that appears twice in one object of the JSON text, if any (scanned without parsing, like the depth).
 * JSON.parse keeps the last one silently, so a file could show a reader one figure and count another. Rollups and
 * log lines that give a figure are refused when this finds one (docs/security.md).
 */
export function duplicateKey(text: string): string | undefined {
  return duplicateKeyIn(utf8Out.encode(text));
}

/**
 * `duplicateKey` of the UTF-8 bytes `start`–`end`, without decoding them: the importer checks every line of a log
 * this way, and most of a line is the text of strings, skipped by a search for the next quote (in a Node Buffer a
 * native search) rather than character by character. A quote and a backslash are single bytes in UTF-8 and never part
 * of a longer character, so the bytes give the same structure as the text.
 */
export function duplicateKeyIn(bytes: Uint8Array, start = 0, end = bytes.length): string | undefined {
  // The open containers: for an object, where its keys start in `keys` (a flat list of each key's first and last
  // byte), -1 for an array; an object past SMALL keys keeps them in a Set of their text instead.
  const open: number[] = [];
  const sets: Array<Set<string> | undefined> = [];
  const keys: number[] = [];
  let expectKey = false;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 34) {
      const from = i + 1;
      // Short strings (most keys and values) by a plain loop, long ones (text) by a search for the next quote.
      let j = from;
      const stop = Math.min(end, from + 32);
      while (j < stop && bytes[j] !== 34 && bytes[j] !== 92) j++;
      i = j < stop && bytes[j] === 34 ? j : closingQuote(bytes, from, end);
      const depth = open.length - 1;
      const first = open[depth] ?? -1;
      if (expectKey && first >= 0) {
        const twice = seenKey(bytes, from, i, keys, first, sets, depth);
        if (twice !== null) return twice;
      }
      expectKey = false;
    } else if (c === 123) {
      open.push(keys.length);
      sets.push(undefined);
      expectKey = true;
    } else if (c === 91) {
      open.push(-1);
      sets.push(undefined);
      expectKey = false;
    } else if (c === 125 || c === 93) {
      const first = open.pop() ?? -1;
      sets.pop();
      if (first >= 0) keys.length = first;
      expectKey = false;
    } else if (c === 44) {
      expectKey = open.length > 0 && (open[open.length - 1] ?? -1) >= 0;
    }
  }
  return undefined;
}

/** Keys an object compares byte by byte; past this many, by their text in a Set (a hostile object of 100,000 keys). */
const SMALL = 16;

/**
 * Records the key in bytes `from`–`to` of the object whose keys start at `first`: the key's text when the object has
 * it already, undefined when the key is not a JSON string (JSON.parse names that problem), null otherwise.
 */
function seenKey(
  bytes: Uint8Array,
  from: number,
  to: number,
  keys: number[],
  first: number,
  sets: Array<Set<string> | undefined>,
  depth: number,
): string | undefined | null {
  let set = sets[depth];
  const raw = !hasEscapeOrWide(bytes, from, to);
  if (set === undefined && raw) {
    if (keys.length - first < SMALL * 2) {
      for (let k = first; k < keys.length; k += 2) {
        const a = keys[k] as number;
        const b = keys[k + 1] as number;
        if (b - a === to - from && sameBytes(bytes, a, from, to - from)) return keyText(bytes, from - 1, to);
      }
      keys.push(from, to);
      return null;
    }
  }
  if (set === undefined) {
    // Escaped or non-ASCII keys, or many: compared by their text from now on.
    set = new Set();
    for (let k = first; k < keys.length; k += 2)
      set.add(keyText(bytes, (keys[k] as number) - 1, keys[k + 1] as number) ?? '');
    sets[depth] = set;
  }
  const text = keyText(bytes, from - 1, to);
  if (text === undefined) return undefined;
  if (set.has(text)) return text;
  set.add(text);
  return null;
}

function hasEscapeOrWide(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = bytes[i] as number;
    if (c === 92 || c >= 0x80) return true;
  }
  return false;
}

function sameBytes(bytes: Uint8Array, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** The index of the quote that closes a string whose text starts at `from` (one not escaped), or `end`. */
function closingQuote(bytes: Uint8Array, from: number, end: number): number {
  for (let at = from; at < end; ) {
    const q = bytes.indexOf(34, at);
    if (q < 0 || q >= end) return end;
    let b = q - 1;
    while (b >= from && bytes[b] === 92) b--;
    if ((q - 1 - b) % 2 === 0) return q; // an even run of backslashes escapes only each other
    at = q + 1;
  }
  return end;
}

/** A key as JSON.parse would give it, from its quotes at `open` and `close`; undefined when it is not a JSON string. */
function keyText(bytes: Uint8Array, open: number, close: number): string | undefined {
  // Spread only a short plain key (arguments are bounded); a long one, hostile or not, is decoded.
  if (close - open <= 129 && !hasEscapeOrWide(bytes, open + 1, close))
    return String.fromCharCode(...bytes.subarray(open + 1, close));
  const text = utf8.decode(bytes.subarray(open + 1, close));
  if (!text.includes('\\')) return text;
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return undefined;
  }
}
