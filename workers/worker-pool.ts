import type { Processor, WorkerOptions } from 'bullmq';
import type { JobWorker, QueueConnection } from '../server/queues/connection';
import { activePartnerIds } from '../server/admin/institutions.repo';
import type { Config } from '../server/config';
import type { Db } from '../server/db';
import type { Logger } from '../server/logger';
import { partnerQueueName } from '../server/queues/names';
import { onQueueError } from '../server/queues/connection';
import type { DependencyWatch } from '../server/dependencies';

export type WorkerTuning = Partial<Pick<WorkerOptions, 'lockDuration' | 'stalledInterval' | 'maxStalledCount' | 'drainDelay'>>;

/**
 * Closes a worker, letting its active jobs finish. Past the deadline it stops waiting (BullMQ cannot
 * turn a graceful close into a forced one); the jobs still running are redone elsewhere once their
 * locks lapse. `force` stops at once, as a crash would.
 */
export async function closeWorker(worker: JobWorker, timeoutMs: number, logger: Logger, force = false): Promise<void> {
  if (force) {
    await worker.close(true);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const closing = worker.close().then(() => 'closed' as const);
  closing.catch((err) => logger.error({ err, queue: worker.name }, 'error while closing a worker'));
  try {
    if ((await Promise.race([closing, timedOut])) === 'timeout') {
      logger.warn({ queue: worker.name, timeoutMs }, 'worker did not drain in time; leaving its jobs to be redone elsewhere');
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One BullMQ Worker per active partner institution, kept in step with the institutions table:
 * institutions are data, so a new one gets a worker on the next poll and a deactivated one is
 * drained and closed, with no restart.
 */
export class PartnerWorkerPool {
  private readonly workers = new Map<string, JobWorker>();
  private readonly closing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly connection: QueueConnection,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly health: DependencyWatch,
    private readonly processorFor: (institutionId: string) => Processor,
    private readonly tuning: WorkerTuning = {},
  ) {}

  /** Institutions that currently have a running worker. */
  get institutionIds(): string[] {
    return [...this.workers.keys()].sort();
  }

  start(): void {
    void this.sync();
    this.timer = setInterval(() => void this.sync(), this.config.workers.institutionPollMs);
    this.timer.unref();
  }

  /** Brings the set of workers in line with the active institutions; one sync at a time. */
  sync(): Promise<void> {
    this.syncing ??= this.doSync().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async doSync(): Promise<void> {
    // While PostgreSQL or its schema is missing the watch probes it; the workers stay as they are.
    if (this.stopped || !this.health.isUp('postgres') || !this.health.isUp('migrations')) return;
    let wanted: Set<string>;
    try {
      wanted = await activePartnerIds(this.db);
    } catch (err) {
      if (!this.health.failed(err)) this.logger.error({ err }, 'cannot read institutions; keeping the current workers');
      return;
    }
    if (this.stopped) return;
    for (const id of wanted) if (!this.workers.has(id)) this.startWorker(id);
    for (const id of [...this.workers.keys()]) if (!wanted.has(id)) this.stopWorker(id);
  }

  private startWorker(institutionId: string): void {
    const { workers: w } = this.config;
    const worker = this.connection.worker(partnerQueueName(institutionId), this.processorFor(institutionId), {
      concurrency: w.concurrency,
      limiter: { max: w.rateMax, duration: w.rateDurationMs },
      ...this.tuning,
    });
    worker.on('error', onQueueError(this.logger, 'partner worker error', { institutionId }));
    worker.on('failed', (job, err) => {
      if (this.health.failed(err)) return;
      this.logger.warn({ institutionId, taskId: job?.id, attemptsMade: job?.attemptsMade, err: err.message }, 'partner job failed');
    });
    this.workers.set(institutionId, worker);
    this.logger.info({ institutionId }, 'partner worker started');
  }

  private stopWorker(institutionId: string, force = false): void {
    const worker = this.workers.get(institutionId);
    if (!worker) return;
    this.workers.delete(institutionId);
    const p = closeWorker(worker, this.config.workers.shutdownTimeoutMs, this.logger, force)
      .then(() => this.logger.info({ institutionId }, 'partner worker drained and stopped'))
      .catch((err) => this.logger.error({ err, institutionId }, 'error while stopping a partner worker'))
      .finally(() => this.closing.delete(p));
    this.closing.add(p);
  }

  /** Drains every worker (under the shutdown timeout); `force` stops them at once. */
  async close(force = false): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.syncing;
    for (const id of [...this.workers.keys()]) this.stopWorker(id, force);
    await Promise.all([...this.closing]);
  }
}
