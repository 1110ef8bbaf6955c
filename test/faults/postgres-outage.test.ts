import { call, stopLoads, expectInvariants, faultCenter, Load, logLinesBetween, ownPort, settle, sleep, type FaultCenter } from '../helpers/fault-center';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { databaseUrl } from '../helpers/databases';
import { killAll, startEntry, stopProcess, waitForOutput, waitReady } from '../helpers/processes';
import { waitFor } from '../helpers/lifecycle';

let center: FaultCenter;
let proxy: TcpProxy | undefined;
afterAll(async () => {
  await stopLoads();
  killAll();
  await proxy?.close();
  await center?.close();
});

it('when PostgreSQL becomes unreachable under load, then the API answers 503 unavailable with nothing half-written, /readyz is 503, the log does not flood, and all recovers when it is back', async () => {
  center = await faultCenter();
  // The processes reach PostgreSQL through a proxy the test can cut; the shared server itself is never stopped.
  const target = new URL(databaseUrl(center.database));
  proxy = await startTcpProxy(await ownPort(), { host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(target);
  viaProxy.port = String(proxy.port);
  const port = await ownPort();
  const base = `http://127.0.0.1:${port}`;
  const app = startEntry('all', center.env({ PORT: String(port), DATABASE_URL: viaProxy.toString() }));
  await waitReady(base, app);
  await waitForOutput(app, 'partner worker started');

  const load = new Load(center, () => base);
  load.start(2);
  await sleep(2000);

  await proxy.cut();
  const downAt = Date.now();
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, '/readyz to say PostgreSQL is gone', 15_000, 100);
  await sleep(8000);
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ postgres: expect.anything() });
  // A report filed now is refused whole: 503 unavailable in the API's error shape.
  const refused = await call(base, 'POST', '/api/v1/reports', center.tokenOf(center.officer), { channel: 'hotline' });
  expect(refused.status).toBe(503);
  const reportsDuring = [...load.reports.values()].flatMap((r) => r.attempts).filter((a) => a.at > downAt + 2000);
  expect(reportsDuring.length).toBeGreaterThan(3);
  expect(reportsDuring.map((a) => `${a.status} ${a.code}`).filter((s) => s !== '503 unavailable')).toEqual([]);
  const upAt = Date.now();
  // One clear line per part of the process when it went; in between a backoff, not a line per failed call.
  const lines = logLinesBetween(app, downAt, upAt);
  expect((lines.length * 60_000) / (upAt - downAt)).toBeLessThan(20);
  expect(lines.filter((l) => l.dependency !== 'postgres').map((l) => `${l.process} ${l.level} ${l.msg} ${String(l.err ?? '')}`)).toEqual([]);
  const gone = app.logLines().filter((l) => l.level === 50 && l.dependency === 'postgres').map((l) => l.process);
  expect(new Set(gone).size).toBe(gone.length);

  // Nothing half-written: a report is there whole or not at all. A refused one is not there, unless
  // its commit went through just as the connection was cut (the answer lost on the way back): then
  // it is whole, and filing it again with its key answers the stored 201.
  const stored: { key: string; response_status: number | null; response_body: { id?: string } | null }[] =
    await center.db('idempotency_keys').where('actor_id', center.officer.id).select('key', 'response_status', 'response_body');
  const refusedOnly = new Set([...load.reports].filter(([, r]) => r.attempts.every((a) => a.status !== 201)).map(([k]) => k));
  const committedUnanswered = stored.filter((s) => refusedOnly.has(s.key));
  expect(committedUnanswered.length).toBeLessThanOrEqual(2);
  for (const s of committedUnanswered) {
    expect(s.response_status).toBe(201);
    expect(await center.db('transfers').where('report_id', s.response_body!.id!)).toHaveLength(2);
  }
  const reportRows = await center.db('reports').count('* as n').first();
  expect(Number(reportRows!.n)).toBe(stored.length);

  await proxy.restore();
  await waitReady(base, app, 60_000);
  await waitForOutput(app, 'postgres is back', 10_000);
  await sleep(1500);
  await load.stop();
  await load.replay();
  await settle(center, load, 90_000);
  await expectInvariants(center, load);
  expect((await stopProcess(app)).code).toBe(0);
});
