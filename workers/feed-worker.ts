import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { FeedJob } from '../server/queues/feed-queue';
import { FEEDS_QUEUE } from '../server/queues/names';
import type { Deps } from '../server/wiring';
import { closeWorker } from './worker-pool';

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

export type FeedWorker = {
  worker: Worker;
  /** One pass of the sweep that re-enqueues batches left processing without a job. */
  sweepOnce(): Promise<number>;
  close(): Promise<void>;
};

export type FeedWorkerOptions = {
  /** Run the sweep at start and every config.workers.reconcileIntervalMs (default true). */
  sweep?: boolean;
  concurrency?: number;
};

/** The feeds queue's worker and its sweep; `connection` is a worker-role Redis connection. */
export function createFeedWorker(deps: Deps, connection: Redis, options: FeedWorkerOptions = {}): FeedWorker {
  const { config, logger } = deps;
  const worker = new Worker(FEEDS_QUEUE, feedProcessor(deps), {
    connection,
    prefix: config.queuePrefix,
    // A batch is worked in order by one job; a few batches side by side keep one big feed from
    // holding up everyone else's.
    concurrency: options.concurrency ?? 2,
  });
  worker.on('error', (err) => logger.error({ err }, 'feed worker error'));
  worker.on('failed', (job, err) => logger.warn({ jobId: job?.id, err: err.message }, 'feed job failed'));

  const sweepOnce = () => deps.services.feeds.sweep();
  let sweeping = false;
  const tick = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      await sweepOnce();
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'feed sweep failed; trying again on the next tick');
    } finally {
      sweeping = false;
    }
  };
  const timer = options.sweep === false ? undefined : setInterval(() => void tick(), config.workers.reconcileIntervalMs);
  timer?.unref();
  if (timer) void tick();

  return {
    worker,
    sweepOnce,
    async close() {
      clearInterval(timer);
      await closeWorker(worker, config.workers.shutdownTimeoutMs, logger);
    },
  };
}
