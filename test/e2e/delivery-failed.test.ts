import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { testApp, type TestApp } from '../helpers/test-app';
import { launchChromium, listen, signIn } from '../helpers/browser';
import { FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { startWorkers } from '../../workers/main';

jest.setTimeout(120_000);

let t: TestApp;
let web: { server: Server; base: string; close(): Promise<void> };
let browser: Browser;
let workers: ReturnType<typeof startWorkers>;
/** The partner's endpoint: refuses while `down`. */
let partner: Server;
let down = true;
let hookUrl = '';

beforeAll(async () => {
  t = await testApp({ ...FAST_WORKERS, JOB_ATTEMPTS: '2', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  web = await listen(t.app);
  browser = await launchChromium();
  partner = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(down ? 502 : 200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(partner.address() as AddressInfo).port}/afrc`;
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

async function failedTask(bankId: string) {
  const task = await interceptTask(t, { toInstitutionId: bankId });
  await waitFor(async () => (await taskRow(t, task.id)).status === 'delivery_failed', 'the deliveries to run out');
  return task;
}

it('a supervisor sees why a delivery failed on the task page, retries one task and reassigns another to a bank that answers', async () => {
  const bank = await t.factories.institution({ kind: 'bank', name: 'Down Bank', integration: 'webhook', webhookUrl: hookUrl, webhookSecret: 'partner-shared-secret-0123456789' });
  const spare = await t.factories.institution({ kind: 'bank', name: 'Spare Bank', integration: 'manual' });
  await workers.pool.sync();
  const first = await failedTask(bank.id);
  const second = await failedTask(bank.id);
  const supervisor = await t.factories.user({ role: 'supervisor' });

  const { context, page } = await signIn(browser, web.base, supervisor);
  try {
    await page.goto(`${web.base}/tasks?view=failed`);
    expect(await page.locator(`tr[data-task="${first.id}"]`).count()).toBe(1);

    await page.goto(`${web.base}/tasks/${second.id}`);
    await page.selectOption('#reassign-to', spare.id);
    await Promise.all([page.waitForURL(/done=reassigned/), page.click('#delivery-failed form[action$="/reassign"] button')]);
    expect(await page.textContent('.notice')).toContain('reassigned');
    await waitFor(async () => {
      const row = await taskRow(t, second.id);
      return row.status === 'dispatched' && row.institution_id === spare.id;
    }, 'the reassigned task to be delivered at its new bank');
    await page.goto(`${web.base}/tasks/${first.id}`);
    expect(await page.textContent('#delivery-failed [data-delivery-error]')).toContain('502');
    down = false;
    await Promise.all([page.waitForURL(/done=retried/), page.click('#delivery-failed button.primary')]);
    expect(await page.textContent('.notice')).toContain('queued for delivery again');
    await waitFor(async () => (await taskRow(t, first.id)).status === 'dispatched', 'the retried task to be delivered');

    // Both delivered: neither page offers a retry any more.
    await page.reload();
    expect(await page.locator('#delivery-failed').count()).toBe(0);
    await page.goto(`${web.base}/tasks/${second.id}`);
    expect(await page.locator('#delivery-failed').count()).toBe(0);
  } finally {
    await context.close();
  }
});
