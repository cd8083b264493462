import * as path from 'node:path';
import { isSummaryFormat } from '../../core/summary/render';
import { GitMissingError } from '../../git/run';
import { DEFAULT_DURABILITY_DAYS } from '../../services/linker';
import { writeFileAtomic } from '../../store/atomic';
import { diskFaultOf } from '../../store/diskFault';
import { SshSignError } from '../../store/sshSignature';
import {
  durabilityDaysOf,
  identitiesArg,
  LINK_VIEW_OPTIONS,
  PERIOD_OPTIONS,
  periodOf,
  planArg,
  str,
  thresholdOf,
  timeZoneOf,
  UsageError,
  type Parsed,
} from '../args';
import type { Command } from '../command';
import { checkOutFile, FORCE_HELP, OUT_OPTIONS } from '../output';
import { homeOf, refresh, withLedger } from '../ledger';

function redactionOf(p: Parsed): { repos: boolean; subjects: boolean } {
  const v = str(p, 'redact');
  const out = { repos: false, subjects: false };
  if (v === undefined) return out;
  for (const part of v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (part === 'repos') out.repos = true;
    else if (part === 'subjects') out.subjects = true;
    else throw new UsageError(`--redact takes repos, subjects or repos,subjects; got "${part}"`);
  }
  return out;
}

export const summaryCommand: Command = {
  name: 'summary',
  summary: 'the shareable outcome summary for a period (Markdown, HTML or JSON), signed',
  help: `Usage: outcome-ledger summary --since YYYY-MM-DD --until YYYY-MM-DD [--format md|html|json] [--out FILE]
                              [--redact repos,subjects] [--sign ed25519|ssh] [--no-import] [--threshold X] [--durability-days N]

The shareable outcome summary for a period: outcomes grouped by task (commits, PRs, tokens, estimated cost, tools
and models, kept lines) each citing the sessions and link evidence it rests on; yield, tokens and cost per commit and
per task and their weekly trend; tokens without outcome and how you labelled them; methodology; coverage and limits.
It is signed with your Ed25519 key (created on first use in the ledger home), or with --sign ssh your git SSH signing
key, and carries a digest of the ledger records the figures came from and every cited commit's full SHA, author time
and changed files (for \`verify --repo\`). The figures are the same as \`report --json\` for the period.

  --since DATE            first day included (in --tz), required
  --until DATE            last day included (in --tz), required
  --format F              md (default), html (one self-contained file) or json (versioned schema)
  --out FILE              write the summary to FILE (default: print it; missing folders are created)
  ${FORCE_HELP}
  --redact WHAT           leave out repository names and/or commit subjects: repos, subjects or repos,subjects
  --sign ssh              sign with your git SSH signing key (git config gpg.format ssh, user.signingkey) via
                          ssh-keygen -Y sign, so a reviewer can match it to the key on your code host
                          (default ed25519: Outcome Ledger's own key)
  --no-import             summarise the ledger as it is, without reading new log lines or git history
  --threshold X           confidence from which an automatic link counts (0..1, default 0.6)
  --durability-days N     age from which a commit's kept lines are judged (default ${DEFAULT_DURABILITY_DAYS})
  --identity EMAIL        also count commits authored by EMAIL as yours (repeatable; the summary lists them)
  --plan NAME[:USD]       add your subscription's cost amortised over the period, beside the list-price estimate
                          (as for report; default: the plan in the ledger home's prices.json, if any)`,
  examples: [
    [
      'outcome-ledger summary --since 2026-11-01 --until 2026-11-30 --out november.md',
      'a signed Markdown summary of November',
    ],
    [
      'outcome-ledger summary --since 2026-10-01 --until 2026-12-31 --format html --redact repos --out q4.html',
      'a quarter as one HTML file, repository names left out',
    ],
  ],
  options: {
    ...PERIOD_OPTIONS,
    ...LINK_VIEW_OPTIONS,
    format: { type: 'string' },
    ...OUT_OPTIONS,
    redact: { type: 'string' },
    sign: { type: 'string' },
    'no-import': { type: 'boolean' },
    plan: { type: 'string' },
  },
  positionals: false,
  async run(p, io) {
    const sign = str(p, 'sign') ?? 'ed25519';
    if (sign !== 'ed25519' && sign !== 'ssh')
      throw new UsageError(
        `--sign takes ed25519 (Outcome Ledger's own key, the default) or ssh (your git SSH signing key); got "${sign}"`,
      );
    if (p.values.json !== undefined) throw new UsageError('summary takes --format json, not --json');
    const timeZone = timeZoneOf(p, io.env);
    const period = periodOf(p);
    if (!period.since || !period.until)
      throw new UsageError(
        'summary needs --since and --until (YYYY-MM-DD), for example --since 2026-10-01 --until 2026-10-31',
      );
    const { since, until } = period;
    const format = str(p, 'format') ?? 'md';
    if (!isSummaryFormat(format)) throw new UsageError(`--format takes md, html or json; got "${format}"`);
    const redact = redactionOf(p);
    const threshold = thresholdOf(p);
    const durabilityDays = durabilityDaysOf(p);
    const out = str(p, 'out');
    const plan = planArg(p);
    if (out !== undefined) await checkOutFile(out, p, io, `outcome-summary.${format}`);
    const home = homeOf(p, io.env);
    const { exportSummary, gitSshSignerIn, GitSigningSetupError } = await import('../../services/summary');
    let signer;
    try {
      signer = sign === 'ssh' ? await gitSshSignerIn(process.cwd()) : undefined;
    } catch (e) {
      if (e instanceof GitSigningSetupError) throw new UsageError(`--sign ssh: ${e.message}`);
      if (e instanceof GitMissingError)
        throw new UsageError('--sign ssh reads your git signing key: git is not on PATH');
      throw e;
    }
    return withLedger(p, io, async (ledger) => {
      await refresh(ledger, p, io);
      let r;
      try {
        r = exportSummary(ledger.database, home, {
          since,
          until,
          timeZone,
          redact,
          durabilityDays,
          format,
          env: io.env,
          ledgerFile: ledger.paths.file,
          plan: plan === undefined ? ledger.plan : plan,
          ...(threshold !== undefined ? { threshold } : {}),
          ...identitiesArg(p),
          ...(signer !== undefined ? { signer } : {}),
        });
      } catch (e) {
        if (!(e instanceof SshSignError)) throw e;
        io.err(`outcome-ledger: ${e.message}`);
        return 1;
      }
      if (out === undefined) {
        io.out(r.text.replace(/\n$/, ''));
        return 0;
      }
      try {
        writeFileAtomic(path.resolve(out), r.text, { mode: 0o644 });
      } catch (e) {
        const fault = diskFaultOf(e, 'write the summary', path.resolve(out));
        io.err(`outcome-ledger: ${fault ? fault.message : `cannot write ${out}: ${(e as Error).message}`}`);
        return 1;
      }
      io.err(
        `Wrote the ${format === 'md' ? 'Markdown' : format.toUpperCase()} summary for ${since} – ${until} to ${out}, signed with ${r.key.fingerprint}. Check it with: outcome-ledger verify ${out}`,
      );
      return 0;
    });
  },
};
