import type { Config } from '../server/config';
import { loadConfig } from '../server/config';
import { onShutdown } from '../server/lifecycle';
import { createLogger, type Logger } from '../server/logger';
import { onQueueError, type JobWorker } from '../server/queues/connection';
import { MaintenanceQueue } from '../server/queues/maintenance';
import { MAINTENANCE_QUEUE } from '../server/queues/names';
import { Reconciler, type ReconcileReport } from '../server/queues/reconciler';
import { DeliveryRetrier } from '../server/queues/delivery-retrier';
import { createDeps } from '../server/wiring';
import type { Adapters } from './adapters/adapter';
import { manualAdapter } from './adapters/manual';
import { simulatedAdapter } from './adapters/simulated';
import { webhookAdapter } from './adapters/webhook';
import { maintenanceProcessor } from './maintenance-worker';
import { partnerProcessor } from './partner-worker';
import { createFeedWorker } from './feed-worker';
import { closeWorker, PartnerWorkerPool, type WorkerTuning } from './worker-pool';

export type WorkerProcess = {
  pool: PartnerWorkerPool;
  /** One reconcile pass now (the process also runs one every config.workers.reconcileIntervalMs). */
  reconcileOnce(): Promise<ReconcileReport>;
  /** Graceful: active jobs finish (under config.workers.shutdownTimeoutMs). `force` stops at once, like a crash. */
  close(opts?: { force?: boolean }): Promise<void>;
};

export type WorkerProcessOptions = {
  /** Lock and stall settings for the partner workers (tests shorten them). */
  tuning?: WorkerTuning;
  /** Run the reconciler on its timer (default true). */
  reconcile?: boolean;
};

/** Starts one worker per active partner institution, the maintenance worker and the reconciler. */
export function startWorkers(config: Config, logger: Logger = createLogger(config.logLevel, { process: 'workers' }), options: WorkerProcessOptions = {}): WorkerProcess {
  const deps = createDeps(config, logger);
  const maintenance = new MaintenanceQueue(deps.queues, config);
  const adapters: Adapters = {
    manual: manualAdapter,
    webhook: webhookAdapter({
      timeoutMs: config.workers.webhookTimeoutMs, allowedHosts: config.workers.webhookAllowedHosts, centerName: config.centerName,
    }),
    simulated: simulatedAdapter(maintenance, config.workers.simulatedReturnDelayMs),
  };
  void deps.health.start();
  const pool = new PartnerWorkerPool(deps.db, deps.queues, config, logger, deps.health, (id) => partnerProcessor(deps, adapters, id), options.tuning);

  // Queue workers wait for a complete schema: on an unmigrated database there is nothing to work,
  // and a BullMQ worker on PostgreSQL without its queue tables spins without end.
  let maintenanceWorker: JobWorker | undefined;
  let feeds: JobWorker | undefined;
  let closing = false;
  void deps.health.schemaReady.then(() => {
    if (closing) return;
    pool.start();
    maintenanceWorker = deps.queues.worker(MAINTENANCE_QUEUE, maintenanceProcessor(deps), { concurrency: config.workers.concurrency });
    maintenanceWorker.on('error', onQueueError(logger, 'maintenance worker error'));
    maintenanceWorker.on('failed', (job, err) => {
      if (!deps.health.failed(err)) logger.warn({ job: job?.name, jobId: job?.id, err: err.message }, 'maintenance job failed');
    });
    feeds = createFeedWorker(deps);
  });

  const reconciler = new Reconciler(deps.db, deps.dispatcher, maintenance, config, logger);
  const retrier = new DeliveryRetrier(deps.db, deps.services.taskLifecycle, config, logger);
  const reconcileOnce = async (): Promise<ReconcileReport> => {
    await deps.queues.readyWithin(2000);
    const report = await reconciler.runOnce();
    // Institutions whose deliveries ran out get a probe when their wait is over.
    await retrier.runOnce();
    // Feed batches left processing without a live job go back on the feeds queue the same way.
    await deps.services.feeds.sweep();
    // The rollup deltas of the last interval go into the rollup tables (readers add any left over).
    await deps.services.stats.fold();
    await maintenance.ensureOverdueScheduler();
    await maintenance.ensureHoldExpiryScheduler();
    return report;
  };
  let ticking: Promise<void> | undefined;
  const tick = () => {
    // Nothing to reconcile against while a dependency is missing: the watch probes it with a backoff
    // and says when it is back; the next tick after that does the work.
    if (!deps.health.isUp()) return Promise.resolve();
    ticking ??= reconcileOnce()
      .then(() => undefined)
      .catch((err) => {
        if (!deps.health.failed(err) && !deps.health.failed(err, 'redis')) {
          logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'reconcile pass failed; trying again on the next tick');
        }
      })
      .finally(() => {
        ticking = undefined;
      });
    return ticking;
  };
  const timer = options.reconcile === false ? undefined : setInterval(() => void tick(), config.workers.reconcileIntervalMs);
  timer?.unref();
  if (timer) void tick();

  let closed: Promise<void> | undefined;
  return {
    pool,
    reconcileOnce,
    close(opts = {}) {
      closed ??= (async () => {
        closing = true;
        clearInterval(timer);
        await ticking;
        await Promise.allSettled([
          pool.close(opts.force ?? false),
          maintenanceWorker && closeWorker(maintenanceWorker, config.workers.shutdownTimeoutMs, logger),
          feeds && closeWorker(feeds, config.workers.shutdownTimeoutMs, logger),
        ]);
        await maintenance.close().catch(() => undefined);
        await deps.close();
      })();
      return closed;
    },
  };
}

if (require.main === module) {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { process: 'workers' });
  const workers = startWorkers(config, logger);
  logger.info('workers started');
  onShutdown(logger, config.workers.shutdownTimeoutMs + 5000, [workers.close]);
}
