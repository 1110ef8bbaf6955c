import type { JobsOptions } from 'bullmq';
import type DataLoader from 'dataloader';
import { coalesced } from '../coalesce';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { partnerQueueName } from './names';
import { dependencyOf } from '../errors';
import type { TaskJob } from './jobs';
import type { JobQueue, QueueConnection } from './connection';
import { clearFinishedJob, ENQUEUE_TIMEOUT_MS, retryingJobOptions, withTimeout } from './job-options';

export type RoutedTask = { id: string; institutionId: string | null; status: string };

/**
 * Puts committed tasks on their institution's queue with jobId = task id, so repeats collapse.
 * A failure here is logged, never thrown: the row is the truth and the reconciler re-enqueues it.
 */
export class TaskDispatcher {
  private readonly queues = new Map<string, JobQueue>();
  /** Per institution: the tasks enqueued at about the same time (many reports at once) go in one addBulk. */
  private readonly batches = new Map<string, DataLoader<string, boolean, string>>();

  constructor(
    private readonly connection: QueueConnection,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  jobOptions(taskId: string): JobsOptions {
    return retryingJobOptions(this.config, taskId, { completed: 5000, failed: 10000 });
  }

  queueFor(institutionId: string): JobQueue {
    let q = this.queues.get(institutionId);
    if (!q) {
      q = this.connection.queue(partnerQueueName(institutionId));
      this.queues.set(institutionId, q);
    }
    return q;
  }

  /** Returns how many tasks were handed to the queues; the rest wait for the reconciler. */
  async enqueue(tasks: RoutedTask[]): Promise<number> {
    const routed = tasks.filter((t): t is RoutedTask & { institutionId: string } => t.status === 'queued' && Boolean(t.institutionId));
    if (routed.length === 0) return 0;
    // With the queue store known to be down, do not make the caller wait for timeouts: the rows are committed.
    if (!this.connection.available()) {
      // Debug only: the DependencyWatch has said once that the store is gone; a line per report would flood.
      this.logger.debug({ tasks: routed.length, backend: this.connection.backend }, 'queue store not ready; tasks left for the reconciler');
      return 0;
    }
    const byInstitution = new Map<string, string[]>();
    for (const t of routed) byInstitution.set(t.institutionId, [...(byInstitution.get(t.institutionId) ?? []), t.id]);
    const sent = await Promise.all(
      [...byInstitution].map(async ([institutionId, ids]) => {
        const taken = await this.batchFor(institutionId).loadMany(ids);
        return taken.filter((ok) => ok === true).length;
      }),
    );
    return sent.reduce((a, b) => a + b, 0);
  }

  /**
   * Puts tasks that were delivered before (a retry, a reassignment, a probe) on their queue again:
   * the finished job under the task's id would swallow the new one, so it goes first; a job that
   * will still run is left alone. A probe is one delivery without retries. As with enqueue, a
   * failure is logged and the reconciler finds the queued rows. Answers how many jobs were added.
   */
  async requeue(tasks: RoutedTask[], opts: { probe?: boolean } = {}): Promise<number> {
    const routed = tasks.filter((t): t is RoutedTask & { institutionId: string } => t.status === 'queued' && Boolean(t.institutionId));
    if (routed.length === 0 || !this.connection.available()) return 0;
    const added = await Promise.all(routed.map(async (t) => {
      try {
        const queue = this.queueFor(t.institutionId);
        if ((await withTimeout(clearFinishedJob(queue, t.id), ENQUEUE_TIMEOUT_MS)) === 'live') return false;
        if (!opts.probe) return (await this.enqueue([t])) === 1;
        const data: TaskJob = { taskId: t.id, probe: true };
        await withTimeout(queue.add('deliver', data, { ...this.jobOptions(t.id), attempts: 1 }), ENQUEUE_TIMEOUT_MS);
        return true;
      } catch (err) {
        this.logger.debug({ err, taskId: t.id }, 'requeue failed; the reconciler will retry');
        return false;
      }
    }));
    return added.filter(Boolean).length;
  }

  private batchFor(institutionId: string): DataLoader<string, boolean, string> {
    let batch = this.batches.get(institutionId);
    if (!batch) {
      batch = coalesced(async (ids: readonly string[]) => {
        const jobs = ids.map((id) => ({ name: 'deliver', data: { taskId: id } satisfies TaskJob, opts: this.jobOptions(id) }));
        try {
          await withTimeout(this.queueFor(institutionId).addBulk(jobs), ENQUEUE_TIMEOUT_MS);
          return ids.map(() => true);
        } catch (err) {
          const lost = dependencyOf(err, 'redis') !== undefined || /timed out/.test(err instanceof Error ? err.message : '');
          this.logger[lost ? 'debug' : 'warn']({ err, institutionId, tasks: ids.length }, 'enqueue failed; the reconciler will retry');
          return ids.map(() => false);
        }
      }, { maxBatchSize: 1000 });
      this.batches.set(institutionId, batch);
    }
    return batch;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
    this.batches.clear();
  }
}
