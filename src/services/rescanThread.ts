/**
 * The extension's periodic rescans in a worker thread, full and light. A full rescan `stat`s every log file and lists
 * their folders: on a year of heavy use 53,000 files, ~160 MB allocated on the way for ~6 MB kept, and V8 keeps the
 * heap it grew for that (the young generation at its largest, old-generation pages) in the extension host, a process
 * VS Code shares with other extensions, for as long as it runs (docs/ledger.md "Benchmarks"). In a worker thread that
 * heap goes when the worker ends, and the extension host's thread stays free while a first import of years of logs
 * runs.
 *
 * The worker is one more writer of the ledger, like another window or the CLI: it opens the ledger, imports through
 * its lock and journal, and ends; the window then reads what it wrote (the journal's new blocks, or the new snapshot)
 * as it reads any other process's write. What the scan learnt for the light rescans (the settled files) comes back as
 * their keys. A light rescan (every minute by default) takes the window's keys there, so its garbage goes too (~35 MB
 * allocated on a year of heavy use: the folders' listings parsed, a few thousand stats). The worker's script is built
 * beside the extension's bundle (scripts/build.mjs); when it cannot run, the caller scans in its own thread as before.
 */
import * as path from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { SourceName } from '../core/usage/model';
import type { ExtraSource, ImportSummary } from './importer';

/** What the window hands the worker: its ledger and the import's settings (plain data: it is copied). */
export interface RescanJob {
  home: string;
  priceAliases?: unknown;
  extra: ExtraSource[];
  disabled: SourceName[];
  storePromptText: boolean;
  projectDirs: string[];
  timeoutMs: number;
  settledMs: number;
  folderSettledMs: number;
  /** The environment the sources' folders are found from (default: the process's, as the extension's). */
  env?: Record<string, string | undefined>;
  /**
   * A light rescan: the keys of the files the window's last full scan found settled (RescanMemo.settledKeys), which it
   * does not stat. Transferred, not copied. Absent: a full rescan.
   */
  settled?: Float64Array;
}

/** What the worker answers: the import's summary and the settled files' keys, or why it failed. */
export type RescanMessage =
  | { type: 'done'; summary: ImportSummary; settled: Float64Array }
  | { type: 'failed'; message: string };

/** The worker's script: beside the bundle that runs this (dist/), or beside this module when compiled for the tests. */
export const RESCAN_WORKER_SCRIPT = path.join(__dirname, 'rescanWorker.js');

/**
 * The worker's young generation stays small (its garbage is collected often, as the CLI's is: cli/v8.ts); its old
 * generation is left to V8, since a first import of years of logs needs what it needs.
 */
const LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4 };

/**
 * Runs one rescan (full, or light with `job.settled`) in a worker thread; rejects when the worker fails or cannot start
 * (the caller scans itself).
 */
export function rescanInWorker(
  job: RescanJob,
  script = RESCAN_WORKER_SCRIPT,
): Promise<{ summary: ImportSummary; settled: Float64Array }> {
  return new Promise((resolve, reject) => {
    let answer: RescanMessage | undefined;
    let worker: Worker;
    try {
      worker = new Worker(script, {
        workerData: job,
        resourceLimits: LIMITS,
        ...(job.settled ? { transferList: [job.settled.buffer as ArrayBuffer] } : {}),
      });
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    worker.once('message', (m: RescanMessage) => (answer = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (answer?.type === 'done') resolve({ summary: answer.summary, settled: answer.settled });
      else if (answer?.type === 'failed') reject(new Error(answer.message));
      else reject(new Error(`the rescan worker stopped (exit code ${code}) before it answered`));
    });
  });
}
