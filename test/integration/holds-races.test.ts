import { testApp, type TestApp } from '../helpers/test-app';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { expectConsistent, frozenHold, recount } from '../helpers/holds';
import { FAST_WORKERS, waitFor } from '../helpers/lifecycle';
import { foldStatsDeltas } from '../../server/stats/stats.repo';
import { startWorkers, type WorkerProcess } from '../../workers/main';

// Racing writers on held money: whatever order they commit in, every hold keeps
// frozen = released + returned + balance with nothing negative, pending returns within the
// balance, and the hold's figures equal to an independent recount of the ledger.

let t: TestApp;
let bank: TestInstitution;
let liaison: TestUser;
let officer: TestUser;
let supervisor: TestUser;

beforeAll(async () => {
  // Short legal clocks: a stop-payment lasts 2 seconds; the scan runs every 200 ms in the workers.
  t = await testApp({ ...FAST_WORKERS, HOLD_STOP_PAYMENT_SECONDS: '2', HOLD_SCAN_MS: '200', SIMULATED_RETURN_DELAY_MS: '100' });
  bank = await t.factories.institution({ kind: 'bank' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
});
afterAll(() => t.close(), 120_000);

const release = (id: string, amountMinor: number) => t.api.as(officer).post(`/api/v1/holds/${id}/release`).send({ amountMinor, reason: 'race' });
const orderReturn = (id: string, amountMinor: number) =>
  t.api.as(supervisor).post(`/api/v1/holds/${id}/returns`).send({ amountMinor, victimAccount: '6217000099990000' });

it('two releases racing for more than the balance: one wins, the other is refused, booked once', async () => {
  for (let round = 0; round < 5; round++) {
    const hold = await frozenHold(t, bank, liaison, { amountMinor: 1_000_000 });
    const answers = await Promise.all([release(hold.id, 600_000), release(hold.id, 600_000)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400]);
    const { ledger } = await recount(t, hold.id);
    expect(ledger.released).toBe(600_000);
    await expectConsistent(t, hold.id);
  }
});

it('ten releases racing on one hold: exactly as many succeed as the balance allows, and it closes at zero', async () => {
  const hold = await frozenHold(t, bank, liaison, { amountMinor: 1_000_000 });
  const answers = await Promise.all(Array.from({ length: 10 }, () => release(hold.id, 250_000)));
  expect(answers.filter((a) => a.status === 200)).toHaveLength(4);
  expect(answers.filter((a) => a.status !== 200).every((a) => a.status === 409 && a.body.error.code === 'hold_closed')).toBe(true);
  const { hold: row } = await recount(t, hold.id);
  expect(row).toMatchObject({ released_minor: 1_000_000, balance_minor: 0, status: 'closed' });
  await expectConsistent(t, hold.id);
});

it('a return racing a release for the same money: one gets it, the other is refused', async () => {
  for (let round = 0; round < 5; round++) {
    const hold = await frozenHold(t, bank, liaison, { amountMinor: 1_000_000 });
    const [ret, rel] = await Promise.all([orderReturn(hold.id, 700_000), release(hold.id, 700_000)]);
    expect([ret.status, rel.status].filter((s) => s === 201 || s === 200)).toHaveLength(1);
    if (ret.status === 201) {
      expect(rel.status).toBe(409);
      expect(rel.body.error.code).toBe('insufficient_balance');
    } else {
      expect(ret.status).toBe(409);
      expect(ret.body.error.code).toBe('insufficient_balance');
    }
    await expectConsistent(t, hold.id);
  }
});

it('expiry racing a renewal: either the renewal wins and nothing is released, or the hold lapses and the renewal is hold_closed', async () => {
  const outcomes = { renewed: 0, expired: 0 };
  for (let round = 0; round < 8; round++) {
    const hold = await frozenHold(t, bank, liaison, { amountMinor: 500_000, holdStage: 'stop_payment' });
    // Lapsing in a moment; the renewal and the scan both start around that moment.
    await t.db('holds').where({ id: hold.id }).update({ expires_at: t.db.raw(`now() + interval '40 milliseconds'`) });
    await new Promise((r) => setTimeout(r, 30 + (round % 4) * 5));
    const [renewed] = await Promise.all([
      t.api.as(officer).post(`/api/v1/holds/${hold.id}/renew`).send({ reason: 'race' }),
      (async () => {
        await new Promise((r) => setTimeout(r, 10));
        await t.deps.services.holds.expireDue();
      })(),
    ]);
    // A renewal that won moved the expiry: the next scan leaves it alone.
    await new Promise((r) => setTimeout(r, 50));
    await t.deps.services.holds.expireDue();
    const { hold: row, ledger } = await recount(t, hold.id);
    if (renewed.status === 200) {
      outcomes.renewed++;
      expect(row).toMatchObject({ status: 'active', renewals: 1, released_minor: 0 });
      expect(ledger.released).toBe(0);
    } else {
      outcomes.expired++;
      expect(renewed.status).toBe(409);
      expect(renewed.body.error.code).toBe('hold_closed');
      expect(row).toMatchObject({ status: 'expired', released_minor: 500_000, balance_minor: 0 });
      expect(await t.db('loss_prevention_ledger').where({ hold_id: hold.id, entry_type: 'released' })).toHaveLength(1);
      expect(await t.db('events').where({ hold_id: hold.id, type: 'hold.expired' })).toHaveLength(1);
    }
    await expectConsistent(t, hold.id);
  }
  expect(outcomes.renewed + outcomes.expired).toBe(8);
});

it('a return result posted five times at once, by API and by feed, is booked once', async () => {
  const hold = await frozenHold(t, bank, liaison, { amountMinor: 800_000 });
  const ret = await orderReturn(hold.id, 300_000);
  expect(ret.status).toBe(201);
  const partner = await t.factories.user({ role: 'partner_system', institutionId: bank.id });
  const feed = await t.api.as(partner).post('/api/v1/feeds').send({
    items: [{ type: 'task_result', externalId: `ret-${ret.body.taskId}`, taskId: ret.body.taskId, outcome: 'returned', returnedMinor: 300_000 }],
  });
  expect(feed.status).toBe(202);
  const answers = await Promise.all([
    ...Array.from({ length: 4 }, () => t.api.as(liaison).post(`/api/v1/tasks/${ret.body.taskId}/result`).send({ outcome: 'returned', returnedMinor: 300_000 })),
    t.deps.services.feeds.processBatch(feed.body.batchId),
  ]);
  const api = answers.slice(0, 4) as { status: number }[];
  expect(api.filter((a) => a.status === 200).length).toBeLessThanOrEqual(1);
  expect(await t.db('loss_prevention_ledger').where({ hold_id: hold.id, entry_type: 'returned' })).toHaveLength(1);
  const { hold: row } = await recount(t, hold.id);
  expect(row).toMatchObject({ returned_minor: 300_000, reserved_minor: 0, balance_minor: 500_000 });
  await expectConsistent(t, hold.id);
});

it('many operations at once on several holds keep every invariant, and the statistics equal a recount of the ledger', async () => {
  const place = await t.factories.institution({ kind: 'bank' });
  const placeLiaison = await t.factories.user({ role: 'liaison', institutionId: place.id });
  const holds = await Promise.all(Array.from({ length: 4 }, () => frozenHold(t, place, placeLiaison, { amountMinor: 1_000_000 })));
  const disputes = await Promise.all(holds.map((h) =>
    t.api.as(placeLiaison).post(`/api/v1/holds/${h.id}/disputes`).send({ claimantName: 'Sun', reason: 'mine', amountMinor: 200_000 })));

  // Returns ordered, then their answers racing releases, more returns and the disputes' decisions.
  const firstReturns = await Promise.all(holds.map((h) => orderReturn(h.id, 300_000)));
  const ops: Promise<unknown>[] = [];
  holds.forEach((h, i) => {
    ops.push(release(h.id, 150_000), release(h.id, 150_000), orderReturn(h.id, 250_000));
    ops.push(t.api.as(placeLiaison).post(`/api/v1/tasks/${firstReturns[i]!.body.taskId}/result`)
      .send(i % 2 === 0 ? { outcome: 'returned', returnedMinor: 300_000 - i * 1000 } : { outcome: 'rejected' }));
    ops.push(t.api.as(supervisor).post(`/api/v1/disputes/${disputes[i]!.body.id}/decision`).send({ decision: 'release', reason: 'ok' }));
    ops.push(t.api.as(officer).post(`/api/v1/holds/${h.id}/renew`).send({ reason: 'keep' }));
  });
  const settled = await Promise.all(ops) as { status: number }[];
  expect(settled.every((r) => r.status < 500)).toBe(true);
  for (const h of holds) await expectConsistent(t, h.id);

  // The institution's figures, folded or not, equal the ledger's sums and the holds' balances.
  const sums = await t.db('loss_prevention_ledger').select('entry_type').sum({ total: 'amount_minor' })
    .whereIn('hold_id', holds.map((h) => h.id)).groupBy('entry_type') as { entry_type: string; total: string }[];
  const sum = (type: string) => Number(sums.find((s) => s.entry_type === type)?.total ?? 0);
  const balance = Number((await t.db('holds').sum({ b: 'balance_minor' }).whereIn('id', holds.map((h) => h.id)).where({ status: 'active' }).first() as { b: string }).b ?? 0);
  const figures = async () => (await t.api.as(supervisor).get('/api/v1/stats/summary')).body.byInstitution
    .find((i: { institutionId: string }) => i.institutionId === place.id);
  const expected = { lossPreventedMinor: sum('freeze'), releasedMinor: sum('released'), returnedMinor: sum('returned'), heldMinor: balance };
  expect(sum('freeze')).toBe(4_000_000);
  expect(sum('freeze')).toBe(sum('released') + sum('returned') + Number((await t.db('holds').sum({ b: 'balance_minor' }).whereIn('id', holds.map((h) => h.id)).first() as { b: string }).b));
  expect(await figures()).toMatchObject(expected);
  await foldStatsDeltas(t.db);
  expect(await figures()).toMatchObject(expected);
});

it('a dispute\'s decision racing a release and a return for the same money: exactly one gets it, the others are refused', async () => {
  for (let round = 0; round < 5; round++) {
    const hold = await frozenHold(t, bank, liaison, { amountMinor: 1_000_000 });
    const dispute = await t.api.as(liaison).post(`/api/v1/holds/${hold.id}/disputes`).send({ claimantName: 'Sun', reason: 'mine', amountMinor: 600_000 });
    expect(dispute.status).toBe(201);
    const answers = await Promise.all([
      t.api.as(supervisor).post(`/api/v1/disputes/${dispute.body.id}/decision`).send({ decision: 'release', reason: 'race' }),
      release(hold.id, 600_000),
      orderReturn(hold.id, 600_000),
    ]);
    expect(answers.filter((a) => a.status === 200 || a.status === 201)).toHaveLength(1);
    for (const refused of answers.filter((a) => a.status !== 200 && a.status !== 201)) {
      expect([400, 409]).toContain(refused.status);
      expect(['validation_failed', 'insufficient_balance']).toContain(refused.body.error.code);
    }
    const { hold: row, pendingMinor } = await recount(t, hold.id);
    expect(row.released_minor + pendingMinor).toBe(600_000);
    await expectConsistent(t, hold.id);
  }
});

it('expiry racing a return\'s answer: whichever commits first, the return keeps its reservation until answered and the rest lapses, booked once', async () => {
  for (let round = 0; round < 6; round++) {
    const paid = round % 2 === 0;
    const hold = await frozenHold(t, bank, liaison, { amountMinor: 500_000, holdStage: 'stop_payment' });
    const ret = await orderReturn(hold.id, 200_000);
    expect(ret.status).toBe(201);
    await t.db('holds').where({ id: hold.id }).update({ expires_at: t.db.raw(`now() + interval '30 milliseconds'`) });
    await new Promise((r) => setTimeout(r, 25 + (round % 3) * 5));
    const [answer] = await Promise.all([
      t.api.as(liaison).post(`/api/v1/tasks/${ret.body.taskId}/result`).send(paid ? { outcome: 'returned', returnedMinor: 200_000 } : { outcome: 'rejected' }),
      (async () => {
        await new Promise((r) => setTimeout(r, 5));
        await t.deps.services.holds.expireDue();
      })(),
    ]);
    expect(answer.body).toEqual(expect.objectContaining({ status: expect.any(String) }));
    expect(answer.status).toBe(200);
    await new Promise((r) => setTimeout(r, 40));
    await t.deps.services.holds.expireDue();
    const { hold: row, ledger } = await recount(t, hold.id);
    expect(row).toMatchObject({
      status: 'expired', reserved_minor: 0, balance_minor: 0,
      returned_minor: paid ? 200_000 : 0, released_minor: paid ? 300_000 : 500_000,
    });
    expect(ledger).toEqual({ frozen: 500_000, released: paid ? 300_000 : 500_000, returned: paid ? 200_000 : 0 });
    await expectConsistent(t, hold.id);
  }
});

it('every hold these races wrote, recounted from the ledger alone: frozen = released + returned + balance, nothing negative, and the totals agree', async () => {
  const holds = await t.db('holds').select('id');
  expect(holds.length).toBeGreaterThan(20);
  for (const h of holds) await expectConsistent(t, h.id);
  const held = await t.db('holds').sum({ frozen: 'frozen_minor', released: 'released_minor', returned: 'returned_minor', balance: 'balance_minor' }).first() as Record<string, string>;
  const booked = await t.db('loss_prevention_ledger').select('entry_type').sum({ total: 'amount_minor' }).whereNotNull('hold_id').groupBy('entry_type') as { entry_type: string; total: string }[];
  const ledger = (type: string) => BigInt(booked.find((b) => b.entry_type === type)?.total ?? 0);
  expect(ledger('freeze')).toBe(BigInt(held.frozen!));
  expect(ledger('released')).toBe(BigInt(held.released!));
  expect(ledger('returned')).toBe(BigInt(held.returned!));
  expect(ledger('freeze')).toBe(ledger('released') + ledger('returned') + BigInt(held.balance!));
  expect(await t.db('holds').where('balance_minor', '<', 0).orWhere('released_minor', '<', 0).orWhere('returned_minor', '<', 0).orWhere('reserved_minor', '<', 0)).toHaveLength(0);
});

describe('in the workers', () => {
  let workers: WorkerProcess | undefined;
  afterAll(async () => {
    await workers?.close();
  });

  it('the scan lapses a stop-payment on its short clock, and a simulated bank pays an ordered return', async () => {
    const sim = await t.factories.institution({ kind: 'bank', integration: 'simulated' });
    const simLiaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
    const lapsing = await frozenHold(t, bank, simLiaison, { amountMinor: 400_000, holdStage: 'stop_payment' });
    // A hold at the simulated bank, opened the way its answers open one.
    const simHold = await frozenHold(t, sim, await t.factories.user({ role: 'liaison', institutionId: sim.id }), { amountMinor: 600_000 });
    workers = startWorkers(t.config);
    const ret = await orderReturn(simHold.id, 600_000);
    expect(ret.status).toBe(201);

    const paid = await waitFor(async () => {
      const r = await t.db('hold_returns').where({ id: ret.body.id }).first();
      return r.status === 'paid' ? r : undefined;
    }, 'the simulated bank to pay the return', 20_000);
    expect(paid.returned_minor).toBe(600_000);
    expect((await recount(t, simHold.id)).hold).toMatchObject({ status: 'closed', returned_minor: 600_000 });

    const expired = await waitFor(async () => {
      const h = await t.db('holds').where({ id: lapsing.id }).first();
      return h.status === 'expired' ? h : undefined;
    }, 'the scan to expire the stop-payment', 20_000);
    expect(expired).toMatchObject({ released_minor: 400_000, balance_minor: 0 });
    expect(await t.db('events').where({ hold_id: lapsing.id, type: 'hold.expired' })).toHaveLength(1);
    await expectConsistent(t, lapsing.id);
    await expectConsistent(t, simHold.id);
  });
});
