/**
 * The worker thread of the extension's rescans, full and light (services/rescanThread.ts), built on its own into
 * dist/rescanWorker.js (scripts/build.mjs): opens the ledger `workerData` names, imports everything new through its
 * lock, and answers with the summary and the settled files' keys, then ends (its heap goes with it).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Ledger } from '../store/ledger';
import { importAll, RescanMemo } from './importer';
import type { RescanJob, RescanMessage } from './rescanThread';

async function rescan(job: RescanJob): Promise<RescanMessage> {
  const ledger = await Ledger.open(job.home, { priceAliases: job.priceAliases });
  try {
    const memo = new RescanMemo(job.settledMs, job.folderSettledMs);
    // A light rescan relies on what the window's last full scan learnt.
    if (job.settled) memo.adopt(job.settled);
    const summary = await importAll(ledger, {
      ...(job.env ? { env: job.env } : {}),
      memo,
      light: job.settled !== undefined,
      extra: job.extra,
      disabled: new Set(job.disabled),
      storePromptText: job.storePromptText,
      projectDirs: job.projectDirs,
      timeoutMs: job.timeoutMs,
    });
    return { type: 'done', summary, settled: memo.settledKeys() };
  } finally {
    ledger.close();
  }
}

if (parentPort) {
  const port = parentPort;
  rescan(workerData as RescanJob).then(
    (m) => port.postMessage(m, m.type === 'done' ? [m.settled.buffer as ArrayBuffer] : []),
    (e: unknown) => port.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) }),
  );
}
