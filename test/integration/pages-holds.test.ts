import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import { FACTORY_PASSWORD, type TestInstitution, type TestUser } from '../helpers/factories';
import { reportBody } from '../helpers/bodies';
import { expectConsistent } from '../helpers/holds';

// The pages after the freeze: the report page's hold forms, the holds page, a liaison's answer to a
// return task and dispute, the dashboard's funnel. Refusals come back as the page with what was typed.

let t: TestApp;
let bank: TestInstitution;
let otherBank: TestInstitution;
let officer: TestUser;
let supervisor: TestUser;
let liaison: TestUser;
let otherLiaison: TestUser;

beforeAll(async () => {
  t = await testApp();
  bank = await t.factories.institution({ kind: 'bank', name: 'Held Bank' });
  otherBank = await t.factories.institution({ kind: 'bank', name: 'Other Bank' });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  otherLiaison = await t.factories.user({ role: 'liaison', institutionId: otherBank.id });
});
afterAll(() => t.close());

async function session(user: TestUser, lang = 'en') {
  const s = pageSession(t.app, lang);
  await s.login(user.username, FACTORY_PASSWORD);
  return s;
}

let seq = 0;
const nextAccount = () => `622202${String(Date.now() % 1e6).padStart(6, '0')}${String(++seq).padStart(4, '0')}`;

/** A report whose one transfer the bank froze, at the stage given: the report and its hold. */
async function heldReport(opts: { amountMinor?: number; frozenMinor?: number; stage?: 'stop_payment' | 'freeze'; account?: string; victim?: string } = {}) {
  const amountMinor = opts.amountMinor ?? 1_000_000;
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    victim: { name: opts.victim ?? 'Wang Fang', phone: '+8613800138000' },
    transfers: [{ toAccount: opts.account ?? nextAccount(), toInstitutionId: bank.id, amountMinor, transferredAt: '2026-11-28T09:30:00+08:00' }],
    indicators: [],
  }));
  expect(res.status).toBe(201);
  const task = res.body.tasks[0];
  const frozen = await t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`)
    .send({ outcome: 'frozen', frozenMinor: opts.frozenMinor ?? amountMinor, ...(opts.stage ? { holdStage: opts.stage } : {}) });
  expect(frozen.status).toBe(200);
  const hold = await t.db('holds').where({ task_id: task.id }).first();
  return { report: res.body as { id: string; caseNumber: string }, hold: hold as { id: string; account: string } };
}

const holdRow = (id: string) => t.db('holds').where({ id }).first();

describe('the report page shows each hold and acts on it', () => {
  it('when an officer renews a stop-payment, then it is renewed; past its limit the page says renewal_limit and keeps the reason; converting it to a freeze works', async () => {
    const { report, hold } = await heldReport({ stage: 'stop_payment' });
    const s = await session(officer);
    const page = `/reports/${report.id}`;
    const shown = await s.get(page);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain(`id="hold-${hold.id}"`);
    expect(shown.text).toContain('Stop-payment');
    expect(shown.text).toContain('¥10,000.00');
    expect(shown.text).toMatch(/expires in 1 d 23 h|expires in 2 d 0 h/);
    expect(shown.text).toContain('1 left at this stage');

    const renewed = await s.post(`${page}/holds/${hold.id}/renew`, { reason: 'still investigating', stage: '' });
    expect(renewed.status).toBe(303);
    expect(renewed.headers.location).toBe(`${page}?done=renewed#hold-${hold.id}`);
    expect((await s.get(renewed.headers.location!)).text).toContain('The hold was renewed.');
    expect(await holdRow(hold.id)).toMatchObject({ renewals: 1, stage: 'stop_payment' });

    // The same-stage button is gone now; a stale page posting it is refused with the reason kept.
    const again = await s.post(`${page}/holds/${hold.id}/renew`, { reason: 'one more <time>', stage: '' });
    expect(again.status).toBe(409);
    expect(again.text).toContain('This stop-payment cannot be renewed again: convert it to a freeze instead.');
    expect(again.text).toContain('value="one more &lt;time&gt;"');

    const blank = await s.post(`${page}/holds/${hold.id}/renew`, { reason: ' ', stage: 'freeze' });
    expect(blank.status).toBe(400);
    expect(blank.text).toMatch(new RegExp(`id="renew-reason-${hold.id}"[^>]*aria-invalid="true"`));

    const converted = await s.post(`${page}/holds/${hold.id}/renew`, { reason: 'court order', stage: 'freeze' });
    expect(converted.status).toBe(303);
    expect(await holdRow(hold.id)).toMatchObject({ renewals: 2, stage: 'freeze' });
  });

  it('when an officer releases part, a typo, too much, then all, each answer is the page with the reason; the hold closes at zero', async () => {
    const { report, hold } = await heldReport({ amountMinor: 500_000 });
    const s = await session(officer);
    const page = `/reports/${report.id}`;
    await s.get(page);
    const typo = await s.post(`${page}/holds/${hold.id}/release`, { amount: '12,,3', reason: 'payer proved it' });
    expect(typo.status).toBe(400);
    expect(typo.text).toMatch(new RegExp(`id="release-amount-${hold.id}"[^>]*value="12,,3"[^>]*aria-invalid="true"`));
    expect(typo.text).toContain('value="payer proved it"');

    const tooMuch = await s.post(`${page}/holds/${hold.id}/release`, { amount: '5000.01', reason: 'payer proved it' });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.text).toContain('More than can be released from this hold.');

    const part = await s.post(`${page}/holds/${hold.id}/release`, { amount: '1,000.50', reason: 'payer proved it' });
    expect(part.status).toBe(303);
    expect(await holdRow(hold.id)).toMatchObject({ released_minor: 100_050, balance_minor: 399_950, status: 'active' });

    const all = await s.post(`${page}/holds/${hold.id}/release`, { amount: '', all: '1', reason: 'no victim claims the rest' });
    expect(all.status).toBe(303);
    expect(await holdRow(hold.id)).toMatchObject({ released_minor: 500_000, balance_minor: 0, status: 'closed' });
    const closedPage = await s.get(page);
    expect(closedPage.text).not.toContain(`/holds/${hold.id}/release"`);

    const late = await s.post(`${page}/holds/${hold.id}/release`, { amount: '1', reason: 'x' });
    expect(late.status).toBe(409);
    expect(late.text).toContain('This hold has ended (expired or closed); nothing more can be done with it.');
    await expectConsistent(t, hold.id);
  });

  it('when an officer orders a return, then the bank gets a return task; more than is free is insufficient_balance with the typed fields kept', async () => {
    const { report, hold } = await heldReport({ amountMinor: 300_000 });
    const s = await session(supervisor);
    const page = `/reports/${report.id}`;
    await s.get(page);
    const ordered = await s.post(`${page}/holds/${hold.id}/returns`, { amount: '2000', victimAccount: '6217 0000 1111 2222', victimAccountName: 'Wang Fang', note: '' });
    expect(ordered.status).toBe(303);
    const ret = await t.db('hold_returns').where({ hold_id: hold.id }).first();
    expect(ret).toMatchObject({ amount_minor: 200_000, victim_account: '6217000011112222', status: 'pending' });
    expect((await t.db('tasks').where({ id: ret.task_id }).first())).toMatchObject({ kind: 'return_funds', institution_id: bank.id });
    const after = await s.get(ordered.headers.location!);
    expect(after.text).toContain('The return was ordered');
    expect(after.text).toContain('<tr data-return="pending">');

    const refused = await s.post(`${page}/holds/${hold.id}/returns`, { amount: '1500', victimAccount: '6217000011113333', victimAccountName: 'Li Na', note: 'second' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('Not enough money is free on this hold');
    expect(refused.text).toMatch(new RegExp(`id="return-account-${hold.id}"[^>]*value="6217000011113333"`));
    expect(refused.text).toContain('value="Li Na"');

    const noAccount = await s.post(`${page}/holds/${hold.id}/returns`, { amount: '10', victimAccount: '' });
    expect(noAccount.status).toBe(400);
    expect(noAccount.text).toMatch(new RegExp(`id="return-account-${hold.id}"[^>]*aria-invalid="true"`));
    await expectConsistent(t, hold.id);
  });

  it('when several victims paid into the held account, then the page proposes the pro-rata split; the officer edits it and each row becomes a return', async () => {
    const account = nextAccount();
    const first = await heldReport({ amountMinor: 100_000, frozenMinor: 90_000, account, victim: 'Zhao Lei' });
    const second = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      victim: { name: 'Qian Yu', phone: '+8613800138001' },
      transfers: [{ toAccount: account, toInstitutionId: bank.id, amountMinor: 200_000, transferredAt: '2026-11-28T10:30:00+08:00' }], indicators: [],
    }));
    expect(second.status).toBe(201);
    const s = await session(officer);
    const page = `/reports/${first.report.id}`;
    const shown = await s.get(page);
    expect(shown.text).toContain(`id="split-${first.hold.id}"`);
    // 90,000 fen by 1 : 2 is 30,000 : 60,000.
    expect(shown.text).toContain(`name="rows.0.amount" value="300.00"`);
    expect(shown.text).toContain(`name="rows.1.amount" value="600.00"`);
    expect(shown.text).toContain('Qian Yu');

    const missing = await s.post(`${page}/holds/${first.hold.id}/split`, {
      'rows.0.reportId': first.report.id, 'rows.0.amount': '300.00', 'rows.0.victimAccount': '6217000022220001', 'rows.0.victimAccountName': 'Zhao Lei',
      'rows.1.reportId': second.body.id, 'rows.1.amount': '550.00', 'rows.1.victimAccount': '', 'rows.1.victimAccountName': 'Qian Yu',
    });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('name="rows.1.amount" value="550.00"');
    expect(missing.text).toMatch(/name="rows\.1\.victimAccount" value=""[^>]*aria-invalid="true"/);
    expect(await t.db('hold_returns').where({ hold_id: first.hold.id })).toHaveLength(0);

    const ok = await s.post(`${page}/holds/${first.hold.id}/split`, {
      'rows.0.reportId': first.report.id, 'rows.0.amount': '300.00', 'rows.0.victimAccount': '6217000022220001', 'rows.0.victimAccountName': 'Zhao Lei',
      'rows.1.reportId': second.body.id, 'rows.1.amount': '550.00', 'rows.1.victimAccount': '6217000022220002', 'rows.1.victimAccountName': 'Qian Yu',
    });
    expect(ok.status).toBe(303);
    const returns = await t.db('hold_returns').where({ hold_id: first.hold.id }).orderBy('amount_minor');
    expect(returns.map((r) => [r.amount_minor, r.victim_account, r.victim_account_name])).toEqual([
      [30_000, '6217000022220001', 'Zhao Lei'], [55_000, '6217000022220002', 'Qian Yu'],
    ]);
    await expectConsistent(t, first.hold.id);
  });

  it('when an officer opens a dispute and another decides it, then the page shows it with its due time; a second decision is dispute_closed', async () => {
    const { report, hold } = await heldReport({ amountMinor: 400_000 });
    const s = await session(officer);
    const page = `/reports/${report.id}`;
    await s.get(page);
    const opened = await s.post(`${page}/holds/${hold.id}/disputes`, { claimantName: 'Sun Li', amount: '1000', reason: 'salary paid into the account' });
    expect(opened.status).toBe(303);
    const dispute = await t.db('hold_disputes').where({ hold_id: hold.id }).first();
    const shown = await s.get(page);
    expect(shown.text).toContain(`id="dispute-${dispute.id}"`);
    expect(shown.text).toMatch(/due in 2 d 23 h|due in 3 d 0 h/);

    const sup = await session(supervisor);
    await sup.get(page);
    const noDecision = await sup.post(`${page.replace(/\/$/, '')}/disputes/${dispute.id}/decision`, { amount: '', reason: 'checked' });
    expect(noDecision.status).toBe(400);
    expect(noDecision.text).toContain('Choose a decision.');
    expect(noDecision.text).toContain(`id="decision-reason-${dispute.id}" name="reason" value="checked"`);
    const tooMuch = await sup.post(`${page}/disputes/${dispute.id}/decision`, { decision: 'release', amount: '1000.01', reason: 'checked' });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.text).toContain('More than the amount claimed.');
    const decided = await sup.post(`${page}/disputes/${dispute.id}/decision`, { decision: 'release', amount: '600', reason: 'payslips match' });
    expect(decided.status).toBe(303);
    expect(await holdRow(hold.id)).toMatchObject({ released_minor: 60_000, balance_minor: 340_000 });
    const twice = await sup.post(`${page}/disputes/${dispute.id}/decision`, { decision: 'reject', amount: '', reason: 'again' });
    expect(twice.status).toBe(409);
    expect(twice.text).toContain('This dispute was already decided.');
    await expectConsistent(t, hold.id);
  });

  it('when a supervisor or an admin looks, then supervisors act but cannot open a dispute, and admins see the holds without forms', async () => {
    const { report, hold } = await heldReport();
    const sup = await session(supervisor);
    const page = await sup.get(`/reports/${report.id}`);
    expect(page.text).toContain(`/holds/${hold.id}/release"`);
    expect(page.text).not.toContain(`/holds/${hold.id}/disputes"`);
    expect((await sup.post(`/reports/${report.id}/holds/${hold.id}/disputes`, { claimantName: 'x', amount: '1', reason: 'x' })).status).toBe(403);
    const admin = await session(await t.factories.user({ role: 'admin' }));
    const seen = await admin.get(`/reports/${report.id}`);
    expect(seen.text).toContain(`id="hold-${hold.id}"`);
    expect(seen.text).not.toContain(`/holds/${hold.id}/release"`);
    expect((await admin.post(`/reports/${report.id}/holds/${hold.id}/release`, { amount: '1', reason: 'x' })).status).toBe(403);
  });

  it('when a form names a hold of another report, then nothing changes and the page says it is not there', async () => {
    const mine = await heldReport();
    const other = await heldReport();
    const s = await session(officer);
    await s.get(`/reports/${mine.report.id}`);
    const res = await s.post(`/reports/${mine.report.id}/holds/${other.hold.id}/release`, { amount: '1', reason: 'wrong page' });
    expect(res.status).toBe(404);
    expect(res.text).toContain('That hold or dispute is not there any more.');
    expect(await holdRow(other.hold.id)).toMatchObject({ released_minor: 0 });
    const malformed = await s.post(`/reports/${mine.report.id}/holds/not-a-hold/renew`, { reason: 'x' });
    expect(malformed.status).toBe(404);
  });
});

describe('the holds page', () => {
  it('lists holds expiring soon and open disputes, most urgent first, each linked to its report, in both languages', async () => {
    const late = await heldReport({ stage: 'stop_payment' });
    const early = await heldReport({ stage: 'stop_payment' });
    const far = await heldReport({ stage: 'freeze' });
    await t.db('holds').where({ id: early.hold.id }).update({ expires_at: t.db.raw(`now() + interval '3 hours'`) });
    const d1 = await t.api.as(officer).post(`/api/v1/holds/${late.hold.id}/disputes`).send({ claimantName: 'A', reason: 'r', amountMinor: 100 });
    const d2 = await t.api.as(officer).post(`/api/v1/holds/${early.hold.id}/disputes`).send({ claimantName: 'B', reason: 'r', amountMinor: 100 });
    await t.db('hold_disputes').where({ id: d2.body.id }).update({ due_at: t.db.raw(`now() + interval '1 hour'`) });

    const s = await session(supervisor);
    const page = await s.get('/holds');
    expect(page.status).toBe(200);
    expect(page.text).toContain('href="/holds" aria-current="page"');
    const order = [...page.text.matchAll(/<tr data-hold="([^"]+)"/g)].map((m) => m[1]);
    expect(order.indexOf(early.hold.id)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(early.hold.id)).toBeLessThan(order.indexOf(late.hold.id));
    expect(order).not.toContain(far.hold.id);
    expect(page.text).toContain(`href="/reports/${early.report.id}#hold-${early.hold.id}"`);
    expect(page.text).toMatch(/expires in 2 h 5\d min|expires in 3 h 0 min/);
    const disputes = [...page.text.matchAll(/<tr data-dispute="([^"]+)"/g)].map((m) => m[1]);
    expect(disputes.indexOf(d2.body.id)).toBeLessThan(disputes.indexOf(d1.body.id));
    expect(page.text).toContain(`href="/reports/${late.report.id}#dispute-${d1.body.id}"`);

    const zh = await session(officer, 'zh-CN');
    const zhPage = await zh.get('/holds');
    expect(zhPage.text).toContain('即将到期的冻结');
    expect(zhPage.text).toContain('待决定的异议');
  });

  it('shows a liaison only their institution\'s holds; they open a dispute for an account holder, and another bank\'s hold is not found', async () => {
    const { report, hold } = await heldReport();
    const s = await session(liaison);
    const page = await s.get('/holds');
    expect(page.text).toContain(`data-hold="${hold.id}"`);
    expect(page.text).toContain(report.caseNumber);
    expect(page.text).not.toContain(`/reports/${report.id}`);
    expect(page.text).not.toContain('Wang Fang');

    const blank = await s.post(`/holds/${hold.id}/disputes`, { claimantName: 'Zhou Min', amount: '', reason: 'her wages' });
    expect(blank.status).toBe(400);
    expect(blank.text).toMatch(new RegExp(`id="dispute-claimant-${hold.id}" name="claimantName" value="Zhou Min"`));
    expect(blank.text).toMatch(new RegExp(`id="dispute-amount-${hold.id}"[^>]*aria-invalid="true"`));
    const opened = await s.post(`/holds/${hold.id}/disputes`, { claimantName: 'Zhou Min', amount: '2,000', reason: 'her wages' });
    expect(opened.status).toBe(303);
    expect(await t.db('hold_disputes').where({ hold_id: hold.id }).first()).toMatchObject({ claimant_name: 'Zhou Min', amount_minor: 200_000, status: 'open' });
    expect((await s.get('/holds?done=disputed')).text).toContain('The dispute was opened; the center decides it.');

    const other = await session(otherLiaison);
    const otherPage = await other.get('/holds');
    expect(otherPage.text).not.toContain(hold.id);
    const refused = await other.post(`/holds/${hold.id}/disputes`, { claimantName: 'x', amount: '1', reason: 'x' });
    expect(refused.status).toBe(404);
  });
});

describe('a liaison answers a return task from the task page', () => {
  it('when the bank paid, the liaison records returned with the amount; the return is paid and booked once', async () => {
    const { hold } = await heldReport({ amountMinor: 250_000 });
    const ret = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 250_000, victimAccount: '6217000033334444' });
    expect(ret.status).toBe(201);
    const s = await session(liaison);
    const inbox = await s.get('/tasks');
    expect(inbox.text).toContain(`href="/tasks/${ret.body.taskId}"`);
    expect(inbox.text).toContain('Return funds');
    const taskPage = await s.get(`/tasks/${ret.body.taskId}`);
    expect(taskPage.text).toContain('id="returned"');
    // The task shows the money it pays from, and where the bank's liaison opens a dispute on it.
    expect(taskPage.text).toContain(`<section class="card" id="held-money" data-hold="${hold.id}">`);
    expect(taskPage.text).toContain(`href="/holds#hold-${hold.id}"`);
    const freezing = await t.db('holds').where({ id: hold.id }).first();
    const staffView = await (await session(officer)).get(`/tasks/${freezing.task_id}`);
    expect(staffView.text).toContain(`href="/reports/${freezing.report_id}#hold-${hold.id}"`);
    const otherView = await (await session(otherLiaison)).get(`/tasks/${freezing.task_id}`);
    expect(otherView.status).toBe(404);
    const task = await t.db('tasks').where({ id: ret.body.taskId }).first();

    const tooMuch = await s.post(`/tasks/${ret.body.taskId}/result`, { outcome: 'returned', returned: '2500.01', note: '', version: String(task.version) });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.text).toMatch(/id="returned"[^>]*value="2500.01"[^>]*aria-invalid="true"/);

    const paid = await s.post(`/tasks/${ret.body.taskId}/result`, { outcome: 'returned', returned: '2,500', note: 'paid', version: String(task.version) });
    expect(paid.status).toBe(303);
    expect(await t.db('hold_returns').where({ id: ret.body.id }).first()).toMatchObject({ status: 'paid', returned_minor: 250_000 });
    expect(await holdRow(hold.id)).toMatchObject({ returned_minor: 250_000, status: 'closed' });
    await expectConsistent(t, hold.id);
  });

  it('when the bank could not pay, the liaison records rejected and the reservation is freed', async () => {
    const { hold } = await heldReport({ amountMinor: 150_000 });
    const ret = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 100_000, victimAccount: '6217000033335555' });
    const s = await session(liaison);
    await s.get(`/tasks/${ret.body.taskId}`);
    const rejected = await s.post(`/tasks/${ret.body.taskId}/result`, { outcome: 'rejected', returned: '', note: 'victim account closed' });
    expect(rejected.status).toBe(303);
    expect(await t.db('hold_returns').where({ id: ret.body.id }).first()).toMatchObject({ status: 'failed' });
    expect(await holdRow(hold.id)).toMatchObject({ reserved_minor: 0, balance_minor: 150_000 });
  });
});

describe('the dashboard funnel', () => {
  it('shows reported → frozen → returned, released and held, with the return rate, as the stats API answers them', async () => {
    const { hold } = await heldReport({ amountMinor: 800_000 });
    await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 100_000, reason: 'r' }).expect(200);
    const ret = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 300_000, victimAccount: '6217000044445555' });
    await t.api.as(liaison).post(`/api/v1/tasks/${ret.body.taskId}/result`).send({ outcome: 'returned', returnedMinor: 300_000 }).expect(200);

    const stats = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
    const s = await session(supervisor);
    const page = await s.get('/dashboard');
    expect(page.status).toBe(200);
    const figure = (id: string) => new RegExp(`data-figure="${id}"><span class="label">(?:<span aria-hidden="true">→ </span>)?[^<]+</span><span class="value">([^<]+)</span>`).exec(page.text)?.[1];
    const yuan = (minor: number) => `¥${(BigInt(minor) / 100n).toLocaleString('en')}.${String(minor % 100).padStart(2, '0')}`;
    expect(figure('funnel-reported')).toBe(yuan(stats.reportedLossMinor));
    expect(figure('funnel-frozen')).toBe(yuan(stats.lossPreventedMinor));
    expect(figure('funnel-returned')).toBe(yuan(stats.returnedMinor));
    expect(figure('funnel-released')).toBe(yuan(stats.releasedMinor));
    expect(figure('funnel-held')).toBe(yuan(stats.heldMinor));
    const bp = stats.returnRateBasisPoints as number;
    expect(figure('funnel-rate')).toBe(`${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')}%`);
    expect(stats.returnedMinor).toBeGreaterThanOrEqual(300_000);
    const row = new RegExp(`<tr data-institution="${bank.id}">.*?data-cell="returned">([^<]+)<.*?data-cell="rate">([^<]+)<`).exec(page.text);
    const mine = stats.byInstitution.find((i: { institutionId: string }) => i.institutionId === bank.id);
    expect(row?.[1]).toBe(yuan(mine.returnedMinor));
    expect(row?.[2]).toBe(`${Math.floor(mine.returnRateBasisPoints / 100)}.${String(mine.returnRateBasisPoints % 100).padStart(2, '0')}%`);
  });
});
