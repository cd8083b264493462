// "Export outcome summary…" and "Verify outcome summary…" in the real VS Code: the export previews the summary inside
// VS Code (Markdown preview, a webview for HTML, a JSON editor), saves it and copies it; the figures are the ledger's;
// verify accepts it and names what was changed. Writes its own task session and commit, so it also runs alone
// (--grep "outcome summary").
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { summaryRange } from '../../../src/core/usage/periods';
import type { SummaryDocument } from '../../../src/core/summary/schema';
import { localDate } from '../../../src/core/usage/time';
import { CommandId, EXTENSION_ID } from '../../../src/extension/commands/ids';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import type { ExportResult } from '../../../src/extension/commands/exportSummary';
import { report } from '../../../src/services/queries';
import { signSummary, type Verdict } from '../../../src/services/summary';
import { loadOrCreateSigningKey } from '../../../src/store/signing';
import { activateExtension, ui, waitFor, world } from '../host';
import { commit, shipped, withLedger } from '../workspace';
import { writeEditTurn } from '../logs';

const SUBJECT = 'DOC-9 describe the release checklist';

function openTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs);
}

describe('The outcome summary: export and verify', () => {
  let api: OutcomeLedgerApi;
  let sha: string;
  let out: string;
  const tz = (): string => api.model.currentSettings.timeZone;
  /** Exports the last 30 days as Markdown to `file`, unredacted, and copies it. */
  const exportMarkdown = async (file: string): Promise<ExportResult> =>
    (await vscode.commands.executeCommand(CommandId.exportSummary, {
      period: 'last30',
      format: 'md',
      redact: {},
      out: file,
      copy: true,
    })) as ExportResult;

  before(async () => {
    api = await activateExtension<OutcomeLedgerApi>();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'ol-summary-'));
    const w = world();
    const session = writeEditTurn(w.claudeConfigDir, w.workspace, {
      branch: 'feature/DOC-9',
      file: 'docs/release.md',
      minutesAgo: 30,
      input: 600,
      output: 3_100,
      cacheRead: 90_000,
      cacheWrite: 2_000,
    });
    await api.model.importNow(true);
    sha = commit({ 'docs/release.md': '# Release checklist\n' }, SUBJECT, new Date(Date.now() - 10 * 60_000));
    await api.linker.runNow();
    await shipped(session.sessionId, tz(), 'the DOC-9 session to ship');
  });

  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("exports Markdown: previews it, saves and copies it, with the figures of the ledger and the task's commit", async () => {
    const file = path.join(out, 'summary.md');
    const r = await exportMarkdown(file);
    assert.equal(r.file, file);
    assert.equal(fs.readFileSync(file, 'utf8'), r.text);
    assert.equal(await vscode.env.clipboard.readText(), r.text, 'copied');
    assert.equal(r.preview.kind, 'markdown');
    await waitFor(
      'the Markdown preview tab',
      () =>
        openTabs().find((t) => t.input instanceof vscode.TabInputWebview && /markdown\.preview/.test(t.input.viewType)),
      10_000,
    );
    const range = summaryRange('last30', localDate(tz(), Date.now()));
    assert.deepEqual(r.period, range);
    const embedded = /<!-- outcome-ledger-summary[^\n]*\n(.*)\n-->/.exec(r.text)?.[1] ?? '';
    const doc = JSON.parse(embedded) as SummaryDocument;
    const fresh = await withLedger((l) =>
      report(l.database, { timeZone: tz(), ...range, now: Date.parse(doc.summary.generatedAt) }),
    );
    assert.deepEqual(doc.summary.totals, fresh.totals);
    assert.equal(doc.summary.outcomes.commits, fresh.outcomes.commits);
    assert.ok(fresh.outcomes.commits >= 1);
    const task = doc.summary.tasks.find((t) => t.task === 'DOC-9');
    assert.ok(task, 'the DOC-9 task is in the summary');
    // Issue 14: the signed data cites the full sha and whether the engineer authored it; the visible text, 7 characters.
    assert.equal(task.outcomes[0]?.commits[0]?.sha, sha);
    assert.equal(task.outcomes[0]?.commits[0]?.authoredByEngineer, true);
    assert.ok(r.text.includes(`\`${sha.slice(0, 7)}\``));
    assert.equal(doc.summary.outcomes.reverted, fresh.outcomes.reverted);
    assert.equal(doc.summary.outcomes.authoredByOthers, fresh.outcomes.authoredByOthers);
    assert.equal(task.outcomes[0]?.commits[0]?.subject, SUBJECT);
    assert.ok(r.text.includes(SUBJECT));
    assert.match(r.text, /## Integrity/);
  });

  it('asks for the period, format and redaction in quick picks, saves where the save dialog says, and copies on request', async () => {
    // As a person does it: the command with no arguments, each question answered by keyboard.
    const quick = '.quick-input-widget';
    const step = async (title: string): Promise<void> => {
      await ui({ kind: 'waitFor', selector: `${quick} .quick-input-title:has-text(${JSON.stringify(title)})` });
      await ui({ kind: 'waitFor', selector: `${quick} .monaco-list-row.focused` });
      await ui({ kind: 'press', key: 'Enter' });
    };
    const running = vscode.commands.executeCommand(CommandId.exportSummary) as Thenable<ExportResult | undefined>;
    await step('(1/3): which period?'); // the first row: the last 30 days
    await step('(2/3): which format?'); // the first row: Markdown
    await ui({ kind: 'waitFor', selector: `${quick} .quick-input-title:has-text("(3/3): what to redact?")` });
    await ui({ kind: 'press', key: 'Enter' }); // nothing picked: nothing redacted
    // The save dialog (VS Code's own path input in code-server) offers a name in the workspace folder: accept it.
    await ui({ kind: 'waitFor', selector: `${quick} .quick-input-title:has-text("Save the outcome summary")` });
    await ui({ kind: 'press', key: 'Enter' });
    const r = await running;
    assert.ok(r, 'the export finished');
    const range = summaryRange('last30', localDate(tz(), Date.now()));
    assert.deepEqual(r.period, range);
    assert.equal(r.format, 'md');
    assert.equal(r.file, path.join(world().workspace, `outcome-summary-${range.since}-${range.until}.md`));
    assert.equal(fs.readFileSync(r.file, 'utf8'), r.text);
    assert.ok(r.text.includes(SUBJECT), 'nothing redacted');
    await vscode.env.clipboard.writeText('');
    await ui({
      kind: 'click',
      selector:
        '.notifications-toasts .notification-list-item:has-text("Saved the outcome summary") .monaco-button:has-text("Copy to Clipboard")',
    });
    await waitFor(
      'the summary on the clipboard',
      async () => (await vscode.env.clipboard.readText()) === r.text,
      10_000,
    );
    fs.rmSync(r.file);
  });

  it('exports HTML with repository names and subjects redacted, previewed in a webview', async () => {
    const file = path.join(out, 'summary.html');
    const r = (await vscode.commands.executeCommand(CommandId.exportSummary, {
      period: 'last30',
      format: 'html',
      redact: { repos: true, subjects: true },
      out: file,
      copy: true,
    })) as ExportResult;
    assert.equal(r.preview.kind, 'webview');
    await waitFor(
      'the summary webview tab',
      () =>
        openTabs().find(
          (t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.includes('outcomeLedger.summaryPreview'),
        ),
      10_000,
    );
    const html = fs.readFileSync(file, 'utf8');
    assert.ok(!html.includes(SUBJECT), 'the subject is redacted');
    // The test repository is called "workspace": the coverage note on Aider ("the open workspace folders") is VS Code's
    // word, not the name, so it is left out of the search.
    assert.ok(
      !html.replace(/workspace folders?/g, '').includes(path.basename(world().workspace)),
      'the repository name is redacted',
    );
    assert.match(html, /repository 1/, 'repositories are named by number');
    assert.match(html, /repository names and commit subjects redacted/);
    // The page renders inside the webview under its own CSP (no script, nothing loaded): its heading and charts show.
    // The side bar is closed first: its webview (the sidebar view, same extension) is dropped while hidden, so the
    // only webview of this extension left on the page is the preview.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await ui({ kind: 'waitFor', selector: 'h1', webview: EXTENSION_ID, timeoutMs: 15_000 });
    const h1 = await ui({ kind: 'text', selector: 'h1', webview: EXTENSION_ID });
    assert.equal(h1, `Outcome summary: ${r.period.since} – ${r.period.until}`);
    await ui({ kind: 'waitFor', selector: 'svg.chart', webview: EXTENSION_ID });
    await ui({ kind: 'screenshot', name: 'summary-html-preview' });
  });

  it('exports JSON into a JSON editor tab', async () => {
    const file = path.join(out, 'summary.json');
    const r = (await vscode.commands.executeCommand(CommandId.exportSummary, {
      since: '2026-01-01',
      until: localDate(tz(), Date.now()),
      format: 'json',
      redact: {},
      out: file,
      copy: true,
    })) as ExportResult;
    assert.equal(r.preview.kind, 'json');
    const editor = await waitFor(
      'the JSON editor',
      () =>
        vscode.window.activeTextEditor?.document.uri.toString() === r.preview.uri
          ? vscode.window.activeTextEditor
          : undefined,
      10_000,
    );
    assert.equal(editor.document.languageId, 'json');
    assert.equal(editor.document.getText(), r.text);
    assert.equal((JSON.parse(r.text) as SummaryDocument).summary.period.since, '2026-01-01');
  });

  it('verifies each saved file (with the ledger too), and names what was changed in an edited copy', async () => {
    for (const name of ['summary.md', 'summary.html', 'summary.json']) {
      const v = (await vscode.commands.executeCommand(CommandId.verifySummary, {
        file: path.join(out, name),
        ledger: true,
        repos: [world().workspace],
      })) as Verdict;
      assert.deepEqual(v.problems, [], name);
      assert.ok(v.ok);
      assert.ok(
        v.checks.some((c) => /every figure matches the local ledger/.test(c)),
        name,
      );
    }
    const md = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
    const edited = path.join(out, 'edited.md');
    fs.writeFileSync(edited, md.replace(SUBJECT, 'DOC-9 shipped the whole release'));
    const bad = (await vscode.commands.executeCommand(CommandId.verifySummary, {
      file: edited,
      ledger: false,
      repos: [],
    })) as Verdict;
    assert.equal(bad.ok, false);
    assert.match(
      bad.problems[0] ?? '',
      /line \d+ of the visible text was changed after the export: it reads .*shipped the whole release/,
    );
    const json = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as SummaryDocument;
    json.summary.outcomes.commits += 5;
    const forged = path.join(out, 'forged.json');
    fs.writeFileSync(forged, JSON.stringify(json));
    const v = (await vscode.commands.executeCommand(CommandId.verifySummary, { file: forged, repos: [] })) as Verdict;
    assert.equal(v.ok, false);
    assert.match(
      v.problems.join('\n'),
      /the number of outcomes \(commits\) \(outcomes\.commits\) changed after the export/,
    );
  });

  it("offers the workspace's repositories and checks every cited commit there; a commit that exists nowhere is named", async () => {
    const file = path.join(out, 'summary.json');
    const running = vscode.commands.executeCommand(CommandId.verifySummary, { file, ledger: false }) as Thenable<
      Verdict | undefined
    >;
    const quick = '.quick-input-widget';
    await ui({
      kind: 'waitFor',
      selector: `${quick} .quick-input-title:has-text("check its cited commits against these repositories?")`,
    });
    await ui({
      kind: 'waitFor',
      selector: `${quick} .monaco-list-row:has-text(${JSON.stringify(path.basename(world().workspace))})`,
    });
    await ui({ kind: 'press', key: 'Enter' }); // the workspace repository, picked already
    const v = await running;
    assert.ok(v?.ok, v?.problems.join('\n'));
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as SummaryDocument;
    const shas = new Set(doc.summary.tasks.flatMap((t) => t.outcomes.flatMap((o) => o.commits.map((c) => c.sha))));
    assert.ok(shas.has(sha), 'the summary cites the full SHA of the DOC-9 commit');
    assert.ok(
      v.checks.some((c) =>
        new RegExp(
          `all ${shas.size} cited commits? exists? in the repositories given, with the author time, subject and changed files`,
        ).test(c),
      ),
      v.checks.join('\n'),
    );
    assert.ok(
      v.notChecked.some((n) => /^not checked: who signed it/.test(n)),
      'without a key, it says the signer was not checked',
    );
    // An edited copy citing a commit the repository does not hold, re-signed by someone's own key.
    const edited = structuredClone(doc);
    const cited = edited.summary.tasks.flatMap((t) => t.outcomes.flatMap((o) => o.commits)).find((c) => c.sha === sha);
    assert.ok(cited);
    cited.sha = 'f'.repeat(40);
    const forged = path.join(out, 'forged-commit.json');
    fs.writeFileSync(
      forged,
      JSON.stringify(
        signSummary(edited.summary, loadOrCreateSigningKey(fs.mkdtempSync(path.join(os.tmpdir(), 'ol-key-')))),
      ),
    );
    const bad = (await vscode.commands.executeCommand(CommandId.verifySummary, {
      file: forged,
      ledger: false,
      repos: [world().workspace],
    })) as Verdict;
    assert.equal(bad.ok, false);
    assert.match(bad.problems.join('\n'), /commit ffffffffffff \(task DOC-9.*\) is in none of the repositories given/);
    await ui({
      kind: 'waitFor',
      selector: '.notifications-toasts .notification-list-item:has-text("Not verified: forged-commit.json")',
    });
  });

  it('signs with the git SSH signing key when the setting asks for it (a real ssh-keygen key), and verify pins it', async () => {
    const keys = fs.mkdtempSync(path.join(os.tmpdir(), 'ol-ssh-'));
    const key = path.join(keys, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ana@example.com', '-f', key]);
    const fingerprint = execFileSync('ssh-keygen', ['-lf', `${key}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: world().workspace, encoding: 'utf8' });
    git('config', 'gpg.format', 'ssh');
    git('config', 'user.signingkey', `${key}.pub`);
    const config = vscode.workspace.getConfiguration('outcomeLedger');
    await config.update('summary.signWith', 'gitSsh', vscode.ConfigurationTarget.Global);
    try {
      const file = path.join(out, 'ssh.md');
      const r = await exportMarkdown(file);
      assert.equal(r.fingerprint, fingerprint, 'signed with the key git signs commits with');
      assert.match(r.text, /- Signature: SSH \(the engineer's git signing key/);
      const v = (await vscode.commands.executeCommand(CommandId.verifySummary, {
        file,
        ledger: false,
        repos: [],
        key: fingerprint,
      })) as Verdict;
      assert.ok(v.ok, v.problems.join('\n'));
      assert.ok(
        v.checks.some((c) => /\(SSH, ssh-keygen -Y verify\)/.test(c)) &&
          v.checks.some((c) => /the signing key is the one expected/.test(c)),
        v.checks.join('\n'),
      );
    } finally {
      await config.update('summary.signWith', undefined, vscode.ConfigurationTarget.Global);
      git('config', '--unset', 'gpg.format');
      git('config', '--unset', 'user.signingkey');
      fs.rmSync(keys, { recursive: true, force: true });
    }
  });
});
