/**
 * A writer process for the concurrency suite: opens the ledger at argv[2] and captures argv[4] interactions one write
 * at a time (as the extension captures lines), keyed argv[3]-N, printing each key once its write returned.
 * A small journal limit makes folds happen while the other writers append (and archive, with OL_TEST_ARCHIVE_BEFORE).
 */
import { Ledger } from '../../src/store/ledger';
import { RecordWriter } from '../../src/store/records';

async function main(): Promise<void> {
  const [home = '', prefix = 'w', countText = '10'] = process.argv.slice(2);
  // OL_TEST_ARCHIVE_BEFORE: archive at every fold the sessions ended before this time (store/archive.ts), so folds
  // move rows to archive files and later writes restore them while the other writers append.
  const archiveBefore = Number(process.env.OL_TEST_ARCHIVE_BEFORE ?? NaN);
  const ledger = await Ledger.open(home, {
    journalLimitBytes: 16_384,
    ...(Number.isFinite(archiveBefore) ? { archiveBefore, archiveMinRequests: 0 } : {}),
  });
  for (let i = 0; i < Number(countText); i++) {
    const key = `${prefix}-${i}`;
    await ledger.write((db) => {
      const w = new RecordWriter(db, { repoOf: () => null });
      try {
        w.add(
          {
            kind: 'interaction',
            key,
            session: { source: 'claude-code', sessionId: `${prefix}-${i % 4}`, cwd: '/nowhere' },
            timestamp: Date.parse('2026-05-01T10:00:00Z') + i * 1000,
            model: 'claude-sonnet-4-5',
            tokens: { input: 10, output: i + 1, cacheRead: 100, cacheWrite: 0, reasoning: 0 },
            cacheWrite1h: 0,
            sidechain: false,
          },
          `/logs/${prefix}.jsonl`,
        );
      } finally {
        w.free();
      }
    });
    process.stdout.write(`${key}\n`);
  }
  ledger.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
});
