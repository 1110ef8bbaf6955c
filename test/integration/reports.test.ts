import { partnerQueueName } from '../../server/queues/names';
import { reportBody } from '../helpers/bodies';
import { testApp, type TestApp, } from '../helpers/test-app';
import type { TestInstitution, TestUser } from '../helpers/factories';

let t: TestApp;
let icbc: TestInstitution;
let ccb: TestInstitution;
let unicom: TestInstitution;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp();
  icbc = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  ccb = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '621700' }] });
  unicom = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

const counts = async () => {
  const tables = ['reports', 'transfers', 'indicators', 'report_indicators', 'tasks', 'events', 'idempotency_keys'];
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number((await t.db(table).count({ n: '*' }))[0]!.n);
  return out;
};

describe('POST /api/v1/reports', () => {
  it('writes the report, two transfers, two indicators, four tasks and their events, and queues each routed task', async () => {
    const before = await counts();
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [
        { toAccount: '6222 0212 3456 7890', toAccountName: 'Li Ming', amountMinor: 5000000 },
        { toAccount: '6217-0000-1111-2222', amountMinor: 1250050, transferredAt: '2026-11-28T09:45:00+08:00' },
      ],
      indicators: [{ kind: 'phone', value: '+86 171 0000 1234' }, { kind: 'url', value: 'HTTP://Pay-Refund.example/x?utm_source=sms#top' }],
    }));

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'open', currency: 'CNY', reportedLossMinor: 6250050 });
    expect(res.body.caseNumber).toMatch(/^FR-\d{8}-\d{6}$/);
    const after = await counts();
    expect(after.reports - before.reports).toBe(1);
    expect(after.transfers - before.transfers).toBe(2);
    expect(after.indicators - before.indicators).toBe(2);
    expect(after.tasks - before.tasks).toBe(4);
    // one event per task plus the report's own
    expect(after.events - before.events).toBe(5);

    const tasks = await t.db('tasks').where({ report_id: res.body.id }).orderBy('created_at');
    const byTarget = Object.fromEntries(tasks.map((x) => [x.target_value, x]));
    expect(byTarget['6222021234567890']).toMatchObject({ kind: 'intercept_funds', institution_id: icbc.id, status: 'queued', amount_minor: 5000000 });
    expect(byTarget['6217000011112222']).toMatchObject({ kind: 'intercept_funds', institution_id: ccb.id, status: 'queued', amount_minor: 1250050 });
    expect(byTarget['+8617100001234']).toMatchObject({ kind: 'block_number', institution_id: unicom.id, status: 'queued' });
    expect(byTarget['http://pay-refund.example/x']).toMatchObject({ kind: 'takedown_url', institution_id: null, status: 'unrouted' });

    expect(await t.queueJobIds(partnerQueueName(icbc.id))).toContain(byTarget['6222021234567890'].id);
    expect(await t.queueJobIds(partnerQueueName(ccb.id))).toContain(byTarget['6217000011112222'].id);
    expect(await t.queueJobIds(partnerQueueName(unicom.id))).toContain(byTarget['+8617100001234'].id);

    const responseTask = res.body.tasks.find((x: { target: { value: string } }) => x.target.value === '6222021234567890');
    expect(responseTask).toMatchObject({ kind: 'intercept_funds', institutionId: icbc.id, status: 'queued', amountMinor: 5000000, parentTaskId: null, depth: 1 });
    expect(new Date(responseTask.dueAt).getTime()).toBeGreaterThan(Date.now());
  });

  it('sends a transfer to the institution the officer named, over the account routes', async () => {
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: '6222021234567890', toInstitutionId: ccb.id, amountMinor: 100 }],
      indicators: [],
    }));
    expect(res.status).toBe(201);
    expect(res.body.tasks[0]).toMatchObject({ institutionId: ccb.id, status: 'queued' });
  });

  it('gives an account that is both a transfer and an indicator one interception task, not a second freeze task', async () => {
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: '6222 0212 0000 0042', amountMinor: 100 }],
      indicators: [{ kind: 'bank_account', value: '6222021200000042' }],
    }));
    expect(res.status).toBe(201);
    expect(res.body.tasks.map((x: { kind: string }) => x.kind)).toEqual(['intercept_funds']);
    expect(res.body.indicators).toEqual([expect.objectContaining({ kind: 'bank_account', value: '6222021200000042' })]);
  });

  it.each([
    ['a fractional amount', 12.5, 'transfers.0.amountMinor'],
    ['a negative amount', -100, 'transfers.0.amountMinor'],
    ['an amount sent as a string', '100', 'transfers.0.amountMinor'],
  ])('rejects %s with the dotted path and writes nothing', async (_label, amountMinor, path) => {
    const before = await counts();
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: '6222021234567890', amountMinor: amountMinor as number }],
    }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    expect(await counts()).toEqual(before);
  });

  it('rejects values that cannot be normalized, naming each field, and writes nothing', async () => {
    const before = await counts();
    const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: '12-34', amountMinor: 100 }, { toAccount: '6222021234567890', toInstitutionId: 'no-such-bank', amountMinor: 100 }],
      indicators: [{ kind: 'phone', value: 'call me maybe' }],
    }));
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(
      ['indicators.0.value', 'transfers.0.toAccount', 'transfers.1.toInstitutionId'],
    );
    expect(await counts()).toEqual(before);
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const res = await t.api.as(officer).post('/api/v1/reports').set('Content-Type', 'application/json').send('{"channel": "hotline",');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('malformed_json');
  });

  it('answers a form-encoded body with 415', async () => {
    const res = await t.api.as(officer).post('/api/v1/reports').type('form').send('channel=hotline');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('refuses a liaison (403) and an anonymous caller (401)', async () => {
    const liaison = await t.factories.user({ role: 'liaison', institutionId: icbc.id });
    const before = await counts();
    expect((await t.api.as(liaison).post('/api/v1/reports').send(reportBody())).status).toBe(403);
    const anon = await t.api.raw().post('/api/v1/reports').send(reportBody());
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe('unauthorized');
    expect(await counts()).toEqual(before);
  });

  it('replays the first response for a repeated Idempotency-Key and refuses the key with another body', async () => {
    const body = reportBody({ narrative: 'idempotency' });
    const first = await t.api.as(officer).post('/api/v1/reports').set('Idempotency-Key', 'call-123').send(body);
    expect(first.status).toBe(201);
    const before = await counts();
    const again = await t.api.as(officer).post('/api/v1/reports').set('Idempotency-Key', 'call-123').send(body);
    expect(again.status).toBe(201);
    // The first answer again, with a new access code (the first is never stored); the retry's event is its only write.
    const { victimAccessCode: firstCode, ...firstBody } = first.body;
    const { victimAccessCode: againCode, ...againBody } = again.body;
    expect(againBody).toEqual(firstBody);
    expect(againCode).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(againCode).not.toBe(firstCode);
    expect(await counts()).toEqual({ ...before, events: before.events + 1 });
    const stored = await t.db('idempotency_keys').where({ key: 'call-123' }).first();
    expect(JSON.stringify(stored.response_body)).not.toContain(firstCode);

    const other = await t.api.as(officer).post('/api/v1/reports').set('Idempotency-Key', 'call-123').send({ ...body, narrative: 'changed' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await counts()).toEqual({ ...before, events: before.events + 1 });
  });

  it('creates exactly one report when the same key arrives twice at once', async () => {
    const body = reportBody({ narrative: 'concurrent retry' });
    const before = await counts();
    const [a, b] = await Promise.all([
      t.api.as(officer).post('/api/v1/reports').set('Idempotency-Key', 'race-1').send(body),
      t.api.as(officer).post('/api/v1/reports').set('Idempotency-Key', 'race-1').send(body),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).toBe(b.body.id);
    expect((await counts()).reports - before.reports).toBe(1);
  });
});

describe('GET /api/v1/reports', () => {
  it('reads one report with transfers, indicators, tasks, linked reports and its timeline', async () => {
    const first = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      transfers: [{ toAccount: '6222029999000011', amountMinor: 300000 }],
      indicators: [{ kind: 'im_account', value: 'Scammer_01' }],
    }));
    const second = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      victim: { name: 'Zhao Lei' },
      transfers: [{ toAccount: '6222 0299 9900 0011', amountMinor: 800000 }],
      indicators: [{ kind: 'phone', value: '13912345678' }],
    }));
    const res = await t.api.as(officer).get(`/api/v1/reports/${second.body.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: second.body.id,
      victim: { name: 'Zhao Lei', phone: null, idNumber: null },
      transfers: [{ toAccount: '6222029999000011', amountMinor: 800000, currency: 'CNY' }],
      indicators: [{ kind: 'phone', value: '+8613912345678', rawValue: '13912345678', status: 'suspected' }],
    });
    expect(res.body.tasks).toHaveLength(2);
    expect(res.body.linkedReports).toEqual([
      expect.objectContaining({ id: first.body.id, shared: [{ kind: 'bank_account', value: '6222029999000011' }] }),
    ]);
    expect(res.body.events.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(['report.created', 'task.queued', 'task.unrouted']));
  });

  it('answers 404 for an unknown or malformed id', async () => {
    expect((await t.api.as(officer).get('/api/v1/reports/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await t.api.as(officer).get('/api/v1/reports/not-an-id')).status).toBe(404);
  });

  it('filters, searches and pages with a cursor', async () => {
    const tag = `Victim-${Date.now()}`;
    for (const fraudType of ['romance', 'romance', 'loan'] as const) {
      await t.api.as(officer).post('/api/v1/reports').send(reportBody({ fraudType, victim: { name: tag } }));
    }
    const romance = await t.api.as(officer).get(`/api/v1/reports?q=${tag}&fraudType=romance&limit=1`);
    expect(romance.status).toBe(200);
    expect(romance.body.items).toHaveLength(1);
    expect(romance.body.items[0]).toMatchObject({ fraudType: 'romance', victimName: tag });
    expect(romance.body.items[0]).not.toHaveProperty('victim');
    const next = await t.api.as(officer).get(`/api/v1/reports?q=${tag}&fraudType=romance&limit=1&cursor=${romance.body.nextCursor}`);
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(romance.body.items[0].id);
    expect(next.body.nextCursor).toBeNull();

    const bad = await t.api.as(officer).get('/api/v1/reports?limit=500');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe('limit');
  });
});
