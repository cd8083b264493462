import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Token estimates for text that a tool logged without counts (old Copilot Chat files, manual entries from pasted
 * text). Uses gpt-tokenizer's o200k_base encoding (GPT-4o and later; a fair estimate for other model families too),
 * which is big (a couple of MB, ~300 ms to load): it is bundled as its own file (dist/tokenizer.js) and loaded only
 * the first time an estimate is needed, so activation and the CLI's usual commands never pay for it.
 */
interface Tokenizer {
  countTokens(text: string): number;
}

let loaded: Tokenizer | undefined;

function load(): Tokenizer {
  // In the bundles, dist/tokenizer.js sits beside cli.js / extension.js; under tsc output (tests) the package itself.
  const beside = path.join(__dirname, 'tokenizer.js');
  const target = fs.existsSync(beside) ? beside : 'gpt-tokenizer/cjs/encoding/o200k_base';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const m = require(target) as Partial<Tokenizer>;
  if (typeof m.countTokens !== 'function') throw new Error(`the tokenizer at ${target} has no countTokens`);
  return m as Tokenizer;
}

/** Estimated tokens of a text (0 for empty text). */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  loaded ??= load();
  return loaded.countTokens(text);
}
