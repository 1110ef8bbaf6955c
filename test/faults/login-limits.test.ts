import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createDb, type Db } from '../../server/db';
import { cloneTemplate, databaseUrl, dropDatabase } from '../helpers/databases';
import { createFactories, type TestUser } from '../helpers/factories';
import { testEnv } from '../helpers/test-app';
import { killAll, startEntry, stopProcess, waitReady, type Started } from '../helpers/processes';

const suffix = randomBytes(5).toString('hex');
const database = `afrc_test_${suffix}`;
const queuePrefix = `afrc-test-${suffix}`;
const PORTS = [42211, 42212];
const bases = PORTS.map((p) => `http://127.0.0.1:${p}`);
const LIMIT = 3;

let db: Db;
let webs: Started[] = [];
let victim: TestUser;

beforeAll(async () => {
  await cloneTemplate(database);
  db = createDb(databaseUrl(database), 2);
  victim = await createFactories(db).user({ role: 'desk_officer' });
  webs = PORTS.map((port) => startEntry('web', testEnv(database, queuePrefix, {
    NODE_ENV: 'production', PORT: String(port), LOG_LEVEL: 'warn', LOGIN_RATE_LIMIT: String(LIMIT), TRUST_PROXY: 'true',
  })));
  await Promise.all(bases.map((base, i) => waitReady(base, webs[i])));
});

afterAll(async () => {
  await Promise.all(webs.map((w) => stopProcess(w).catch(() => undefined)));
  killAll();
  await db?.destroy();
  const redis = new Redis(testEnv(database, queuePrefix).REDIS_URL!);
  try {
    const keys = await redis.keys(`${queuePrefix}:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
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
