import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import { activateExtension, barrier, waitFor, world } from '../host';

describe('a second VS Code window on the same ledger', () => {
  it("shows the session the first window's tool wrote, with the same totals (one ledger, no double count)", async () => {
    const api = await activateExtension<OutcomeLedgerApi>();
    await barrier('both-active', 40_000);
    await barrier('shared-written', 40_000);
    const shared = JSON.parse(fs.readFileSync(path.join(world().syncDir, 'shared-session.json'), 'utf8')) as {
      sessionId: string;
      total: number;
    };
    const session = await waitFor(
      "the shared session in this window's tree",
      async () => {
        for (const day of await api.tree.getChildren()) {
          for (const node of await api.tree.getChildren(day)) {
            if (node.kind === 'session' && node.session.sessionId === shared.sessionId) return node.session;
          }
        }
        return undefined;
      },
      20_000,
    );
    assert.equal(session.tokens.total, shared.total);
    assert.equal(session.interactions, 1);
    await barrier('shared-seen', 40_000);
  });
});
