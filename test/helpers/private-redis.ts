import { waitFor } from './lifecycle';
import { killGroup, startProcess, stopProcess, waitForOutput, type Started } from './processes';

export type PrivateRedis = {
  url: string;
  /** Stops the server (SIGKILL: nothing is saved, and it comes back empty). */
  stop(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  start(): Promise<void>;
  running(): boolean;
};

/**
 * A redis-server of the test's own, on `port`, without persistence: a test may stop it and
 * start it empty without touching the machine's shared Redis.
 */
export async function startPrivateRedis(port: number): Promise<PrivateRedis> {
  let proc: Started | undefined;
  const start = async () => {
    proc = startProcess('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction',
    ], {});
    await waitForOutput(proc, 'Ready to accept connections', 15_000);
  };
  const stop = async () => {
    const p = proc;
    proc = undefined;
    if (!p) return;
    try {
      await stopProcess(p, 'SIGKILL', 10_000);
    } finally {
      killGroup(p);
    }
    // The port is free again once the process is gone.
    await waitFor(async () => !p.alive(), 'redis-server to exit', 10_000);
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, stop, start, running: () => proc?.alive() ?? false };
}
