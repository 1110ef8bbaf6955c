import { z } from 'zod';
import type { Config } from '../config';
import { MAINTENANCE_QUEUE } from './names';
import type { JobQueue, QueueConnection } from './connection';
import { retryingJobOptions } from './job-options';

export const SIMULATED_RESULT_JOB = 'simulated-result';
export const OVERDUE_SCAN_JOB = 'overdue-scan';
const OVERDUE_SCHEDULER_ID = 'overdue-scan';
export const HOLD_EXPIRY_SCAN_JOB = 'hold-expiry-scan';
const HOLD_EXPIRY_SCHEDULER_ID = 'hold-expiry-scan';

/** Ids only, as on every queue. */
export const SimulatedResultJob = z.object({ taskId: z.uuid() });
export type SimulatedResultJob = z.infer<typeof SimulatedResultJob>;

export const simulatedJobId = (taskId: string) => `sim-${taskId}`;

/** The system queue: the simulated partners' delayed answers and the repeatable overdue and hold expiry scans. */
export class MaintenanceQueue {
  readonly queue: JobQueue;

  constructor(connection: QueueConnection, private readonly config: Config) {
    this.queue = connection.queue(MAINTENANCE_QUEUE);
  }

  /** One answer per task (jobId), so a delivery that runs twice schedules it once. */
  async scheduleSimulatedResult(taskId: string, delayMs = this.config.workers.simulatedDelayMs): Promise<void> {
    const data: SimulatedResultJob = { taskId };
    await this.queue.add(SIMULATED_RESULT_JOB, data, {
      ...retryingJobOptions(this.config, simulatedJobId(taskId), { completed: 5000, failed: 10000 }),
      delay: delayMs,
    });
  }

  /**
   * Whether an answer job will run, or ran, for the task. A failed one (its attempts spent while
   * PostgreSQL was away) is removed and answers false, so the answer is scheduled again instead of
   * leaving the task dispatched for ever.
   */
  async hasSimulatedResult(taskId: string): Promise<boolean> {
    const job = await this.queue.getJob(simulatedJobId(taskId));
    if (!job) return false;
    if ((await job.getState()) !== 'failed') return true;
    await job.remove();
    return false;
  }

  /** Idempotent: every worker process calls it on each reconcile tick, so an emptied Redis gets it back. */
  async ensureOverdueScheduler(): Promise<void> {
    await this.queue.upsertJobScheduler(
      OVERDUE_SCHEDULER_ID,
      { every: this.config.workers.overdueScanMs },
      { name: OVERDUE_SCAN_JOB, data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } } },
    );
  }

  /** Idempotent, like the overdue scan's: holds past their expiry lapse every HOLD_SCAN_MS. */
  async ensureHoldExpiryScheduler(): Promise<void> {
    await this.queue.upsertJobScheduler(
      HOLD_EXPIRY_SCHEDULER_ID,
      { every: this.config.workers.holdScanMs },
      { name: HOLD_EXPIRY_SCAN_JOB, data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 1000 } } },
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
