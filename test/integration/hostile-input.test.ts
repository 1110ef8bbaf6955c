import { reportBody } from '../helpers/bodies';
import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import type { TestUser } from '../helpers/factories';

// What one careless or hostile user can send: amounts beyond what a JSON number holds exactly,
// bodies nested thousands deep, impossible dates and currencies that are not money.
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

let t: TestApp;
let officer: TestUser;
let supervisor: TestUser;
let liaison: TestUser;

beforeAll(async () => {
  t = await testApp();
  const bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
});
afterAll(() => t.close());

const reportCount = async () => Number((await t.db('reports').count({ n: '*' }))[0]!.n);

/** `{"a":[[[…0…]]]}` nested `depth` arrays deep, as text (JSON.stringify would recurse). */
const nested = (depth: number, key = 'items') => `{"${key}":${'['.repeat(depth)}0${']'.repeat(depth)}}`;

describe('amounts (row 2)', () => {
  it('refuses a transfer above MAX_AMOUNT_MINOR with its field path', async () => {
    const before = await reportCount();
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: '6222021234567890', amountMinor: MAX_SAFE }],
    }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'transfers.0.amountMinor' })]);
    expect(await reportCount()).toBe(before);
  });
});

describe('deep nesting (row 8)', () => {
  it('answers a report body nested 5,000 levels deep with 400, not 500', async () => {
    const res = await t.api.as(officer).post('/api/v1/reports').set('Content-Type', 'application/json').send(nested(5000, 'narrative'));
    expect(res.status).toBe(400);
    expect(['validation_failed', 'malformed_json']).toContain(res.body.error.code);
    expect(res.body.error.message).toMatch(/nest/i);
  });

  it('answers a JSON feed with an item nested 5,000 levels deep with 400, not 500', async () => {
    const res = await t.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/json').send(nested(5000));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/nest/i);
  });

  it('rejects an NDJSON line nested 5,000 levels deep alone, and takes the rest of the feed', async () => {
    const good = JSON.stringify({ type: 'fraud_indicator', externalId: 'ok-1', indicator: { kind: 'phone', value: '+8617100009999' }, confidence: 'suspected', observedAt: new Date().toISOString() });
    const deep = `{"type":"fraud_indicator","externalId":"deep-1","indicator":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const res = await t.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(`${deep}\n${good}\n`);
    expect(res.status).toBe(202);
    await t.deps.services.feeds.processBatch(res.body.batchId);
    const batch = await t.api.as(liaison).get(`/api/v1/feeds/${res.body.batchId}`);
    expect(batch.body).toMatchObject({ status: 'done', accepted: 1, rejected: 1 });
    expect(batch.body.errors[0]).toMatchObject({ index: 0, message: expect.stringMatching(/nest/i) });
  });
});

describe('dates and currencies (row 11)', () => {
  const inFuture = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

  it.each([
    ['year 0000', { occurredAt: '0000-01-01T00:00:00Z' }, 'occurredAt'],
    ['year 0001', { occurredAt: '0001-01-01T00:00:00Z' }, 'occurredAt'],
    ['year 9999', { occurredAt: '9999-12-31T00:00:00Z' }, 'occurredAt'],
    ['days in the future', { occurredAt: inFuture(3) }, 'occurredAt'],
    ['a transfer days in the future', { transfers: [{ toAccount: '6222021234567890', amountMinor: 100, transferredAt: inFuture(2) }] }, 'transfers.0.transferredAt'],
    ['currency XXX', { currency: 'XXX' }, 'currency'],
    ['currency XAU (gold)', { currency: 'XAU' }, 'currency'],
    ['currency QQQ', { currency: 'QQQ' }, 'currency'],
  ])('refuses %s with the field path', async (_name, overrides, path) => {
    const before = await reportCount();
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody(overrides as never));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
    expect(await reportCount()).toBe(before);
  });

  it('accepts a time a little ahead of the server clock (within the allowed skew) and an active currency', async () => {
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ occurredAt: new Date(Date.now() + 30_000).toISOString(), currency: 'USD' }));
    expect(res.status).toBe(201);
  });

  it('rejects a feed item observed in year 9999 alone', async () => {
    const item = (externalId: string, observedAt: string) => ({ type: 'fraud_indicator', externalId, indicator: { kind: 'phone', value: '+8617100008888' }, confidence: 'suspected', observedAt });
    const res = await t.api.as(liaison).post('/api/v1/feeds').send({ items: [item('far', '9999-01-01T00:00:00Z'), item('now', new Date().toISOString())] });
    expect(res.status).toBe(202);
    await t.deps.services.feeds.processBatch(res.body.batchId);
    const batch = await t.api.as(liaison).get(`/api/v1/feeds/${res.body.batchId}`);
    expect(batch.body).toMatchObject({ accepted: 1, rejected: 1 });
    expect(batch.body.errors[0].message).toMatch(/observedAt/);
  });
});

describe('accounts and pages (row 11)', () => {
  it('refuses to give a person the partner_system role, by API and by the admin page', async () => {
    const admin = await t.factories.user({ role: 'admin' });
    const bank = await t.factories.institution({ kind: 'bank' });
    const res = await t.api.as(admin).post('/api/v1/users').send({
      username: 'machine-person', password: 'long-enough-password', displayName: 'Machine', role: 'partner_system', institutionId: bank.id,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'role' })]);

    const s = pageSession(t.app);
    await s.login(admin.username, admin.password);
    const page = await s.submit('/admin/users', '/admin/users', {
      username: 'machine-page', displayName: 'Machine', role: 'partner_system', institutionId: bank.id, password: 'long-enough-password',
    });
    expect(page.status).toBe(400);
    expect(await t.db('users').whereIn('username', ['machine-person', 'machine-page'])).toHaveLength(0);
  });

  it('sends Cache-Control: no-store on authenticated pages and API answers, and on the login answer', async () => {
    const api = await t.api.as(officer).get('/api/v1/reports');
    expect(api.headers['cache-control']).toBe('no-store');
    const login = await t.api.raw().post('/api/v1/auth/login').send({ username: officer.username, password: officer.password });
    expect(login.headers['cache-control']).toBe('no-store');
    const s = pageSession(t.app);
    await s.login(officer.username, officer.password);
    const page = await s.get('/reports?q=330106199001011234');
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('does not claim a webhook secret is stored only as a hash', async () => {
    const admin = await t.factories.user({ role: 'admin' });
    const s = pageSession(t.app);
    await s.login(admin.username, admin.password);
    const res = await s.submit('/admin/institutions', '/admin/institutions', {
      id: 'hook-bank', name: 'Hook Bank', kind: 'bank', integration: 'webhook', webhookUrl: 'https://93.184.216.34/afrc', routes: '',
    });
    expect(res.status).toBe(201);
    expect(res.text).toContain('id="secret"');
    expect(res.text).not.toMatch(/hash/i);
    expect(res.text).toMatch(/keeps it, readable, to sign/i);
  });
});
