// Issue 12 inside the real VS Code: the workspace repository itself is armed (config, attributes, hooks, a signed
// HEAD), a session's log points at a second armed repository, and the user's own git config is armed too. Live
// capture, Import Now, the status-bar meter, the outcome summary, verify against both repositories and the commit
// view all read git; no armed program may write its marker. (The CLI suite is test/integration/hostileRepo.test.ts.)
// VS Code's own Git extension runs `git status` with the repository's configuration in a trusted workspace (VS Code's
// design, governed by Workspace Trust; this harness trusts every folder), so it is switched off here: what is
// asserted is what Outcome Ledger runs. Each armed place has its own marker folder, to name who ran.
// Named y- to run after the suites that commit with plain git in this workspace.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CommandId } from '../../../src/extension/commands/ids';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import { openCommit } from '../../../src/extension/sidebarCommits';
import type { Verdict } from '../../../src/services/summary';
import { armRepo, armUserConfig, buildHostileRepo, markersWritten } from '../../fixtures/hostileRepo';
import { activateExtension, waitFor, world } from '../host';
import { writeClaudeTurns } from '../logs';

describe('a hostile repository never runs its code in VS Code', function () {
  this.timeout(180_000);
  let api: OutcomeLedgerApi;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ol-vscode-hostile-'));
  const markers = {
    app: path.join(dir, 'markers-app'),
    workspace: path.join(dir, 'markers-workspace'),
    user: path.join(dir, 'markers-user'),
  };
  const ran = (): string[] =>
    Object.entries(markers).flatMap(([where, m]) => markersWritten(m).map((name) => `${where}: ${name}`));
  const userConfig = path.join(world().home, '.gitconfig');
  let savedConfig: string | undefined;

  before(async () => {
    api = await activateExtension<OutcomeLedgerApi>();
    savedConfig = fs.existsSync(userConfig) ? fs.readFileSync(userConfig, 'utf8') : undefined;
    await vscode.workspace.getConfiguration('git').update('enabled', false, vscode.ConfigurationTarget.Global);
    const git = vscode.extensions.getExtension<{ getAPI(v: 1): { repositories: unknown[] } }>('vscode.git');
    if (git?.isActive)
      await waitFor(
        "VS Code's Git to close its repositories",
        () => git.exports.getAPI(1).repositories.length === 0 || undefined,
        15_000,
      );
  });

  after(async () => {
    await vscode.workspace.getConfiguration('git').update('enabled', undefined, vscode.ConfigurationTarget.Global);
    if (savedConfig === undefined) fs.rmSync(userConfig, { force: true });
    else fs.writeFileSync(userConfig, savedConfig);
  });

  it('import, live capture, the meter, the summary, verify and the commit view run none of the armed programs', async () => {
    const w = world();
    const now = Date.now();
    const app = buildHostileRepo(path.join(dir, 'app'), markers.app, w.home, {
      firstAt: now - 3 * 3_600_000,
      signedAt: now - 3_600_000,
    });
    armRepo(w.workspace, markers.workspace); // the open workspace folder
    armUserConfig(w.home, markers.user);
    assert.deepEqual(ran(), [], 'building and arming ran nothing');

    const written = writeClaudeTurns(w.claudeConfigDir, {
      cwd: app.dir,
      branch: 'main',
      turns: [{ input: 20, output: 300, cacheRead: 10_000, cacheWrite: 500, edits: [path.join(app.dir, app.file)] }],
    });
    await vscode.commands.executeCommand(CommandId.importNow);
    const session = await waitFor(
      'the session in the armed repository',
      async () => {
        for (const day of await api.tree.getChildren()) {
          for (const node of await api.tree.getChildren(day))
            if (node.kind === 'session' && node.session.sessionId === written.sessionId) return node.session;
        }
        return undefined;
      },
      20_000,
    );
    assert.equal(session.repo, app.dir);
    await api.meter.update(); // git log -1 HEAD in the armed workspace, whose HEAD history the user config would verify

    const out = path.join(dir, 'summary.md');
    await vscode.commands.executeCommand(CommandId.exportSummary, { period: 'last30', format: 'md', redact: {}, out });
    assert.ok(fs.existsSync(out), 'the summary was written');
    const v = (await vscode.commands.executeCommand(CommandId.verifySummary, {
      file: out,
      ledger: true,
      repos: [w.workspace, app.dir],
    })) as Verdict;
    assert.ok(v.ok, v.problems.join('\n'));
    // The commit view: the signed commit of a repository reached only through a log (read-only text, no textconv).
    assert.equal(
      await openCommit(app.dir, app.signed),
      'text',
      'a repository reached through a log is read by the hardened runner',
    );
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    assert.deepEqual(ran(), [], 'an armed program ran');
  });
});
