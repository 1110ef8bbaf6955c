import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { FEEDS_QUEUE } from './names';
import type { JobQueue, QueueConnection } from './connection';
import { clearFinishedJob, ENQUEUE_TIMEOUT_MS, retryingJobOptions, withTimeout } from './job-options';

/** A feed job names its batch only; the items are in PostgreSQL. */
export const FeedJob = z.object({ batchId: z.uuid() });
export type FeedJob = z.infer<typeof FeedJob>;

/**
 * Puts committed feed batches on the feeds queue with jobId = batch id. A failure is logged, never
 * thrown: the batch row is the truth, and the sweep re-enqueues a batch whose job went missing.
 */
export class FeedQueue {
  private queue: JobQueue | undefined;

  constructor(
    private readonly connection: QueueConnection,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  private get(): JobQueue {
    if (!this.queue) {
      this.queue = this.connection.queue(FEEDS_QUEUE);
    }
    return this.queue;
  }

  jobOptions(batchId: string): JobsOptions {
    return retryingJobOptions(this.config, batchId, { completed: 1000, failed: 1000 });
  }

  async enqueue(batchId: string): Promise<boolean> {
    // With the queue store known to be down, do not make the partner wait for a timeout: the batch is committed.
    if (!this.connection.available()) {
      this.logger.warn({ batchId, backend: this.connection.backend }, 'queue store not ready; batch left for the sweep');
      return false;
    }
    const data: FeedJob = { batchId };
    try {
      await withTimeout(this.get().add('process', data, this.jobOptions(batchId)), ENQUEUE_TIMEOUT_MS);
      return true;
    } catch (err) {
      this.logger.warn({ err, batchId }, 'feed enqueue failed; the sweep will retry');
      return false;
    }
  }

  /**
   * Makes sure a live job exists for the batch. A finished job with the same id would swallow a
   * plain add, so one that is no longer waiting or running is removed first.
   */
  async ensureEnqueued(batchId: string): Promise<'live' | 'enqueued' | 'failed'> {
    try {
      if ((await withTimeout(clearFinishedJob(this.get(), batchId), ENQUEUE_TIMEOUT_MS)) === 'live') return 'live';
    } catch (err) {
      this.logger.warn({ err, batchId }, 'feed job check failed');
      return 'failed';
    }
    return (await this.enqueue(batchId)) ? 'enqueued' : 'failed';
  }

  async close(): Promise<void> {
    await this.queue?.close().catch(() => undefined);
    this.queue = undefined;
  }
}
