import type { JobsOptions } from 'bullmq';
import type { JobQueue } from './connection';
import type { Config } from '../config';

/** Job states in which a job will still run; any other job with the same id would swallow a re-add. */
const LIVE_JOB_STATES: ReadonlySet<string> = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

/**
 * Retries with exponential backoff and jitter, and bounded history: every queue of ours uses these,
 * with the job id naming the row the job is about, so repeats collapse.
 */
export function retryingJobOptions(config: Config, jobId: string, keep: { completed: number; failed: number }): JobsOptions {
  return {
    jobId,
    attempts: config.workers.attempts,
    backoff: { type: 'exponential', delay: config.workers.backoffMs, jitter: 0.5 },
    removeOnComplete: { count: keep.completed, age: 24 * 3600 },
    removeOnFail: { count: keep.failed },
  };
}

/**
 * Makes room for a fresh job under `jobId`: 'live' when one will still run (nothing to do),
 * otherwise a finished one is removed and 'free' is answered. With `stillWanted`, a finished job is
 * kept, and 'settled' answered, unless it still says yes: a job that finished after the caller last
 * read its task has already written what it did (a delivery, a failure), so the read is stale.
 */
export async function clearFinishedJob(queue: JobQueue, jobId: string, stillWanted?: () => Promise<boolean>): Promise<'live' | 'free' | 'settled'> {
  const job = await queue.getJob(jobId);
  if (!job) return 'free';
  if (LIVE_JOB_STATES.has(await job.getState())) return 'live';
  if (stillWanted && !(await stillWanted())) return 'settled';
  await job.remove();
  return 'free';
}

/** How long a producer waits for Redis to take a job before leaving it to the reconcile pass. */
export const ENQUEUE_TIMEOUT_MS = 2000;

/** Rejects after `ms`: a producer never waits on a Redis that is not answering. */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
