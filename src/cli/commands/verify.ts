import * as fs from 'node:fs';
import { lineText } from '../../core/common/text';
import { GitMissingError } from '../../git/run';
import { str, UsageError, type Parsed } from '../args';
import type { Command } from '../command';
import type { CliIo } from '../io';
import { withLedger } from '../ledger';

/** A key fingerprint: Outcome Ledger's (SHA256: and 8 groups of 4 hex digits) or OpenSSH's (SHA256: and 43 base64). */
function isFingerprint(v: string): boolean {
  return /^(SHA256:)?([0-9a-f]{4}:?){8}$/i.test(v.trim()) || /^SHA256:[A-Za-z0-9+/]{43}$/.test(v.trim());
}

/** A summary is a few hundred KB at most; anything far larger is not one (and is not read into memory). */
const MAX_SUMMARY_BYTES = 64 << 20;

function readSummaryFile(file: string): string {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new UsageError(`${file} is not a file`);
    if (stat.size > MAX_SUMMARY_BYTES)
      throw new UsageError(
        `${file} is ${stat.size} bytes: larger than any summary (${MAX_SUMMARY_BYTES} bytes at most)`,
      );
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(
      `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
}

async function verify(p: Parsed, io: CliIo): Promise<number> {
  const [file, ...rest] = p.positionals;
  if (!file || rest.length > 0)
    throw new UsageError('verify needs one FILE (a summary exported by `outcome-ledger summary`)');
  const key = str(p, 'key');
  if (key !== undefined && !isFingerprint(key))
    throw new UsageError(
      `--key needs a key fingerprint such as SHA256:1a2b:3c4d:… (Outcome Ledger's key) or SHA256:… as ssh-keygen -l prints it, got "${key}"`,
    );
  const repos = (p.values.repo as string[] | undefined) ?? [];
  for (const r of repos)
    if (!fs.existsSync(r) || !fs.statSync(r).isDirectory())
      throw new UsageError(`--repo ${r}: no such folder (give the path of a clone of the repository)`);
  const expect = key !== undefined ? { fingerprint: key } : {};
  const { checkAgainstLedger, checkSummaryText } = await import('../../services/summary');
  const { withRepositories } = await import('../../services/summaryRepos');
  // The file's text is let go once it is checked: a year's summary is MBs, and --ledger recomputes a year next.
  const checked = checkSummaryText(readSummaryFile(file), expect);
  let verdict =
    'problems' in checked
      ? checked
      : p.values.ledger === true
        ? await withLedger(p, io, (ledger) =>
            checkAgainstLedger(checked, { db: ledger.database, ledgerFile: ledger.paths.file, env: io.env }),
          )
        : checkAgainstLedger(checked);
  try {
    verdict = await withRepositories(verdict, repos);
  } catch (e) {
    if (e instanceof GitMissingError) throw new UsageError('verify --repo needs git on PATH');
    throw e;
  }
  const sig = verdict.doc?.signature;
  if (verdict.ok && sig) {
    const s = verdict.doc?.summary;
    io.out(
      `Verified: ${file}${s ? ` (${s.period.since} – ${s.period.until})` : ''} has not changed since it was signed by ${key !== undefined ? 'the expected key' : 'the key'} ${sig.fingerprint}.`,
    );
    for (const c of verdict.checks) io.out(`  ✓ ${lineText(c)}`);
    for (const w of verdict.warnings) io.out(`  ! ${lineText(w)}`);
    for (const n of verdict.notChecked) io.out(`  ○ ${lineText(n)}`);
    if (p.values.ledger !== true)
      io.out("  (on the engineer's machine, --ledger also recomputes every figure from the ledger)");
    return 0;
  }
  io.err(`Not verified: ${file}`);
  for (const c of verdict.checks) io.err(`  ✓ ${lineText(c)}`);
  for (const w of verdict.warnings) io.err(`  ! ${lineText(w)}`);
  for (const problem of verdict.problems) io.err(`  ✗ ${lineText(problem)}`);
  return 1;
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check a summary: its signature and figures, with --key its signer, with --repo its commits',
  help: `Usage: outcome-ledger verify FILE [--key FINGERPRINT] [--repo PATH]... [--ledger]

Checks a summary (Markdown, HTML or JSON): the schema version, the signature (Ed25519, or SSH via ssh-keygen), every
figure and citation against its signed digest, for Markdown and HTML every visible line, and that every headline
figure adds up from the records the file carries. The signature proves the data has not changed since it was signed
by the key it names; it does not say who holds that key (--key does), and nothing can prove the AI logs were not
edited before they were imported.

  --key FINGERPRINT   require the signature to be by this key: the fingerprint the engineer gives you (SHA256:…), or
                      for an SSH-signed summary the one ssh-keygen -lf prints for the key on their code host
  --repo PATH         a clone of a repository the summary cites, repeatable: every cited commit must exist in one of
                      them with the author time, subject and changed files the summary gives, and be on that
                      repository's default branch (origin/HEAD, else main, else master, else HEAD); one line per
                      commit that is missing or differs
  --ledger            also recompute every figure from the local ledger (the engineer's machine) and compare

Exit status: 0 verified; 1 not verified (what is wrong is printed); 2 usage error or unreadable file.`,
  examples: [
    ['outcome-ledger verify november.md', 'check the signature and that the figures add up'],
    [
      'outcome-ledger verify november.md --repo ~/src/app --key SHA256:\u2026',
      'and that every cited commit exists there, signed by that key',
    ],
  ],
  options: { ledger: { type: 'boolean' }, key: { type: 'string' }, repo: { type: 'string', multiple: true } },
  positionals: true,
  run: verify,
};
