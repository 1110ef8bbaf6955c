import { testApp, type TestApp } from '../helpers/test-app';
import { pageSession } from '../helpers/page-session';
import { FACTORY_PASSWORD, type TestInstitution, type TestUser } from '../helpers/factories';
import { formatMinor } from '../../server/domain/money';
import { localDate } from '../../server/pages/format';

let t: TestApp;
let bank: TestInstitution;
let supervisor: TestUser;
let admin: TestUser;
let officer: TestUser;
let liaison: TestUser;

beforeAll(async () => {
  t = await testApp();
  bank = await t.factories.institution({ kind: 'bank', name: 'Dash Bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  supervisor = await t.factories.user({ role: 'supervisor' });
  admin = await t.factories.user({ role: 'admin' });
  officer = await t.factories.user({ role: 'desk_officer' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });

  const now = new Date().toISOString();
  const report = await t.api.as(officer).post('/api/v1/reports').send({
    channel: 'hotline', fraudType: 'investment', occurredAt: now, victim: { name: 'Dash Victim' },
    transfers: [{ toAccount: '6222021111222233', amountMinor: 5_000_000, transferredAt: now }],
    indicators: [{ kind: 'url', value: 'http://unrouted.example/pay' }],
  });
  expect(report.status).toBe(201);
  const task = report.body.tasks.find((x: { kind: string }) => x.kind === 'intercept_funds');
  const result = await t.api.as(liaison).post(`/api/v1/tasks/${task.id}/result`).send({ outcome: 'partially_frozen', frozenMinor: 3_000_000, version: task.version });
  expect(result.status).toBe(200);
});
afterAll(() => t.close());

async function as(user: TestUser) {
  const s = pageSession(t.app);
  await s.login(user.username, FACTORY_PASSWORD);
  return s;
}

describe('/dashboard', () => {
  it('shows exactly the figures of the stats summary use case', async () => {
    const s = await as(supervisor);
    const res = await s.get('/dashboard');
    expect(res.status).toBe(200);
    const today = localDate(new Date(), t.config.timeZone);
    const daySummary = await t.deps.services.stats.summary({ from: today, to: today });
    const month = await t.deps.services.stats.summary({});
    expect(daySummary.lossPreventedMinor).toBe(3_000_000n);
    const figure = (id: string) => new RegExp(`data-figure="${id}"><span class="label">[^<]*</span><span class="value"><a href="[^"]*">(?:<span aria-hidden="true">⚠ </span>)?([^<]*)<`).exec(res.text)?.[1];
    expect(figure('today')).toBe(formatMinor(daySummary.lossPreventedMinor, 'CNY', 'en'));
    expect(figure('today')).toBe('¥30,000.00');
    expect(figure('prevented')).toBe(formatMinor(month.lossPreventedMinor, 'CNY', 'en'));
    expect(figure('reported')).toBe(formatMinor(month.reportedLossMinor, 'CNY', 'en'));
    expect(figure('rate')).toBe('60.0%');
    expect(figure('unrouted')).toBe(String(month.tasks.unrouted));
    expect(figure('open')).toBe(String(month.tasks.open));
    expect(res.text).toContain('<svg class="chart"');
    expect(res.text).toMatch(/<rect class="bar"[^>]*height="[1-9]/);
    expect(res.text.replace(/&#x3D;/g, '=').replace(/&amp;/g, '&')).toContain(`/api/v1/stats/export.csv?from=${month.from}&to=${month.to}`);
    expect(res.text).toContain('Dash Bank');
  });

  it('serves the CSV export to the signed-in supervisor by the cookie', async () => {
    const s = await as(supervisor);
    const csv = await s.agent.get('/api/v1/stats/export.csv');
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(`${bank.id},3000000`);
  });

  it('assigns an unrouted task from the queue', async () => {
    const carrier = await t.factories.institution({ kind: 'platform', name: 'Web Host' });
    const s = await as(supervisor);
    const page = await s.get('/dashboard');
    const id = /action="\/dashboard\/tasks\/([0-9a-f-]{36})\/assign"/.exec(page.text)![1]!;
    const res = await s.post(`/dashboard/tasks/${id}/assign`, { institutionId: carrier.id });
    expect(res.status).toBe(303);
    const row = await t.db('tasks').where({ id }).first();
    expect(row.institution_id).toBe(carrier.id);
    expect(row.status).toBe('queued');
    const after = await s.get(res.headers.location);
    expect(after.text).toContain('Task assigned to Web Host.');
  });

  it('shows only its own translated sentence for a failed assignment, never text from the link', async () => {
    const s = await as(supervisor);
    const forged = await s.get('/dashboard?error=Your+account+is+suspended.+Call+0800+123');
    expect(forged.status).toBe(200);
    expect(forged.text).not.toContain('Your account is suspended');
    expect(forged.text).not.toContain('notice-error');

    const closed = await t.db('tasks').whereNot({ status: 'unrouted' }).first();
    const res = await s.submit('/dashboard', `/dashboard/tasks/${closed.id}/assign`, { institutionId: bank.id });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/dashboard?error=conflict');
    const after = await s.get(res.headers.location);
    expect(after.text).toContain('That task already has an institution.');
    const zh = pageSession(t.app, 'zh-CN');
    await zh.login(supervisor.username, FACTORY_PASSWORD);
    expect((await zh.get('/dashboard?error=validation_failed')).text).toContain('请选择一个启用中的合作机构。');
  });

  it('shows a bad period beside its field with the default period\'s figures', async () => {
    const s = await as(supervisor);
    const month = { to: localDate(new Date(), t.config.timeZone) };
    const backwards = await s.get('/dashboard?from=2026-11-20&to=2026-11-01');
    expect(backwards.status).toBe(400);
    expect(backwards.text).toMatch(/id="to" name="to" type="date" value="2026-11-01" aria-invalid="true"/);
    expect(backwards.text).toContain('value="2026-11-20"');
    expect(backwards.text).toContain('“From” must not be after “To”.');
    expect(backwards.text).toContain(`– ${month.to}</h2>`);
    expect(backwards.text).toContain('id="loss-prevented"');

    const badDate = await s.get('/dashboard?from=2026-02-30');
    expect(badDate.status).toBe(400);
    expect(badDate.text).toMatch(/id="from"[^>]*aria-invalid="true"[^>]*>\s*<p class="field-error" id="from-error">/);
    expect(badDate.text).toContain('Enter a date as YYYY-MM-DD.');

    const future = await s.get('/dashboard?from=2999-01-01');
    expect(future.status).toBe(400);
    expect(future.text).toMatch(/id="from"[^>]*aria-invalid="true"/);
    expect(future.text).toContain(`– ${month.to}</h2>`);
  });

  it('answers 403 to a desk officer and a liaison', async () => {
    expect((await (await as(officer)).get('/dashboard')).status).toBe(403);
    expect((await (await as(liaison)).get('/dashboard')).status).toBe(403);
  });

  it('speaks Simplified Chinese with the same money format', async () => {
    const s = pageSession(t.app, 'zh-CN');
    await s.login(supervisor.username, FACTORY_PASSWORD);
    const res = await s.get('/dashboard');
    expect(res.text).toContain('挽回损失');
    expect(res.text).toContain('¥30,000.00');
  });
});

describe('admin pages', () => {
  it('creates an institution with routes, then deactivates it', async () => {
    const s = await as(admin);
    const res = await s.submit('/admin/institutions', '/admin/institutions', {
      id: 'page-bank', name: 'Page Bank', kind: 'bank', integration: 'manual', webhookUrl: '', routes: 'bank_account 955880\nphone',
    });
    expect(res.status).toBe(303);
    expect(await t.db('institution_routes').where({ institution_id: 'page-bank' }).orderBy('indicator_kind').select('indicator_kind', 'prefix'))
      .toEqual([{ indicator_kind: 'bank_account', prefix: '955880' }, { indicator_kind: 'phone', prefix: '' }]);
    const off = await s.submit('/admin/institutions', '/admin/institutions/page-bank/deactivate', {});
    expect(off.status).toBe(303);
    expect((await t.db('institutions').where({ id: 'page-bank' }).first()).active).toBe(false);
  });

  it('keeps the typed values and shows the problem beside the field', async () => {
    const s = await as(admin);
    const res = await s.submit('/admin/institutions', '/admin/institutions', {
      id: 'Bad Id!', name: '<i>x</i>', kind: 'bank', integration: 'manual', routes: 'nonsense 1',
    });
    expect(res.status).toBe(400);
    expect(res.text).toContain('value="Bad Id!"');
    expect(res.text).toContain('value="&lt;i&gt;x&lt;/i&gt;"');
    expect(res.text).toMatch(/name="id" value="Bad Id!" aria-invalid="true">\s*<p class="field-error"/);
    expect(res.text).toContain('nonsense');
  });

  it('creates a user', async () => {
    const s = await as(admin);
    const res = await s.submit('/admin/users', '/admin/users', {
      username: 'page-liaison', displayName: 'Page Liaison', role: 'liaison', institutionId: bank.id, password: 'long-enough-password',
    });
    expect(res.status).toBe(303);
    expect(await t.db('users').where({ username: 'page-liaison' }).first()).toMatchObject({ role: 'liaison', institution_id: bank.id });
  });

  it('shows an API client secret once, and never again', async () => {
    const s = await as(admin);
    const res = await s.submit('/admin/api-clients', '/admin/api-clients', { institutionId: bank.id, name: 'Core banking' });
    expect(res.status).toBe(201);
    const secret = /<p class="secret" id="secret">([^<]+)<\/p>/.exec(res.text)![1]!;
    expect(secret.length).toBeGreaterThan(20);
    const list = await s.get('/admin/api-clients');
    expect(list.text).toContain('Core banking');
    expect(list.text).not.toContain(secret);
    const clientId = /<code>([^<]+)<\/code>/.exec(res.text)![1]!;
    const token = await t.api.raw().post('/api/v1/auth/token').send({ clientId, clientSecret: secret });
    expect(token.status).toBe(200);
  });

  it('refuses the admin pages and the queue board to a supervisor', async () => {
    const s = await as(supervisor);
    for (const path of ['/admin/institutions', '/admin/users', '/admin/api-clients', '/admin/queues']) {
      expect((await s.get(path)).status).toBe(403);
    }
  });

  it('shows Bull Board to the admin with a queue per institution', async () => {
    const s = await as(admin);
    const page = await s.get('/admin/queues');
    expect(page.status).toBe(200);
    const api = await s.agent.get('/admin/queues/api/queues?activeQueue=&page=1').set('Accept', 'application/json');
    expect(api.status).toBe(200);
    const names = (api.body.queues as { name: string }[]).map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining([`partner-${bank.id}`, 'feeds', 'maintenance']));
  });

  it('lets Bull Board change state only from its own origin', async () => {
    const s = await as(admin);
    await s.get('/admin/queues');
    const retry = (headers: Record<string, string>) => {
      const req = s.agent.put('/admin/queues/api/queues/feeds/retry/failed').set('Accept', 'application/json').set('Host', 'afrc.test');
      for (const [k, v] of Object.entries(headers)) req.set(k, v);
      return req.send({});
    };
    expect((await retry({ 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
    expect((await retry({ Origin: 'http://afrc.test' })).status).toBe(200);
    expect((await retry({ 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await retry({ 'Sec-Fetch-Site': 'same-site' })).status).toBe(403);
    expect((await retry({ 'Sec-Fetch-Site': 'cross-site', Origin: 'http://afrc.test' })).status).toBe(403);
    expect((await retry({ Origin: 'http://evil.example' })).status).toBe(403);
    expect((await retry({})).status).toBe(403);
    const read = await s.agent.get('/admin/queues/api/queues?activeQueue=&page=1').set('Accept', 'application/json').set('Sec-Fetch-Site', 'cross-site');
    expect(read.status).toBe(200);
  });
});

describe('liaison inbox order', () => {
  it('puts the soonest due first, then the most money', async () => {
    const other = await t.factories.institution({ kind: 'bank', routes: [{ indicatorKind: 'bank_account', prefix: '621700' }] });
    const person = await t.factories.user({ role: 'liaison', institutionId: other.id });
    const now = new Date().toISOString();
    const res = await t.api.as(officer).post('/api/v1/reports').send({
      channel: 'hotline', fraudType: 'loan', occurredAt: now, victim: { name: 'Order Victim', idNumber: '110101199003070000' },
      transfers: [
        { toAccount: '6217000000000001', amountMinor: 10_000, transferredAt: now },
        { toAccount: '6217000000000002', amountMinor: 90_000, transferredAt: now },
      ],
    });
    expect(res.status).toBe(201);
    const s = await as(person);
    const inbox = await s.get('/tasks');
    expect(inbox.text.indexOf('6217000000000002')).toBeGreaterThan(-1);
    expect(inbox.text.indexOf('6217000000000002')).toBeLessThan(inbox.text.indexOf('6217000000000001'));
    expect(inbox.text).not.toContain('110101199003070000');
    expect(inbox.text).not.toContain('Order Victim');
  });
});
