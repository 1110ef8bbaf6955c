import { v5 as uuidv5 } from 'uuid';
import { createFeedWorker } from '../../workers/feed-worker';
import { testApp, type TestApp } from '../helpers/test-app';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { reportBody } from '../helpers/bodies';
import { corpusPath, readCorpus, readCorpusJson } from '../helpers/corpora';
import { errorPath, schemaSet } from '../helpers/json-schemas';
import { stixIndicatorId } from '../../server/standards/stix';
import { mispAttributeUuid } from '../../server/standards/misp';
import type { ROLES } from '../../server/domain/kinds';

// Standard formats in and out: STIX 2.1 and MISP exports of the indicators, and STIX bundles,
// MISP events and X-ARF v4 reports as feeds, against the public samples in ../shared/corpora.

type Worker = ReturnType<typeof createFeedWorker>;

let t: TestApp;
let worker: Worker;
let bank: TestInstitution;
let platform: TestInstitution;
let officer: TestUser;
let platformLiaison: TestUser;
let bankLiaison: TestUser;

const STIX_SCHEMAS = corpusPath('stix21/cti-stix2-json-schemas/schemas');
const stixSchemas = schemaSet(STIX_SCHEMAS);
const bundleSchema = stixSchemas.ajv.getSchema(stixSchemas.ids.get('common/bundle.json')!)!;
const indicatorSchema = stixSchemas.ajv.getSchema(stixSchemas.ids.get('sdos/indicator.json')!)!;
const identitySchema = stixSchemas.ajv.getSchema(stixSchemas.ids.get('sdos/identity.json')!)!;

/** The indicators of one report: one of every kind AFRC knows, a quote and a backslash among them. */
const REPORTED = [
  { kind: 'phone', value: '+86 171 0000 4321', normalized: '+8617100004321' },
  { kind: 'sms_sender', value: '【95588-Refund】', normalized: '95588-REFUND' },
  { kind: 'url', value: 'http://pay-refund.example/claim?utm_source=sms', normalized: 'http://pay-refund.example/claim' },
  { kind: 'domain', value: 'Pay-Refund.example.', normalized: 'pay-refund.example' },
  { kind: 'bank_account', value: '6222 0212 3456 0001', normalized: '6222021234560001' },
  { kind: 'payment_account', value: "o'brien\\pay", normalized: "o'brien\\pay" },
  { kind: 'im_account', value: 'wxid_refund88', normalized: 'wxid_refund88' },
] as const;

beforeAll(async () => {
  t = await testApp();
  bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  platform = await t.factories.institution({ kind: 'platform', routes: [{ indicatorKind: 'url', prefix: '' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  platformLiaison = await t.factories.user({ role: 'liaison', institutionId: platform.id });
  bankLiaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    indicators: REPORTED.map(({ kind, value }) => ({ kind, value })),
  }));
  expect(filed.status).toBe(201);
  worker = createFeedWorker(t.deps);
});
// Dropping a test database waits on the other files' clones of the template: give it time.
afterAll(async () => {
  await worker?.close();
  await t?.close();
}, 90_000);

async function stixExport(user: TestUser, query = '') {
  const res = await t.api.as(user).get(`/api/v1/indicators/export.stix${query}`).buffer(true).parse((r, cb) => {
    let text = '';
    r.setEncoding('utf8');
    r.on('data', (c: string) => { text += c; });
    r.on('end', () => cb(null, text));
  });
  return { res, bundle: res.status === 200 ? JSON.parse(res.body as string) : undefined };
}

/** Submits a document as a feed and waits for the feeds worker to finish it. */
async function feed(user: TestUser, contentType: string, body: string) {
  const res = await t.api.as(user).post('/api/v1/feeds').set('Content-Type', contentType).send(body);
  expect(res.status).toBe(202);
  for (let i = 0; i < 200; i++) {
    const batch = await t.api.as(user).get(`/api/v1/feeds/${res.body.batchId}`);
    if (batch.body.status === 'done') return batch.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`feed ${res.body.batchId} was not processed`);
}

async function lookup(items: { kind: string; value: string }[]) {
  const res = await t.api.as(bankLiaison).post('/api/v1/indicators/lookup').send({ items });
  expect(res.status).toBe(200);
  return res.body.results as { kind: string; value: string; flagged: boolean; status: string | null }[];
}

describe('GET /indicators/export.stix', () => {
  it('when anyone exports, then the bundle validates against the OASIS STIX 2.1 schemas: the center\'s identity and one indicator per indicator', async () => {
    const { res, bundle } = await stixExport(officer);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/stix+json;version=2.1');

    const valid = bundleSchema(bundle);
    expect(valid ? [] : bundleSchema.errors!.map((e) => `${errorPath(e)} ${e.message}`)).toEqual([]);
    const [identity, ...indicators] = bundle.objects as Record<string, any>[];
    expect(identitySchema(identity)).toBe(true);
    expect(identity).toMatchObject({ type: 'identity', spec_version: '2.1', identity_class: 'organization' });
    for (const indicator of indicators) {
      expect(indicatorSchema(indicator) ? [] : indicatorSchema.errors).toEqual([]);
      expect(indicator).toMatchObject({ type: 'indicator', pattern_type: 'stix', created_by_ref: identity.id, valid_from: expect.any(String) });
    }
    const mine = REPORTED.map((r) => indicators.find((i) => i.id === stixIndicatorId(r.kind, r.normalized)));
    expect(mine.every(Boolean)).toBe(true);
    expect(mine.map((i) => i!.pattern)).toEqual([
      "[x-afrc-phone:value = '+8617100004321']",
      "[x-afrc-sms-sender:value = '95588-REFUND']",
      "[url:value = 'http://pay-refund.example/claim']",
      "[domain-name:value = 'pay-refund.example']",
      "[x-afrc-bank-account:value = '6222021234560001']",
      "[x-afrc-payment-account:value = 'o\\'brien\\\\pay']",
      "[x-afrc-im-account:value = 'wxid_refund88']",
    ]);
    const count = await t.db('indicators').whereNotNull('status').count<{ count: string }[]>({ count: '*' });
    expect(indicators).toHaveLength(Number(count[0]!.count));
  });

  it('when the center exports again, then every indicator keeps its id; the bundle id is new', async () => {
    const first = (await stixExport(officer)).bundle;
    const again = (await stixExport(bankLiaison)).bundle;
    const ids = (b: { objects: { id: string }[] }) => b.objects.map((o) => o.id).sort();
    expect(ids(again)).toEqual(ids(first));
    expect(again.id).not.toBe(first.id);
    // The id is a function of kind and normalized value alone (UUIDv5), not of the row.
    expect(stixIndicatorId('phone', '+8617100004321')).toBe(stixIndicatorId('phone', '+8617100004321'));
    expect(stixIndicatorId('phone', '+8617100004321')).not.toBe(stixIndicatorId('sms_sender', '+8617100004321'));
    expect(stixIndicatorId('url', 'http://x.example/')).toMatch(/^indicator--[0-9a-f-]{36}$/);
  });

  it('when filtered by status and since, then only those indicators come; a bad filter is 400 at its path', async () => {
    await t.db('indicators').where({ kind: 'phone', value: '+8617100004321' }).update({ status: 'blocked' });
    const blocked = (await stixExport(officer, '?status=blocked')).bundle;
    expect(blocked.objects.filter((o: { type: string }) => o.type === 'indicator').map((o: { id: string }) => o.id))
      .toEqual([stixIndicatorId('phone', '+8617100004321')]);
    const future = (await stixExport(officer, `?since=${encodeURIComponent('2999-01-01T00:00:00Z')}`)).bundle;
    expect(future.objects.map((o: { type: string }) => o.type)).toEqual(['identity']);
    expect(bundleSchema(future)).toBe(true);

    const bad = await t.api.as(officer).get('/api/v1/indicators/export.stix?status=rumoured&since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['since', 'status']);
  });

  it('when each role asks, then every role gets it and an anonymous caller gets 401', async () => {
    const roles: (typeof ROLES)[number][] = ['admin', 'supervisor', 'desk_officer', 'liaison', 'partner_system'];
    for (const role of roles) {
      const user = await t.factories.user({ role, institutionId: role === 'liaison' || role === 'partner_system' ? bank.id : null });
      expect({ role, stix: (await t.api.as(user).get('/api/v1/indicators/export.stix')).status, misp: (await t.api.as(user).get('/api/v1/indicators/export.misp')).status })
        .toEqual({ role, stix: 200, misp: 200 });
    }
    expect((await t.api.raw().get('/api/v1/indicators/export.stix')).status).toBe(401);
    expect((await t.api.raw().get('/api/v1/indicators/export.misp')).status).toBe(401);
  });
});

describe('GET /indicators/export.misp', () => {
  it('when exported, then it is one MISP event with one typed, tagged attribute per indicator, each uuid stable', async () => {
    const res = await t.api.as(platformLiaison).get('/api/v1/indicators/export.misp');
    expect(res.status).toBe(200);
    const event = res.body.Event;
    expect(event).toMatchObject({ uuid: expect.any(String), info: expect.any(String), Orgc: { name: t.config.centerName } });
    const byUuid = new Map((event.Attribute as Record<string, any>[]).map((a) => [a.uuid, a]));
    const types = REPORTED.map((r) => {
      const a = byUuid.get(mispAttributeUuid(r.kind, r.normalized));
      return a && [a.type, a.category, a.value, a.Tag[0].name];
    });
    expect(types).toEqual([
      ['phone-number', 'Financial fraud', '+8617100004321', 'afrc:kind="phone"'],
      ['phone-number', 'Financial fraud', '95588-REFUND', 'afrc:kind="sms_sender"'],
      ['url', 'Network activity', 'http://pay-refund.example/claim', 'afrc:kind="url"'],
      ['domain', 'Network activity', 'pay-refund.example', 'afrc:kind="domain"'],
      ['bank-account-nr', 'Financial fraud', '6222021234560001', 'afrc:kind="bank_account"'],
      ['bank-account-nr', 'Financial fraud', "o'brien\\pay", 'afrc:kind="payment_account"'],
      ['text', 'Social network', 'wxid_refund88', 'afrc:kind="im_account"'],
    ]);
    const again = (await t.api.as(officer).get('/api/v1/indicators/export.misp')).body.Event;
    expect(again.uuid).toBe(event.uuid);
    expect(again.Attribute.map((a: { uuid: string }) => a.uuid).sort()).toEqual(event.Attribute.map((a: { uuid: string }) => a.uuid).sort());
    expect(mispAttributeUuid('domain', 'pay-refund.example')).toBe(uuidv5('domain:pay-refund.example', '0b7c4e2a-91d6-4a38-8f0e-3d6a2c5b9e14'));
  });
});

describe('POST /feeds with standard documents', () => {
  it('when a partner sends a STIX bundle from the corpus (APT1), then its simple domain indicators are found by lookup and every other object is a rejected item with its code', async () => {
    const bundle = readCorpusJson<{ objects: { type: string; id: string; pattern?: string }[] }>('stix21/cti-stix2-json-schemas/examples/threat-reports/apt1.json');
    const batch = await feed(platformLiaison, 'application/stix+json', JSON.stringify(bundle));

    const domains = bundle.objects.filter((o) => o.type === 'indicator' && /^\[domain-name:value = '[^']+'\]$/.test(o.pattern!));
    expect(domains.length).toBe(3);
    expect(batch).toMatchObject({ received: bundle.objects.length, processed: bundle.objects.length, accepted: 3, rejected: bundle.objects.length - 3 });
    const codes = new Map<string, string>(batch.errors.map((e: { externalId: string; code: string }) => [e.externalId, e.code]));
    for (const o of bundle.objects) {
      if (domains.includes(o)) expect(codes.has(o.id)).toBe(false);
      else expect({ id: o.id, code: codes.get(o.id) }).toEqual({ id: o.id, code: o.type === 'indicator' ? 'unsupported_pattern' : 'unsupported_object' });
    }

    const found = await lookup(['hugesoft.org', 'arrowservice.net', 'msnhome.org', 'not-in-the-feed.example'].map((value) => ({ kind: 'domain', value })));
    expect(found.map((r) => [r.value, r.flagged, r.status])).toEqual([
      ['hugesoft.org', true, 'suspected'], ['arrowservice.net', true, 'suspected'], ['msnhome.org', true, 'suspected'], ['not-in-the-feed.example', false, null],
    ]);
    const sighting = await t.db('indicator_sightings as s').join('indicators as i', 'i.id', 's.indicator_id')
      .where({ 'i.value': 'msnhome.org', 's.institution_id': platform.id }).first('s.external_id');
    expect(sighting.external_id).toMatch(/^indicator--/);

    // The same bundle again: every accepted item is a duplicate, nothing new.
    const again = await feed(platformLiaison, 'application/stix+json', JSON.stringify(bundle));
    expect(again).toMatchObject({ accepted: 0, duplicates: 3 });
  });

  it('when a partner sends a MISP event from the corpus, then its domain attributes (top level and in objects) are found by lookup and the rest are rejected items', async () => {
    const text = readCorpus('misp/PyMISP/tests/mispevent_testfiles/existing_event.json');
    const event = JSON.parse(text) as { Attribute: { type: string; value: string }[]; Object: { Attribute: { type: string; value: string }[] }[] };
    const attributes = [...event.Attribute, ...event.Object.flatMap((o) => o.Attribute)];
    const domains = [...new Set(attributes.filter((a) => a.type === 'domain').map((a) => a.value))];
    expect(domains.length).toBeGreaterThanOrEqual(7);

    const batch = await feed(platformLiaison, 'application/vnd.misp+json', text);
    expect(batch.received).toBe(attributes.length);
    expect(batch.accepted + batch.duplicates).toBe(attributes.filter((a) => a.type === 'domain').length);
    expect(batch.rejected).toBe(attributes.filter((a) => a.type !== 'domain').length);
    expect(new Set(batch.errors.map((e: { code: string }) => e.code))).toEqual(new Set(['unsupported_attribute_type']));

    const found = await lookup(domains.map((value) => ({ kind: 'domain', value })));
    expect(found.filter((r) => !r.flagged)).toEqual([]);
  });

  it('when our own STIX and MISP exports are fed back by a partner, then every indicator is accepted under its own kind', async () => {
    const { bundle } = await stixExport(officer);
    const stix = await feed(platformLiaison, 'application/stix+json', JSON.stringify(bundle));
    expect(stix.rejected).toBe(1); // the center's identity
    expect(stix.errors[0]).toMatchObject({ code: 'unsupported_object', externalId: bundle.objects[0].id });
    expect(stix.accepted + stix.duplicates).toBe(bundle.objects.length - 1);
    const misp = (await t.api.as(officer).get('/api/v1/indicators/export.misp')).text;
    const back = await feed(bankLiaison, 'application/vnd.misp+json', misp);
    expect(back.rejected).toBe(0);
    const sightings = await t.db('indicator_sightings as s').join('indicators as i', 'i.id', 's.indicator_id')
      .where({ 's.institution_id': bank.id, 's.batch_id': (await t.db('feed_batches').where({ institution_id: bank.id }).orderBy('created_at', 'desc').first()).id })
      .whereIn('i.kind', ['sms_sender', 'payment_account', 'im_account']).select('i.kind', 'i.value');
    expect(sightings.map((s) => `${s.kind} ${s.value}`).sort()).toEqual(['im_account wxid_refund88', "payment_account o'brien\\pay", 'sms_sender 95588-REFUND']);
  });

  it('when a partner sends X-ARF v4 reports from the corpus, then fraud and phishing URLs are found by lookup; a report of another category is one rejected item', async () => {
    const fraud = await feed(platformLiaison, 'application/vnd.xarf+json', readCorpus('xarf/xarf-spec/samples/v4/content-fraud.json'));
    expect(fraud).toMatchObject({ received: 2, accepted: 2, rejected: 0 });
    const phishing = await feed(platformLiaison, 'application/vnd.xarf+json', readCorpus('xarf/xarf-spec/samples/v4/content-phishing.json'));
    expect(phishing).toMatchObject({ received: 1, accepted: 1 });
    const found = await lookup([
      { kind: 'url', value: 'https://crypto-scam-invest.example.com/guaranteed-returns' },
      { kind: 'domain', value: 'crypto-scam-invest.example.com' },
      { kind: 'url', value: 'http://secure-banking-login.example.com/auth' },
    ]);
    expect(found.map((r) => r.flagged)).toEqual([true, true, true]);

    const ddos = await feed(platformLiaison, 'application/vnd.xarf+json', readCorpus('xarf/xarf-spec/samples/v4/connection-ddos.json'));
    expect(ddos).toMatchObject({ received: 1, accepted: 0, rejected: 1, errors: [expect.objectContaining({ code: 'unsupported_category' })] });
  });

  it('when an X-ARF report lacks a required field or breaks the schema, then it is 400 validation_failed at its path and nothing is stored', async () => {
    const before = await t.db('feed_batches').count<{ count: string }[]>({ count: '*' });
    const fraud = readCorpusJson<Record<string, unknown>>('xarf/xarf-spec/samples/v4/content-fraud.json');
    const cases: [Record<string, unknown>, string][] = [
      [{ ...fraud, url: undefined }, 'url'],
      [{ ...fraud, reporter: { org: 'x', domain: 'x.example' } }, 'reporter.contact'],
      [{ ...fraud, fraud_type: undefined }, 'fraud_type'],
      [{ ...fraud, report_id: 'not-a-uuid' }, 'report_id'],
    ];
    for (const [report, path] of cases) {
      const res = await t.api.as(platformLiaison).post('/api/v1/feeds').set('Content-Type', 'application/vnd.xarf+json').send(JSON.stringify(report));
      expect({ path, status: res.status, code: res.body.error.code }).toEqual({ path, status: 400, code: 'validation_failed' });
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
      expect(res.body.error.details.find((d: { path: string }) => d.path === path).message).toMatch(/X-ARF v4 .*\.json/);
    }
    const after = await t.db('feed_batches').count<{ count: string }[]>({ count: '*' });
    expect(after[0]!.count).toBe(before[0]!.count);
  });

  it('when the document is not a bundle, an event or JSON, or the caller may not feed, then it is refused and nothing is stored', async () => {
    const before = (await t.db('feed_batches').count<{ count: string }[]>({ count: '*' }))[0]!.count;
    const notBundle = await t.api.as(platformLiaison).post('/api/v1/feeds').set('Content-Type', 'application/stix+json').send('{"type":"indicator","id":"indicator--x"}');
    expect(notBundle.status).toBe(400);
    expect(notBundle.body.error.details[0].path).toBe('type');
    const broken = await t.api.as(platformLiaison).post('/api/v1/feeds').set('Content-Type', 'application/vnd.misp+json').send('{"Event": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('malformed_json');
    const notEvent = await t.api.as(platformLiaison).post('/api/v1/feeds').set('Content-Type', 'application/vnd.misp+json').send('{"Event": {"Attribute": 3}}');
    expect(notEvent.status).toBe(400);
    expect(notEvent.body.error.details[0].path).toBe('Event.Attribute');
    const staff = await t.api.as(officer).post('/api/v1/feeds').set('Content-Type', 'application/stix+json').send(readCorpus('stix21/cti-stix2-json-schemas/examples/indicator-for-c2-ip-address.json'));
    expect(staff.status).toBe(403);
    const other = await t.api.as(platformLiaison).post('/api/v1/feeds').set('Content-Type', 'application/vnd.unknown+json').send('{}');
    expect(other.status).toBe(415);
    expect((await t.db('feed_batches').count<{ count: string }[]>({ count: '*' }))[0]!.count).toBe(before);
  });

  it('when another institution asks for a batch, then it is 404', async () => {
    const batch = await feed(platformLiaison, 'application/stix+json', readCorpus('stix21/cti-stix2-json-schemas/examples/indicator-for-c2-ip-address.json'));
    expect(batch).toMatchObject({ received: 1, rejected: 1, errors: [expect.objectContaining({ code: 'unsupported_pattern' })] });
    expect((await t.api.as(bankLiaison).get(`/api/v1/feeds/${batch.batchId}`)).status).toBe(404);
  });
});
