import { createPostgresBackend, Queue, runMigrations, Worker, type IQueueBackend, type Processor, type WorkerOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { dependencyOf } from '../errors';

/** A queue or a worker of ours, whichever backend carries it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobQueue = Queue<any, any, string, any, any, string, IQueueBackend, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobWorker = Worker<any, any, string, IQueueBackend, any, any>;

/** What a worker may be told besides its processor: everything but where it connects. */
export type JobWorkerOptions = Omit<WorkerOptions, 'connection' | 'prefix'>;

/** The schema BullMQ's PostgreSQL backend keeps its tables in (its default). */
export const QUEUE_SCHEMA = 'bullmq';

/**
 * Where the queues live, and the one maker of every Queue and Worker of ours: Redis (the
 * production default) or BullMQ's PostgreSQL backend (no Redis needed). Producers of a process
 * share one connection (Redis) or one pool (PostgreSQL); workers get their own blocking one.
 */
export interface QueueConnection {
  readonly backend: Config['queueBackend'];
  /** The producer Redis connection, on the Redis backend only. */
  readonly redis: Redis | undefined;
  /** A producer-side queue. It does not wait for its store to be ready; its errors are logged. */
  queue(name: string): JobQueue;
  /** A worker, blocking on a connection of its own. */
  worker(name: string, processor: Processor, options: JobWorkerOptions): JobWorker;
  /**
   * False while the store is known to be unreachable, so a producer leaves the work to the
   * reconciler at once instead of waiting for a timeout (Redis: the connection is not ready).
   */
  available(): boolean;
  /** Resolves when the store answers: readiness. */
  ping(): Promise<void>;
  /** Waits up to `ms` for the store just after start (a producer connection still connecting). */
  readyWithin(ms: number): Promise<void>;
  /** Everything every queue of this prefix holds is gone, as after a store restarted empty. Tests and benchmarks only. */
  forgetAllJobs(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Producers fail fast (no offline queue) so an HTTP request never hangs on a dead Redis:
 * the row is already committed and the reconciler enqueues it later.
 * Workers block and retry forever, as BullMQ requires (maxRetriesPerRequest: null).
 */
export function createRedis(url: string, role: 'producer' | 'worker', extra: RedisOptions = {}): Redis {
  const base: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 }
      : { maxRetriesPerRequest: null, enableReadyCheck: true };
  // Reconnects with a growing delay (up to 5 s, with jitter so many processes do not knock at once).
  return new Redis(url, { ...base, retryStrategy: (times) => Math.min(times * 250, 5000) * (0.75 + Math.random() / 2), lazyConnect: false, ...extra });
}

/** Builds the queue connection the config names. Nothing connects until first used, but for the Redis producer. */
export function createQueueConnection(config: Config, logger: Logger): QueueConnection {
  return config.queueBackend === 'redis' ? new RedisQueues(config, logger) : new PostgresQueues(config, logger);
}

/**
 * A producer-side queue does not wait for Redis to be ready, and does not ask Redis for its
 * version: with Redis down that failure would stay with the queue for the life of the process,
 * so a queue first used during an outage would never enqueue again (the worker process checks
 * Redis itself, maxmemory-policy included).
 */
class RedisQueues implements QueueConnection {
  readonly backend = 'redis' as const;
  readonly redis: Redis;
  /** Shared by every worker of the process; BullMQ duplicates it for each worker's blocking reads. */
  private workerRedis: Redis | undefined;

  constructor(private readonly config: Config, private readonly logger: Logger) {
    this.redis = createRedis(config.redisUrl, 'producer');
    this.redis.on('error', onQueueError(logger, 'redis connection error'));
  }

  queue(name: string): JobQueue {
    const queue = new Queue(name, { connection: this.redis, prefix: this.config.queuePrefix, skipWaitingForReady: true, skipVersionCheck: true });
    queue.on('error', onQueueError(this.logger, 'queue error', { queue: name }));
    return queue;
  }

  worker(name: string, processor: Processor, options: JobWorkerOptions): JobWorker {
    if (!this.workerRedis) {
      this.workerRedis = createRedis(this.config.redisUrl, 'worker');
      this.workerRedis.on('error', onQueueError(this.logger, 'worker redis connection error'));
      void checkEvictionPolicy(this.workerRedis, this.logger);
    }
    return new Worker(name, processor, { ...options, connection: this.workerRedis, prefix: this.config.queuePrefix });
  }

  available(): boolean {
    return this.redis.status === 'ready';
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async readyWithin(ms: number): Promise<void> {
    if (this.redis.status === 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    let onReady: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      onReady = resolve;
      timer = setTimeout(resolve, ms);
      this.redis.once('ready', onReady);
    });
    clearTimeout(timer);
    if (onReady) this.redis.off('ready', onReady);
  }

  async forgetAllJobs(): Promise<void> {
    const keys = await this.redis.keys(`${this.config.queuePrefix}:*`);
    if (keys.length) await this.redis.del(...keys);
  }

  async close(): Promise<void> {
    this.workerRedis?.disconnect();
    this.redis.disconnect();
  }
}

/** Queues must never lose a job to eviction: say so loudly when Redis would evict. */
export async function checkEvictionPolicy(redis: Redis, logger: Logger): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1];
    if (policy !== 'noeviction') {
      logger.error(
        { policy },
        `REDIS maxmemory-policy is "${policy}", not "noeviction": Redis may evict queued jobs. ` +
          'Run: redis-cli config set maxmemory-policy noeviction (and set it in redis.conf).',
      );
    }
    return policy;
  } catch (err) {
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not read Redis maxmemory-policy; make sure it is noeviction');
    return undefined;
  }
}

/** The pause after a failed start of a PostgreSQL queue backend, doubling up to the second figure. */
const RESTART_PAUSE_MS = [200, 2000] as const;

/**
 * BullMQ's PostgreSQL backend, made to try its start again. As shipped it remembers a failed start
 * (PostgreSQL at its connection limit or away, its schema not there yet) for good: every later
 * query of that queue or worker fails at once, and a worker's loop, which does not pause after such
 * an error, then spins on promises without ever giving the event loop a turn: no timer, no signal,
 * no other request of the process runs again. Here a failed start is forgotten after a pause that
 * doubles, so the next query starts afresh, and a worker's loop waits on a timer meanwhile.
 */
const postgresBackend: typeof createPostgresBackend = (name, opts, factoryOpts) => {
  const backend = createPostgresBackend(name, opts, factoryOpts);
  let pauseMs: number = RESTART_PAUSE_MS[0];
  forgetFailedStart(backend.connection, {
    failed: async () => {
      await sleep(pauseMs);
      pauseMs = Math.min(pauseMs * 2, RESTART_PAUSE_MS[1]);
    },
    succeeded: () => {
      pauseMs = RESTART_PAUSE_MS[0];
    },
  });
  // The backend keeps its own copy of the connection's start; it is paused by the connection's.
  forgetFailedStart(backend);
  return backend;
};

/** Wraps `owner.waitUntilReady` so that a failed start is not remembered (BullMQ keeps it as `readyPromise`). */
function forgetFailedStart(owner: { waitUntilReady(): Promise<void> }, pause?: { failed(): Promise<void>; succeeded(): void }): void {
  const memo = owner as unknown as { readyPromise?: Promise<void> };
  const start = owner.waitUntilReady.bind(owner);
  owner.waitUntilReady = async () => {
    const attempt = start();
    const remembered = memo.readyPromise;
    try {
      await attempt;
      pause?.succeeded();
    } catch (err) {
      await pause?.failed();
      if (memo.readyPromise === remembered) memo.readyPromise = undefined;
      throw err;
    }
  };
}

/**
 * BullMQ's PostgreSQL backend, in DATABASE_URL's database: jobs are rows of the `bullmq` schema
 * (created by `npm run db:migrate` beside ours), and a blocked worker waits on LISTEN/NOTIFY.
 * There is no key prefix there: one database holds one instance's queues. Producers share one
 * pool whose connections are pinned to the schema; each worker owns a small pool plus its LISTEN
 * connection, so a worker never holds a producer's connection.
 */
class PostgresQueues implements QueueConnection {
  readonly backend = 'postgres' as const;
  readonly redis = undefined;
  private readonly pool: pg.Pool;

  constructor(private readonly config: Config, private readonly logger: Logger) {
    this.pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.queuePostgresPoolMax,
      options: `-c search_path=${QUEUE_SCHEMA}`,
      // A producer fails fast, as on Redis: the row is committed and the reconciler enqueues it later.
      connectionTimeoutMillis: 2000,
    });
    this.pool.on('error', onQueueError(logger, 'queue database connection error'));
  }

  queue(name: string): JobQueue {
    const queue = new Queue(name, { connection: this.pool, skipWaitingForReady: true }, postgresBackend);
    queue.on('error', onQueueError(this.logger, 'queue error', { queue: name }));
    return queue;
  }

  worker(name: string, processor: Processor, options: JobWorkerOptions): JobWorker {
    const connection = { connectionString: this.config.databaseUrl, max: this.config.queuePostgresPoolMax };
    return new Worker(name, processor, { ...options, connection }, postgresBackend);
  }

  available(): boolean {
    return true;
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async readyWithin(): Promise<void> {
    // Each query takes a pool connection when it needs one; there is nothing to wait for.
  }

  async forgetAllJobs(): Promise<void> {
    const { rows } = await this.pool.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' and table_name <> 'migration'`,
      [QUEUE_SCHEMA],
    );
    if (rows.length) await this.pool.query(`truncate ${rows.map((r) => `"${QUEUE_SCHEMA}"."${r.table_name}"`).join(', ')}`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Creates or upgrades BullMQ's tables in the database (schema bullmq). Idempotent, and safe when
 * several processes start at once (BullMQ takes an advisory lock); run beside our own migrations
 * whichever backend is configured, so switching QUEUE_BACKEND needs no extra step.
 */
export async function migrateQueueSchema(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runMigrations(client);
  } finally {
    await client.end();
  }
}

/**
 * The error listener of every connection, queue and worker of ours. A lost connection is the
 * DependencyWatch's to report, once per outage (each queue and worker would otherwise log each of
 * its reconnect attempts); any other error is logged here.
 */
export function onQueueError(logger: Logger, message: string, fields: Record<string, unknown> = {}): (err: Error) => void {
  return (err) => {
    if (dependencyOf(err, 'redis') || dependencyOf(err)) return;
    logger.warn({ err, ...fields }, message);
  };
}
