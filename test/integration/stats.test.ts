import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';

let t: TestApp;
let bank: TestInstitution;
let liaison: TestUser;
let supervisor: TestUser;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp();
  bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  supervisor = await t.factories.user({ role: 'supervisor' });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

const today = async (): Promise<string> => (await t.db.raw(`SELECT to_char((now() AT TIME ZONE ?)::date, 'YYYY-MM-DD') AS d`, [t.config.timeZone])).rows[0].d;

it('when reports are filed and a freeze is booked, then the summary shows the funnel, tasks, medians and rows per institution, fraud type and day', async () => {
  const before = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
  const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    fraudType: 'investment',
    transfers: [
      { toAccount: '6222 0211 1111 1111', amountMinor: 3_000_000, transferredAt: '2026-11-28T09:30:00+08:00' },
      { toAccount: '6222 0222 2222 2222', amountMinor: 2_000_000, transferredAt: '2026-11-28T09:40:00+08:00' },
    ],
    indicators: [],
  }));
  expect(filed.status).toBe(201);
  const [t1, t2] = filed.body.tasks as { id: string }[];
  expect((await t.api.as(liaison).post(`/api/v1/tasks/${t1!.id}/result`).send({ outcome: 'partially_frozen', frozenMinor: 1_200_000 })).status).toBe(200);
  expect((await t.api.as(liaison).post(`/api/v1/tasks/${t2!.id}/result`).send({ outcome: 'not_found' })).status).toBe(200);

  const res = await t.api.as(supervisor).get('/api/v1/stats/summary');
  expect(res.status).toBe(200);
  const s = res.body;
  const day = await today();
  expect(s).toMatchObject({ to: day, currency: 'CNY' });
  expect(s.from <= s.to).toBe(true);
  expect(s.reports - before.reports).toBe(1);
  expect(s.reportedLossMinor - before.reportedLossMinor).toBe(5_000_000);
  expect(s.lossPreventedMinor - before.lossPreventedMinor).toBe(1_200_000);
  expect(s.tasks.done - before.tasks.done).toBe(1);
  expect(s.tasks.failed - before.tasks.failed).toBe(1);
  expect(s.medianMinutesReportToFirstFreeze).toEqual(expect.any(Number));
  expect(s.medianMinutesReportToFirstFreeze).toBeGreaterThanOrEqual(0);

  const mine = s.byInstitution.find((i: { institutionId: string }) => i.institutionId === bank.id);
  expect(mine).toMatchObject({ lossPreventedMinor: 1_200_000, tasksDone: 1, tasksFailed: 1, tasksOpen: 0, tasksOverdue: 0, medianMinutesToResult: expect.any(Number) });
  const investment = s.byFraudType.find((f: { fraudType: string }) => f.fraudType === 'investment');
  expect(investment).toMatchObject({ reports: 1, reportedLossMinor: 5_000_000, lossPreventedMinor: 1_200_000 });
  const todayRow = s.daily.find((d: { date: string }) => d.date === day);
  expect(todayRow).toMatchObject({ reports: expect.any(Number), lossPreventedMinor: expect.any(Number) });
  expect(todayRow.lossPreventedMinor).toBeGreaterThanOrEqual(1_200_000);

  // Every figure in minor units is an integer, and the ledger agrees with the summary.
  const ledger = await t.db('loss_prevention_ledger').sum({ total: 'amount_minor' }).first();
  expect(s.lossPreventedMinor).toBe(Number(ledger!.total));
  expect(Number.isInteger(s.lossPreventedMinor) && Number.isInteger(s.reportedLossMinor)).toBe(true);
});

it('counts open, overdue and unrouted tasks as they are now', async () => {
  const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    transfers: [{ toAccount: '6222 0233 3333 3333', amountMinor: 100_000, transferredAt: '2026-11-28T09:30:00+08:00' }],
    indicators: [{ kind: 'url', value: 'http://nobody-routes-this.example/pay' }],
  }));
  expect(filed.status).toBe(201);
  const routed = filed.body.tasks.find((x: { institutionId: string | null }) => x.institutionId === bank.id);
  await t.db('tasks').where({ id: routed.id }).update({ due_at: new Date(Date.now() - 60_000) });

  const s = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
  expect(s.tasks.unrouted).toBeGreaterThanOrEqual(1);
  expect(s.tasks.open).toBeGreaterThanOrEqual(1);
  expect(s.tasks.overdue).toBeGreaterThanOrEqual(1);
  const mine = s.byInstitution.find((i: { institutionId: string }) => i.institutionId === bank.id);
  expect(mine).toMatchObject({ tasksOpen: 1, tasksOverdue: 1 });
});

it('when the period lies before any booking, then nothing is counted in it', async () => {
  const res = await t.api.as(supervisor).get('/api/v1/stats/summary?from=2020-01-01&to=2020-01-31');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ from: '2020-01-01', to: '2020-01-31', reports: 0, reportedLossMinor: 0, lossPreventedMinor: 0, medianMinutesReportToFirstFreeze: null });
  expect(res.body.tasks.done).toBe(0);
  expect(res.body.daily).toHaveLength(31);
  expect(res.body.daily.every((d: { lossPreventedMinor: number }) => d.lossPreventedMinor === 0)).toBe(true);
  const bad = await t.api.as(supervisor).get('/api/v1/stats/summary?from=2020-02-01&to=2020-01-01');
  expect(bad.status).toBe(400);
  expect((await t.api.as(supervisor).get('/api/v1/stats/summary?from=yesterday')).status).toBe(400);
});

it('exports the per-institution rows as CSV', async () => {
  const res = await t.api.as(supervisor).get('/api/v1/stats/export.csv');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/csv/);
  expect(res.headers['content-disposition']).toMatch(/attachment; filename="?afrc-institutions-/);
  const lines = res.text.trim().split('\r\n');
  expect(lines[0]).toBe('institutionId,lossPreventedMinor,tasksDone,tasksFailed,tasksOpen,tasksOverdue,medianMinutesToResult');
  const row = lines.find((l) => l.startsWith(`${bank.id},`))!.split(',');
  expect(row.slice(0, 6)).toEqual([bank.id, '1200000', '1', '1', '1', '1']);
});

it('is for supervisors and admins only', async () => {
  expect((await t.api.as(officer).get('/api/v1/stats/summary')).status).toBe(403);
  expect((await t.api.as(liaison).get('/api/v1/stats/export.csv')).status).toBe(403);
  expect((await t.api.raw().get('/api/v1/stats/summary')).status).toBe(401);
});
