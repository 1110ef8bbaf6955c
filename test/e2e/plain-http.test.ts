import { networkInterfaces } from 'node:os';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, signIn } from '../helpers/browser';

jest.setTimeout(120_000);

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
  browser = await launchChromium();
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
  await context.close();

  // The sign-in cookie survives plain http (a Secure one would be dropped and the form loop to /login).
  const signedIn = await signIn(browser, base, officer);
  expect(new URL(signedIn.page.url()).protocol).toBe('http:');
  expect(new URL(signedIn.page.url()).pathname).toBe('/reports/new');
  await signedIn.context.close();
});
