// Drives one VS Code web workbench page with Playwright: waits for it, opens views, reads the status bar and
// notifications, runs commands through the command palette, reaches into webviews, takes screenshots.
// Selectors are VS Code 1.99's DOM; every wait has a bound.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';

export interface WorkbenchPayload {
  /** Absolute path of the extension folder on the code-server machine. */
  extensionDevelopmentPath: string;
  /** Absolute path of the compiled tests entry module; leave out for a plain development window. */
  extensionTestsPath?: string;
}

/** The URL of a workbench on `folder`, loading the extension in development mode (and its tests, if given). */
export function workbenchUrl(origin: string, folder: string, payload: WorkbenchPayload): string {
  const authority = new URL(origin).host;
  const entries: [string, string][] = [
    ['extensionDevelopmentPath', `vscode-remote://${authority}${payload.extensionDevelopmentPath}`],
  ];
  if (payload.extensionTestsPath)
    entries.push(['extensionTestsPath', `vscode-remote://${authority}${payload.extensionTestsPath}`]);
  return `${origin}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(entries))}`;
}

const cssString = (s: string): string => JSON.stringify(s);

export class Workbench {
  constructor(
    readonly page: Page,
    readonly artifactsDir: string,
  ) {}

  /** Waits until the workbench shows its activity bar, side bar container and status bar. */
  async ready(timeoutMs = 60_000): Promise<void> {
    await this.page.waitForSelector('.monaco-workbench .part.activitybar', { timeout: timeoutMs });
    await this.page.waitForSelector('.monaco-workbench .part.statusbar .statusbar-item', { timeout: timeoutMs });
  }

  /** The activity-bar entry whose aria-label contains `label` (for example "Outcome Ledger"). */
  activityBarItem(label: string): Locator {
    return this.page
      .locator(
        `.part.activitybar .action-item [aria-label*=${cssString(label)}], .part.activitybar .action-item[aria-label*=${cssString(label)}]`,
      )
      .first();
  }

  /** Opens the view container with that activity-bar label and waits until the side bar shows its title. */
  async openViewContainer(label: string, timeoutMs = 30_000): Promise<void> {
    const item = this.activityBarItem(label);
    await item.waitFor({ state: 'visible', timeout: timeoutMs });
    const title = this.page
      .locator('.part.sidebar .composite.title .title-label')
      .filter({ hasText: new RegExp(escapeRegExp(label), 'i') });
    if (!(await title.isVisible())) await item.click({ timeout: timeoutMs });
    await title.first().waitFor({ state: 'visible', timeout: timeoutMs });
    await this.moveMouseAway(timeoutMs);
  }

  /** Waits until no view in the side bar shows its progress bar (a tree still waiting for its data provider). */
  async sideBarIdle(timeoutMs = 30_000): Promise<void> {
    await this.page
      .locator('.part.sidebar .monaco-progress-container.active:not(.done)')
      .first()
      .waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** Parks the mouse over the editor area and waits for any hover tooltip to go, so screenshots show no tooltip. */
  async moveMouseAway(timeoutMs = 10_000): Promise<void> {
    const viewport = this.page.viewportSize() ?? { width: 1280, height: 800 };
    await this.page.mouse.move(viewport.width - 20, Math.round(viewport.height / 2));
    await this.page
      .locator('.monaco-hover, .workbench-hover-container')
      .first()
      .waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** A view (pane) in the side bar by its name, for example "Sessions". */
  sideBarPane(name: string): Locator {
    return this.page
      .locator('.part.sidebar .pane')
      .filter({ has: this.page.locator(`.pane-header[aria-label*=${cssString(name)}]`) })
      .first();
  }

  /** A status-bar item by its id: `<publisher>.<extension name>.<id given to createStatusBarItem>` for extensions. */
  statusBarEntry(id: string): Locator {
    return this.page.locator(`.part.statusbar .statusbar-item[id=${cssString(id)}]`);
  }

  /** The status-bar item whose aria-label or text contains `label`. */
  statusBarItem(label: string): Locator {
    return this.page
      .locator('.part.statusbar .statusbar-item')
      .filter({ has: this.page.locator(`[aria-label*=${cssString(label)}]`) })
      .or(this.page.locator(`.part.statusbar .statusbar-item[aria-label*=${cssString(label)}]`))
      .or(this.page.locator('.part.statusbar .statusbar-item').filter({ hasText: label }))
      .first();
  }

  async statusBarText(label: string, timeoutMs = 15_000): Promise<string> {
    const item = this.statusBarItem(label);
    await item.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await item.innerText({ timeout: timeoutMs })).trim();
  }

  /** Runs a command by its palette title ("Outcome Ledger: Import Now") through F1, as a person would. */
  async runCommand(title: string, timeoutMs = 15_000): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    // The palette closes when something else takes the focus while it opens (a view painting on a busy machine), or
    // drops what was typed before its list was ready: a person opens it again and retypes, and so does this, every few
    // seconds, until the deadline (one attempt that waited the whole time left no second one on a loaded machine).
    const deadline = Date.now() + 2 * timeoutMs;
    const attemptMs = Math.min(timeoutMs, 5_000);
    for (;;) {
      await this.page.keyboard.press('F1');
      await widget.waitFor({ state: 'visible', timeout: timeoutMs });
      await input.fill(`>${title}`, { timeout: timeoutMs });
      const row = widget.locator('.monaco-list-row').filter({ hasText: title }).first();
      // Whichever comes first; the other wait's later timeout is swallowed (never an unhandled rejection).
      const shown = await Promise.race([
        row.waitFor({ state: 'visible', timeout: attemptMs }).then(
          () => true,
          () => false,
        ),
        widget.waitFor({ state: 'hidden', timeout: attemptMs }).then(
          () => false,
          () => false,
        ),
      ]);
      if (shown) break;
      if (Date.now() > deadline) throw new Error(`the command palette never listed "${title}"`);
      await this.page.keyboard.press('Escape');
    }
    await this.acceptRow(widget, title, timeoutMs);
    await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
    await this.moveMouseAway(timeoutMs);
  }

  /**
   * Chooses the quick-pick row whose label starts with `title` by keyboard, as a person does: the arrow keys move the
   * focus onto it, Enter accepts it. (A click can miss: the list is virtual and re-renders while the filter settles,
   * so a row found a moment ago may be gone by the time the mouse gets there.)
   */
  private async acceptRow(widget: Locator, title: string, timeoutMs: number): Promise<void> {
    const label = (row: Locator): Promise<string> =>
      row.getAttribute('aria-label', { timeout: timeoutMs }).then((v) => v ?? '');
    const matches = (text: string): boolean =>
      text === title || text.startsWith(`${title},`) || text.startsWith(`${title} `);
    await widget
      .locator('.monaco-list-row')
      .filter({ hasText: title })
      .first()
      .waitFor({ state: 'visible', timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const focused = widget.locator('.monaco-list-row.focused').first();
      if (matches(await label(focused))) break;
      if (Date.now() > deadline)
        throw new Error(`the quick pick never focused "${title}" (last focused: "${await label(focused)}")`);
      await this.page.keyboard.press('ArrowDown');
    }
    await this.page.keyboard.press('Enter');
  }

  /**
   * Switches the colour theme as a person does (F1, Preferences: Color Theme, its label, Enter) and waits until the
   * workbench wears it (`uiTheme`: vs, vs-dark, hc-black or hc-light).
   */
  async pickColorTheme(label: string, uiTheme: string, timeoutMs = 20_000): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    await this.page.keyboard.press('F1');
    await widget.waitFor({ state: 'visible', timeout: timeoutMs });
    await input.fill('>Preferences: Color Theme', { timeout: timeoutMs });
    await this.acceptRow(widget, 'Preferences: Color Theme', timeoutMs);
    // The theme list replaces the command list (its input empties); the list is virtual, so filter before looking.
    await widget.locator('input.input[placeholder*="Color Theme"]').waitFor({ state: 'visible', timeout: timeoutMs });
    await input.fill(label, { timeout: timeoutMs });
    await widget
      .locator('.monaco-list-row.focused')
      .filter({ hasText: label })
      .first()
      .waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
    await this.page.locator(`.monaco-workbench.${uiTheme}`).waitFor({ state: 'attached', timeout: timeoutMs });
  }

  /** Texts of the notification toasts on screen. */
  async notifications(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts()).map((t) =>
      t.trim(),
    );
  }

  /** Waits for a notification toast containing `text` and returns its full text. */
  async waitForNotification(text: string, timeoutMs = 30_000): Promise<string> {
    const toast = this.page
      .locator('.notifications-toasts .notification-list-item-message')
      .filter({ hasText: text })
      .first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return (await toast.innerText()).trim();
  }

  /**
   * The content of a webview (webview views in the side bar, webview panels): VS Code nests the extension's document
   * in an inner iframe. With several webviews open pass `index`.
   */
  webview(index = 0): FrameLocator {
    return this.page
      .locator('iframe.webview.ready')
      .nth(index)
      .contentFrame()
      .locator('iframe#active-frame')
      .contentFrame();
  }

  /**
   * The content of the webview view an extension contributed (its outer iframe's URL names the extension), for
   * example `outcome-ledger.outcome-ledger`: one webview among several, without counting them.
   */
  webviewOf(extensionId: string): FrameLocator {
    return this.page
      .locator(`iframe.webview.ready[src*=${cssString(`extensionId=${extensionId}`)}]`)
      .first()
      .contentFrame()
      .locator('iframe#active-frame')
      .contentFrame();
  }

  /** Screenshot of the whole window (or of the element `selector` matches) into the artifacts folder; returns the path. */
  async screenshot(name: string, selector?: string): Promise<string> {
    fs.mkdirSync(this.artifactsDir, { recursive: true });
    const file = path.join(this.artifactsDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
    if (selector) await this.page.locator(selector).first().screenshot({ path: file, timeout: 30_000 });
    else await this.page.screenshot({ path: file, timeout: 30_000 });
    return file;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
