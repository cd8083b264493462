import assert from 'node:assert/strict';
import type { InteractionRecord, SourceName } from '../../src/core/usage/model';
import { renderLinks } from '../../src/cli/render/links';
import { renderReport } from '../../src/cli/render/report';
import type { LinkJson } from '../../src/services/queries';
import { report } from '../../src/services/queries';
import { Ledger } from '../../src/store/ledger';
import { RecordWriter } from '../../src/store/records';
import { tempDir } from '../helpers';

function interaction(source: SourceName, key: string, model: string, output: number): InteractionRecord {
  return {
    kind: 'interaction',
    key,
    session: { source, sessionId: `${source}-s1` },
    timestamp: Date.parse('2026-11-20T10:00:00Z'),
    model,
    tokens: { input: 100, output, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    cacheWrite1h: 0,
    sidechain: false,
  };
}

describe('the text report', () => {
  it('names the tool on "by model" rows when one model was used through several tools', async () => {
    const ledger = await Ledger.open(tempDir());
    try {
      await ledger.write((db) => {
        const w = new RecordWriter(db, { repoOf: () => null });
        try {
          w.add(interaction('codex', 'c1', 'gpt-5', 500), '/logs/codex.jsonl');
          w.add(interaction('copilot-chat', 'p1', 'gpt-5', 300), '/logs/copilot.json');
          w.add(interaction('claude-code', 'a1', 'claude-sonnet-4-5', 200), '/logs/claude.jsonl');
        } finally {
          w.free();
        }
      });
      const text = renderReport(report(ledger.database, { timeZone: 'UTC', since: '2026-11-20', until: '2026-11-20' }));
      const section = text.slice(text.indexOf('by model'), text.indexOf('by day'));
      assert.match(section, /gpt-5 \(codex\)/);
      assert.match(section, /gpt-5 \(copilot-chat\)/);
      assert.match(section, /claude-sonnet-4-5(?! \()/, 'a model used through one tool needs no tool name');
    } finally {
      ledger.close();
    }
  });
});

describe('link show', () => {
  const link = (subject: string, pr: number | null): LinkJson => ({
    commit: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
    repo: '/r',
    confidence: 0.92,
    counted: true,
    evidence: ['branch'],
    state: 'auto',
    subject,
    committed: '2026-11-02T10:00:00Z',
    why: 'same branch',
    pr,
    author: 'me@example.com',
    authoredByEngineer: true,
    coAuthored: false,
    reverted: false,
    revert: false,
    merged: true,
    excluded: null,
  });

  it('names a PR once: not again when the subject already names it (issue 17: "(#71) (#71)")', () => {
    const squash = renderLinks('claude-code:s1', [link('Add retries (#71)', 71)]);
    assert.equal(squash.match(/#71/g)?.length, 1, squash);
    const merge = renderLinks('claude-code:s1', [link('Merge pull request #71 from me/retries', 71)]);
    assert.equal(merge.match(/#71/g)?.length, 1, merge);
    // A subject naming another number (#710) still gets its PR.
    assert.match(renderLinks('claude-code:s1', [link('Fix #710', 71)]), /Fix #710 \(#71\)/);
    assert.match(renderLinks('claude-code:s1', [link('Add retries', 71)]), /Add retries \(#71\)/);
  });
});
