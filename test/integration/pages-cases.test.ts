import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import { FACTORY_PASSWORD, type TestInstitution, type TestUser } from '../helpers/factories';
import { reportBody } from '../helpers/bodies';

let t: TestApp;
let bank: TestInstitution;
let officer: TestUser;
let admin: TestUser;
let liaison: TestUser;
let carrierLiaison: TestUser;

beforeAll(async () => {
  t = await testApp({ LEGAL_BASIS_TEXT_ZH_CN: '依据测试法第一条 <b>请冻结</b>' });
  bank = await t.factories.institution({ kind: 'bank', name: 'Bank of Cases', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  admin = await t.factories.user({ role: 'admin' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  const carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
});
afterAll(() => t.close());

async function session(user: TestUser, lang = 'en') {
  const s = pageSession(t.app, lang);
  await s.login(user.username, FACTORY_PASSWORD);
  return s;
}

let seq = 0;
/** Each report names its own fraud number, so each opens its own blocking task. */
async function fileReport() {
  const phone = `+86 171 0088 ${String(++seq).padStart(4, '0')}`;
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ indicators: [{ kind: 'phone', value: phone }] }));
  expect(res.status).toBe(201);
  return res.body as { id: string; caseNumber: string; tasks: { id: string; kind: string }[] };
}

describe('closing and reopening a case from the report page', () => {
  it('when the reason is blank, then the page answers 400 with the message beside the field and the report stays open; with a reason it closes, then reopens', async () => {
    const report = await fileReport();
    const s = await session(officer);
    const page = `/reports/${report.id}`;

    const blank = await s.submit(page, `${page}/close`, { reason: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.text).toContain('Give a reason.');
    expect(blank.text).toMatch(/id="case-reason"[^>]*aria-invalid="true"/);
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('open');

    const closed = await s.submit(page, `${page}/close`, { reason: 'Money returned by <the bank>' });
    expect(closed.status).toBe(303);
    expect(closed.headers.location).toBe(`${page}?done=closed`);
    const after = await s.get(closed.headers.location!);
    expect(after.text).toContain('The case is closed.');
    expect(after.text).toContain('Money returned by &lt;the bank&gt;');
    expect(after.text).toContain(`action="${page}/reopen"`);
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('closed');

    const reopened = await s.submit(page, `${page}/reopen`, { reason: 'new victim' });
    expect(reopened.status).toBe(303);
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('open');
  });

  it('when a form is posted without its CSRF token, then nothing changes', async () => {
    const report = await fileReport();
    const s = await session(officer);
    await s.get(`/reports/${report.id}`);
    const res = await s.post(`/reports/${report.id}/close`, { reason: 'x' }, false);
    expect(res.status).toBe(403);
    expect((await t.db('reports').where({ id: report.id }).first()).status).toBe('open');
  });

  it('when the case was closed meanwhile, then closing again answers 409 with a notice and keeps what was typed', async () => {
    const report = await fileReport();
    await t.api.as(officer).post(`/api/v1/reports/${report.id}/close`).send({ reason: 'first' }).expect(200);
    const s = await session(officer, 'zh-CN');
    await s.get(`/reports/${report.id}`);
    const res = await s.post(`/reports/${report.id}/reopen`, { reason: 'again' });
    expect(res.status).toBe(303);
    const stale = await s.post(`/reports/${report.id}/reopen`, { reason: '第二次' });
    expect(stale.status).toBe(409);
    expect(stale.text).toContain('案件此前已是开启状态。');
    expect(stale.text).toContain('第二次');
  });

  it('when an admin looks at a report, then there is no closing or cancelling form, and posting one is refused', async () => {
    const report = await fileReport();
    const s = await session(admin);
    const page = await s.get(`/reports/${report.id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(`/reports/${report.id}/close`);
    expect(page.text).not.toContain('/cancel"');
    expect((await s.post(`/reports/${report.id}/close`, { reason: 'x' })).status).toBe(403);
  });
});

describe('cancelling a task from the report page', () => {
  it('when an officer cancels an open task with a reason, then it is cancelled; a blank reason keeps the page with the error beside that task', async () => {
    const report = await fileReport();
    const task = report.tasks.find((x) => x.kind === 'intercept_funds')!;
    const s = await session(officer);
    const page = `/reports/${report.id}`;
    const shown = await s.get(page);
    expect(shown.text).toContain(`action="${page}/tasks/${task.id}/cancel"`);

    const blank = await s.post(`${page}/tasks/${task.id}/cancel`, { reason: '' });
    expect(blank.status).toBe(400);
    expect(blank.text).toMatch(new RegExp(`id="cancel-${task.id}"[^>]*aria-invalid="true"`));

    const ok = await s.post(`${page}/tasks/${task.id}/cancel`, { reason: 'wrong account typed' });
    expect(ok.status).toBe(303);
    const after = await s.get(ok.headers.location!);
    expect(after.text).toContain('The task was cancelled; it will not be delivered again.');
    expect(after.text).not.toContain(`action="${page}/tasks/${task.id}/cancel"`);
    expect((await t.db('tasks').where({ id: task.id }).first()).status).toBe('cancelled');

    const late = await s.post(`${page}/tasks/${task.id}/cancel`, { reason: 'twice' });
    expect(late.status).toBe(409);
    expect(late.text).toContain('That task was already closed; nothing was cancelled.');
  });
});

describe('the case number and the printable request on the liaison pages', () => {
  it('when a liaison opens the inbox and a money task, then both show the case number, and the task carries the request in the center\'s language', async () => {
    const report = await fileReport();
    const task = report.tasks.find((x) => x.kind === 'intercept_funds')!;
    const s = await session(liaison);
    const inbox = await s.get('/tasks');
    expect(inbox.text).toContain(`<span data-case-number>${report.caseNumber}</span>`);
    const page = await s.get(`/tasks/${task.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<strong data-case-number>${report.caseNumber}</strong>`);
    // The request is the center's document: Chinese by default, on an English page too.
    expect(page.text).toMatch(/class="card print-request" lang="zh-CN"/);
    expect(page.text).toContain('<dt>案件编号</dt>');
    expect(page.text).toContain('6222021234567890');
    expect(page.text).toContain('¥50,000.00');
    expect(page.text).toContain('依据测试法第一条 &lt;b&gt;请冻结&lt;/b&gt;');
    expect(page.text).toContain('Bank of Cases');
    expect(page.text).toContain('href="/static/css/print.css" media="print"');
  });

  it('when a blocking task is opened, then it shows its case number but has no printable request', async () => {
    const report = await fileReport();
    const task = report.tasks.find((x) => x.kind === 'block_number')!;
    const s = await session(carrierLiaison);
    const page = await s.get(`/tasks/${task.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(report.caseNumber);
    expect(page.text).not.toContain('print-request');
  });
});
