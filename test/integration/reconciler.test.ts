import request from 'supertest';
import { parseConfig } from '../../server/config';
import { createApp } from '../../server/app';
import { createDeps } from '../../server/wiring';
import { issueToken } from '../../server/auth/tokens';
import { testApp, testEnv, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import { eventsOf, FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { startWorkers, type WorkerProcess } from '../../workers/main';
import { partnerQueueName } from '../../server/queues/names';
import { Reconciler } from '../../server/queues/reconciler';
import { MaintenanceQueue, simulatedJobId } from '../../server/queues/maintenance';
import { MAINTENANCE_QUEUE } from '../../server/queues/names';
import { UnrecoverableError } from 'bullmq';
import { itNeedsRedis } from '../helpers/queue-backend';

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ ...FAST_WORKERS, RECONCILE_INTERVAL_MS: '200' });
});
afterAll(() => t.close());

const DEAD_REDIS = 'redis://127.0.0.1:6390';

itNeedsRedis('when Redis is down during intake, then reports still answer 201, and once Redis is back every task is dispatched with no one acting', async () => {
  const bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  const carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86' }] });
  const officer = await t.factories.user({ role: 'desk_officer' });

  // The web process as it runs while Redis is unreachable: same database, dead Redis.
  const downConfig = parseConfig(testEnv(t.database, t.queuePrefix, { ...FAST_WORKERS, REDIS_URL: DEAD_REDIS }));
  const downDeps = createDeps(downConfig);
  const downApp = createApp(downDeps);
  const token = issueToken(downConfig, { id: officer.id, type: 'user', name: officer.username, role: 'desk_officer', institutionId: null }).token;
  const taskIds: string[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const res = await request(downApp).post('/api/v1/reports').set('Authorization', `Bearer ${token}`).send(
        reportBody({
          transfers: [{ toAccount: `6222 0200 0000 00${10 + i}`, amountMinor: 100_000 * (i + 1), transferredAt: '2026-11-28T09:30:00+08:00' }],
          indicators: [{ kind: 'phone', value: `+86 171 0000 00${10 + i}` }],
        }),
      );
      expect(res.status).toBe(201);
      for (const task of res.body.tasks) {
        expect(task.status).toBe('queued');
        taskIds.push(task.id);
      }
    }
  } finally {
    await downDeps.close();
  }
  expect(taskIds).toHaveLength(6);
  expect(await t.queueJobIds(partnerQueueName(bank.id))).toEqual([]);

  // Redis is back (and empty for this prefix): a worker process starts and nobody touches anything.
  const workers = startWorkers(t.config);
  try {
    for (const id of taskIds) {
      await waitFor(async () => (await taskRow(t, id)).status === 'dispatched', `task ${id} to be dispatched`);
    }
    const rows = await t.db('tasks').whereIn('id', taskIds);
    expect(new Set(rows.map((r) => r.institution_id))).toEqual(new Set([bank.id, carrier.id]));
  } finally {
    await workers.close();
  }
});

it('when the queue store comes back empty after tasks were enqueued (Redis restarted without persistence, or the jobs lost), then the reconciler enqueues them again and each is dispatched once', async () => {
  const bank = await t.factories.institution({ kind: 'bank' });
  const tasks = await Promise.all([1, 2, 3, 4].map(() => interceptTask(t, { toInstitutionId: bank.id })));
  expect((await t.queueJobIds(partnerQueueName(bank.id))).sort()).toEqual(tasks.map((x) => x.id).sort());

  // The store lost every job of this test (Redis: everything under its prefix).
  await t.deps.queues.forgetAllJobs();
  expect(await t.queueJobIds(partnerQueueName(bank.id))).toEqual([]);

  const workers = startWorkers(t.config);
  try {
    for (const task of tasks) {
      await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the task to be dispatched');
      expect(await eventsOf(t, task.id, 'task.dispatched')).toHaveLength(1);
    }
  } finally {
    await workers.close();
  }
});

it('when a queued task\'s job has finished without dispatching it, then the reconciler replaces the job; a live job is left alone', async () => {
  const bank = await t.factories.institution({ kind: 'bank' });
  const stuck = await interceptTask(t, { toInstitutionId: bank.id });
  const waiting = await interceptTask(t, { toInstitutionId: bank.id, enqueue: false });

  // Something consumed the job and finished it while the task stayed queued.
  const consumer = t.deps.queues.worker(partnerQueueName(bank.id), async () => 'lost', {});
  const queue = t.queue(partnerQueueName(bank.id));
  try {
    await waitFor(async () => (await queue.getJob(stuck.id))?.finishedOn, 'the job to complete');
    await consumer.close();
    await new Promise((r) => setTimeout(r, 150)); // older than RECONCILE_MIN_AGE_MS

    // One reconcile pass, with no workers running, as a worker process would run it.
    const workers = startWorkers(parseConfig(testEnv(t.database, t.queuePrefix, { ...FAST_WORKERS, INSTITUTION_POLL_MS: '600000' })), undefined, { reconcile: false });
    await workers.pool.close();
    try {
      const report = await workers.reconcileOnce();
      expect(report.requeued).toBeGreaterThanOrEqual(2);
      expect(await (await queue.getJob(stuck.id))!.getState()).toBe('waiting');
      expect(await (await queue.getJob(waiting.id))!.getState()).toBe('waiting');
      const again = await workers.reconcileOnce();
      expect(again.requeued).toBe(0);
    } finally {
      await workers.close();
    }
  } finally {
    await consumer.close();
    await queue.close();
  }
  expect((await taskRow(t, stuck.id)).status).toBe('queued');
});

it('when a task\'s last delivery attempt fails while a pass is checking it, then the pass keeps the failed job and leaves the delivery_failed task alone', async () => {
  const bank = await t.factories.institution({ kind: 'bank' });
  const task = await interceptTask(t, { toInstitutionId: bank.id });
  const consumer = t.deps.queues.worker(partnerQueueName(bank.id), async () => {
    throw new UnrecoverableError('503 from the partner');
  }, {});
  const queue = t.queue(partnerQueueName(bank.id));
  try {
    await waitFor(async () => (await queue.getJob(task.id))?.finishedOn, 'the job to fail');
    await consumer.close();
    await new Promise((r) => setTimeout(r, 150)); // older than RECONCILE_MIN_AGE_MS

    // The pass has read the task as queued; the worker records the failure just before the pass
    // looks at the job, as a last attempt ending at that moment does.
    const racing = Object.create(t.deps.dispatcher) as typeof t.deps.dispatcher;
    racing.queueFor = (institutionId: string) => {
      const real = t.deps.dispatcher.queueFor(institutionId);
      return new Proxy(real, {
        get(target, prop, receiver) {
          if (prop !== 'getJob') return Reflect.get(target, prop, receiver);
          return async (id: string) => {
            if (id === task.id) await t.db('tasks').where({ id }).update({ status: 'delivery_failed', delivery_failed_at: t.db.fn.now(), version: t.db.raw('version + 1') });
            return target.getJob(id);
          };
        },
      });
    };
    await new Reconciler(t.db, racing, undefined, t.config, t.deps.logger).runOnce();
    expect(await (await queue.getJob(task.id))!.getState()).toBe('failed');
    expect((await taskRow(t, task.id)).status).toBe('delivery_failed');
  } finally {
    await consumer.close();
    await queue.close();
  }
});

it('when many queued tasks still have live jobs, then later passes reach the newer task whose job was lost', async () => {
  const own = await testApp(FAST_WORKERS);
  try {
    const bank = await own.factories.institution({ kind: 'bank' });
    const live = [];
    for (let i = 0; i < 3; i++) live.push(await interceptTask(own, { toInstitutionId: bank.id }));
    const lost = await interceptTask(own, { toInstitutionId: bank.id, enqueue: false });
    await new Promise((r) => setTimeout(r, 150)); // older than RECONCILE_MIN_AGE_MS

    const reconciler = new Reconciler(own.db, own.deps.dispatcher, undefined, own.config, own.deps.logger, 2);
    const first = await reconciler.runOnce();
    expect(first).toMatchObject({ checked: 2, requeued: 0 });
    expect(await own.queueJobIds(partnerQueueName(bank.id))).not.toContain(lost.id);

    const second = await reconciler.runOnce();
    expect(second).toMatchObject({ checked: 2, requeued: 1 });
    expect((await own.queueJobIds(partnerQueueName(bank.id))).sort()).toEqual([...live, lost].map((x) => x.id).sort());
  } finally {
    await own.close();
  }
});

it('when a simulated partner\'s answer failed for good (PostgreSQL was away for all its attempts), then the reconciler schedules it again', async () => {
  const bank = await t.factories.institution({ kind: 'bank', integration: 'simulated' });
  const task = await interceptTask(t, { toInstitutionId: bank.id, enqueue: false });
  await t.db('tasks').where({ id: task.id }).update({ status: 'dispatched', dispatched_at: new Date(Date.now() - 3600_000) });
  const maintenance = new MaintenanceQueue(t.deps.queues, t.config);
  await maintenance.scheduleSimulatedResult(task.id, 0);
  // The answer job fails for good, as its attempts do while the database is unreachable.
  const failing = t.deps.queues.worker(MAINTENANCE_QUEUE, async () => {
    throw new UnrecoverableError('select 1 - Connection terminated unexpectedly');
  }, { concurrency: 1 });
  const job = () => t.queue(MAINTENANCE_QUEUE).getJob(simulatedJobId(task.id));
  try {
    await waitFor(async () => (await (await job())?.getState()) === 'failed', 'the answer job to fail');
  } finally {
    await failing.close();
  }
  const report = await new Reconciler(t.db, t.deps.dispatcher, maintenance, t.config, t.deps.logger).runOnce();
  expect(report.simulatedRescheduled).toBe(1);
  expect(await (await job())?.getState()).not.toBe('failed');
  await maintenance.close();
});
