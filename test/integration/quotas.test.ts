import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { createApp } from '../../server/app';
import { createDeps, type Deps } from '../../server/wiring';
import { parseConfig } from '../../server/config';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { pageSession } from '../helpers/page-session';

let t: TestApp;
let otherDeps: Deps;
let other: ReturnType<typeof createApp>;
let bank: TestInstitution;

beforeAll(async () => {
  t = await testApp({
    QUOTA_REPORTS_USER: '2', QUOTA_LOOKUPS_USER: '2', QUOTA_LOOKUPS_CLIENT: '3', QUOTA_SCREENING_USER: '2', QUOTA_SCREENING_CLIENT: '3',
    QUOTA_FEEDS_USER: '2', QUOTA_FEEDS_CLIENT: '3',
  });
  // A second web process's app: the same database and store, its own memory.
  otherDeps = createDeps(t.config);
  other = createApp(otherDeps);
  bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622848' }] });
});
afterAll(async () => {
  await otherDeps.close();
  await t.close();
});

const hex = () => randomBytes(4).toString('hex');
const as = (app: ReturnType<typeof createApp>, user: TestUser) => ({
  post: (url: string) => request(app).post(url).set('Authorization', `Bearer ${t.tokenFor(user)}`),
});

function expectQuotaRefusal(res: request.Response) {
  expect(res.status).toBe(429);
  expect(res.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String), details: [] } });
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
}

const lookupBody = () => ({ items: [{ kind: 'bank_account', value: `622848${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}` }] });
const screeningBody = () => ({ items: [{ ref: `pay-${hex()}`, payer: { account: '6217001234567890' }, payee: lookupBody().items[0], amountMinor: 1000, currency: 'CNY' }] });
const feedBody = () => ({ items: [{ type: 'fraud_indicator', externalId: `q-${hex()}`, indicator: lookupBody().items[0], confidence: 'suspected', observedAt: '2026-11-28T09:00:00+08:00' }] });

describe('per-caller quotas', () => {
  it('when an officer files more reports than QUOTA_REPORTS_USER, then the next is 429 rate_limited with Retry-After, at every web process; another officer is unaffected', async () => {
    const officer = await t.factories.user({ role: 'desk_officer' });
    const colleague = await t.factories.user({ role: 'desk_officer' });
    expect((await as(t.app, officer).post('/api/v1/reports').send(reportBody())).status).toBe(201);
    expect((await as(other, officer).post('/api/v1/reports').send(reportBody())).status).toBe(201);
    expectQuotaRefusal(await as(t.app, officer).post('/api/v1/reports').send(reportBody()));
    expectQuotaRefusal(await as(other, officer).post('/api/v1/reports').send(reportBody()));
    expect((await as(t.app, colleague).post('/api/v1/reports').send(reportBody())).status).toBe(201);
  });

  it('when an officer files by the page form, then it spends the same quota: past it the form answers 429, and adding a row spends nothing', async () => {
    const officer = await t.factories.user({ role: 'desk_officer' });
    const s = pageSession(t.app);
    await s.login(officer.username, officer.password);
    const form = {
      'victim.name': 'Li Wei', 'victim.phone': '+8613800138000', 'victim.idNumber': '330106199001011234', channel: 'hotline',
      fraudType: 'impersonation', occurredAt: '2026-11-28T09:12', narrative: 'Caller claimed to be from the police.',
      'transfers.0.toInstitutionId': '', 'transfers.0.toAccount': '6222 0212 3456 7890', 'transfers.0.toAccountName': 'Zhang San',
      'transfers.0.amount': '1,234.56', 'transfers.0.transferredAt': '2026-11-28T09:30', 'indicators.0.kind': 'phone', 'indicators.0.value': '+86 171 0000 1234',
    };
    for (let i = 0; i < 3; i++) expect((await s.submit('/reports/new', '/reports/new', { ...form, addRow: 'transfers' })).status).toBe(200);
    expect((await s.submit('/reports/new', '/reports/new', form)).status).toBe(303);
    expect((await as(t.app, officer).post('/api/v1/reports').send(reportBody())).status).toBe(201);
    const refused = await s.submit('/reports/new', '/reports/new', form);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('when a liaison and a partner system look up indicators, then each has its own quota (USER 2, CLIENT 3)', async () => {
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const system = await t.factories.user({ role: 'partner_system', institutionId: bank.id });
    for (let i = 0; i < 2; i++) expect((await as(i ? other : t.app, liaison).post('/api/v1/indicators/lookup').send(lookupBody())).status).toBe(200);
    expectQuotaRefusal(await as(t.app, liaison).post('/api/v1/indicators/lookup').send(lookupBody()));
    for (let i = 0; i < 3; i++) expect((await as(i ? other : t.app, system).post('/api/v1/indicators/lookup').send(lookupBody())).status).toBe(200);
    expectQuotaRefusal(await as(other, system).post('/api/v1/indicators/lookup').send(lookupBody()));
  });

  it('when screening goes past its quota, then it is 429 (USER 2, CLIENT 3)', async () => {
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const system = await t.factories.user({ role: 'partner_system', institutionId: bank.id });
    for (let i = 0; i < 2; i++) expect((await as(t.app, liaison).post('/api/v1/screening').send(screeningBody())).status).toBe(200);
    expectQuotaRefusal(await as(other, liaison).post('/api/v1/screening').send(screeningBody()));
    for (let i = 0; i < 3; i++) expect((await as(other, system).post('/api/v1/screening').send(screeningBody())).status).toBe(200);
    expectQuotaRefusal(await as(t.app, system).post('/api/v1/screening').send(screeningBody()));
  });

  it('when feeds go past their quota, then the next is 429 and nothing of it is stored (USER 2, CLIENT 3)', async () => {
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const system = await t.factories.user({ role: 'partner_system', institutionId: bank.id });
    for (let i = 0; i < 2; i++) expect((await as(t.app, liaison).post('/api/v1/feeds').send(feedBody())).status).toBe(202);
    const before = Number((await t.db('feed_batches').count({ n: '*' }))[0]!.n);
    expectQuotaRefusal(await as(other, liaison).post('/api/v1/feeds').send(feedBody()));
    expect(Number((await t.db('feed_batches').count({ n: '*' }))[0]!.n)).toBe(before);
    for (let i = 0; i < 3; i++) expect((await as(other, system).post('/api/v1/feeds').send(feedBody())).status).toBe(202);
    expectQuotaRefusal(await as(t.app, system).post('/api/v1/feeds').send(feedBody()));
  });

  it('when nothing is set, then the quotas are generous and a bad setting stops the start with one line', () => {
    const defaults = parseConfig({ NODE_ENV: 'test' }).quotas;
    expect(defaults).toMatchObject({ windowSeconds: 60, reports: { user: 120 }, lookups: { user: 600, client: 6000 }, screening: { user: 600, client: 6000 }, feeds: { user: 60, client: 300 } });
    expect(() => parseConfig({ NODE_ENV: 'test', QUOTA_LOOKUPS_CLIENT: 'lots' })).toThrow(/QUOTA_LOOKUPS_CLIENT/);
  });

  it('when a client reads the OpenAPI document, then the limited routes list their 429 (and feeds their 408 and 413)', async () => {
    const doc = (await t.api.raw().get('/api/v1/openapi.json')).body as { paths: Record<string, { post: { responses: Record<string, unknown> } }> };
    for (const path of ['/api/v1/reports', '/api/v1/indicators/lookup', '/api/v1/screening', '/api/v1/feeds', '/api/v1/auth/login', '/api/v1/auth/token']) {
      expect(Object.keys(doc.paths[path]!.post.responses)).toContain('429');
    }
    expect(Object.keys(doc.paths['/api/v1/feeds']!.post.responses)).toEqual(expect.arrayContaining(['408', '413']));
  });
});
