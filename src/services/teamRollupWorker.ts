/**
 * The worker threads of a team merge (services/teamRollupPool.ts), built on their own into dist/teamRollupWorker.js
 * (scripts/build.mjs). Two roles:
 * - merge (`workerData` is a `MergeJob`): lists the files, has them checked by checking workers, folds them into the
 *   merger and sends back the report, so the thread that asked keeps a small heap however many files there are;
 * - check (no `workerData`): answers each batch of file paths with the files read, checked and reduced
 *   (`checkBatch`), the batch's figures in one transferred buffer.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { TeamMerger } from '../core/team/merge';
import { SpillContributionStore } from '../store/contributionSpill';
import { checkBatch } from './teamRollupFile';
import { foldFiles, type BatchRequest, type MergeJob, type MergeMessage } from './teamRollupPool';

async function merge(port: MessagePort, job: MergeJob): Promise<void> {
  let cancelled = false;
  port.on('message', (m: { type?: string }) => {
    if (m.type === 'cancel') cancelled = true;
  });
  const say = (m: MergeMessage): void => port.postMessage(m);
  const store = new SpillContributionStore();
  try {
    const merger = new TeamMerger({ store, ...(job.roster ? { roster: job.roster } : {}) });
    const complete = await foldFiles(merger, job.inputs, {
      cwd: job.cwd,
      threads: job.threads,
      inThreadFirst: job.inThreadFirst,
      cancelled: () => cancelled,
      onProgress: (done) => say({ type: 'progress', done }),
    });
    if (!complete) say({ type: 'cancelled' });
    else
      say({
        type: 'done',
        report: merger.result(job.k, job.generatedAt, job.published),
        members: [...merger.memberSet()].sort(),
      });
  } catch (e) {
    say({ type: 'failed', message: e instanceof Error ? e.message : String(e) });
  } finally {
    store.close();
  }
}

const port = parentPort;
const job = workerData as MergeJob | null | undefined;
if (port && job?.role === 'merge') void merge(port, job);
else {
  port?.on('message', (m: BatchRequest) => {
    const { results, buffer } = checkBatch(m.files);
    port.postMessage({ seq: m.seq, results }, [buffer]);
  });
}
