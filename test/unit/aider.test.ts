import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { dataHealth } from '../../src/services/health';
import { aider, aiderCount, parseAiderTokens } from '../../src/sources/aider';
import { Ledger } from '../../src/store/ledger';
import { total, writeAider } from '../fixtures/sources';
import { interactions, ledgerSums, parseLines, repoFolder, sessionFiles, tempDirEach } from '../helpers';

describe('Aider reader', () => {
  it("reads aider's rounded counts: 350, 1,234, 1.2k, 12k, 1.5M", () => {
    assert.deepEqual(['350', '1,234', '1.2k', '12k', '1.5M', 'x', ''].map(aiderCount), [
      350,
      1234,
      1200,
      12000,
      1_500_000,
      undefined,
      undefined,
    ]);
  });

  it('parses every Tokens: line form aider has written', () => {
    assert.deepEqual(parseAiderTokens('3,412 sent, 251 received. Cost: $0.02 request, $0.02 session.'), {
      sent: 3412,
      cacheWrite: 0,
      cacheHit: 0,
      received: 251,
      thinking: 0,
      cost: 0.02,
    });
    assert.deepEqual(
      parseAiderTokens(
        '13k sent, 1.1k cache write, 9.4k cache hit, 1.2k received. Cost: $0.03 message, $0.07 session.',
      ),
      { sent: 13000, cacheWrite: 1100, cacheHit: 9400, received: 1200, thinking: 0, cost: 0.03 },
    );
    assert.deepEqual(parseAiderTokens('2.4k sent, 88 received.'), {
      sent: 2400,
      cacheWrite: 0,
      cacheHit: 0,
      received: 88,
      thinking: 0,
    });
    assert.deepEqual(
      parseAiderTokens('15k sent, 2.1k cache write, 8.2k cache read; 4.5k Total (1.2k thinking, 3.3k returned)'),
      { sent: 15000, cacheWrite: 2100, cacheHit: 8200, received: 4500, thinking: 1200 },
    );
    assert.equal(parseAiderTokens('lots sent, 3 received.'), undefined);
  });

  it("marks every count estimated, keeps aider's message cost, and rejects a Tokens: line before any session header", () => {
    const r = parseLines(
      aider,
      [
        '> Tokens: 1k sent, 10 received.',
        '# aider chat started at 2026-03-09 16:40:11',
        '> Model: gpt-4o with whole edit format',
        '> Tokens: 1k sent, 10 received. Cost: $0.01 message, $0.01 session.',
      ],
      { path: '/r/.aider.chat.history.md' },
    );
    assert.deepEqual(r.rejected, ['"Tokens:" line before any "aider chat started at" line']);
    const [i] = interactions(r.records);
    assert.equal(i?.estimated, true);
    assert.equal(i?.recordedCostUSD, 0.01);
    assert.equal(i?.session.cwd, '/r');
  });

  describe('import', () => {
    const tmp = tempDirEach('ol-aider-');
    /** A repository with aider's history in it, a fresh ledger and a home without aider's files. */
    const setup = async (): Promise<{
      repo: string;
      fx: ReturnType<typeof writeAider>;
      ledger: Ledger;
      env: Record<string, string>;
    }> => {
      const repo = repoFolder(path.join(tmp.dir, 'repo'));
      const fx = writeAider(repo);
      const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
      return { repo, fx, ledger, env: { HOME: path.join(tmp.dir, 'home') } };
    };

    it('finds the history in the project folders it is given and those the ledger knows; totals equal the truth; appends resume', async () => {
      const { repo, fx, ledger, env } = await setup();
      const none = await importAll(ledger, { env, quietMs: 0 });
      assert.equal(none.sources.find((s) => s.source === 'aider')?.found, false);
      const first = await importAll(ledger, { env, quietMs: 0, projectDirs: [path.join(repo, 'sub')] }); // a subfolder: its repository is looked in
      const a = first.sources.find((s) => s.source === 'aider');
      assert.equal(a?.found, true);
      assert.equal(a?.linesRejected, fx.rejects);
      assert.deepEqual(ledgerSums(ledger.database, 'aider'), total(fx.truth));
      // Later imports find it through the sessions the ledger holds, without being told; appended lines resume.
      fs.appendFileSync(
        fx.file,
        '#### one more\n\n> Tokens: 1.5k sent, 20 received. Cost: $0.01 message, $0.09 session.\n',
      );
      const later = await importAll(ledger, { env, quietMs: 0 });
      assert.equal(later.sources.find((s) => s.source === 'aider')?.interactionsAdded, 1);
      assert.equal(ledgerSums(ledger.database, 'aider').input, total(fx.truth).input + 1500);
      assert.equal((await importAll(ledger, { env, quietMs: 0 })).bytesRead, 0);
      assert.deepEqual(sessionFiles(ledger.database, 'aider'), ['cli.py', 'src/report.py']);
      const h = dataHealth(ledger.database, path.join(tmp.dir, 'ledger', 'ledger.sqlite'), { env }).sources.find(
        (s) => s.source === 'aider',
      );
      assert.equal(h?.found, true);
      assert.deepEqual(h?.roots, [{ path: fx.file, exists: true }]);
      ledger.close();
    });

    it('a half-written last line waits until aider finishes it; garbage is skipped or rejected with a reason, nothing lost', async () => {
      const { repo, fx, ledger, env } = await setup();
      await importAll(ledger, { env, quietMs: 0, projectDirs: [repo] });
      const full = ledgerSums(ledger.database, 'aider');
      fs.appendFileSync(fx.file, '#### and the tests\n\n> Tokens: 2.5k sent, 3');
      const busy = await importAll(ledger, { env, quietMs: 60_000, projectDirs: [repo] });
      assert.deepEqual(
        [
          busy.sources.find((s) => s.source === 'aider')?.interactionsAdded,
          busy.sources.find((s) => s.source === 'aider')?.linesRejected,
        ],
        [0, 0],
      );
      fs.appendFileSync(fx.file, '0 received. Cost: $0.01 message, $0.10 session.  \n');
      const done = await importAll(ledger, { env, quietMs: 60_000, projectDirs: [repo] });
      assert.equal(done.sources.find((s) => s.source === 'aider')?.interactionsAdded, 1);
      assert.deepEqual(
        [ledgerSums(ledger.database, 'aider').input, ledgerSums(ledger.database, 'aider').output],
        [full.input + 2500, full.output + 30],
      );
      // Binary noise and a mangled Tokens: line: the conversation text is skipped, the Tokens: line rejected.
      fs.appendFileSync(
        fx.file,
        Buffer.concat([
          Buffer.from([0, 1, 2, 0xff, 0xfe, 10]),
          Buffer.from('> Tokens: \u0000 sent\n> Applied edit to\n'),
        ]),
      );
      const noisy = await importAll(ledger, { env, quietMs: 0, projectDirs: [repo] });
      const a = noisy.sources.find((s) => s.source === 'aider');
      assert.equal(a?.linesRejected, 1, a?.reasons.join('; '));
      assert.match(
        a?.reasons[0] ?? '',
        /\.aider\.chat\.history\.md:\d+: a "Tokens:" line aider did not write in a known form/,
      );
      assert.equal(ledgerSums(ledger.database, 'aider').input, full.input + 2500);
      ledger.close();
    });
  });
});
