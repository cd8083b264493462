// Checks the harness runs after the suites passed, on a fresh window without test module (the extension in
// development mode, as a person would see it), in this order. Add more here: each gets the Workbench helper
// (status bar, command palette, notifications, webviews, screenshots) and the world of the run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld } from '../../src/demo/world';
import { importAll } from '../../src/services/importer';
import { linkAll } from '../../src/services/linker';
import { Ledger } from '../../src/store/ledger';
import type { World } from './protocol';
import { TEST_USER_SETTINGS } from './tempWorld';
import type { Workbench } from './workbench';

const EXTENSION_ID = 'outcome-ledger.outcome-ledger';

/** The three kinds of theme the sidebar must read well in, with the class VS Code puts on the workbench for each. */
const THEMES = [
  { file: 'sidebar-light', label: 'Light Modern', workbench: 'vs', page: 'vscode-light' },
  { file: 'sidebar-dark', label: 'Dark Modern', workbench: 'vs-dark', page: 'vscode-dark' },
  { file: 'sidebar-high-contrast', label: 'Dark High Contrast', workbench: 'hc-black', page: 'vscode-high-contrast' },
] as const;

/** The profile's settings file (the harness runs code-server with --user-data-dir <world>/user-data); VS Code applies edits live. */
function writeSettings(world: World, extra: Record<string, unknown>): void {
  fs.writeFileSync(
    path.join(world.root, 'user-data', 'User', 'settings.json'),
    JSON.stringify({ ...TEST_USER_SETTINGS, ...extra }, null, 2),
  );
}

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
      await wb.page
        .locator('.part.sidebar .pane-body .welcome-view-content, .part.sidebar .pane-body .monaco-list-row')
        .first()
        .waitFor({ state: 'visible', timeout: 30_000 });
      await wb.sideBarIdle();
      await wb.screenshot('workbench');
    },
  },
  {
    // The demo world (two weeks of Claude Code and Codex sessions in real git repositories), imported and linked into
    // its own ledger, shown at the side bar's default width in a light, a dark and a high-contrast theme. The
    // screenshots are for people: docs/screenshots/ keeps copies the README shows.
    name: 'the sidebar reads well at sidebar width in light, dark and high-contrast themes (test-artifacts/sidebar-*.png)',
    async run(wb, world) {
      // Only the demo in the pictures: the suites' throwaway sessions go aside (their windows are closed by now),
      // and the demo lives under HOME so its folders read as ~/demo/… in the data-health card.
      for (const dir of [path.join(world.claudeConfigDir, 'projects'), path.join(world.codexHome, 'sessions')]) {
        if (fs.existsSync(dir))
          fs.renameSync(dir, path.join(world.root, `suites-${path.basename(path.dirname(dir))}-${path.basename(dir)}`));
      }
      const root = path.join(world.home, 'demo');
      const demo = buildWorld({ root, end: new Date(), seed: 7 });
      const home = path.join(world.root, 'demo-ledger');
      const ledger = await Ledger.open(home);
      try {
        await importAll(ledger, { env: demo.env });
        await linkAll(ledger, {});
      } finally {
        ledger.close();
      }
      const sources = {
        'outcomeLedger.ledgerHome': home,
        'outcomeLedger.sources.claudeCode.extraPaths': demo.claudeRoots,
        'outcomeLedger.sources.codex.extraPaths': [demo.codexHome],
      };
      const page = wb.webviewOf(EXTENSION_ID);
      const viewport = wb.page.viewportSize() ?? { width: 1280, height: 800 };
      try {
        // A reload applies the ledger settings at once (an edited settings file is picked up only eventually).
        writeSettings(world, sources);
        // Tall enough for the whole view in one picture; the side bar keeps its default width.
        await wb.page.setViewportSize({ width: viewport.width, height: 1560 });
        await wb.page.reload({ waitUntil: 'domcontentloaded' });
        await wb.ready();
        // The command opens the container (a click on its icon would close it if the reload restored it open).
        await wb.runCommand('Outcome Ledger: Show Outcome Ledger');
        await wb.page
          .locator('.part.sidebar .composite.title .title-label')
          .filter({ hasText: /Outcome Ledger/i })
          .first()
          .waitFor({ timeout: 30_000 });
        // The Sessions tree collapsed, so the sidebar view has the side bar's whole height.
        const sessions = wb.page.locator('.part.sidebar .pane-header[aria-label*="Sessions"]').first();
        if ((await sessions.getAttribute('aria-expanded')) === 'true') await sessions.click();
        for (const t of THEMES) {
          await wb.pickColorTheme(t.label, t.workbench);
          // No tooltip in the picture: the mouse parked over the empty editor area.
          await wb.page.mouse.move(900, 300);
          // Figures of the demo ledger (not an empty or half-imported one), painted and not busy, in this theme.
          await page.locator(`body.${t.page} #app[aria-busy="false"] .chart`).waitFor({ timeout: 45_000 });
          const tokens = Number(await page.locator('#fig-tokens').getAttribute('data-value'));
          assert.ok(tokens > 1_000_000, `the demo week shows ${tokens} tokens`);
          await page.locator('#decisions, #section-decisions .muted').first().waitFor({ timeout: 10_000 });
          // Nothing wider than the side bar: no horizontal scrolling at sidebar width.
          const overflow = await page.locator('html').evaluate((el) => {
            const wide = [...el.querySelectorAll('*')]
              .filter((e) => e.getBoundingClientRect().right > el.clientWidth + 0.5)
              .map((e) => `${e.tagName.toLowerCase()}.${e.getAttribute('class') ?? ''}#${e.id}`);
            return { px: el.scrollWidth - el.clientWidth, wide: wide.slice(0, 5) };
          });
          assert.ok(
            overflow.px <= 0,
            `the view is ${overflow.px} px wider than the side bar in ${t.label}: ${overflow.wide.join(', ')}`,
          );
          // From the top (the view restores its last scroll position, and the suites' window left one).
          await page.locator('html').evaluate((el) => el.scrollIntoView({ block: 'start' }));
          await wb.page.waitForTimeout(500);
          await wb.screenshot(t.file, '.part.sidebar');
          if (t.workbench === 'vs-dark') {
            // The rest of the view: tasks, the self-check (opened) and data health.
            await page.locator('#section-selfcheck > summary').click();
            await page.locator('#section-health').evaluate((el) => el.scrollIntoView({ block: 'end' }));
            await wb.page.mouse.move(900, 300);
            await wb.page.waitForTimeout(500);
            await wb.screenshot(`${t.file}-lower`, '.part.sidebar');
            await page.locator('#section-selfcheck > summary').click();
            await page.locator('html').evaluate((el) => el.scrollIntoView({ block: 'start' }));
          }
        }
      } finally {
        await wb.page.setViewportSize(viewport);
        writeSettings(world, {});
        await wb.pickColorTheme('Light Modern', 'vs').catch(() => undefined);
      }
    },
  },
];
