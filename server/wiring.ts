import type passport from 'passport';
import type { Config } from './config';
import type { ServiceContext } from './context';
import { createDb } from './db';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { createQueueConnection, type QueueConnection } from './queues/connection';
import { createRateLimitStores, type RateLimitStores } from './http/rate-limit-store';
import { TaskDispatcher } from './queues/dispatcher';
import { DependencyWatch } from './dependencies';
import { buildPassport } from './auth/passport';
import { AuthService } from './auth/auth.service';
import { AdminService } from './admin/admin.service';
import { ReportsService } from './reports/reports.service';
import { CaseClosingService } from './reports/case-closing.service';
import { activeHeldBalances } from './reports/reports.repo';
import { TasksService } from './tasks/tasks.service';
import { TaskEngine } from './tasks/task-engine';
import { TaskResultsService } from './tasks/task-results.service';
import { TaskLifecycleService } from './tasks/task-lifecycle.service';
import { StatsService } from './stats/stats.service';
import { FeedQueue } from './queues/feed-queue';
import { FeedsService } from './feeds/feeds.service';
import { IndicatorsService } from './indicators/indicators.service';
import { ScreeningService } from './screening/screening.service';
import { CaseStatusService } from './victims/case-status.service';
import { HoldsService } from './holds/holds.service';
import { EscalationsService } from './tasks/escalations.service';

export type Services = {
  auth: AuthService;
  admin: AdminService;
  reports: ReportsService;
  caseClosing: CaseClosingService;
  tasks: TasksService;
  engine: TaskEngine;
  taskResults: TaskResultsService;
  taskLifecycle: TaskLifecycleService;
  stats: StatsService;
  feeds: FeedsService;
  indicators: IndicatorsService;
  screening: ScreeningService;
  caseStatus: CaseStatusService;
  holds: HoldsService;
  escalations: EscalationsService;
};

export type Deps = ServiceContext & {
  /** Where the queues live (Redis or PostgreSQL): every Queue and Worker is made through it. */
  queues: QueueConnection;
  /**
   * The shared store of a rate limiter or quota (express-rate-limit's `store`), so every web process
   * counts against one budget: Redis on the Redis queue backend, PostgreSQL on the PostgreSQL one.
   */
  rateLimitStores: RateLimitStores;
  health: DependencyWatch;
  passport: passport.PassportStatic;
  services: Services;
  close(): Promise<void>;
};

/** Builds everything a web or worker process needs from the config; nothing here listens or starts work. */
export function createDeps(config: Config, logger: Logger = createLogger(config.logLevel)): Deps {
  const db = createDb(config.databaseUrl, config.databasePoolMax, logger);
  const readDb = createDb(config.databaseUrl, config.databaseReadPoolMax, logger);
  const queues = createQueueConnection(config, logger);
  // Says once when PostgreSQL, its schema or the queue store goes and when it is back; readiness asks it.
  const health = new DependencyWatch(db, queues, logger);
  const metrics = createMetrics();
  const dispatcher = new TaskDispatcher(queues, config, logger);
  const ctx: ServiceContext = { config, logger, db, readDb, dispatcher, metrics };

  const engine = new TaskEngine(ctx);
  const taskResults = new TaskResultsService(ctx, engine);
  const feedQueue = new FeedQueue(queues, config, logger);
  const indicators = new IndicatorsService(ctx);
  const caseStatus = new CaseStatusService(ctx);
  const taskLifecycle = new TaskLifecycleService(ctx, engine);
  const services: Services = {
    auth: new AuthService(ctx),
    admin: new AdminService(ctx, engine),
    reports: new ReportsService(ctx, engine, caseStatus),
    caseClosing: new CaseClosingService(ctx, activeHeldBalances, (trx, actor, id, reason) => taskLifecycle.cancelOpenTasksOfReport(trx, actor, id, reason)),
    tasks: new TasksService(ctx),
    engine,
    taskResults,
    taskLifecycle,
    stats: new StatsService(ctx),
    // A task result by feed is the same use case as POST /tasks/:id/result.
    feeds: new FeedsService(ctx, engine, taskResults, feedQueue),
    indicators,
    // Screening reads payees as a lookup does (the same normalization cache and statement).
    screening: new ScreeningService(ctx, indicators, engine),
    caseStatus,
    holds: new HoldsService(ctx, engine),
    escalations: new EscalationsService(ctx),
  };

  return {
    ...ctx,
    queues,
    rateLimitStores: createRateLimitStores(queues, db, config),
    health,
    services,
    passport: buildPassport(config, (holder) => services.auth.currentActor(holder)),
    async close() {
      health.close();
      await dispatcher.close();
      await feedQueue.close();
      await Promise.all([queues.close(), db.destroy(), readDb.destroy()]);
    },
  };
}

/**
 * One `make(deps)` per wiring, made on first use: what every route of one app must share (a
 * limiter's counters, say) without every app having to build it up front.
 */
export function perDeps<T>(make: (deps: Deps) => T): (deps: Deps) => T {
  const made = new WeakMap<Deps, T>();
  return (deps) => {
    if (!made.has(deps)) made.set(deps, make(deps));
    return made.get(deps)!;
  };
}
