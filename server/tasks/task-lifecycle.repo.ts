import type { Db, DbOrTrx } from '../db';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import type { TaskRow } from './tasks.repo';

// Every UPDATE of a task row bumps version and updated_at: partners use the version for
// optimistic locking, and a racing copy of a job loses on it.
const bump = (db: DbOrTrx) => ({ version: db.raw('version + 1'), updated_at: db.fn.now() });

/** Locks the row for the rest of the transaction; scoped in the query when `institutionId` is given. */
export async function lockTask(trx: DbOrTrx, id: string, institutionId?: string): Promise<TaskRow | undefined> {
  const q = trx<TaskRow>('tasks').where({ id }).forUpdate();
  if (institutionId !== undefined) q.andWhere('institution_id', institutionId);
  return (await q.first()) as TaskRow | undefined;
}

/**
 * queued → dispatched, only while the task is still queued at the institution that delivered it:
 * a second copy of the job changes nothing, and an unrelated change meanwhile (an overdue
 * escalation bumping the version) does not make a delivered task look undelivered.
 */
export async function markDispatched(db: DbOrTrx, id: string, institutionId: string): Promise<TaskRow | undefined> {
  const [row] = await db('tasks')
    .where({ id, institution_id: institutionId, status: 'queued' })
    .update({ ...bump(db), status: 'dispatched', dispatched_at: db.fn.now(), delivery_failed_at: null, delivery_error: null })
    .returning('*');
  return row as TaskRow | undefined;
}

export async function markDeliveryFailed(db: DbOrTrx, id: string, error: string): Promise<TaskRow | undefined> {
  const [row] = await db('tasks')
    .where({ id, status: 'queued' })
    .update({ ...bump(db), delivery_failed_at: db.fn.now(), delivery_error: error.slice(0, 1000) })
    .returning('*');
  return row as TaskRow | undefined;
}

export async function closeTask(trx: DbOrTrx, id: string, version: number, status: 'done' | 'failed'): Promise<TaskRow | undefined> {
  const [row] = await trx('tasks')
    .where({ id, version })
    .whereIn('status', OPEN_TASK_STATUSES)
    .update({ ...bump(trx), status, closed_at: trx.fn.now() })
    .returning('*');
  return row as TaskRow | undefined;
}

export async function assignTask(trx: DbOrTrx, id: string, version: number, institutionId: string): Promise<TaskRow | undefined> {
  const [row] = await trx('tasks')
    .where({ id, version, status: 'unrouted' })
    .update({ ...bump(trx), status: 'queued', institution_id: institutionId })
    .returning('*');
  return row as TaskRow | undefined;
}

/**
 * Takes back the open tasks of an institution that leaves the center: they become unrouted, for a
 * supervisor to assign, instead of waiting forever on a queue nobody works.
 */
export async function unrouteOpenTasks(trx: DbOrTrx, institutionId: string): Promise<TaskRow[]> {
  return (await trx('tasks')
    .where({ institution_id: institutionId })
    .whereIn('status', ['queued', 'dispatched'])
    .update({ ...bump(trx), status: 'unrouted', institution_id: null, dispatched_at: null })
    .returning('*')) as TaskRow[];
}

/** Marks every open task past its due time that is not yet escalated; returns the rows it changed. */
export async function escalateOverdue(trx: DbOrTrx, limit = 1000): Promise<TaskRow[]> {
  const ids = trx('tasks')
    .select('id')
    .whereIn('status', OPEN_TASK_STATUSES)
    .where('due_at', '<', trx.fn.now())
    .whereNull('escalated_at')
    .orderBy('due_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
  return (await trx('tasks')
    .whereIn('id', ids)
    .update({ ...bump(trx), escalated_at: trx.fn.now() })
    .returning('*')) as TaskRow[];
}

/** `updatedAt` is PostgreSQL's own text of the timestamp: microseconds kept, so a page ends exactly. */
export type PendingTask = { id: string; institutionId: string; updatedAt: string };

/**
 * Tasks still `queued` a while after their last change: their job may be lost (Redis restarted,
 * crash between commit and enqueue). A task whose delivery failed for good waits `failedRetryMs`
 * before it is tried again, so a broken endpoint is retried in rounds, not in a tight loop.
 * Pages by (updated_at, id) after `after`, so a long backlog of tasks whose jobs are alive cannot
 * hide the newer ones behind it.
 */
export async function staleQueuedTasks(
  db: Db, minAgeMs: number, failedRetryMs: number, limit: number, after?: { updatedAt: string; id: string },
): Promise<PendingTask[]> {
  const q = db('tasks')
    .select('id', 'institution_id', db.raw('updated_at::text AS updated_at'))
    .where('status', 'queued')
    .whereNotNull('institution_id')
    .where('updated_at', '<', db.raw(`now() - make_interval(secs => ?)`, [minAgeMs / 1000]))
    .where((w) =>
      w.whereNull('delivery_failed_at').orWhere('delivery_failed_at', '<', db.raw(`now() - make_interval(secs => ?)`, [failedRetryMs / 1000])),
    );
  if (after) q.whereRaw('(updated_at, id) > (?::timestamptz, ?::uuid)', [after.updatedAt, after.id]);
  const rows: { id: string; institution_id: string; updated_at: string }[] = await q.orderBy([{ column: 'updated_at' }, { column: 'id' }]).limit(limit);
  return rows.map((r) => ({ id: r.id, institutionId: r.institution_id, updatedAt: r.updated_at }));
}

/** Dispatched tasks at simulated partners whose answer is overdue: its delayed job may be lost. */
export async function staleSimulatedTasks(db: Db, olderThanMs: number, limit: number): Promise<string[]> {
  const rows: { id: string }[] = await db('tasks as t')
    .join('institutions as i', 'i.id', 't.institution_id')
    .select('t.id')
    .where('t.status', 'dispatched')
    .where('i.integration', 'simulated')
    .where('t.dispatched_at', '<', db.raw(`now() - make_interval(secs => ?)`, [olderThanMs / 1000]))
    .orderBy('t.dispatched_at')
    .limit(limit);
  return rows.map((r) => r.id);
}
