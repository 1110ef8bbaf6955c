import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import { pageSession } from '../helpers/page-session';
import type { TestInstitution, TestUser } from '../helpers/factories';

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const TWICE = (2n * BigInt(MAX)).toString(); // 18014398509481982: no JS number holds it

let t: TestApp;
let supervisor: TestUser;
let officer: TestUser;
let bank: TestInstitution;
let liaison: TestUser;

beforeAll(async () => {
  // The largest amount a transfer may be configured to carry: two of them add up past 2^53.
  t = await testApp({ MAX_AMOUNT_MINOR: String(MAX) });
  supervisor = await t.factories.user({ role: 'supervisor' });
  officer = await t.factories.user({ role: 'desk_officer' });
  bank = await t.factories.institution({ kind: 'bank' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
  for (let i = 0; i < 2; i++) {
    const filed = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
      fraudType: 'investment',
      transfers: [{ toAccount: `6222 0211 1111 111${i}`, toInstitutionId: bank.id, amountMinor: MAX, transferredAt: '2026-11-28T09:30:00+08:00' }],
      indicators: [],
    }));
    expect(filed.status).toBe(201);
    const task = (filed.body.tasks as { id: string }[])[0]!;
    const answered = await t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'frozen', frozenMinor: MAX });
    expect(answered.status).toBe(200);
  }
});
afterAll(() => t.close());

describe('statistics past 2^53', () => {
  it('when two reports of 2^53 - 1 each are filed and frozen, then the summary answers 200 with the exact totals as JSON numbers', async () => {
    const res = await t.api.as(supervisor).get('/api/v1/stats/summary').buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const text = res.body as string;
    // Digit for digit, unquoted: a number in the JSON, not a string and not a rounded float.
    expect(text).toContain(`"reportedLossMinor":${TWICE},`);
    expect(text).toContain(`"lossPreventedMinor":${TWICE},`);
    expect(text).toMatch(new RegExp(`"institutionId":"${bank.id}","lossPreventedMinor":${TWICE},`));
    expect(text).toMatch(new RegExp(`"fraudType":"investment","reports":2,"reportedLossMinor":${TWICE},"lossPreventedMinor":${TWICE}`));
    expect(text).not.toContain('18014398509481984');
    // Still JSON, whatever reads it.
    expect(JSON.parse(text).reports).toBe(2);
  });

  it('when the CSV is exported, then its row carries the exact total in minor and major units', async () => {
    const res = await t.api.as(supervisor).get('/api/v1/stats/export.csv');
    expect(res.status).toBe(200);
    const [head, ...rows] = res.text.trim().split('\r\n');
    const columns = head!.split(',');
    const row = rows.map((r) => r.split(',')).find((r) => r[0] === bank.id)!;
    expect(row[columns.indexOf('lossPreventedMinor')]).toBe(TWICE);
    expect(row[columns.indexOf('lossPrevented')]).toBe('180143985094819.82');
  });

  it('when the supervisor opens the dashboard, then it shows the exact totals', async () => {
    const s = pageSession(t.app);
    await s.login(supervisor.username, supervisor.password);
    const res = await s.get('/dashboard');
    expect(res.status).toBe(200);
    expect(res.text).toContain('¥180,143,985,094,819.82');
    expect(res.text).not.toContain('beyond range');
  });

  it('when a period returns far more than it froze, then the return rate is still exact, as a JSON number, on the API, the CSV and the dashboard', async () => {
    // Money frozen long before and returned in a period of almost no freezing: 10^15 returned on 1 frozen.
    await t.db('stats_daily').insert({ day: '2020-01-15', currency: 'CNY', fraud_type: 'loan', loss_prevented_minor: 1, returned_minor: 1e15 });
    await t.db('stats_institution_daily').insert({ day: '2020-01-15', institution_id: bank.id, currency: 'CNY', loss_prevented_minor: 1, returned_minor: 1e15 });
    const res = await t.api.as(supervisor).get('/api/v1/stats/summary?from=2020-01-01&to=2020-01-31').buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.body as string).toContain('"returnRateBasisPoints":10000000000000000000');
    const csv = await t.api.as(supervisor).get('/api/v1/stats/export.csv?from=2020-01-01&to=2020-01-31');
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(',10000000000000000000');
    const s = pageSession(t.app);
    await s.login(supervisor.username, supervisor.password);
    const page = await s.get('/dashboard?from=2020-01-01&to=2020-01-31');
    expect(page.status).toBe(200);
    expect(page.text).toContain('100000000000000000.00%');
  });
});
