import { randomUUID } from 'node:crypto';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testApp, type TestApp } from '../helpers/test-app';
import { blockingTask, eventsOf, FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { startWorkers, type WorkerProcess } from '../../workers/main';
import { simulatedAnswer } from '../../workers/adapters/simulated';
import { MAINTENANCE_QUEUE, partnerQueueName } from '../../server/queues/names';

let t: TestApp;
let workers: WorkerProcess;

beforeAll(async () => {
  t = await testApp({ ...FAST_WORKERS, OVERDUE_SCAN_MS: '200', MAX_TRAIL_DEPTH: '2', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  workers = startWorkers(t.config);
});
afterAll(async () => {
  await workers?.close();
  await t.close();
});

const statusOf = async (id: string) => (await taskRow(t, id))?.status as string;

it('when a task is routed to a manual bank, then that bank\'s worker dispatches it into the liaison inbox once', async () => {
  const bank = await t.factories.institution({ kind: 'bank', integration: 'manual' });
  await workers.pool.sync();
  const task = await interceptTask(t, { toInstitutionId: bank.id });

  await waitFor(async () => (await statusOf(task.id)) === 'dispatched', 'the task to be dispatched');
  const row = await taskRow(t, task.id);
  expect(row.version).toBe(task.version + 1);
  expect(row.dispatched_at).toBeInstanceOf(Date);
  expect(await eventsOf(t, task.id, 'task.dispatched')).toEqual([expect.objectContaining({ data: expect.objectContaining({ integration: 'manual' }) })]);
  expect(await t.queueJobIds(`partner-${bank.id}`)).toContain(task.id);

  const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  const inbox = await t.api.as(liaison).get('/api/v1/tasks?status=dispatched');
  expect(inbox.body.items.map((i: { id: string }) => i.id)).toContain(task.id);
});

it('when an institution is created while the workers run, then it gets a worker and its task is dispatched without a restart', async () => {
  const bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '955880' }] });
  // The contract gives a new institution a running worker within 10 seconds: that bound is this wait's timeout.
  await waitFor(async () => workers.pool.institutionIds.includes(bank.id), 'a worker for the new institution', 10_000);
  expect(workers.pool.institutionIds).toContain(bank.id);

  const task = await interceptTask(t, { account: '9558801234567890' });
  expect(task.institutionId).toBe(bank.id);
  await waitFor(async () => (await statusOf(task.id)) === 'dispatched', 'the task to be dispatched');
  expect(await eventsOf(t, task.id, 'task.dispatched')).toEqual([
    expect.objectContaining({ data: expect.objectContaining({ institutionId: bank.id, integration: 'manual' }) }),
  ]);
  expect(await t.queueJobIds(partnerQueueName(bank.id))).toContain(task.id);
});

it('when an institution is deactivated, then its worker finishes the job in hand, stops, and takes no new job', async () => {
  // The partner holds its answer, so the delivery is still active when the institution is deactivated.
  let held: ServerResponse | undefined;
  let requests = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      if (held) res.writeHead(200).end('{}');
      else held = res;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const bank = await t.factories.institution({ kind: 'bank', integration: 'webhook', webhookUrl: url, webhookSecret: 'secret-of-a-bank-about-to-leave' });
  const q = t.queue(partnerQueueName(bank.id));
  try {
    await waitFor(async () => workers.pool.institutionIds.includes(bank.id), 'a worker for the institution');
    const inHand = await interceptTask(t, { toInstitutionId: bank.id });
    await waitFor(async () => requests === 1, 'the delivery to reach the partner');
    expect(await (await q.getJob(inHand.id))!.getState()).toBe('active');

    await t.db('institutions').where({ id: bank.id }).update({ active: false });
    await waitFor(async () => !workers.pool.institutionIds.includes(bank.id), 'the worker to stop');

    // Drained: the job it had in hand still completes once the partner answers.
    held!.writeHead(200).end('{}');
    await waitFor(async () => (await statusOf(inHand.id)) === 'dispatched', 'the job in hand to finish');
    await waitFor(async () => (await (await q.getJob(inHand.id))?.getState()) === 'completed', 'the job in hand to be completed');

    // Stopped: a job added to its queue afterwards is not taken, while another institution's job is.
    const orphan = randomUUID();
    expect(await t.deps.dispatcher.enqueue([{ id: orphan, institutionId: bank.id, status: 'queued' }])).toBe(1);
    const other = await t.factories.institution({ kind: 'bank' });
    await waitFor(async () => workers.pool.institutionIds.includes(other.id), 'a worker for another institution');
    const control = await interceptTask(t, { toInstitutionId: other.id });
    await waitFor(async () => (await statusOf(control.id)) === 'dispatched', 'the other institution\'s task to be dispatched');
    await workers.pool.sync(); // a whole pass over the institutions, which would start a worker for an active one
    expect(workers.pool.institutionIds).not.toContain(bank.id);
    expect(await (await q.getJob(orphan))!.getState()).toBe('waiting');
    expect(requests).toBe(1);
  } finally {
    await q.close();
    held?.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

it('when a task reaches a simulated partner, then it answers on its own through the result use case, as its hash decides', async () => {
  const bankA = await t.factories.institution({ kind: 'bank', integration: 'simulated', routes: [{ indicatorKind: 'bank_account', prefix: '622848' }] });
  const bankB = await t.factories.institution({ kind: 'bank', integration: 'simulated', routes: [{ indicatorKind: 'bank_account', prefix: '622700' }] });
  await workers.pool.sync();
  const tasks = await Promise.all(Array.from({ length: 8 }, () => interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 1_000_000 })));

  // Money moves on to another active bank with account routes (other tests' banks count too).
  const banks: { institution_id: string }[] = await t.db('institution_routes as r').join('institutions as i', 'i.id', 'r.institution_id')
    .where({ 'r.indicator_kind': 'bank_account', 'i.active': true }).distinct('r.institution_id');
  expect(banks.map((b) => b.institution_id)).toContain(bankB.id);
  for (const task of tasks) {
    await waitFor(async () => ['done', 'failed'].includes(await statusOf(task.id)), `task ${task.id} to be answered`);
    const result = await t.db('task_results').where({ task_id: task.id }).first();
    const expected = simulatedAnswer(task, banks.map((b) => ({ institutionId: b.institution_id, prefix: '' })), 2);
    expect(result).toMatchObject({ outcome: expected.outcome, frozen_minor: expected.frozenMinor ?? 0, source: 'simulated', actor_type: 'system' });
    const children = await t.db('tasks').where({ parent_task_id: task.id });
    expect(children).toHaveLength(expected.onwardTransfers?.length ?? 0);
    for (const child of children) {
      expect(child).toMatchObject({ institution_id: expected.onwardTransfers![0]!.toInstitutionId, depth: 2, status: expect.any(String) });
      expect(child.institution_id).not.toBe(bankA.id);
    }
  }
  // Children at simulated banks at depth 2 (the cap here) are answered too, never moving money further.
  const children = await t.db('tasks').whereIn('parent_task_id', tasks.map((x) => x.id)).whereIn('institution_id', [bankA.id, bankB.id]);
  for (const child of children) {
    await waitFor(async () => ['done', 'failed'].includes(await statusOf(child.id)), `child ${child.id} to be answered`);
  }
  expect(await t.db('tasks').whereIn('parent_task_id', children.map((c) => c.id))).toHaveLength(0);
  const block = await blockingTask(t, { phone: '+8613900000000', enqueue: false });
  expect(block.status).toBe('unrouted');
});

it('when a task is past its due time, then the repeatable overdue scan escalates it once and records the event', async () => {
  const bank = await t.factories.institution({ kind: 'bank' });
  const task = await interceptTask(t, { toInstitutionId: bank.id, enqueue: false });
  await t.db('tasks').where({ id: task.id }).update({ due_at: new Date(Date.now() - 60_000) });

  await waitFor(async () => (await taskRow(t, task.id)).escalated_at, 'the task to be escalated', 10_000);
  await workers.reconcileOnce();
  expect(await eventsOf(t, task.id, 'task.overdue')).toHaveLength(1);
  // The supervisors are told once: one escalation row per escalated task.
  expect(await t.db('escalations').where({ task_id: task.id })).toEqual([expect.objectContaining({ institution_id: bank.id, due_at: expect.any(Date) })]);
  const schedulers = await t.queue(MAINTENANCE_QUEUE).getJobSchedulers();
  expect(schedulers.map((s) => s.key ?? s.id)).toContain('overdue-scan');

  const supervisor = await t.factories.user({ role: 'supervisor' });
  const overdue = await t.api.as(supervisor).get(`/api/v1/tasks?overdue=true&institutionId=${bank.id}`);
  expect(overdue.body.items.map((i: { id: string; overdue: boolean }) => [i.id, i.overdue])).toEqual([[task.id, true]]);
});
