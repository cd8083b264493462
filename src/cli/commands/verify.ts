import * as fs from 'node:fs';
import { str, UsageError } from '../args';
import type { Command } from '../command';
import { withLedger } from '../ledger';

/** A summary is a few hundred KB at most; anything far larger is not one (and is not read into memory). */
const MAX_SUMMARY_BYTES = 64 << 20;

function readSummaryFile(file: string): string {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
    if (stat.size > MAX_SUMMARY_BYTES) throw new UsageError(`${file} is ${stat.size} bytes: larger than any summary (${MAX_SUMMARY_BYTES} bytes at most)`);
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check that a summary file is exactly what Outcome Ledger exported (and, with --ledger, its figures)',
  help: `Usage: outcome-ledger verify FILE [--ledger] [--key FINGERPRINT]

Checks that a summary (Markdown, HTML or JSON) is exactly what Outcome Ledger exported: the schema version, the
Ed25519 signature, every figure and citation against its signed digest, and for Markdown and HTML every visible line.
A signature proves the file was not edited after export by the key holder; it cannot prove the logs were genuine.

  --ledger            also recompute every figure from the local ledger (the engineer's machine) and compare
  --key FINGERPRINT   require the signature to be by this key (the fingerprint the engineer gave you, SHA256:…);
                      anyone can sign an edited copy with a key of their own

Exit status: 0 verified; 1 not verified (what is wrong is printed); 2 usage error or unreadable file.`,
  options: { ledger: { type: 'boolean' }, key: { type: 'string' } },
  positionals: true,
  async run(p, io) {
    const [file, ...rest] = p.positionals;
    if (!file || rest.length > 0) throw new UsageError('verify needs one FILE (a summary exported by `outcome-ledger summary`)');
    const text = readSummaryFile(file);
    const key = str(p, 'key');
    if (key !== undefined && !/^(SHA256:)?([0-9a-f]{4}:?){8}$/i.test(key.trim())) throw new UsageError(`--key needs a key fingerprint such as SHA256:1a2b:3c4d:…, got "${key}"`);
    const expect = key !== undefined ? { fingerprint: key } : {};
    const { verifySummary } = await import('../../services/summary');
    const verdict =
      p.values.ledger === true
        ? await withLedger(p, io, (ledger) => verifySummary(text, { db: ledger.database, ledgerFile: ledger.paths.file, env: io.env }, expect))
        : verifySummary(text, undefined, expect);
    if (verdict.ok) {
      const s = verdict.doc?.summary;
      io.out(`Verified: ${file} is exactly what Outcome Ledger exported${s ? ` for ${s.period.since} – ${s.period.until}` : ''}.`);
      for (const c of verdict.checks) io.out(`  ✓ ${c}`);
      if (p.values.ledger !== true) io.out('  (the signature shows the file was not edited after export; it cannot show the logs were genuine — run with --ledger on the engineer\'s machine to recompute the figures)');
      return 0;
    }
    io.err(`Not verified: ${file}`);
    for (const c of verdict.checks) io.err(`  ✓ ${c}`);
    for (const problem of verdict.problems) io.err(`  ✗ ${problem}`);
    return 1;
  },
};
