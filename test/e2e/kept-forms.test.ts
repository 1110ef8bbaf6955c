import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn } from '../helpers/browser';
import { FACTORY_PASSWORD, type TestInstitution, type TestUser } from '../helpers/factories';
import { AUTH_COOKIE } from '../../server/auth/passport';
import { interceptTask } from '../helpers/lifecycle';

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
  bank = await t.factories.institution({ kind: 'bank', name: 'Kept Bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

const errorText = async (page: Page, selector: string) => (await page.locator(selector).textContent())!.replace(/^⚠\s*/, '').trim();

/** A long report, typed by hand. */
async function typeReport(page: Page, name: string, account: string) {
  await page.fill('#victim-name', name);
  await page.fill('#victim-phone', '+86 138 0013 8000');
  await page.selectOption('#fraud-type', 'impersonation');
  await page.fill('#occurred-at', '2026-11-28T09:12');
  await page.fill('#narrative', 'A caller posing as the police asked for a transfer to a "safe account"; the victim sent it twice.');
  await page.selectOption('#transfers-0-bank', bank.id);
  await page.fill('#transfers-0-account', account);
  await page.fill('#transfers-0-name', 'Li Ming');
  await page.fill('#transfers-0-amount', '50,000.00');
  await page.fill('#transfers-0-time', '2026-11-28T09:30');
  await page.fill('#indicators-0-value', '+86 171 0000 1234');
}

it('after a refused report, switching language keeps what was typed and shows the same problems in the other language; nothing is filed', async () => {
  const { context, page } = await signIn(browser, web.base, officer);
  await page.goto(`${web.base}/reports/new`);
  await typeReport(page, 'Zhou Xun', '6222 02AB');
  await page.fill('#victim-name', '');
  const refused = page.waitForResponse((r) => new URL(r.url()).pathname === '/reports/new' && r.request().method() === 'POST');
  await page.click('#report-form button[type=submit].primary');
  expect((await refused).status()).toBe(400);
  expect(await errorText(page, '#victim-name-error')).toBe('Fill in this field.');
  expect(await errorText(page, '#transfers-0-account + .field-error')).toBe('An account number has digits only.');

  await Promise.all([page.waitForLoadState('load'), page.click('[data-lang-switch]')]);
  await page.waitForSelector('html[lang="zh-CN"]');
  await screenshot(page, 'kept-form-zh');
  expect(await errorText(page, '#victim-name-error')).toBe('请填写此项。');
  expect(await errorText(page, '#transfers-0-account + .field-error')).toBe('账号只能包含数字。');
  expect(await page.inputValue('#transfers-0-account')).toBe('6222 02AB');
  expect(await page.inputValue('#narrative')).toContain('safe account');
  expect(await page.inputValue('#transfers-0-amount')).toBe('50,000.00');
  expect(await page.inputValue('#indicators-0-value')).toBe('+86 171 0000 1234');
  expect(await page.inputValue('#fraud-type')).toBe('impersonation');

  // And back, still the same page.
  await Promise.all([page.waitForLoadState('load'), page.click('[data-lang-switch]')]);
  await page.waitForSelector('html[lang="en"]');
  expect(await errorText(page, '#victim-name-error')).toBe('Fill in this field.');
  expect(await page.inputValue('#transfers-0-account')).toBe('6222 02AB');

  // Fixed, the language switched once more: shown again, not filed; filed only by its own button.
  await page.fill('#victim-name', 'Zhou Xun');
  await page.fill('#transfers-0-account', '6222 0212 3456 7890');
  await Promise.all([page.waitForLoadState('load'), page.click('[data-lang-switch]')]);
  await page.waitForSelector('html[lang="zh-CN"]');
  expect(await page.locator('.field-error').count()).toBe(0);
  expect(await page.inputValue('#victim-name')).toBe('Zhou Xun');
  expect(await t.db('reports')).toEqual([]);
  await Promise.all([page.waitForURL(/\/reports\/[0-9a-f-]{36}\/receipt$/), page.click('#report-form button[type=submit].primary')]);
  expect(await t.db('reports').where({ victim_name: 'Zhou Xun' })).toHaveLength(1);
  await context.close();
});

for (const javaScriptEnabled of [true, false]) {
  it(`when the session ends while a long report is typed, signing in again files it with nothing retyped (${javaScriptEnabled ? 'with' : 'without'} JavaScript)`, async () => {
    const name = `Kept ${javaScriptEnabled ? 'A' : 'B'}`;
    const { context, page } = await signIn(browser, web.base, officer, { javaScriptEnabled });
    await page.goto(`${web.base}/reports/new`);
    await typeReport(page, name, '6222 0212 3456 7891');
    // The token lapses (or the person was signed out elsewhere) while the form is open.
    await context.clearCookies({ name: AUTH_COOKIE });

    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/reports/new' && r.request().method() === 'POST');
    await page.click('#report-form button[type=submit].primary');
    expect((await answered).status()).toBe(401);
    await page.waitForSelector('#username');
    expect(await page.locator('.notice').first().textContent()).toContain('Sign in again');
    expect(await t.db('reports').where({ victim_name: name })).toEqual([]);

    await page.fill('#username', officer.username);
    await page.fill('#password', FACTORY_PASSWORD);
    if (javaScriptEnabled) {
      await Promise.all([page.waitForURL(/\/reports\/[0-9a-f-]{36}\/receipt$/), page.click('button[type=submit].primary')]);
    } else {
      await Promise.all([page.waitForSelector('#resume-form'), page.click('button[type=submit].primary')]);
      await Promise.all([page.waitForURL(/\/reports\/[0-9a-f-]{36}\/receipt$/), page.click('#resume-form button[type=submit]')]);
    }
    const [report] = await t.db('reports').where({ victim_name: name });
    expect(report).toMatchObject({ narrative: expect.stringContaining('safe account'), reported_loss_minor: 5_000_000 });
    expect(await t.db('transfers').where({ report_id: report.id }).pluck('to_account')).toEqual(['6222021234567891']);
    await context.close();
  });
}

it('a liaison\'s refused result switches language with the typed answer and the task\'s own rule kept; no result is recorded', async () => {
  const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  const task = await interceptTask(t, { toInstitutionId: bank.id, amountMinor: 1_000_000 });
  const { context, page } = await signIn(browser, web.base, liaison);
  await page.goto(`${web.base}/tasks/${task.id}`);
  await page.selectOption('#outcome', 'frozen');
  await page.fill('#frozen', '99,999.00');
  await page.fill('#note', 'Account frozen at 10:05 by the branch.');
  const refused = page.waitForResponse((r) => r.url().endsWith(`/tasks/${task.id}/result`) && r.request().method() === 'POST');
  await page.click('#result-form button[type=submit].primary');
  expect((await refused).status()).toBe(400);
  expect(await errorText(page, '#frozen + .field-error')).toBe('The frozen amount cannot be more than the amount of the task.');

  await Promise.all([page.waitForLoadState('load'), page.click('[data-lang-switch]')]);
  await page.waitForSelector('html[lang="zh-CN"]');
  expect(await errorText(page, '#frozen + .field-error')).toBe('冻结金额不能超过任务金额。');
  expect(await page.inputValue('#frozen')).toBe('99,999.00');
  expect(await page.inputValue('#note')).toBe('Account frozen at 10:05 by the branch.');
  expect(await page.inputValue('#outcome')).toBe('frozen');
  expect(await t.db('task_results').where({ task_id: task.id })).toEqual([]);
  await context.close();
});

it('a refused sign-in switches language with the username kept and no error carried over; signing in then works', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.goto(`${web.base}/login`);
  await page.fill('#username', officer.username);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit].primary');
  await page.waitForSelector('.notice-error');
  await Promise.all([page.waitForLoadState('load'), page.click('[data-lang-switch]')]);
  await page.waitForSelector('html[lang="zh-CN"]');
  expect(await page.inputValue('#username')).toBe(officer.username);
  expect(await page.locator('.notice-error').count()).toBe(0);
  await page.fill('#password', FACTORY_PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('button[type=submit].primary')]);
  await context.close();
});
