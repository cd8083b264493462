import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../chromium';
import { TeamMerger, type TeamReportJson } from '../../src/core/team/merge';
import { renderTeamHtml } from '../../src/core/team/render';
import { syntheticRollup } from '../../src/demo/teamRollups';
import { loadOrCreateSigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';

const ARTIFACTS = path.resolve(__dirname, '..', '..', '..', 'test-artifacts');

function team(names: Array<string | null>, model?: string, evilFile?: string): TeamReportJson {
  const merger = new TeamMerger();
  names.forEach((name, i) => {
    const key = loadOrCreateSigningKey(tempDir('ol-key-'));
    const f = syntheticRollup({
      key,
      seed: 70 + i,
      displayName: name,
      ...(model
        ? {
            models: [
              ['claude-code', model],
              ['codex', 'gpt-5-codex'],
            ],
          }
        : {}),
    });
    merger.add(`rollups/member-${i + 1}.json`, f.rollup);
    // A second machine of the first member, and the same file sent twice.
    if (i === 0) {
      merger.add(
        'rollups/member-1-laptop.json',
        syntheticRollup({
          key,
          seed: 90,
          displayName: name,
          machineId: 'c'.repeat(32),
          ...(model ? { models: [['claude-code', model]] } : {}),
        }).rollup,
      );
      merger.add('rollups/member-1-again.json', f.rollup);
    }
  });
  merger.refuse(
    evilFile ?? 'rollups/edited.json',
    'signature: the signature does not match the content: the file was changed after it was signed (or signed by another key)',
  );
  merger.refuse('rollups/notes.txt.json', 'not JSON (Unexpected token \'M\', "Meeting no"... is not valid JSON)');
  return merger.result(3, '2026-12-01T09:00:00.000Z');
}

describe('the HTML team report in Chromium', function () {
  this.timeout(60_000);
  let browser: Browser;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  async function open(
    html: string,
    file: string,
  ): Promise<{ requests: string[]; page: Awaited<ReturnType<Browser['newPage']>>; console: string[] }> {
    fs.writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const requests: string[] = [];
    const console: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => console.push(m.text()));
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    return { requests, page, console };
  }

  it('renders the report, loads nothing but itself, and keeps a screenshot', async () => {
    const dir = tempDir('ol-html-');
    const file = path.join(dir, 'team-report.html');
    const { requests, page } = await open(renderTeamHtml(team(['Ana', 'Bo', null, 'Chen', null])), file);
    assert.deepEqual(requests, [`file://${file}`]);
    assert.equal(await page.locator('h1').innerText(), 'Team report');
    const headings = await page.locator('h2').allInnerTexts();
    assert.deepEqual(headings, [
      'Why there is no per-person figure',
      'Team totals',
      'Outcomes',
      'Value metrics across members',
      'By tool',
      'By model',
      'Files not counted',
    ]);
    assert.match(
      await page.locator('main').innerText(),
      /5 members on 6 machines; 9 rollup files read: 6 counted, 1 duplicate/,
    );
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'team-report.png'), fullPage: true });
    await page.close();
  });

  it('shows hostile names and model names as text: no element, script or request comes from a rollup', async () => {
    const dir = tempDir('ol-html-');
    const file = path.join(dir, 'hostile.html');
    const evil = '<img src="http://127.0.0.1:9/pixel.png"><script>window.__pwned = 1</script>';
    const html = renderTeamHtml(
      team(
        [
          `${evil} Mallory`,
          '"><iframe src=//127.0.0.1:9/>',
          `</style><link rel=stylesheet href=http://127.0.0.1:9/x.css>`,
        ],
        `${evil}model`,
        `${evil}.json`,
      ),
    );
    const { requests, page } = await open(html, file);
    assert.deepEqual(requests, [`file://${file}`], 'no request left the page');
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    assert.equal(await page.locator('script, img, iframe, link, object, embed').count(), 0);
    const text = await page.locator('main').innerText();
    assert.ok(text.includes(`${evil}model`), 'the model name is shown as text');
    assert.ok(text.includes(`${evil} Mallory`));
    assert.ok(text.includes(`${evil}.json`));
    await page.close();
  });
});
