/**
 * Text from outside (log lines, repositories, rollup files) shown to a person: the one definition of the characters
 * that have no place in it — the C0 and C1 control characters, DEL, and the bidirectional controls (Arabic letter
 * mark, left-to-right and right-to-left marks, embeddings, overrides and isolates). They can move a terminal's cursor,
 * recolour it, or make one name look like another.
 */
const CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';

/** Every control character of a string (global: for `replace`). */
export const CONTROL_CHARS = new RegExp(`[${CONTROLS}]`, 'g');

/** A string with no control character at all (for schemas that refuse them). */
export const PRINTABLE = new RegExp(`^[^${CONTROLS}]*$`);

/** The string with each control character replaced (by U+FFFD, the replacement character, unless told otherwise). */
export function withoutControls(s: string, replacement = '\uFFFD'): string {
  return s.replace(CONTROL_CHARS, replacement);
}
