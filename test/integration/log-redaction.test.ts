import { Writable } from 'node:stream';
import { createLogger } from '../../server/logger';
import { pageSession } from '../helpers/page-session';
import { testApp, type TestApp } from '../helpers/test-app';
import type { TestUser } from '../helpers/factories';

// Search terms are ID numbers, phones and names: they may be searched for, never written to the log.
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  },
});

let t: TestApp;
let officer: TestUser;

beforeAll(async () => {
  t = await testApp({}, { logger: createLogger('info', {}, sink) });
  officer = await t.factories.user({ role: 'desk_officer' });
});
afterAll(() => t.close());

const ID_NUMBER = '330106199001011234';
const PHONE = '13800138000';

it('logs searched requests with their query values redacted, by API and by page', async () => {
  lines.length = 0;
  const api = await t.api.as(officer).get(`/api/v1/reports?q=${ID_NUMBER}&status=open`);
  expect(api.status).toBe(200);
  const s = pageSession(t.app);
  await s.login(officer.username, officer.password);
  const page = await s.get(`/reports?q=${encodeURIComponent(`Wang ${PHONE}`)}`);
  expect(page.status).toBe(200);
  await t.api.as(officer).get(`/api/v1/indicators?q=${PHONE}`);

  const requests = lines.map((l) => JSON.parse(l) as { req?: { url?: string } }).filter((l) => l.req?.url);
  // The requests were logged (a test that saw no log line would prove nothing).
  expect(requests.some((l) => l.req!.url!.startsWith('/api/v1/reports?'))).toBe(true);
  expect(requests.some((l) => l.req!.url!.startsWith('/reports?'))).toBe(true);
  const all = lines.join('\n');
  expect(all).not.toContain(ID_NUMBER);
  expect(all).not.toContain(PHONE);
  expect(all).not.toContain('Wang');
  expect(requests.find((l) => l.req!.url!.startsWith('/api/v1/reports?'))!.req!.url).toBe('/api/v1/reports?q=[redacted]&status=[redacted]');
});
