import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { localDate } from '../../../src/core/usage/time';
import type { TeamReportJson } from '../../../src/core/team/merge';
import type { TeamRollupFile } from '../../../src/core/team/rollup';
import { syntheticRollup } from '../../../src/demo/teamRollups';
import { CommandId } from '../../../src/extension/commands/ids';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import { CONSENT_CANCEL_ID, CONSENT_SHARE_ID } from '../../../src/extension/commands/teamRollupConsent';
import { report } from '../../../src/services/queries';
import { checkTeamRollupText } from '../../../src/services/teamRollup';
import { Ledger } from '../../../src/store/ledger';
import { loadOrCreateSigningKey } from '../../../src/store/signing';
import { activateExtension, EXTENSION_ID, ui, waitFor, world } from '../host';
import { writeClaudeTurns } from '../logs';

const W = EXTENSION_ID;
const tabLabel = (): string => vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '';

describe('Team rollups in VS Code', function () {
  let dir: string;
  const today = localDate('UTC', Date.now());
  /** Starts Export Team Rollup… for today as "Dana" with no optional fields, writing to `out` once consented. */
  const exportAsDana = (out: string): Thenable<{ file: string; rollup: TeamRollupFile } | undefined> =>
    vscode.commands.executeCommand(CommandId.exportTeamRollup, {
      since: today,
      until: today,
      displayName: 'Dana',
      include: [],
      out,
    });

  before(async () => {
    const api = await activateExtension<OutcomeLedgerApi>();
    dir = path.join(world().root, 'team-rollups');
    fs.mkdirSync(dir, { recursive: true });
    await vscode.workspace
      .getConfiguration('outcomeLedger')
      .update('timeZone', 'UTC', vscode.ConfigurationTarget.Global);
    const w = world();
    writeClaudeTurns(w.claudeConfigDir, {
      cwd: w.workspace,
      branch: 'feature/TEAM-1',
      turns: [
        { input: 40, output: 700, cacheRead: 30_000, cacheWrite: 1_200 },
        { input: 12, output: 300, cacheRead: 31_000, cacheWrite: 0 },
      ],
    });
    await vscode.commands.executeCommand(CommandId.importNow);
    // The settings change and the new log file also queued imports of their own (a full rescan in a worker thread):
    // they end before the tests drive the consent tab, instead of sharing the machine with it.
    await api.model.idle();
    // The consent tab is this extension's only webview on screen: the sidebar's view goes (it is not retained).
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
  });

  after(async () => {
    await vscode.workspace
      .getConfiguration('outcomeLedger')
      .update('timeZone', undefined, vscode.ConfigurationTarget.Global);
  });

  it('Export Team Rollup… previews exactly what will be shared, asks for consent, and writes nothing when declined', async () => {
    const out = path.join(dir, 'declined.json');
    const pending = exportAsDana(out);
    await ui({ kind: 'waitFor', selector: `#${CONSENT_SHARE_ID}`, webview: W });
    assert.match(tabLabel(), /^Share your team rollup for/);
    const preview = (await ui({ kind: 'text', selector: 'pre', webview: W })) ?? '';
    assert.match(preview, /^Team rollup for \d{4}-\d{2}-\d{2} … \d{4}-\d{2}-\d{2} \(UTC\)/);
    assert.match(preview, /You appear as: "Dana"/);
    assert.match(preview, /no paths, prompts, commit subjects/);
    assert.match(preview, /The exact file:\n\{\n {2}"format": "outcome-ledger-team-rollup"/);
    await ui({ kind: 'click', selector: `#${CONSENT_CANCEL_ID}`, webview: W });
    assert.equal(await pending, undefined);
    assert.ok(!fs.existsSync(out), 'nothing written without consent');
  });

  it("with consent it writes the signed rollup shown in the preview, with the ledger's figures", async () => {
    const out = path.join(dir, 'dana.json');
    const pending = exportAsDana(out);
    await ui({ kind: 'waitFor', selector: `#${CONSENT_SHARE_ID}`, webview: W });
    await ui({ kind: 'screenshot', name: 'team-rollup-consent' });
    const preview = (await ui({ kind: 'text', selector: 'pre', webview: W })) ?? '';
    await ui({ kind: 'click', selector: `#${CONSENT_SHARE_ID}`, webview: W });
    const result = await pending;
    assert.ok(result);
    const text = fs.readFileSync(out, 'utf8');
    assert.ok(preview.trim().endsWith(text.trim()), 'the preview ends with the exact file');
    const checked = checkTeamRollupText(text);
    assert.ok(checked.ok, checked.ok ? '' : checked.reason);
    const ledger = await Ledger.open(world().ledgerHome);
    try {
      const r = report(ledger.database, { timeZone: 'UTC', since: today, until: today });
      assert.equal(checked.value.totals.total, r.totals.total);
      assert.ok(r.totals.total > 0);
      assert.equal(checked.value.member.displayName, 'Dana');
    } finally {
      ledger.close();
    }
  });

  it('Merge Team Rollups… merges a folder into the team report, lists refused files and shows no per-person figure', async () => {
    const team = path.join(dir, 'team');
    fs.mkdirSync(team, { recursive: true });
    fs.copyFileSync(path.join(dir, 'dana.json'), path.join(team, 'dana.json'));
    for (const i of [1, 2]) {
      const f = syntheticRollup({
        key: loadOrCreateSigningKey(path.join(dir, `key${i}`)),
        seed: i,
        since: today,
        until: today,
        displayName: `Member ${['Ana', 'Bo'][i - 1]}`,
      });
      fs.writeFileSync(path.join(team, `member${i}.json`), JSON.stringify(f));
    }
    fs.writeFileSync(
      path.join(team, 'hostile.json'),
      '{"format":"outcome-ledger-team-rollup","version":1,"rollup":{"__proto__":{}}}',
    );
    const result = (await vscode.commands.executeCommand(CommandId.mergeTeamRollups, {
      files: [team],
      format: 'md',
    })) as { report: TeamReportJson };
    assert.equal(result.report.k, 3, 'k from outcomeLedger.team.minimumMembers (default 3)');
    assert.equal(result.report.members, 3);
    assert.equal(result.report.withheld, false);
    const doc = await waitFor(
      'the team report tab',
      () =>
        vscode.window.activeTextEditor?.document.languageId === 'markdown' &&
        vscode.window.activeTextEditor.document.getText(),
    );
    assert.match(doc, /^# Team report/);
    assert.match(doc, /hostile\\\.json \| refused \| has a &#34;\\_\\_proto\\_\\_&#34; key/);
    assert.match(doc, /tokens are not a performance measure/);
    const dana = JSON.parse(fs.readFileSync(path.join(dir, 'dana.json'), 'utf8')) as TeamRollupFile;
    assert.ok(!doc.includes(dana.rollup.totals.total.toLocaleString('en-US')), 'no per-person total');

    // A report that cannot be saved (its folder is a file): the report is still returned, and nothing is written.
    const blocked = path.join(dir, 'not-a-folder');
    fs.writeFileSync(blocked, '');
    const unsaved = (await vscode.commands.executeCommand(CommandId.mergeTeamRollups, {
      files: [team],
      format: 'md',
      out: path.join(blocked, 'team.md'),
    })) as { report: TeamReportJson; file?: string };
    assert.equal(unsaved.report.members, 3);
    assert.equal(unsaved.file, undefined);
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
    );

    await vscode.workspace
      .getConfiguration('outcomeLedger')
      .update('team.minimumMembers', 4, vscode.ConfigurationTarget.Global);
    try {
      const html = path.join(dir, 'team-report.html');
      const withheld = (await vscode.commands.executeCommand(CommandId.mergeTeamRollups, {
        files: [team],
        format: 'html',
        out: html,
      })) as { report: TeamReportJson };
      assert.equal(withheld.report.k, 4);
      assert.equal(withheld.report.withheld, true);
      assert.match(fs.readFileSync(html, 'utf8'), /Fewer than 4 members contributed \(3\)/);
      await waitFor('the HTML report in a tab', () =>
        vscode.window.tabGroups.activeTabGroup.activeTab?.label.startsWith('Team report'),
      );
      await ui({ kind: 'waitFor', selector: 'h1', webview: W });
      assert.match(
        (await ui({ kind: 'text', selector: 'main', webview: W })) ?? '',
        /Figures withheld[\s\S]*Files not counted[\s\S]*hostile\.json/,
      );
      await ui({ kind: 'screenshot', name: 'team-report-vscode' });
    } finally {
      await vscode.workspace
        .getConfiguration('outcomeLedger')
        .update('team.minimumMembers', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('Merge Team Rollups… honours the roster setting: rollups signed by other keys are refused and shown as such', async () => {
    const team = path.join(dir, 'team');
    const dana = JSON.parse(fs.readFileSync(path.join(team, 'dana.json'), 'utf8')) as TeamRollupFile;
    const member1 = JSON.parse(fs.readFileSync(path.join(team, 'member1.json'), 'utf8')) as TeamRollupFile;
    const member2 = JSON.parse(fs.readFileSync(path.join(team, 'member2.json'), 'utf8')) as TeamRollupFile;
    const roster = path.join(dir, 'roster-of-two.txt');
    fs.writeFileSync(roster, `# our team\n${dana.signature.fingerprint} Dana Lead\n${member1.signature.fingerprint}\n`);
    await vscode.workspace
      .getConfiguration('outcomeLedger')
      .update('team.roster', roster, vscode.ConfigurationTarget.Global);
    try {
      const out = path.join(dir, 'rostered', 'team.md');
      const result = (await vscode.commands.executeCommand(CommandId.mergeTeamRollups, {
        files: [team],
        format: 'md',
        out,
        k: 2,
      })) as { report: TeamReportJson; summary: string };
      assert.deepEqual(result.report.roster, { source: 'roster-of-two.txt', keys: 2 });
      assert.equal(result.report.members, 2);
      assert.deepEqual(result.report.named, ['Dana Lead'], 'names come from the roster');
      const refused = result.report.notCounted.find((n) => n.file.endsWith('member2.json'));
      assert.equal(refused?.status, 'refused');
      assert.equal(
        refused?.reason,
        `signed by ${member2.signature.fingerprint}, which is not on the roster (roster-of-two.txt): not counted (add the key to the roster if this member belongs to the team)`,
      );
      assert.match(result.summary, /2 refused \(1 signed by keys not on the roster\), listed in the report/);
      const doc = await waitFor(
        'the rostered report tab',
        () =>
          vscode.window.activeTextEditor?.document.getText().includes('Checked against the roster') &&
          vscode.window.activeTextEditor.document.getText(),
      );
      assert.match(doc, /Checked against the roster roster\\-of\\-two\\\.txt \(2 keys\)/);
      assert.match(doc, /member2\\\.json \| refused \| signed by SHA256/);
    } finally {
      await vscode.workspace
        .getConfiguration('outcomeLedger')
        .update('team.roster', undefined, vscode.ConfigurationTarget.Global);
    }
    // Without the setting and without roster.txt, the report says who could have contributed.
    const open = (await vscode.commands.executeCommand(CommandId.mergeTeamRollups, {
      files: [team],
      format: 'json',
      out: path.join(dir, 'open', 'team.json'),
    })) as { report: TeamReportJson; summary: string };
    assert.equal(open.report.roster, null);
    assert.match(open.summary, /no roster: anyone with a key could have contributed/);
  });
});
