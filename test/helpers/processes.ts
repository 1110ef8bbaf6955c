import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { waitFor } from './lifecycle';

export const ROOT = path.resolve(__dirname, '..', '..');

/** The long-running entries, run from the sources as `npm run demo` runs them (node with tsx's loader). */
export const ENTRIES = {
  web: 'server/main.ts',
  workers: 'workers/main.ts',
  all: 'server/cli/start-all.ts',
  demo: 'server/cli/demo.ts',
} as const;

export type Started = {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** The JSON log lines the process wrote, parsed; anything else it wrote is in `plainLines`. */
  logLines(): Record<string, unknown>[];
  plainLines(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
};

const running = new Set<Started>();

/** Starts `command args` in a process group of its own, its output kept. */
export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, opts: SpawnOptions = {}): Started {
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const lines = () => output.split('\n').filter((l) => l.trim() !== '');
  const started: Started = {
    child,
    pid: child.pid!,
    output: () => output,
    logLines: () => lines().flatMap((l) => {
      try {
        const parsed = JSON.parse(l) as unknown;
        return parsed && typeof parsed === 'object' ? [parsed as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    }),
    plainLines: () => lines().filter((l) => !l.startsWith('{')),
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
  running.add(started);
  void exited.then(() => running.delete(started));
  return started;
}

/** One of the app's entries, through node and tsx's loader (no npm, no tsx wrapper process). */
export function startEntry(entry: keyof typeof ENTRIES, env: NodeJS.ProcessEnv): Started {
  return startProcess(process.execPath, ['--import', 'tsx', ENTRIES[entry]], env);
}

/** True while a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for `what` in the output; fails at once if the process ends first. */
export async function waitForOutput(p: Started, what: string | RegExp, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => {
    const found = typeof what === 'string' ? p.output().includes(what) : what.test(p.output());
    if (!found && !p.alive()) throw new Error(`the process exited (${p.child.exitCode ?? p.child.signalCode}) before "${what}":\n${p.output().slice(-3000)}`);
    return found;
  }, `"${what}" in the output`, timeoutMs, 100);
}

/** Waits until GET url/readyz answers 200. */
export async function waitReady(base: string, p?: Started, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => {
    if (p && !p.alive()) throw new Error(`the process exited before it was ready:\n${p.output().slice(-3000)}`);
    try {
      return (await fetch(`${base}/readyz`)).status === 200;
    } catch {
      return false;
    }
  }, `${base}/readyz to answer 200`, timeoutMs, 200);
}

/** Signals the process group; waits for the leader's exit (SIGKILL past the deadline). */
export async function stopProcess(p: Started, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (p.alive()) p.child.kill(signal);
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
  const result = await Promise.race([p.exited, timer]);
  if (result === 'timeout') {
    killGroup(p);
    throw new Error(`no exit within ${timeoutMs} ms of ${signal}:\n${p.output().slice(-3000)}`);
  }
  return result;
}

export function killGroup(p: Started): void {
  try {
    process.kill(-p.pid, 'SIGKILL');
  } catch {
    // nothing left of it
  }
}

/** Last resort for afterAll: every process group this file started, killed. */
export function killAll(): void {
  for (const p of running) killGroup(p);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
