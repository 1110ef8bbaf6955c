import { stopLoads, expectInvariants, faultCenter, Load, ownPort, settle, sleep, statsSummary, type FaultCenter } from '../helpers/fault-center';
import { killAll, killGroup, startEntry, waitForOutput, waitReady, type Started } from '../helpers/processes';

let center: FaultCenter;
afterAll(async () => {
  await stopLoads();
  killAll();
  await center?.close();
});

it('when the web process and then the workers process are killed with SIGKILL under load, then no report is half-written, every task is delivered once and every freeze booked once', async () => {
  center = await faultCenter();
  const port = await ownPort();
  const base = `http://127.0.0.1:${port}`;
  const startWeb = () => startEntry('web', center.env({ PORT: String(port) }));
  const startWorkers = () => startEntry('workers', center.env());
  let web: Started = startWeb();
  let workers: Started = startWorkers();
  await waitReady(base, web);
  await waitForOutput(workers, 'workers started');

  const load = new Load(center, () => base);
  load.start(3);
  await sleep(3000);

  // kill -9 of the web process while reports are being filed and results posted.
  killGroup(web);
  await web.exited;
  const webKilledAt = Date.now();
  await sleep(300);
  web = startWeb();
  await waitReady(base, web);
  await sleep(2500);

  // kill -9 of the workers process while it delivers tasks and posts the simulated partners' answers.
  killGroup(workers);
  await workers.exited;
  await sleep(300);
  workers = startWorkers();
  await waitForOutput(workers, 'workers started');
  await sleep(2500);
  await load.stop();

  // The kill cut requests short (or refused them): they are filed again with their keys, as a client retries.
  const cut = [...load.reports.values()].flatMap((r) => r.attempts).filter((a) => a.status !== 201 && a.at >= webKilledAt - 1000);
  expect(cut.length).toBeGreaterThan(0);
  await load.replay();
  // Workers killed mid-job get their jobs back once the dead worker's locks lapse (BullMQ's 30 s).
  await settle(center, load, 150_000);
  await expectInvariants(center, load);
  expect(load.reports.size).toBeGreaterThan(20);
  const summary = await statsSummary(center, base);
  const ledger = await center.db('loss_prevention_ledger').sum({ s: 'amount_minor' }).first();
  expect(summary.lossPreventedMinor).toBe(Number(ledger!.s));
  expect(summary.reports).toBe(load.reports.size);
});
