import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn } from '../helpers/browser';
import { interceptTask } from '../helpers/lifecycle';
import type { TestUser } from '../helpers/factories';

jest.setTimeout(120_000);

let t: TestApp;
let web: { server: Server; base: string; close(): Promise<void> };
let browser: Browser;
let supervisor: TestUser;
let otherSupervisor: TestUser;

beforeAll(async () => {
  t = await testApp();
  web = await listen(t.app);
  browser = await launchChromium();
  supervisor = await t.factories.user({ role: 'supervisor' });
  otherSupervisor = await t.factories.user({ role: 'supervisor' });
});

afterAll(async () => {
  await browser?.close();
  await web?.close();
  await t?.close();
});

/** A task at a bank, past its due time, escalated by the overdue scan the maintenance worker runs. */
async function overdueTask(bankId: string) {
  const task = await interceptTask(t, { toInstitutionId: bankId, enqueue: false });
  await t.db('tasks').where({ id: task.id }).update({ due_at: new Date(Date.now() - 60_000) });
  return task;
}

const badge = async (page: Page): Promise<string | null> => {
  const link = page.locator('header nav a[href="/escalations"]');
  await link.waitFor();
  const count = link.locator('.count-badge');
  return (await count.count()) ? count.textContent() : null;
};

it('an overdue task\'s escalation raises a supervisor\'s unread count; the list shows it; opening and acknowledging lower it, for that supervisor only', async () => {
  const bank = await t.factories.institution({ kind: 'bank', name: 'Slow Bank' });
  const { context, page } = await signIn(browser, web.base, supervisor);
  expect(await badge(page)).toBeNull();

  const first = await overdueTask(bank.id);
  const second = await overdueTask(bank.id);
  expect(await t.deps.services.taskLifecycle.escalateOverdue()).toBe(2);
  // Escalated once: a second scan tells nobody again.
  expect(await t.deps.services.taskLifecycle.escalateOverdue()).toBe(0);

  await page.goto(`${web.base}/dashboard`);
  expect(await badge(page)).toBe('2');

  await page.click('header nav a[href="/escalations"]');
  await page.waitForURL(/\/escalations$/);
  const rows = page.locator('#escalation-list tbody tr');
  expect(await rows.count()).toBe(2);
  expect(await page.locator(`tr[data-task="${first.id}"].is-unread`).textContent()).toContain('Slow Bank');
  await screenshot(page, 'escalations-unread');

  // Opening one is seeing it: on to the task page, one fewer unread.
  await Promise.all([page.waitForURL(new RegExp(`/tasks/${first.id}$`)), page.click(`tr[data-task="${first.id}"] a[href^="/escalations/"]`)]);
  expect(await badge(page)).toBe('1');

  // Acknowledged from the list, without opening the task.
  await page.goto(`${web.base}/escalations`);
  expect(await page.locator(`tr[data-task="${first.id}"]`).getAttribute('class')).toContain('is-read');
  await Promise.all([
    page.waitForURL(/\/escalations\?done=acknowledged$/),
    page.click(`tr[data-task="${second.id}"] form[action$="/acknowledge"] button`),
  ]);
  expect(await badge(page)).toBeNull();
  expect(await page.locator('#escalation-list tbody tr.is-unread').count()).toBe(0);
  await page.goto(`${web.base}/escalations?show=unread`);
  expect(await page.locator('#escalation-list').count()).toBe(0);
  await context.close();

  // Another supervisor has read nothing yet; "mark all as read" clears theirs in one go.
  const other = await signIn(browser, web.base, otherSupervisor);
  await other.page.goto(`${web.base}/escalations`);
  expect(await badge(other.page)).toBe('2');
  await Promise.all([other.page.waitForURL(/done=allRead$/), other.page.click('form[action="/escalations/read-all"] button')]);
  expect(await badge(other.page)).toBeNull();
  const third = await overdueTask(bank.id);
  await t.deps.services.taskLifecycle.escalateOverdue();
  await other.page.goto(`${web.base}/escalations`);
  expect(await badge(other.page)).toBe('1');
  expect(await other.page.locator('#escalation-list tbody tr.is-unread').getAttribute('data-task')).toBe(third.id);
  // Reaching the task's page some other way (the task list, a link) is seeing it too.
  await other.page.goto(`${web.base}/tasks/${third.id}`);
  expect(await badge(other.page)).toBeNull();
  await other.context.close();
});

it('only supervisors have the list; nobody else gets a count', async () => {
  const officer = await t.factories.user({ role: 'desk_officer' });
  const { context, page } = await signIn(browser, web.base, officer);
  expect(await page.locator('header nav a[href="/escalations"]').count()).toBe(0);
  const res = await page.goto(`${web.base}/escalations`);
  expect(res?.status()).toBe(403);
  await context.close();
});
