import { verifySecret } from '../../server/auth/passwords';
import { testApp, type TestApp } from '../helpers/test-app';
import type { TestUser } from '../helpers/factories';
import { reportBody } from '../helpers/bodies';

let t: TestApp;
let admin: TestUser;
let police: string;
beforeAll(async () => {
  t = await testApp();
  admin = await t.factories.user({ role: 'admin' });
  police = (await t.factories.institution({ kind: 'police', id: 'center' })).id;
});
afterAll(() => t.close());

const eventsOfType = (type: string) => t.db('events').where({ type }).select('*');

describe('institutions', () => {
  it('creates an institution with normalized routes, records an event and lists it without secrets', async () => {
    const res = await t.api.as(admin).post('/api/v1/institutions').send({
      id: 'hz-bank', name: '杭州银行', kind: 'bank', integration: 'webhook',
      webhookUrl: 'https://hz-bank.example/afrc', webhookSecret: 'a-webhook-secret-of-length',
      routes: [
        { indicatorKind: 'bank_account', prefix: '6229 07' },
        { indicatorKind: 'domain', prefix: 'HZBank.COM.' },
        { indicatorKind: 'url', prefix: 'Pay.HZBank.com' },
        { indicatorKind: 'phone', prefix: '+86 571' },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: 'hz-bank', kind: 'bank', integration: 'webhook', active: true, hasWebhookSecret: true });
    expect(res.body.webhookSecret).toBeUndefined();
    const stored = await t.db('institution_routes').where({ institution_id: 'hz-bank' }).orderBy('indicator_kind').select('indicator_kind', 'prefix');
    expect(stored).toEqual([
      { indicator_kind: 'bank_account', prefix: '622907' },
      { indicator_kind: 'domain', prefix: 'hzbank.com' },
      { indicator_kind: 'phone', prefix: '+86571' },
      { indicator_kind: 'url', prefix: 'pay.hzbank.com' },
    ]);
    expect(await eventsOfType('institution.created')).toEqual([
      expect.objectContaining({ actor_id: admin.id, actor_type: 'user', data: expect.objectContaining({ institutionId: 'hz-bank' }) }),
    ]);

    const officer = await t.factories.user({ role: 'desk_officer' });
    const list = await t.api.as(officer).get('/api/v1/institutions');
    expect(list.status).toBe(200);
    const item = list.body.items.find((i: { id: string }) => i.id === 'hz-bank');
    expect(item).toEqual({ id: 'hz-bank', name: '杭州银行', kind: 'bank', integration: 'webhook', active: true });
    expect(JSON.stringify(list.body)).not.toContain('a-webhook-secret-of-length');

    const one = await t.api.as(admin).get('/api/v1/institutions/hz-bank');
    expect(one.status).toBe(200);
    expect(one.body.routes).toHaveLength(4);
    expect(JSON.stringify(one.body)).not.toContain('a-webhook-secret-of-length');
  });

  it('generates a webhook secret when none is given and shows it once', async () => {
    const res = await t.api.as(admin).post('/api/v1/institutions').send({
      id: 'nb-bank', name: '宁波银行', kind: 'bank', integration: 'webhook', webhookUrl: 'https://nb-bank.example/hook', routes: [],
    });
    expect(res.status).toBe(201);
    expect(res.body.webhookSecret).toEqual(expect.any(String));
    const row = await t.db('institutions').where({ id: 'nb-bank' }).first();
    expect(row.webhook_secret).toBe(res.body.webhookSecret);
    expect((await t.api.as(admin).get('/api/v1/institutions/nb-bank')).body.webhookSecret).toBeUndefined();
  });

  it('requires a webhook URL for webhook integration and a slug id', async () => {
    const res = await t.api.as(admin).post('/api/v1/institutions').send({ id: 'Bad Id', name: 'x', kind: 'bank', integration: 'manual', routes: [] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['id']);
    const noUrl = await t.api.as(admin).post('/api/v1/institutions').send({ id: 'no-url', name: 'x', kind: 'bank', integration: 'webhook', routes: [] });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.details).toEqual([expect.objectContaining({ path: 'webhookUrl' })]);
    const badPrefix = await t.api.as(admin).post('/api/v1/institutions').send({
      id: 'bad-prefix', name: 'x', kind: 'bank', integration: 'manual', routes: [{ indicatorKind: 'bank_account', prefix: '62x' }],
    });
    expect(badPrefix.status).toBe(400);
    expect(badPrefix.body.error.details).toEqual([expect.objectContaining({ path: 'routes.0.prefix' })]);
  });

  it('answers 409 for a duplicate id and for a route another institution holds', async () => {
    await t.factories.institution({ id: 'taken', routes: [{ indicatorKind: 'bank_account', prefix: '955880' }] });
    const dup = await t.api.as(admin).post('/api/v1/institutions').send({ id: 'taken', name: 'x', kind: 'bank', integration: 'manual', routes: [] });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('conflict');
    const route = await t.api.as(admin).post('/api/v1/institutions').send({
      id: 'fresh', name: 'x', kind: 'bank', integration: 'manual', routes: [{ indicatorKind: 'bank_account', prefix: '9558 80' }],
    });
    expect(route.status).toBe(409);
    expect(route.body.error.details).toEqual([expect.objectContaining({ path: 'routes.0.prefix' })]);
    expect(await t.db('institutions').where({ id: 'fresh' }).first()).toBeUndefined();
  });

  it('changes an institution\'s integration: webhook needs a public URL, gets a secret made once when it has none, and back to manual keeps the rest', async () => {
    await t.factories.institution({ id: 'switching', kind: 'bank', integration: 'manual' });
    const noUrl = await t.api.as(admin).patch('/api/v1/institutions/switching').send({ integration: 'webhook' });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.details).toEqual([expect.objectContaining({ path: 'webhookUrl' })]);
    const privateUrl = await t.api.as(admin).patch('/api/v1/institutions/switching').send({ integration: 'webhook', webhookUrl: 'http://192.168.1.10/hook' });
    expect(privateUrl.status).toBe(400);
    expect(privateUrl.body.error.details).toEqual([expect.objectContaining({ path: 'webhookUrl', message: expect.stringContaining('public address') })]);
    expect((await t.api.as(admin).patch('/api/v1/institutions/switching').send({ integration: 'carrier-pigeon' })).status).toBe(400);

    const hooked = await t.api.as(admin).patch('/api/v1/institutions/switching').send({ integration: 'webhook', webhookUrl: 'https://switching.example/hook', messageFormat: 'iso20022' });
    expect(hooked.status).toBe(200);
    expect(hooked.body).toMatchObject({ integration: 'webhook', webhookUrl: 'https://switching.example/hook', messageFormat: 'iso20022', hasWebhookSecret: true });
    expect(hooked.body.webhookSecret).toEqual(expect.any(String));
    const again = await t.api.as(admin).patch('/api/v1/institutions/switching').send({ integration: 'webhook' });
    expect(again.body.webhookSecret).toBeUndefined();

    const manual = await t.api.as(admin).patch('/api/v1/institutions/switching').send({ integration: 'manual' });
    expect(manual.body).toMatchObject({ integration: 'manual', webhookUrl: 'https://switching.example/hook', hasWebhookSecret: true });
    expect(await eventsOfType('institution.updated')).toEqual(expect.arrayContaining([
      expect.objectContaining({ data: expect.objectContaining({ institutionId: 'switching', integration: 'manual' }) }),
    ]));
  });

  it('patches name, routes and activity; a deactivated institution loses its routes for new work', async () => {
    await t.factories.institution({ id: 'to-patch', kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86199' }] });
    const res = await t.api.as(admin).patch('/api/v1/institutions/to-patch').send({
      name: 'Renamed', routes: [{ indicatorKind: 'phone', prefix: '+86 198' }, { indicatorKind: 'sms_sender', prefix: '+86198' }],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Renamed', routes: [{ indicatorKind: 'phone', prefix: '+86198' }, { indicatorKind: 'sms_sender', prefix: '+86198' }] });

    const off = await t.api.as(admin).patch('/api/v1/institutions/to-patch').send({ active: false });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    const { loadRoutes } = await import('../../server/admin/institutions.repo');
    expect((await loadRoutes(t.db)).some((r) => r.institutionId === 'to-patch')).toBe(false);
    expect(await eventsOfType('institution.deactivated')).toEqual([expect.objectContaining({ data: expect.objectContaining({ institutionId: 'to-patch' }) })]);

    expect((await t.api.as(admin).patch('/api/v1/institutions/nope').send({ name: 'x' })).status).toBe(404);
    expect((await t.api.as(admin).patch('/api/v1/institutions/to-patch').send({ kind: 'bank' })).status).toBe(400);
  });

  it('lets only admins manage institutions', async () => {
    const body = { id: 'by-officer', name: 'x', kind: 'bank', integration: 'manual', routes: [] };
    for (const role of ['desk_officer', 'supervisor', 'liaison'] as const) {
      const inst = role === 'liaison' ? (await t.factories.institution()).id : null;
      const user = await t.factories.user({ role, institutionId: inst });
      const res = await t.api.as(user).post('/api/v1/institutions').send(body);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const officer = await t.factories.user({ role: 'desk_officer' });
    expect((await t.api.as(officer).get('/api/v1/users')).status).toBe(403);
    expect((await t.api.as(officer).get('/api/v1/api-clients')).status).toBe(403);
    expect((await t.api.as(officer).get('/api/v1/institutions/center')).status).toBe(403);
  });
});

describe('users', () => {
  it('creates a liaison at a partner institution, who can then log in', async () => {
    const bank = await t.factories.institution({ kind: 'bank' });
    const res = await t.api.as(admin).post('/api/v1/users').send({
      username: 'Liaison.One', password: 'twelve-chars-ok', displayName: '联络员 一', role: 'liaison', institutionId: bank.id,
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), username: 'Liaison.One', displayName: '联络员 一', role: 'liaison', institutionId: bank.id });
    const row = await t.db('users').where({ id: res.body.id }).first();
    expect(row.password_hash).not.toContain('twelve-chars-ok');
    expect(await eventsOfType('user.created')).toEqual(expect.arrayContaining([
      expect.objectContaining({ data: expect.objectContaining({ userId: res.body.id, role: 'liaison' }) }),
    ]));
    expect(JSON.stringify(await eventsOfType('user.created'))).not.toContain('twelve-chars-ok');
    const login = await t.api.raw().post('/api/v1/auth/login').send({ username: 'liaison.one', password: 'twelve-chars-ok' });
    expect(login.status).toBe(200);
    expect(login.body.user.institutionId).toBe(bank.id);
  });

  it('answers 409 for a username taken in another case', async () => {
    await t.factories.user({ role: 'desk_officer', username: 'duty-officer' });
    const res = await t.api.as(admin).post('/api/v1/users').send({
      username: 'Duty-Officer', password: 'twelve-chars-ok', displayName: 'x', role: 'desk_officer',
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });

  it('requires a partner institution for liaisons (partner_system is never a person: hostile-input.test.ts)', async () => {
    const base = { password: 'twelve-chars-ok', displayName: 'x' };
    const cases = [
      { username: 'l-none', role: 'liaison' },
      { username: 'l-police', role: 'liaison', institutionId: police },
      { username: 'l-missing', role: 'liaison', institutionId: 'no-such-bank' },
    ];
    for (const c of cases) {
      const res = await t.api.as(admin).post('/api/v1/users').send({ ...base, ...c });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'institutionId' })]);
    }
    expect(await t.db('users').whereIn('username', cases.map((c) => c.username))).toEqual([]);
  });

  it('refuses short passwords', async () => {
    const res = await t.api.as(admin).post('/api/v1/users').send({ username: 'shorty', password: 'short', displayName: 'x', role: 'supervisor' });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'password' })]);
  });

  it('lists users page by page, without password hashes', async () => {
    for (let i = 0; i < 3; i++) await t.factories.user({ role: 'supervisor', username: `zz-page-${i}` });
    const first = await t.api.as(admin).get('/api/v1/users?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    expect(JSON.stringify(first.body)).not.toContain('scrypt');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { items: { username: string }[]; nextCursor: string | null } } =
        await t.api.as(admin).get(`/api/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.items.map((u) => u.username));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = await t.db('users').count<{ count: number }[]>('* as count');
    expect(seen).toHaveLength(Number(all[0]!.count));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(-3)).toEqual(['zz-page-0', 'zz-page-1', 'zz-page-2']);
  });
});

describe('API clients', () => {
  it('shows the secret once, stores only its hash, lists without secrets', async () => {
    const bank = await t.factories.institution({ kind: 'bank' });
    const res = await t.api.as(admin).post('/api/v1/api-clients').send({ institutionId: bank.id, name: 'core banking' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ clientId: expect.any(String), clientSecret: expect.any(String), institutionId: bank.id });
    const row = await t.db('api_clients').where({ client_id: res.body.clientId }).first();
    expect(row.secret_hash).not.toBe(res.body.clientSecret);
    expect(row.secret_hash).not.toContain(res.body.clientSecret);
    expect(await verifySecret(res.body.clientSecret, row.secret_hash)).toBe(true);

    const list = await t.api.as(admin).get(`/api/v1/api-clients?institutionId=${bank.id}`);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([expect.objectContaining({ clientId: res.body.clientId, name: 'core banking', revokedAt: null })]);
    expect(JSON.stringify(list.body)).not.toContain(res.body.clientSecret);
    expect(JSON.stringify(list.body)).not.toContain('scrypt');
    expect(await eventsOfType('api_client.created')).toEqual(expect.arrayContaining([
      expect.objectContaining({ data: expect.objectContaining({ clientId: res.body.clientId }) }),
    ]));
    expect(JSON.stringify(await eventsOfType('api_client.created'))).not.toContain(res.body.clientSecret);
  });

  it('refuses clients for the police center or a missing institution', async () => {
    for (const institutionId of [police, 'no-such-bank']) {
      const res = await t.api.as(admin).post('/api/v1/api-clients').send({ institutionId, name: 'x' });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'institutionId' })]);
    }
  });

  it('stops the clients of a deactivated institution', async () => {
    const bank = await t.factories.institution({ kind: 'bank' });
    const created = (await t.api.as(admin).post('/api/v1/api-clients').send({ institutionId: bank.id, name: 'x' })).body;
    const token = (await t.api.raw().post('/api/v1/auth/token').send({ clientId: created.clientId, clientSecret: created.clientSecret })).body.accessToken;
    expect((await t.api.raw().get('/api/v1/institutions').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    await t.api.as(admin).patch(`/api/v1/institutions/${bank.id}`).send({ active: false });
    expect((await t.api.raw().get('/api/v1/institutions').set('Authorization', `Bearer ${token}`)).status).toBe(401);
  });

  it('when an institution is deactivated, then its liaisons lose access and its open tasks wait, unrouted, for a supervisor', async () => {
    const bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '621799' }] });
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const officer = await t.factories.user({ role: 'desk_officer' });
    const report = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: '6217990000000001', amountMinor: 10_000 }], indicators: [],
    }));
    const taskId = report.body.tasks[0].id;
    expect(report.body.tasks[0]).toMatchObject({ institutionId: bank.id, status: 'queued' });
    expect((await t.api.as(liaison).get(`/api/v1/tasks/${taskId}`)).status).toBe(200);

    expect((await t.api.as(admin).patch(`/api/v1/institutions/${bank.id}`).send({ active: false })).status).toBe(200);

    expect((await t.api.as(liaison).get(`/api/v1/tasks/${taskId}`)).status).toBe(401);
    const task = (await t.api.as(officer).get(`/api/v1/tasks/${taskId}`)).body;
    expect(task).toMatchObject({ status: 'unrouted', institutionId: null, version: 2 });
    expect(await t.db('events').where({ task_id: taskId, type: 'task.unrouted' })).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ reason: 'institution_deactivated', institutionId: bank.id }) }),
    ]);
  });
});
