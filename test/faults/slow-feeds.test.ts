import { randomBytes } from 'node:crypto';
import { createDb } from '../../server/db';
import type { Db } from '../../server/db';
import { cloneTemplate, databaseUrl, dropDatabase } from '../helpers/databases';
import { createFactories, type TestUser } from '../helpers/factories';
import { testEnv } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import { killAll, startEntry, stopProcess, waitReady, type Started } from '../helpers/processes';
import { feedLine, slowUpload, timedFetch } from '../helpers/slow-upload';
import { forgetRedisQueues } from '../helpers/queue-backend';

const suffix = randomBytes(5).toString('hex');
const database = `afrc_test_${suffix}`;
const queuePrefix = `afrc-test-${suffix}`;
const PORT = 42201;
const base = `http://127.0.0.1:${PORT}`;
const BODY_TIMEOUT_MS = 5000;

let db: Db;
let web: Started;
let liaison: TestUser;
let officer: TestUser;

beforeAll(async () => {
  await cloneTemplate(database);
  db = createDb(databaseUrl(database), 2);
  const factories = createFactories(db);
  const carrier = await factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  liaison = await factories.user({ role: 'liaison', institutionId: carrier.id });
  officer = await factories.user({ role: 'desk_officer' });
  // A production web process with a small pool: ten connections held by slow bodies would be all of it.
  web = startEntry('web', testEnv(database, queuePrefix, {
    NODE_ENV: 'production', PORT: String(PORT), LOG_LEVEL: 'warn', DATABASE_POOL_MAX: '6',
    BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), BODY_IDLE_TIMEOUT_MS: '3000',
  }));
  await waitReady(base, web);
});

afterAll(async () => {
  if (web) await stopProcess(web).catch(() => undefined);
  killAll();
  await db?.destroy();
  await forgetRedisQueues(testEnv(database, queuePrefix).REDIS_URL, queuePrefix);
  await dropDatabase(database);
});

const login = (user: TestUser) => timedFetch(base, '/api/v1/auth/login', {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: user.username, password: user.password }),
});

describe('a real web process under slow feed uploads', () => {
  it('when 10 feeds trickle in a line every second, then login, reports and /readyz answer normally, the feeds end 408 with nothing stored, and a normal feed works', async () => {
    const liaisonToken = JSON.parse((await login(liaison)).body).token as string;
    const quiet: number[] = [];
    for (let i = 0; i < 7; i++) quiet.push((await login(officer)).ms);
    quiet.sort((a, b) => a - b);
    const uploads = Array.from({ length: 10 }, () => slowUpload(base, liaisonToken, 1000, 30_000));
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const logins: number[] = [];
    const statuses: number[] = [];
    let officerToken = '';
    for (let i = 0; i < 7; i++) {
      const answer = await login(officer);
      logins.push(answer.ms);
      statuses.push(answer.status);
      officerToken = JSON.parse(answer.body).token ?? officerToken;
      statuses.push((await timedFetch(base, '/readyz')).status);
    }
    const filed = await timedFetch(base, '/api/v1/reports', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${officerToken}` }, body: JSON.stringify(reportBody()),
    });
    expect(statuses).toEqual(Array(14).fill(200));
    expect(filed.status).toBe(201);
    logins.sort((a, b) => a - b);
    expect(logins[logins.length - 1]).toBeLessThan(2000);
    process.stdout.write(`real process, login quiet: p50 ${quiet[3]} ms; during 10 slow feeds: p50 ${logins[3]} ms, max ${logins[6]} ms; report filed in ${filed.ms} ms\n`);

    const ended = await Promise.all(uploads);
    expect(ended.map((a) => a.status)).toEqual(Array(10).fill(408));
    for (const a of ended) expect(JSON.parse(a.body).error.code).toBe('request_timeout');
    expect(Number((await db('feed_batches').count({ n: '*' }))[0]!.n)).toBe(0);

    const normal = await timedFetch(base, '/api/v1/feeds', {
      method: 'POST', headers: { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${liaisonToken}` }, body: feedLine() + feedLine(),
    });
    expect(normal.status).toBe(202);
    expect(Number((await db('feed_batches').count({ n: '*' }))[0]!.n)).toBe(1);
  });
});
