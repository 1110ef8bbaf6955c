import { testApp, type TestApp } from '../helpers/test-app';
import { eventsOf, interceptTask, blockingTask, taskRow } from '../helpers/lifecycle';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { SYSTEM_ACTOR } from '../../server/auth/actor';
import { foldStatsDeltas } from '../../server/stats/stats.repo';

let t: TestApp;
let bankA: TestInstitution;
let bankB: TestInstitution;
let liaisonA: TestUser;
let liaisonB: TestUser;

beforeAll(async () => {
  t = await testApp({ MAX_TRAIL_DEPTH: '3' });
  bankA = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  bankB = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '621700' }] });
  liaisonA = await t.factories.user({ role: 'liaison', institutionId: bankA.id });
  liaisonB = await t.factories.user({ role: 'liaison', institutionId: bankB.id });
});
afterAll(() => t.close());

const ledgerRows = (taskId: string) => t.db('loss_prevention_ledger').where({ task_id: taskId });

describe('POST /tasks/:id/result', () => {
  it('when a bank freezes the full amount, then the task is done, the result is stored and the ledger books it once', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 500_000 });
    const res = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`)
      .send({ outcome: 'frozen', frozenMinor: 500_000, note: 'frozen at 10:02', version: task.version });

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: task.id, status: 'done', version: task.version + 1, childTasks: [],
      result: { outcome: 'frozen', frozenMinor: 500_000, note: 'frozen at 10:02', source: 'api', recordedBy: { type: 'user', id: liaisonA.id } },
    });
    expect(res.body.closedAt).toEqual(expect.any(String));
    const ledger = await ledgerRows(task.id);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ entry_type: 'freeze', amount_minor: 500_000, currency: 'CNY', institution_id: bankA.id });
    await foldStatsDeltas(t.db);
    const inst = await t.db('stats_institution_daily').where({ institution_id: bankA.id }).first();
    expect(inst).toMatchObject({ loss_prevented_minor: expect.any(Number), tasks_done: expect.any(Number) });
    expect(inst.loss_prevented_minor).toBeGreaterThanOrEqual(500_000);
    expect((await eventsOf(t, task.id, 'task.result_recorded'))).toHaveLength(1);
  });

  it('when a partner answers a task whose delivery was never recorded, then its delivery is recorded once, with the answer', async () => {
    // The worker handed the task over and died before writing so: the task is still queued when the answer comes.
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 300_000, enqueue: false });
    const res = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 300_000 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'done', dispatchedAt: expect.any(String), version: task.version + 1 });
    expect(await eventsOf(t, task.id, 'task.dispatched')).toEqual([expect.objectContaining({ data: expect.objectContaining({ recordedBy: 'result' }) })]);
    // The redone job finds the task closed: no second delivery on record.
    expect(await t.deps.services.taskLifecycle.markDispatched(task.id, bankA.id, 'manual')).toBe(false);
    expect(await eventsOf(t, task.id, 'task.dispatched')).toHaveLength(1);
  });

  it('when a result comes for a task that already has one, then it is 409 task_closed and nothing is booked again', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 300_000 });
    const first = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 300_000 });
    expect(first.status).toBe(200);
    const second = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 300_000 });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('task_closed');
    expect(await ledgerRows(task.id)).toHaveLength(1);
    expect(await t.db('task_results').where({ task_id: task.id })).toHaveLength(1);
  });

  it('when the partner answers from a stale version, then it is 409 version_mismatch and the task stays open', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id });
    await t.db('tasks').where({ id: task.id }).update({ version: task.version + 1 });
    const res = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'not_found', version: task.version });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('version_mismatch');
    expect((await taskRow(t, task.id)).status).toBe('queued');
  });

  it('when five results for one task arrive at once, then exactly one is accepted and one freeze is booked', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 800_000 });
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 100_000 * i, version: task.version }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409]);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'task_closed')).toBe(true);
    const winner = answers.find((a) => a.status === 200)!;
    const ledger = await ledgerRows(task.id);
    expect(ledger).toHaveLength(1);
    expect(ledger[0].amount_minor).toBe(winner.body.result.frozenMinor);
  });

  it('when money was partly frozen and partly moved on, then a child interception task opens at the next bank and is queued', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 1_000_000 });
    const res = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({
      outcome: 'partially_frozen', frozenMinor: 600_000, version: task.version,
      onwardTransfers: [{ toAccount: '6217 0000 1111 2222', toAccountName: 'Zhao Lei', amountMinor: 400_000, transferredAt: '2026-11-28T10:05:00+08:00' }],
    });

    expect(res.status).toBe(200);
    expect(res.body.status).toBe('done');
    expect(res.body.childTasks).toHaveLength(1);
    const child = res.body.childTasks[0];
    expect(child).toMatchObject({
      kind: 'intercept_funds', institutionId: bankB.id, status: 'queued', amountMinor: 400_000, currency: 'CNY',
      parentTaskId: task.id, depth: 2, target: { kind: 'bank_account', value: '6217000011112222', name: 'Zhao Lei' },
    });
    expect(await t.queueJobIds(`partner-${bankB.id}`)).toContain(child.id);
    expect(await ledgerRows(task.id)).toHaveLength(1);
    // The second bank answers its own task; the first bank cannot see it.
    expect((await t.api.as(liaisonA).get(`/api/v1/tasks/${child.id}`)).status).toBe(404);
    const childAnswer = await t.api.as(liaisonB).post(`/api/v1/tasks/${child.id}/result`).send({ outcome: 'frozen', frozenMinor: 400_000 });
    expect(childAnswer.status).toBe(200);
    const booked = await t.db('loss_prevention_ledger').whereIn('task_id', [task.id, child.id]).sum({ total: 'amount_minor' }).first();
    expect(Number(booked!.total)).toBe(1_000_000);
  });

  it('when the trail is already at the depth cap, then the result is recorded without child tasks and the cap is noted', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 200_000, depth: 3 });
    const res = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({
      outcome: 'funds_moved', onwardTransfers: [{ toAccount: '6217000099998888', amountMinor: 200_000 }],
    });
    expect(res.status).toBe(200);
    expect(res.body.childTasks).toEqual([]);
    expect(await t.db('tasks').where({ parent_task_id: task.id })).toHaveLength(0);
    expect(await eventsOf(t, task.id, 'task.trail_depth_reached')).toHaveLength(1);
    const stored = await t.db('task_results').where({ task_id: task.id }).first();
    expect(stored.onward_transfers).toEqual([expect.objectContaining({ toAccount: '6217000099998888', amountMinor: 200_000 })]);
  });

  it('when the answer breaks the task\'s rules, then it is 400 with the paths and nothing changes', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 100_000 });
    const tooMuch = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 100_001 });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error.code).toBe('validation_failed');
    expect(tooMuch.body.error.details.map((d: { path: string }) => d.path)).toContain('frozenMinor');
    const wrongKind = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'blocked' });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.details.map((d: { path: string }) => d.path)).toContain('outcome');
    const badShape = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 1.5 });
    expect(badShape.status).toBe(400);
    expect(badShape.body.error.details.map((d: { path: string }) => d.path)).toContain('frozenMinor');
    const row = await taskRow(t, task.id);
    expect(row.status).toBe('queued');
    expect(row.version).toBe(task.version);
  });

  it('when a blocking task is answered blocked, then it is done with nothing booked', async () => {
    await t.factories.institution({ kind: 'carrier', id: `carrier-${Date.now() % 100000}`, routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
    const task = await blockingTask(t, { phone: '+8617100001234' });
    const carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: task.institutionId });
    const res = await t.api.as(carrierLiaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'blocked' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'done', result: { outcome: 'blocked', frozenMinor: 0 } });
    expect(await ledgerRows(task.id)).toHaveLength(0);
  });

  it('when a number is answered blocked, then lookups report it as blocked', async () => {
    const carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86133' }] });
    await t.db('indicators').insert({ kind: 'phone', value: '+8613300005678', status: 'suspected' });
    const task = await blockingTask(t, { phone: '+8613300005678' });
    const carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
    const lookup = () => t.api.as(carrierLiaison).post('/api/v1/indicators/lookup').send({ items: [{ kind: 'phone', value: '133 0000 5678' }] });
    expect((await lookup()).body.results[0]).toMatchObject({ flagged: true, status: 'suspected' });

    const res = await t.api.as(carrierLiaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'blocked' });
    expect(res.status).toBe(200);
    expect((await lookup()).body.results[0]).toMatchObject({ value: '+8613300005678', flagged: true, status: 'blocked' });
  });

  it('when a flagged account with no known amount is frozen, then the result keeps the figure and the ledger books nothing', async () => {
    const draft = { reportId: null, kind: 'freeze_account' as const, targetKind: 'bank_account' as const, targetValue: '6222027777000001' };
    const [task] = await t.db.transaction((trx) => t.deps.services.engine.create(trx, SYSTEM_ACTOR, [draft]));
    expect(task).toMatchObject({ institutionId: bankA.id, amountMinor: null });
    const res = await t.api.as(liaisonA).post(`/api/v1/tasks/${task!.id}/result`).send({ outcome: 'frozen', frozenMinor: 123_456 });
    expect(res.status).toBe(200);
    expect(res.body.result).toMatchObject({ outcome: 'frozen', frozenMinor: 123_456 });
    expect(await ledgerRows(task!.id)).toHaveLength(0);
  });

  it('when a task is escalated while its delivery is under way, then the delivery still marks it dispatched', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id, enqueue: false });
    await t.db('tasks').where({ id: task.id }).update({ version: task.version + 1, escalated_at: t.db.fn.now() });
    expect(await t.deps.services.taskLifecycle.markDispatched(task.id, bankA.id, 'manual')).toBe(true);
    expect((await taskRow(t, task.id)).status).toBe('dispatched');
    // A second copy of the job, or one from an institution the task no longer belongs to, changes nothing.
    expect(await t.deps.services.taskLifecycle.markDispatched(task.id, bankA.id, 'manual')).toBe(false);
    expect(await t.deps.services.taskLifecycle.markDispatched(task.id, bankB.id, 'manual')).toBe(false);
  });

  it('when two copies of one job finish delivering at the same moment, then one marks the task dispatched and one event is written', async () => {
    // After Redis comes back empty the reconciler enqueues a lost job again while a copy may still be
    // in hand: both can end in the same coalesced statement.
    const task = await interceptTask(t, { toInstitutionId: bankA.id, enqueue: false });
    const both = await Promise.all([
      t.deps.services.taskLifecycle.markDispatched(task.id, bankA.id, 'manual'),
      t.deps.services.taskLifecycle.markDispatched(task.id, bankA.id, 'manual'),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await eventsOf(t, task.id, 'task.dispatched')).toHaveLength(1);
    expect((await taskRow(t, task.id)).version).toBe(task.version + 1);
  });

  it('when another institution, or center staff, answers a task, then it is 404 or 403', async () => {
    const task = await interceptTask(t, { toInstitutionId: bankA.id });
    const other = await t.api.as(liaisonB).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'not_found' });
    expect(other.status).toBe(404);
    const officer = await t.factories.user({ role: 'desk_officer' });
    expect((await t.api.as(officer).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'not_found' })).status).toBe(403);
    expect((await t.api.as(liaisonA).post('/api/v1/tasks/not-a-uuid/result').send({ outcome: 'not_found' })).status).toBe(404);
    expect((await taskRow(t, task.id)).status).toBe('queued');
  });

  it('when a not_found answer arrives, then the task is failed and counted as failed for the institution', async () => {
    await foldStatsDeltas(t.db);
    const before = await t.db('stats_institution_daily').where({ institution_id: bankB.id }).sum({ n: 'tasks_failed' }).first();
    const task = await interceptTask(t, { toInstitutionId: bankB.id });
    const res = await t.api.as(liaisonB).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'not_found' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('failed');
    await foldStatsDeltas(t.db);
    const after = await t.db('stats_institution_daily').where({ institution_id: bankB.id }).sum({ n: 'tasks_failed' }).first();
    expect(Number(after!.n) - Number(before!.n ?? 0)).toBe(1);
  });

  it('keeps the ledger equal to an independent recount of the results', async () => {
    // Two banks of its own, so every figure below can be scoped to this test's rows.
    const bankC = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622588' }] });
    const bankD = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '621488' }] });
    const liaisonC = await t.factories.user({ role: 'liaison', institutionId: bankC.id });
    const liaisonD = await t.factories.user({ role: 'liaison', institutionId: bankD.id });
    const dailyTotal = async () => {
      await foldStatsDeltas(t.db);
      return Number((await t.db('stats_daily').sum({ total: 'loss_prevented_minor' }).first())!.total ?? 0);
    };
    const dailyBefore = await dailyTotal();
    const answer = async (who: TestUser, taskId: string, body: Record<string, unknown>) => {
      const res = await t.api.as(who).post(`/api/v1/tasks/${taskId}/result`).send(body);
      expect(res.status).toBe(200);
      return res.body;
    };

    const full1 = await interceptTask(t, { toInstitutionId: bankC.id, account: '6225880000000101', amountMinor: 500_000 });
    await answer(liaisonC, full1.id, { outcome: 'frozen', frozenMinor: 500_000 });
    const full2 = await interceptTask(t, { toInstitutionId: bankC.id, account: '6225880000000102', amountMinor: 250_000 });
    await answer(liaisonC, full2.id, { outcome: 'frozen', frozenMinor: 250_000 });
    const partial = await interceptTask(t, { toInstitutionId: bankC.id, account: '6225880000000103', amountMinor: 1_000_000 });
    const partialAnswer = await answer(liaisonC, partial.id, {
      outcome: 'partially_frozen', frozenMinor: 600_000,
      onwardTransfers: [{ toAccount: '6214 8800 0000 0104', amountMinor: 400_000, transferredAt: '2026-11-28T10:05:00+08:00' }],
    });
    expect(partialAnswer.childTasks).toHaveLength(1);
    const onward = partialAnswer.childTasks[0] as { id: string; institutionId: string };
    expect(onward.institutionId).toBe(bankD.id);
    await answer(liaisonD, onward.id, { outcome: 'frozen', frozenMinor: 400_000 });
    const missing = await interceptTask(t, { toInstitutionId: bankC.id, account: '6225880000000105', amountMinor: 300_000 });
    expect((await answer(liaisonC, missing.id, { outcome: 'not_found' })).status).toBe('failed');
    // A flagged account with no known amount: its figure stays on the result and is never booked.
    const [flagged] = await t.db.transaction((trx) => t.deps.services.engine.create(trx, SYSTEM_ACTOR, [
      { reportId: null, kind: 'freeze_account', targetKind: 'bank_account', targetValue: '6225880000000106' },
    ]));
    expect(flagged!.institutionId).toBe(bankC.id);
    await answer(liaisonC, flagged!.id, { outcome: 'frozen', frozenMinor: 77_000 });

    const ours = [full1.id, full2.id, partial.id, onward.id, missing.id, flagged!.id];
    const institutions = [bankC.id, bankD.id];
    const expected = 500_000 + 250_000 + 600_000 + 400_000;

    const ledger = await t.db('loss_prevention_ledger').whereIn('task_id', ours).sum({ total: 'amount_minor' }).first();
    expect(Number(ledger!.total)).toBe(expected);
    const atOurBanks = await t.db('loss_prevention_ledger').whereIn('institution_id', institutions).sum({ total: 'amount_minor' }).first();
    expect(Number(atOurBanks!.total)).toBe(expected);
    // Money on the victims' trail: results of tasks that carry a transfer's amount.
    const results = await t.db('task_results as r').join('tasks as k', 'k.id', 'r.task_id')
      .whereIn('k.id', ours).whereNotNull('k.amount_minor').sum({ total: 'r.frozen_minor' }).first();
    expect(Number(results!.total)).toBe(expected);
    expect(await dailyTotal() - dailyBefore).toBe(expected);

    await foldStatsDeltas(t.db);
    const rows: { institution_id: string; loss: string; done: string; failed: string }[] = await t.db('stats_institution_daily')
      .whereIn('institution_id', institutions).groupBy('institution_id').select('institution_id')
      .sum({ loss: 'loss_prevented_minor', done: 'tasks_done', failed: 'tasks_failed' });
    const byInstitution = Object.fromEntries(rows.map((r) => [r.institution_id, { loss: Number(r.loss), done: Number(r.done), failed: Number(r.failed) }]));
    expect(byInstitution).toEqual({
      [bankC.id]: { loss: 500_000 + 250_000 + 600_000, done: 4, failed: 1 },
      [bankD.id]: { loss: 400_000, done: 1, failed: 0 },
    });
    const statuses: { status: string; n: string }[] = await t.db('tasks').whereIn('institution_id', institutions)
      .groupBy('status').select('status').count({ n: '*' });
    expect(Object.fromEntries(statuses.map((r) => [r.status, Number(r.n)]))).toEqual({ done: 5, failed: 1 });
  });
});

describe('GET /tasks', () => {
  it('shows a liaison only their institution\'s tasks, and center staff all of them', async () => {
    const mine = await interceptTask(t, { toInstitutionId: bankA.id });
    const theirs = await interceptTask(t, { toInstitutionId: bankB.id });
    // A second task there, so a page of one has a next page.
    await interceptTask(t, { toInstitutionId: bankB.id });
    const list = await t.api.as(liaisonA).get('/api/v1/tasks?status=queued&limit=200');
    expect(list.status).toBe(200);
    const ids = list.body.items.map((i: { id: string }) => i.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
    expect(list.body.items.every((i: { institutionId: string }) => i.institutionId === bankA.id)).toBe(true);
    expect((await t.api.as(liaisonA).get(`/api/v1/tasks/${theirs.id}`)).status).toBe(404);
    const one = await t.api.as(liaisonA).get(`/api/v1/tasks/${mine.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: mine.id, status: 'queued', overdue: false, result: null });
    const supervisor = await t.factories.user({ role: 'supervisor' });
    const all = await t.api.as(supervisor).get(`/api/v1/tasks?institutionId=${bankB.id}&limit=1`);
    expect(all.status).toBe(200);
    expect(all.body.items).toHaveLength(1);
    expect(all.body.nextCursor).toEqual(expect.any(String));
    expect((await t.api.as(supervisor).get('/api/v1/tasks?status=nope')).status).toBe(400);
  });
});

describe('POST /tasks/:id/assign', () => {
  it('when a supervisor assigns an unrouted task, then it is queued at that institution and enqueued', async () => {
    const [task] = await t.db.transaction((trx) =>
      t.deps.services.engine.create(trx, { id: null, type: 'system', name: 'test' }, [
        { reportId: null, kind: 'takedown_url', targetKind: 'url', targetValue: 'https://unrouted.example/pay' },
      ]),
    );
    expect(task!.status).toBe('unrouted');
    const supervisor = await t.factories.user({ role: 'supervisor' });
    const officer = await t.factories.user({ role: 'desk_officer' });
    expect((await t.api.as(officer).post(`/api/v1/tasks/${task!.id}/assign`).send({ institutionId: bankA.id })).status).toBe(403);
    expect((await t.api.as(supervisor).post(`/api/v1/tasks/${task!.id}/assign`).send({ institutionId: 'no-such-bank' })).status).toBe(400);

    const res = await t.api.as(supervisor).post(`/api/v1/tasks/${task!.id}/assign`).send({ institutionId: bankA.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: task!.id, status: 'queued', institutionId: bankA.id, version: task!.version + 1 });
    expect(await t.queueJobIds(`partner-${bankA.id}`)).toContain(task!.id);
    expect(await eventsOf(t, task!.id, 'task.assigned')).toHaveLength(1);

    const again = await t.api.as(supervisor).post(`/api/v1/tasks/${task!.id}/assign`).send({ institutionId: bankB.id });
    expect(again.status).toBe(409);
  });
});
