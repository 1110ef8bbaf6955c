import type { Redis } from 'ioredis';
import type passport from 'passport';
import type { Config } from './config';
import type { ServiceContext } from './context';
import { createDb } from './db';
import { createLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import { createRedis } from './queues/connection';
import { TaskDispatcher } from './queues/dispatcher';
import { buildPassport } from './auth/passport';
import { AuthService } from './auth/auth.service';
import { AdminService } from './admin/admin.service';
import { ReportsService } from './reports/reports.service';
import { TasksService } from './tasks/tasks.service';
import { TaskResultsService } from './tasks/task-results.service';
import { TaskLifecycleService } from './tasks/task-lifecycle.service';
import { StatsService } from './stats/stats.service';

export type Services = {
  auth: AuthService;
  admin: AdminService;
  reports: ReportsService;
  tasks: TasksService;
  taskResults: TaskResultsService;
  taskLifecycle: TaskLifecycleService;
  stats: StatsService;
};

export type Deps = ServiceContext & {
  redis: Redis;
  passport: passport.PassportStatic;
  services: Services;
  close(): Promise<void>;
};

/** Builds everything a web or worker process needs from the config; nothing here listens or starts work. */
export function createDeps(config: Config, logger: Logger = createLogger(config.logLevel)): Deps {
  const db = createDb(config.databaseUrl, config.databasePoolMax);
  const redis = createRedis(config.redisUrl, 'producer');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const metrics = createMetrics();
  const dispatcher = new TaskDispatcher(redis, config, logger);
  const ctx: ServiceContext = { config, logger, db, dispatcher, metrics };

  const tasks = new TasksService(ctx);
  const services: Services = {
    auth: new AuthService(ctx),
    admin: new AdminService(ctx),
    reports: new ReportsService(ctx, tasks),
    tasks,
    taskResults: new TaskResultsService(ctx, tasks),
    taskLifecycle: new TaskLifecycleService(ctx),
    stats: new StatsService(ctx),
  };

  return {
    ...ctx,
    redis,
    services,
    passport: buildPassport(config, (actor) => services.auth.isActive(actor)),
    async close() {
      await dispatcher.close();
      redis.disconnect();
      await db.destroy();
    },
  };
}
