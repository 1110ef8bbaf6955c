import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import { eventsOf, FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { startWorkers, type WorkerProcess } from '../../workers/main';
import { partnerQueueName } from '../../server/queues/names';
import { CaseClosingService } from '../../server/reports/case-closing.service';

let t: TestApp;
let bank: TestInstitution;
let officer: TestUser;
let supervisor: TestUser;
let admin: TestUser;
let liaison: TestUser;
let otherLiaison: TestUser;

beforeAll(async () => {
  t = await testApp({ ...FAST_WORKERS, SIMULATED_DELAY_MS: '1500' });
  bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  const other = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '621700' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
  admin = await t.factories.user({ role: 'admin' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  otherLiaison = await t.factories.user({ role: 'liaison', institutionId: other.id });
});
afterAll(() => t.close());

async function fileReport(): Promise<{ id: string; caseNumber: string; tasks: { id: string; kind: string; version: number; caseNumber: string }[] }> {
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ indicators: [] }));
  expect(res.status).toBe(201);
  return res.body;
}

const reportEvents = (reportId: string, type: string) => t.db('events').where({ report_id: reportId, type }).orderBy('id');

describe('POST /reports/:id/close and /reopen', () => {
  it('when an officer closes a report with a reason, then it is closed, the reason is kept and the timeline says who and why', async () => {
    const report = await fileReport();
    const res = await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'Victim recovered the money through the bank' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: report.id, caseNumber: report.caseNumber, status: 'closed', closedReason: 'Victim recovered the money through the bank' });
    expect(Date.parse(res.body.closedAt)).not.toBeNaN();
    expect(await t.db('reports').where({ id: report.id }).first()).toMatchObject({ status: 'closed', closed_reason: 'Victim recovered the money through the bank' });
    expect(await reportEvents(report.id, 'report.closed')).toEqual([
      expect.objectContaining({ actor_id: officer.id, data: { reason: 'Victim recovered the money through the bank', cancelledTasks: report.tasks.length } }),
    ]);
    const detail = await t.api.as(officer).get(`/api/v1/reports/${report.id}`);
    expect(detail.body).toMatchObject({ status: 'closed', closedReason: 'Victim recovered the money through the bank' });
  });

  it('when a supervisor reopens a closed report, then it is open again with no closing reason, and a second reopen is 409', async () => {
    const report = await fileReport();
    await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'duplicate' }).expect(200);
    const res = await t.api.as(supervisor).post(`/api/v1/reports/${report.id}/reopen`).send({ reason: 'a second victim named the same account' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'open', closedAt: null, closedReason: null });
    expect(await reportEvents(report.id, 'report.reopened')).toEqual([
      expect.objectContaining({ actor_id: supervisor.id, data: { reason: 'a second victim named the same account' } }),
    ]);
    const again = await t.api.as(supervisor).post(`/api/v1/reports/${report.id}/reopen`).send({ reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('when a closed report is closed again, then it is 409 and the first reason stays', async () => {
    const report = await fileReport();
    await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'first' }).expect(200);
    const res = await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'second' });
    expect(res.status).toBe(409);
    expect((await t.db('reports').where({ id: report.id }).first()).closed_reason).toBe('first');
    expect(await reportEvents(report.id, 'report.closed')).toHaveLength(1);
  });

  it('when the reason is missing or blank, then it is 400 with the path reason and the report stays open', async () => {
    const report = await fileReport();
    for (const body of [{}, { reason: '   ' }, { reason: 42 }]) {
      const res = await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path: 'reason' })] });
    }
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('open');
  });

  it('when an admin, a liaison or nobody tries, then it is 403 or 401; an unknown or malformed id is 404', async () => {
    const report = await fileReport();
    for (const who of [admin, liaison]) {
      const res = await t.api.as(who).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'x' });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    expect((await t.api.raw().post(`/api/v1/reports/${report.id}/close`).send({ reason: 'x' })).status).toBe(401);
    expect((await t.api.as(officer).post('/api/v1/reports/00000000-0000-4000-8000-000000000000/close').send({ reason: 'x' })).status).toBe(404);
    expect((await t.api.as(officer).post('/api/v1/reports/not-an-id/reopen').send({ reason: 'x' })).status).toBe(404);
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('open');
  });

  it('when a report still has held money, then closing it is 409 holds_active and nothing changes', async () => {
    const report = await fileReport();
    const held = new CaseClosingService(t.deps, async (_trx, reportId) => (reportId === report.id ? 1 : 0));
    const actor = { id: officer.id, type: 'user' as const, name: officer.username, role: officer.role, institutionId: null };
    await expect(held.close(actor, report.id, 'done')).rejects.toMatchObject({ status: 409, code: 'holds_active' });
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('open');
    expect(await reportEvents(report.id, 'report.closed')).toHaveLength(0);
  });

  it('when a bank froze money for the report, then closing is 409 holds_active until the hold is released in full', async () => {
    const report = await fileReport();
    const task = report.tasks.find((x) => x.kind === 'intercept_funds')!;
    await t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 5000 }).expect(200);
    const refused = await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'done' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('holds_active');
    const hold = await t.db('holds').where({ report_id: report.id }).first();
    await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 5000, reason: 'paid back by the payer' }).expect(200);
    const closed = await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'done' });
    expect(closed.status).toBe(200);
  });

  it('when a close and a reopen race on one report many times, then the row and the timeline always agree', async () => {
    const report = await fileReport();
    for (let i = 0; i < 5; i++) {
      await Promise.all([
        t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: `close ${i}` }),
        t.api.as(supervisor).post(`/api/v1/reports/${report.id}/reopen`).send({ reason: `reopen ${i}` }),
      ]);
    }
    const events = await t.db('events').where({ report_id: report.id }).whereIn('type', ['report.closed', 'report.reopened']).orderBy('id');
    // Each accepted change flips the state: the events alternate, starting with a close.
    events.forEach((e, i) => expect(e.type).toBe(i % 2 === 0 ? 'report.closed' : 'report.reopened'));
    const last = events[events.length - 1];
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe(last?.type === 'report.closed' ? 'closed' : 'open');
  });
});

describe('closing a case calls off its open tasks', () => {
  it('when an officer closes a report, then its open tasks are cancelled in the same transaction with the closing reason, not delivered again, and a later result is 409 task_closed', async () => {
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ indicators: [{ kind: 'phone', value: '+86 171 5555 0001' }] }));
    const report = res.body as { id: string; tasks: { id: string; kind: string }[] };
    const money = report.tasks.find((x) => x.kind === 'intercept_funds')!;
    const block = report.tasks.find((x) => x.kind === 'block_number')!;
    // A second report naming the same number joins the first one's blocking task: it still needs it.
    const joiner = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: '+86 171 5555 0001' }] }));
    expect(joiner.status).toBe(201);
    const done = await interceptTask(t, { toInstitutionId: bank.id, reportId: report.id, enqueue: false });
    await t.api.as(liaison).post(`/api/v1/tasks/${done.id}/result`).send({ outcome: 'not_found' }).expect(200);

    const closed = await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'the victim withdrew the report' });
    expect(closed.status).toBe(200);
    expect((await taskRow(t, money.id)).status).toBe('cancelled');
    expect((await taskRow(t, block.id)).status).not.toBe('cancelled');
    expect((await taskRow(t, done.id)).status).toBe('failed');
    expect(await eventsOf(t, money.id, 'task.cancelled')).toEqual([
      expect.objectContaining({ actor_id: officer.id, data: expect.objectContaining({ reason: 'the victim withdrew the report', caseClosed: true, previousStatus: 'queued' }) }),
    ]);
    expect(await reportEvents(report.id, 'report.closed')).toEqual([expect.objectContaining({ data: { reason: 'the victim withdrew the report', cancelledTasks: 1 } })]);

    const late = await t.api.as(liaison).post(`/api/v1/tasks/${money.id}/result`).send({ outcome: 'frozen', frozenMinor: 1000 });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('task_closed');
    expect(await t.db('holds').where({ task_id: money.id })).toHaveLength(0);

    // Reopening opens no task again; closing once more has nothing left to cancel but the blocking task no other open report needs.
    await t.api.as(officer).post(`/api/v1/reports/${report.id}/reopen`).send({ reason: 'new facts' }).expect(200);
    expect((await taskRow(t, money.id)).status).toBe('cancelled');
  });

  it('when a freeze result and a close race on one report many times, then one of them is refused each time and no closed report holds money', async () => {
    const rounds = await Promise.all(Array.from({ length: 12 }, async (_, i) => {
      const report = await fileReport();
      const task = report.tasks.find((x) => x.kind === 'intercept_funds')!;
      const [close, result] = await Promise.all([
        (async () => {
          await new Promise((r) => setTimeout(r, i % 3));
          return t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'race' });
        })(),
        t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 20_000 }),
      ]);
      return { report, close, result };
    }));
    for (const { report, close, result } of rounds) {
      expect([close.status, result.status].sort()).toEqual([200, 409]);
      if (close.status === 409) expect(close.body.error.code).toBe('holds_active');
      else expect(result.body.error.code).toBe('task_closed');
      const row = await t.db('reports').where({ id: report.id }).first();
      expect(row.status).toBe(close.status === 200 ? 'closed' : 'open');
    }
    const closedHolding = await t.db('holds as h').join('reports as r', 'r.id', 'h.report_id')
      .whereIn('r.id', rounds.map((x) => x.report.id)).where('r.status', 'closed').where('h.status', 'active').where('h.balance_minor', '>', 0);
    expect(closedHolding).toHaveLength(0);
  });
});

describe('tasks carry their case number', () => {
  it('when a report opens tasks, then the intake answer, the task read, the liaison inbox and the result answer carry its caseNumber', async () => {
    const report = await fileReport();
    const [task] = report.tasks;
    expect(task).toMatchObject({ kind: 'intercept_funds', caseNumber: report.caseNumber });
    const one = await t.api.as(liaison).get(`/api/v1/tasks/${task!.id}`);
    expect(one.body.caseNumber).toBe(report.caseNumber);
    const inbox = await t.api.as(liaison).get('/api/v1/tasks?status=queued&limit=200');
    expect(inbox.body.items.find((i: { id: string }) => i.id === task!.id)).toMatchObject({ caseNumber: report.caseNumber });
    const answered = await t.api.as(liaison).post(`/api/v1/tasks/${task!.id}/result`).send({
      outcome: 'funds_moved', onwardTransfers: [{ toAccount: '6217001111222233', amountMinor: 1000 }],
    });
    expect(answered.status).toBe(200);
    expect(answered.body.caseNumber).toBe(report.caseNumber);
    expect(answered.body.childTasks).toEqual([expect.objectContaining({ caseNumber: report.caseNumber })]);
    const child = await t.api.as(otherLiaison).get(`/api/v1/tasks/${answered.body.childTasks[0].id}`);
    expect(child.body.caseNumber).toBe(report.caseNumber);
  });

  it('when a task belongs to no report, then its caseNumber is null', async () => {
    const task = await interceptTask(t, { toInstitutionId: bank.id, enqueue: false });
    expect((await t.api.as(liaison).get(`/api/v1/tasks/${task.id}`)).body.caseNumber).toBeNull();
  });
});

describe('POST /tasks/:id/cancel', () => {
  it('when an officer cancels an open task, then it is cancelled with the reason in its timeline, and a later result is 409 task_closed', async () => {
    const report = await fileReport();
    const [task] = report.tasks;
    const res = await t.api.as(officer).post(`/api/v1/tasks/${task!.id}/cancel`).send({ reason: 'the victim typed the wrong account' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: task!.id, status: 'cancelled', version: task!.version + 1, caseNumber: report.caseNumber, overdue: false });
    expect(Date.parse(res.body.closedAt)).not.toBeNaN();
    expect(await eventsOf(t, task!.id, 'task.cancelled')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ reason: 'the victim typed the wrong account', previousStatus: 'queued', institutionId: bank.id }) }),
    ]);

    const late = await t.api.as(liaison).post(`/api/v1/tasks/${task!.id}/result`).send({ outcome: 'frozen', frozenMinor: 1000 });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('task_closed');
    expect(await t.db('task_results').where({ task_id: task!.id })).toHaveLength(0);
    expect(await t.db('loss_prevention_ledger').where({ task_id: task!.id })).toHaveLength(0);

    const again = await t.api.as(supervisor).post(`/api/v1/tasks/${task!.id}/cancel`).send({ reason: 'twice' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('task_closed');
  });

  it('when a partner answers a cancelled task by feed, then that item is rejected as task_closed and nothing is booked', async () => {
    const task = await interceptTask(t, { toInstitutionId: bank.id, enqueue: false });
    await t.api.as(supervisor).post(`/api/v1/tasks/${task.id}/cancel`).send({ reason: 'called off' }).expect(200);
    const feed = await t.api.as(liaison).post('/api/v1/feeds').send({
      items: [{ type: 'task_result', externalId: `cancelled-${task.id}`, taskId: task.id, outcome: 'frozen', frozenMinor: 1000 }],
    });
    expect(feed.status).toBe(202);
    await t.deps.services.feeds.processBatch(feed.body.batchId);
    const batch = await t.api.as(liaison).get(`/api/v1/feeds/${feed.body.batchId}`);
    expect(batch.body).toMatchObject({ status: 'done', accepted: 0, rejected: 1, errors: [expect.objectContaining({ index: 0, code: 'task_closed' })] });
    expect((await taskRow(t, task.id)).status).toBe('cancelled');
    expect(await t.db('loss_prevention_ledger').where({ task_id: task.id })).toHaveLength(0);
  });

  it('when a task already has a result, then cancelling it is 409 task_closed and the result stays', async () => {
    const task = await interceptTask(t, { toInstitutionId: bank.id, enqueue: false });
    await t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'not_found' }).expect(200);
    const res = await t.api.as(officer).post(`/api/v1/tasks/${task.id}/cancel`).send({ reason: 'too late' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('task_closed');
    expect((await taskRow(t, task.id)).status).toBe('failed');
  });

  it('when the wrong role asks, the reason is missing or the task is unknown, then 403, 400 or 404, and the task stays open', async () => {
    const task = await interceptTask(t, { toInstitutionId: bank.id, enqueue: false });
    for (const who of [admin, liaison, otherLiaison]) {
      const res = await t.api.as(who).post(`/api/v1/tasks/${task.id}/cancel`).send({ reason: 'x' });
      expect(res.status).toBe(403);
    }
    const blank = await t.api.as(officer).post(`/api/v1/tasks/${task.id}/cancel`).send({ reason: '' });
    expect(blank.status).toBe(400);
    expect(blank.body.error.details).toEqual([expect.objectContaining({ path: 'reason' })]);
    expect((await t.api.as(officer).post('/api/v1/tasks/00000000-0000-4000-8000-000000000000/cancel').send({ reason: 'x' })).status).toBe(404);
    expect((await t.api.as(officer).post('/api/v1/tasks/nope/cancel').send({ reason: 'x' })).status).toBe(404);
    expect((await taskRow(t, task.id)).status).toBe('queued');
    expect(await eventsOf(t, task.id, 'task.cancelled')).toHaveLength(0);
  });

  it('when a cancel and a result race for the same task, then exactly one wins each time and the ledger matches the tasks that kept a result', async () => {
    const tasks = await Promise.all(Array.from({ length: 12 }, () => interceptTask(t, { toInstitutionId: bank.id, amountMinor: 70_000, enqueue: false })));
    const outcomes = await Promise.all(tasks.map(async (task) => {
      const [cancel, result] = await Promise.all([
        t.api.as(officer).post(`/api/v1/tasks/${task.id}/cancel`).send({ reason: 'race' }),
        t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 70_000 }),
      ]);
      return { task, cancel, result };
    }));
    for (const { task, cancel, result } of outcomes) {
      expect([cancel.status, result.status].sort()).toEqual([200, 409]);
      const loser = cancel.status === 409 ? cancel : result;
      expect(loser.body.error.code).toBe('task_closed');
      expect((await taskRow(t, task.id)).status).toBe(cancel.status === 200 ? 'cancelled' : 'done');
    }
    // The independent recount: one freeze per task that kept its result, none for a cancelled one.
    const ids = tasks.map((x) => x.id);
    const done = await t.db('tasks').whereIn('id', ids).where({ status: 'done' }).pluck('id');
    const ledger = await t.db('loss_prevention_ledger').whereIn('task_id', ids);
    expect(ledger.map((l) => l.task_id).sort()).toEqual([...done].sort());
    expect(ledger.reduce((sum, l) => sum + Number(l.amount_minor), 0)).toBe(done.length * 70_000);
    const cancelledEvents = await t.db('events').whereIn('task_id', ids).where({ type: 'task.cancelled' });
    expect(cancelledEvents).toHaveLength(ids.length - done.length);
  });
});

describe('a cancelled task is not delivered again', () => {
  let workers: WorkerProcess | undefined;
  afterAll(async () => { await workers?.close(); });

  it('when a task is cancelled while its job waits on the queue, then the worker finds it cancelled and does nothing, and the reconciler leaves it alone', async () => {
    const manual = await t.factories.institution({ kind: 'bank', integration: 'manual' });
    const task = await interceptTask(t, { toInstitutionId: manual.id });
    const queue = t.queue(partnerQueueName(manual.id));
    expect(await queue.getJobState(task.id)).toBe('waiting');
    await t.api.as(officer).post(`/api/v1/tasks/${task.id}/cancel`).send({ reason: 'money returned by the payer bank' }).expect(200);

    workers = startWorkers(t.config);
    await waitFor(async () => (await queue.getJobState(task.id)) === 'completed', 'the queued job to run', 10_000);
    const job = await queue.getJob(task.id);
    expect(job?.returnvalue).toBe('skipped');
    // A few reconcile rounds (every 200 ms here) later: still cancelled, never dispatched.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await taskRow(t, task.id)).status).toBe('cancelled');
    expect(await eventsOf(t, task.id, 'task.dispatched')).toHaveLength(0);
  });

  it('when a simulated bank\'s answer is on its way and the task is cancelled, then the answer is dropped', async () => {
    const simulated = await t.factories.institution({ kind: 'bank', integration: 'simulated' });
    await waitFor(async () => workers!.pool.institutionIds.includes(simulated.id), 'a worker for the simulated bank', 10_000);
    const task = await interceptTask(t, { toInstitutionId: simulated.id });
    await waitFor(async () => (await taskRow(t, task.id)).status === 'dispatched', 'the task to be dispatched');
    await t.api.as(officer).post(`/api/v1/tasks/${task.id}/cancel`).send({ reason: 'called off' }).expect(200);
    // The simulated answer comes 1.5 s after delivery; wait past it.
    await new Promise((r) => setTimeout(r, 2500));
    expect((await taskRow(t, task.id)).status).toBe('cancelled');
    expect(await t.db('task_results').where({ task_id: task.id })).toHaveLength(0);
  });
});
