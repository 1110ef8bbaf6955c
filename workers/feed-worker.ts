import { UnrecoverableError, type Job } from 'bullmq';
import type { JobWorker } from '../server/queues/connection';
import { FeedJob } from '../server/queues/feed-queue';
import { FEEDS_QUEUE } from '../server/queues/names';
import { onQueueError } from '../server/queues/connection';
import type { Deps } from '../server/wiring';

/**
 * Processes one stored feed batch to the end. At-least-once is fine: the batch row's cursor,
 * advanced in the same transaction as each chunk's effects, makes a repeat pick up where the last
 * run stopped.
 */
export const feedProcessor = (deps: Pick<Deps, 'services' | 'metrics'>) => async (job: Job): Promise<string> => {
  const parsed = FeedJob.safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError('feed job without a batch id');
  const outcome = await deps.services.feeds.processBatch(parsed.data.batchId);
  deps.metrics.jobsProcessed.inc({ queue: FEEDS_QUEUE, result: outcome });
  return outcome;
};

/** The feeds queue's worker. */
export function createFeedWorker(deps: Deps, options: { concurrency?: number } = {}): JobWorker {
  const { logger } = deps;
  const worker = deps.queues.worker(FEEDS_QUEUE, feedProcessor(deps), {
    // A batch is worked in order by one job; a few batches side by side keep one big feed from
    // holding up everyone else's.
    concurrency: options.concurrency ?? 2,
  });
  worker.on('error', onQueueError(logger, 'feed worker error'));
  worker.on('failed', (job, err) => {
    if (!deps.health.failed(err)) logger.warn({ jobId: job?.id, err: err.message }, 'feed job failed');
  });
  return worker;
}
