import { createHash } from 'node:crypto';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import { pageSession } from '../helpers/page-session';
import { FACTORY_PASSWORD, type TestInstitution, type TestUser } from '../helpers/factories';

let t: TestApp;
let bank: TestInstitution;
let officer: TestUser;
let liaison: TestUser;

beforeAll(async () => {
  // Enough failed checks for the timing comparison; the limit itself is tested on an app of its own.
  t = await testApp({ CASE_STATUS_RATE_LIMIT: '1000' });
  bank = await t.factories.institution({ kind: 'bank', name: 'Status Bank', routes: [{ indicatorKind: 'bank_account', prefix: '622202' }] });
  officer = await t.factories.user({ role: 'desk_officer', displayName: 'Officer Li' });
  liaison = await t.factories.user({ role: 'liaison', institutionId: bank.id });
});
afterAll(() => t.close());

const CODE = /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/;

async function file(over: Parameters<typeof reportBody>[0] = {}) {
  const res = await t.api.as(officer).post('/api/v1/reports').send(reportBody({
    victim: { name: 'Sun Mei', phone: '+8613800138000', idNumber: '330106199001011234' }, ...over,
  }));
  expect(res.status).toBe(201);
  return res.body as { id: string; caseNumber: string; victimAccessCode: string; tasks: { id: string; kind: string }[] };
}

const check = (caseNumber: string, accessCode: string) => t.api.raw().post('/api/v1/public/case-status').send({ caseNumber, accessCode });

describe('the access code at intake', () => {
  it('comes with the 201 once, and only its hash is kept', async () => {
    const filed = await file();
    expect(filed.victimAccessCode).toMatch(CODE);
    const row = await t.db('reports').where({ id: filed.id }).first();
    const canonical = filed.victimAccessCode.replace(/-/g, '');
    expect(row.access_code_hash).toBe(createHash('sha256').update(`afrc-case-access\u0000${filed.caseNumber}\u0000${canonical}`).digest('hex'));
    const dump = JSON.stringify(await t.db.raw(`SELECT row_to_json(r) FROM reports r WHERE id = ?`, [filed.id]))
      + JSON.stringify(await t.db('events').where({ report_id: filed.id }));
    expect(dump).not.toContain(canonical);
    expect(dump).not.toContain(filed.victimAccessCode);
    const detail = await t.api.as(officer).get(`/api/v1/reports/${filed.id}`);
    expect(detail.body.victimAccessCode).toBeUndefined();
  });

  it('a retry with the same Idempotency-Key answers a new code, and only the latest one works', async () => {
    const body = reportBody({ narrative: 'retried intake' });
    const first = await t.api.as(officer).post('/api/v1/reports').set('Idempotency-Key', 'status-retry').send(body);
    const again = await t.api.as(officer).post('/api/v1/reports').set('Idempotency-Key', 'status-retry').send(body);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.victimAccessCode).not.toBe(first.body.victimAccessCode);
    expect((await check(first.body.caseNumber, first.body.victimAccessCode)).status).toBe(404);
    expect((await check(first.body.caseNumber, again.body.victimAccessCode)).status).toBe(200);
    const events = await t.db('events').where({ report_id: first.body.id, type: 'report.access_code_issued' });
    expect(events.map((e) => e.data)).toEqual([{ reason: 'intake_retried' }]);
  });
});

describe('POST /api/v1/public/case-status', () => {
  it('answers the stage and the amounts, and nothing that names an account, institution or person', async () => {
    const filed = await file();
    const res = await check(filed.caseNumber, filed.victimAccessCode);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      caseNumber: filed.caseNumber, status: 'open', filedAt: expect.any(String), currency: 'CNY',
      reportedLossMinor: 5_000_000, frozenMinor: 0, returnedMinor: 0, stage: 'received',
    });
    const text = JSON.stringify(res.body);
    for (const secret of ['Sun Mei', '13800138000', '330106199001011234', '6222021234567890', 'Li Ming', bank.id, officer.id, 'Officer Li']) {
      expect(text).not.toContain(secret);
    }
    // Typed as a person would: lower case, spaces instead of dashes, O for 0.
    const typed = filed.victimAccessCode.toLowerCase().replace(/-/g, ' ');
    expect((await check(` ${filed.caseNumber.toLowerCase()} `, typed)).status).toBe(200);
  });

  it('follows the case: received, in progress, money frozen, closed', async () => {
    const filed = await file();
    const stage = async () => (await check(filed.caseNumber, filed.victimAccessCode)).body;
    expect((await stage()).stage).toBe('received');

    const intercept = filed.tasks.find((x) => x.kind === 'intercept_funds')!;
    expect(await t.deps.services.taskLifecycle.markDispatched(intercept.id, bank.id, 'manual')).toBe(true);
    expect((await stage()).stage).toBe('in_progress');

    const result = await t.api.as(liaison).post(`/api/v1/tasks/${intercept.id}/result`).send({ outcome: 'frozen', frozenMinor: 3_000_000 });
    expect(result.status).toBe(200);
    expect(await stage()).toMatchObject({ stage: 'money_frozen', frozenMinor: 3_000_000, returnedMinor: 0 });

    await t.db('reports').where({ id: filed.id }).update({ status: 'closed' });
    expect(await stage()).toMatchObject({ stage: 'closed', status: 'closed', frozenMinor: 3_000_000 });
  });

  it('answers a wrong code exactly like an unknown case, in similar time', async () => {
    const filed = await file();
    const wrong = await check(filed.caseNumber, 'AAAA-BBBB-CCCC');
    const unknown = await check('FR-19990101-999999', 'AAAA-BBBB-CCCC');
    const malformed = await check(filed.caseNumber, 'x');
    for (const r of [wrong, unknown, malformed]) {
      expect(r.status).toBe(404);
      expect(r.headers['content-type']).toBe(unknown.headers['content-type']);
    }
    expect(wrong.body).toEqual(unknown.body);
    expect(malformed.body).toEqual(unknown.body);
    expect(unknown.body.error.code).toBe('not_found');

    // Alternate the two so that the machine's noise falls on both alike; compare the medians.
    const times: Record<'wrong' | 'unknown', number[]> = { wrong: [], unknown: [] };
    for (let i = 0; i < 40; i++) {
      for (const [kind, caseNumber] of [['wrong', filed.caseNumber], ['unknown', `FR-19990101-${String(i).padStart(6, '0')}`]] as const) {
        const start = process.hrtime.bigint();
        expect((await check(caseNumber, 'AAAA-BBBB-CCCC')).status).toBe(404);
        times[kind].push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const [w, u] = [median(times.wrong), median(times.unknown)];
    expect(Math.abs(w - u)).toBeLessThan(Math.max(w, u) * 0.5 + 2);
  });

  it('refuses bad input with the field paths, takes no form bodies, and needs no CSRF token even with a signed-in cookie', async () => {
    const missing = await t.api.raw().post('/api/v1/public/case-status').send({ caseNumber: '' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['accessCode', 'caseNumber']);
    const form = await t.api.raw().post('/api/v1/public/case-status').type('form').send('caseNumber=a&accessCode=b');
    expect(form.status).toBe(415);

    const filed = await file();
    const s = pageSession(t.app);
    await s.login(officer.username, FACTORY_PASSWORD);
    const withCookie = await s.agent.post('/api/v1/public/case-status').send({ caseNumber: filed.caseNumber, accessCode: filed.victimAccessCode });
    expect(withCookie.status).toBe(200);
  });
});

describe('the receipt page and /status', () => {
  it('the officer lands on the receipt with the code in both languages, shown once; a reissued code replaces it', async () => {
    const s = pageSession(t.app);
    await s.login(officer.username, FACTORY_PASSWORD);
    const form = await s.get('/reports/new');
    const key = /name="idempotencyKey" value="([^"]+)"/.exec(form.text)?.[1] ?? 'k';
    const filed = await s.post('/reports/new', {
      idempotencyKey: key, channel: 'hotline', fraudType: 'investment', occurredAt: '2026-11-28T09:12', 'victim.name': 'Receipt Victim',
      narrative: 'n', 'transfers.0.toAccount': '6222 0212 0000 0001', 'transfers.0.amount': '100.00',
    });
    expect(filed.status).toBe(303);
    const receiptUrl = filed.headers.location as string;
    const reportId = /^\/reports\/([0-9a-f-]{36})\/receipt$/.exec(receiptUrl)![1]!;
    const receipt = await s.get(receiptUrl);
    expect(receipt.status).toBe(200);
    expect(receipt.headers['cache-control']).toBe('no-store');
    const code = /data-receipt="access-code">([^<]+)</.exec(receipt.text)![1]!;
    expect(code).toMatch(CODE);
    expect(receipt.text).toContain('Fraud report receipt');
    expect(receipt.text).toContain('诈骗报案回执');
    expect(receipt.text).toMatch(/http:\/\/127\.0\.0\.1:\d+\/status/);
    const { caseNumber } = await t.db('reports').where({ id: reportId }).first('case_number as caseNumber');
    expect((await check(caseNumber, code)).status).toBe(200);

    const reload = await s.get(receiptUrl);
    expect(reload.text).not.toContain(code);
    expect(reload.text).not.toContain('data-receipt="access-code"');
    expect(reload.text).toContain(caseNumber);

    expect((await s.get(`/reports/${reportId}`)).text).toContain(`href="${receiptUrl}"`);
    const reissued = await s.submit(receiptUrl, `/reports/${reportId}/access-code`, {});
    expect(reissued.status).toBe(303);
    const fresh = /data-receipt="access-code">([^<]+)</.exec((await s.get(receiptUrl)).text)![1]!;
    expect(fresh).not.toBe(code);
    expect((await check(caseNumber, code)).status).toBe(404);
    expect((await check(caseNumber, fresh)).status).toBe(200);

    const l = pageSession(t.app);
    await l.login(liaison.username, FACTORY_PASSWORD);
    expect((await l.get(receiptUrl)).status).toBe(403);
  });

  it('/status answers in English and Chinese, keeps what was typed, and says the same for a wrong code and an unknown case', async () => {
    const filed = await file();
    for (const [lang, title, stage] of [['en', 'Check your case', 'Received'], ['zh-CN', '案件进展查询', '已受理']] as const) {
      const s = pageSession(t.app, lang);
      const page = await s.get('/status');
      expect(page.status).toBe(200);
      expect(page.text).toContain(title);
      const ok = await s.post('/status', { caseNumber: filed.caseNumber, accessCode: filed.victimAccessCode });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain(stage);
      expect(ok.text).toContain('¥50,000.00');
      expect(ok.text).not.toContain('Sun Mei');
      const wrong = await s.submit('/status', '/status', { caseNumber: filed.caseNumber, accessCode: 'ZZZZ-ZZZZ-ZZZZ' });
      const unknown = await s.submit('/status', '/status', { caseNumber: 'FR-19990101-000001', accessCode: 'ZZZZ-ZZZZ-ZZZZ' });
      expect([wrong.status, unknown.status]).toEqual([404, 404]);
      const notice = (html: string) => /<p class="notice[^"]*"[^>]*>(.*?)<\/p>/s.exec(html)![1];
      expect(notice(wrong.text)).toBe(notice(unknown.text));
      expect(wrong.text).toContain('value="ZZZZ-ZZZZ-ZZZZ"');
      expect(wrong.text).toContain(`value="${filed.caseNumber}"`);
    }
    const noToken = pageSession(t.app);
    await noToken.get('/status');
    expect((await noToken.post('/status', { caseNumber: filed.caseNumber, accessCode: filed.victimAccessCode }, false)).status).toBe(403);
  });
});

describe('rate limit per address', () => {
  it('refuses further failed checks from one address, for the API and the page together', async () => {
    const small = await testApp({ CASE_STATUS_RATE_LIMIT: '3' });
    try {
      const officerThere = await small.factories.user({ role: 'desk_officer' });
      const filed = await small.api.as(officerThere).post('/api/v1/reports').send(reportBody());
      const api = (code: string) => small.api.raw().post('/api/v1/public/case-status').send({ caseNumber: filed.body.caseNumber, accessCode: code });
      expect((await api(filed.body.victimAccessCode)).status).toBe(200);   // a success costs nothing
      expect((await api('AAAA-AAAA-AAAA')).status).toBe(404);
      expect((await api('AAAA-AAAA-AAAB')).status).toBe(404);
      const s = pageSession(small.app);
      expect((await s.submit('/status', '/status', { caseNumber: filed.body.caseNumber, accessCode: 'AAAA-AAAA-AAAC' })).status).toBe(404);
      const limited = await api(filed.body.victimAccessCode);
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect((await s.submit('/status', '/status', { caseNumber: filed.body.caseNumber, accessCode: filed.body.victimAccessCode })).status).toBe(429);
    } finally {
      await small.close();
    }
  });
});

describe('OpenAPI', () => {
  it('describes the public case-status route without a bearer, and the access code of the 201', async () => {
    const doc = (await t.api.raw().get('/api/v1/openapi.json')).body;
    const op = doc.paths['/api/v1/public/case-status'].post;
    expect(op.security).toEqual([]);
    expect(JSON.stringify(op.responses['200'])).toContain('money_returned');
    expect(JSON.stringify(doc.paths['/api/v1/reports'].post.responses['201'])).toContain('victimAccessCode');
  });
});
