import type { Config } from './config';
import type { Db } from './db';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { TaskDispatcher } from './queues/dispatcher';

/** What every service is built from; wiring.ts makes one per process. */
export type ServiceContext = {
  config: Config;
  logger: Logger;
  db: Db;
  /** A small pool for short reads on the hot paths (token checks, lookups), apart from the writes. */
  readDb: Db;
  dispatcher: TaskDispatcher;
  metrics: Metrics;
};
