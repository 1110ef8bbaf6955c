/**
 * Every process the benchmark starts is registered here, so that a failure, Ctrl-C or an early
 * exit at any point still leaves nothing running. A process started `detached` leads a process
 * group of its own (npm → sh → node); such a group is signalled as a whole, by its id, and stays
 * registered until no process of it is left, even after its leader has exited.
 */
import type { ChildProcess } from 'node:child_process';

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
