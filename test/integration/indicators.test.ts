import { randomBytes } from 'node:crypto';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';

let t: TestApp;
let carrier: TestInstitution;
let bank: TestInstitution;
let carrierLiaison: TestUser;
let bankSystem: TestUser;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp();
  carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86' }] });
  bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
  bankSystem = await t.factories.user({ role: 'partner_system', institutionId: bank.id });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

const digits = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');
const uniq = () => randomBytes(4).toString('hex');

async function feed(as: TestUser, items: object[]) {
  const res = await t.api.as(as).post('/api/v1/feeds').send({ items });
  expect(res.status).toBe(202);
  await t.deps.services.feeds.processBatch(res.body.batchId);
}

const indicatorItem = (kind: string, value: string, confidence = 'suspected') => ({
  type: 'fraud_indicator', externalId: `x-${uniq()}`, indicator: { kind, value }, confidence, observedAt: '2026-11-28T10:00:00Z',
});

describe('POST /indicators/lookup', () => {
  it('when a partner screens fed, confirmed, reported, unknown and unusable values, then each answer is normalized, in request order, from one query', async () => {
    const suspectedPhone = `+86 171 ${digits(8)}`;
    const confirmedAccount = `6222 02${digits(10)}`;
    const reportedAccount = `622202${digits(10)}`;
    await feed(carrierLiaison, [indicatorItem('phone', suspectedPhone)]);
    // Confirmed by the bank that holds the account: a partner's word stands for what it holds.
    await feed(bankSystem, [indicatorItem('bank_account', confirmedAccount, 'confirmed')]);
    const report = await t.api.as(officer).post('/api/v1/reports')
      .send(reportBody({ transfers: [{ toAccount: reportedAccount, amountMinor: 100_000, transferredAt: '2026-11-28T09:30:00+08:00' }], indicators: [] }));
    expect(report.status).toBe(201);

    // Authentication reads the user, and the caller's quota its counter (in PostgreSQL on that queue
    // backend); everything else of the lookup is one statement.
    let queries = 0;
    const count = (q: { sql: string }) => { if (!/\busers\b|api_clients|rate_limit_counters/.test(q.sql)) queries++; };
    t.db.on('query', count);
    t.deps.readDb.on('query', count);
    const res = await t.api.as(bankSystem).post('/api/v1/indicators/lookup').send({
      items: [
        { kind: 'bank_account', value: confirmedAccount },
        { kind: 'phone', value: 'not a number' },
        { kind: 'phone', value: suspectedPhone },
        { kind: 'url', value: `https://never-seen-${uniq()}.example/` },
        { kind: 'bank_account', value: reportedAccount },
      ],
    });
    t.db.off('query', count);
    t.deps.readDb.off('query', count);
    expect(res.status).toBe(200);
    expect(queries).toBe(1);
    expect(res.body.results).toEqual([
      { kind: 'bank_account', value: confirmedAccount.replace(/\s/g, ''), flagged: true, status: 'confirmed', reportCount: 0, lastSeenAt: '2026-11-28T10:00:00.000Z', valid: true },
      { kind: 'phone', value: 'not a number', flagged: false, status: null, reportCount: 0, lastSeenAt: null, valid: false },
      { kind: 'phone', value: suspectedPhone.replace(/\s/g, ''), flagged: true, status: 'suspected', reportCount: 0, lastSeenAt: '2026-11-28T10:00:00.000Z', valid: true },
      { kind: 'url', value: expect.stringMatching(/^http:\/\/never-seen-/), flagged: false, status: null, reportCount: 0, lastSeenAt: null, valid: true },
      { kind: 'bank_account', value: reportedAccount, flagged: true, status: null, reportCount: 1, lastSeenAt: expect.any(String), valid: true },
    ]);
  });

  it('when a batch names one value many times, in different spellings, then each place gets the same answer', async () => {
    const mule = `622202${digits(10)}`;
    for (let i = 0; i < 3; i++) {
      const res = await t.api.as(officer).post('/api/v1/reports')
        .send(reportBody({ transfers: [{ toAccount: mule, amountMinor: 1_000 + i }], indicators: [{ kind: 'bank_account', value: mule }] }));
      expect(res.status).toBe(201);
    }
    const spaced = `${mule.slice(0, 4)} ${mule.slice(4, 8)} ${mule.slice(8)}`;
    const items = [mule, `+86 171 ${digits(8)}`, spaced, mule].map((value, i) => ({ kind: i === 1 ? 'phone' : 'bank_account', value }));
    const res = await t.api.as(bankSystem).post('/api/v1/indicators/lookup').send({ items });
    expect(res.status).toBe(200);
    const [first, other, second, third] = res.body.results;
    expect(first).toMatchObject({ value: mule, flagged: true, status: 'suspected', reportCount: 3 });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(other).toMatchObject({ kind: 'phone', flagged: false, reportCount: 0 });
  });

  it('counts every report that cites an indicator in the list and the detail, and a report makes a known indicator seen again', async () => {
    const number = `+86 171 ${digits(8)}`;
    await feed(carrierLiaison, [indicatorItem('phone', number)]);
    const fed = await t.db('indicators').where({ kind: 'phone', value: number.replace(/\s/g, '') }).first();
    expect(fed.last_seen_at.toISOString()).toBe('2026-11-28T10:00:00.000Z');
    for (let i = 0; i < 2; i++) {
      const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: number }] }));
      expect(res.status).toBe(201);
    }
    const detail = await t.api.as(officer).get(`/api/v1/indicators/${fed.id}`);
    expect(detail.body).toMatchObject({ reportCount: 2 });
    expect(Date.parse(detail.body.lastSeenAt)).toBeGreaterThan(Date.parse('2026-11-29T00:00:00Z'));
    const list = await t.api.as(officer).get(`/api/v1/indicators?kind=phone&q=${encodeURIComponent(number.replace(/\s/g, '').slice(1))}`);
    expect(list.body.items).toEqual([expect.objectContaining({ id: fed.id, reportCount: 2 })]);
  });

  it('when more than 1000 values are sent, then it is 400 validation_failed on items', async () => {
    const items = Array.from({ length: 1001 }, (_, i) => ({ kind: 'phone', value: `+8617100${String(i).padStart(6, '0')}` }));
    const res = await t.api.as(bankSystem).post('/api/v1/indicators/lookup').send({ items });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path: 'items' })] });
    const ok = await t.api.as(bankSystem).post('/api/v1/indicators/lookup').send({ items: items.slice(0, 1000) });
    expect(ok.status).toBe(200);
    expect(ok.body.results).toHaveLength(1000);
    expect(ok.body.results[999].value).toBe('+8617100000999');
  });

  it('when the kind is unknown or no token is sent, then 400 and 401', async () => {
    expect((await t.api.as(officer).post('/api/v1/indicators/lookup').send({ items: [{ kind: 'fax', value: '1' }] })).body.error.details[0].path).toBe('items.0.kind');
    expect((await t.api.raw().post('/api/v1/indicators/lookup').send({ items: [] })).status).toBe(401);
  });
});

describe('GET /indicators and /indicators/:id', () => {
  it('when staff search by part of a value, kind and status, then matching indicators come back most recently seen first, page by page', async () => {
    const stem = digits(6);
    await feed(carrierLiaison, [
      { ...indicatorItem('phone', `+86 171 ${stem}01`), observedAt: '2026-11-28T01:00:00Z' },
      { ...indicatorItem('phone', `+86 171 ${stem}02`, 'confirmed'), observedAt: '2026-11-28T02:00:00Z' },
      { ...indicatorItem('phone', `+86 171 ${stem}03`), observedAt: '2026-11-28T03:00:00Z' },
    ]);
    const page1 = await t.api.as(officer).get(`/api/v1/indicators?q=${stem}&limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((i: { value: string }) => i.value)).toEqual([`+86171${stem}03`, `+86171${stem}02`]);
    const page2 = await t.api.as(officer).get(`/api/v1/indicators?q=${stem}&limit=2&cursor=${page1.body.nextCursor}`);
    expect(page2.body).toEqual({ items: [expect.objectContaining({ value: `+86171${stem}01`, kind: 'phone', status: 'suspected' })], nextCursor: null });
    const confirmed = await t.api.as(officer).get(`/api/v1/indicators?q=${stem}&status=confirmed&kind=phone`);
    expect(confirmed.body.items.map((i: { value: string }) => i.value)).toEqual([`+86171${stem}02`]);
    expect((await t.api.as(officer).get(`/api/v1/indicators?q=${stem}&kind=url`)).body.items).toEqual([]);
    expect((await t.api.as(officer).get('/api/v1/indicators?status=maybe')).status).toBe(400);
    expect((await t.api.as(carrierLiaison).get('/api/v1/indicators')).status).toBe(403);
  });

  it('when staff open a mule account, then it lists its sightings, every report that cites it and the tasks against it', async () => {
    const account = `622202${digits(10)}`;
    const first = await t.api.as(officer).post('/api/v1/reports')
      .send(reportBody({ transfers: [{ toAccount: account, amountMinor: 200_000, transferredAt: '2026-11-28T09:30:00+08:00' }], indicators: [] }));
    const second = await t.api.as(officer).post('/api/v1/reports')
      .send(reportBody({ transfers: [], indicators: [{ kind: 'bank_account', value: account }] }));
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    await feed(carrierLiaison, [indicatorItem('bank_account', account)]);
    await feed(bankSystem, [indicatorItem('bank_account', account, 'confirmed')]);

    const ind = await t.db('indicators').where({ kind: 'bank_account', value: account }).first();
    const res = await t.api.as(officer).get(`/api/v1/indicators/${ind.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: ind.id, kind: 'bank_account', value: account, status: 'confirmed', institutionCount: 2, sightingCount: 2 });
    expect(res.body.sightings.map((s: { institutionId: string }) => s.institutionId).sort()).toEqual([bank.id, carrier.id].sort());
    expect(res.body.reports.map((r: { id: string }) => r.id).sort()).toEqual([first.body.id, second.body.id].sort());
    expect(res.body.reports.find((r: { id: string }) => r.id === first.body.id).via).toBe('transfer');
    expect(res.body.reportCount).toBe(2);
    // The report's own tasks (interception, freeze) and no second blocking task from the feeds while one is open.
    const kinds = res.body.tasks.map((x: { kind: string }) => x.kind).sort();
    expect(kinds).toEqual(['freeze_account', 'intercept_funds']);
    expect((await t.api.as(officer).get('/api/v1/indicators/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});
