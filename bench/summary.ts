import { addDays } from '../src/core/usage/time';
import { exportSummary, verifySummary } from '../src/services/summary';
import { onHeavyLedger } from './heavyLedger';
import type { Figure } from './import';
import { median } from './measure';

export interface SummaryBenchOptions {
  workDir: string;
  runs: number;
  sessions: number;
  interactions: number;
}

/**
 * The outcome summary on a year of heavy use (the sidebar's ledger: 100,000 interactions in 3,000 sessions, with
 * commits, links in every state, labels and kept lines): export (figures, weekly trend, records digest, signature,
 * rendering) for a quarter and for the whole year, its size, and verify with and without recomputing from the ledger.
 */
export function summaryBench(o: SummaryBenchOptions, log: (s: string) => void): Promise<Figure[]> {
  return onHeavyLedger(o, log, (ledger, home) => {
    const figures: Figure[] = [];
    const db = ledger.database;
    const until = new Date().toISOString().slice(0, 10);
    const periods: Array<[string, string]> = [
      ['a quarter (91 days)', addDays(until, -90)],
      ['the whole year', addDays(until, -364)],
    ];
    for (const [name, since] of periods) {
      for (const format of ['html', 'json'] as const) {
        const times: number[] = [];
        let text = '';
        for (let i = 0; i < Math.max(3, o.runs); i++) {
          const t = performance.now();
          text = exportSummary(db, home, {
            since,
            until,
            timeZone: 'UTC',
            format,
            ledgerFile: ledger.paths.file,
            env: {},
          }).text;
          times.push(performance.now() - t);
        }
        figures.push({
          name: `summary export, ${name}, ${format} (median)`,
          value: Math.round(median(times)),
          unit: 'ms',
        });
        figures.push({
          name: `summary size, ${name}, ${format}`,
          value: Math.round(Buffer.byteLength(text) / 102.4) / 10,
          unit: 'KB',
        });
        if (format === 'html') {
          const plain: number[] = [];
          const withLedger: number[] = [];
          for (let i = 0; i < Math.max(3, o.runs); i++) {
            let t = performance.now();
            if (!verifySummary(text).ok) throw new Error('the exported summary does not verify');
            plain.push(performance.now() - t);
            t = performance.now();
            if (!verifySummary(text, { db, ledgerFile: ledger.paths.file, env: {} }).ok)
              throw new Error('the exported summary does not match the ledger');
            withLedger.push(performance.now() - t);
          }
          figures.push({
            name: `summary verify, ${name} (median)`,
            value: Math.round(median(plain) * 10) / 10,
            unit: 'ms',
          });
          figures.push({
            name: `summary verify --ledger, ${name} (median)`,
            value: Math.round(median(withLedger)),
            unit: 'ms',
          });
        }
      }
    }
    return figures;
  });
}
