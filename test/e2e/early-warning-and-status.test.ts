import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn } from '../helpers/browser';
import type { TestInstitution, TestUser } from '../helpers/factories';

jest.setTimeout(120_000);

let t: TestApp;
let web: Awaited<ReturnType<typeof listen>>;
let browser: Browser;
let bank: TestInstitution;
let officer: TestUser;
let liaison: TestUser;
let supervisor: TestUser;
let filed = { caseNumber: '', code: '' };

beforeAll(async () => {
  t = await testApp();
  web = await listen(t.app);
  browser = await launchChromium();
  bank = await t.factories.institution({ kind: 'bank', name: 'Warning Bank', routes: [{ indicatorKind: 'bank_account', prefix: '621700' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  supervisor = await t.factories.user({ role: 'supervisor' });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

it('after filing, the officer gets the victim\'s receipt with the access code in both languages, once', async () => {
  const { context, page } = await signIn(browser, web.base, officer);
  await page.goto(`${web.base}/reports/new`);
  await page.fill('#victim-name', 'Receipt Victim');
  await page.selectOption('#fraud-type', 'investment');
  await page.fill('#occurred-at', '2026-11-28T09:12');
  await page.fill('#transfers-0-account', '6222 0212 0000 0042');
  await page.fill('#transfers-0-amount', '8,000.00');
  await Promise.all([page.waitForURL(/\/reports\/[0-9a-f-]{36}\/receipt$/), page.click('form[action="/reports/new"] button[type=submit].primary')]);
  await screenshot(page, 'status-01-receipt');

  const codes = await page.locator('#receipt [data-receipt="access-code"]').allTextContents();
  expect(codes).toHaveLength(2);
  expect(codes[0]).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  expect(codes[1]).toBe(codes[0]);
  const caseNumbers = await page.locator('#receipt [data-receipt="case-number"]').allTextContents();
  expect(caseNumbers[0]).toMatch(/^FR-\d{8}-\d{6}$/);
  await expect(page.locator('#receipt [lang="en"]').textContent()).resolves.toContain(`${web.base}/status`);
  await expect(page.locator('#receipt [lang="zh-CN"]').textContent()).resolves.toContain('查询码');
  // With JavaScript the print button shows; printed, only the receipt is on paper.
  expect(await page.locator('[data-print]').isVisible()).toBe(true);
  await page.emulateMedia({ media: 'print' });
  expect(await page.locator('header.top').isVisible()).toBe(false);
  expect(await page.locator('#receipt').isVisible()).toBe(true);
  await page.emulateMedia({ media: 'screen' });
  filed = { caseNumber: caseNumbers[0]!, code: codes[0]! };

  await page.reload();
  expect(await page.locator('[data-receipt="access-code"]').count()).toBe(0);
  expect(await page.content()).not.toContain(filed.code);
  await context.close();
});

it('/status answers the victim in English and in Chinese, without JavaScript too, and keeps what was typed', async () => {
  for (const [locale, title, stage, notFound] of [
    ['en-US', 'Check your case', 'Received', 'No case matches'],
    ['zh-CN', '案件进展查询', '已受理', '没有与该案件编号和查询码相符的案件'],
  ] as const) {
    const context = await browser.newContext({ locale, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${web.base}/status`);
    await expect(page.locator('h1').textContent()).resolves.toBe(title);
    await page.fill('#case-number', filed.caseNumber);
    await page.fill('#access-code', 'WRNG-WRNG-WRNG');
    await Promise.all([page.waitForLoadState(), page.click('#case-status-form button[type=submit]')]);
    await expect(page.locator('.notice').textContent()).resolves.toContain(notFound);
    expect(await page.inputValue('#case-number')).toBe(filed.caseNumber);
    expect(await page.inputValue('#access-code')).toBe('WRNG-WRNG-WRNG');

    await page.fill('#access-code', filed.code.toLowerCase());
    await Promise.all([page.waitForLoadState(), page.click('#case-status-form button[type=submit]')]);
    await screenshot(page, `status-02-${locale}`);
    await expect(page.locator('[data-status="stage"]').textContent()).resolves.toContain(stage);
    await expect(page.locator('#case-status [data-figure="reported"] .value').textContent()).resolves.toBe('¥8,000.00');
    const text = (await page.locator('#case-status').textContent()) ?? '';
    expect(text).not.toContain('Receipt Victim');
    expect(text).not.toContain('6222021200000042');
    await context.close();
  }
});

it('the supervisor sees warnings issued, payers dissuaded and the money kept, apart from loss prevented', async () => {
  await t.db('indicators').insert({ kind: 'bank_account', value: '6228480000009999', status: 'suspected' });
  const screened = await t.api.as(liaison).post('/api/v1/screening').send({ items: [
    { ref: 'e2e-pay-1', payer: { account: '6217000000000001', name: 'Payer One' }, payee: { kind: 'bank_account', value: '6228480000009999' }, amountMinor: 1_200_000 },
    { ref: 'e2e-pay-2', payer: { account: '6217000000000002', name: 'Payer Two' }, payee: { kind: 'bank_account', value: '6228480000009999' }, amountMinor: 300_000 },
    { ref: 'e2e-pay-3', payer: { account: '6217000000000003' }, payee: { kind: 'bank_account', value: '6228480000000000' }, amountMinor: 100 },
  ] });
  expect(screened.body.results.map((r: { decision: string }) => r.decision)).toEqual(['warn', 'warn', 'allow']);

  // The payer's bank answers the first warning in its inbox: the payer was talked out of it.
  const bankSide = await signIn(browser, web.base, liaison);
  await bankSide.page.goto(`${web.base}/tasks/${screened.body.results[0].taskId}`);
  await expect(bankSide.page.locator('#screened-payment').textContent()).resolves.toContain('e2e-pay-1');
  await expect(bankSide.page.locator('#screened-payment').textContent()).resolves.toContain('6228480000009999');
  await screenshot(bankSide.page, 'status-03-warning-task');
  await bankSide.page.selectOption('#outcome', 'dissuaded');
  await Promise.all([bankSide.page.waitForURL(/recorded=1/), bankSide.page.click('form[action$="/result"] button[type=submit].primary')]);
  await bankSide.context.close();

  const { context, page } = await signIn(browser, web.base, supervisor);
  await page.goto(`${web.base}/dashboard`);
  await screenshot(page, 'status-04-dashboard-warnings');
  await expect(page.locator('[data-figure="warnings-issued"] .value').textContent()).resolves.toBe('2');
  await expect(page.locator('[data-figure="warnings-dissuaded"] .value').textContent()).resolves.toBe('1');
  await expect(page.locator('[data-figure="warnings-kept"] .value').textContent()).resolves.toBe('¥12,000.00');
  await expect(page.locator('[data-figure="prevented"] .value').textContent()).resolves.toBe('¥0.00');
  await context.close();
});
