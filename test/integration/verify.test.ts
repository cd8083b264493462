import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SummaryDocument } from '../../src/core/summary/schema';
import { utcDay } from '../../src/demo/truth';
import type { SessionJson } from '../../src/services/queries';
import { signSummary } from '../../src/services/summary';
import { Ledger } from '../../src/store/ledger';
import { loadOrCreateSigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';
import { worldSandbox } from './sandbox';
import { assertSignedByOtherKey, cli, type Run } from './cli';

/**
 * A reviewer checks a summary (issue 14): against the real repositories (`verify --repo`), against its own figures
 * (a signed file whose figures do not add up), and against the key (without --key: integrity only, and said so; an
 * SSH signature with a real ssh-keygen key). A demo world (git repositories + Claude Code and Codex logs), the bundled CLI.
 */
describe('verify: the repositories, the figures and the key (a demo world, the bundled CLI)', function () {
  this.timeout(240_000);
  const box = worldSandbox('ol-verify-', { seed: 7 });
  let since: string;
  let until: string;
  let honest: string;
  const run = (args: string[], h = box.ledger, extra: Record<string, string> = {}): Run =>
    cli([...args, '--home', h], { ...box.env, ...extra });
  const ok = (r: Run): Run => {
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r;
  };
  const repoArgs = (): string[] => box.world.repos.flatMap((r) => ['--repo', r]);
  const summary = (out: string, h = box.ledger, extra: string[] = [], more: Record<string, string> = {}): Run =>
    ok(
      run(
        [
          'summary',
          '--since',
          since,
          '--until',
          until,
          '--tz',
          'UTC',
          '--no-import',
          '--durability-days',
          '7',
          '--out',
          out,
          ...extra,
        ],
        h,
        more,
      ),
    );
  const readDoc = (file: string): SummaryDocument => JSON.parse(fs.readFileSync(file, 'utf8')) as SummaryDocument;
  const cited = (doc: SummaryDocument): string[] => [
    ...new Set(doc.summary.tasks.flatMap((t) => t.outcomes.flatMap((o) => o.commits.map((c) => c.sha)))),
  ];

  before(() => {
    ok(run(['import']));
    ok(run(['link', '--durability-days', '7']));
    since = utcDay(box.world.start);
    until = utcDay(box.world.end);
    honest = path.join(box.dir, 'honest.json');
    summary(honest, box.ledger, ['--format', 'json']);
  });

  it('an honest summary passes --repo against the real repositories; a commit not on the default branch is named, not failed', () => {
    const doc = readDoc(honest);
    const shas = cited(doc);
    assert.ok(shas.length >= 5 && shas.every((s) => /^[0-9a-f]{40}$/.test(s)), 'the signed data cites full SHAs');
    const r = ok(run(['verify', honest, ...repoArgs()]));
    assert.match(r.stdout, /^Verified: .* has not changed since it was signed by the key SHA256:/);
    assert.match(
      r.stdout,
      new RegExp(
        `✓ all ${shas.length} cited commits exist in the repositories given, with the author time, subject and changed files the summary gives`,
      ),
    );
    // The demo world leaves some feature branches unmerged: said per commit, with the branch it was measured against.
    assert.match(
      r.stdout,
      /! commit [0-9a-f]{12} \(task [A-Z]+-\d+, ".*"\) is not on the default branch of ".*" \(main \(no origin\/HEAD\)\): it exists, but has not shipped there \(yet\)/,
    );
    assert.match(r.stdout, /○ not checked: who signed it/);
    // The Markdown form carries the same signed data and verifies the same way.
    const md = path.join(box.dir, 'honest.md');
    summary(md);
    assert.match(ok(run(['verify', md, ...repoArgs()])).stdout, /✓ all \d+ cited commits exist/);
    // Without --repo, verify says the commits were not checked and how to check them.
    assert.match(
      ok(run(['verify', honest])).stdout,
      new RegExp(`○ not checked: that the ${shas.length} cited commits exist and shipped: run verify with --repo PATH`),
    );
    // A clone's default branch is its origin/HEAD, and verify says so.
    const clone = path.join(box.dir, 'clone');
    const first = box.world.repos[0] as string;
    assert.equal(spawnSync('git', ['clone', '--quiet', first, clone]).status, 0);
    const r2 = run(['verify', honest, '--repo', clone, ...box.world.repos.slice(1).flatMap((x) => ['--repo', x])]);
    assert.doesNotMatch(
      r2.stdout + r2.stderr,
      new RegExp(`not on the default branch of "${clone}" \\(main \\(no origin`),
    );
  });

  it('a ledger edited to cite commits that exist nowhere still verifies by signature alone; --repo fails naming each of them', async () => {
    const copy = path.join(box.dir, 'forged-ledger');
    fs.cpSync(box.ledger, copy, { recursive: true });
    const unlinked = (
      JSON.parse(
        ok(run(['sessions', '--json', '--no-import', '--since', since, '--until', until, '--tz', 'UTC'], copy)).stdout,
      ) as SessionJson[]
    )
      .filter((s) => s.status === 'unlinked')
      .slice(0, 3);
    assert.equal(unlinked.length, 3, 'the demo world has unlinked sessions');
    const fake = ['1', '2', '3'].map((d) => `${d}${'e'.repeat(38)}${d}`);
    const ledger = await Ledger.open(copy);
    try {
      await ledger.write((db) => {
        const at = Date.parse(`${until}T09:00:00Z`);
        // In every repository the ledger knows, so `link confirm` finds it in the session's own.
        for (const [repo] of db.exec('SELECT id FROM repos')[0]?.values ?? [])
          fake.forEach((sha, i) =>
            db.run(
              'INSERT INTO commits (repo_ref, sha, parents, author_ts, commit_ts, subject, files, flags, tasks, pr, merged_branch) VALUES (?,?,?,?,?,?,?,0,?,NULL,NULL)',
              [
                Number(repo),
                sha,
                '',
                at + i * 60_000,
                at + i * 60_000,
                `PAY-${77 + i}: the big refactor`,
                '10\t2\tsrc/pay.ts',
                `PAY-${77 + i}`,
              ],
            ),
          );
        // And the tokens divided by ten: the yield looks ten times better.
        for (const table of ['interactions', 'usage_rollup'])
          db.run(
            `UPDATE ${table} SET input = input / 10, output = output / 10, cache_read = cache_read / 10, cache_write = cache_write / 10`,
          );
      });
    } finally {
      ledger.close();
    }
    unlinked.forEach((s, i) => ok(run(['link', 'confirm', s.id, fake[i] as string], copy)));
    const forged = path.join(box.dir, 'forged.json');
    summary(forged, copy, ['--format', 'json']);
    const doc = readDoc(forged);
    for (const sha of fake) assert.ok(cited(doc).includes(sha), `the summary cites ${sha}`);
    // What issue 14 found: the signature and the figures alone cannot tell (and verify says what it did not check).
    const alone = ok(run(['verify', forged], copy));
    assert.match(alone.stdout, /^Verified: /);
    assert.match(
      alone.stdout,
      /○ not checked: that the \d+ cited commits exist and shipped: run verify with --repo PATH/,
    );
    assert.match(ok(run(['verify', forged, '--ledger'], copy)).stdout, /every figure matches the local ledger/);
    // Against the real repositories it fails, one line per fabricated commit, naming it.
    const r = run(['verify', forged, ...repoArgs()], copy);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /^Not verified: /);
    const lines = r.stderr.split('\n').filter((l) => l.includes('✗'));
    assert.equal(lines.length, 3, r.stderr);
    fake.forEach((sha, i) =>
      assert.match(
        lines.find((l) => l.includes(sha.slice(0, 12))) ?? '',
        new RegExp(
          `✗ commit ${sha.slice(0, 12)} \\(task [A-Z]+-\\d+, "PAY-${77 + i}: the big refactor"\\) is in none of the repositories given \\(".*"\\): the summary cites a commit they do not hold`,
        ),
      ),
    );
  });

  it('--repo names a cited commit whose subject, author time or files the ledger was made to misstate', async () => {
    const copy = path.join(box.dir, 'misstated-ledger');
    fs.cpSync(box.ledger, copy, { recursive: true });
    const [a, b, c] = cited(readDoc(honest));
    const ledger = await Ledger.open(copy);
    try {
      await ledger.write((db) => {
        db.run("UPDATE commits SET subject = 'PAY-1: rewrote billing single-handedly' WHERE sha = ?", [a as string]);
        db.run('UPDATE commits SET author_ts = author_ts - 86400000 WHERE sha = ?', [b as string]);
        db.run(
          "UPDATE commits SET files = files || char(10) || '5' || char(9) || '0' || char(9) || 'src/extra.ts' WHERE sha = ?",
          [c as string],
        );
      });
    } finally {
      ledger.close();
    }
    const file = path.join(box.dir, 'misstated.json');
    summary(file, copy, ['--format', 'json']);
    const r = run(['verify', file, ...repoArgs()], copy);
    assert.equal(r.code, 1, r.stdout);
    const lines = r.stderr.split('\n').filter((l) => l.includes('✗'));
    assert.equal(lines.length, 3, r.stderr);
    const line = (sha: string | undefined): string =>
      lines.find((l) => l.includes(`commit ${(sha as string).slice(0, 12)}`)) ?? '';
    assert.match(
      line(a),
      /differs in ".*": its subject is ".*", the summary says "PAY-1: rewrote billing single-handedly"/,
    );
    assert.match(line(b), /differs in ".*": authored \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, the summary says \d{4}-/);
    assert.match(line(c), /differs in ".*": it changed \d+ files?, the summary says \d+/);
  });

  it('a redacted summary still has every commit checked by SHA, time and files, and says what could not be compared', () => {
    const file = path.join(box.dir, 'redacted.md');
    summary(file, box.ledger, ['--redact', 'repos,subjects']);
    const r = ok(run(['verify', file, ...repoArgs()]));
    assert.match(
      r.stdout,
      /✓ all \d+ cited commits exist in the repositories given, with the author time and changed files the summary gives/,
    );
    assert.match(r.stdout, /○ not checked: the commit subjects\. The summary redacts them/);
    assert.match(
      r.stdout,
      /○ not checked: which repository each commit belongs to\. The summary redacts repository names/,
    );
    assert.doesNotMatch(r.stdout, /\(task [^)]*, "/, 'no subject is shown');
  });

  it('--repo that is no repository is one clear line; a folder that does not exist is a usage error', () => {
    const empty = tempDir('ol-not-a-repo-');
    const r = run(['verify', honest, '--repo', empty]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /✗ the repository ".*" cannot be read: not a git repository/);
    const missing = run(['verify', honest, '--repo', path.join(box.dir, 'nowhere')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--repo .*nowhere: no such folder/);
  });

  it('a validly signed file whose figures do not add up (250 commits, 1,000 tokens) is rejected, naming them', () => {
    const doc = readDoc(honest);
    const s = structuredClone(doc.summary);
    s.outcomes.commits = 250;
    s.totals.total = 1000;
    // Signed with the engineer's own key: the signature holds, and --key says it is theirs.
    const signed = signSummary(s, loadOrCreateSigningKey(box.ledger));
    const file = path.join(box.dir, 'inconsistent.json');
    fs.writeFileSync(file, JSON.stringify(signed, null, 2));
    const r = run(['verify', file, '--key', doc.signature.fingerprint]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /✓ the signature holds/);
    assert.match(r.stderr, /✗ the figures do not add up from the records the file carries/);
    assert.match(
      r.stderr,
      new RegExp(
        `✗ the number of outcomes \\(commits\\): the file says 250, but the distinct outcomes the tasks cite give ${doc.summary.outcomes.commits}`,
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `✗ the total tokens in the totals: the file says 1,000, but the figures by tool give ${doc.summary.totals.total.toLocaleString('en-US')}`,
      ),
    );
    // One figure alone is caught too (tokens without outcome moved into the shipped tokens).
    const t = structuredClone(doc.summary);
    t.outcomes.yield = Math.min(1, (t.outcomes.yield ?? 0) + 0.2);
    const f2 = path.join(box.dir, 'yield.json');
    fs.writeFileSync(f2, JSON.stringify(signSummary(t, loadOrCreateSigningKey(box.ledger))));
    assert.match(
      run(['verify', f2]).stderr,
      /✗ the yield: the file says [\d.]+, but the tokens of shipped sessions over all tokens give [\d.]+/,
    );
  });

  it('a summary re-signed by a fresh key verifies without --key only as "integrity, signer not checked"; --key rejects it', () => {
    const doc = readDoc(honest);
    const fresh = loadOrCreateSigningKey(tempDir('ol-fresh-key-'));
    const file = path.join(box.dir, 'resigned.json');
    fs.writeFileSync(file, JSON.stringify(signSummary(doc.summary, fresh)));
    const r = ok(run(['verify', file]));
    assert.match(r.stdout, new RegExp(`has not changed since it was signed by the key ${fresh.fingerprint}\\.`));
    assert.match(
      r.stdout,
      new RegExp(
        `○ not checked: who signed it\\. This checked the file's integrity, not who holds the key ${fresh.fingerprint} .* verify with --key ${fresh.fingerprint}`,
      ),
    );
    assertSignedByOtherKey(
      run(['verify', file, '--key', doc.signature.fingerprint]),
      fresh.fingerprint,
      doc.signature.fingerprint,
    );
    const pinned = ok(run(['verify', honest, '--key', doc.signature.fingerprint]));
    assert.match(pinned.stdout, /signed by the expected key/);
    assert.doesNotMatch(pinned.stdout, /not checked: who signed it/);
  });

  it("signs with the engineer's git SSH signing key (a real ssh-keygen key) and verifies it, pinned by its ssh-keygen fingerprint", () => {
    const keys = tempDir('ol-ssh-');
    const key = path.join(keys, 'id_ed25519');
    assert.equal(
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ana@example.com', '-f', key]).status,
      0,
      'ssh-keygen (openssh-client) is installed',
    );
    const fingerprint = (
      spawnSync('ssh-keygen', ['-lf', `${key}.pub`], { encoding: 'utf8' }).stdout.split(' ')[1] ?? ''
    ).trim();
    assert.match(fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const gitconfig = path.join(keys, 'gitconfig');
    fs.writeFileSync(gitconfig, `[gpg]\n\tformat = ssh\n[user]\n\tsigningkey = ${key}.pub\n`);
    const git = { GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: '1' };
    for (const format of ['md', 'json'] as const) {
      const file = path.join(box.dir, `ssh.${format}`);
      const w = summary(file, box.ledger, ['--format', format, '--sign', 'ssh'], git);
      assert.match(w.stderr, new RegExp(`signed with ${fingerprint.replace(/[+/]/g, '\\$&')}`));
      const r = ok(run(['verify', file, '--key', fingerprint, ...repoArgs()]));
      assert.match(r.stdout, /✓ the signature holds: .* \(SSH, ssh-keygen -Y verify\)/);
      assert.match(r.stdout, /✓ the signing key is the one expected/);
      const other = run(['verify', file, '--key', `SHA256:${'A'.repeat(43)}`]);
      assert.equal(other.code, 1);
      if (format === 'md') {
        assert.match(
          fs.readFileSync(file, 'utf8'),
          /- Signature: SSH \(the engineer's git signing key, ssh-keygen -Y, namespace outcome-ledger-summary\), key fingerprint `SHA256:/,
        );
        const unpinned = ok(run(['verify', file]));
        assert.match(
          unpinned.stdout,
          /compare SHA256:\S+ with the SSH signing key the engineer publishes on their code host/,
        );
      }
    }
    // A changed figure breaks the SSH signature like any other.
    const doc = readDoc(path.join(box.dir, 'ssh.json'));
    doc.manifest.totals = '0'.repeat(64);
    const bad = path.join(box.dir, 'ssh-bad.json');
    fs.writeFileSync(bad, JSON.stringify(doc));
    const r = run(['verify', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /✗ the signature does not hold: the signature does not match the content/);
    // Without gpg.format ssh, --sign ssh says how to set it up.
    fs.writeFileSync(gitconfig, '[user]\n\tname = Ana\n');
    const unset = run(['summary', '--since', since, '--until', until, '--no-import', '--sign', 'ssh'], box.ledger, git);
    assert.equal(unset.code, 2);
    assert.match(
      unset.stderr,
      /--sign ssh: signing with your git SSH signing key needs git's gpg\.format to be ssh \(it is not set\): run git config --global gpg\.format ssh/,
    );
  });

  it('every format states what the signature proves, what --repo adds and what nothing can prove', () => {
    const doc = readDoc(honest);
    assert.match(
      doc.summary.claim.signature,
      /^The signature proves that this data has not changed since it was signed, and that it was signed by the holder of the key named below\. It does not say who holds that key/,
    );
    assert.match(doc.summary.claim.repository, /verify --repo PATH/);
    assert.match(
      doc.summary.claim.cannot,
      /Nothing can prove that the AI logs were not edited before they were imported/,
    );
    for (const format of ['md', 'html'] as const) {
      const file = path.join(box.dir, `claim.${format}`);
      summary(file, box.ledger, ['--format', format]);
      const text = fs.readFileSync(file, 'utf8');
      assert.doesNotMatch(text, /exactly what Outcome Ledger exported/, `${format}: the old claim is gone`);
      for (const re of [
        /What it proves.{1,20}The signature proves that this data has not changed since it was signed/,
        /What the repositories add.{1,20}/,
        /What nothing can prove.{1,20}Nothing can prove that the AI logs were not edited/,
      ])
        assert.match(text, re, format);
    }
  });
});
