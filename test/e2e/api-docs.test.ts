import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot } from '../helpers/browser';

jest.setTimeout(120_000);

let t: TestApp;
let web: Awaited<ReturnType<typeof listen>>;
let base: string;
let browser: Browser;

beforeAll(async () => {
  t = await testApp();
  web = await listen(t.app);
  base = web.base;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
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
  await screenshot(page, 'api-docs');
  expect(violations).toEqual([]);
  expect(offSite).toEqual([]);
  await context.close();
});
