import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDb, type Db } from '../../server/db';
import { cloneTemplate, databaseUrl, dropDatabase } from '../helpers/databases';
import { reportBody } from '../helpers/bodies';
import { createFactories, type TestUser } from '../helpers/factories';
import { waitFor } from '../helpers/lifecycle';
import { testEnv } from '../helpers/test-app';
import { killAll, startEntry, stopProcess, waitForOutput, waitReady, type Started } from '../helpers/processes';
import { forgetRedisQueues } from '../helpers/queue-backend';

const suffix = randomBytes(5).toString('hex');
const database = `afrc_test_${suffix}`;
const queuePrefix = `afrc-test-${suffix}`;
const PORTS = [42211, 42212];
const bases = PORTS.map((p) => `http://127.0.0.1:${p}`);
const LIMIT = 3;
const LOOKUP_QUOTA = 4;
/** Deliveries per second to one partner, for all worker processes together. */
const DELIVERY_RATE = 2;

let db: Db;
let webs: Started[] = [];
let workers: Started[] = [];
let victim: TestUser;

beforeAll(async () => {
  await cloneTemplate(database);
  db = createDb(databaseUrl(database), 2);
  victim = await createFactories(db).user({ role: 'desk_officer' });
  webs = PORTS.map((port) => startEntry('web', testEnv(database, queuePrefix, {
    NODE_ENV: 'production', PORT: String(port), LOG_LEVEL: 'warn', LOGIN_RATE_LIMIT: String(LIMIT), TRUST_PROXY: 'true',
    QUOTA_LOOKUPS_USER: String(LOOKUP_QUOTA),
  })));
  await Promise.all(bases.map((base, i) => waitReady(base, webs[i])));
});

afterAll(async () => {
  await Promise.all([...webs, ...workers].map((w) => stopProcess(w).catch(() => undefined)));
  killAll();
  await db?.destroy();
  await forgetRedisQueues(testEnv(database, queuePrefix).REDIS_URL, queuePrefix);
  await dropDatabase(database);
});

const login = (base: string, from: string, password: string) => fetch(`${base}/api/v1/auth/login`, {
  method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': from },
  body: JSON.stringify({ username: victim.username, password }),
});

describe('login limits across two real web processes', () => {
  it('when failures alternate between the two processes, then the budget is one: both refuse the address after LOGIN_RATE_LIMIT failures, and the account still opens from another address', async () => {
    const stranger = '198.51.100.7';
    for (let i = 0; i < LIMIT; i++) expect((await login(bases[i % 2]!, stranger, `guess-${i}`)).status).toBe(401);
    for (const base of bases) {
      const refused = await login(base, stranger, victim.password);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    }
    for (const base of bases) expect((await login(base, '198.51.100.8', victim.password)).status).toBe(200);
  });
});

const signIn = async (base: string, user: TestUser): Promise<string> => {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': '198.51.100.20' },
    body: JSON.stringify({ username: user.username, password: user.password }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
};

describe('quotas across two real web processes', () => {
  it('when one person\'s lookups alternate between the two processes, then the quota is one budget: both answer 429 with Retry-After once it is spent', async () => {
    const officer = await createFactories(db).user({ role: 'desk_officer' });
    const tokens = await Promise.all(bases.map((base) => signIn(base, officer)));
    const lookup = (i: number) => fetch(`${bases[i % 2]}/api/v1/indicators/lookup`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokens[i % 2]}` },
      body: JSON.stringify({ items: [{ kind: 'phone', value: '+8613900001234' }] }),
    });
    for (let i = 0; i < LOOKUP_QUOTA; i++) expect((await lookup(i)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const refused = await lookup(i);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    }
  });
});

describe('a partner\'s delivery rate across two real worker processes', () => {
  it('when two worker processes deliver to one webhook partner, then together they keep to its rate, and each task arrives once', async () => {
    const arrivals: { taskId: string; at: number }[] = [];
    const partner = http.createServer((req, res) => {
      arrivals.push({ taskId: String(req.headers['x-afrc-task-id']), at: Date.now() });
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
    try {
      const bank = await createFactories(db).institution({
        kind: 'bank', integration: 'webhook', webhookUrl: `http://127.0.0.1:${(partner.address() as AddressInfo).port}/tasks`,
        webhookSecret: 'a-secret-of-the-partner', routes: [{ indicatorKind: 'bank_account', prefix: '621799' }],
      });
      workers = [0, 1].map(() => startEntry('workers', testEnv(database, queuePrefix, {
        NODE_ENV: 'production', LOG_LEVEL: 'info', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        WORKER_RATE_MAX: String(DELIVERY_RATE), WORKER_RATE_DURATION_MS: '1000',
      })));
      await Promise.all(workers.map((w) => waitForOutput(w, 'workers started')));
      // Both have the partner's queue worker running before any task is there to take.
      await new Promise((r) => setTimeout(r, 1500));

      const officer = await createFactories(db).user({ role: 'desk_officer' });
      const token = await signIn(bases[0]!, officer);
      const filed = await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${bases[i % 2]}/api/v1/reports`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(reportBody({
          transfers: [{ toAccount: `62179900000${String(i).padStart(5, '0')}`, amountMinor: 100_000 + i, transferredAt: '2026-11-28T09:30:00+08:00' }],
          indicators: [],
        })),
      })));
      expect(filed.map((r) => r.status)).toEqual(Array(8).fill(201));
      const taskIds = (await db('tasks').where({ institution_id: bank.id }).pluck('id')).map(String).sort();
      expect(taskIds).toHaveLength(8);

      await waitFor(async () => arrivals.length >= 8, 'every task delivered', 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      expect(arrivals.map((a) => a.taskId).sort()).toEqual(taskIds);
      // At DELIVERY_RATE a second for both processes, 8 deliveries span at least three seconds; had
      // each process its own budget, they would be done in about one.
      const span = arrivals[arrivals.length - 1]!.at - arrivals[0]!.at;
      expect(span).toBeGreaterThanOrEqual(2500);
    } finally {
      await new Promise<void>((resolve) => partner.close(() => resolve()));
    }
  });
});
