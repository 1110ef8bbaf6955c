import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';

let t: TestApp;
let supervisor: TestUser;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp();
  supervisor = await t.factories.user({ role: 'supervisor' });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

type Summary = {
  from: string; to: string; reports: number; reportedLossMinor: number; lossPreventedMinor: number;
  medianMinutesReportToFirstFreeze: number | null;
  tasks: { open: number; overdue: number; done: number; failed: number; unrouted: number };
  byInstitution: { institutionId: string }[];
  byFraudType: { fraudType: string; reports: number; reportedLossMinor: number; lossPreventedMinor: number }[];
  daily: { date: string; reports: number; lossPreventedMinor: number }[];
};

/** The center's local day the way the server computes it: PostgreSQL's clock in the configured zone. */
async function localDay(at: 'now' | Date, plusDays = 0): Promise<string> {
  const ts = at === 'now' ? t.db.raw('now()') : t.db.raw('?::timestamptz', [at.toISOString()]);
  const { rows } = await t.db.raw(`SELECT to_char((? AT TIME ZONE ?)::date + ?::int, 'YYYY-MM-DD') AS d`, [ts, t.config.timeZone, plusDays]);
  return rows[0].d;
}

/**
 * A period pinned before the test writes anything: today and tomorrow in the center's zone, so a run
 * that crosses local midnight still books every row inside it. Tests assert that their rows fall in it.
 */
async function pinnedPeriod() {
  return { from: await localDay('now'), to: await localDay('now', 1) };
}

async function summary(period?: { from: string; to: string }): Promise<Summary> {
  const query = period ? `?from=${period.from}&to=${period.to}` : '';
  const res = await t.api.as(supervisor).get(`/api/v1/stats/summary${query}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function partnerBank(): Promise<{ bank: TestInstitution; liaison: TestUser }> {
  const bank = await t.factories.institution({ kind: 'bank' });
  const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  return { bank, liaison };
}

const rowOf = <T extends { institutionId: string }>(s: { byInstitution: T[] }, id: string) => s.byInstitution.find((i) => i.institutionId === id);

/** Files a report with two transfers to `bank`, freezes part of the first and finds nothing on the second. */
async function fileAndAnswer(bank: TestInstitution, liaison: TestUser, fraudType: 'investment' | 'loan' = 'investment') {
  const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    fraudType,
    transfers: [
      { toAccount: '6222 0211 1111 1111', toInstitutionId: bank.id, amountMinor: 3_000_000, transferredAt: '2026-11-28T09:30:00+08:00' },
      { toAccount: '6222 0222 2222 2222', toInstitutionId: bank.id, amountMinor: 2_000_000, transferredAt: '2026-11-28T09:40:00+08:00' },
    ],
    indicators: [],
  }));
  expect(filed.status).toBe(201);
  const tasks = filed.body.tasks as { id: string; institutionId: string | null }[];
  expect(tasks.map((x) => x.institutionId)).toEqual([bank.id, bank.id]);
  const [t1, t2] = tasks;
  expect((await t.api.as(liaison).post(`/api/v1/tasks/${t1!.id}/result`).send({ outcome: 'partially_frozen', frozenMinor: 1_200_000 })).status).toBe(200);
  expect((await t.api.as(liaison).post(`/api/v1/tasks/${t2!.id}/result`).send({ outcome: 'not_found' })).status).toBe(200);
  const report = await t.db('reports').where({ id: filed.body.id }).first();
  const booking = await t.db('loss_prevention_ledger').where({ task_id: t1!.id }).first();
  return { reportId: filed.body.id as string, tasks, reportCreatedAt: report.created_at as Date, bookedAt: booking.booked_at as Date };
}

it('when reports are filed and a freeze is booked, then the summary shows the funnel, tasks, medians and rows per institution, fraud type and day', async () => {
  const { bank, liaison } = await partnerBank();
  const period = await pinnedPeriod();
  const before = await summary(period);

  const { reportCreatedAt, bookedAt } = await fileAndAnswer(bank, liaison);
  const bookedDay = await localDay(bookedAt);
  for (const day of [await localDay(reportCreatedAt), bookedDay]) {
    expect(day >= period.from && day <= period.to).toBe(true);
  }

  const s = await summary(period);
  expect(s).toMatchObject({ from: period.from, to: period.to, currency: 'CNY' });
  expect(s.reports - before.reports).toBe(1);
  expect(s.reportedLossMinor - before.reportedLossMinor).toBe(5_000_000);
  expect(s.lossPreventedMinor - before.lossPreventedMinor).toBe(1_200_000);
  expect(s.tasks.done - before.tasks.done).toBe(1);
  expect(s.tasks.failed - before.tasks.failed).toBe(1);
  expect(s.medianMinutesReportToFirstFreeze).toEqual(expect.any(Number));
  expect(s.medianMinutesReportToFirstFreeze).toBeGreaterThanOrEqual(0);

  expect(rowOf(before, bank.id)).toMatchObject({ lossPreventedMinor: 0, tasksDone: 0, tasksFailed: 0, tasksOpen: 0 });
  expect(rowOf(s, bank.id)).toMatchObject({
    lossPreventedMinor: 1_200_000, tasksDone: 1, tasksFailed: 1, tasksOpen: 0, tasksOverdue: 0, medianMinutesToResult: expect.any(Number),
  });
  const investment = (x: Summary) => x.byFraudType.find((f) => f.fraudType === 'investment')!;
  expect(investment(s).reports - investment(before).reports).toBe(1);
  expect(investment(s).reportedLossMinor - investment(before).reportedLossMinor).toBe(5_000_000);
  expect(investment(s).lossPreventedMinor - investment(before).lossPreventedMinor).toBe(1_200_000);
  const day = (x: Summary) => x.daily.find((d) => d.date === bookedDay)!;
  expect(day(s).lossPreventedMinor - day(before).lossPreventedMinor).toBe(1_200_000);

  // Every figure in minor units is an integer, and the ledger of the same local days agrees with the summary.
  const ledger = await t.db('loss_prevention_ledger')
    .where('currency', 'CNY')
    .whereRaw(`(booked_at AT TIME ZONE ?)::date BETWEEN ?::date AND ?::date`, [t.config.timeZone, period.from, period.to])
    .sum({ total: 'amount_minor' }).first();
  expect(s.lossPreventedMinor).toBe(Number(ledger!.total));
  expect(Number.isInteger(s.lossPreventedMinor) && Number.isInteger(s.reportedLossMinor)).toBe(true);
});

it('when no period is given, then it runs from the first of the month to today in the center\'s time zone', async () => {
  const dayBefore = await localDay('now');
  const s = await summary();
  const dayAfter = await localDay('now');
  // Either side of a local midnight the server and the test may each see a different "today".
  expect([dayBefore, dayAfter]).toContain(s.to);
  expect(s.from).toBe(`${s.to.slice(0, 8)}01`);
});

it('counts open, overdue and unrouted tasks as they are now', async () => {
  const { bank } = await partnerBank();
  const before = await summary();
  const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    transfers: [{ toAccount: '6222 0233 3333 3333', toInstitutionId: bank.id, amountMinor: 100_000, transferredAt: '2026-11-28T09:30:00+08:00' }],
    indicators: [{ kind: 'url', value: 'http://nobody-routes-this.example/pay' }],
  }));
  expect(filed.status).toBe(201);
  const tasks = filed.body.tasks as { id: string; institutionId: string | null }[];
  const routed = tasks.filter((x) => x.institutionId === bank.id);
  const unrouted = tasks.filter((x) => x.institutionId === null);
  expect(routed).toHaveLength(1);
  expect(unrouted.length).toBeGreaterThanOrEqual(1);
  await t.db('tasks').where({ id: routed[0]!.id }).update({ due_at: new Date(Date.now() - 60_000) });

  const s = await summary();
  expect(s.tasks.unrouted - before.tasks.unrouted).toBe(unrouted.length);
  expect(s.tasks.open - before.tasks.open).toBe(1);
  expect(s.tasks.overdue - before.tasks.overdue).toBe(1);
  expect(rowOf(s, bank.id)).toMatchObject({ tasksOpen: 1, tasksOverdue: 1 });
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
  const { bank, liaison } = await partnerBank();
  const period = await pinnedPeriod();
  const { bookedAt } = await fileAndAnswer(bank, liaison, 'loan');
  const bookedDay = await localDay(bookedAt);
  expect(bookedDay >= period.from && bookedDay <= period.to).toBe(true);
  // One more task, still open and past due.
  const open = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    transfers: [{ toAccount: '6222 0244 4444 4444', toInstitutionId: bank.id, amountMinor: 100_000, transferredAt: '2026-11-28T09:30:00+08:00' }],
    indicators: [],
  }));
  expect(open.status).toBe(201);
  await t.db('tasks').where({ id: open.body.tasks[0].id }).update({ due_at: new Date(Date.now() - 60_000) });

  const res = await t.api.as(supervisor).get(`/api/v1/stats/export.csv?from=${period.from}&to=${period.to}`);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/csv/);
  expect(res.headers['content-disposition']).toMatch(/attachment; filename="?afrc-institutions-/);
  const lines = res.text.trim().split('\r\n');
  expect(lines[0]).toBe('institutionId,lossPreventedMinor,tasksDone,tasksFailed,tasksOpen,tasksOverdue,medianMinutesToResult,'
    + 'lossPrevented,returnedMinor,returned,releasedMinor,released,heldMinor,held,returnRateBasisPoints,'
    + 'p90MinutesToResult,results,resultsOnTime,onTimePercent');
  const mine = lines.filter((l) => l.startsWith(`${bank.id},`));
  expect(mine).toHaveLength(1);
  const row = mine[0]!.split(',');
  expect(row.slice(0, 6)).toEqual([bank.id, '1200000', '1', '1', '1', '1']);
  expect(Number(row[6])).toBeGreaterThanOrEqual(0);
  expect(row[6]).not.toBe('');
  // Loss prevented in major units, and the funnel after the freeze: nothing returned or released
  // yet, the frozen 12,000.00 held (the hold's balance now), a return rate of 0 basis points.
  expect(row.slice(7, 15)).toEqual(['12000.00', '0', '0.00', '0', '0.00', '1200000', '12000.00', '0']);
  // Then the league's timing: two results in the period, both before their due time (100 %).
  expect(row.slice(16)).toEqual(['2', '2', '100']);

  // The CSV carries the same rows as the summary of the same period.
  const s = await summary(period);
  expect(lines.length - 1).toBe(s.byInstitution.length);
});

it('is for supervisors and admins only', async () => {
  const { liaison } = await partnerBank();
  expect((await t.api.as(officer).get('/api/v1/stats/summary')).status).toBe(403);
  expect((await t.api.as(liaison).get('/api/v1/stats/export.csv')).status).toBe(403);
  expect((await t.api.raw().get('/api/v1/stats/summary')).status).toBe(401);
});
