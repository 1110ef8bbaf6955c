import { randomBytes } from 'node:crypto';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { escalateStatus, STATUS_LADDER } from '../../server/domain/indicator-rules';
import { escalateStatusSql } from '../../server/tasks/task-writer.repo';
import { foldStatsDeltas } from '../../server/stats/stats.repo';
import { pageSession } from '../helpers/page-session';

let t: TestApp;
let bank: TestInstitution;
let carrier: TestInstitution;
let officer: TestUser;
let supervisor: TestUser;
let bankLiaison: TestUser;
let carrierLiaison: TestUser;

// Every test uses numbers and accounts of its own, so no test sees another's open tasks.
let seq = 0;
const suffix = randomBytes(2).readUInt16BE(0) % 1000;
const phone = () => `+86171${String(suffix).padStart(3, '0')}${String(++seq).padStart(5, '0')}`;
const account = () => `622202${String(suffix).padStart(3, '0')}${String(++seq).padStart(7, '0')}`;

beforeAll(async () => {
  t = await testApp();
  bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
  bankLiaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
});
afterAll(() => t.close());

const officerPages = async () => {
  const s = pageSession(t.app);
  await s.login(officer.username, officer.password);
  return s;
};
const file = (body: ReturnType<typeof reportBody>) => t.api.as(officer).post('/api/v1/reports').send(body);
const blockTasksFor = (value: string) => t.db('tasks').where({ target_kind: 'phone', target_value: value, family: 'blocking' });

describe('blocking tasks are opened once per target and institution', () => {
  it('when a second report names a number that has an open block task, then no task is opened and the report is linked to the open one', async () => {
    const number = phone();
    const first = await file(reportBody({ transfers: [{ toAccount: account(), amountMinor: 10_000 }], indicators: [{ kind: 'phone', value: number }] }));
    const second = await file(reportBody({ transfers: [{ toAccount: account(), amountMinor: 20_000 }], indicators: [{ kind: 'phone', value: number }] }));
    expect([first.status, second.status]).toEqual([201, 201]);

    const opened = first.body.tasks.find((x: { kind: string }) => x.kind === 'block_number');
    expect(opened).toMatchObject({ institutionId: carrier.id, status: 'queued', family: 'blocking' });
    expect(second.body.tasks.map((x: { kind: string }) => x.kind)).toEqual(['intercept_funds']);
    expect(second.body.indicators[0]).toMatchObject({ value: number, blocking: 'joined', blockingTaskId: opened.id });
    expect(await blockTasksFor(number)).toHaveLength(1);
    expect(await t.queueJobIds(`partner-${carrier.id}`)).toContain(opened.id);

    const detail = await t.api.as(officer).get(`/api/v1/reports/${second.body.id}`);
    expect(detail.body.indicators[0]).toMatchObject({ blocking: 'joined', blockingTaskId: opened.id });
    const page = await (await officerPages()).get(`/reports/${second.body.id}`);
    expect(page.text).toContain('data-blocking="joined"');
    expect(page.text).toContain('already open for an earlier report');
  });

  it('when the number is already blocked, then a new report opens no task and says so', async () => {
    const number = phone();
    const first = await file(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: number }] }));
    const task = first.body.tasks[0];
    await t.api.as(carrierLiaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'blocked' }).expect(200);

    const later = await file(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: number }] }));
    expect(later.status).toBe(201);
    expect(later.body.tasks).toEqual([]);
    expect(later.body.indicators[0]).toMatchObject({ status: 'blocked', blocking: 'already_blocked', blockingTaskId: null });
    const page = await (await officerPages()).get(`/reports/${later.body.id}`);
    expect(page.text).toContain('data-blocking="already-blocked"');
  });

  it('when the open task has closed without blocking, then the next report opens a new one', async () => {
    const number = phone();
    const first = await file(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: number }] }));
    await t.api.as(carrierLiaison).post(`/api/v1/tasks/${first.body.tasks[0].id}/result`).send({ outcome: 'not_found' }).expect(200);
    const next = await file(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: number }] }));
    expect(next.body.tasks).toHaveLength(1);
    expect(next.body.tasks[0].id).not.toBe(first.body.tasks[0].id);
    expect(next.body.indicators[0].blocking).toBe('opened');
  });

  it('when an unrouted blocking task is assigned, then later reports of its target at that institution join it', async () => {
    const site = `https://refund-${randomBytes(4).toString('hex')}.example/pay`;
    const first = await file(reportBody({ transfers: [], indicators: [{ kind: 'url', value: site }] }));
    expect(first.body.tasks[0]).toMatchObject({ kind: 'takedown_url', status: 'unrouted', institutionId: null });
    const platform = await t.factories.institution({ kind: 'platform', routes: [{ indicatorKind: 'url', prefix: new URL(site).hostname }] });
    await t.api.as(supervisor).post(`/api/v1/tasks/${first.body.tasks[0].id}/assign`).send({ institutionId: platform.id }).expect(200);

    const second = await file(reportBody({ transfers: [], indicators: [{ kind: 'url', value: site }] }));
    expect(second.body.tasks).toEqual([]);
    expect(second.body.indicators[0]).toMatchObject({ blocking: 'joined', blockingTaskId: first.body.tasks[0].id });
  });

  it('when a wave of reports names the same mule account and number at once, then every report is filed, each transfer is chased, and one block task serves them all', async () => {
    const number = phone();
    const mule = account();
    const wave = await Promise.all(Array.from({ length: 24 }, (_, i) =>
      file(reportBody({ transfers: [{ toAccount: mule, amountMinor: 1_000 + i }], indicators: [{ kind: 'phone', value: number }, { kind: 'bank_account', value: mule }] }))));
    expect(wave.map((r) => r.status)).toEqual(wave.map(() => 201));

    const blocks = await blockTasksFor(number);
    expect(blocks).toHaveLength(1);
    const intercepts = await t.db('tasks').where({ target_value: mule, kind: 'intercept_funds' });
    expect(intercepts).toHaveLength(24);
    // The account is chased by each report's interception, not frozen again as an indicator.
    expect(await t.db('tasks').where({ target_value: mule, kind: 'freeze_account' })).toHaveLength(0);
    const links = await t.db('report_indicators as ri').join('indicators as i', 'i.id', 'ri.indicator_id')
      .whereIn('ri.report_id', wave.map((r) => r.body.id)).select('i.kind', 'ri.blocking', 'ri.blocking_task_id');
    expect(links.filter((l) => l.kind === 'phone').map((l) => l.blocking_task_id)).toEqual(wave.map(() => blocks[0].id));
    expect(links.filter((l) => l.kind === 'phone').filter((l) => l.blocking === 'opened')).toHaveLength(1);
    expect(links.filter((l) => l.kind === 'bank_account').every((l) => l.blocking === 'intercepted')).toBe(true);
  });
});

describe('the intake statement', () => {
  it('files a report, its transfers, indicators, tasks, links, events and rollup delta in one statement', async () => {
    await file(reportBody({ transfers: [{ toAccount: account(), amountMinor: 1_000 }], indicators: [{ kind: 'phone', value: phone() }] }));
    const seen: string[] = [];
    const count = (q: { sql: string }) => seen.push(q.sql);
    t.db.on('query', count);
    const res = await file(reportBody({ transfers: [{ toAccount: account(), amountMinor: 2_000 }], indicators: [{ kind: 'phone', value: phone() }] }));
    t.db.off('query', count);
    expect(res.status).toBe(201);
    // The token's account check and the caller's quota (kept in PostgreSQL on that queue backend),
    // then the report: nothing else goes to PostgreSQL.
    expect(seen.filter((sql) => !/\busers\b|rate_limit_counters/.test(sql))).toEqual([expect.stringMatching(/^WITH rep AS \(\s+INSERT INTO reports/)]);
    const id = res.body.id;
    expect(await t.db('transfers').where({ report_id: id })).toHaveLength(1);
    expect(await t.db('report_indicators').where({ report_id: id })).toHaveLength(1);
    expect(await t.db('tasks').where({ report_id: id })).toHaveLength(2);
    expect((await t.db('events').where({ report_id: id }).orderBy('id')).map((e) => e.type)).toEqual(['report.created', 'task.queued', 'task.queued']);
    expect(await t.db('stats_deltas').where({ reports: 1, reported_loss_minor: 2_000 })).not.toHaveLength(0);
  });

  it('when routes change between two reports, then the second is planned again with the new routes and nothing of its first try is kept', async () => {
    const number = `+86172${String(++seq).padStart(8, '0')}`;
    const unrouted = await file(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: number }] }));
    expect(unrouted.body.tasks[0]).toMatchObject({ status: 'unrouted', institutionId: null });
    // A second carrier for +86172 numbers arrives (the routing in memory is now out of date).
    const other = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86172' }] });
    const before = Number((await t.db('reports').count({ n: '*' }).first())!.n);
    const routed = await file(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: number }] }));
    expect(routed.status).toBe(201);
    expect(routed.body.tasks).toEqual([expect.objectContaining({ kind: 'block_number', institutionId: other.id, status: 'queued' })]);
    expect(Number((await t.db('reports').count({ n: '*' }).first())!.n)).toBe(before + 1);
    expect(await t.db('events').where({ report_id: routed.body.id, type: 'report.created' })).toHaveLength(1);
  });

  it('when a transfer names a bank added since the last report, then the report is filed and chased there', async () => {
    await file(reportBody({ transfers: [{ toAccount: account(), amountMinor: 1_000 }], indicators: [] }));
    const newBank = await t.factories.institution({ kind: 'bank' });
    const res = await file(reportBody({ transfers: [{ toAccount: '9999990000000001', toInstitutionId: newBank.id, amountMinor: 3_000 }], indicators: [] }));
    expect(res.status).toBe(201);
    expect(res.body.tasks).toEqual([expect.objectContaining({ kind: 'intercept_funds', institutionId: newBank.id })]);
  });
});

describe('task kinds and their families', () => {
  it('when each kind is answered, then money books the ledger and blocking blocks the indicator', async () => {
    const number = phone();
    const res = await file(reportBody({ transfers: [{ toAccount: account(), amountMinor: 70_000 }], indicators: [{ kind: 'phone', value: number }] }));
    const money = res.body.tasks.find((x: { family: string }) => x.family === 'money');
    const blocking = res.body.tasks.find((x: { family: string }) => x.family === 'blocking');
    expect(money.kind).toBe('intercept_funds');
    expect(blocking.kind).toBe('block_number');

    // A money task cannot be "blocked"; a blocking task cannot freeze money.
    expect((await t.api.as(bankLiaison).post(`/api/v1/tasks/${money.id}/result`).send({ outcome: 'blocked' })).status).toBe(400);
    expect((await t.api.as(carrierLiaison).post(`/api/v1/tasks/${blocking.id}/result`).send({ outcome: 'frozen', frozenMinor: 1 })).status).toBe(400);

    await t.api.as(bankLiaison).post(`/api/v1/tasks/${money.id}/result`).send({ outcome: 'frozen', frozenMinor: 70_000 }).expect(200);
    await t.api.as(carrierLiaison).post(`/api/v1/tasks/${blocking.id}/result`).send({ outcome: 'blocked' }).expect(200);
    expect(await t.db('loss_prevention_ledger').where({ task_id: money.id }).select('amount_minor')).toEqual([{ amount_minor: 70_000 }]);
    expect(await t.db('loss_prevention_ledger').where({ task_id: blocking.id })).toHaveLength(0);
    expect((await t.db('indicators').where({ kind: 'phone', value: number }).first()).status).toBe('blocked');
  });

  it('escalates indicator status in SQL exactly as escalateStatus does', async () => {
    const values = [null, ...STATUS_LADDER];
    for (const current of values) {
      for (const incoming of values) {
        const { rows } = await t.db.raw(`SELECT ${escalateStatusSql('?::text', '?::text')} AS s`, [current, incoming]);
        expect({ current, incoming, status: rows[0].s }).toEqual({ current, incoming, status: escalateStatus(current, incoming) });
      }
    }
  });
});

describe('rollups under concurrent writers', () => {
  it('after a burst of concurrent reports and results, with folds running alongside, the figures equal a recount from the reports and the ledger', async () => {
    const day = (await t.db.raw(`SELECT to_char((now() AT TIME ZONE ?)::date, 'YYYY-MM-DD') AS d`, [t.config.timeZone])).rows[0].d as string;
    const period = `from=${day}&to=${day}`;
    let folding = true;
    const folder = (async () => {
      let folds = 0;
      while (folding) {
        await foldStatsDeltas(t.db, 7);
        folds++;
      }
      return folds;
    })();

    const filed = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      file(reportBody({ fraudType: i % 2 ? 'investment' : 'romance', transfers: [{ toAccount: account(), amountMinor: 10_000 + i * 37 }], indicators: [] }))));
    expect(filed.map((r) => r.status)).toEqual(filed.map(() => 201));
    const answers = await Promise.all(filed.map((r, i) => {
      const task = r.body.tasks[0];
      const body = i % 3 === 0 ? { outcome: 'not_found' } : { outcome: 'frozen', frozenMinor: task.amountMinor - i };
      return t.api.as(bankLiaison).post(`/api/v1/tasks/${task.id}/result`).send(body);
    }));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    folding = false;
    expect(await folder).toBeGreaterThan(0);

    const recount = async () => {
      const { rows: [reports] } = await t.db.raw(
        `SELECT count(*)::int AS n, coalesce(sum(reported_loss_minor), 0)::bigint AS loss FROM reports
          WHERE (created_at AT TIME ZONE ?)::date = ?::date AND currency = 'CNY'`, [t.config.timeZone, day]);
      const { rows: [ledger] } = await t.db.raw(
        `SELECT coalesce(sum(amount_minor), 0)::bigint AS prevented FROM loss_prevention_ledger
          WHERE (booked_at AT TIME ZONE ?)::date = ?::date AND currency = 'CNY'`, [t.config.timeZone, day]);
      const { rows: [atBank] } = await t.db.raw(
        `SELECT coalesce(sum(amount_minor), 0)::bigint AS prevented FROM loss_prevention_ledger
          WHERE institution_id = ? AND (booked_at AT TIME ZONE ?)::date = ?::date`, [bank.id, t.config.timeZone, day]);
      return { reports: reports.n, reportedLossMinor: reports.loss, lossPreventedMinor: ledger.prevented, atBank: atBank.prevented };
    };
    const figures = async () => {
      const s = (await t.api.as(supervisor).get(`/api/v1/stats/summary?${period}`)).body;
      return {
        reports: s.reports, reportedLossMinor: s.reportedLossMinor, lossPreventedMinor: s.lossPreventedMinor,
        atBank: s.byInstitution.find((b: { institutionId: string }) => b.institutionId === bank.id)?.lossPreventedMinor ?? 0,
      };
    };
    const expected = await recount();
    expect(expected.lossPreventedMinor).toBeGreaterThan(0);
    // Some deltas may be left unfolded: the figures add them.
    expect(await figures()).toEqual(expected);
    // Folded to the last one, the rollup tables alone say the same.
    while ((await foldStatsDeltas(t.db)) > 0);
    expect(await t.db('stats_deltas').count({ n: '*' }).first()).toEqual({ n: 0 });
    expect(await figures()).toEqual(expected);
  });
});
