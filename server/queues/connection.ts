import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../logger';

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
  return new Redis(url, { ...base, retryStrategy: (times) => Math.min(times * 200, 2000), lazyConnect: false, ...extra });
}

/**
 * A producer-side queue, as every queue of ours is made. It does not wait for Redis to be ready,
 * and does not ask Redis for its version: with Redis down that failure would stay with the queue
 * for the life of the process, so a queue first used during an outage would never enqueue again
 * (the worker process checks Redis itself, maxmemory-policy included). Its errors are logged.
 */
export function createQueue(name: string, connection: Redis, prefix: string, logger: Logger): Queue {
  const queue = new Queue(name, { connection, prefix, skipWaitingForReady: true, skipVersionCheck: true });
  queue.on('error', (err) => logger.warn({ err, queue: name }, 'queue error'));
  return queue;
}
