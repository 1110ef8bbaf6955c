import { encodeCursor } from '../../server/http/pagination';
import { reportBody } from '../helpers/bodies';
import { testApp, type TestApp } from '../helpers/test-app';
import type { TestUser } from '../helpers/factories';

// Whatever a client sends, the answer is a 4xx in the contract's shape and nothing is half-written.
let t: TestApp;
let officer: TestUser;
let supervisor: TestUser;

beforeAll(async () => {
  t = await testApp();
  await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  officer = await t.factories.user({ role: 'desk_officer' });
  supervisor = await t.factories.user({ role: 'supervisor' });
});
afterAll(() => t.close());

const reportCount = async () => Number((await t.db('reports').count({ n: '*' }))[0]!.n);

it('answers text with a NUL character with 400 and writes nothing', async () => {
  const before = await reportCount();
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({ victim: { name: 'Wang\u0000Fang' } }));
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('validation_failed');
  expect(await reportCount()).toBe(before);

  const login = await t.api.raw().post('/api/v1/auth/login').send({ username: 'a\u0000b', password: 'whatever-password' });
  expect(login.status).toBe(400);
  expect((await t.api.as(officer).get('/api/v1/reports?q=%00abc')).status).toBe(400);
});

it('answers a forged list cursor with 400', async () => {
  const cursor = encodeCursor(['not-a-date', 'not-a-uuid']);
  for (const path of ['/api/v1/reports', '/api/v1/tasks']) {
    const res = await t.api.as(officer).get(`${path}?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  }
});

it('answers transfers adding up beyond what can be recorded with 400 on transfers', async () => {
  const huge = Number.MAX_SAFE_INTEGER;
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    transfers: [{ toAccount: '6222021234567890', amountMinor: huge }, { toAccount: '6222021234567891', amountMinor: huge }],
  }));
  expect(res.status).toBe(400);
  // Each is above MAX_AMOUNT_MINOR too; the sum is refused as well.
  expect(res.body.error.details).toEqual(expect.arrayContaining([
    expect.objectContaining({ path: 'transfers' }), expect.objectContaining({ path: 'transfers.1.amountMinor' }),
  ]));
});

it('answers a date outside the calendar the database keeps with 400', async () => {
  const res = await t.api.as(supervisor).get('/api/v1/stats/summary?from=0000-01-01&to=0000-01-02');
  expect(res.status).toBe(400);
});

it('refuses to send a transfer to the police center, which has no worker and no liaisons', async () => {
  const police = await t.factories.institution({ kind: 'police' });
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    transfers: [{ toAccount: '6222021234567890', toInstitutionId: police.id, amountMinor: 100 }],
  }));
  expect(res.status).toBe(400);
  expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'transfers.0.toInstitutionId' })]);
});
