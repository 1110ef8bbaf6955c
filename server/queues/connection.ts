import { Redis, type RedisOptions } from 'ioredis';

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
