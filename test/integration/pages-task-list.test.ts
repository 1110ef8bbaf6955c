import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import { FACTORY_PASSWORD, type TestInstitution, type TestUser } from '../helpers/factories';
import { reportBody } from '../helpers/bodies';
import { localDate } from '../../server/pages/format';

let t: TestApp;
let bank: TestInstitution;
let carrier: TestInstitution;
let supervisor: TestUser;
let officer: TestUser;
let bankLiaison: TestUser;
let carrierLiaison: TestUser;

type TaskOut = { id: string; kind: string; institutionId: string | null; status: string; version: number };

beforeAll(async () => {
  t = await testApp();
  bank = await t.factories.institution({ kind: 'bank', name: 'List Bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  carrier = await t.factories.institution({ kind: 'carrier', name: 'List Mobile', routes: [{ indicatorKind: 'phone', prefix: '+86139' }] });
  supervisor = await t.factories.user({ role: 'supervisor' });
  officer = await t.factories.user({ role: 'desk_officer' });
  bankLiaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
});
afterAll(() => t.close());

async function as(user: TestUser, lang = 'en') {
  const s = pageSession(t.app, lang);
  await s.login(user.username, FACTORY_PASSWORD);
  return s;
}

/** A report with one interception at the bank, one number block at the carrier and one unrouted takedown. */
async function fileReport(account = '6222021234567890', phone = '+86 139 0000 1234'): Promise<TaskOut[]> {
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    transfers: [{ toAccount: account, amountMinor: 1_000_000, transferredAt: '2026-11-28T09:30:00+08:00' }],
    indicators: [{ kind: 'phone', value: phone }, { kind: 'url', value: `http://unrouted-${account.slice(-4)}.example/pay` }],
  }));
  expect(res.status).toBe(201);
  return res.body.tasks as TaskOut[];
}

/** The task ids the list shows, in its order. */
const listed = (html: string) => [...html.matchAll(/<tr data-task="([0-9a-f-]{36})"/g)].map((m) => m[1]!);
const unescape = (html: string) => html.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&');

describe('the staff task list', () => {
  it('filters by overdue, failed or delivery-failed, unrouted, institution and kind, and pages', async () => {
    const first = await fileReport('6222021000000001', '+86 139 0000 0001');
    const second = await fileReport('6222021000000002', '+86 139 0000 0002');
    const intercept1 = first.find((x) => x.kind === 'intercept_funds')!;
    const intercept2 = second.find((x) => x.kind === 'intercept_funds')!;
    const block1 = first.find((x) => x.kind === 'block_number')!;
    const unrouted = [...first, ...second].filter((x) => x.status === 'unrouted').map((x) => x.id);
    expect(unrouted).toHaveLength(2);

    // One interception is past due, one answered "not found" (failed), one number's delivery failed.
    await t.db('tasks').where({ id: intercept1.id }).update({ due_at: new Date(Date.now() - 60_000) });
    const failed = await t.api.as(bankLiaison).post(`/api/v1/tasks/${intercept2.id}/result`).send({ outcome: 'not_found' });
    expect(failed.status).toBe(200);
    expect(await t.deps.services.taskLifecycle.recordDeliveryFailure(block1.id, block1.institutionId!, 'HTTP 502', 8)).toBe(true);

    const s = await as(supervisor);
    const overdue = await s.get('/tasks?view=overdue');
    expect(overdue.status).toBe(200);
    expect(listed(overdue.text)).toEqual([intercept1.id]);

    expect(new Set(listed((await s.get('/tasks?view=failed')).text))).toEqual(new Set([intercept2.id, block1.id]));
    expect(new Set(listed((await s.get('/tasks?view=unrouted')).text))).toEqual(new Set(unrouted));

    const atCarrier = listed((await s.get(`/tasks?institutionId=${carrier.id}`)).text);
    expect(atCarrier.length).toBe(2);
    const carrierRows = await t.db('tasks').whereIn('id', atCarrier);
    expect(carrierRows.every((r: { institution_id: string }) => r.institution_id === carrier.id)).toBe(true);

    const blocks = listed((await s.get('/tasks?kind=block_number')).text);
    expect(new Set(blocks)).toEqual(new Set([block1.id, second.find((x) => x.kind === 'block_number')!.id]));

    // Filters combine: the bank's failed tasks are the one "not found".
    expect(listed((await s.get(`/tasks?view=failed&institutionId=${bank.id}`)).text)).toEqual([intercept2.id]);

    // Paged: 50 a page, the next link keeps the filters.
    for (let i = 0; i < 50; i++) await fileReport(`62220220000${String(i).padStart(5, '0')}`, `+86 139 1000 ${String(i).padStart(4, '0')}`);
    const page1 = await s.get('/tasks?kind=block_number');
    expect(listed(page1.text)).toHaveLength(50);
    const next = /href="\/tasks\?([^"]+)" rel="next"/.exec(unescape(page1.text))?.[1];
    expect(next).toContain('kind=block_number');
    const page2 = await s.get(`/tasks?${next}`);
    expect(listed(page2.text)).toHaveLength(2);
    expect(listed(page2.text).some((id) => listed(page1.text).includes(id))).toBe(false);
  });

  it('shows a bad filter beside its field, in the page language, and answers the rest', async () => {
    const s = await as(supervisor, 'zh-CN');
    const res = await s.get('/tasks?view=sideways&kind=block_number');
    expect(res.status).toBe(400);
    expect(res.text).toContain('该值不能用作筛选条件。');
    expect(res.text).toMatch(/<select id="view" name="view" aria-invalid="true">/);
  });

  it('is for center staff; a liaison keeps the inbox', async () => {
    const o = await as(officer);
    expect((await o.get('/tasks')).text).toContain('id="task-list"');
    const l = await as(bankLiaison);
    const inbox = await l.get('/tasks?view=failed');
    expect(inbox.status).toBe(200);
    expect(inbox.text).not.toContain('id="task-list"');
  });
});

describe('the task page', () => {
  it('has its own audit timeline, in order, with seconds; a liaison sees only the task\'s own events', async () => {
    const tasks = await fileReport('6222023000000001', '+86 139 3000 0001');
    const block = tasks.find((x) => x.kind === 'block_number')!;
    const answered = await t.api.as(carrierLiaison).post(`/api/v1/tasks/${block.id}/result`).send({ outcome: 'blocked', version: block.version });
    expect(answered.status).toBe(200);

    const s = await as(supervisor);
    const page = await s.get(`/tasks/${block.id}`);
    expect(page.status).toBe(200);
    const events = [...page.text.matchAll(/<li data-event="([\w.]+)"><time datetime="[^"]+">([^<]+)<\/time>/g)].map((m) => ({ type: m[1], at: m[2]! }));
    // Answered before its worker delivered it: the answer records the delivery too, once.
    expect(events.map((e) => e.type)).toEqual(['report.created', 'task.queued', 'task.dispatched', 'task.result_recorded']);
    // Seconds are shown: "28 Nov 2026, 09:12:05".
    for (const e of events) expect(e.at).toMatch(/\d{2}:\d{2}:\d{2}/);
    expect(page.text).not.toContain(`action="/tasks/${block.id}/result"`);

    const l = await as(carrierLiaison);
    const own = await l.get(`/tasks/${block.id}`);
    const liaisonEvents = [...own.text.matchAll(/<li data-event="([\w.]+)">/g)].map((m) => m[1]);
    expect(liaisonEvents).toEqual(['task.queued', 'task.dispatched', 'task.result_recorded']);
  });

  it('orders "report filed" before "task queued" by their sequence, even at the same instant', async () => {
    const tasks = await fileReport('6222024000000001', '+86 139 4000 0001');
    const intercept = tasks.find((x) => x.kind === 'intercept_funds')!;
    const reportId = (await t.db('tasks').where({ id: intercept.id }).first()).report_id as string;
    // Same time on every event of the report: only the sequence can order them.
    await t.db('events').where({ report_id: reportId }).update({ occurred_at: new Date('2026-11-28T01:00:00Z') });
    const s = await as(supervisor);
    const report = await s.get(`/reports/${reportId}`);
    const types = [...report.text.matchAll(/<li data-event="([\w.]+)">/g)].map((m) => m[1]);
    expect(types[0]).toBe('report.created');
    expect(types.length).toBeGreaterThanOrEqual(3);
    expect(types.slice(1).every((x) => x!.startsWith('task.'))).toBe(true);
    const api = await t.api.as(officer).get(`/api/v1/reports/${reportId}`);
    expect(api.body.events[0].type).toBe('report.created');
  });
});

describe('the dashboard links every figure to its rows', () => {
  it('each period figure and league cell links to a list whose rows are that figure', async () => {
    const s = await as(supervisor);
    const today = localDate(new Date(), t.config.timeZone);
    const dash = unescape((await s.get(`/dashboard?from=${today}&to=${today}`)).text);
    const figure = (id: string) => {
      const m = new RegExp(`data-figure="${id}"><span class="label">[^<]*</span><span class="value"><a href="([^"]+)">(?:<span aria-hidden="true">⚠ </span>)?([^<]*)<`).exec(dash);
      return { href: m![1]!, value: m![2]! };
    };
    for (const id of ['open', 'overdue', 'unrouted', 'done', 'failed']) {
      const f = figure(id);
      expect(f.href).toContain(`view=${id}`);
      const list = await s.get(f.href);
      const rows = listed(list.text);
      // The "failed" list also shows the tasks whose deliveries ran out, which the figure does not count.
      const failing = id === 'failed'
        ? Number((await t.db('tasks').where('status', 'delivery_failed').count('* as n').first())!.n)
        : 0;
      // A list shows 50 rows a page; a larger figure has a next page.
      expect(rows.length).toBe(Math.min(Number(f.value) + failing, 50));
      if (Number(f.value) > 50) expect(list.text).toContain('rel="next"');
    }
    expect(figure('done').href).toContain(`from=${today}&to=${today}`);
    expect(figure('reports').href).toBe(`/reports?from=${today}&to=${today}`);
    expect(figure('today').href).toContain('view=prevented');
    const row = new RegExp(`<tr data-institution="${bank.id}">([\\s\\S]*?)</tr>`).exec(dash)![1]!;
    expect(row).toContain(`/tasks?view=overdue&institutionId=${bank.id}`);
    expect(row).toContain(`/tasks?view=done&from=${today}&to=${today}&institutionId=${bank.id}`);
  });
});

describe('search finds what was typed the way it is stored', () => {
  it('finds a phone typed without +86 and an account typed with spaces, in reports and indicators (pages and API)', async () => {
    await fileReport('6222025550001111', '+86 139 5555 0001');
    const api = t.api.as(officer);
    const byPhone = await api.get('/api/v1/reports?q=13955550001');
    expect(byPhone.status).toBe(200);
    expect(byPhone.body.items).toHaveLength(1);
    const byAccount = await api.get(`/api/v1/reports?q=${encodeURIComponent('6222 0255 5000 1111')}`);
    expect(byAccount.body.items).toHaveLength(1);
    expect(byAccount.body.items[0].id).toBe(byPhone.body.items[0].id);
    const spaced = await api.get(`/api/v1/indicators?q=${encodeURIComponent('139 5555 0001')}`);
    expect(spaced.body.items.map((i: { value: string }) => i.value)).toEqual(['+8613955550001']);
    const typedKind = await api.get('/api/v1/indicators?kind=phone&q=13955550001');
    expect(typedKind.body.items.map((i: { value: string }) => i.value)).toEqual(['+8613955550001']);

    const s = await as(officer);
    const page = await s.get(`/reports?q=${encodeURIComponent('6222 0255 5000 1111')}`);
    expect(page.text).toContain(`/reports/${byPhone.body.items[0].id}`);
    const none = await api.get('/api/v1/reports?q=13955550009');
    expect(none.body.items).toHaveLength(0);
  });
});
