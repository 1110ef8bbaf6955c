import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import type { TestUser } from '../helpers/factories';

// API.md: a token stops working within 5 seconds of logout, a password change or reset, a change
// of role or institution, or deactivation; role and institution are those of now.
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await testApp();
  admin = await t.factories.user({ role: 'admin' });
});
afterAll(() => t.close());

async function loginToken(user: TestUser): Promise<string> {
  const res = await t.api.raw().post('/api/v1/auth/login').send({ username: user.username, password: user.password });
  expect(res.status).toBe(200);
  return res.body.token as string;
}

const bearer = (token: string) => ({ get: (url: string) => t.api.raw().get(url).set('Authorization', `Bearer ${token}`) });

/** The token's answer on a route the user may read, asked until it changes or 5 seconds pass. */
async function statusWithin5s(token: string, url: string, expected: number): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const status = (await bearer(token).get(url)).status;
    if (status === expected || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('ends a bearer token at POST /auth/logout, and the user can log in again', async () => {
  const officer = await t.factories.user({ role: 'desk_officer' });
  const token = await loginToken(officer);
  expect((await bearer(token).get('/api/v1/reports')).status).toBe(200);

  const out = await t.api.raw().post('/api/v1/auth/logout').set('Authorization', `Bearer ${token}`);
  expect(out.status).toBe(204);
  expect(await statusWithin5s(token, '/api/v1/reports', 401)).toBe(401);

  const fresh = await loginToken(officer);
  expect((await bearer(fresh).get('/api/v1/reports')).status).toBe(200);
  expect((await t.api.raw().post('/api/v1/auth/logout')).status).toBe(401);
});

it('ends the page cookie at sign-out: the old cookie opens nothing afterwards', async () => {
  const officer = await t.factories.user({ role: 'desk_officer' });
  const s = pageSession(t.app);
  const login = await s.login(officer.username, officer.password);
  const cookie = ([] as string[]).concat(login.headers['set-cookie'] ?? []).find((c) => c.startsWith('afrc_token='))!.split(';')[0]!;
  expect((await t.api.raw().get('/api/v1/reports').set('Cookie', cookie)).status).toBe(200);

  await s.submit('/reports', '/logout', {});
  const deadline = Date.now() + 5000;
  let status = 0;
  while (Date.now() < deadline && (status = (await t.api.raw().get('/api/v1/reports').set('Cookie', cookie)).status) !== 401) {
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(status).toBe(401);
  const page = await t.api.raw().get('/reports').set('Cookie', cookie).set('Accept', 'text/html');
  expect(page.status).toBe(303);
  expect(page.headers.location).toMatch(/^\/login/);
});

it('ends tokens when an admin changes the password', async () => {
  const officer = await t.factories.user({ role: 'desk_officer' });
  const token = await loginToken(officer);
  const res = await t.api.as(admin).patch(`/api/v1/users/${officer.id}`).send({ password: 'a-brand-new-password' });
  expect(res.status).toBe(200);
  expect(await statusWithin5s(token, '/api/v1/reports', 401)).toBe(401);
});

it('ends tokens when the role changes: a demoted supervisor no longer reads statistics', async () => {
  const supervisor = await t.factories.user({ role: 'supervisor' });
  const token = await loginToken(supervisor);
  expect((await bearer(token).get('/api/v1/stats/summary')).status).toBe(200);
  const res = await t.api.as(admin).patch(`/api/v1/users/${supervisor.id}`).send({ role: 'desk_officer' });
  expect(res.status).toBe(200);
  expect(res.body.role).toBe('desk_officer');
  expect(await statusWithin5s(token, '/api/v1/stats/summary', 401)).toBe(401);
});

it('acts with the role and institution of now, even where the token says otherwise', async () => {
  const bankA = await t.factories.institution({ kind: 'bank' });
  const bankB = await t.factories.institution({ kind: 'bank' });
  const supervisor = await t.factories.user({ role: 'supervisor' });
  const liaison = await t.factories.user({ role: 'liaison', institutionId: bankA.id });
  const supToken = await loginToken(supervisor);
  const liaisonToken = await loginToken(liaison);
  // Changed underneath, as a data fix would: the tokens still carry the old role and institution.
  await t.db('users').where({ id: supervisor.id }).update({ role: 'desk_officer' });
  await t.db('users').where({ id: liaison.id }).update({ institution_id: bankB.id });
  expect(await statusWithin5s(supToken, '/api/v1/stats/summary', 403)).toBe(403);
  const feeds = await t.api.raw().post('/api/v1/feeds').set('Authorization', `Bearer ${liaisonToken}`).send({
    items: [{ type: 'fraud_indicator', externalId: 'now-b', indicator: { kind: 'phone', value: '+8617100001111' }, confidence: 'suspected', observedAt: new Date().toISOString() }],
  });
  expect(feeds.status).toBe(202);
  expect((await t.db('feed_batches').where({ id: feeds.body.batchId }).first()).institution_id).toBe(bankB.id);
});

it('ends tokens when the institution changes', async () => {
  const bankA = await t.factories.institution({ kind: 'bank' });
  const bankB = await t.factories.institution({ kind: 'bank' });
  const liaison = await t.factories.user({ role: 'liaison', institutionId: bankA.id });
  const token = await loginToken(liaison);
  const res = await t.api.as(admin).patch(`/api/v1/users/${liaison.id}`).send({ institutionId: bankB.id });
  expect(res.status).toBe(200);
  expect(await statusWithin5s(token, '/api/v1/tasks', 401)).toBe(401);
});

it('does not revive old tokens when a deactivated user is reactivated', async () => {
  const officer = await t.factories.user({ role: 'desk_officer' });
  const token = await loginToken(officer);
  expect((await t.api.as(admin).patch(`/api/v1/users/${officer.id}`).send({ active: false })).status).toBe(200);
  expect(await statusWithin5s(token, '/api/v1/reports', 401)).toBe(401);
  expect((await t.api.as(admin).patch(`/api/v1/users/${officer.id}`).send({ active: true })).status).toBe(200);
  expect((await bearer(token).get('/api/v1/reports')).status).toBe(401);
  expect((await bearer(await loginToken(officer)).get('/api/v1/reports')).status).toBe(200);
});
