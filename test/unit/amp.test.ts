import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { importAll } from '../../src/services/importer';
import { report } from '../../src/services/queries';
import { amp } from '../../src/sources/amp';
import { Ledger } from '../../src/store/ledger';
import { credits, writeAmp } from '../fixtures/sources';
import { importExactly, interactions, tempDirEach } from '../helpers';

const PERIOD = { timeZone: 'UTC', since: '2026-01-01', until: '2026-12-31' };
const noSqlite = {
  openSqlite: (): never => {
    throw new Error('no database here');
  },
};

describe('Amp reader', () => {
  const tmp = tempDirEach('ol-amp-');

  const parse = (
    file: string,
    doc: unknown,
  ): ReturnType<NonNullable<ReturnType<typeof amp.createParser>['parseWhole']>> | undefined =>
    amp
      .createParser({ source: 'amp', path: file, root: tmp.dir, whole: true }, null)
      .parseWhole?.(Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)), noSqlite);

  it('looks in $AMP_DATA_DIR and the XDG data folder', () => {
    const roots = amp.roots({ HOME: '/h' });
    assert.ok(roots.includes('/h/.local/share/amp'), roots.join());
    assert.ok(
      amp
        .roots({ HOME: '/h', XDG_DATA_HOME: '/d', AMP_DATA_DIR: '/a' })
        .slice(0, 2)
        .every((r, i) => r === ['/a', '/d/amp'][i]),
    );
  });

  it('each request once: ledger events take the cache split of their message (named or matched by counts); messages without an event count alone', () => {
    const project = path.join(tmp.dir, 'app');
    const fx = writeAmp(path.join(tmp.dir, 'data'), project);
    const file = fx.files[0] ?? '';
    const r = parse(file, fs.readFileSync(file, 'utf8'));
    assert.ok(r && 'records' in r);
    assert.deepEqual(
      interactions(r.records).map((x) => [
        x.key.split(':').pop(),
        x.tokens.input,
        x.tokens.cacheRead,
        x.tokens.cacheWrite,
        x.credits,
        x.session.cwd,
      ]),
      [
        ['m1', 120, 15000, 2000, 0.0812, project],
        ['m3', 80, 17000, 300, 0.0421, project],
        ['eev-3', 500, 0, 0, 0.002, project],
      ],
    );
    assert.deepEqual(
      r.rejects.map((x) => x.reason),
      [
        'message 5: usage in an unknown shape (keys: prompt_tokens, completion_tokens)',
        'usageLedger event 4: credits is not a non-negative number',
      ],
    );
    assert.deepEqual(
      r.records.filter((x) => x.kind === 'edit').map((x) => x.kind === 'edit' && x.path),
      [path.join(project, 'src/server.ts')],
    );
  });

  it('an event written in a later rewrite replaces the message it accounts for instead of adding to it', () => {
    const usage = {
      model: 'claude-sonnet-4-5',
      inputTokens: 10,
      outputTokens: 5,
      cacheReadInputTokens: 100,
      credits: 0.01,
    };
    const before = parse('/t/T-1.json', {
      id: 'T-1',
      created: 1_770_000_000_000,
      messages: [{ role: 'assistant', messageId: 1, usage }],
    });
    const after = parse('/t/T-1.json', {
      id: 'T-1',
      created: 1_770_000_000_000,
      messages: [{ role: 'assistant', messageId: 1, usage }],
      usageLedger: {
        events: [
          {
            id: 'e',
            timestamp: '2026-02-01T00:00:00Z',
            model: 'claude-sonnet-4-5',
            credits: 0.01,
            tokens: { input: 10, output: 5 },
            toMessageId: 1,
          },
        ],
      },
    });
    assert.ok(before && 'records' in before && after && 'records' in after);
    assert.deepEqual(
      interactions(before.records).map((x) => x.key),
      interactions(after.records).map((x) => x.key),
    );
  });

  it('a thread cut short is retried, not rejected at once; a document that is not a thread says so', () => {
    assert.deepEqual(parse('/t/T-2.json', '{"id": "T-2", "messages": ['), {
      incomplete: 'not a whole JSON document (cut short or being written)',
    });
    assert.deepEqual(parse('/t/T-3.json', { id: 'T-3', messages: 'nope' }), {
      incomplete: 'not an Amp thread (no messages list)',
    });
  });

  it('imports exactly, credits as credits priced at $1, and a re-import adds nothing', async () => {
    const fx = writeAmp(path.join(tmp.dir, 'data'), path.join(tmp.dir, 'app'));
    const ledger = await Ledger.open(path.join(tmp.dir, 'ledger'));
    const env = { HOME: path.join(tmp.dir, 'home'), XDG_DATA_HOME: path.join(tmp.dir, 'data') };
    await importExactly(ledger, env, 'amp', fx);
    const bySource = report(ledger.database, PERIOD).bySource.find((x) => x.source === 'amp');
    assert.equal(bySource?.credits, credits(fx.truth));
    assert.equal(
      bySource?.costUSD,
      credits(fx.truth),
      'the cost of a request Amp billed is its credits (US dollars), not its tokens at list prices',
    );
    const again = await importAll(ledger, { env, quietMs: 0 });
    assert.equal(again.sources.find((x) => x.source === 'amp')?.interactionsAdded, 0);
    ledger.close();
  });
});
