/** JSON checks JSON.parse does not make: shared by the team rollups and the log importer. */

/**
 * The first key that appears twice in one object of the JSON text, if any (scanned without parsing, like the depth).
 * JSON.parse keeps the last one silently, so a file could show a reader one figure and count another. Rollups and
 * log lines that give a figure are refused when this finds one (docs/security.md).
 */
export function duplicateKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const stack: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92) i++;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        let key = text.slice(start + 1, i);
        if (key.includes('\\')) {
          try {
            key = JSON.parse(text.slice(start, i + 1)) as string;
          } catch {
            return undefined; // not JSON: JSON.parse names the problem
          }
        }
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
    } else if (c === 123) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 91) {
      stack.push(null);
      expectKey = false;
    } else if (c === 125 || c === 93) {
      stack.pop();
      expectKey = false;
    } else if (c === 44) {
      expectKey = stack[stack.length - 1] !== null && stack.length > 0;
    }
  }
  return undefined;
}
