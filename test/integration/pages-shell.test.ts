import { testApp, type TestApp } from '../helpers/test-app';
import { csrfFrom, pageSession } from '../helpers/page-session';
import { reportBody } from '../helpers/bodies';
import { FACTORY_PASSWORD } from '../helpers/factories';
import { keysOf, RESOURCES } from '../../server/i18n/i18n';

let t: TestApp;
beforeAll(async () => { t = await testApp(); });
afterAll(() => t.close());

describe('sign-in by the form', () => {
  it('sets an httpOnly SameSite=Lax cookie and sends each role to its home page', async () => {
    const cases = [
      ['desk_officer', '/reports/new'], ['supervisor', '/dashboard'], ['admin', '/admin/institutions'],
    ] as const;
    for (const [role, home] of cases) {
      const user = await t.factories.user({ role });
      const s = pageSession(t.app);
      const res = await s.login(user.username, FACTORY_PASSWORD);
      expect(res.headers.location).toBe(home);
      const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('afrc_token='));
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      expect(cookie).not.toMatch(/Secure/);
    }
  });

  it('sends a liaison to the task inbox', async () => {
    const bank = await t.factories.institution({ kind: 'bank' });
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const res = await pageSession(t.app).login(liaison.username, FACTORY_PASSWORD);
    expect(res.headers.location).toBe('/tasks');
  });

  it('shows the form again with a message on a wrong password, keeping the username', async () => {
    const user = await t.factories.user({ role: 'desk_officer' });
    const s = pageSession(t.app);
    const res = await s.submit('/login', '/login', { username: user.username, password: 'wrong-password-123' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('Wrong username or password.');
    expect(res.text).toContain(`value="${user.username}"`);
    expect(res.headers['set-cookie']?.toString() ?? '').not.toContain('afrc_token=ey');
  });

  it('honours a same-site next path and ignores an off-site one', async () => {
    const user = await t.factories.user({ role: 'supervisor' });
    const s = pageSession(t.app);
    const ok = await s.submit('/login?next=/reports', '/login', { username: user.username, password: FACTORY_PASSWORD, next: '/reports' });
    expect(ok.headers.location).toBe('/reports');
    const s2 = pageSession(t.app);
    const evil = await s2.submit('/login', '/login', { username: user.username, password: FACTORY_PASSWORD, next: '//evil.example/x' });
    expect(evil.headers.location).toBe('/dashboard');
  });

  it('signs out: the cookie is cleared and pages ask for sign-in again', async () => {
    const user = await t.factories.user({ role: 'supervisor' });
    const s = pageSession(t.app);
    await s.login(user.username, FACTORY_PASSWORD);
    const out = await s.submit('/reports', '/logout', {});
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login');
    const again = await s.get('/reports');
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe('/login?next=%2Freports');
  });
});

describe('CSRF', () => {
  it('refuses a form post without the token with 403, and with a token from another browser', async () => {
    const user = await t.factories.user({ role: 'desk_officer' });
    const s = pageSession(t.app);
    await s.get('/login');
    const bare = await s.post('/login', { username: user.username, password: FACTORY_PASSWORD }, false);
    expect(bare.status).toBe(403);
    expect(bare.text).toContain('Form expired');

    const other = pageSession(t.app);
    const page = await other.get('/login');
    const foreign = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const forged = await s.post('/login', { username: user.username, password: FACTORY_PASSWORD, _csrf: foreign }, false);
    expect(forged.status).toBe(403);
  });

  it('refuses sign-out without the token', async () => {
    const user = await t.factories.user({ role: 'desk_officer' });
    const s = pageSession(t.app);
    await s.login(user.username, FACTORY_PASSWORD);
    expect((await s.post('/logout', {}, false)).status).toBe(403);
  });

  /** A signed-in browser whose cookies would ride along on a forged cross-site JSON call. */
  async function signedInOfficer() {
    const user = await t.factories.user({ role: 'desk_officer' });
    const s = pageSession(t.app);
    await s.login(user.username, FACTORY_PASSWORD);
    return { user, s, token: csrfFrom((await s.get('/reports/new')).text) };
  }
  const reportsBy = async (name: string) => Number((await t.db('reports').where({ victim_name: name }).count('* as n').first())!.n);

  it('refuses a cookie-authenticated JSON API post without the CSRF header', async () => {
    const { s } = await signedInOfficer();
    const res = await s.agent.post('/api/v1/reports').set('Accept', 'application/json').send(reportBody({ victim: { name: 'Csrf Forged' } }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('csrf_invalid');
    expect(await reportsBy('Csrf Forged')).toBe(0);
  });

  it('accepts the same cookie-authenticated post with the x-csrf-token header', async () => {
    const { s, token } = await signedInOfficer();
    const res = await s.agent.post('/api/v1/reports').set('Accept', 'application/json').set('x-csrf-token', token)
      .send(reportBody({ victim: { name: 'Csrf Header' } }));
    expect(res.status).toBe(201);
    expect(await reportsBy('Csrf Header')).toBe(1);
  });

  it('leaves bearer-token API calls alone, even from a browser that also holds the cookies', async () => {
    const { user, s } = await signedInOfficer();
    const res = await s.agent.post('/api/v1/reports').set('Accept', 'application/json').set('Authorization', `Bearer ${t.tokenFor(user)}`)
      .send(reportBody({ victim: { name: 'Csrf Bearer' } }));
    expect(res.status).toBe(201);
    expect(await reportsBy('Csrf Bearer')).toBe(1);
    const plain = await t.api.as(user).post('/api/v1/reports').send(reportBody({ victim: { name: 'Csrf Bearer' } }));
    expect(plain.status).toBe(201);
    // No cookie at all: nothing for another site to borrow, so the API answers on its own terms.
    const anonymous = await t.api.raw().post('/api/v1/auth/login').send({ username: 'nobody', password: 'nothing-at-all' });
    expect(anonymous.status).toBe(401);
  });
});

describe('language', () => {
  it('follows Accept-Language, and the switch sticks by cookie', async () => {
    const zh = pageSession(t.app, 'zh-CN,zh;q=0.9');
    expect((await zh.get('/login')).text).toContain('用户名');
    const en = pageSession(t.app, 'en-US');
    const page = await en.get('/login');
    expect(page.text).toContain('Username');
    expect(page.text).toContain('<html lang="en">');
    const switched = await en.post('/lang', { lang: 'zh-CN', next: '/login' });
    expect(switched.status).toBe(303);
    const after = await en.get('/login');
    expect(after.text).toContain('<html lang="zh-CN">');
    expect(after.text).toContain('用户名');
  });

  it('has every English string in Simplified Chinese too', () => {
    expect(keysOf(RESOURCES['zh-CN']).sort()).toEqual(keysOf(RESOURCES.en).sort());
  });
});

it('sends a Content-Security-Policy that allows no inline script', async () => {
  const res = await pageSession(t.app).get('/login');
  const csp = String(res.headers['content-security-policy']);
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(res.text).not.toMatch(/\sstyle="/);
});
