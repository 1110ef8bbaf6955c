import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import { FACTORY_PASSWORD, type TestInstitution, type TestUser } from '../helpers/factories';
import { reportBody } from '../helpers/bodies';
import { translator } from '../../server/i18n/i18n';
import { MoneyFormatError, parseMajorToMinor } from '../../server/domain/money';
import { moneyMessage } from '../../server/pages/messages';

let t: TestApp;
let bank: TestInstitution;
let carrier: TestInstitution;
let officer: TestUser;
let liaison: TestUser;

beforeAll(async () => {
  t = await testApp();
  bank = await t.factories.institution({ kind: 'bank', name: 'Bank of Test', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
});
afterAll(() => t.close());

const validForm = (over: Record<string, string> = {}) => ({
  'victim.name': 'Li Wei',
  'victim.phone': '+8613800138000',
  'victim.idNumber': '330106199001011234',
  channel: 'hotline',
  fraudType: 'impersonation',
  occurredAt: '2026-11-28T09:12',
  narrative: 'Caller claimed to be from the police.',
  'transfers.0.toInstitutionId': '',
  'transfers.0.toAccount': '6222 0212 3456 7890',
  'transfers.0.toAccountName': 'Zhang San',
  'transfers.0.amount': '1,234.56',
  'transfers.0.transferredAt': '2026-11-28T09:30',
  'transfers.1.toAccount': '', 'transfers.1.amount': '',
  'indicators.0.kind': 'phone',
  'indicators.0.value': '+86 171 0000 1234',
  'indicators.1.kind': 'url', 'indicators.1.value': '',
  ...over,
});

async function officerSession() {
  const s = pageSession(t.app);
  await s.login(officer.username, FACTORY_PASSWORD);
  return s;
}

// Each test files its own reports; the counter keeps their names, numbers and accounts apart
// (zero-padded, so one never contains another).
let seq = 0;
function uniqueCase() {
  const n = String(++seq).padStart(4, '0');
  return { name: `Victim ${n}`, phone: `+86 171 0099 ${n}`, phoneNormalized: `+861710099${n}`, account: `6222 0277 0000 ${n}`, accountNormalized: `622202770000${n}` };
}

/** Files a report from the form with its own victim, phone and account, and returns its tasks by kind. */
async function fileReport(over: Record<string, string> = {}) {
  const own = uniqueCase();
  const s = await officerSession();
  const res = await s.submit('/reports/new', '/reports/new', validForm({
    'victim.name': own.name, 'indicators.0.value': own.phone, 'transfers.0.toAccount': own.account, ...over,
  }));
  expect(res.status).toBe(303);
  const reportId = /^\/reports\/([0-9a-f-]{36})\/receipt$/.exec(res.headers.location)![1]!;
  const rows = await t.db('tasks').where({ report_id: reportId });
  return {
    ...own, reportId, location: `/reports/${reportId}`,
    intercept: rows.find((x) => x.kind === 'intercept_funds'), block: rows.find((x) => x.kind === 'block_number'),
  };
}
const versionOf = (html: string) => /name="version" value="(\d+)"/.exec(html)![1]!;

describe('/reports/new', () => {
  it('renders the form with the banks to pick from and blank rows for browsers without JavaScript', async () => {
    const s = await officerSession();
    const res = await s.get('/reports/new');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Bank of Test');
    expect(res.text).toContain('name="transfers.2.amount"');
    expect(res.text).toContain('name="indicators.2.value"');
    expect(res.text).not.toContain(carrier.name);
  });

  it('files a report: amounts typed in yuan become exact minor units, and the tasks are queued', async () => {
    const s = await officerSession();
    const res = await s.submit('/reports/new', '/reports/new', validForm());
    expect(res.status).toBe(303);
    const id = /^\/reports\/([0-9a-f-]{36})\/receipt$/.exec(res.headers.location)![1]!;
    const transfer = await t.db('transfers').where({ report_id: id }).first();
    expect(Number(transfer.amount_minor)).toBe(123456);
    const tasks = await t.db('tasks').where({ report_id: id });
    expect(tasks.map((x) => [x.kind, x.institution_id]).sort()).toEqual([['block_number', carrier.id], ['intercept_funds', bank.id]].sort());
    expect(await t.queueJobIds(`partner-${bank.id}`)).toContain(tasks.find((x) => x.kind === 'intercept_funds').id);

    const page = await s.get(`/reports/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/FR-\d{8}-\d{6}/);
    expect(page.text).toContain('¥1,234.56');
    expect(page.text).toContain('6222021234567890');
    expect(page.text).toContain('Report filed');
  });

  it('comes back with each message beside its field and everything typed kept', async () => {
    const narrative = `Caller claimed to be from the police, case ${uniqueCase().name}.`;
    const s = await officerSession();
    const res = await s.submit('/reports/new', '/reports/new', validForm({
      'victim.name': '', 'transfers.0.amount': '12,34', fraudType: 'not-a-type', 'indicators.0.value': '+86 171 0000 1234', narrative,
    }));
    expect(res.status).toBe(400);
    const html = res.text;
    // The typed values are all back in their fields.
    expect(html).toContain('value="6222 0212 3456 7890"');
    expect(html).toContain('value="12,34"');
    expect(html).toContain('value="Zhang San"');
    expect(html).toContain(narrative);
    expect(html).toContain('value="+86 171 0000 1234"');
    // Each message sits right after its own field.
    expect(html).toMatch(/name="transfers\.0\.amount"[^>]*aria-invalid="true"[^>]*>\s*<p class="field-error"/);
    expect(html).toMatch(/name="victim\.name"[^>]*aria-invalid="true"/);
    expect(html).toMatch(/id="fraud-type" name="fraudType" aria-invalid="true"/);
    expect(await t.db('reports').where({ narrative }).count('* as n').first()).toEqual({ n: 0 });
  });

  it('shows a service validation detail (an unknown account format) beside the transfer it is about', async () => {
    const s = await officerSession();
    const res = await s.submit('/reports/new', '/reports/new', validForm({
      'transfers.0.toAccount': '', 'transfers.0.amount': '', 'transfers.0.toAccountName': '', 'transfers.0.transferredAt': '',
      'transfers.1.toAccount': 'no digits here', 'transfers.1.amount': '10',
    }));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/name="transfers\.1\.toAccount" value="no digits here"[^>]*aria-invalid="true"[^>]*>\s*<p class="field-error"/);
  });

  it('adds a transfer row without JavaScript: the form comes back with everything kept and nothing filed', async () => {
    const own = uniqueCase();
    const s = await officerSession();
    const res = await s.submit('/reports/new', '/reports/new', validForm({
      addRow: 'transfers', 'victim.name': own.name,
      'transfers.1.toAccount': '6222 0200 0000 0002', 'transfers.1.amount': '20.00',
      'transfers.2.toAccount': '6222 0200 0000 0003', 'transfers.2.amount': '30.00',
    }));
    expect(res.status).toBe(200);
    expect(res.text).toContain('name="transfers.3.amount"');
    expect(res.text).not.toContain('name="transfers.4.amount"');
    expect(res.text).toMatch(/id="transfers-3-bank"[^>]*autofocus/);
    expect(res.text).toContain('value="6222 0200 0000 0003"');
    expect(res.text).toContain(`value="${own.name}"`);
    expect(res.text).not.toContain('aria-invalid');
    const more = await s.post('/reports/new', validForm({ addRow: 'indicators', 'victim.name': own.name }));
    expect(more.status).toBe(200);
    expect(more.text).toContain('name="indicators.2.value"');
    expect(await t.db('reports').where({ victim_name: own.name }).count('* as n').first()).toEqual({ n: 0 });
  });

  it('shows a narrative of <script> as text', async () => {
    const s = await officerSession();
    const res = await s.submit('/reports/new', '/reports/new', validForm({ narrative: '<script>alert(1)</script>', 'victim.name': '<b>Bold</b>' }));
    expect(res.status).toBe(303);
    const page = await s.get(res.headers.location.replace(/\/receipt$/, ''));
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)');
    expect(page.text).toContain('&lt;b&gt;Bold&lt;/b&gt;');
    const list = await s.get('/reports?q=Bold');
    expect(list.text).toContain('&lt;b&gt;Bold&lt;/b&gt;');
  });

  it('refuses a liaison, and refuses a post without the CSRF token', async () => {
    const l = pageSession(t.app);
    await l.login(liaison.username, FACTORY_PASSWORD);
    expect((await l.get('/reports/new')).status).toBe(403);
    expect((await l.get('/reports')).status).toBe(403);
    const s = await officerSession();
    await s.get('/reports/new');
    expect((await s.post('/reports/new', validForm(), false)).status).toBe(403);
  });
});

describe('field messages in Simplified Chinese', () => {
  it('tells every amount-parsing problem in Chinese, on the page and for each message the parser has', async () => {
    const s = pageSession(t.app, 'zh-CN');
    await s.login(officer.username, FACTORY_PASSWORD);
    const res = await s.submit('/reports/new', '/reports/new', validForm({
      'transfers.0.amount': '12,34', 'transfers.0.transferredAt': 'yesterday',
      'transfers.1.toAccount': '6222 0200 0000 0009', 'transfers.1.amount': '-5',
    }));
    expect(res.status).toBe(400);
    expect(res.text).toContain('“12,34”不是有效金额，请写成 1,234.56 的形式。');
    expect(res.text).toContain('金额不能为负数。');
    expect(res.text).toContain('不是有效的日期和时间');
    expect(res.text).not.toContain('is not an amount');

    const zh = translator('zh-CN');
    for (const [text, code] of [['', 'CNY'], ['-1', 'CNY'], ['abc', 'CNY'], ['1.234', 'CNY'], ['1.5', 'JPY'], ['99999999999999999999', 'CNY']] as const) {
      let err: unknown;
      try { parseMajorToMinor(text, code); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(MoneyFormatError);
      const shown = moneyMessage(err as MoneyFormatError, zh);
      expect(shown).not.toBe((err as Error).message);
      expect(shown).toMatch(/[\u4e00-\u9fff]/);
    }
  });
});

describe('/reports', () => {
  it('lists and searches reports', async () => {
    const mine = await fileReport();
    const s = await officerSession();
    const all = await s.get('/reports');
    expect(all.status).toBe(200);
    expect(all.text).toContain(mine.name);
    const found = await s.get(`/reports?q=${encodeURIComponent(mine.name)}`);
    expect(found.text).toContain(mine.name);
    const none = await s.get('/reports?q=nobody-by-this-name');
    expect(none.text).toContain('No reports match.');
    const filtered = await s.get('/reports?fraudType=romance');
    expect(filtered.text).not.toContain(mine.name);
  });
});

describe('/reports with a bad filter', () => {
  it('keeps the filter, shows the message beside the field and still lists the reports', async () => {
    expect((await t.api.as(officer).post('/api/v1/reports').send(reportBody({ victim: { name: 'Filter Victim' } }))).status).toBe(201);
    const s = await officerSession();
    const bad = await s.get('/reports?q=Filter+Victim&from=2026-13-45');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="from" name="from" type="date" value="2026-13-45" aria-invalid="true"[^>]*>\s*<p class="field-error" id="from-error"><span[^>]*>[^<]*<\/span>Enter a date as YYYY-MM-DD.<\/p>/);
    expect(bad.text).toContain('value="Filter Victim"');
    expect(bad.text).toContain('Filter Victim</');
    expect(bad.text).not.toContain('Check the input');

    const backwards = await s.get('/reports?from=2026-11-28&to=2026-11-01');
    expect(backwards.status).toBe(400);
    expect(backwards.text).toMatch(/id="to" name="to"[^>]*aria-invalid="true"/);
    expect(backwards.text).toContain('“From” must not be after “To”.');
    expect(backwards.text).toContain('value="2026-11-28"');
    expect(backwards.text).toContain('Filter Victim</');

    const choice = await s.get('/reports?status=nonsense&cursor=not-a-cursor');
    expect(choice.status).toBe(400);
    expect(choice.text).toMatch(/id="status" name="status" aria-invalid="true"/);
    expect(choice.text).toContain('Filter Victim</');

    const zh = pageSession(t.app, 'zh-CN');
    await zh.login(officer.username, FACTORY_PASSWORD);
    expect((await zh.get('/reports?from=yesterday')).text).toContain('请按 YYYY-MM-DD 格式输入日期。');
  });
});

describe('liaison inbox', () => {
  it('shows only their institution, most urgent first, and clears blocking tasks in bulk', async () => {
    const first = await fileReport();
    const second = await fileReport();
    const carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
    const s = pageSession(t.app);
    await s.login(carrierLiaison.username, FACTORY_PASSWORD);
    const inbox = await s.get('/tasks');
    expect(inbox.status).toBe(200);
    expect(inbox.text).toContain(first.phoneNormalized);
    expect(inbox.text).toContain(second.phoneNormalized);
    expect(inbox.text).not.toContain(first.accountNormalized);
    expect(inbox.text).not.toContain('330106199001011234');
    const picks = [...inbox.text.matchAll(/name="task" value="([^"]+)"/g)].map((m) => m[1]!)
      .filter((p) => [first.block.id, second.block.id].includes(p.split(':')[0]));
    expect(picks).toHaveLength(2);
    const done = await s.post('/tasks/bulk-blocked', { task: picks });
    expect(done.status).toBe(303);
    expect(done.headers.location).toContain(`blocked=${picks.length}`);
    const ids = picks.map((p) => p.split(':')[0]);
    const rows = await t.db('tasks').whereIn('id', ids);
    expect(rows.every((r) => r.status === 'done')).toBe(true);
    const after = await s.get(done.headers.location);
    expect(after.text).toContain(`${picks.length} task(s) marked as blocked.`);
  });

  it('records a partial freeze with an onward hop from the task page, with a validation round trip', async () => {
    const { intercept } = await fileReport();
    const id = intercept.id as string;
    const s = pageSession(t.app);
    await s.login(liaison.username, FACTORY_PASSWORD);
    const inbox = await s.get('/tasks');
    expect(inbox.text).toContain(`href="/tasks/${id}"`);
    const page = await s.get(`/tasks/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('330106199001011234');
    const version = versionOf(page.text);

    const bad = await s.post(`/tasks/${id}/result`, { version, outcome: 'partially_frozen', frozen: '99999', note: 'too much' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/name="frozen" value="99999"[^>]*aria-invalid="true"[^>]*>\s*<p class="field-error"/);
    expect(bad.text).toContain('too much');

    const ok = await s.post(`/tasks/${id}/result`, {
      version: versionOf(bad.text), outcome: 'partially_frozen', frozen: '1,000.00',
      'onward.0.toAccount': '6222 0299 0000 1111', 'onward.0.amount': '200.50', 'onward.0.transferredAt': '2026-11-28T09:40',
    });
    expect(ok.status).toBe(303);
    const result = await t.db('task_results').where({ task_id: id }).first();
    expect(Number(result.frozen_minor)).toBe(100000);
    const child = await t.db('tasks').where({ parent_task_id: id }).first();
    expect(Number(child.amount_minor)).toBe(20050);
    expect(child.depth).toBe(2);

    const shown = await s.get(ok.headers.location);
    expect(shown.text).toContain('¥1,000.00');
    expect(shown.text).toContain('Follow-up tasks created: 1.');
  });

  it('adds an onward row without JavaScript and records nothing', async () => {
    const s = await officerSession();
    const filed = await s.submit('/reports/new', '/reports/new', validForm({ 'transfers.0.toAccount': '6222 0288 0000 0001' }));
    const reportId = /([0-9a-f-]{36})\/receipt$/.exec(filed.headers.location)![1]!;
    const task = await t.db('tasks').where({ report_id: reportId, kind: 'intercept_funds' }).first();
    const l = pageSession(t.app);
    await l.login(liaison.username, FACTORY_PASSWORD);
    const res = await l.submit(`/tasks/${task.id}`, `/tasks/${task.id}/result`, {
      version: String(task.version), outcome: 'funds_moved', addRow: 'onward',
      'onward.0.toAccount': '6222 0299 0000 0001', 'onward.0.amount': '1.00',
      'onward.1.toAccount': '6222 0299 0000 0002', 'onward.1.amount': '2.00',
    });
    expect(res.status).toBe(200);
    expect(res.text).toContain('name="onward.2.toAccount"');
    expect(res.text).toMatch(/id="onward-2-bank"[^>]*autofocus/);
    expect(res.text).toContain('value="6222 0299 0000 0002"');
    expect(res.text).toMatch(/<option value="funds_moved" selected>/);
    expect((await t.db('tasks').where({ id: task.id }).first()).status).not.toBe('done');
    expect(await t.db('task_results').where({ task_id: task.id }).first()).toBeUndefined();
  });

  it('answers 404 for another institution\'s task, and shows a desk officer the task list, not an inbox', async () => {
    const { block: other } = await fileReport();
    expect(other.institution_id).toBe(carrier.id);
    const s = pageSession(t.app);
    await s.login(liaison.username, FACTORY_PASSWORD);
    expect((await s.get(`/tasks/${other.id}`)).status).toBe(404);
    const o = await officerSession();
    const list = await o.get('/tasks');
    expect(list.status).toBe(200);
    expect(list.text).toContain('id="task-list"');
    expect(list.text).not.toContain('action="/tasks/bulk-blocked"');
    // Center staff read a task, but only the institution's liaison answers it.
    const page = await o.get(`/tasks/${other.id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(`action="/tasks/${other.id}/result"`);
    expect((await o.post(`/tasks/${other.id}/result`, { outcome: 'blocked' })).status).toBe(403);
  });

  it('shows the money trail as a tree with the frozen amount on the report page', async () => {
    const { reportId, intercept } = await fileReport();
    const onward = uniqueCase();
    const answered = await t.api.as(liaison).post(`/api/v1/tasks/${intercept.id}/result`).send({
      outcome: 'partially_frozen', frozenMinor: 100_000, version: intercept.version,
      onwardTransfers: [{ toAccount: onward.account, amountMinor: 20_050, transferredAt: '2026-11-28T09:40:00+08:00' }],
    });
    expect(answered.status).toBe(200);
    const s = await officerSession();
    const page = await s.get(`/reports/${reportId}`);
    expect(page.text).toContain('Layer 2');
    expect(page.text).toContain('Frozen ¥1,000.00');
    expect(page.text).toMatch(new RegExp(`<ul class="tree">[\\s\\S]*<ul>[\\s\\S]*${onward.accountNormalized}`));
  });
});

describe('a task that changes while the liaison answers it', () => {
  it('comes back on a version mismatch with the current version and what was typed, and then goes through', async () => {
    const { intercept } = await fileReport();
    const s = pageSession(t.app);
    await s.login(liaison.username, FACTORY_PASSWORD);
    const page = await s.get(`/tasks/${intercept.id}`);
    const seen = Number(versionOf(page.text));
    // The overdue sweep bumps the version while the form is open.
    await t.db('tasks').where({ id: intercept.id }).update({ version: seen + 3 });

    const stale = await s.post(`/tasks/${intercept.id}/result`, { version: String(seen), outcome: 'not_found', note: 'account empty on arrival' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('This task changed while you were answering; check it and submit again.');
    expect(versionOf(stale.text)).toBe(String(seen + 3));
    expect(stale.text).toContain('account empty on arrival');
    expect(stale.text).toMatch(/<option value="not_found" selected>/);

    const again = await s.post(`/tasks/${intercept.id}/result`, { version: versionOf(stale.text), outcome: 'not_found', note: 'account empty on arrival' });
    expect(again.status).toBe(303);
    expect((await t.db('tasks').where({ id: intercept.id }).first()).status).toBe('failed');
  });

  it('shows the closed task with a notice when it was closed meanwhile', async () => {
    const { intercept } = await fileReport();
    const s = pageSession(t.app);
    await s.login(liaison.username, FACTORY_PASSWORD);
    const page = await s.get(`/tasks/${intercept.id}`);
    await t.db('tasks').where({ id: intercept.id }).update({ status: 'cancelled', version: Number(versionOf(page.text)) + 1 });
    const res = await s.post(`/tasks/${intercept.id}/result`, { version: versionOf(page.text), outcome: 'not_found' });
    expect(res.status).toBe(409);
    expect(res.text).toContain('This task was closed while you were answering');
    expect(res.text).toContain('This task is closed.');
    expect(res.text).not.toContain('name="outcome"');
  });

  it('in the inbox, blocks a task whose version moved on and reports one that was closed', async () => {
    const first = (await fileReport({ 'indicators.0.value': '+86 171 0000 5551' })).block;
    const second = (await fileReport({ 'indicators.0.value': '+86 171 0000 5552' })).block;
    const carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
    const s = pageSession(t.app);
    await s.login(carrierLiaison.username, FACTORY_PASSWORD);
    const inbox = await s.get('/tasks');
    const picks = [...inbox.text.matchAll(/name="task" value="([^"]+)"/g)].map((m) => m[1]!)
      .filter((p) => [first.id, second.id].includes(p.split(':')[0]));
    expect(picks).toHaveLength(2);
    await t.db('tasks').where({ id: first.id }).increment('version', 1);
    await t.db('tasks').where({ id: second.id }).update({ status: 'cancelled' }).increment('version', 1);
    const done = await s.post('/tasks/bulk-blocked', { task: picks });
    expect(done.status).toBe(303);
    expect((await t.db('tasks').where({ id: first.id }).first()).status).toBe('done');
    const after = await s.get(done.headers.location);
    expect(after.text).toContain('1 task(s) marked as blocked.');
    expect(after.text).toContain('1 task(s) could not be closed: already closed');
    expect(done.headers.location).toContain('reasons=task_closed');
  });

  it('shows bulk failure reasons only from its own list, never text from the link', async () => {
    const carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
    const s = pageSession(t.app);
    await s.login(carrierLiaison.username, FACTORY_PASSWORD);
    const forged = await s.get('/tasks?failed=1&reasons=Your+session+expired%2C+call+0800+123');
    expect(forged.text).not.toContain('Your session expired');
    const coded = await s.get('/tasks?failed=2&reasons=version_mismatch,bogus,task_closed');
    expect(coded.text).toContain('2 task(s) could not be closed: already closed; changed meanwhile, open it to check</p>');
  });
});
