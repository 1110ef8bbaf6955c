/**
 * Every process the benchmark starts is registered here, so that a failure, Ctrl-C or an early
 * exit at any point still leaves nothing running. A process started `detached` leads a process
 * group of its own (npm → sh → node); such a group is signalled as a whole, by its id, and stays
 * registered until no process of it is left, even after its leader has exited.
 */
import { fork, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
const groups = new Set<number>();

export function track<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Registers a child started with `detached: true`, whose pid is its process group's id. */
export function trackGroup<T extends ChildProcess>(child: T): T {
  if (child.pid !== undefined) groups.add(child.pid);
  return child;
}

/** True while any process of the group is still alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // nothing left in it
  }
}

/** Waits until no process of the group is left; SIGKILLs it past the deadline. Answers whether it had to. */
export async function awaitGroupGone(pgid: number, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (groupAlive(pgid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  let killed = false;
  if (groupAlive(pgid)) {
    signalGroup(pgid, 'SIGKILL');
    killed = true;
    while (groupAlive(pgid)) await new Promise((r) => setTimeout(r, 50));
  }
  groups.delete(pgid);
  return killed;
}

/** Last resort, synchronous (it also runs from process.on('exit')): SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const pgid of groups) if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  groups.clear();
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

/**
 * A measuring child of ours (this same file, run with `flag`): forked, handed its spec, and
 * answered once it says it is ready (its inputs are made, before any clock starts). `exited`
 * rejects if it exits before it is done, so a wait on its answer cannot hang on a dead child.
 */
export async function forkReady(file: string, flag: string, spec: unknown, label: string): Promise<{ proc: ChildProcess; exited: Promise<never> }> {
  const proc = track(fork(file, [flag], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const exited = new Promise<never>((_, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code, signal) => reject(new Error(`${label} exited early (${signal ?? code})`)));
  });
  exited.catch(() => undefined);
  proc.send(spec as object);
  await Promise.race([new Promise((resolve) => proc.once('message', resolve)), exited]);
  return { proc, exited };
}

/** Tells a forkReady child to start, and answers its result. */
export async function goAndAnswer<T>(child: { proc: ChildProcess; exited: Promise<never> }): Promise<T> {
  const result = new Promise<T>((resolve) => child.proc.once('message', (m) => resolve(m as T)));
  child.proc.send('go');
  return Promise.race([result, child.exited]);
}
