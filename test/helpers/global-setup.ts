import { Redis } from 'ioredis';
import { ensureTemplate } from './databases';

const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** Whether a Redis answers at `url` within a second or two. */
async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/**
 * The queue backend of the run, for every test file (the workers inherit this environment):
 * QUEUE_BACKEND when it is set, else Redis when one answers, else BullMQ's PostgreSQL backend.
 */
async function chooseQueueBackend(): Promise<void> {
  if (process.env.QUEUE_BACKEND !== 'redis' && process.env.QUEUE_BACKEND !== 'postgres') {
    process.env.QUEUE_BACKEND = (await redisAnswers(process.env.TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL)) ? 'redis' : 'postgres';
    if (process.env.QUEUE_BACKEND === 'postgres') {
      process.stdout.write('\n[test setup] no Redis answers: the queues run on PostgreSQL, and tests that need Redis itself are skipped\n');
    }
  }
}

export default async function globalSetup(): Promise<void> {
  await chooseQueueBackend();
  await ensureTemplate();
}
