import http, { type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { parseConfig } from '../../server/config';
import { createApp } from '../../server/app';
import { createDeps } from '../../server/wiring';
import { testApp, testEnv, type TestApp } from '../helpers/test-app';
import { eventsOf, FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { startWorkers } from '../../workers/main';
import { partnerQueueName } from '../../server/queues/names';

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ ...FAST_WORKERS, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
});
afterAll(() => t.close());

it('when two worker processes share PostgreSQL and Redis, then each task is dispatched exactly once', async () => {
  const banks = await Promise.all([1, 2].map(() => t.factories.institution({ kind: 'bank' })));
  const one = startWorkers(t.config);
  const two = startWorkers(t.config);
  try {
    await Promise.all([one.pool.sync(), two.pool.sync()]);
    const tasks = await Promise.all(Array.from({ length: 30 }, (_, i) => interceptTask(t, { toInstitutionId: banks[i % 2]!.id })));
    for (const task of tasks) {
      await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'every task to be dispatched');
    }
    const dispatchedEvents = await t.db('events').whereIn('task_id', tasks.map((x) => x.id)).where({ type: 'task.dispatched' })
      .select('task_id').count({ n: '*' }).groupBy('task_id');
    expect(dispatchedEvents).toHaveLength(30);
    expect(dispatchedEvents.every((e) => Number(e.n) === 1)).toBe(true);
    const rows = await t.db('tasks').whereIn('id', tasks.map((x) => x.id));
    expect(rows.every((r) => r.version === 2)).toBe(true);
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

it('when the same result reaches two web processes at once, then it is booked once', async () => {
  const bank = await t.factories.institution({ kind: 'bank' });
  const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  const otherDeps = createDeps(t.config);
  const otherApp = createApp(otherDeps);
  try {
    const task = await interceptTask(t, { toInstitutionId: bank.id, amountMinor: 700_000 });
    const token = t.tokenFor(liaison);
    const send = (app: typeof otherApp) =>
      request(app).post(`/api/v1/tasks/${task.id}/result`).set('Authorization', `Bearer ${token}`).send({ outcome: 'frozen', frozenMinor: 700_000 });
    const answers = await Promise.all([send(t.app), send(otherApp), send(t.app), send(otherApp)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409, 409]);
    expect(await t.db('loss_prevention_ledger').where({ task_id: task.id })).toHaveLength(1);
    expect(await t.db('task_results').where({ task_id: task.id })).toHaveLength(1);
  } finally {
    await otherDeps.close();
  }
});

it('when a worker dies mid-delivery, then another worker redoes the job and the task is dispatched once', async () => {
  let first: ServerResponse | undefined;
  let calls = 0;
  const server: Server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      if (calls === 1) first = res; // the first delivery hangs: its worker dies while waiting
      else res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const tuning = { lockDuration: 1000, stalledInterval: 250 };
  // Its delivery must still be waiting when the answer finally comes, however slow the takeover is.
  const dying = startWorkers(parseConfig(testEnv(t.database, t.queuePrefix, { ...FAST_WORKERS, WEBHOOK_TIMEOUT_MS: '60000', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' })), undefined, { tuning });
  let survivor: ReturnType<typeof startWorkers> | undefined;
  try {
    const bank = await t.factories.institution({ kind: 'bank', integration: 'webhook', webhookUrl: url, webhookSecret: 'secret-for-the-dying-worker' });
    await dying.pool.sync();
    const task = await interceptTask(t, { toInstitutionId: bank.id });
    await waitFor(async () => calls === 1, 'the first delivery to reach the partner');

    // Killed: it stops without finishing the job and its lock lapses; another process takes over.
    await dying.close({ force: true });
    survivor = startWorkers(t.config, undefined, { tuning });
    await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the job to be redone by the survivor', 15_000);
    expect(calls).toBe(2);
    // The survivor's attempt is over only once BullMQ has the job completed, not when the row changes.
    const queue = t.queue(partnerQueueName(bank.id));
    try {
      // State first, then the job: completion writes state and return value together, and a
      // completed job stays completed, so the job read after seeing "completed" carries its outcome.
      // The other order can read the job while still active and its state just after it completed.
      const jobState = async () => {
        const state = await queue.getJobState(task.id);
        const job = await queue.getJob(task.id);
        return job ? { state, returnvalue: job.returnvalue as unknown, finishedOn: job.finishedOn, attemptsMade: job.attemptsMade } : undefined;
      };
      const completed = await waitFor(async () => {
        const s = await jobState();
        return s?.state === 'completed' ? s : undefined;
      }, 'the redone job to be completed');
      expect(completed.returnvalue).toBe('dispatched');

      // The dead worker's request finally returns. "Connection: close" makes the partner's socket close
      // only after the delivering side has read the answer: from then on the late attempt has its response.
      const lateSocket = first!.socket!;
      expect(lateSocket.destroyed).toBe(false);
      const answered = new Promise<void>((resolve) => lateSocket.once('close', () => resolve()));
      first!.writeHead(200, { connection: 'close', 'content-type': 'application/json' }).end('{}');
      await answered;

      // Nothing more may happen: no second dispatch, no new delivery, the job keeps the survivor's outcome.
      const row = await taskRow(t, task.id);
      expect(row.status).toBe('dispatched');
      expect(row.version).toBe(task.version + 1);
      expect(await eventsOf(t, task.id, 'task.dispatched')).toHaveLength(1);
      expect(calls).toBe(2);
      expect(await jobState()).toEqual(completed);
    } finally {
      await queue.close();
    }
  } finally {
    await survivor?.close();
    await dying.close();
    first?.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
