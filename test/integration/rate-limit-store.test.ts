import express from 'express';
import { rateLimit } from 'express-rate-limit';
import request from 'supertest';
import { parseConfig } from '../../server/config';
import { createDeps, type Deps } from '../../server/wiring';
import { testApp, testEnv, type TestApp } from '../helpers/test-app';
import { TEST_QUEUE_BACKEND } from '../helpers/queue-backend';

// The shared counters of rate limits and quotas: Redis on the Redis queue backend, PostgreSQL on
// the PostgreSQL one. CI runs this file on both.

let t: TestApp;
let other: Deps;
beforeAll(async () => {
  t = await testApp();
  // A second web process: same database, same queue store.
  other = createDeps(parseConfig(testEnv(t.database, t.queuePrefix)));
  await other.queues.readyWithin(10_000);
});
afterAll(async () => {
  await other.close();
  await t.close();
});

/** An app limited by `limit` requests per window, counted in the shared store `name`. */
function limitedApp(deps: Deps, name: string, limit: number) {
  const app = express();
  // Everyone counts as one client here (the officers of one building behind one address).
  app.use(rateLimit({ windowMs: 60_000, limit, store: deps.rateLimitStores(name), keyGenerator: () => 'office', standardHeaders: 'draft-7', legacyHeaders: false }));
  app.get('/', (_req, res) => { res.json({ ok: true }); });
  return app;
}

it(`when two web processes take racing requests, then they count against one budget (${TEST_QUEUE_BACKEND})`, async () => {
  const apps = [limitedApp(t.deps, 'budget', 5), limitedApp(other, 'budget', 5)];
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(apps[i % 2]!).get('/')));
  const statuses = answers.map((r) => r.status);
  expect(statuses.filter((s) => s === 200)).toHaveLength(5);
  expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  expect(answers.find((r) => r.status === 429)!.headers['retry-after']).toBeDefined();
  const counted = await t.deps.rateLimitStores('budget').get!('office');
  expect(counted?.totalHits).toBe(20);
});

it('when many hits race on one key from two processes, then each gets its own count, and the total is exact', async () => {
  const stores = [t.deps.rateLimitStores('race'), other.rateLimitStores('race')];
  for (const s of stores) await s.init?.({ windowMs: 60_000 } as never);
  const counts = await Promise.all(Array.from({ length: 60 }, (_, i) => stores[i % 2]!.increment('user:wang')));
  expect(counts.map((c) => c.totalHits).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  expect((await stores[1]!.get!('user:wang'))?.totalHits).toBe(60);
  // Another limiter's counters and another key are apart.
  expect(await t.deps.rateLimitStores('other-limiter').get!('user:wang')).toBeUndefined();
  await stores[0]!.decrement('user:wang');
  expect((await stores[1]!.get!('user:wang'))?.totalHits).toBe(59);
  await stores[1]!.resetKey('user:wang');
  expect(await stores[0]!.get!('user:wang')).toBeUndefined();
  expect((await stores[0]!.increment('user:wang')).totalHits).toBe(1);
});

it('when a window ends, then counting starts again at 1', async () => {
  const store = t.deps.rateLimitStores('short');
  await store.init?.({ windowMs: 300 } as never);
  await store.increment('k');
  expect((await store.increment('k')).totalHits).toBe(2);
  await new Promise((r) => setTimeout(r, 450));
  expect(await store.get!('k')).toBeUndefined();
  const again = await store.increment('k');
  expect(again.totalHits).toBe(1);
  expect(again.resetTime!.getTime()).toBeGreaterThan(Date.now());
});

it('when the store is made while its process is still connecting (Redis: commands fail at once), then it counts once connected', async () => {
  // A process starting: its producer connection is still connecting and fails commands at once.
  const starting = createDeps(parseConfig(testEnv(t.database, t.queuePrefix)));
  try {
    const store = starting.rateLimitStores('early');
    await store.init?.({ windowMs: 60_000 } as never);
    await starting.queues.readyWithin(10_000);
    expect((await store.increment('k')).totalHits).toBe(1);
  } finally {
    await starting.close();
  }
});
