import { randomBytes } from 'node:crypto';
import { testApp, testEnv, type TestApp } from '../helpers/test-app';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy';
import { killAll, startProcess, stopProcess, waitForOutput, type Started } from '../helpers/processes';
import { ownPort } from '../helpers/fault-center';
import { cloneTemplate, databaseUrl, dropDatabase } from '../helpers/databases';

// BullMQ's PostgreSQL backend, whatever backend the run tests: these tests force it.
let t: TestApp;
let proxy: TcpProxy | undefined;
const lateDatabase = `afrc_test_late_${randomBytes(4).toString('hex')}`;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  killAll();
  await proxy?.close();
  await dropDatabase(lateDatabase);
  await t.close();
});

/** A process whose queue and worker start against `url`: it says `tick` every 100 ms while its event loop turns. */
function startProbe(url: string): Started {
  return startProcess(process.execPath, ['--import', 'tsx', 'test/helpers/queue-start-probe.ts'],
    testEnv(t.database, t.queuePrefix, { QUEUE_BACKEND: 'postgres', DATABASE_URL: url }));
}

/** The probe's event loop still turns: its ticks go on over a second and a half. */
async function expectTicking(probe: Started): Promise<void> {
  await waitForOutput(probe, /^tick 5$/m, 20_000);
  const ticks = () => probe.output().match(/^tick \d+$/gm)!.length;
  const before = ticks();
  await new Promise((r) => setTimeout(r, 1500));
  expect(ticks()).toBeGreaterThan(before + 3);
}

it('when PostgreSQL refuses connections while a queue and a worker start, then both work once it answers', async () => {
  const direct = new URL(t.config.databaseUrl);
  proxy = await startTcpProxy(await ownPort(), { host: direct.hostname, port: Number(direct.port || 5432) });
  await proxy.cut();
  const proxied = new URL(direct);
  proxied.port = String(proxy.port);

  const probe = startProbe(proxied.toString());
  await expectTicking(probe);
  expect(probe.output()).not.toContain('added');

  // A queue that failed its start kept the failure for good, and never enqueued again.
  await proxy.restore();
  await waitForOutput(probe, /^added$/m, 30_000);
  await waitForOutput(probe, /^processed 42$/m, 30_000);
  expect((await stopProcess(probe)).code).toBe(0);
}, 90_000);

it('when PostgreSQL answers a worker\'s start with an error (its database not there yet), then the process keeps running, and the worker works once the database is there', async () => {
  const probe = startProbe(databaseUrl(lateDatabase));
  // Such an error, kept for good, made the worker's loop spin on promises: no timer ran again.
  await expectTicking(probe);

  await cloneTemplate(lateDatabase);
  await waitForOutput(probe, /^added$/m, 30_000);
  await waitForOutput(probe, /^processed 42$/m, 30_000);
  expect((await stopProcess(probe)).code).toBe(0);
}, 90_000);
