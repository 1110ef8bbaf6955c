import { createLogger } from '../../server/logger';
import { parseConfig } from '../../server/config';
import { buildRouter } from '../../server/domain/routing';
import { loadRoutes } from '../../server/admin/institutions.repo';
import { DEMO_CLIENT, DEMO_MANUAL_BANK, DEMO_MANUAL_LIAISON, DEMO_PASSWORD, DEMO_USERS, seedDemo } from '../../server/cli/seed';
import { demoAccountLines } from '../../server/cli/demo';
import { reportBody } from '../helpers/bodies';
import { testApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
let first: Awaited<ReturnType<typeof seedDemo>>;
beforeAll(async () => {
  t = await testApp({ ADMIN_USERNAME: 'chief-admin', ADMIN_PASSWORD: 'admin-password-123' });
  first = await seedDemo(t.db, t.config, createLogger('silent'));
});
afterAll(() => t.close());

const TABLES = ['institutions', 'institution_routes', 'users', 'api_clients', 'events'] as const;

async function snapshot() {
  const counts: Record<string, number> = {};
  for (const table of TABLES) counts[table] = Number((await t.db(table).count<{ c: string }[]>('* as c'))[0]!.c);
  const users = await t.db('users').orderBy('username').select('username', 'password_hash', 'role', 'institution_id', 'active');
  const routes = await t.db('institution_routes').orderBy(['indicator_kind', 'prefix']).select('institution_id', 'indicator_kind', 'prefix');
  const clients = await t.db('api_clients').orderBy('client_id').select('client_id', 'secret_hash', 'institution_id', 'revoked_at');
  return { counts, users, routes, clients };
}

it('seeds the demo center, and a second run leaves the same state', async () => {
  const logger = createLogger('silent');
  const after1 = await snapshot();
  const second = await seedDemo(t.db, t.config, logger);
  const after2 = await snapshot();
  expect(second).toEqual(first);
  expect(after2).toEqual(after1);
  expect(after1.counts).toMatchObject({ institutions: 12, users: DEMO_USERS.length + 1, api_clients: 1 });
  expect(first.admin).toBe('chief-admin');

  const kinds = await t.db('institutions').select('kind').count<{ kind: string; count: string }[]>('* as count').groupBy('kind').orderBy('kind');
  expect(kinds.map((k) => [k.kind, Number(k.count)])).toEqual([['bank', 7], ['carrier', 3], ['platform', 1], ['police', 1]]);
  const manual = await t.db('institutions').whereNot('kind', 'police').whereNot('integration', 'simulated').select('id', 'kind', 'integration');
  expect(manual).toEqual([{ id: DEMO_MANUAL_BANK, kind: 'bank', integration: 'manual' }]);
});

it('routes demo accounts, numbers and sites to the right partners', async () => {
  const route = buildRouter(await loadRoutes(t.db));
  expect(route('bank_account', '6222021234567890123')).toBe('icbc');
  expect(route('bank_account', '6217001234567890')).toBe('ccb');
  expect(route('bank_account', '6228481234567890')).toBe('abc');
  expect(route('phone', '+8613800138000')).toBe('china-mobile');
  expect(route('sms_sender', '+8617100001234')).toBe('china-unicom');
  expect(route('phone', '+8618912345678')).toBe('china-telecom');
  expect(route('url', 'http://pay-refund.example/x')).toBe('alibaba');
  expect(route('im_account', 'wxid_fraud01')).toBe('alibaba');
  expect(route('phone', '+14155550100')).toBeNull();
});

it('lets the demo users, the admin and the demo client log in', async () => {
  for (const username of ['officer', 'supervisor', 'liaison-icbc', 'liaison-china-mobile', 'liaison-alibaba']) {
    const res = await t.api.raw().post('/api/v1/auth/login').send({ username, password: DEMO_PASSWORD });
    expect(res.status).toBe(200);
  }
  const admin = await t.api.raw().post('/api/v1/auth/login').send({ username: 'chief-admin', password: 'admin-password-123' });
  expect(admin.status).toBe(200);
  expect(admin.body.user.role).toBe('admin');
  const liaison = await t.api.raw().post('/api/v1/auth/login').send({ username: 'liaison-icbc', password: DEMO_PASSWORD });
  expect(liaison.body.user).toMatchObject({ role: 'liaison', institutionId: 'icbc' });
  const client = await t.api.raw().post('/api/v1/auth/token').send({ clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret });
  expect(client.status).toBe(200);
});

it('seeds without an admin when none is configured, and says so', async () => {
  const config = parseConfig({ NODE_ENV: 'test', DATABASE_URL: t.config.databaseUrl });
  const warnings: string[] = [];
  const logger = createLogger('silent');
  const spyLogger = Object.assign(Object.create(logger), { warn: (msg: string) => warnings.push(msg), info: () => undefined });
  const summary = await seedDemo(t.db, config, spyLogger);
  expect(summary.admin).toBeNull();
  expect(warnings).toEqual([expect.stringContaining('no admin user was created')]);
});

it('keeps one demo bank manual: its liaison signs in with the printed login and finds a filed transfer\'s task in the inbox', async () => {
  const lines = demoAccountLines('admin', 'admin-demo-password').join('\n');
  expect(lines).toContain(`${DEMO_MANUAL_LIAISON} / ${DEMO_PASSWORD}`);
  expect(DEMO_USERS.find((u) => u.username === DEMO_MANUAL_LIAISON)).toMatchObject({ role: 'liaison', institutionId: DEMO_MANUAL_BANK });

  const officer = await t.api.raw().post('/api/v1/auth/login').send({ username: 'officer', password: DEMO_PASSWORD });
  const body = reportBody({ indicators: [] });
  body.transfers = [{ ...body.transfers![0]!, toAccount: '6225881234567890' }];
  const filed = await t.api.raw().post('/api/v1/reports').set('authorization', `Bearer ${officer.body.token}`).send(body);
  expect(filed.status).toBe(201);
  expect(filed.body.tasks).toEqual([expect.objectContaining({ kind: 'intercept_funds', institutionId: DEMO_MANUAL_BANK })]);

  const liaison = await t.api.raw().post('/api/v1/auth/login').send({ username: DEMO_MANUAL_LIAISON, password: DEMO_PASSWORD });
  expect(liaison.status).toBe(200);
  const inbox = await t.api.raw().get('/api/v1/tasks').set('authorization', `Bearer ${liaison.body.token}`);
  expect(inbox.body.items.map((x: { id: string }) => x.id)).toContain(filed.body.tasks[0].id);
});
