import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createFeedWorker } from '../../workers/feed-worker';
import { testApp, type TestApp } from '../helpers/test-app';
import type { TestInstitution, TestUser } from '../helpers/factories';

let t: TestApp;
let carrier: TestInstitution;
let bank: TestInstitution;
let platform: TestInstitution;
let carrierSystem: TestUser;
let bankLiaison: TestUser;
let platformLiaison: TestUser;

beforeAll(async () => {
  t = await testApp();
  carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  bank = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  platform = await t.factories.institution({ kind: 'platform', routes: [{ indicatorKind: 'url', prefix: '' }] });
  carrierSystem = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
  bankLiaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  platformLiaison = await t.factories.user({ role: 'liaison', institutionId: platform.id });
});
afterAll(() => t.close());

const uniq = () => randomBytes(4).toString('hex');
const phoneNo = () => `+86 171 ${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
const e164 = (spaced: string) => spaced.replace(/\s/g, '');

const indicatorItem = (over: Record<string, unknown> = {}) => ({
  type: 'fraud_indicator',
  externalId: `ext-${uniq()}`,
  indicator: { kind: 'phone', value: phoneNo() },
  confidence: 'suspected',
  observedAt: '2026-11-28T09:00:00+08:00',
  ...over,
});

const ndjson = (lines: (object | string)[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';

const indicatorRow = (kind: string, value: string) => t.db('indicators').where({ kind, value }).first();

/** Items stored for a batch, as the blocks that hold them say. */
async function storedItems(batchId: string): Promise<number> {
  const [{ n }] = await t.db('feed_blocks').where({ batch_id: batchId }).sum({ n: 'item_count' });
  return Number(n ?? 0);
}

async function processed(batchId: string, as: TestUser) {
  await t.deps.services.feeds.processBatch(batchId);
  const res = await t.api.as(as).get(`/api/v1/feeds/${batchId}`);
  expect(res.status).toBe(200);
  return res.body;
}

describe('POST /feeds (JSON)', () => {
  it('when a feed mixes good and bad items, then the bad ones are rejected alone with index and code, and the rest are applied', async () => {
    const good1 = indicatorItem();
    const good2 = indicatorItem({ indicator: { kind: 'url', value: 'HTTP://Pay-Refund.example/x?utm_source=sms' }, note: 'seen in SMS' });
    const unknownType = { type: 'weather_report', externalId: 'w-1' };
    const badField = indicatorItem({ confidence: 'maybe' });
    const badValue = indicatorItem({ indicator: { kind: 'phone', value: 'call me' } });

    const res = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: [good1, unknownType, good2, badField, badValue] });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ batchId: expect.any(String), received: 5, status: 'processing' });
    expect(await t.queueJobIds('feeds')).toContain(res.body.batchId);
    // Stored before the answer, every item as it came; checked and applied by the worker.
    expect(await storedItems(res.body.batchId)).toBe(5);
    expect(await t.db('feed_items').where({ batch_id: res.body.batchId })).toHaveLength(0);

    const batch = await processed(res.body.batchId, carrierSystem);
    expect(batch).toMatchObject({
      batchId: res.body.batchId, status: 'done', received: 5, processed: 5, accepted: 2, duplicates: 0, rejected: 3,
    });
    expect(batch.errors).toEqual([
      { index: 1, externalId: 'w-1', code: 'unknown_type', message: expect.any(String) },
      { index: 3, externalId: badField.externalId, code: 'validation_failed', message: expect.stringContaining('confidence') },
      { index: 4, externalId: badValue.externalId, code: 'validation_failed', message: expect.stringContaining('indicator.value') },
    ]);

    const phone = await indicatorRow('phone', e164(good1.indicator.value as string));
    expect(phone).toMatchObject({ status: 'suspected' });
    const url = await indicatorRow('url', 'http://pay-refund.example/x');
    expect(url).toMatchObject({ status: 'suspected' });
    const sightings = await t.db('indicator_sightings').where({ indicator_id: url.id });
    expect(sightings).toEqual([expect.objectContaining({ institution_id: carrier.id, confidence: 'suspected', note: 'seen in SMS', external_id: good2.externalId })]);
    expect(new Date(sightings[0].observed_at).toISOString()).toBe('2026-11-28T01:00:00.000Z');
  });

  it('when the envelope is not { items: [...] } or not JSON, then it is a 400 and nothing is stored', async () => {
    const before = await t.db('feed_batches').count<{ count: string }[]>('* as count');
    const notArray = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: 'nope' });
    expect(notArray.status).toBe(400);
    expect(notArray.body.error).toMatchObject({ code: 'validation_failed', details: [expect.objectContaining({ path: 'items' })] });
    const broken = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/json').send('{"items": [');
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('malformed_json');
    expect(await t.db('feed_batches').count<{ count: string }[]>('* as count')).toEqual(before);
  });

  it('when someone other than a partner submits, then it is 403; without a token 401', async () => {
    const officer = await t.factories.user({ role: 'desk_officer' });
    expect((await t.api.as(officer).post('/api/v1/feeds').send({ items: [] })).status).toBe(403);
    expect((await t.api.raw().post('/api/v1/feeds').send({ items: [] })).status).toBe(401);
  });
});

describe('POST /feeds (NDJSON)', () => {
  it('when lines are streamed, then blank lines are skipped, broken lines rejected alone, the rest applied', async () => {
    const a = indicatorItem();
    const b = indicatorItem({ indicator: { kind: 'bank_account', value: '6222 0200 1111 2222' } });
    const body = ndjson([a, '', '{"type": "fraud_indicator", "externalId": "half', b, '[1,2]', indicatorItem({ observedAt: 'yesterday' })]);
    const res = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(body);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ received: 5, status: 'processing' });

    const batch = await processed(res.body.batchId, carrierSystem);
    expect(batch).toMatchObject({ status: 'done', received: 5, processed: 5, accepted: 2, rejected: 3, duplicates: 0, errorsTruncated: false });
    expect(batch.errors.map((e: { index: number; code: string }) => [e.index, e.code])).toEqual([
      [1, 'malformed_json'], [3, 'validation_failed'], [4, 'validation_failed'],
    ]);
    expect(await indicatorRow('bank_account', '6222020011112222')).toBeDefined();
  });

  it('when a line holds a NUL byte or bytes that are not UTF-8, then that line alone is rejected', async () => {
    const good = indicatorItem();
    const body = Buffer.concat([
      Buffer.from(`${JSON.stringify(good)}\n{"type":"fraud_indicator","externalId":"nul-1","indicator":{"kind":"phone","value":"+86 171 0000 `),
      Buffer.from([0x00]),
      Buffer.from(`0001"},"confidence":"suspected","observedAt":"2026-11-28T09:00:00+08:00"}\n`),
      Buffer.from('{"type":"fraud_indicator","externalId":"bad-utf8","indicator":{"kind":"bank_account","value":"6222 0200 '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"},"confidence":"suspected","observedAt":"2026-11-28T09:00:00+08:00"}\n'),
    ]);
    const res = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(body);
    expect(res.status).toBe(202);
    expect(res.body.received).toBe(3);
    const batch = await processed(res.body.batchId, carrierSystem);
    expect(batch).toMatchObject({ status: 'done', received: 3, processed: 3, accepted: 1, rejected: 2 });
    expect(batch.errors.map((e: { index: number; code: string }) => [e.index, e.code])).toEqual([[1, 'malformed_json'], [2, 'validation_failed']]);
    expect(await indicatorRow('phone', e164(good.indicator.value as string))).toBeDefined();
  });

  it('when the same feed comes twice, then the second is all duplicates and nothing is booked twice', async () => {
    const items = [indicatorItem(), indicatorItem({ confidence: 'confirmed' }), indicatorItem()];
    const first = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson(items));
    expect(first.status).toBe(202);
    await processed(first.body.batchId, carrierSystem);
    const value = e164(items[1]!.indicator.value as string);
    const ind = await indicatorRow('phone', value);
    const sightingsBefore = await t.db('indicator_sightings').whereIn('external_id', items.map((i) => i.externalId));
    const tasksBefore = await t.db('tasks').where({ indicator_id: ind.id });
    expect(sightingsBefore).toHaveLength(3);
    expect(tasksBefore).toHaveLength(1);

    const second = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson(items));
    expect(second.status).toBe(202);
    expect(second.body).toEqual({ batchId: expect.any(String), received: 3, status: 'processing' });
    const batch = await processed(second.body.batchId, carrierSystem);
    expect(batch).toMatchObject({ status: 'done', received: 3, processed: 3, accepted: 0, duplicates: 3, rejected: 0, errors: [] });
    await t.deps.services.feeds.processBatch(second.body.batchId);
    expect(await t.db('indicator_sightings').whereIn('external_id', items.map((i) => i.externalId))).toHaveLength(3);
    expect(await t.db('tasks').where({ indicator_id: ind.id })).toHaveLength(1);

    // The same externalId from another institution is that institution's own item.
    const fromBank = await t.api.as(bankLiaison).post('/api/v1/feeds').send({ items: [items[0]] });
    expect((await processed(fromBank.body.batchId, bankLiaison)).accepted).toBe(1);
  });

  it('when an item repeats inside one feed, then the later copy is a duplicate', async () => {
    const item = indicatorItem();
    const res = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson([item, item]));
    const batch = await processed(res.body.batchId, carrierSystem);
    expect(batch).toMatchObject({ received: 2, accepted: 1, duplicates: 1, processed: 2, status: 'done' });
  });
});

describe('blocking tasks from feeds', () => {
  it('when a partner confirms an indicator, then one blocking task is queued at its routed institution once a second institution backs it, and not again while open', async () => {
    const value = phoneNo();
    // A bank's word alone on a carrier's number: suspected, no task at the carrier.
    const res = await t.api.as(bankLiaison).post('/api/v1/feeds').send({ items: [indicatorItem({ indicator: { kind: 'phone', value }, confidence: 'confirmed' })] });
    await processed(res.body.batchId, bankLiaison);
    const ind = await indicatorRow('phone', e164(value));
    expect(ind.status).toBe('suspected');
    expect(await t.db('tasks').where({ indicator_id: ind.id })).toHaveLength(0);

    const backed = await t.api.as(platformLiaison).post('/api/v1/feeds').send({ items: [indicatorItem({ indicator: { kind: 'phone', value }, confidence: 'confirmed' })] });
    await processed(backed.body.batchId, platformLiaison);
    expect((await indicatorRow('phone', e164(value))).status).toBe('confirmed');
    const tasks = await t.db('tasks').where({ indicator_id: ind.id });
    expect(tasks).toEqual([expect.objectContaining({ kind: 'block_number', institution_id: carrier.id, status: 'queued', report_id: null, target_value: e164(value) })]);
    expect(await t.queueJobIds(`partner-${carrier.id}`)).toContain(tasks[0].id);

    const again = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: [indicatorItem({ indicator: { kind: 'phone', value }, confidence: 'confirmed' })] });
    await processed(again.body.batchId, carrierSystem);
    expect(await t.db('tasks').where({ indicator_id: ind.id })).toHaveLength(1);
  });

  it('when a second institution reports a suspected indicator, then it gets a blocking task; one suspected sighting does not', async () => {
    const url = `http://refund-${uniq()}.example/claim`;
    const first = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: [indicatorItem({ indicator: { kind: 'url', value: url } })] });
    await processed(first.body.batchId, carrierSystem);
    const ind = await indicatorRow('url', url);
    expect(await t.db('tasks').where({ indicator_id: ind.id })).toHaveLength(0);

    // The same institution again is still one institution.
    const same = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: [indicatorItem({ indicator: { kind: 'url', value: url } })] });
    await processed(same.body.batchId, carrierSystem);
    expect(await t.db('tasks').where({ indicator_id: ind.id })).toHaveLength(0);

    const second = await t.api.as(bankLiaison).post('/api/v1/feeds').send({ items: [indicatorItem({ indicator: { kind: 'url', value: url } })] });
    await processed(second.body.batchId, bankLiaison);
    expect(await t.db('tasks').where({ indicator_id: ind.id })).toEqual([
      expect.objectContaining({ kind: 'takedown_url', institution_id: platform.id, status: 'queued' }),
    ]);
    expect((await indicatorRow('url', url)).status).toBe('suspected');
  });

  it('when a confirmed indicator later comes as suspected, then its status does not go down', async () => {
    const value = phoneNo();
    const items = [
      indicatorItem({ indicator: { kind: 'phone', value }, confidence: 'confirmed' }),
      indicatorItem({ indicator: { kind: 'phone', value }, confidence: 'suspected' }),
    ];
    const res = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items });
    await processed(res.body.batchId, carrierSystem);
    const later = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: [indicatorItem({ indicator: { kind: 'phone', value } })] });
    await processed(later.body.batchId, carrierSystem);
    expect((await indicatorRow('phone', e164(value))).status).toBe('confirmed');
  });
});

describe('task results by feed', () => {
  const system = { id: null, type: 'system', name: 'test' } as const;
  const freezeTask = async () => {
    const [task] = await t.db.transaction((trx) =>
      t.deps.services.engine.create(trx, system, [{
        reportId: null, kind: 'freeze_account', targetKind: 'bank_account', targetValue: `622202${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`,
      }]),
    );
    expect(task!.institutionId).toBe(bank.id);
    return task!;
  };

  it("when a partner answers its task in a feed, then the task is closed like POST /tasks/:id/result; another institution's task is a rejected item", async () => {
    const mine = await freezeTask();
    const closed = await freezeTask();
    await t.api.as(bankLiaison).post(`/api/v1/tasks/${closed.id}/result`).send({ outcome: 'not_found' }).expect(200);
    const [othersTask] = await t.db.transaction((trx) =>
      t.deps.services.engine.create(trx, system, [{ reportId: null, kind: 'takedown_url', targetKind: 'url', targetValue: `https://x-${uniq()}.example/` }]),
    );

    const items = [
      { type: 'task_result', externalId: `r-${uniq()}`, taskId: mine.id, outcome: 'blocked', note: 'account frozen by back office' },
      { type: 'task_result', externalId: `r-${uniq()}`, taskId: othersTask!.id, outcome: 'blocked' },
      indicatorItem(),
      { type: 'task_result', externalId: `r-${uniq()}`, taskId: closed.id, outcome: 'blocked' },
      { type: 'task_result', externalId: `r-${uniq()}`, taskId: mine.id, outcome: 'frozen' },
    ];
    const res = await t.api.as(bankLiaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson(items));
    expect(res.status).toBe(202);
    const batch = await processed(res.body.batchId, bankLiaison);
    expect(batch).toMatchObject({ status: 'done', received: 5, processed: 5, accepted: 2, rejected: 3 });
    expect(batch.errors.map((e: { index: number; code: string; externalId: string }) => [e.index, e.code, e.externalId])).toEqual([
      [1, 'not_found', items[1]!.externalId],
      [3, 'task_closed', items[3]!.externalId],
      [4, 'task_closed', items[4]!.externalId],
    ]);

    const task = await t.db('tasks').where({ id: mine.id }).first();
    expect(task.status).toBe('done');
    const result = await t.db('task_results').where({ task_id: mine.id }).first();
    expect(result).toMatchObject({ outcome: 'blocked', source: 'feed', actor_id: bankLiaison.id, note: 'account frozen by back office' });
    expect((await t.db('tasks').where({ id: othersTask!.id }).first()).status).toBe('queued');
    expect(await t.db('task_results').where({ task_id: othersTask!.id })).toHaveLength(0);
  });

  it('when a job runs the same batch again, then each result takes effect once', async () => {
    const task = await freezeTask();
    const res = await t.api.as(bankLiaison).post('/api/v1/feeds').send({
      items: [{ type: 'task_result', externalId: `r-${uniq()}`, taskId: task.id, outcome: 'not_found', frozenMinor: 5 }],
    });
    // A result that breaks the rules of the task is a rejected item, not a failed job.
    const batch = await processed(res.body.batchId, bankLiaison);
    expect(batch).toMatchObject({ accepted: 0, rejected: 1, errors: [expect.objectContaining({ code: 'validation_failed' })] });

    const ok = await t.api.as(bankLiaison).post('/api/v1/feeds').send({
      items: [{ type: 'task_result', externalId: `r-${uniq()}`, taskId: task.id, outcome: 'blocked' }],
    });
    await Promise.all([t.deps.services.feeds.processBatch(ok.body.batchId), t.deps.services.feeds.processBatch(ok.body.batchId)]);
    const body = (await t.api.as(bankLiaison).get(`/api/v1/feeds/${ok.body.batchId}`)).body;
    expect(body).toMatchObject({ status: 'done', processed: 1, accepted: 1, rejected: 0 });
    expect(await t.db('task_results').where({ task_id: task.id })).toHaveLength(1);
  });
});

describe('GET /feeds/:batchId', () => {
  it("when another institution asks for a batch, then it is 404; the owner and center staff see it", async () => {
    const res = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: [indicatorItem()] });
    expect((await t.api.as(bankLiaison).get(`/api/v1/feeds/${res.body.batchId}`)).status).toBe(404);
    expect((await t.api.as(carrierSystem).get(`/api/v1/feeds/${res.body.batchId}`)).status).toBe(200);
    const supervisor = await t.factories.user({ role: 'supervisor' });
    expect((await t.api.as(supervisor).get(`/api/v1/feeds/${res.body.batchId}`)).status).toBe(200);
    expect((await t.api.as(carrierSystem).get('/api/v1/feeds/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });
});

describe('the feeds queue', () => {
  it('when the worker runs, then a submitted batch is processed to done; a batch whose job was lost is swept back onto the queue', async () => {
    const worker = createFeedWorker(t.deps);
    try {
      const items = Array.from({ length: 30 }, () => indicatorItem());
      const res = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson(items));
      let body;
      for (let i = 0; i < 100; i++) {
        body = (await t.api.as(carrierSystem).get(`/api/v1/feeds/${res.body.batchId}`)).body;
        if (body.status === 'done') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(body).toMatchObject({ status: 'done', received: 30, processed: 30, accepted: 30 });

      // A batch stored while its job never reached the queue store: the sweep finds it and the worker finishes it.
      await worker.pause();
      const lost = await t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: [indicatorItem(), indicatorItem()] });
      const queue = (t.deps.services.feeds as unknown as { queue: { get(): import('../../server/queues/connection').JobQueue } }).queue.get();
      await (await queue.getJob(lost.body.batchId))!.remove();
      await t.db('feed_batches').where({ id: lost.body.batchId }).update({ updated_at: t.db.raw("now() - interval '1 minute'") });
      expect(await t.deps.services.feeds.sweep()).toBe(1);
      expect(await t.queueJobIds('feeds')).toContain(lost.body.batchId);
      worker.resume();
      for (let i = 0; i < 100; i++) {
        body = (await t.api.as(carrierSystem).get(`/api/v1/feeds/${lost.body.batchId}`)).body;
        if (body.status === 'done') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(body).toMatchObject({ status: 'done', accepted: 2 });
    } finally {
      await worker.close();
    }
  });
});

describe('size limit', () => {
  let small: TestApp;
  let liaison: TestUser;
  beforeAll(async () => {
    small = await testApp({ FEED_BODY_LIMIT: '2kb' });
    const inst = await small.factories.institution({ kind: 'carrier' });
    liaison = await small.factories.user({ role: 'liaison', institutionId: inst.id });
  });
  afterAll(() => small.close());

  it('when a feed is over the limit, then it is 413 payload_too_large and nothing is stored', async () => {
    const lines = Array.from({ length: 40 }, () => indicatorItem());
    const nd = await small.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson(lines));
    expect(nd.status).toBe(413);
    expect(nd.body.error.code).toBe('payload_too_large');
    const json = await small.api.as(liaison).post('/api/v1/feeds').send({ items: lines });
    expect(json.status).toBe(413);
    expect(json.body.error.code).toBe('payload_too_large');

    // Without a declared length the bytes are counted as they stream in.
    const req = small.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').set('Transfer-Encoding', 'chunked');
    for (const l of lines) req.write(`${JSON.stringify(l)}\n`);
    const chunked = await req;
    expect(chunked.status).toBe(413);
    expect(await small.db('feed_batches')).toHaveLength(0);
    expect(await small.db('feed_blocks')).toHaveLength(0);

    const fits = await small.api.as(liaison).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson(lines.slice(0, 3)));
    expect(fits.status).toBe(202);
  });
});

describe('a partner that hangs up', () => {
  it('when the connection drops mid-feed, then nothing of it is stored and the next feed goes through', async () => {
    const server = t.app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as import('node:net').AddressInfo;
      const before = await t.db('feed_batches').count({ n: '*' });
      const req = http.request({
        host: '127.0.0.1', port, path: '/api/v1/feeds', method: 'POST',
        headers: { 'Content-Type': 'application/x-ndjson', 'Transfer-Encoding': 'chunked', Authorization: `Bearer ${t.tokenFor(carrierSystem)}` },
      });
      req.on('error', () => undefined);
      for (let i = 0; i < 50; i++) req.write(`${JSON.stringify(indicatorItem())}\n`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      req.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await t.db('feed_batches').count({ n: '*' })).toEqual(before);
      // The store's connection is not left inside its transaction, waiting for the rest of the body.
      const open = await t.db.raw(
        `SELECT state, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
            AND (state LIKE 'idle in transaction%' OR query LIKE 'COPY feed_blocks%')`,
      );
      expect(open.rows).toEqual([]);

      const next = await t.api.as(carrierSystem).post('/api/v1/feeds').set('Content-Type', 'application/x-ndjson').send(ndjson([indicatorItem()]));
      expect(next.status).toBe(202);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('blocking tasks from concurrent batches', () => {
  it('when two institutions confirm the same numbers in batches worked at once, then each number gets one blocking task', async () => {
    const numbers = Array.from({ length: 20 }, () => phoneNo());
    const feedOf = () => numbers.map((value) => indicatorItem({ indicator: { kind: 'phone', value }, confidence: 'confirmed' }));
    const [a, b] = await Promise.all([
      t.api.as(carrierSystem).post('/api/v1/feeds').send({ items: feedOf() }),
      t.api.as(bankLiaison).post('/api/v1/feeds').send({ items: feedOf() }),
    ]);
    expect([a.status, b.status]).toEqual([202, 202]);
    await Promise.all([t.deps.services.feeds.processBatch(a.body.batchId), t.deps.services.feeds.processBatch(b.body.batchId)]);

    const tasks = await t.db('tasks').where({ kind: 'block_number' }).whereIn('target_value', numbers.map(e164));
    expect(tasks).toHaveLength(numbers.length);
    expect(new Set(tasks.map((x) => x.target_value)).size).toBe(numbers.length);
  });
});
