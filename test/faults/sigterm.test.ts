import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { expectInvariants, faultCenter, Load, loadReport, ownPort, settle, sleep, stopLoads, type FaultCenter } from '../helpers/fault-center';
import { killAll, startEntry, stopProcess, waitForOutput, waitReady, type Started } from '../helpers/processes';
import { waitFor } from '../helpers/lifecycle';

/** The bank's webhook: it takes a second to answer, so deliveries are under way when a signal comes. */
let hook: http.Server;
const deliveries = new Map<string, number>();
let pending = 0;
let center: FaultCenter;
let web: Started;
let workers: Started;
let base: string;
let port: number;

beforeAll(async () => {
  const hookPort = await ownPort();
  hook = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    pending++;
    setTimeout(() => {
      const id = String(req.headers['x-afrc-task-id']);
      deliveries.set(id, (deliveries.get(id) ?? 0) + 1);
      pending--;
      res.writeHead(200).end('{}');
    }, 1000);
  });
  await new Promise<void>((resolve) => hook.listen(hookPort, '127.0.0.1', resolve));
  center = await faultCenter({ bankWebhookUrl: `http://127.0.0.1:${hookPort}/afrc` });
  port = await ownPort();
  base = `http://127.0.0.1:${port}`;
  web = startEntry('web', center.env({ PORT: String(port) }));
  workers = startEntry('workers', center.env({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' }));
  await waitReady(base, web);
  await waitForOutput(workers, 'partner worker started');
});
afterAll(async () => {
  await stopLoads();
  killAll();
  await new Promise((resolve) => hook.close(resolve));
  await center?.close();
});

/** POST /reports on a connection of its own; when that connection was made, and how it ended. */
function fileOn(token: string): { connectedAt: Promise<number>; done: Promise<{ status?: number; error?: string }> } {
  let connected!: (t: number) => void;
  const connectedAt = new Promise<number>((resolve) => (connected = resolve));
  const done = new Promise<{ status?: number; error?: string }>((resolve) => {
    const body = JSON.stringify(loadReport());
    const req = http.request(`${base}/api/v1/reports`, {
      method: 'POST', agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID(), 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
      res.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    });
    req.on('socket', (s) => s.on('connect', () => connected(Date.now())));
    req.on('error', (err) => resolve({ error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(body);
  });
  return { connectedAt, done };
}

/**
 * A connection opened now whose request is written only when `send` is called (a client whose
 * request is on its way when the signal comes); answers the status line it got, or the error.
 */
function lateRequest(token: string): { connected: Promise<void>; send(): Promise<string> } {
  const socket = net.connect(port, '127.0.0.1');
  let got = '';
  const ended = new Promise<string>((resolve) => {
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('end', () => resolve(got.split('\r\n')[0] ?? ''));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(got ? got.split('\r\n')[0]! : err.code ?? err.message));
  });
  return {
    connected: new Promise((resolve) => socket.once('connect', () => resolve())),
    send() {
      const body = JSON.stringify(loadReport());
      socket.write(`POST /api/v1/reports HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\n`
        + `idempotency-key: ${randomUUID()}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return ended;
    },
  };
}

it('when the web process gets SIGTERM under load, then every request it had accepted is answered, and it exits 0', async () => {
  const token = center.tokenOf(center.officer);
  // Connections whose requests are still on their way when the signal comes.
  const late = Array.from({ length: 5 }, () => lateRequest(token));
  await Promise.all(late.map((r) => r.connected));
  const inFlight = Array.from({ length: 25 }, () => fileOn(token));
  await Promise.all(inFlight.map((r) => r.connectedAt));
  // Accepted by the server's event loop, not only by the kernel.
  await sleep(150);
  const signalledAt = Date.now();
  web.child.kill('SIGTERM');
  await sleep(50);
  try {
    const lateAnswers = await Promise.all(late.map((r) => r.send()));
    expect(lateAnswers.filter((a) => !a.startsWith('HTTP/1.1 201'))).toEqual([]);
    const answers = await Promise.all(inFlight.map((r) => r.done));
    const exit = await web.exited;
    // No connection reset, no refusal: each one answered 201 (else the web's warnings say why).
    const unanswered = answers.filter((a) => a.status !== 201);
    expect({ unanswered, exit, warnings: unanswered.length ? web.logLines().filter((l) => Number(l.level) >= 40) : [] })
      .toEqual({ unanswered: [], exit: { code: 0, signal: null }, warnings: [] });
    expect(web.logLines().find((l) => l.msg === 'shutting down')?.time).toBeGreaterThanOrEqual(signalledAt - 1000);
    // What it answered is there, whole.
    expect(Number((await center.db('reports').count('* as n').first())!.n)).toBe(30);
  } finally {
    // The next test needs a web process, whatever became of this one.
    await web.exited;
    web = startEntry('web', center.env({ PORT: String(port) }));
    await waitReady(base, web);
  }
});

it('when the workers process gets SIGTERM while deliveries are under way, then they finish, it exits 0, and nothing is lost or delivered twice', async () => {
  const load = new Load(center, () => base);
  load.start(2);
  await sleep(1500);
  await waitFor(async () => pending > 0, 'a delivery under way', 10_000, 20);
  const underWay = pending;
  const exit = await stopProcess(workers, 'SIGTERM', 20_000);
  expect(exit.code).toBe(0);
  // Every delivery that was under way was answered before the process left.
  expect(pending).toBe(0);
  expect(underWay).toBeGreaterThan(0);
  expect(workers.logLines().some((l) => String(l.msg).includes('did not drain in time'))).toBe(false);

  workers = startEntry('workers', center.env({ WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' }));
  await waitForOutput(workers, 'partner worker started');
  await sleep(2000);
  await load.stop();
  await load.replay();
  await settle(center, load, 90_000);
  // The 30 reports of the test before are part of the center too.
  for (let i = 0; i < 30; i++) load.reports.set(`earlier-${i}`, { body: loadReport(), attempts: [{ status: 201, at: 0 }] });
  await expectInvariants(center, load);
  // Each task the webhook bank got, it got once.
  expect([...deliveries.values()].filter((n) => n !== 1)).toEqual([]);
  const atBank = await center.db('tasks').where('institution_id', center.manualBank.id).count('* as n').first();
  expect(deliveries.size).toBe(Number(atBank!.n));
});
