import type { Db } from '../db';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { isQueuedAt, staleQueuedTasks, staleSimulatedTasks } from '../tasks/task-lifecycle.repo';
import type { TaskDispatcher } from './dispatcher';
import type { MaintenanceQueue } from './maintenance';
import { clearFinishedJob } from './job-options';
import { dependencyOf } from '../errors';

const BATCH = 1000;

export type ReconcileReport = { checked: number; requeued: number; simulatedRescheduled: number };

/**
 * PostgreSQL is the record, Redis only carries work: any task still `queued` a few seconds after
 * its last change with no live job gets its job back (jobId = task id, so racing reconcilers in
 * several processes collapse into one job). Covers a crash between commit and enqueue, an enqueue
 * while Redis was down, and a Redis that came back empty.
 */
export class Reconciler {
  constructor(
    private readonly db: Db,
    private readonly dispatcher: TaskDispatcher,
    private readonly maintenance: MaintenanceQueue | undefined,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly pageSize = BATCH,
  ) {}

  /** Where the last pass stopped: each pass takes the next page, and starts over after the last. */
  private resumeAfter: { updatedAt: string; id: string } | undefined;

  async runOnce(): Promise<ReconcileReport> {
    const report: ReconcileReport = { checked: 0, requeued: 0, simulatedRescheduled: 0 };
    const stale = await staleQueuedTasks(this.db, this.config.workers.reconcileMinAgeMs, this.pageSize, this.resumeAfter);
    const last = stale[stale.length - 1];
    this.resumeAfter = stale.length === this.pageSize && last ? { updatedAt: last.updatedAt, id: last.id } : undefined;
    const lost: { id: string; institutionId: string; status: 'queued' }[] = [];
    for (const task of stale) {
      report.checked++;
      try {
        // A finished job with this id would swallow the re-add (same jobId), so it goes first, unless it
        // finished since the page was read and the task is no longer queued there (its last attempt
        // failed: the failed job is the record of that, and the task waits for its paced retry).
        const room = await clearFinishedJob(this.dispatcher.queueFor(task.institutionId), task.id, () => isQueuedAt(this.db, task.id, task.institutionId));
        if (room !== 'free') continue;
      } catch (err) {
        // The queue store is gone: the rest of the page would fail alike, a line each; the pass ends,
        // and the process's dependency watch says it once.
        if (dependencyOf(err, 'redis') || dependencyOf(err)) throw err;
        this.logger.warn({ err, taskId: task.id }, 'could not clear the finished job of a queued task');
        continue;
      }
      lost.push({ id: task.id, institutionId: task.institutionId, status: 'queued' });
    }
    report.requeued = await this.dispatcher.enqueue(lost);

    if (this.maintenance) {
      // A simulated partner's delayed answer lives only in Redis; if Redis lost it, schedule it again.
      const olderThan = this.config.workers.simulatedDelayMs + this.config.workers.reconcileMinAgeMs;
      for (const taskId of await staleSimulatedTasks(this.db, olderThan, this.pageSize)) {
        if (await this.maintenance.hasSimulatedResult(taskId)) continue;
        await this.maintenance.scheduleSimulatedResult(taskId);
        report.simulatedRescheduled++;
      }
    }

    if (report.requeued > 0 || report.simulatedRescheduled > 0) this.logger.info(report, 'reconciler re-enqueued lost work');
    return report;
  }
}
