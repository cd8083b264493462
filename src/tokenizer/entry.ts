/** Entry of dist/tokenizer.js: the tokenizer alone, loaded lazily by src/sources/tokenize.ts. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const encoding = require('gpt-tokenizer/cjs/encoding/o200k_base') as { countTokens(text: string): number };

export function countTokens(text: string): number {
  return encoding.countTokens(text);
}
