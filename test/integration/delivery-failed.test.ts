import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testApp, type TestApp } from '../helpers/test-app';
import { eventsOf, FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { FACTORY_PASSWORD, type TestUser } from '../helpers/factories';
import { pageSession } from '../helpers/page-session';
import { startWorkers, type WorkerProcess } from '../../workers/main';

/** A partner endpoint that refuses (503) while `down`, and accepts once it is back. */
let server: Server;
let baseUrl: string;
let down = true;
/** Per task id: what the endpoint answered to each delivery of it. */
const answers = new Map<string, number[]>();
const answered = (id: string) => answers.get(id) ?? [];

let t: TestApp;
let workers: WorkerProcess;
let officer: TestUser;
let supervisor: TestUser;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-afrc-task-id'] ?? '');
      const status = down ? 503 : 200;
      answers.set(id, [...answered(id), status]);
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await testApp({ ...FAST_WORKERS, JOB_ATTEMPTS: '2', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' });
  workers = startWorkers(t.config);
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await new Promise((resolve) => server.close(resolve));
});

async function webhookBank(kind: 'bank' | 'carrier' = 'bank') {
  const inst = await t.factories.institution({ kind, integration: 'webhook', webhookUrl: `${baseUrl}/tasks`, webhookSecret: 'partner-shared-secret-0123456789' });
  await workers.pool.sync();
  return inst;
}

async function failedTask(bankId: string) {
  const task = await interceptTask(t, { toInstitutionId: bankId });
  return waitFor(async () => {
    const r = await taskRow(t, task.id);
    return r.status === 'delivery_failed' ? r : undefined;
  }, 'the deliveries to run out');
}

const dispatchedOnce = async (id: string) => (await eventsOf(t, id, 'task.dispatched')).length === 1;

describe('a task whose deliveries ran out', () => {
  it('is delivery_failed with the last error on the task and its timeline, counted and listed as such', async () => {
    down = true;
    const bank = await webhookBank();
    const row = await failedTask(bank.id);
    expect(answered(row.id)).toEqual([503, 503]);
    expect(row.delivery_error).toContain('503');

    const shown = await t.api.as(supervisor).get(`/api/v1/tasks/${row.id}`);
    expect(shown.body).toMatchObject({ status: 'delivery_failed', deliveryFailedAt: expect.any(String), deliveryError: expect.stringContaining('503') });
    expect(await eventsOf(t, row.id, 'task.delivery_failed')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ attempts: 2, error: expect.stringContaining('503'), institutionId: bank.id }) }),
    ]);
    const listed = await t.api.as(supervisor).get(`/api/v1/tasks?status=delivery_failed&institutionId=${bank.id}`);
    expect(listed.body.items.map((x: { id: string }) => x.id)).toEqual([row.id]);
    const stats = await t.api.as(supervisor).get('/api/v1/stats/summary');
    expect(stats.status).toBe(200);
    expect(stats.body.tasks.deliveryFailed).toBeGreaterThanOrEqual(1);
    expect(stats.body.tasks.deliveryFailed).toBe(Number((await t.db('tasks').where('status', 'delivery_failed').count('* as n').first())!.n));

    // Neither the reconciler nor a wait brings it back on its own before DELIVERY_RETRY_MS (60 s here).
    await workers.reconcileOnce();
    await new Promise((r) => setTimeout(r, 500));
    expect((await taskRow(t, row.id)).status).toBe('delivery_failed');
    expect(answered(row.id)).toHaveLength(2);
  });

  it('is retried once by staff, however many retries race; a retry of a task that is not delivery_failed is 409', async () => {
    down = true;
    const bank = await webhookBank();
    const row = await failedTask(bank.id);
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    expect((await t.api.as(liaison).post(`/api/v1/tasks/${row.id}/retry`)).status).toBe(403);

    down = false;
    const racing = await Promise.all([1, 2, 3, 4].map(() => t.api.as(officer).post(`/api/v1/tasks/${row.id}/retry`)));
    expect(racing.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    expect(racing.find((r) => r.status === 409)!.body.error.code).toBe('conflict');
    expect(await eventsOf(t, row.id, 'task.retried')).toEqual([expect.objectContaining({ data: expect.objectContaining({ why: 'staff' }) })]);

    await waitFor(async () => (await taskRow(t, row.id)).status === 'dispatched', 'the retried task to be delivered');
    // Two refused attempts, then one accepted delivery: one job, not four.
    expect(answered(row.id)).toEqual([503, 503, 200]);
    expect(await dispatchedOnce(row.id)).toBe(true);
    const again = await t.api.as(supervisor).post(`/api/v1/tasks/${row.id}/retry`);
    expect(again.status).toBe(409);
    expect((await t.api.as(supervisor).post('/api/v1/tasks/00000000-0000-4000-8000-000000000000/retry')).status).toBe(404);
  });

  it('is reassigned by a supervisor to another active institution of the same kind, and delivered there', async () => {
    down = true;
    const bank = await webhookBank();
    const row = await failedTask(bank.id);
    const otherBank = await t.factories.institution({ kind: 'bank' });
    const carrier = await t.factories.institution({ kind: 'carrier' });
    await workers.pool.sync();

    expect((await t.api.as(officer).post(`/api/v1/tasks/${row.id}/assign`).send({ institutionId: otherBank.id })).status).toBe(403);
    const wrongKind = await t.api.as(supervisor).post(`/api/v1/tasks/${row.id}/assign`).send({ institutionId: carrier.id });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.details).toEqual([expect.objectContaining({ path: 'institutionId' })]);
    const same = await t.api.as(supervisor).post(`/api/v1/tasks/${row.id}/assign`).send({ institutionId: bank.id });
    expect(same.status).toBe(400);

    const moved = await t.api.as(supervisor).post(`/api/v1/tasks/${row.id}/assign`).send({ institutionId: otherBank.id });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ institutionId: otherBank.id, deliveryError: null });
    await waitFor(async () => (await taskRow(t, row.id)).status === 'dispatched', 'the task to be delivered at its new institution');
    expect((await taskRow(t, row.id)).institution_id).toBe(otherBank.id);
    expect(await dispatchedOnce(row.id)).toBe(true);
    expect(answered(row.id)).toEqual([503, 503]);
    // Assigned and dispatched: no longer open to reassignment.
    expect((await t.api.as(supervisor).post(`/api/v1/tasks/${row.id}/assign`).send({ institutionId: bank.id })).status).toBe(409);
  });

  it('has retry and reassign buttons on its page, CSRF-protected, in both languages', async () => {
    down = true;
    const bank = await webhookBank();
    const row = await failedTask(bank.id);
    const otherBank = await t.factories.institution({ kind: 'bank', name: 'Spare Bank' });

    const zh = pageSession(t.app, 'zh-CN');
    await zh.login(supervisor.username, FACTORY_PASSWORD);
    const zhPage = await zh.get(`/tasks/${row.id}`);
    expect(zhPage.text).toContain('重新下发');
    expect(zhPage.text).toContain('改派');

    const s = pageSession(t.app);
    await s.login(officer.username, FACTORY_PASSWORD);
    const page = await s.get(`/tasks/${row.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="delivery-failed"');
    expect(page.text).toContain('Retry delivery');
    expect(page.text).toMatch(/data-delivery-error>[^<]*503/);
    // A desk officer retries; reassigning is for supervisors.
    expect(page.text).not.toContain(`action="/tasks/${row.id}/reassign"`);

    const forged = await s.post(`/tasks/${row.id}/retry`, {}, false);
    expect(forged.status).toBe(403);
    expect((await taskRow(t, row.id)).status).toBe('delivery_failed');

    const sup = pageSession(t.app);
    await sup.login(supervisor.username, FACTORY_PASSWORD);
    const supPage = await sup.get(`/tasks/${row.id}`);
    expect(supPage.text).toContain(`action="/tasks/${row.id}/reassign"`);
    expect(supPage.text).toContain(`value="${otherBank.id}"`);

    down = false;
    const retried = await s.submit(`/tasks/${row.id}`, `/tasks/${row.id}/retry`, {});
    expect(retried.status).toBe(303);
    expect(retried.headers.location).toBe(`/tasks/${row.id}?done=retried`);
    await waitFor(async () => (await taskRow(t, row.id)).status === 'dispatched', 'the task to be delivered');
    // The supervisor's page was loaded before the retry: the reassignment is refused and says why.
    const late = await sup.post(`/tasks/${row.id}/reassign`, { institutionId: otherBank.id });
    expect(late.headers.location).toBe(`/tasks/${row.id}?error=conflict`);
    const shown = await sup.get(late.headers.location as string);
    expect(shown.text).toContain('no longer waiting after a failed delivery');
    expect(await dispatchedOnce(row.id)).toBe(true);
  });
});

describe('the automatic retry of failed deliveries', () => {
  it('probes one task per institution with a growing wait while the partner refuses, then sends them all once it answers', async () => {
    // Workers whose probes come quickly: first after 400 ms, then 800, then at most 1600.
    await workers.close();
    const config = { ...t.config, workers: { ...t.config.workers, deliveryRetryMs: 400, deliveryRetryMaxMs: 1600 } };
    workers = startWorkers(config);
    down = true;
    const bank = await webhookBank();
    const rows = await Promise.all([1, 2, 3].map(() => failedTask(bank.id)));
    const ids = rows.map((r) => r.id);
    const deliveries = () => ids.reduce((n, id) => n + answered(id).length, 0);
    expect(deliveries()).toBe(6);

    // While it refuses: a probe is one task sent alone, once (no retries), and the waits double.
    const started = Date.now();
    await waitFor(async () => deliveries() >= 8, 'two probes', 15_000);
    const probesIn3s = async () => {
      const before = deliveries();
      await new Promise((r) => setTimeout(r, 3000));
      return deliveries() - before;
    };
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    // At the longest wait (1.6 s) three seconds hold at most two probes, each a single delivery.
    expect(await probesIn3s()).toBeLessThanOrEqual(2);
    const probes = await t.db('events').whereIn('task_id', ids).where('type', 'task.retried');
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.every((e: { data: { why: string } }) => e.data.why === 'probe')).toBe(true);
    expect((await t.db('tasks').whereIn('id', ids).where('status', 'delivery_failed')).length).toBeGreaterThanOrEqual(2);

    // The partner is back: the next probe succeeds and the others follow, each delivered once.
    down = false;
    await waitFor(async () => (await t.db('tasks').whereIn('id', ids).where('status', 'dispatched')).length === 3, 'every task to be delivered', 15_000);
    for (const id of ids) {
      expect(answered(id).filter((s) => s === 200)).toHaveLength(1);
      expect(await dispatchedOnce(id)).toBe(true);
    }
    const recovered = await t.db('events').whereIn('task_id', ids).where('type', 'task.retried').whereRaw(`data->>'why' = 'recovered'`);
    // The others went because a delivery succeeded, not each by a probe of its own.
    expect(recovered.length).toBeGreaterThanOrEqual(1);
  });
});
