import { Redis } from 'ioredis';

/**
 * The queue backend this run's tests use: QUEUE_BACKEND when the run names one (CI runs the queue
 * and worker suites once more with QUEUE_BACKEND=postgres), else what the global setup found (Redis
 * when one answers, BullMQ's PostgreSQL backend when none does).
 */
export const TEST_QUEUE_BACKEND: 'redis' | 'postgres' = process.env.QUEUE_BACKEND === 'postgres' ? 'postgres' : 'redis';

/** Why a Redis-only test does not run on the PostgreSQL backend; the run's summary lists each one with it. */
export const NEEDS_REDIS = 'needs Redis itself, and the queues run on PostgreSQL in this run';

/**
 * A test about Redis itself (an outage, a Redis that restarts empty): on the PostgreSQL queue
 * backend there is no Redis to stop, so it is skipped, and says so by name and why.
 */
export const itNeedsRedis = (name: string, fn: jest.ProvidesCallback, timeout?: number): void => {
  if (TEST_QUEUE_BACKEND === 'redis') it(name, fn, timeout);
  else it.skip(`${name} [skipped: ${NEEDS_REDIS}]`, fn, timeout);
};

/** What /readyz answers when everything is up, on this run's backend. */
export const READY_BODY = {
  status: 'ready',
  postgres: true,
  ...(TEST_QUEUE_BACKEND === 'redis' ? { redis: true } : {}),
  queueBackend: TEST_QUEUE_BACKEND,
  migrations: true,
  reasons: [],
};

/**
 * Deletes the keys of a test's queues from the Redis at `redisUrl` once its processes are gone. On
 * the PostgreSQL backend the queue tables go with the test's database; a Redis that is already gone
 * (a test's private one) holds nothing.
 */
export async function forgetRedisQueues(redisUrl: string | undefined, queuePrefix: string): Promise<void> {
  if (TEST_QUEUE_BACKEND !== 'redis' || !redisUrl) return;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const keys = await redis.keys(`${queuePrefix}:*`);
    if (keys.length) await redis.del(...keys);
  } catch {
    // nothing left to delete
  } finally {
    redis.disconnect();
  }
}
