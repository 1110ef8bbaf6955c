import { testApp, type TestApp } from '../helpers/test-app';
import type { TestInstitution, TestUser } from '../helpers/factories';

// Long feeds are stored in several blocks, checked in segments and applied in two lanes; tiny
// segments and chunks make a short feed take those paths.
let t: TestApp;
let carrier: TestInstitution;
let liaison: TestUser;

beforeAll(async () => {
  t = await testApp({ FEED_SEGMENT_SIZE: '3', FEED_CHUNK_SIZE: '2' });
  carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  await t.factories.institution({ kind: 'platform', routes: [{ indicatorKind: 'url', prefix: '' }] });
  liaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
});
afterAll(() => t.close());

const item = (externalId: string, kind: string, value: string, confidence = 'suspected') =>
  JSON.stringify({ type: 'fraud_indicator', externalId, indicator: { kind, value }, confidence, observedAt: '2026-11-28T09:00:00+08:00' });

it('when a feed spans several segments, then every item is counted once, duplicates across segments included', async () => {
  const lines = [
    item('a1', 'phone', '+86 171 1000 0001'),
    item('b1', 'phone', '+86 171 1000 0002'),
    item('c1', 'phone', '+86 171 1000 0003'),
    '{not json',
    item('d1', 'phone', '+8617110000001'), // the same number as a1, another sighting
    item('e1', 'url', 'http://refund.example/pay'),
    item('a1', 'phone', '+86 171 1000 0009'), // a repeat of a1's externalId: a duplicate, not applied
    item('g1', 'phone', '+86 171 1000 0004', 'confirmed'),
    item('h1', 'phone', '+86 171 1000 0005'),
    item('i1', 'bank_account', '6222 0200 0000 0001'),
    item('j1', 'phone', '+86 171 1000 0006'),
  ];
  const res = await t.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(lines.join('\n') + '\n');
  expect(res.status).toBe(202);
  expect(res.body.received).toBe(11);
  const batchId = res.body.batchId as string;
  // Stored as blocks of at most a segment's items; nothing is checked before the worker runs.
  const blocks = await t.db('feed_blocks').where({ batch_id: batchId }).orderBy('first_idx');
  expect(blocks.map((b) => [b.first_idx, b.item_count])).toEqual([[0, 3], [3, 3], [6, 3], [9, 2]]);
  expect(await t.db('feed_items').where({ batch_id: batchId })).toHaveLength(0);

  await t.deps.services.feeds.processBatch(batchId);
  const batch = (await t.api.as(liaison).get(`/api/v1/feeds/${batchId}`)).body;
  expect(batch).toMatchObject({ status: 'done', received: 11, processed: 11, accepted: 9, duplicates: 1, rejected: 1 });
  expect(batch.errors).toEqual([expect.objectContaining({ index: 3, code: 'malformed_json' })]);
  expect(await t.db('feed_items').where({ batch_id: batchId })).toHaveLength(9);

  const sightings = await t.db('indicator_sightings').where({ institution_id: carrier.id });
  expect(sightings).toHaveLength(9);
  expect(await t.db('indicators').where({ kind: 'phone', value: '+8617110000001' }).first()).toBeDefined();
  expect(await t.db('indicators').where({ kind: 'phone', value: '+8617110000009' }).first()).toBeUndefined();
  expect(Number((await t.db('indicators').count({ n: '*' }))[0]!.n)).toBe(8);

  const blocking = await t.db('tasks').where({ kind: 'block_number', target_value: '+8617110000004' });
  expect(blocking).toEqual([expect.objectContaining({ institution_id: carrier.id, status: 'queued' })]);

  // Working the same batch again changes nothing.
  await t.deps.services.feeds.processBatch(batchId);
  expect(await t.db('indicator_sightings').where({ institution_id: carrier.id })).toHaveLength(9);
  expect(await t.db('tasks').where({ kind: 'block_number' })).toHaveLength(1);
});

it('when two runners work one batch at once, then every item is checked and applied once', async () => {
  const lines = Array.from({ length: 14 }, (_, i) => item(`two-${i}`, 'phone', `+86 171 2000 ${String(i).padStart(4, '0')}`));
  lines.splice(5, 0, item('two-3', 'phone', '+86 171 2999 0000')); // a repeat of two-3: a duplicate
  const res = await t.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(lines.join('\n'));
  expect(res.status).toBe(202);
  const batchId = res.body.batchId as string;

  expect(await Promise.all([t.deps.services.feeds.processBatch(batchId), t.deps.services.feeds.processBatch(batchId)])).toEqual(['done', 'done']);
  const batch = (await t.api.as(liaison).get(`/api/v1/feeds/${batchId}`)).body;
  expect(batch).toMatchObject({ status: 'done', received: 15, processed: 15, accepted: 14, duplicates: 1, rejected: 0 });
  expect(await t.db('feed_items').where({ batch_id: batchId })).toHaveLength(14);
  expect(await t.db('indicator_sightings').where({ batch_id: batchId })).toHaveLength(14);
});

it('when one institution sends two feeds repeating each other in opposite order, worked at once, then each externalId is taken once', async () => {
  const items = Array.from({ length: 12 }, (_, i) => item(`pair-${i}`, 'phone', `+86 171 3000 ${String(i).padStart(4, '0')}`));
  const send = async (lines: string[]) => {
    const res = await t.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(lines.join('\n'));
    expect(res.status).toBe(202);
    return res.body.batchId as string;
  };
  const first = await send(items);
  const second = await send([...items].reverse());

  expect(await Promise.all([t.deps.services.feeds.processBatch(first), t.deps.services.feeds.processBatch(second)])).toEqual(['done', 'done']);
  const batches = await Promise.all([first, second].map(async (id) => (await t.api.as(liaison).get(`/api/v1/feeds/${id}`)).body));
  for (const b of batches) expect(b).toMatchObject({ status: 'done', received: 12, processed: 12, rejected: 0 });
  expect(batches[0].accepted + batches[1].accepted).toBe(12);
  expect(batches[0].duplicates + batches[1].duplicates).toBe(12);
  const taken = await t.db('feed_items').whereIn('batch_id', [first, second]).select('external_id');
  expect(taken.map((r) => r.external_id).sort()).toEqual(items.map((_, i) => `pair-${i}`).sort());
});
