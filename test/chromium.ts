/** The Chromium the browser tests drive (the summary and team report pages, and the VS Code tier's workbench). */
import * as fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.OL_CHROMIUM || '/usr/bin/chromium';

/** Headless in a container, and quiet: no background networking, updates or sync of its own. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches Chromium, or says where it was looked for and how to install it. */
export function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`Chromium is needed at ${CHROMIUM} (OL_CHROMIUM; \`node scripts/vscode-setup.mjs\` installs it)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
