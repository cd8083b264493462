import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BEGIN, END, FIGURES_PAGE, readFigures, renderFigures } from '../../bench/figures';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Markdown files of the repository a reader sees: the README, the CHANGELOG and docs/. */
function pages(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join('docs', f));
  return ['README.md', 'CHANGELOG.md', ...docs];
}

describe('documentation', () => {
  it('the benchmark table is exactly what docs/benchmarks.json renders (the bench writes both; nobody edits one)', () => {
    const page = fs.readFileSync(path.join(ROOT, FIGURES_PAGE), 'utf8');
    const block = page.slice(page.indexOf(BEGIN) + BEGIN.length, page.indexOf(END)).trim();
    assert.equal(block, renderFigures(readFigures(ROOT)));
    // The organisation-scale merge (issue 15): 100,000 rollups.
    assert.match(block, /rollup merge, 100000 files/);
  });

  it('never points outside the repository, and every relative link resolves', () => {
    for (const page of pages()) {
      const text = fs.readFileSync(path.join(ROOT, page), 'utf8');
      assert.doesNotMatch(text, /shared\/spec|\.\.\/shared\//, `${page} points outside the repository`);
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (m[1] ?? '').split('#')[0] ?? '';
        if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        assert.ok(
          fs.existsSync(path.resolve(ROOT, path.dirname(page), target)),
          `${page} links ${target}, which does not exist`,
        );
      }
    }
  });

  it('the README is one a newcomer reads in five minutes: short, with a screenshot, install, the two commands and links', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    assert.ok(readme.split('\n').length <= 120, `${readme.split('\n').length} lines`);
    assert.match(readme, /!\[[^\]]+\]\(docs\/screenshots\/[^)]+\.png\)/);
    assert.match(readme, /npm install -g/);
    assert.match(readme, /npm install && npm run demo/);
    assert.match(readme, /npm test/);
    assert.match(readme, /\(docs\/README\.md\)/);
    // Figures live in docs/benchmarks.md only: the README quotes none.
    assert.doesNotMatch(readme, /\d\s?ms\b/);
  });
});
