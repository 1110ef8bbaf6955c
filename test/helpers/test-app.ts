import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { Express } from 'express';
import { parseConfig, type Config } from '../../server/config';
import { createApp } from '../../server/app';
import { createDeps, type Deps } from '../../server/wiring';
import { issueToken } from '../../server/auth/tokens';
import type { Logger } from '../../server/logger';
import { cloneTemplate, databaseUrl, dropDatabase } from './databases';
import { createFactories, type TestUser } from './factories';
import { TEST_QUEUE_BACKEND } from './queue-backend';
import type { JobQueue } from '../../server/queues/connection';

export type TestApp = Awaited<ReturnType<typeof testApp>>;

/** Settings every test app gets; a test passes its own on top. */
export function testEnv(database: string, queuePrefix: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl(database),
    QUEUE_BACKEND: TEST_QUEUE_BACKEND,
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: queuePrefix,
    JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256-0123',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  };
}

/**
 * A fresh database cloned from the migrated template and a queue prefix of its own,
 * so test files never see each other's rows or jobs.
 */
export async function testApp(env: Record<string, string> = {}, opts: { logger?: Logger } = {}) {
  const suffix = randomBytes(5).toString('hex');
  const database = `afrc_test_${suffix}`;
  const queuePrefix = `afrc-test-${suffix}`;
  // The run's global setup built the template.
  await cloneTemplate(database);
  const config: Config = parseConfig(testEnv(database, queuePrefix, env));
  const deps: Deps = createDeps(config, opts.logger);
  // Producers do not queue commands while connecting; start each test with Redis ready, as a running server is.
  if (!env.REDIS_URL) await deps.queues.readyWithin(10_000);
  const app: Express = createApp(deps);
  const factories = createFactories(deps.db);
  const openQueues: JobQueue[] = [];

  const tokenFor = (user: TestUser) =>
    issueToken(config, { id: user.id, type: 'user', name: user.username, role: user.role, institutionId: user.institutionId }).token;

  const api = {
    raw: () => request(app),
    as(user: TestUser) {
      const auth = `Bearer ${tokenFor(user)}`;
      return {
        get: (url: string) => request(app).get(url).set('Authorization', auth),
        post: (url: string) => request(app).post(url).set('Authorization', auth),
        put: (url: string) => request(app).put(url).set('Authorization', auth),
        patch: (url: string) => request(app).patch(url).set('Authorization', auth),
        delete: (url: string) => request(app).delete(url).set('Authorization', auth),
      };
    },
  };

  /** Every job id on a queue, whatever its state. */
  async function queueJobIds(name: string): Promise<string[]> {
    const q = queue(name);
    const jobs = await q.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized', 'waiting-children']);
    return jobs.filter(Boolean).map((j) => String(j.id));
  }

  /** A queue of this test's, on the run's backend; closed with the app. */
  function queue(name: string): JobQueue {
    const q = deps.queues.queue(name);
    openQueues.push(q);
    return q;
  }

  async function close(): Promise<void> {
    await Promise.allSettled(openQueues.map((q) => q.close()));
    await deps.queues.forgetAllJobs().catch(() => undefined);
    await deps.close();
    await dropDatabase(database);
  }

  return { app, deps, db: deps.db, config, api, factories, tokenFor, queue, queueJobIds, close, database, queuePrefix };
}
