import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../server/cli/embedded-postgres';
import { DEFAULT_ADMIN_DATABASE_URL, ensureTemplate } from './databases';
import { setEmbeddedPostgres } from './global-teardown';

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

/** Whether a PostgreSQL answers at `url` within a couple of seconds. */
async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The PostgreSQL of the run: TEST_ADMIN_DATABASE_URL when it is set, else the machine's own when it
 * answers, else an embedded one for this run only (a temporary cluster, deleted when the run ends).
 */
async function ensurePostgres(): Promise<void> {
  if (process.env.TEST_ADMIN_DATABASE_URL) return;
  if (await postgresAnswers(DEFAULT_ADMIN_DATABASE_URL)) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'afrc-test-postgres-'));
  // As root the server runs as the postgres user, which must reach the cluster's folder inside.
  chmodSync(dir, 0o755);
  const started = Date.now();
  const embedded = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'cluster'),
    database: 'postgres',
    temporary: true,
    unsafeFast: true,
    logFile: path.join(dir, 'postgres.log'),
  });
  setEmbeddedPostgres(embedded, dir);
  process.env.TEST_ADMIN_DATABASE_URL = embedded.url;
  process.stdout.write(`\n[test setup] no PostgreSQL answers at 127.0.0.1:5432: started an embedded one for this run in ${Date.now() - started} ms (${dir})\n`);
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
  await ensurePostgres();
  await chooseQueueBackend();
  await ensureTemplate();
}
