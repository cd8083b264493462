// Checks the harness runs after the suites passed, on a fresh window without test module (the extension in
// development mode, as a person would see it), in this order. Add more here: each gets the Workbench helper
// (status bar, command palette, notifications, webviews, screenshots) and the world of the run.
import * as assert from 'node:assert/strict';
import type { World } from './protocol';
import type { Workbench } from './workbench';

export interface UiCheck {
  name: string;
  run(workbench: Workbench, world: World): Promise<void>;
}

export const UI_CHECKS: UiCheck[] = [
  {
    // First: the meter appears when activate() ran (onStartupFinished), so the checks after it see a live extension.
    name: 'the status bar shows the Outcome Ledger meter',
    async run(wb) {
      const meter = wb.statusBarEntry('outcome-ledger.outcome-ledger.outcomeLedger.meter');
      await meter.waitFor({ state: 'visible', timeout: 60_000 });
      // Before its first update the meter reads "$(graph-line) Outcome Ledger"; either way the name is in its label.
      assert.match((await meter.getAttribute('aria-label')) ?? '', /Outcome Ledger/);
      assert.ok((await meter.innerText()).trim().length > 0, 'the meter has no text');
    },
  },
  {
    name: 'the Outcome Ledger view opens from the activity bar (test-artifacts/workbench.png)',
    async run(wb) {
      await wb.openViewContainer('Outcome Ledger');
      // Something real in the view: its welcome content (empty ledger) or the sessions tree, with no progress bar.
      await wb.page.locator('.part.sidebar .pane-body .welcome-view-content, .part.sidebar .pane-body .monaco-list-row').first().waitFor({ state: 'visible', timeout: 30_000 });
      await wb.sideBarIdle();
      await wb.screenshot('workbench');
    },
  },
];
