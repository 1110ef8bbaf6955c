import { stopLoads, expectInvariants, faultCenter, Load, logLinesBetween, ownPort, settle, sleep, type FaultCenter } from '../helpers/fault-center';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis';
import { killAll, startEntry, stopProcess, waitForOutput, waitReady } from '../helpers/processes';
import { waitFor } from '../helpers/lifecycle';

let center: FaultCenter;
let redis: PrivateRedis | undefined;
afterAll(async () => {
  await stopLoads();
  killAll();
  await redis?.stop();
  await center?.close();
});

it('when Redis stops under load and comes back empty, then intake goes on, the log says so once and backs off, and every task is delivered once afterwards', async () => {
  // A redis-server of this test's own: the machine's shared Redis is never touched.
  redis = await startPrivateRedis(await ownPort());
  center = await faultCenter({ redisUrl: redis.url });
  const port = await ownPort();
  const base = `http://127.0.0.1:${port}`;
  const app = startEntry('all', center.env({ PORT: String(port) }));
  await waitReady(base, app);
  await waitForOutput(app, 'partner worker started');

  const load = new Load(center, () => base);
  load.start(2);
  await sleep(2000);

  await redis.stop();
  const downAt = Date.now();
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, '/readyz to say Redis is gone', 10_000, 100);
  // Ten seconds without Redis: reports are still taken, their tasks wait in PostgreSQL.
  await sleep(10_000);
  const upAt = Date.now();
  await redis.start();
  await waitReady(base, app, 30_000);

  await sleep(2000);
  await load.stop();
  const duringOutage = [...load.reports.values()].flatMap((r) => r.attempts).filter((a) => a.at > downAt + 500 && a.at < upAt);
  expect(duringOutage.length).toBeGreaterThan(5);
  expect(duringOutage.every((a) => a.status === 201)).toBe(true);

  // One clear line when it went, one when it came back; in between a backoff, not a line per call.
  const lines = logLinesBetween(app, downAt, upAt);
  const perMinute = (lines.length * 60_000) / (upAt - downAt);
  // Past the bound, the failure names what was said and how often.
  const said = new Map<string, number>();
  for (const l of lines) said.set(`${String(l.process)}: ${String(l.msg)}`, (said.get(`${String(l.process)}: ${String(l.msg)}`) ?? 0) + 1);
  expect(perMinute < 60 ? [] : [...said].sort((a, b) => b[1] - a[1]).slice(0, 8)).toEqual([]);
  // Nothing in plain text beside the JSON log: no library writing a stack to the console per request.
  expect(app.output().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'))).toEqual([]);
  // npm start's process runs the web and the workers side by side: each says it once.
  const gone = app.logLines().filter((l) => l.level === 50 && l.dependency === 'redis');
  expect(gone.map((l) => l.process).sort()).toEqual(['web', 'workers']);
  expect(app.logLines().filter((l) => l.msg === 'redis is back').map((l) => l.process).sort()).toEqual(['web', 'workers']);

  // The reconciler puts the jobs Redis lost back; everything filed before, during and after is delivered.
  await load.replay();
  await settle(center, load, 90_000);
  await expectInvariants(center, load);
  expect((await stopProcess(app)).code).toBe(0);
});
