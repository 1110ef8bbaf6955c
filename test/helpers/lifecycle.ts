import { SYSTEM_ACTOR } from '../../server/auth/actor';
import type { Task } from '../../server/tasks/tasks.repo';
import type { TaskRequest } from '../../server/domain/task-planning';
import type { TestApp } from './test-app';

let accountSeq = 0;

/** An interception task written and enqueued the way report intake does it (after commit). */
export async function interceptTask(
  t: TestApp,
  opts: { account?: string; toInstitutionId?: string | null; amountMinor?: number; depth?: number; reportId?: string | null; enqueue?: boolean } = {},
): Promise<Task> {
  const request: TaskRequest = {
    reportId: opts.reportId ?? null,
    kind: 'intercept_funds',
    targetKind: 'bank_account',
    targetValue: opts.account ?? `62220${String(Date.now() % 1e9).padStart(9, '0')}${String(++accountSeq).padStart(4, '0')}`,
    amountMinor: opts.amountMinor ?? 1_000_000,
    currency: 'CNY',
    depth: opts.depth ?? 1,
    toInstitutionId: opts.toInstitutionId ?? null,
  };
  const [task] = await t.db.transaction((trx) => t.deps.services.engine.create(trx, SYSTEM_ACTOR, [request]));
  if (opts.enqueue !== false) await t.deps.dispatcher.enqueue([task!]);
  return task!;
}

export async function blockingTask(t: TestApp, opts: { phone: string; enqueue?: boolean }): Promise<Task> {
  const request: TaskRequest = { reportId: null, kind: 'block_number', targetKind: 'phone', targetValue: opts.phone };
  const [task] = await t.db.transaction((trx) => t.deps.services.engine.create(trx, SYSTEM_ACTOR, [request]));
  if (opts.enqueue !== false) await t.deps.dispatcher.enqueue([task!]);
  return task!;
}

/** Polls until `check` returns a truthy value, or fails with the last value seen. */
export async function waitFor<T>(check: () => Promise<T>, what: string, timeoutMs = 10_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

export async function taskRow(t: TestApp, id: string) {
  return t.db('tasks').where({ id }).first();
}

export async function eventsOf(t: TestApp, taskId: string, type?: string): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const q = t.db('events').where({ task_id: taskId }).orderBy('id');
  if (type) q.andWhere({ type });
  return q;
}

/** Settings that keep worker tests fast. */
export const FAST_WORKERS = {
  INSTITUTION_POLL_MS: '200',
  RECONCILE_INTERVAL_MS: '200',
  RECONCILE_MIN_AGE_MS: '100',
  SIMULATED_DELAY_MS: '50',
  JOB_BACKOFF_MS: '50',
  JOB_ATTEMPTS: '3',
  SHUTDOWN_TIMEOUT_MS: '2000',
};
