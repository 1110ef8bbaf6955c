import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn } from '../helpers/browser';
import { reportBody } from '../helpers/bodies';
import { expectConsistent } from '../helpers/holds';
import type { TestInstitution, TestUser } from '../helpers/factories';

jest.setTimeout(120_000);

let t: TestApp;
let web: Awaited<ReturnType<typeof listen>>;
let browser: Browser;
let bank: TestInstitution;
let officer: TestUser;
let supervisor: TestUser;
let liaison: TestUser;

beforeAll(async () => {
  t = await testApp();
  web = await listen(t.app);
  browser = await launchChromium();
  bank = await t.factories.institution({ kind: 'bank', name: 'Holding Bank' });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

let seq = 0;
const nextAccount = () => `622202${String(Date.now() % 1e6).padStart(6, '0')}${String(++seq).padStart(4, '0')}`;

async function fileReport(account: string, amountMinor: number, victim: string) {
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    victim: { name: victim, phone: '+8613800138000' },
    transfers: [{ toAccount: account, toInstitutionId: bank.id, amountMinor, transferredAt: '2026-11-28T09:30:00+08:00' }], indicators: [],
  }));
  expect(res.status).toBe(201);
  return res.body as { id: string; caseNumber: string; tasks: { id: string }[] };
}

async function freeze(taskId: string, frozenMinor: number, holdStage?: 'stop_payment') {
  await t.api.as(liaison).post(`/api/v1/tasks/${taskId}/result`).send({ outcome: 'frozen', frozenMinor, ...(holdStage ? { holdStage } : {}) }).expect(200);
  return (await t.db('holds').where({ task_id: taskId }).first()) as { id: string };
}

const holdRow = (id: string) => t.db('holds').where({ id }).first();

it('without JavaScript, an officer renews a stop-payment into a freeze, releases part, orders the split returns after one refused, and decides a dispute', async () => {
  const account = nextAccount();
  const first = await fileReport(account, 100_000, 'Zhao Lei');
  const second = await fileReport(account, 300_000, 'Qian Yu');
  const hold = await freeze(first.tasks[0]!.id, 100_000, 'stop_payment');
  const { context, page } = await signIn(browser, web.base, officer, { javaScriptEnabled: false });
  const card = `#hold-${hold.id}`;
  await page.goto(`${web.base}/reports/${first.id}`);
  await expect(page.locator(`${card} h3`).textContent()).resolves.toContain('Stop-payment');
  await expect(page.locator(`${card} [data-expiry]`).textContent()).resolves.toMatch(/^expires in (1 d 23 h|2 d 0 h)$/);

  // Renew: the stop-payment becomes a freeze term.
  await page.fill(`#renew-reason-${hold.id}`, 'the prosecutor ordered a freeze');
  await Promise.all([page.waitForURL(/done=renewed/), page.click(`${card} form[action$="/renew"] button[value="freeze"]`)]);
  await expect(page.locator('.notice').first().textContent()).resolves.toContain('The hold was renewed.');
  await expect(page.locator(`${card} h3`).textContent()).resolves.toContain('Freeze');
  await expect(page.locator(`${card} [data-renewals]`).textContent()).resolves.toBe('1');

  // Release part of it.
  await page.fill(`#release-amount-${hold.id}`, '100');
  await page.fill(`#release-reason-${hold.id}`, 'the payer proved 100 yuan were his');
  await Promise.all([page.waitForURL(/done=released/), page.click(`${card} button[data-release-part]`)]);
  await expect(page.locator(`${card} [data-amount="balance"]`).textContent()).resolves.toBe('¥900.00');

  // The split: 90,000 fen by 1 : 3 is 22,500 : 67,500. The officer leaves out an account first and is told beside it.
  const split = `#split-${hold.id}`;
  await expect(page.locator(`${split} input[name="rows.0.amount"]`).inputValue()).resolves.toBe('225.00');
  await expect(page.locator(`${split} input[name="rows.1.amount"]`).inputValue()).resolves.toBe('675.00');
  await page.fill(`${split} input[name="rows.0.victimAccount"]`, '6217000055550001');
  await page.fill(`${split} input[name="rows.1.amount"]`, '600');
  const refused = page.waitForResponse((r) => r.url().endsWith('/split') && r.request().method() === 'POST');
  await page.click(`${split} button[type=submit]`);
  expect((await refused).status()).toBe(400);
  await expect(page.locator(`${split} input[name="rows.1.amount"]`).inputValue()).resolves.toBe('600');
  await expect(page.locator(`${split} input[name="rows.1.victimAccount"][aria-invalid="true"]`).count()).resolves.toBe(1);
  await page.fill(`${split} input[name="rows.1.victimAccount"]`, '6217000055550002');
  await Promise.all([page.waitForURL(/done=split/), page.click(`${split} button[type=submit]`)]);
  await screenshot(page, 'holds-01-split-ordered');
  const returns = await t.db('hold_returns').where({ hold_id: hold.id }).orderBy('amount_minor');
  expect(returns.map((r) => [r.amount_minor, r.victim_account])).toEqual([[22_500, '6217000055550001'], [60_000, '6217000055550002']]);
  await expect(page.locator(`${card} tr[data-return="pending"]`).count()).resolves.toBe(2);

  // A return for more than is left is refused on the page, with what was typed.
  await page.fill(`#return-amount-${hold.id}`, '100');
  await page.fill(`#return-account-${hold.id}`, '6217000055550003');
  const tooMuch = page.waitForResponse((r) => r.url().endsWith('/returns') && r.request().method() === 'POST');
  await page.click(`${card} form[action$="/returns"] button[type=submit]`);
  expect((await tooMuch).status()).toBe(409);
  await expect(page.locator('.notice-error').first().textContent()).resolves.toContain('Not enough money is free on this hold');
  await expect(page.locator(`#return-account-${hold.id}`).inputValue()).resolves.toBe('6217000055550003');

  // The holding bank disputes what is left; the officer releases part of the claim.
  const dispute = await t.api.as(liaison).post(`/api/v1/holds/${hold.id}/disputes`).send({ claimantName: 'Sun Li', reason: 'salary', amountMinor: 7_500 });
  expect(dispute.status).toBe(201);
  await page.goto(`${web.base}/reports/${first.id}`);
  const box = `#dispute-${dispute.body.id}`;
  await expect(page.locator(box).textContent()).resolves.toMatch(/due in (2 d 23 h|3 d 0 h)/);
  await page.check(`${box} input[name="decision"][value="release"]`);
  await page.fill(`#decision-amount-${dispute.body.id}`, '50');
  await page.fill(`#decision-reason-${dispute.body.id}`, 'payslips for 50 yuan');
  await Promise.all([page.waitForURL(/done=decided/), page.click(`${box} button[type=submit]`)]);
  await screenshot(page, 'holds-02-dispute-decided');
  await expect(page.locator(box).textContent()).resolves.toContain('Released');
  expect(await holdRow(hold.id)).toMatchObject({ released_minor: 15_000, reserved_minor: 82_500, balance_minor: 85_000, stage: 'freeze' });
  await context.close();
  await expectConsistent(t, hold.id);
  expect(second.id).toBeTruthy();
});

it('a liaison answers a return task from the inbox: returned, with the amount paid', async () => {
  const report = await fileReport(nextAccount(), 200_000, 'Wu Jing');
  const hold = await freeze(report.tasks[0]!.id, 200_000);
  const ret = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 150_000, victimAccount: '6217000066660001' });
  expect(ret.status).toBe(201);
  const { context, page } = await signIn(browser, web.base, liaison);
  await expect(page.locator(`tr:has(a[href="/tasks/${ret.body.taskId}"])`).textContent()).resolves.toContain('Return funds');
  await Promise.all([page.waitForURL(new RegExp(`/tasks/${ret.body.taskId}$`)), page.click(`a[href="/tasks/${ret.body.taskId}"]`)]);
  await page.selectOption('#outcome', 'returned');
  await page.fill('#returned', '1,500');
  await page.fill('#note', 'paid by transfer 0001');
  await Promise.all([page.waitForURL(/recorded=1/), page.click('form[action$="/result"] button.primary')]);
  await screenshot(page, 'holds-03-return-answered');
  await expect(page.locator('.notice').first().textContent()).resolves.toContain('Result recorded.');
  await context.close();
  expect(await t.db('hold_returns').where({ id: ret.body.id }).first()).toMatchObject({ status: 'paid', returned_minor: 150_000 });
  expect(await holdRow(hold.id)).toMatchObject({ returned_minor: 150_000, balance_minor: 50_000 });
  await expectConsistent(t, hold.id);
});

it('the supervisor\'s dashboard shows the funnel with the figures the stats API answers, and the holds page lists the most urgent first', async () => {
  const report = await fileReport(nextAccount(), 500_000, 'Zheng Hui');
  const hold = await freeze(report.tasks[0]!.id, 500_000);
  await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 50_000, reason: 'r' }).expect(200);
  const ret = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 200_000, victimAccount: '6217000066660002' });
  await t.api.as(liaison).post(`/api/v1/tasks/${ret.body.taskId}/result`).send({ outcome: 'returned', returnedMinor: 200_000 }).expect(200);
  const urgent = await freeze((await fileReport(nextAccount(), 80_000, 'Feng Yi')).tasks[0]!.id, 80_000, 'stop_payment');
  const later = await freeze((await fileReport(nextAccount(), 90_000, 'Chu Qing')).tasks[0]!.id, 90_000, 'stop_payment');
  await t.db('holds').where({ id: urgent.id }).update({ expires_at: t.db.raw(`now() + interval '90 minutes'`) });

  const stats = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
  const { context, page } = await signIn(browser, web.base, supervisor, { locale: 'zh-CN' });
  await page.goto(`${web.base}/dashboard`);
  await screenshot(page, 'holds-04-dashboard-funnel');
  const value = (id: string) => page.locator(`#funnel [data-figure="${id}"] .value`).textContent();
  const yuan = (minor: number) => `¥${(BigInt(minor) / 100n).toLocaleString('en')}.${String(minor % 100).padStart(2, '0')}`;
  await expect(value('funnel-reported')).resolves.toBe(yuan(stats.reportedLossMinor));
  await expect(value('funnel-frozen')).resolves.toBe(yuan(stats.lossPreventedMinor));
  await expect(value('funnel-returned')).resolves.toBe(yuan(stats.returnedMinor));
  await expect(value('funnel-released')).resolves.toBe(yuan(stats.releasedMinor));
  await expect(value('funnel-held')).resolves.toBe(yuan(stats.heldMinor));
  const bp = stats.returnRateBasisPoints as number;
  await expect(value('funnel-rate')).resolves.toBe(`${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')}%`);
  expect(stats.returnedMinor).toBeGreaterThan(0);
  await expect(page.locator('#funnel-title').textContent()).resolves.toBe('冻结之后');

  await page.goto(`${web.base}/holds`);
  const order = await page.locator('#holds-list tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-hold')));
  expect(order.indexOf(urgent.id)).toBe(0);
  expect(order.indexOf(later.id)).toBeGreaterThan(0);
  await expect(page.locator(`#hold-${urgent.id} [data-expiry]`).textContent()).resolves.toMatch(/^1 小时 (29|30) 分后到期$/);
  await Promise.all([page.waitForURL(new RegExp(`/reports/`)), page.click(`#hold-${urgent.id} a`)]);
  await expect(page.locator(`#hold-${urgent.id}`).count()).resolves.toBe(1);
  await context.close();
});
