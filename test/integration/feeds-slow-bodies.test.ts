import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testApp, type TestApp } from '../helpers/test-app';
import { reportBody } from '../helpers/bodies';
import type { TestInstitution, TestUser } from '../helpers/factories';
import { feedLine, slowUpload as slowUploadTo, timedFetch, type Answer } from '../helpers/slow-upload';

jest.setTimeout(60_000);

const BODY_TIMEOUT_MS = 4000;
const BODY_IDLE_TIMEOUT_MS = 2000;

let t: TestApp;
let server: Server;
let base: string;
let carrier: TestInstitution;
let carrierLiaison: TestUser;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp({ BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), BODY_IDLE_TIMEOUT_MS: String(BODY_IDLE_TIMEOUT_MS) });
  carrier = await t.factories.institution({ kind: 'carrier', routes: [{ indicatorKind: 'phone', prefix: '+86171' }] });
  carrierLiaison = await t.factories.user({ role: 'liaison', institutionId: carrier.id });
  officer = await t.factories.user({ role: 'desk_officer' });
  server = http.createServer(t.app);
  await new Promise<void>((resolve) => server.listen(42101, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

const line = feedLine;
const slowUpload = (token: string, everyMs: number, maxMs: number, linesBeforeStall?: number) => slowUploadTo(base, token, everyMs, maxMs, linesBeforeStall);
const timed = (url: string, init?: RequestInit) => timedFetch(base, url, init);

describe('slow feed uploads', () => {
  it('when 10 feeds arrive a line at a time, then login, filing a report and /readyz answer normally meanwhile, the slow feeds end 408 request_timeout with nothing stored, and a normal feed still works', async () => {
    const token = t.tokenFor(carrierLiaison);
    const batchesBefore = Number((await t.db('feed_batches').count({ n: '*' }))[0]!.n);
    const uploads = Array.from({ length: 10 }, () => slowUpload(token, 500, 15_000));
    // Let all ten get going first.
    await new Promise((resolve) => setTimeout(resolve, 700));

    const logins: number[] = [];
    const during: Answer[] = [];
    for (let i = 0; i < 5; i++) {
      const login = await timed('/api/v1/auth/login', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: officer.username, password: officer.password }),
      });
      logins.push(login.ms);
      during.push(login);
      during.push(await timed('/readyz'));
    }
    const officerToken = JSON.parse(during[0]!.body).token as string;
    const filed = await timed('/api/v1/reports', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${officerToken}` },
      body: JSON.stringify(reportBody()),
    });
    expect(during.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(filed.status).toBe(201);
    logins.sort((a, b) => a - b);
    // Nothing waits for a database connection: every answer well under a second.
    expect(logins[logins.length - 1]).toBeLessThan(1500);
    expect(filed.ms).toBeLessThan(1500);
    process.stdout.write(`login during 10 slow feeds: p50 ${logins[2]} ms, max ${logins[4]} ms; report filed in ${filed.ms} ms\n`);

    const ended = await Promise.all(uploads);
    for (const answer of ended) {
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body)).toEqual({ error: { code: 'request_timeout', message: expect.any(String), details: [] } });
      expect(answer.ms).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 100);
      expect(answer.ms).toBeLessThan(BODY_TIMEOUT_MS + 3000);
    }
    // Nothing half-stored.
    expect(Number((await t.db('feed_batches').count({ n: '*' }))[0]!.n)).toBe(batchesBefore);

    const normal = await timed('/api/v1/feeds', {
      method: 'POST', headers: { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${token}` }, body: line() + line(),
    });
    expect(normal.status).toBe(202);
    expect(JSON.parse(normal.body)).toMatchObject({ received: 2, status: 'processing' });
  });

  it('when a feed stops sending mid-body, then it is 408 request_timeout after the idle timeout and nothing is stored', async () => {
    const before = Number((await t.db('feed_batches').count({ n: '*' }))[0]!.n);
    const answer = await slowUpload(t.tokenFor(carrierLiaison), 200, 15_000, 2);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error.code).toBe('request_timeout');
    expect(answer.ms).toBeLessThan(BODY_TIMEOUT_MS);
    expect(Number((await t.db('feed_batches').count({ n: '*' }))[0]!.n)).toBe(before);
  });

  it('when a JSON feed arrives too slowly, then it is 408 request_timeout too', async () => {
    const started = Date.now();
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/feeds`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${t.tokenFor(carrierLiaison)}`, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      });
      req.write('{"items": [');
      const timer = setInterval(() => req.write(' '), 500);
      req.on('response', (res) => {
        clearInterval(timer);
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, ms: Date.now() - started }));
      });
      req.on('error', reject);
    });
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error.code).toBe('request_timeout');
  });
});
