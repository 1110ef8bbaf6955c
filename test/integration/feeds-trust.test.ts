import { randomBytes } from 'node:crypto';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';

let t: TestApp;
let bankA: TestInstitution;
let bankB: TestInstitution;
let carrier: TestInstitution;
let platform: TestInstitution;
let bankALiaison: TestUser;
let bankBLiaison: TestUser;
let officer: TestUser;

const digits = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 10)).join('');
const uniq = () => randomBytes(4).toString('hex');

beforeAll(async () => {
  t = await testApp();
  bankA = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  bankB = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622848' }] });
  carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  platform = await t.factories.institution({ kind: 'platform', routes: [{ indicatorKind: 'url', prefix: 'shop-trust.example' }, { indicatorKind: 'domain', prefix: 'shop-trust.example' }] });
  bankALiaison = await t.factories.user({ role: 'liaison', institutionId: bankA.id });
  bankBLiaison = await t.factories.user({ role: 'liaison', institutionId: bankB.id });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

const confirmed = (kind: string, value: string) => ({
  type: 'fraud_indicator', externalId: `trust-${uniq()}`, indicator: { kind, value }, confidence: 'confirmed', observedAt: '2026-11-28T09:00:00+08:00',
});

async function feed(as: TestUser, items: object[]) {
  const res = await t.api.as(as).post('/api/v1/feeds').send({ items });
  expect(res.status).toBe(202);
  await t.deps.services.feeds.processBatch(res.body.batchId);
  const batch = await t.api.as(as).get(`/api/v1/feeds/${res.body.batchId}`);
  expect(batch.body).toMatchObject({ status: 'done', accepted: items.length, rejected: 0 });
}

async function lookup(as: TestUser, kind: string, value: string) {
  const res = await t.api.as(as).post('/api/v1/indicators/lookup').send({ items: [{ kind, value }] });
  expect(res.status).toBe(200);
  return res.body.results[0] as { value: string; flagged: boolean; status: string | null; reportCount: number };
}

const tasksFor = (kind: string, value: string) => t.db('tasks').where({ target_kind: kind, target_value: value });

describe('a partner confirms only what it holds', () => {
  it("when a bank confirms a platform's domain and URL, another bank's account and a carrier's number, then they stay suspected, open no tasks there, and screening warns rather than holds", async () => {
    const url = `https://shop-trust.example/pay-${uniq()}`;
    const domain = 'shop-trust.example';
    const account = `622848${digits(10)}`;
    const phone = `+86171${digits(8)}`;
    await feed(bankALiaison, [confirmed('url', url), confirmed('domain', domain), confirmed('bank_account', account), confirmed('phone', phone)]);

    for (const [kind, value] of [['url', url], ['domain', domain], ['bank_account', account], ['phone', phone]] as const) {
      const seen = await lookup(bankBLiaison, kind, value);
      expect(seen).toMatchObject({ flagged: true, status: 'suspected' });
      expect(await tasksFor(kind, seen.value)).toHaveLength(0);
    }
    // The sighting keeps what the bank said.
    const sighting = await t.db('indicator_sightings').where({ institution_id: bankA.id }).join('indicators', 'indicators.id', 'indicator_sightings.indicator_id')
      .where('indicators.value', account).first('indicator_sightings.confidence');
    expect(sighting.confidence).toBe('confirmed');

    const screened = await t.api.as(bankBLiaison).post('/api/v1/screening').send({ items: [{
      ref: `pay-${uniq()}`, payer: { account: `622848${digits(10)}` }, payee: { kind: 'bank_account', value: account }, amountMinor: 100000, currency: 'CNY',
    }] });
    expect(screened.status).toBe(200);
    expect(screened.body.results[0].decision).toBe('warn');
  });

  it("when a bank confirms its own customer's account, then it is confirmed with a freeze task at that bank, as before", async () => {
    const account = `622202${digits(10)}`;
    await feed(bankALiaison, [confirmed('bank_account', account)]);
    expect(await lookup(bankBLiaison, 'bank_account', account)).toMatchObject({ flagged: true, status: 'confirmed' });
    expect(await tasksFor('bank_account', account)).toEqual([expect.objectContaining({ kind: 'freeze_account', institution_id: bankA.id })]);
  });

  it("when a second institution confirms what another bank confirmed, then it becomes confirmed and the owner gets its task", async () => {
    const url = `https://shop-trust.example/refund-${uniq()}`;
    await feed(bankALiaison, [confirmed('url', url)]);
    const value = (await lookup(bankBLiaison, 'url', url)).value;
    expect(await tasksFor('url', value)).toHaveLength(0);

    await feed(bankBLiaison, [confirmed('url', url)]);
    expect(await lookup(bankBLiaison, 'url', url)).toMatchObject({ status: 'confirmed', flagged: true });
    expect(await tasksFor('url', value)).toEqual([expect.objectContaining({ kind: 'takedown_url', institution_id: platform.id })]);
  });

  it("when a report cites a number a bank confirmed, then the report backs it: a later confirmation from that bank stands, and the carrier has its task", async () => {
    const phone = `+86171${digits(8)}`;
    await feed(bankALiaison, [confirmed('phone', phone)]);
    expect(await tasksFor('phone', phone)).toHaveLength(0);

    const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ transfers: [], indicators: [{ kind: 'phone', value: phone }] }));
    expect(filed.status).toBe(201);
    expect(await lookup(bankBLiaison, 'phone', phone)).toMatchObject({ flagged: true, reportCount: 1 });
    expect(await tasksFor('phone', phone)).toEqual([expect.objectContaining({ kind: 'block_number', institution_id: carrier.id })]);

    await feed(bankALiaison, [confirmed('phone', phone)]);
    expect((await lookup(bankBLiaison, 'phone', phone)).status).toBe('confirmed');
  });
});
