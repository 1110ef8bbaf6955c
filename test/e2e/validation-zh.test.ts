import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn } from '../helpers/browser';
import type { TestInstitution, TestUser } from '../helpers/factories';

jest.setTimeout(120_000);

let t: TestApp;
let web: { server: Server; base: string; close(): Promise<void> };
let browser: Browser;
let bank: TestInstitution;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp();
  web = await listen(t.app);
  browser = await launchChromium();
  bank = await t.factories.institution({ kind: 'bank', name: '测试银行', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

/** zod's own sentences and the use cases' English ones: none may reach a Chinese page. */
const ENGLISH = /Too small|Too big|Invalid|expected|received|characters|Enter |is not|must |only|digits/;
const CJK = /[\u4e00-\u9fff]/;

it('a desk officer in Chinese submits a report full of mistakes: every problem at once, in Chinese, beside its field, no English', async () => {
  const { context, page } = await signIn(browser, web.base, officer, { locale: 'zh-CN' });
  await page.goto(`${web.base}/reports/new`);
  expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');

  // No victim name, no fraud type, no time; an account with letters, an amount with a comma for a
  // decimal point, a link that cannot be taken down, a phone number that cannot exist.
  await page.fill('#victim-phone', '12');
  await page.selectOption('#transfers-0-bank', bank.id);
  await page.fill('#transfers-0-account', '6222 02AB CD');
  await page.fill('#transfers-0-amount', '12,34');
  await page.selectOption('#indicators-0-kind', 'url');
  await page.fill('#indicators-0-value', 'mailto:someone@example.com');

  const refused = page.waitForResponse((r) => new URL(r.url()).pathname === '/reports/new' && r.request().method() === 'POST');
  await page.click('form[action="/reports/new"] button[type=submit].primary');
  expect((await refused).status()).toBe(400);
  await page.waitForSelector('#victim-name-error');
  await screenshot(page, 'validation-zh-report');

  const errorOf = async (selector: string) => (await page.locator(selector).textContent())!.replace(/^⚠\s*/, '').trim();
  expect(await errorOf('#victim-name-error')).toBe('请填写此项。');
  expect(await errorOf('#fraud-type-error')).toBe('请从选项中选择。');
  expect(await errorOf('#occurred-at-error')).toMatch(CJK);
  expect(await errorOf('#victim-phone-error')).toBe('“12”不是有效的电话号码。');
  expect(await errorOf('#transfers-0-account + .field-error')).toBe('账号只能包含数字。');
  expect(await errorOf('#transfers-0-amount + .field-error')).toMatch(CJK);
  expect(await errorOf('#indicators-0-value + .field-error')).toBe('只能关停 http 或 https 网址。');
  // Marked for assistive technology too.
  expect(await page.getAttribute('#victim-name', 'aria-invalid')).toBe('true');

  const messages = await page.locator('.field-error').allTextContents();
  expect(messages.length).toBeGreaterThanOrEqual(7);
  for (const m of messages) {
    expect(m).toMatch(CJK);
    expect(m).not.toMatch(ENGLISH);
  }
  const main = (await page.locator('main').textContent())!;
  expect(main).not.toMatch(/Too small|Invalid input|expected string/);
  // What was typed is still there.
  expect(await page.inputValue('#transfers-0-account')).toBe('6222 02AB CD');
  expect(await page.inputValue('#indicators-0-value')).toBe('mailto:someone@example.com');
  expect(await t.db('reports')).toEqual([]);
  await context.close();
});

it('the sign-in and case-status forms name each missing field in Chinese beside it', async () => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  await page.goto(`${web.base}/login`);
  await page.click('button[type=submit].primary');
  await page.waitForSelector('#username-error');
  expect(await page.textContent('#username-error')).toContain('请填写此项。');
  expect(await page.textContent('#password-error')).toContain('请填写此项。');
  await page.goto(`${web.base}/status`);
  await page.click('#case-status-form button[type=submit]');
  await page.waitForSelector('#case-number-error');
  for (const m of await page.locator('.field-error').allTextContents()) {
    expect(m).toMatch(CJK);
    expect(m).not.toMatch(ENGLISH);
  }
  await context.close();
});
