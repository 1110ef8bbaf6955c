import { testApp, type TestApp } from '../helpers/test-app';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { reportBody } from '../helpers/bodies';
import { expectConsistent, frozenHold, recount } from '../helpers/holds';
import { foldStatsDeltas } from '../../server/stats/stats.repo';

let t: TestApp;
let bankA: TestInstitution;
let bankB: TestInstitution;
let liaisonA: TestUser;
let liaisonB: TestUser;
let partnerA: TestUser;
let officer: TestUser;
let supervisor: TestUser;
let admin: TestUser;

beforeAll(async () => {
  t = await testApp();
  bankA = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  bankB = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '621700' }] });
  liaisonA = await t.factories.user({ role: 'liaison', institutionId: bankA.id });
  liaisonB = await t.factories.user({ role: 'liaison', institutionId: bankB.id });
  partnerA = await t.factories.user({ role: 'partner_system', institutionId: bankA.id });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
  admin = await t.factories.user({ role: 'admin' });
});
afterAll(() => t.close(), 120_000);

const DAY = 86_400_000;

describe('a freeze opens a hold', () => {
  it('when a bank freezes money, then a freeze hold opens on the account for six months, booked once with the freeze', async () => {
    const before = Date.now();
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 800_000, frozenMinor: 500_000 });
    const res = await t.api.as(officer).get(`/api/v1/holds/${hold.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: hold.id, taskId: hold.taskId, institutionId: bankA.id, account: hold.account, currency: 'CNY',
      frozenMinor: 500_000, releasedMinor: 0, returnedMinor: 0, balanceMinor: 500_000, stage: 'freeze', status: 'active',
      renewals: 0, renewalsLeft: null, expiringSoon: false, returns: [], disputes: [],
    });
    const expires = Date.parse(res.body.expiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(15_552_000_000 - 1000);
    expect(expires - Date.now()).toBeLessThanOrEqual(15_552_000_000);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual(['hold.opened']);
    await expectConsistent(t, hold.id);
  });

  it('when the bank says stop_payment, then the hold is a 48-hour stop-payment with one renewal left', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { holdStage: 'stop_payment' });
    const res = await t.api.as(officer).get(`/api/v1/holds/${hold.id}`);
    expect(res.body).toMatchObject({ stage: 'stop_payment', renewalsLeft: 1, expiringSoon: true });
    expect(Math.abs(Date.parse(res.body.expiresAt) - Date.now() - 2 * DAY)).toBeLessThan(5000);
  });

  it('when a feed item freezes money, then it opens a hold too, and a hold stage on a non-freezing answer is refused', async () => {
    const { interceptTask } = await import('../helpers/lifecycle');
    const task = await interceptTask(t, { toInstitutionId: bankA.id, amountMinor: 300_000 });
    const feed = await t.api.as(partnerA).post('/api/v1/feeds').send({
      items: [{ type: 'task_result', externalId: `r-${task.id}`, taskId: task.id, outcome: 'partially_frozen', frozenMinor: 100_000, holdStage: 'stop_payment' }],
    });
    expect(feed.status).toBe(202);
    await t.deps.services.feeds.processBatch(feed.body.batchId);
    const hold = await t.db('holds').where({ task_id: task.id }).first();
    expect(hold).toMatchObject({ frozen_minor: 100_000, stage: 'stop_payment', institution_id: bankA.id });

    const other = await interceptTask(t, { toInstitutionId: bankA.id });
    const bad = await t.api.as(liaisonA).post(`/api/v1/tasks/${other.id}/result`).send({ outcome: 'not_found', holdStage: 'freeze' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('holdStage');
  });
});

describe('reading holds', () => {
  it('shows center staff every hold, a partner only its own; another institution\'s hold is 404', async () => {
    const a = await frozenHold(t, bankA, liaisonA);
    const b = await frozenHold(t, bankB, liaisonB);
    for (const who of [admin, supervisor, officer]) {
      expect((await t.api.as(who).get(`/api/v1/holds/${a.id}`)).status).toBe(200);
      expect((await t.api.as(who).get(`/api/v1/holds/${b.id}`)).status).toBe(200);
    }
    expect((await t.api.as(liaisonA).get(`/api/v1/holds/${a.id}`)).status).toBe(200);
    expect((await t.api.as(partnerA).get(`/api/v1/holds/${a.id}`)).status).toBe(200);
    expect((await t.api.as(liaisonA).get(`/api/v1/holds/${b.id}`)).status).toBe(404);
    expect((await t.api.as(partnerA).get(`/api/v1/holds/${b.id}`)).status).toBe(404);
    expect((await t.api.as(officer).get('/api/v1/holds/not-a-uuid')).status).toBe(404);
    expect((await t.api.raw().get(`/api/v1/holds/${a.id}`)).status).toBe(401);

    const mine = await t.api.as(liaisonA).get('/api/v1/holds?limit=200');
    expect(mine.status).toBe(200);
    expect(mine.body.items.every((h: { institutionId: string }) => h.institutionId === bankA.id)).toBe(true);
    const sneaky = await t.api.as(liaisonA).get(`/api/v1/holds?institutionId=${bankB.id}`);
    expect(sneaky.body.items).toEqual([]);
    const all = await t.api.as(officer).get(`/api/v1/holds?institutionId=${bankB.id}&status=active`);
    expect(all.body.items.map((h: { id: string }) => h.id)).toContain(b.id);
    expect((await t.api.as(officer).get('/api/v1/holds?status=frozen')).status).toBe(400);
  });

  it('lists holds expiring soon, most urgent first, and pages with a cursor', async () => {
    const bank = await t.factories.institution({ kind: 'bank' });
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const late = await frozenHold(t, bank, liaison);
    const soon = await frozenHold(t, bank, liaison);
    const sooner = await frozenHold(t, bank, liaison);
    await t.db('holds').where({ id: soon.id }).update({ expires_at: new Date(Date.now() + 3 * DAY) });
    await t.db('holds').where({ id: sooner.id }).update({ expires_at: new Date(Date.now() + DAY) });
    const res = await t.api.as(supervisor).get(`/api/v1/holds?expiringSoon=true&institutionId=${bank.id}&limit=1`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((h: { id: string }) => h.id)).toEqual([sooner.id]);
    expect(res.body.items[0].expiringSoon).toBe(true);
    const next = await t.api.as(supervisor).get(`/api/v1/holds?expiringSoon=true&institutionId=${bank.id}&limit=1&cursor=${res.body.nextCursor}`);
    expect(next.body.items.map((h: { id: string }) => h.id)).toEqual([soon.id]);
    const notSoon = await t.api.as(supervisor).get(`/api/v1/holds?expiringSoon=false&institutionId=${bank.id}&limit=200`);
    expect(notSoon.body.items.map((h: { id: string }) => h.id)).toContain(late.id);
    expect(notSoon.body.items.map((h: { id: string }) => h.id)).not.toContain(soon.id);
  });
});

describe('renewing', () => {
  it('renews a stop-payment once from its old expiry, then refuses with renewal_limit, and turns it into a freeze', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { holdStage: 'stop_payment' });
    const first = (await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body;
    const renewed = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/renew`).send({ reason: 'suspect still at large' });
    expect(renewed.status).toBe(200);
    expect(renewed.body).toMatchObject({ stage: 'stop_payment', renewals: 1, renewalsLeft: 0 });
    expect(Date.parse(renewed.body.expiresAt) - Date.parse(first.expiresAt)).toBe(2 * DAY);

    const again = await t.api.as(supervisor).post(`/api/v1/holds/${hold.id}/renew`).send({ reason: 'once more' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('renewal_limit');

    const frozen = await t.api.as(supervisor).post(`/api/v1/holds/${hold.id}/renew`).send({ reason: 'case opened', stage: 'freeze' });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ stage: 'freeze', renewals: 2, renewalsLeft: null });
    expect(Date.parse(frozen.body.expiresAt) - Date.parse(renewed.body.expiresAt)).toBe(15_552_000_000);

    const back = await t.api.as(supervisor).post(`/api/v1/holds/${hold.id}/renew`).send({ reason: 'x', stage: 'stop_payment' });
    expect(back.status).toBe(400);
    expect(back.body.error.details[0].path).toBe('stage');
    const events = (await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body.events.map((e: { type: string }) => e.type);
    expect(events).toEqual(['hold.opened', 'hold.renewed', 'hold.renewed']);
  });

  it('refuses a hold past its expiry or closed (hold_closed), a bad body (400) and roles that may not (403)', async () => {
    const lapsed = await frozenHold(t, bankA, liaisonA);
    await t.db('holds').where({ id: lapsed.id }).update({ expires_at: new Date(Date.now() - 1000) });
    const res = await t.api.as(officer).post(`/api/v1/holds/${lapsed.id}/renew`).send({ reason: 'too late' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('hold_closed');

    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 1000 });
    expect((await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 1000, reason: 'all' })).status).toBe(200);
    const closed = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/renew`).send({ reason: 'r' });
    expect(closed.body.error.code).toBe('hold_closed');

    const live = await frozenHold(t, bankA, liaisonA);
    const noReason = await t.api.as(officer).post(`/api/v1/holds/${live.id}/renew`).send({});
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details[0].path).toBe('reason');
    for (const who of [admin, liaisonA, partnerA]) {
      expect((await t.api.as(who).post(`/api/v1/holds/${live.id}/renew`).send({ reason: 'r' })).status).toBe(403);
    }
    expect((await t.api.as(officer).post('/api/v1/holds/00000000-0000-4000-8000-000000000000/renew').send({ reason: 'r' })).status).toBe(404);
  });
});

describe('releasing', () => {
  it('releases part, books it once, closes the hold at zero; more than the balance is 400; a closed hold 409', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 900_000 });
    const part = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 300_000, reason: 'salary of the holder' });
    expect(part.status).toBe(200);
    expect(part.body).toMatchObject({ releasedMinor: 300_000, balanceMinor: 600_000, status: 'active' });
    const over = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 600_001, reason: 'too much' });
    expect(over.status).toBe(400);
    expect(over.body.error.details[0].path).toBe('amountMinor');
    for (const bad of [{ amountMinor: 0, reason: 'r' }, { amountMinor: 1.5, reason: 'r' }, { amountMinor: '100', reason: 'r' }, { amountMinor: 1 }]) {
      expect((await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send(bad)).status).toBe(400);
    }
    const rest = await t.api.as(supervisor).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 600_000, reason: 'court order' });
    expect(rest.body).toMatchObject({ releasedMinor: 900_000, balanceMinor: 0, status: 'closed' });
    expect(rest.body.endedAt).toEqual(expect.any(String));
    const after = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 1, reason: 'r' });
    expect(after.status).toBe(409);
    expect(after.body.error.code).toBe('hold_closed');
    const entries = await t.db('loss_prevention_ledger').where({ hold_id: hold.id, entry_type: 'released' }).orderBy('id');
    expect(entries.map((e) => e.amount_minor)).toEqual([300_000, 600_000]);
    await expectConsistent(t, hold.id);
    for (const who of [admin, liaisonA, partnerA]) {
      expect((await t.api.as(who).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 1, reason: 'r' })).status).toBe(403);
    }
  });
});

describe('returns', () => {
  it('orders a return as a task at the holding bank, reserves it, and books it once when the bank pays', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 1_000_000 });
    const res = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`)
      .send({ amountMinor: 700_000, victimAccount: '6217 0000 1111 2222', victimAccountName: 'Wang Fang', note: 'case order 12' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ holdId: hold.id, amountMinor: 700_000, status: 'pending', taskId: expect.any(String), victimAccount: '6217000011112222' });
    const task = await t.db('tasks').where({ id: res.body.taskId }).first();
    // At the bank that holds the money, whatever the victim's account routes to.
    expect(task).toMatchObject({ kind: 'return_funds', family: 'return', institution_id: bankA.id, status: 'queued', amount_minor: 700_000, parent_task_id: hold.taskId, target_value: '6217000011112222' });
    expect(await t.queueJobIds(`partner-${bankA.id}`)).toContain(task.id);
    expect((await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body).toMatchObject({ reservedMinor: 700_000, availableMinor: 300_000, balanceMinor: 1_000_000 });

    const tooMuch = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 300_001, victimAccount: '6217000011113333' });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error.code).toBe('insufficient_balance');
    const reservedRelease = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 300_001, reason: 'r' });
    expect(reservedRelease.status).toBe(409);
    expect(reservedRelease.body.error.code).toBe('insufficient_balance');

    // The bank's liaison sees the task and answers it; a second answer is refused and books nothing.
    expect((await t.api.as(liaisonA).get(`/api/v1/tasks/${task.id}`)).status).toBe(200);
    const over = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'returned', returnedMinor: 700_001 });
    expect(over.status).toBe(400);
    expect(over.body.error.details[0].path).toBe('returnedMinor');
    const wrong = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 10 });
    expect(wrong.status).toBe(400);
    const paid = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'returned', returnedMinor: 700_000 });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ status: 'done', result: { outcome: 'returned', returnedMinor: 700_000 } });
    const twice = await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'returned', returnedMinor: 700_000 });
    expect(twice.status).toBe(409);

    const after = (await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body;
    expect(after).toMatchObject({ returnedMinor: 700_000, balanceMinor: 300_000, reservedMinor: 0, status: 'active' });
    expect(after.returns).toMatchObject([{ id: res.body.id, status: 'paid', returnedMinor: 700_000 }]);
    expect(await t.db('loss_prevention_ledger').where({ hold_id: hold.id, entry_type: 'returned' })).toHaveLength(1);
    await expectConsistent(t, hold.id);
  });

  it('a rejected return frees its reservation; a partial payment books what was paid; another institution cannot answer', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 500_000 });
    const r1 = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 500_000, victimAccount: '6217000011114444' });
    expect((await t.api.as(liaisonB).post(`/api/v1/tasks/${r1.body.taskId}/result`).send({ outcome: 'rejected' })).status).toBe(404);
    const rejected = await t.api.as(partnerA).post(`/api/v1/tasks/${r1.body.taskId}/result`).send({ outcome: 'rejected', note: 'account closed' });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('failed');
    let h = (await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body;
    expect(h).toMatchObject({ reservedMinor: 0, balanceMinor: 500_000, returns: [{ status: 'failed', returnedMinor: null }] });

    const r2 = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 500_000, victimAccount: '6217000011114444' });
    expect(r2.status).toBe(201);
    expect((await t.api.as(partnerA).post(`/api/v1/tasks/${r2.body.taskId}/result`).send({ outcome: 'returned', returnedMinor: 450_000 })).status).toBe(200);
    h = (await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body;
    expect(h).toMatchObject({ returnedMinor: 450_000, reservedMinor: 0, balanceMinor: 50_000, status: 'active' });
    await expectConsistent(t, hold.id);
  });

  it('a cancelled return task frees its reservation, and the bank can no longer answer it', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 300_000 });
    const ordered = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 200_000, victimAccount: '6217000011115555' });
    expect((await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body).toMatchObject({ reservedMinor: 200_000 });
    const cancelled = await t.api.as(officer).post(`/api/v1/tasks/${ordered.body.taskId}/cancel`).send({ reason: 'victim paid back by the suspect' });
    expect(cancelled.status).toBe(200);
    expect((await t.api.as(officer).get(`/api/v1/holds/${hold.id}`)).body).toMatchObject({ reservedMinor: 0, balanceMinor: 300_000, returns: [{ status: 'failed' }] });
    const late = await t.api.as(partnerA).post(`/api/v1/tasks/${ordered.body.taskId}/result`).send({ outcome: 'returned', returnedMinor: 200_000 });
    expect(late.status).toBe(409);
    expect((await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 300_000, victimAccount: '6217000011115555' })).status).toBe(201);
    await expectConsistent(t, hold.id);
  });

  it('refuses returns from roles that may not (403), to a bad account (400), from a closed hold (409) or another bank\'s view (404 for partners)', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 1000 });
    for (const who of [admin, liaisonA, partnerA]) {
      expect((await t.api.as(who).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 1, victimAccount: '6217000011115555' })).status).toBe(403);
    }
    const bad = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 1, victimAccount: 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('victimAccount');
    await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 1000, reason: 'r' });
    const closed = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 1, victimAccount: '6217000011115555' });
    expect(closed.status).toBe(409);
    expect(closed.body.error.code).toBe('hold_closed');
  });
});

describe('disputes', () => {
  it('the holding bank opens one, due in three days; an officer releases the disputed amount; a second decision is dispute_closed', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 1_000_000 });
    expect((await t.api.as(liaisonB).post(`/api/v1/holds/${hold.id}/disputes`).send({ claimantName: 'Zhao', reason: 'salary', amountMinor: 1 })).status).toBe(404);
    for (const who of [supervisor, admin]) {
      expect((await t.api.as(who).post(`/api/v1/holds/${hold.id}/disputes`).send({ claimantName: 'Zhao', reason: 'salary', amountMinor: 1 })).status).toBe(403);
    }
    const over = await t.api.as(liaisonA).post(`/api/v1/holds/${hold.id}/disputes`).send({ claimantName: 'Zhao', reason: 'salary', amountMinor: 1_000_001 });
    expect(over.status).toBe(400);
    const opened = await t.api.as(liaisonA).post(`/api/v1/holds/${hold.id}/disputes`).send({ claimantName: 'Zhao Lei', reason: 'my salary', amountMinor: 200_000 });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ holdId: hold.id, status: 'open', institutionId: bankA.id, amountMinor: 200_000, overdue: false });
    expect(Math.abs(Date.parse(opened.body.dueAt) - Date.now() - 3 * DAY)).toBeLessThan(5000);

    const listed = await t.api.as(officer).get(`/api/v1/disputes?status=open&holdId=${hold.id}`);
    expect(listed.body.items.map((d: { id: string }) => d.id)).toEqual([opened.body.id]);
    expect((await t.api.as(liaisonB).get(`/api/v1/disputes/${opened.body.id}`)).status).toBe(404);
    expect((await t.api.as(liaisonB).get('/api/v1/disputes?limit=200')).body.items.map((d: { id: string }) => d.id)).not.toContain(opened.body.id);
    expect((await t.api.as(partnerA).get(`/api/v1/disputes/${opened.body.id}`)).status).toBe(200);

    for (const who of [admin, liaisonA]) {
      expect((await t.api.as(who).post(`/api/v1/disputes/${opened.body.id}/decision`).send({ decision: 'reject', reason: 'r' })).status).toBe(403);
    }
    const tooMuch = await t.api.as(officer).post(`/api/v1/disputes/${opened.body.id}/decision`).send({ decision: 'release', amountMinor: 200_001, reason: 'r' });
    expect(tooMuch.status).toBe(400);
    const decided = await t.api.as(officer).post(`/api/v1/disputes/${opened.body.id}/decision`).send({ decision: 'release', reason: 'payslips match' });
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ status: 'released', releasedMinor: 200_000, decisionReason: 'payslips match', hold: { releasedMinor: 200_000, balanceMinor: 800_000 } });
    const again = await t.api.as(supervisor).post(`/api/v1/disputes/${opened.body.id}/decision`).send({ decision: 'reject', reason: 'second thoughts' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('dispute_closed');
    expect(await t.db('loss_prevention_ledger').where({ booking_key: `dispute:${opened.body.id}` })).toHaveLength(1);
    await expectConsistent(t, hold.id);
  });

  it('an officer opens one and rejects it, keeping the money held', async () => {
    const hold = await frozenHold(t, bankA, liaisonA, { amountMinor: 400_000 });
    const opened = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/disputes`).send({ claimantName: 'Qian', reason: 'mine', amountMinor: 400_000 });
    expect(opened.status).toBe(201);
    const withAmount = await t.api.as(officer).post(`/api/v1/disputes/${opened.body.id}/decision`).send({ decision: 'reject', amountMinor: 5, reason: 'r' });
    expect(withAmount.status).toBe(400);
    const rejected = await t.api.as(supervisor).post(`/api/v1/disputes/${opened.body.id}/decision`).send({ decision: 'reject', reason: 'transfers trace to the victim' });
    expect(rejected.body).toMatchObject({ status: 'rejected', releasedMinor: null, hold: { balanceMinor: 400_000, status: 'active' } });
    expect((await t.api.as(officer).post('/api/v1/disputes/00000000-0000-4000-8000-000000000000/decision').send({ decision: 'reject', reason: 'r' })).status).toBe(404);
  });
});

describe('pro-rata split', () => {
  it('divides the available balance among the victims who paid into the account, by what each paid, adding up exactly', async () => {
    const account = '6222 0299 8877 6655';
    const filed = [];
    for (const amountMinor of [100_000, 200_000, 400_000]) {
      const r = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
        transfers: [{ toAccount: account, toInstitutionId: bankA.id, amountMinor, transferredAt: '2026-11-28T09:30:00+08:00' }], indicators: [],
      }));
      expect(r.status).toBe(201);
      filed.push(r.body);
    }
    const task = filed[0].tasks[0];
    expect((await t.api.as(liaisonA).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: 100_000 })).status).toBe(200);
    const hold = await t.db('holds').where({ task_id: task.id }).first();
    // 100,000 among 1 : 2 : 4 is 14,285.71… : 28,571.43… : 57,142.86…; the remainders go to the largest fractions.
    const res = await t.api.as(officer).get(`/api/v1/holds/${hold.id}/split`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ holdId: hold.id, availableMinor: 100_000, basis: 'reported_transfers' });
    expect(res.body.shares.map((s: { reportId: string; transferredMinor: number; shareMinor: number }) => [s.reportId, s.transferredMinor, s.shareMinor]))
      .toEqual([[filed[0].id, 100_000, 14_286], [filed[1].id, 200_000, 28_571], [filed[2].id, 400_000, 57_143]]);
    expect(res.body.shares.reduce((s: number, x: { shareMinor: number }) => s + x.shareMinor, 0)).toBe(100_000);
    expect((await t.api.as(liaisonA).get(`/api/v1/holds/${hold.id}/split`)).status).toBe(403);
  });
});

describe('statistics', () => {
  it('counts returned, released and held money per period and institution, with the return rate', async () => {
    const bank = await t.factories.institution({ kind: 'bank' });
    const liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const hold = await frozenHold(t, bank, liaison, { amountMinor: 1_000_000 });
    await t.api.as(officer).post(`/api/v1/holds/${hold.id}/release`).send({ amountMinor: 100_000, reason: 'r' });
    const ret = await t.api.as(officer).post(`/api/v1/holds/${hold.id}/returns`).send({ amountMinor: 250_000, victimAccount: '6217000011116666' });
    await t.api.as(liaison).post(`/api/v1/tasks/${ret.body.taskId}/result`).send({ outcome: 'returned', returnedMinor: 250_000 });

    const read = async () => {
      const s = (await t.api.as(supervisor).get('/api/v1/stats/summary')).body;
      return s.byInstitution.find((i: { institutionId: string }) => i.institutionId === bank.id);
    };
    const expected = { lossPreventedMinor: 1_000_000, releasedMinor: 100_000, returnedMinor: 250_000, heldMinor: 650_000, returnRateBasisPoints: 2500 };
    expect(await read()).toMatchObject(expected);
    await foldStatsDeltas(t.db);
    expect(await read()).toMatchObject(expected);
    const { ledger } = await recount(t, hold.id);
    expect(ledger).toEqual({ frozen: 1_000_000, released: 100_000, returned: 250_000 });
    const lines = (await t.api.as(supervisor).get('/api/v1/stats/export.csv')).text.split('\r\n');
    const header = lines[0].split(',');
    const row = lines.find((l) => l.startsWith(`${bank.id},`))!.split(',');
    const column = (name: string) => row[header.indexOf(name)];
    const names = ['lossPrevented', 'returnedMinor', 'returned', 'releasedMinor', 'released', 'heldMinor', 'held', 'returnRateBasisPoints'];
    expect(names.map(column)).toEqual(['10000.00', '250000', '2500.00', '100000', '1000.00', '650000', '6500.00', '2500']);
  });
});
