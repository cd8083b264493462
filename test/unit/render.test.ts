import assert from 'node:assert/strict';
import type { InteractionRecord, SourceName } from '../../src/core/usage/model';
import { renderReport } from '../../src/cli/render';
import { report } from '../../src/services/queries';
import { Ledger } from '../../src/store/ledger';
import { RecordWriter } from '../../src/store/records';
import { tempDir } from '../helpers';

function interaction(source: SourceName, key: string, model: string, output: number): InteractionRecord {
  return {
    kind: 'interaction', key, session: { source, sessionId: `${source}-s1` }, timestamp: Date.parse('2026-11-20T10:00:00Z'),
    model, tokens: { input: 100, output, cacheRead: 0, cacheWrite: 0, reasoning: 0 }, cacheWrite1h: 0, sidechain: false,
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
