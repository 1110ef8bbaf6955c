import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, screenshot, signIn } from '../helpers/browser';
import { FAST_WORKERS, taskRow, waitFor } from '../helpers/lifecycle';
import { reportBody } from '../helpers/bodies';
import { startWorkers } from '../../workers/main';
import type { TestUser } from '../helpers/factories';

jest.setTimeout(120_000);

let t: TestApp;
let web: { server: Server; base: string; close(): Promise<void> };
let browser: Browser;
let workers: ReturnType<typeof startWorkers>;
let partner: Server;
let hookUrl = '';
const received: { headers: http.IncomingHttpHeaders; raw: string }[] = [];
let admin: TestUser;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp({ ...FAST_WORKERS, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  web = await listen(t.app);
  browser = await launchChromium();
  partner = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(partner.address() as AddressInfo).port}/afrc`;
  admin = await t.factories.user({ role: 'admin' });
  officer = await t.factories.user({ role: 'desk_officer' });
  workers = startWorkers(t.config);
});

afterAll(async () => {
  await workers?.close();
  await browser?.close();
  await web?.close();
  await t?.close();
  partner?.closeAllConnections();
  await new Promise((resolve) => partner?.close(resolve));
});

it('the admin switches a manual bank to a webhook and gives it a route on its page: refused input stays with its errors, and the running worker delivers the next task by the new webhook', async () => {
  const bank = await t.factories.institution({ kind: 'bank', name: 'Edit Me Bank', integration: 'manual' });
  await workers.pool.sync();
  expect(workers.pool.institutionIds).toContain(bank.id);

  const { context, page } = await signIn(browser, web.base, admin);
  await page.goto(`${web.base}/admin/institutions`);
  await Promise.all([page.waitForURL(new RegExp(`/admin/institutions/${bank.id}$`)), page.click(`a[data-edit="${bank.id}"]`)]);
  expect(await page.inputValue('#inst-name')).toBe('Edit Me Bank');
  expect(await page.inputValue('#inst-integration')).toBe('manual');

  // Three problems at once: a private address, a kind that does not exist, a prefix that is not an account's.
  await page.selectOption('#inst-integration', 'webhook');
  await page.selectOption('#inst-format', 'iso20022');
  await page.fill('#inst-url', 'http://10.20.30.40/hook');
  await page.fill('#inst-routes', 'bank_account 9558 80\nbank_acount 6217');
  const refused = page.waitForResponse((r) => r.url().endsWith(`/admin/institutions/${bank.id}`) && r.request().method() === 'POST');
  await page.click('#institution-form button[type=submit]');
  expect((await refused).status()).toBe(400);
  await page.waitForSelector('#inst-url-error');
  await screenshot(page, 'admin-institution-refused');
  expect(await page.textContent('#inst-url-error')).toMatch(/public address/);
  expect(await page.textContent('#inst-routes-error')).toContain('bank_acount');
  expect(await page.getAttribute('#inst-url', 'aria-invalid')).toBe('true');
  // What was typed is still there.
  expect(await page.inputValue('#inst-integration')).toBe('webhook');
  expect(await page.inputValue('#inst-format')).toBe('iso20022');
  expect(await page.inputValue('#inst-url')).toBe('http://10.20.30.40/hook');
  expect(await page.inputValue('#inst-routes')).toBe('bank_account 9558 80\nbank_acount 6217');
  expect(await t.db('institutions').where({ id: bank.id }).first('integration')).toEqual({ integration: 'manual' });

  // Fixed: the partner's address, one route, JSON. No secret typed: one is made and shown once.
  await page.selectOption('#inst-format', 'json');
  await page.fill('#inst-url', hookUrl);
  await page.fill('#inst-routes', 'bank_account 9558 80');
  await page.click('#institution-form button[type=submit]');
  const secret = (await page.locator('#secret').textContent())!.trim();
  expect(secret.length).toBeGreaterThanOrEqual(32);
  expect(await t.db('institutions').where({ id: bank.id }).first('integration', 'webhook_url', 'message_format'))
    .toEqual({ integration: 'webhook', webhook_url: hookUrl, message_format: 'json' });
  await page.goto(`${web.base}/admin/institutions/${bank.id}`);
  expect(await page.inputValue('#inst-routes')).toBe('bank_account 955880');
  await context.close();

  // A report to an account under the new route: routed to the bank, and its worker, started while
  // the bank was manual, posts it to the webhook, signed with the secret the page showed.
  const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    indicators: [], transfers: [{ toAccount: '9558 8012 3456 7890', amountMinor: 300_000, transferredAt: '2026-11-28T09:30:00+08:00' }],
  }));
  expect(filed.status).toBe(201);
  const [task] = filed.body.tasks;
  expect(task).toMatchObject({ institutionId: bank.id, status: 'queued' });
  await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the task to be delivered by webhook');
  const call = received.find((c) => c.headers['x-afrc-task-id'] === task.id);
  expect(call).toBeDefined();
  expect(call!.headers['x-afrc-signature']).toBe(`sha256=${createHmac('sha256', secret).update(call!.raw).digest('hex')}`);
  expect(workers.pool.institutionIds).toContain(bank.id);
});

it('the admin switches a webhook bank back to manual and empties its URL; a webhook without a URL is refused beside the field', async () => {
  const bank = await t.factories.institution({ kind: 'bank', name: 'Hooked Bank', integration: 'webhook', webhookUrl: hookUrl, webhookSecret: 'a-secret-of-sixteen-or-more' });
  const { context, page } = await signIn(browser, web.base, admin);
  await page.goto(`${web.base}/admin/institutions/${bank.id}`);
  await page.fill('#inst-url', '');
  await page.click('#institution-form button[type=submit]');
  await page.waitForSelector('#inst-url-error');
  expect(await page.textContent('#inst-url-error')).toMatch(/needs its URL/);
  await page.selectOption('#inst-integration', 'manual');
  await Promise.all([page.waitForURL(/done=saved$/), page.click('#institution-form button[type=submit]')]);
  expect(await t.db('institutions').where({ id: bank.id }).first('integration', 'webhook_url', 'webhook_secret'))
    .toEqual({ integration: 'manual', webhook_url: null, webhook_secret: 'a-secret-of-sixteen-or-more' });
  await context.close();
});
