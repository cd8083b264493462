/**
 * Strings from logs, repositories and rollups are data, never control (issue 12). The ONE sanitiser and the output
 * escapers every renderer uses:
 *  - `cleanText` at ingestion (model names, branches, session ids, commit subjects and authors): terminal escape
 *    sequences (CSI, OSC such as OSC-8 links, DCS/APC/PM/SOS strings, two-byte ESC codes) are removed whole, then
 *    every other C0/C1 control character and every bidirectional override/isolate/mark is removed;
 *  - `terminalText` at the terminal (everything the CLI prints), `mdText` for Markdown, `htmlText` for HTML:
 *    whatever reached the ledger before this rule, or came from a path, is neutralised again on the way out — each
 *    control character left becomes U+FFFD (visible: something was there), so no sequence can start.
 * Prompt text the user opted in to store is kept as typed (it is never printed).
 */

/** Escape sequences: CSI (ESC [ or 0x9b ... final byte), string commands (OSC, DCS, SOS, PM, APC up to BEL/ST), ESC + one byte. */
const ESCAPES =
  // eslint-disable-next-line no-control-regex
  /(?:\u001b\[|\u009b)[0-?]*[ -/]*[@-~]?|(?:\u001b[\]PX^_]|[\u0090\u0098\u009d\u009e\u009f])[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[ -~]?/g;

/** The bidirectional formatting characters: marks, embeddings, overrides and isolates. */
const BIDI = '\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069';
/** C0 and C1 controls and DEL, without tab (U+0009) and newline (U+000A). */
const C0_C1_BUT_BREAKS = '\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f';
/** Every C0 and C1 control and DEL. */
const C0_C1 = '\\u0000-\\u001f\\u007f-\\u009f';

/** C0 and C1 controls (without tab and newline), DEL, and the bidirectional formatting characters. */
const CONTROLS = new RegExp(`[${C0_C1_BUT_BREAKS}${BIDI}]`, 'g');

/** Tab, newline and the Unicode line/paragraph separators: kept only where a text may span lines. */
const BREAKS = /[\t\n\u2028\u2029]/g;

/** Whether a string holds anything `cleanText` would change (a cheap test before copying). */
const SUSPECT = new RegExp(`[${C0_C1_BUT_BREAKS}${BIDI}]`);

/**
 * A whole string free of control and bidirectional characters (tab and newline included): what a name in a team
 * rollup must match, so that no name can look like another.
 */
export const PRINTABLE_LINE = new RegExp(`^[^${C0_C1}${BIDI}]*$`);

/**
 * A string from a log or a repository as it may be stored and shown: escape sequences and control characters
 * removed, bidi overrides removed; tabs and newlines become spaces unless `multiline` (commit bodies).
 */
export function cleanText(s: string, multiline = false): string {
  let out = s;
  if (SUSPECT.test(out)) out = out.replace(ESCAPES, '').replace(CONTROLS, '');
  return multiline ? out : out.replace(BREAKS, ' ');
}

/** Every control and bidi character, tab and newline included, and the line/paragraph separators (one-line outputs). */
const ALL_CONTROLS = new RegExp(`[${C0_C1}${BIDI}\\u2028\\u2029]`, 'g');

/** Text for a terminal: the output's own newlines and tabs kept, every other control or bidi character → U+FFFD. */
export function terminalText(s: string): string {
  return SUSPECT.test(s) || /[\u2028\u2029]/.test(s)
    ? s.replace(CONTROLS, '\uFFFD').replace(/[\u2028\u2029]/g, ' ')
    : s;
}

/** One line of plain text for a UI (a tree item, the status bar, a notification): controls → U+FFFD. */
export function lineText(s: string): string {
  return s.replace(ALL_CONTROLS, '\uFFFD');
}

/** Text for HTML element content and attribute values (controls first, then the five markup characters and `). */
export function htmlText(s: string): string {
  return lineText(s).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Text for Markdown (a table cell or a paragraph): on one line (a newline would end a table row), every character
 * with a meaning in CommonMark or GFM escaped with a backslash, and characters that start HTML or entities turned
 * into entities, so a name can neither format, link, break a table nor inject markup.
 */
export function mdText(s: string): string {
  return lineText(s)
    .replace(/[\\`*_{}[\]()#+\-.!|~^$:@]/g, (c) => `\\${c}`)
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
