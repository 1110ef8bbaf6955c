import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { partnerQueueName } from './names';
import type { TaskJob } from './jobs';

export type RoutedTask = { id: string; institutionId: string | null; status: string };

const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Puts committed tasks on their institution's queue with jobId = task id, so repeats collapse.
 * A failure here is logged, never thrown: the row is the truth and the reconciler re-enqueues it.
 */
export class TaskDispatcher {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly connection: Redis,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  jobOptions(taskId: string): JobsOptions {
    return {
      jobId: taskId,
      attempts: this.config.workers.attempts,
      backoff: { type: 'exponential', delay: this.config.workers.backoffMs, jitter: 0.5 },
      removeOnComplete: { count: 5000, age: 24 * 3600 },
      removeOnFail: { count: 10000 },
    };
  }

  queueFor(institutionId: string): Queue {
    let q = this.queues.get(institutionId);
    if (!q) {
      q = new Queue(partnerQueueName(institutionId), {
        connection: this.connection,
        prefix: this.config.queuePrefix,
        skipWaitingForReady: true,
      });
      q.on('error', (err) => this.logger.warn({ err, institutionId }, 'queue error'));
      this.queues.set(institutionId, q);
    }
    return q;
  }

  /** Returns how many tasks were handed to Redis; the rest wait for the reconciler. */
  async enqueue(tasks: RoutedTask[]): Promise<number> {
    let sent = 0;
    for (const task of tasks) {
      if (task.status !== 'queued' || !task.institutionId) continue;
      const data: TaskJob = { taskId: task.id };
      try {
        await withTimeout(this.queueFor(task.institutionId).add('deliver', data, this.jobOptions(task.id)), ENQUEUE_TIMEOUT_MS);
        sent++;
      } catch (err) {
        this.logger.warn({ err, taskId: task.id }, 'enqueue failed; the reconciler will retry');
      }
    }
    return sent;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
