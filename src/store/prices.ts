import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAliases, parsePriceFile, type PriceFile } from '../core/usage/priceConfig';
import { PriceBook, usePriceBook } from '../core/usage/pricing';

export const PRICES_FILE = 'prices.json';
const MAX_BYTES = 1 << 20;

/** Reads `prices.json` of a ledger home (absent → nothing set); a file that is not a regular file is refused, never opened blocking. */
export function readPriceFile(home: string): PriceFile {
  const file = path.join(home, PRICES_FILE);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { config: {}, plan: null, problems: [] };
    return {
      config: {},
      plan: null,
      problems: [`${file}: cannot be read (${code ?? (e as Error).message}); its prices are not used`],
    };
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile())
      return { config: {}, plan: null, problems: [`${file}: not a regular file; its prices are not used`] };
    if (st.size > MAX_BYTES)
      return { config: {}, plan: null, problems: [`${file}: larger than 1 MB; its prices are not used`] };
    const buf = Buffer.alloc(st.size);
    let read = 0;
    while (read < st.size) {
      const n = fs.readSync(fd, buf, read, st.size - read, read);
      if (n <= 0) break;
      read += n;
    }
    return parsePriceFile(buf.subarray(0, read).toString('utf8'), file);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Sets the process's price book from a ledger home's prices.json and the caller's aliases (the VS Code setting
 * `outcomeLedger.prices.aliases`, which wins over the file for the same name). Returns the file's plan and problems.
 */
export function applyPriceConfig(home: string, extraAliases?: unknown): PriceFile {
  const f = readPriceFile(home);
  const problems = [...f.problems];
  const extra = parseAliases(extraAliases ?? {}, 'setting outcomeLedger.prices.aliases', problems);
  const config = { aliases: { ...f.config.aliases, ...extra }, overrides: f.config.overrides ?? {} };
  usePriceBook(new PriceBook(config));
  return { config, plan: f.plan, problems };
}
