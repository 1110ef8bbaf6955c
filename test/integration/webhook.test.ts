import { createHmac } from 'node:crypto';
import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testApp, type TestApp } from '../helpers/test-app';
import { eventsOf, FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { startWorkers, type WorkerProcess } from '../../workers/main';
import { partnerQueueName } from '../../server/queues/names';

type Received = { headers: IncomingMessage['headers']; raw: string };

let t: TestApp;
let workers: WorkerProcess;
let server: Server;
let baseUrl: string;
const received = new Map<string, Received[]>();
/** Per path: the statuses to answer, in order; the last one repeats. */
const script = new Map<string, number[]>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const list = received.get(path) ?? [];
      list.push({ headers: req.headers, raw: Buffer.concat(chunks).toString('utf8') });
      received.set(path, list);
      const statuses = script.get(path) ?? [200];
      const status = statuses[Math.min(list.length - 1, statuses.length - 1)]!;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await testApp({ ...FAST_WORKERS, JOB_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  workers = startWorkers(t.config);
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await new Promise((resolve) => server.close(resolve));
});

async function webhookBank(path: string, secret = 'partner-shared-secret-0123456789') {
  const bank = await t.factories.institution({ kind: 'bank', integration: 'webhook', webhookUrl: `${baseUrl}${path}`, webhookSecret: secret });
  await workers.pool.sync();
  return { bank, secret };
}

it('when a task goes to a webhook bank, then it is POSTed signed with the bank\'s secret, as GET /tasks/:id shows it', async () => {
  const { bank, secret } = await webhookBank('/ok');
  const task = await interceptTask(t, { toInstitutionId: bank.id, amountMinor: 250_000 });

  await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the task to be dispatched');
  const calls = received.get('/ok')!;
  expect(calls).toHaveLength(1);
  const [call] = calls;
  expect(call!.headers['x-afrc-task-id']).toBe(task.id);
  expect(call!.headers['content-type']).toMatch(/^application\/json/);
  const expected = `sha256=${createHmac('sha256', secret).update(call!.raw).digest('hex')}`;
  expect(call!.headers['x-afrc-signature']).toBe(expected);
  const wrong = `sha256=${createHmac('sha256', 'another-secret').update(call!.raw).digest('hex')}`;
  expect(call!.headers['x-afrc-signature']).not.toBe(wrong);

  const body = JSON.parse(call!.raw);
  const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  const shown = (await t.api.as(liaison).get(`/api/v1/tasks/${task.id}`)).body;
  expect(Object.keys(body).sort()).toEqual(Object.keys(shown).sort());
  expect(body).toMatchObject({ id: task.id, kind: 'intercept_funds', institutionId: bank.id, amountMinor: 250_000, currency: 'CNY', status: 'queued' });
});

it('when the partner answers 500, then the delivery is retried with backoff and the task is dispatched once it answers 2xx', async () => {
  const { bank } = await webhookBank('/flaky');
  script.set('/flaky', [500, 200]);
  const task = await interceptTask(t, { toInstitutionId: bank.id });

  await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the task to be dispatched after a retry');
  expect(received.get('/flaky')).toHaveLength(2);
  const row = await taskRow(t, task.id);
  expect(row.delivery_failed_at).toBeNull();
  expect(await eventsOf(t, task.id, 'task.dispatched')).toHaveLength(1);
});

it('when every attempt fails, then the task is delivery_failed and shows the delivery failure to supervisors', async () => {
  const { bank } = await webhookBank('/down');
  script.set('/down', [503]);
  const task = await interceptTask(t, { toInstitutionId: bank.id });

  const row = await waitFor(async () => {
    const r = await taskRow(t, task.id);
    return r.delivery_failed_at ? r : undefined;
  }, 'the delivery failure to be recorded');
  expect(row.status).toBe('delivery_failed');
  expect(row.delivery_error).toContain('503');

  // BullMQ is done with the job once it is failed for good: no attempt is left to reach the partner.
  const queue = t.queue(partnerQueueName(bank.id));
  try {
    const jobState = async () => {
      const job = await queue.getJob(task.id);
      return job ? { state: await job.getState(), attemptsMade: job.attemptsMade, finishedOn: job.finishedOn, failedReason: job.failedReason } : undefined;
    };
    const failed = await waitFor(async () => {
      const s = await jobState();
      return s?.state === 'failed' ? s : undefined;
    }, 'the job to be failed for good');
    expect(failed).toMatchObject({ attemptsMade: 3, failedReason: expect.stringContaining('503') });
    expect(received.get('/down')).toHaveLength(3);
    const events = await eventsOf(t, task.id, 'task.delivery_failed');
    expect(events).toEqual([expect.objectContaining({ data: expect.objectContaining({ attempts: 3 }) })]);

    const supervisor = await t.factories.user({ role: 'supervisor' });
    const shown = await t.api.as(supervisor).get(`/api/v1/tasks/${task.id}`);
    expect(shown.body).toMatchObject({ status: 'delivery_failed', deliveryFailedAt: expect.any(String), deliveryError: expect.stringContaining('503') });

    // The reconciler leaves a failed delivery alone (its retries are paced by DELIVERY_RETRY_MS). A pass
    // re-offers a task by clearing its finished job and adding a new one before it returns, so once the
    // pass is over the failed job being untouched shows that no new delivery was started.
    await workers.reconcileOnce();
    expect(await jobState()).toEqual(failed);
    expect(await t.queueJobIds(partnerQueueName(bank.id))).toEqual([task.id]);
    expect(received.get('/down')).toHaveLength(3);
    expect((await taskRow(t, task.id)).version).toBe(row.version);
  } finally {
    await queue.close();
  }
});
