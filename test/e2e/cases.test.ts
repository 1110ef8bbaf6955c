import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn } from '../helpers/browser';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';

jest.setTimeout(120_000);

let t: TestApp;
let web: Awaited<ReturnType<typeof listen>>;
let browser: Browser;
let bank: TestInstitution;
let officer: TestUser;
let liaison: TestUser;

beforeAll(async () => {
  t = await testApp();
  web = await listen(t.app);
  browser = await launchChromium();
  bank = await t.factories.institution({ kind: 'bank', name: 'Case Bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

let seq = 0;
async function fileReport() {
  const phone = `+86 171 0077 ${String(++seq).padStart(4, '0')}`;
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ indicators: [{ kind: 'phone', value: phone }] }));
  expect(res.status).toBe(201);
  return res.body as { id: string; caseNumber: string; tasks: { id: string; kind: string }[] };
}

it('without JavaScript, an officer cancels a task and closes then reopens the case from the report page, fixing a blank reason on the way', async () => {
  const report = await fileReport();
  const task = report.tasks.find((x) => x.kind === 'intercept_funds')!;
  const { context, page } = await signIn(browser, web.base, officer, { javaScriptEnabled: false });
  await page.goto(`${web.base}/reports/${report.id}`);

  // A blank reason: the page comes back with the message beside that task's field.
  const refused = page.waitForResponse((r) => r.url().endsWith(`/tasks/${task.id}/cancel`) && r.request().method() === 'POST');
  await page.click(`form[action$="/tasks/${task.id}/cancel"] button[type=submit]`);
  expect((await refused).status()).toBe(400);
  await page.waitForSelector(`#cancel-${task.id}[aria-invalid="true"]`);
  await page.fill(`#cancel-${task.id}`, 'the victim gave the wrong account');
  await Promise.all([page.waitForURL(/done=cancelled/), page.click(`form[action$="/tasks/${task.id}/cancel"] button[type=submit]`)]);
  await screenshot(page, 'cases-01-task-cancelled');
  await expect(page.locator('.notice').first().textContent()).resolves.toContain('will not be delivered again');
  await expect(page.locator('.tree').textContent()).resolves.toContain('Cancelled');
  expect(await page.locator(`form[action$="/tasks/${task.id}/cancel"]`).count()).toBe(0);

  await page.fill('#case-reason', 'Money recovered by the payer bank');
  await Promise.all([page.waitForURL(/done=closed/), page.click('form[action$="/close"] button[type=submit]')]);
  await screenshot(page, 'cases-02-case-closed');
  await expect(page.locator('h1 .badge').textContent()).resolves.toBe('Closed');
  await expect(page.locator('#case-closing').textContent()).resolves.toContain('Money recovered by the payer bank');

  await page.fill('#case-reason', 'A second victim paid into the same account');
  await Promise.all([page.waitForURL(/done=reopened/), page.click('form[action$="/reopen"] button[type=submit]')]);
  await expect(page.locator('h1 .badge').textContent()).resolves.toBe('Open');
  await expect(page.locator('.timeline').textContent()).resolves.toMatch(/Task cancelled[\s\S]*Case closed[\s\S]*Case reopened/);
  await context.close();

  expect((await t.db('tasks').where({ id: task.id }).first()).status).toBe('cancelled');
  expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('open');
});

it('a liaison sees the case number in the inbox and on the task, and printing the task prints only the request', async () => {
  const report = await fileReport();
  const task = report.tasks.find((x) => x.kind === 'intercept_funds')!;
  const { context, page } = await signIn(browser, web.base, liaison);
  await expect(page.locator(`tr:has(a[href="/tasks/${task.id}"]) [data-case-number]`).textContent()).resolves.toBe(report.caseNumber);
  await page.goto(`${web.base}/tasks/${task.id}`);
  await expect(page.locator('[data-case-number]').textContent()).resolves.toBe(report.caseNumber);
  const request = page.locator('.print-request');
  await expect(request.textContent()).resolves.toContain(report.caseNumber);
  await expect(request.textContent()).resolves.toContain('6222021234567890');
  await expect(request.textContent()).resolves.toContain('中华人民共和国反电信网络诈骗法');

  await page.emulateMedia({ media: 'print' });
  await screenshot(page, 'cases-03-printed-request');
  expect(await page.locator('header.top').isVisible()).toBe(false);
  expect(await page.locator('form[action$="/result"]').isVisible()).toBe(false);
  expect(await request.isVisible()).toBe(true);
  expect(await page.locator('.print-request .no-print').isVisible()).toBe(false);
  await page.emulateMedia({ media: 'screen' });
  expect(await page.locator('form[action$="/result"]').isVisible()).toBe(true);
  await context.close();
});
