/**
 * The dispatch baseline: bare BullMQ workers with an empty processor, in a child process of their
 * own, on the same Redis, with the same number of queues and jobs, the same job options and the
 * same worker settings (concurrency, rate limiter) as the app's partner workers. What they manage
 * is what BullMQ and Redis can do on this machine; the app's rate is read against it.
 *
 * Like the app's measure, the jobs are added while the queues are paused, and the clock starts
 * when they are resumed: adding jobs is not part of either figure.
 */
import { Queue, Worker, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { forkReady, goAndAnswer } from './processes';

export type BareWorkersSpec = {
  redisUrl: string;
  prefix: string;
  queues: string[];
  jobs: number;
  /** Options of every job (the app's, from its dispatcher); jobId is set per job. */
  jobOptions: JobsOptions;
  concurrency: number;
  limiter: { max: number; duration: number };
};

export type BareWorkersResult = { jobs: number; completed: number; ms: number; rate: number };

async function child(spec: BareWorkersSpec): Promise<void> {
  const connection = new Redis(spec.redisUrl, { maxRetriesPerRequest: null });
  const queues = spec.queues.map((name) => new Queue(name, { connection, prefix: spec.prefix }));
  await Promise.all(queues.map((q) => q.pause()));
  for (let i = 0; i < spec.jobs; i += 1000) {
    const byQueue = new Map<number, { name: string; data: { taskId: string }; opts: JobsOptions }[]>();
    for (let j = i; j < Math.min(spec.jobs, i + 1000); j++) {
      const q = j % queues.length;
      const taskId = `bare-${j}`;
      byQueue.set(q, [...(byQueue.get(q) ?? []), { name: 'deliver', data: { taskId }, opts: { ...spec.jobOptions, jobId: taskId } }]);
    }
    await Promise.all([...byQueue].map(([q, jobs]) => queues[q]!.addBulk(jobs)));
  }

  let completed = 0;
  let lastAt = 0;
  let finish: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => { finish = resolve; });
  const workers = spec.queues.map((name) => {
    const w = new Worker(name, async () => undefined, { connection, prefix: spec.prefix, concurrency: spec.concurrency, limiter: spec.limiter });
    w.on('error', (err) => process.stderr.write(`bare worker error: ${err.message}\n`));
    w.on('completed', () => {
      completed++;
      lastAt = performance.now();
      if (completed === spec.jobs) finish();
    });
    return w;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  await new Promise<void>((resolve) => {
    process.once('message', () => resolve());
    process.send!('ready');
  });
  const started = performance.now();
  await Promise.all(queues.map((q) => q.resume()));
  await Promise.race([allDone, new Promise((r) => setTimeout(r, 120_000))]);
  const ms = (completed === spec.jobs ? lastAt : performance.now()) - started;
  const result: BareWorkersResult = { jobs: spec.jobs, completed, ms, rate: completed / (ms / 1000) };
  process.send!(result);
  process.removeAllListeners('disconnect');
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
  connection.disconnect();
}

/** Prepares the bare workers (jobs added, queues paused) and runs them when `go` is called. */
export async function prepareBareWorkers(spec: BareWorkersSpec): Promise<{ go(): Promise<BareWorkersResult> }> {
  const child = await forkReady(__filename, '--bare-workers', spec, 'the bare workers');
  const { proc } = child;
  return {
    async go() {
      const r = await goAndAnswer<BareWorkersResult>(child);
      // It closes its workers and exits by itself; nothing of it may touch Redis after this.
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      if (proc.exitCode === null && proc.signalCode === null) {
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 15_000))]);
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGKILL');
          await gone;
        }
      }
      return r;
    },
  };
}

if (process.argv[2] === '--bare-workers') {
  // Without the orchestrator there is nobody to report to: stop.
  process.once('disconnect', () => process.exit(1));
  process.once('message', (spec) => {
    child(spec as BareWorkersSpec).then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
      },
    );
  });
}
