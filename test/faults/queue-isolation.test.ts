import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expectInvariants, faultCenter, Load, ownPort, settle, sleep, stopLoads, type FaultCenter } from '../helpers/fault-center';
import { killAll, startEntry, stopProcess, waitForOutput, waitReady, type Started } from '../helpers/processes';
import { partnerQueueName } from '../../server/queues/names';

const centers: FaultCenter[] = [];
afterAll(async () => {
  await stopLoads();
  killAll();
  await Promise.all(centers.map((c) => c.close()));
});

it('when two instances use different databases with the default QUEUE_PREFIX on one Redis, then neither picks up the other\'s jobs', async () => {
  // The same institution ids in both: without a prefix of their own, their partner queues would be one.
  const ids = { simBank: 'iso-sim-bank', manualBank: 'iso-manual-bank', carrier: 'iso-carrier' };
  const a = await faultCenter({ queuePrefix: null, ids });
  const b = await faultCenter({ queuePrefix: null, ids });
  centers.push(a, b);
  expect(a.queuePrefix).not.toBe(b.queuePrefix);

  const run = async (c: FaultCenter): Promise<{ app: Started; base: string; load: Load }> => {
    const port = await ownPort();
    const base = `http://127.0.0.1:${port}`;
    const app = startEntry('all', c.env({ PORT: String(port) }));
    await waitReady(base, app);
    await waitForOutput(app, 'partner worker started');
    return { app, base, load: new Load(c, () => base) };
  };
  const [ra, rb] = [await run(a), await run(b)];
  ra.load.start(1);
  rb.load.start(1);
  await sleep(5000);
  await Promise.all([ra.load.stop(), rb.load.stop()]);
  await Promise.all([ra.load.replay(), rb.load.replay()]);
  await Promise.all([settle(a, ra.load), settle(b, rb.load)]);
  await expectInvariants(a, ra.load);
  await expectInvariants(b, rb.load);

  // Each instance's manual bank queue holds jobs of its own tasks only, under its own prefix.
  const redis = new Redis(a.redisUrl, { maxRetriesPerRequest: null });
  try {
    for (const c of [a, b]) {
      const queue = new Queue(partnerQueueName(ids.manualBank), { connection: redis, prefix: c.queuePrefix });
      const jobIds = (await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'])).map((j) => j.id);
      await queue.close();
      const own = new Set((await c.db('tasks').where('institution_id', ids.manualBank).select('id')).map((r: { id: string }) => r.id));
      expect(jobIds.length).toBeGreaterThan(0);
      expect(jobIds.filter((id) => !own.has(id!))).toEqual([]);
    }
  } finally {
    redis.disconnect();
  }
  // No worker found a job whose task its database does not have.
  for (const r of [ra, rb]) {
    expect(r.app.logLines().filter((l) => l.level !== undefined && Number(l.level) >= 40 && !('req' in l))).toEqual([]);
    expect((await stopProcess(r.app)).code).toBe(0);
  }
});
