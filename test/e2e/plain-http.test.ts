import { networkInterfaces } from 'node:os';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { FACTORY_PASSWORD } from '../helpers/factories';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The machine's own address, as a PC next to it would reach it; 127.0.0.2 when it has none. */
function ownAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.2';
}

let t: TestApp;
let server: Server;
let browser: Browser;

beforeAll(async () => {
  // A production deployment that says nothing about https: a demo opened by address over plain http.
  t = await testApp({ NODE_ENV: 'production' });
  server = await new Promise<Server>((resolve) => { const s = t.app.listen(0, '0.0.0.0', () => resolve(s)); });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await t?.close();
});

it('a page opened by the machine\'s address over plain http gets its styles and signs in', async () => {
  const officer = await t.factories.user({ role: 'desk_officer' });
  const base = `http://${ownAddress()}:${(server.address() as AddressInfo).port}`;
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const failed: string[] = [];
  const stylesheets: { url: string; status: number }[] = [];
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('response', (r) => {
    if (r.request().resourceType() === 'stylesheet') stylesheets.push({ url: r.url(), status: r.status() });
  });
  await page.goto(`${base}/login`);
  // The stylesheet loaded over http (an upgrade to https would fail: nobody serves it) and applies:
  // the page's margin is the stylesheet's 0, not the browser's 8px.
  expect(stylesheets.length).toBeGreaterThan(0);
  expect(stylesheets.every((s) => s.url.startsWith(`${base}/`) && s.status === 200)).toBe(true);
  expect(await page.evaluate('getComputedStyle(document.body).marginTop')).toBe('0px');
  expect(failed).toEqual([]);

  await page.fill('#username', officer.username);
  await page.fill('#password', FACTORY_PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit].primary')]);
  expect(new URL(page.url()).protocol).toBe('http:');
  expect(new URL(page.url()).pathname).toBe('/reports/new');
  expect(failed).toEqual([]);
  await context.close();
});
