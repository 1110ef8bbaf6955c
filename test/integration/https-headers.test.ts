import request from 'supertest';
import { parseConfig } from '../../server/config';
import { testApp, type TestApp } from '../helpers/test-app';

// Each deployment below is a production one: what differs is only whether it says it is served over https.
const apps: TestApp[] = [];
afterAll(() => Promise.all(apps.map((t) => t.close())));

async function productionApp(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await testApp({ NODE_ENV: 'production', ...env });
  apps.push(t);
  return t;
}

const upgrades = (res: request.Response) => /upgrade-insecure-requests/.test(String(res.headers['content-security-policy']));
const secureCookies = (res: request.Response) => ([] as string[]).concat(res.headers['set-cookie'] ?? []).map((c) => /;\s*Secure/i.test(c));

it('when a production deployment says nothing about https, then plain http pages get no upgrade, no HSTS and no Secure cookies', async () => {
  const t = await productionApp();
  const res = await request(t.app).get('/login');
  expect(res.status).toBe(200);
  expect(res.headers['content-security-policy']).toContain("default-src 'self'");
  expect(upgrades(res)).toBe(false);
  expect(res.headers['strict-transport-security']).toBeUndefined();
  expect(secureCookies(res).length).toBeGreaterThan(0);
  expect(secureCookies(res).every((secure) => !secure)).toBe(true);
  // A proxy's word counts only when the proxy is trusted.
  const claimed = await request(t.app).get('/login').set('X-Forwarded-Proto', 'https');
  expect(upgrades(claimed)).toBe(false);
  expect(claimed.headers['strict-transport-security']).toBeUndefined();
});

it('when PUBLIC_URL is https, then pages carry HSTS, upgrade-insecure-requests and Secure cookies', async () => {
  const t = await productionApp({ PUBLIC_URL: 'https://afrc.example.org' });
  const res = await request(t.app).get('/login');
  expect(upgrades(res)).toBe(true);
  expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  expect(secureCookies(res).every((secure) => secure)).toBe(true);
});

it('when PUBLIC_URL is http, then a proxy claiming https does not turn the upgrade on', async () => {
  const t = await productionApp({ PUBLIC_URL: 'http://10.1.2.3:3000', TRUST_PROXY: 'true' });
  const res = await request(t.app).get('/login').set('X-Forwarded-Proto', 'https');
  expect(upgrades(res)).toBe(false);
  expect(res.headers['strict-transport-security']).toBeUndefined();
});

it('when TRUST_PROXY is set, then the proxy\'s X-Forwarded-Proto decides per request', async () => {
  const t = await productionApp({ TRUST_PROXY: 'loopback' });
  const overHttps = await request(t.app).get('/login').set('X-Forwarded-Proto', 'https');
  expect(upgrades(overHttps)).toBe(true);
  expect(overHttps.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  expect(secureCookies(overHttps).every((secure) => secure)).toBe(true);
  const overHttp = await request(t.app).get('/login').set('X-Forwarded-Proto', 'http');
  expect(upgrades(overHttp)).toBe(false);
  expect(overHttp.headers['strict-transport-security']).toBeUndefined();
});

it('refuses a TRUST_PROXY it cannot read, and a PUBLIC_URL that is not http(s)', () => {
  expect(() => parseConfig({ TRUST_PROXY: 'yes please!' })).toThrow(/TRUST_PROXY: /);
  expect(() => parseConfig({ PUBLIC_URL: 'ftp://afrc.example.org' })).toThrow(/PUBLIC_URL: /);
  expect(parseConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  expect(parseConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).trustProxy).toBe('loopback, 10.0.0.0/8');
});
