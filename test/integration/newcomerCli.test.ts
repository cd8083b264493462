// The command line's rules a new user relies on (issue 17): `link pending` lists what the sidebar's "Needs a
// decision" lists, with the evidence; no --out ever replaces a file without --force; missing folders are created
// the same way by every command that writes.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SidebarSnapshot } from '../../src/core/sidebar/protocol';
import { worldSandbox } from './sandbox';
import { cli } from './cli';

describe('link pending and the --out rules (the bundled CLI on a demo world)', function () {
  this.timeout(180_000);
  const box = worldSandbox('ol-pending-', { seed: 7, copilotSessions: 2 }, { TZ: 'UTC' });
  const period = ['--since', '2026-11-07', '--until', '2026-11-20'];

  before(() => {
    assert.equal(cli(['import', '--home', box.ledger], box.env).code, 0);
    const l = cli(['link', '--home', box.ledger], box.env);
    assert.equal(l.code, 0, l.stderr);
  });

  it('link pending lists the sessions needing a decision, costliest first, with the candidate, evidence and commands', () => {
    const j = cli(['link', 'pending', '--json', '--home', box.ledger, ...period], box.env);
    assert.equal(j.code, 0, j.stderr);
    const d = JSON.parse(j.stdout) as SidebarSnapshot['decisions'];
    assert.ok(d.total > 0 && d.rows.length > 0, 'the demo world has sessions without an outcome');
    for (let i = 1; i < d.rows.length; i++)
      assert.ok((d.rows[i - 1]?.tokens ?? 0) >= (d.rows[i]?.tokens ?? 0), 'costliest first');
    // Every listed session is one `sessions --json` does not count as shipped or labelled.
    const sessions = JSON.parse(
      cli(['sessions', '--json', '--no-import', '--home', box.ledger, ...period], box.env).stdout,
    ) as Array<{ id: string; status: string }>;
    for (const r of d.rows)
      assert.ok(
        ['unlinked', 'open', 'shipped'].includes(sessions.find((s) => s.id === r.sessionId)?.status ?? ''),
        r.sessionId,
      );
    assert.ok(d.rows.every((r) => !['exploration', 'learning', 'review', 'abandoned'].includes(r.status)));
    const t = cli(['link', 'pending', '--home', box.ledger, ...period], box.env);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, new RegExp(`^${d.total} sessions? needs? a decision`));
    const first = d.rows[0];
    assert.ok(first);
    assert.ok(t.stdout.includes(first.sessionId));
    if (first.candidate)
      assert.ok(t.stdout.includes(`link confirm ${first.sessionId} ${first.candidate.sha.slice(0, 7)}`));
    assert.match(t.stdout, /label \S+ exploration\|learning\|review\|abandoned/);
    // A label is a decision: the labelled session leaves the list.
    assert.equal(cli(['label', first.sessionId, 'exploration', '--home', box.ledger], box.env).code, 0);
    const after = JSON.parse(
      cli(['link', 'pending', '--json', '--home', box.ledger, ...period], box.env).stdout,
    ) as SidebarSnapshot['decisions'];
    assert.equal(after.total, d.total - 1);
    assert.ok(!after.rows.some((r) => r.sessionId === first.sessionId));
    // --limit, and a mistyped subcommand.
    assert.equal(
      (
        JSON.parse(
          cli(['link', 'pending', '--json', '--limit', '1', '--home', box.ledger], box.env).stdout,
        ) as SidebarSnapshot['decisions']
      ).rows.length,
      1,
    );
    const bad = cli(['link', 'pendng', '--home', box.ledger], box.env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean pending/);
  });

  it('summary, rollup export and rollup merge never replace an --out file without --force, and create missing folders alike', () => {
    const out = path.join(box.dir, 'out');
    fs.mkdirSync(out);
    const writers: Array<{ name: string; args: (file: string) => string[] }> = [
      { name: 'summary', args: (f) => ['summary', ...period, '--no-import', '--out', f] },
      { name: 'rollup export', args: (f) => ['rollup', 'export', ...period, '--no-import', '--yes', '--out', f] },
      { name: 'rollup merge', args: (f) => ['rollup', 'merge', path.join(out, 'rollup export.json'), '--out', f] },
    ];
    for (const w of writers) {
      const file = path.join(out, `${w.name}.json`);
      const first = cli([...w.args(file), '--home', box.ledger], box.env);
      assert.equal(first.code, w.name === 'rollup merge' ? first.code : 0, `${w.name}: ${first.stderr}`);
      assert.ok(fs.existsSync(file), `${w.name} wrote its file`);
      fs.writeFileSync(file, 'keep me');
      const again = cli([...w.args(file), '--home', box.ledger], box.env);
      assert.equal(again.code, 2, `${w.name} refuses to replace`);
      assert.equal(
        again.stderr.trim(),
        `outcome-ledger: --out ${file} exists: add --force to replace it (nothing was written)`,
      );
      assert.equal(fs.readFileSync(file, 'utf8'), 'keep me', `${w.name} left the file alone`);
      const forced = cli([...w.args(file), '--force', '--home', box.ledger], box.env);
      assert.notEqual(forced.code, 2, `${w.name} --force: ${forced.stderr}`);
      assert.notEqual(fs.readFileSync(file, 'utf8'), 'keep me', `${w.name} --force replaced it`);
      // Missing folders are created, by every command alike.
      const missing = path.join(out, `new ${w.name}`, 'deeper', 'x.json');
      const m = cli([...w.args(missing), '--home', box.ledger], box.env);
      assert.notEqual(m.code, 2, `${w.name}: ${m.stderr}`);
      assert.ok(fs.existsSync(missing), `${w.name} created the folders and wrote the file`);
      // A folder named as the file is refused, naming a file to use instead.
      const asFolder = cli([...w.args(out), '--home', box.ledger], box.env);
      assert.equal(asFolder.code, 2, w.name);
      assert.match(asFolder.stderr, /is a folder: give a file name, such as /);
    }
  });

  it("every command's --help ends with examples of that command, and the main help lists every command", () => {
    const main = cli(['--help'], box.env);
    const names = [...main.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] ?? '');
    assert.ok(names.length >= 12, names.join(', '));
    for (const name of names) {
      const h = cli([name, '--help'], box.env);
      assert.equal(h.code, 0, name);
      const examples = h.stdout.split('\nExamples:\n')[1] ?? '';
      const lines = examples.trimEnd().split('\n');
      assert.ok(lines.length >= 2, `${name} --help has examples`);
      for (const l of lines)
        assert.match(l, new RegExp(`^ {2}(outcome-ledger ${name}\\b|npm run ${name}\\b)`), `${name}: ${l}`);
    }
  });
});
