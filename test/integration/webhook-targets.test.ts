import { createHmac } from 'node:crypto';
import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testApp, type TestApp } from '../helpers/test-app';
import { FAST_WORKERS, interceptTask, taskRow, waitFor } from '../helpers/lifecycle';
import { startWorkers, type WorkerProcess } from '../../workers/main';
import { postSigned, webhookAdapter } from '../../workers/adapters/webhook';
import { parseAllowedHosts } from '../../server/domain/webhook-target';
import type { Task } from '../../server/tasks/tasks.repo';
import type { InstitutionWithSecret } from '../../server/admin/institutions.repo';
import type { TestUser } from '../helpers/factories';

// API.md, Webhook integration: public addresses only (checked when saved and when a delivery
// connects), WEBHOOK_ALLOWED_HOSTS for demos and tests, and a timestamped signature against replays.
type Received = { headers: IncomingMessage['headers']; raw: Buffer };

let t: TestApp;
let workers: WorkerProcess;
let admin: TestUser;
let server: Server;
let port: number;
const received: Received[] = [];
let answer = { status: 200, body: '{}' };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  // No WEBHOOK_ALLOWED_HOSTS: this instance is configured as production is.
  t = await testApp({ ...FAST_WORKERS, JOB_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '2000' });
  workers = startWorkers(t.config);
  admin = await t.factories.user({ role: 'admin' });
});
afterAll(async () => {
  await workers?.close();
  await t?.close();
  await new Promise((resolve) => server.close(resolve));
});

const REFUSED = [
  'http://127.0.0.1:8080/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]/hook',
  'http://[fd12:3456::1]/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://0x7f000001/hook',
  'http://2130706433/hook',
  'http://0177.0.0.1/hook',
  'http://10.1.2.3/hook',
  'http://192.168.0.10/hook',
  'http://localhost:3000/hook',
  'https://partner:secret@93.184.216.34/hook',
  'ftp://93.184.216.34/hook',
];

describe('when the institution is saved', () => {
  it.each(REFUSED)('refuses %s with the webhookUrl path', async (webhookUrl) => {
    const id = `hook-${Math.random().toString(36).slice(2, 8)}`;
    const res = await t.api.as(admin).post('/api/v1/institutions').send({ id, name: 'Hook', kind: 'bank', integration: 'webhook', webhookUrl, routes: [] });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ path: 'webhookUrl' })]);
    expect(await t.db('institutions').where({ id }).first()).toBeUndefined();
  });

  it('refuses an internal address on update too, and keeps the public one it had', async () => {
    const created = await t.api.as(admin).post('/api/v1/institutions').send({
      id: 'public-hook', name: 'Public', kind: 'bank', integration: 'webhook', webhookUrl: 'https://93.184.216.34/afrc', routes: [],
    });
    expect(created.status).toBe(201);
    const res = await t.api.as(admin).patch('/api/v1/institutions/public-hook').send({ webhookUrl: 'http://169.254.169.254/' });
    expect(res.status).toBe(400);
    expect((await t.db('institutions').where({ id: 'public-hook' }).first()).webhook_url).toBe('https://93.184.216.34/afrc');
  });

  it('allows a listed host with WEBHOOK_ALLOWED_HOSTS', async () => {
    const demo = await testApp({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1,localhost' });
    try {
      const boss = await demo.factories.user({ role: 'admin' });
      for (const [id, webhookUrl] of [['demo-a', 'http://127.0.0.1:4000/hook'], ['demo-b', 'http://localhost:4000/hook']] as const) {
        const res = await demo.api.as(boss).post('/api/v1/institutions').send({ id, name: id, kind: 'bank', integration: 'webhook', webhookUrl, routes: [] });
        expect(res.status).toBe(201);
      }
      // Listing one host opens that host only.
      const other = await demo.api.as(boss).post('/api/v1/institutions').send({ id: 'demo-c', name: 'c', kind: 'bank', integration: 'webhook', webhookUrl: 'http://169.254.169.254/', routes: [] });
      expect(other.status).toBe(400);
    } finally {
      await demo.close();
    }
  });
});

describe('when a delivery connects', () => {
  /** A webhook institution whose URL points at `host`: its interception is refused at delivery, and nothing arrives. */
  async function expectDeliveryRefused(host: string): Promise<void> {
    received.length = 0;
    const bank = await t.factories.institution({ kind: 'bank', integration: 'webhook', webhookUrl: `http://${host}:${port}/inside`, webhookSecret: 'partner-shared-secret-0123456789' });
    await workers.pool.sync();
    const task = await interceptTask(t, { toInstitutionId: bank.id });
    const row = await waitFor(async () => {
      const r = await taskRow(t, task.id);
      return r.delivery_failed_at ? r : undefined;
    }, 'the refused delivery to be recorded');
    expect(row.delivery_error).toMatch(/refused/);
    expect(received).toHaveLength(0);
  }

  it('refuses an internal address stored before the rule, sends nothing there, and does not retry', async () => {
    await expectDeliveryRefused('127.0.0.1');
  });

  it('refuses a host name that resolves to an internal address (localhost)', async () => {
    await expectDeliveryRefused('localhost');
  });

  it('connects to the address it checked: one lookup, and a name answering any internal address is refused', async () => {
    received.length = 0;
    answer = { status: 204, body: '' };
    const allowedHosts = parseAllowedHosts('127.0.0.1');
    let lookups = 0;
    const status = await postSigned(`http://partner.test:${port}/named`, Buffer.from('{}'), { 'content-type': 'application/json' }, 'secret-0123456789abcdef', {
      timeoutMs: 2000, allowedHosts,
      lookup: async () => {
        lookups++;
        // A rebinding server would answer differently the second time; there is no second time.
        return lookups === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }];
      },
    });
    expect(status).toBe(204);
    expect(lookups).toBe(1);
    expect(received[0]!.headers.host).toBe(`partner.test:${port}`);

    await expect(postSigned(`http://mixed.test:${port}/named`, Buffer.from('{}'), {}, 'secret-0123456789abcdef', {
      timeoutMs: 2000, allowedHosts: parseAllowedHosts(''),
      lookup: async () => [{ address: '93.184.216.34', family: 4 }, { address: '169.254.169.254', family: 4 }],
    })).rejects.toThrow(/refused.*169\.254\.169\.254/);
    expect(received).toHaveLength(1);
  });

  it('signs with a timestamp (X-AFRC-Timestamp, X-AFRC-Signature-256) over the exact bytes sent, and never keeps the answer body', async () => {
    received.length = 0;
    answer = { status: 500, body: 'INTERNAL-ONLY stack trace and secrets' };
    const secret = 'partner-shared-secret-0123456789';
    const adapter = webhookAdapter({ timeoutMs: 2000, allowedHosts: parseAllowedHosts('127.0.0.1') });
    const institution = { id: 'b', webhookUrl: `http://127.0.0.1:${port}/signed`, webhookSecret: secret } as unknown as InstitutionWithSecret;
    const task = { id: '5b0f0d0e-0000-4000-8000-000000000001', kind: 'intercept_funds', note: '汇款 ✓' } as unknown as Task;
    const before = Math.floor(Date.now() / 1000);
    const failure = await adapter.deliver(task, institution).then(() => undefined, (err: Error) => err);
    expect(failure?.message).toBe('webhook answered 500');
    expect(failure?.message).not.toContain('INTERNAL');

    const [call] = received;
    const ts = Number(call!.headers['x-afrc-timestamp']);
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.`).update(call!.raw).digest('hex')}`;
    expect(call!.headers['x-afrc-signature-256']).toBe(expected);
    expect(call!.headers['x-afrc-signature']).toBe(`sha256=${createHmac('sha256', secret).update(call!.raw).digest('hex')}`);
    // A replayed body with a fresh timestamp does not verify.
    const replayed = `sha256=${createHmac('sha256', secret).update(`${ts + 600}.`).update(call!.raw).digest('hex')}`;
    expect(replayed).not.toBe(expected);
    expect(JSON.parse(call!.raw.toString('utf8'))).toEqual(task);
  });
});
