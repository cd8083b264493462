/**
 * A team merge on several cores: reading, parsing, validating, verifying and reducing each file (the per-file cost of
 * a merge) run in a small pool of worker threads; the merging thread only folds the reduced files into the merger, in
 * the order the files were listed, so the report is the same as a merge in one thread, file for file.
 *
 * File paths go out in batches; each batch comes back as the files' reduced figures in one transferred buffer. At most
 * two batches per worker are out at a time, so memory stays flat for any number of files. Each worker's heap is capped
 * (`WORKER_LIMITS`). A worker that fails (its heap exhausted by a hostile file, its script missing) is not replaced:
 * the batches it held are checked again in the merging thread, with the same checks, and the merge goes on with the
 * workers left, or alone.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { PublishedReport, Roster } from '../core/team/guards';
import type { TeamMerger, TeamReportJson } from '../core/team/merge';
import { checkBatch, type CheckedFile } from './teamRollupFile';
import { expandRollupInputs, label, type MergeItem } from './teamRollupInputs';

/** What the merging thread sends a checking worker: a batch of files. */
export interface BatchRequest {
  seq: number;
  files: string[];
}

/** What a merge worker (the thread that folds, `MergeJob`) is given: everything `TeamMerger.result` needs. */
export interface MergeJob {
  role: 'merge';
  inputs: readonly string[];
  cwd: string;
  roster: Roster | undefined;
  k: number;
  generatedAt: string;
  published: PublishedReport[];
  threads: number;
  inThreadFirst: number;
}

/** What a merge worker says: how far it is, the report and the members it counted, or why it failed. */
export type MergeMessage =
  | { type: 'progress'; done: number }
  | { type: 'done'; report: TeamReportJson; members: string[] }
  | { type: 'cancelled' }
  | { type: 'failed'; message: string };

/**
 * The merge worker's heap: a small young generation (the batches' garbage is collected often); an old generation of
 * at most 256 MB, which holds what counting once needs for about two million files (some 11 MB per 100,000, the rest
 * in typed arrays outside it), and under which V8 lets the heap grow by at most twice what is live, not four times.
 */
export const MERGE_WORKER_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 256 };

/** Files per batch: a few milliseconds of work, few enough messages to cost nothing. */
const BATCH_FILES = 64;
/** Batches out per worker: one being checked, one waiting, so a worker never waits for the merging thread. */
const PER_WORKER = 2;
/**
 * A checking worker's heap: a rollup is at most 1 MB of text (MAX_ROLLUP_BYTES), parsed and checked one at a time, so
 * a small heap is plenty, and a file that would need more fails that worker, not the merge. A small young generation
 * keeps the garbage of each file from piling up (the merge's memory budget is for every thread together).
 */
export const WORKER_LIMITS: ResourceLimits = {
  maxOldGenerationSizeMb: 64,
  maxYoungGenerationSizeMb: 2,
  stackSizeMb: 4,
};

/** The worker's script: beside the bundle that runs this (dist/), or beside this module when compiled for the tests. */
export const WORKER_SCRIPT = path.join(__dirname, 'teamRollupWorker.js');

/** Worker threads a merge uses by default: one per core, at most four (the merging thread folds on top of them). */
export function defaultThreads(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cores > 1 ? Math.min(4, cores) : 0;
}

interface Batch {
  seq: number;
  items: MergeItem[];
  files: string[];
  /** The worker it was sent to (undefined: checked in the merging thread). */
  worker?: PoolWorker;
  results?: CheckedFile[];
}

interface PoolWorker {
  worker: Worker;
  out: Set<Batch>;
  alive: boolean;
}

export interface PoolOptions {
  /** Worker threads (0: every file is checked in this thread). */
  threads: number;
  /** Files checked in this thread before the workers start: a merge of a few files never starts them. */
  inThreadFirst: number;
  /** Called with each batch, in order, once its files are checked: the caller folds them. */
  fold(items: readonly MergeItem[], results: readonly CheckedFile[]): void;
  /** Asked after each batch: true stops the merge (the workers are ended). */
  cancelled?: () => boolean;
  /** The checking workers' script (`WORKER_SCRIPT`; another in tests). */
  script?: string;
}

/**
 * Checks the items in worker threads and hands each batch, in order, to `fold`. Resolves true when every item was
 * folded, false when cancelled.
 */
export function checkInWorkers(items: Iterator<MergeItem>, o: PoolOptions): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const workers: PoolWorker[] = [];
    const waiting = new Map<number, Batch>();
    let nextSeq = 0;
    let nextFold = 0;
    let listed = false;
    let settled = false;
    let started = false;
    /** Files checked in this thread before the workers start. */
    let checkedHere = 0;
    const script = o.script ?? WORKER_SCRIPT;

    const end = (value: boolean | Error): void => {
      if (settled) return;
      settled = true;
      for (const w of workers) {
        w.alive = false;
        void w.worker.terminate();
      }
      if (value instanceof Error) reject(value);
      else resolve(value);
    };

    const nextBatch = (): Batch | undefined => {
      if (listed) return undefined;
      const batch: Batch = { seq: nextSeq, items: [], files: [] };
      while (batch.files.length < BATCH_FILES) {
        const n = items.next();
        if (n.done) {
          listed = true;
          break;
        }
        batch.items.push(n.value);
        if ('file' in n.value) batch.files.push(n.value.file);
      }
      if (batch.items.length === 0) return undefined;
      nextSeq++;
      waiting.set(batch.seq, batch);
      return batch;
    };

    const inThread = (batch: Batch): void => {
      batch.worker = undefined;
      batch.results = checkBatch(batch.files).results;
    };

    /** Folds the batches that are ready, in order; then keeps every live worker supplied, or finishes. */
    const pump = (): void => {
      if (settled) return;
      try {
        for (;;) {
          for (let b = waiting.get(nextFold); b?.results; b = waiting.get(nextFold)) {
            waiting.delete(nextFold++);
            o.fold(b.items, b.results);
            if (o.cancelled?.()) return end(false);
          }
          if (!started && checkedHere >= o.inThreadFirst) startWorkers();
          const live = workers.filter((w) => w.alive);
          if (live.length === 0) {
            // Before the workers start (a small merge never starts them), or with none left: this thread checks a
            // batch itself, then lets the event loop turn (the extension host stays responsive) before the next.
            const batch = waiting.get(nextFold) ?? nextBatch();
            if (!batch) return end(true);
            if (!batch.results) inThread(batch);
            checkedHere += batch.files.length;
            setImmediate(pump);
            return;
          }
          for (const w of live) {
            while (w.out.size < PER_WORKER) {
              const batch = nextBatch();
              if (!batch) break;
              send(w, batch);
            }
          }
          if (listed && waiting.size === 0) return end(true);
          return;
        }
      } catch (e) {
        end(e as Error);
      }
    };

    const send = (w: PoolWorker, batch: Batch): void => {
      batch.worker = w;
      w.out.add(batch);
      w.worker.postMessage({ seq: batch.seq, files: batch.files } satisfies BatchRequest);
    };

    /** A worker that failed: what it held is checked in this thread, and the merge goes on without it. */
    const lose = (w: PoolWorker): void => {
      if (!w.alive || settled) return;
      w.alive = false;
      void w.worker.terminate();
      for (const batch of w.out) if (!batch.results) inThread(batch);
      w.out.clear();
      pump();
    };

    const start = (): PoolWorker | undefined => {
      let worker: Worker;
      try {
        worker = new Worker(script, { resourceLimits: WORKER_LIMITS });
      } catch {
        return undefined;
      }
      const w: PoolWorker = { worker, out: new Set(), alive: true };
      worker.on('message', (m: { seq: number; results: CheckedFile[] }) => {
        const batch = waiting.get(m.seq);
        if (!batch || batch.worker !== w || settled) return;
        batch.results = m.results;
        w.out.delete(batch);
        pump();
      });
      worker.on('error', () => lose(w));
      worker.on('messageerror', () => lose(w));
      worker.on('exit', () => lose(w));
      return w;
    };

    const startWorkers = (): void => {
      started = true;
      if (o.threads <= 0 || !fs.existsSync(script)) return;
      for (let i = 0; i < o.threads; i++) {
        const w = start();
        if (w) workers.push(w);
      }
    };
    pump();
  });
}

export interface FoldOptions {
  cwd: string;
  threads: number;
  inThreadFirst: number;
  cancelled?: () => boolean;
  /** Called after each batch with the count of inputs folded so far. */
  onProgress?: (done: number) => void;
  script?: string;
}

/**
 * Lists the inputs' files, checks them (in worker threads past the first `inThreadFirst`) and folds them into the
 * merger in the order listed. Resolves false when cancelled.
 */
export function foldFiles(merger: TeamMerger, inputs: readonly string[], o: FoldOptions): Promise<boolean> {
  let done = 0;
  const fold = (items: readonly MergeItem[], results: readonly CheckedFile[]): void => {
    let r = 0;
    for (const item of items) {
      if ('reason' in item) merger.refuse(item.input, item.reason);
      else {
        const checked = results[r++] as CheckedFile;
        if ('reduced' in checked) merger.addReduced(label(item.file, o.cwd), checked.reduced, checked.signer);
        else merger.refuse(label(item.file, o.cwd), checked.reason);
      }
    }
    done += items.length;
    o.onProgress?.(done);
  };
  return checkInWorkers(expandRollupInputs(inputs, o.cwd), {
    threads: o.threads,
    inThreadFirst: o.inThreadFirst,
    fold,
    ...(o.cancelled ? { cancelled: o.cancelled } : {}),
    ...(o.script ? { script: o.script } : {}),
  });
}
