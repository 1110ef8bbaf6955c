import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';

jest.setTimeout(120_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(__dirname, '..', '..', 'test-artifacts', 'e2e');

let t: TestApp;
let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  t = await testApp();
  server = await new Promise<Server>((resolve) => { const s = t.app.listen(0, '127.0.0.1', () => resolve(s)); });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await t?.close();
});

it('renders the API reference from the published OpenAPI document, under the Content-Security-Policy', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const violations: string[] = [];
  const offSite: string[] = [];
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text()); });
  page.on('request', (req) => { if (!req.url().startsWith(base) && !req.url().startsWith('data:')) offSite.push(req.url()); });
  await page.goto(`${base}/api/docs`);
  // One block per operation, generated from the zod schemas the routes validate with.
  await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
  expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
  await expect(page.locator('.opblock-summary-path', { hasText: '/api/v1/auth/login' }).first().isVisible()).resolves.toBe(true);
  await expect(page.locator('.opblock-summary-path', { hasText: '/api/v1/reports' }).first().isVisible()).resolves.toBe(true);
  // Opening an operation shows its request body schema.
  await page.locator('.opblock-summary-path', { hasText: '/api/v1/auth/login' }).first().click();
  await page.locator('.opblock-body').first().waitFor();
  expect(await page.locator('.opblock-body').first().innerText()).toContain('password');
  await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs.png') });
  expect(violations).toEqual([]);
  expect(offSite).toEqual([]);
  await context.close();
});
