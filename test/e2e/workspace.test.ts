import type { Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn as signInWith } from '../helpers/browser';
import type { TestInstitution, TestUser } from '../helpers/factories';

jest.setTimeout(120_000);

let t: TestApp;
let web: { server: Server; base: string; close(): Promise<void> };
let base: string;
let browser: Browser;
let bank: TestInstitution;
let carrier: TestInstitution;
let officer: TestUser;
let bankLiaison: TestUser;
let carrierLiaison: TestUser;
let supervisor: TestUser;
let reportUrl = '';

beforeAll(async () => {
  t = await testApp();
  web = await listen(t.app);
  base = web.base;
  browser = await launchChromium();
  bank = await t.factories.institution({ kind: 'bank', name: 'E2E Bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  carrier = await t.factories.institution({ kind: 'carrier', name: 'E2E Mobile', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  officer = await t.factories.user({ role: 'desk_officer', displayName: 'Officer Wang' });
  bankLiaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
  supervisor = await t.factories.user({ role: 'supervisor' });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

const shot = screenshot;

const signIn = (user: TestUser, opts: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> =>
  signInWith(browser, base, user, opts);

it('a desk officer signs in by the form and files a report, fixing one mistake on the way', async () => {
  const { context, page } = await signIn(officer);
  expect(new URL(page.url()).pathname).toBe('/reports/new');
  await page.fill('#victim-name', 'Chen Jie');
  await page.fill('#victim-id', '330106199001011234');
  await page.selectOption('#fraud-type', 'customer_service');
  await page.fill('#occurred-at', '2026-11-28T09:12');
  await page.fill('#narrative', 'Caller posing as a refund agent. <script>alert(1)</script>');
  await page.selectOption('#transfers-0-bank', bank.id);
  await page.fill('#transfers-0-account', '6222 0212 3456 7890');
  await page.fill('#transfers-0-name', 'Zhang San');
  await page.fill('#transfers-0-amount', '12,34');   // a European decimal comma: refused, not read as 1234
  await page.fill('#indicators-0-value', '+86 171 0000 1234');
  // Progressive enhancement: the add-row button appears with JavaScript and adds a numbered row.
  const rowsBefore = await page.locator('#indicator-rows [data-row]').count();
  await page.click('[data-add-row="indicator-rows"]');
  expect(await page.locator('#indicator-rows [data-row]').count()).toBe(rowsBefore + 1);
  await page.selectOption(`#indicators-${rowsBefore}-kind`, 'url');
  await page.fill(`#indicators-${rowsBefore}-value`, 'http://refund-desk.example/pay');

  // The page is already loaded, so waiting for "load" would return at once; wait for the refused post itself.
  const refused = page.waitForResponse((r) => new URL(r.url()).pathname === '/reports/new' && r.request().method() === 'POST');
  await page.click('form[action="/reports/new"] button[type=submit].primary');
  expect((await refused).status()).toBe(400);
  await page.waitForSelector('#transfers-0-amount + .field-error');
  await shot(page, '01-report-validation');
  const amountError = page.locator('#transfers-0-amount + .field-error');
  await expect(amountError.textContent()).resolves.toContain('not an amount');
  expect(await page.inputValue('#victim-name')).toBe('Chen Jie');
  expect(await page.inputValue('#transfers-0-account')).toBe('6222 0212 3456 7890');
  expect(await page.inputValue(`#indicators-${rowsBefore}-value`)).toBe('http://refund-desk.example/pay');

  await page.fill('#transfers-0-amount', '50,000.00');
  // Filing leads to the victim's receipt first; the case is one link further.
  await Promise.all([page.waitForURL(/\/reports\/[0-9a-f-]{36}\/receipt$/), page.click('form[action="/reports/new"] button[type=submit].primary')]);
  await expect(page.locator('#receipt [data-receipt="access-code"]').count()).resolves.toBe(2);
  await Promise.all([page.waitForURL(/\/reports\/[0-9a-f-]{36}$/), page.click('#to-case')]);
  reportUrl = page.url();
  await shot(page, '02-report-filed');
  await expect(page.locator('h1').textContent()).resolves.toMatch(/FR-\d{8}-\d{6}/);
  await expect(page.locator('.tree').textContent()).resolves.toContain('¥50,000.00');
  await expect(page.locator('pre.narrative').textContent()).resolves.toContain('<script>alert(1)</script>');
  await context.close();
});

it('the liaisons clear their tasks from /tasks: a freeze, and the blocking tasks in bulk', async () => {
  const { context, page } = await signIn(bankLiaison);
  expect(new URL(page.url()).pathname).toBe('/tasks');
  await shot(page, '03-bank-inbox');
  expect(await page.content()).not.toContain('330106199001011234');
  await expect(page.locator('[data-countdown]').first().textContent()).resolves.toMatch(/due in|overdue by/);
  await Promise.all([page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/), page.click('a[href^="/tasks/"]')]);
  await page.selectOption('#outcome', 'frozen');
  await page.fill('#frozen', '30,000.00');
  await Promise.all([page.waitForURL(/recorded=1/), page.click('form[action$="/result"] button[type=submit].primary')]);
  await shot(page, '04-task-frozen');
  await expect(page.locator('.notice').first().textContent()).resolves.toContain('Result recorded.');
  await page.goto(`${base}/tasks`);
  await expect(page.locator('.notice').textContent()).resolves.toContain('No open tasks');
  await context.close();

  const carrierSide = await signIn(carrierLiaison);
  const boxes = carrierSide.page.locator('input[name="task"]');
  expect(await boxes.count()).toBe(1);
  await boxes.first().check();
  await Promise.all([carrierSide.page.waitForURL(/blocked=1/), carrierSide.page.click('form[action="/tasks/bulk-blocked"] button[type=submit].primary')]);
  await shot(carrierSide.page, '05-carrier-bulk-blocked');
  await expect(carrierSide.page.locator('.notice').first().textContent()).resolves.toContain('1 task(s) marked as blocked.');
  await carrierSide.context.close();
});

it('the supervisor sees the frozen amount on the dashboard', async () => {
  const { context, page } = await signIn(supervisor);
  expect(new URL(page.url()).pathname).toBe('/dashboard');
  await shot(page, '06-dashboard');
  await expect(page.locator('[data-figure="today"] .value').textContent()).resolves.toBe('¥30,000.00');
  await expect(page.locator('[data-figure="prevented"] .value').textContent()).resolves.toBe('¥30,000.00');
  await expect(page.locator('#league').textContent()).resolves.toContain('E2E Bank');
  await page.goto(reportUrl);
  await expect(page.locator('.tree').textContent()).resolves.toContain('Frozen ¥30,000.00');
  await context.close();
});

it('works without JavaScript: sign in and file a report with the plain form', async () => {
  const { context, page } = await signIn(officer, { javaScriptEnabled: false });
  await page.fill('#victim-name', 'No Script');
  await page.selectOption('#fraud-type', 'loan');
  await page.fill('#occurred-at', '2026-11-28T10:00');
  await page.fill('#transfers-2-account', '6222020000000001');
  await page.fill('#transfers-2-amount', '88.80');
  // A fourth transfer: "Add a row" asks the server for the same form with one more row.
  expect(await page.locator('#transfers-3-account').count()).toBe(0);
  await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/reports/new' && r.request().method() === 'POST'),
    page.click('[data-add-row="transfer-rows"]'),
  ]);
  await page.waitForSelector('#transfers-3-account');
  expect(await page.inputValue('#victim-name')).toBe('No Script');
  expect(await page.inputValue('#transfers-2-amount')).toBe('88.80');
  await page.fill('#transfers-3-account', '6222020000000002');
  await page.fill('#transfers-3-amount', '11.20');
  // Enter in a field files the report; it does not add yet another row.
  await Promise.all([page.waitForURL(/\/reports\/[0-9a-f-]{36}\/receipt$/), page.press('#transfers-3-amount', 'Enter')]);
  await page.goto(page.url().replace(/\/receipt$/, ''));
  await shot(page, '07-no-js-report');
  await expect(page.locator('.tree').textContent()).resolves.toContain('¥88.80');
  await expect(page.locator('.tree').textContent()).resolves.toContain('¥11.20');
  await context.close();
});
