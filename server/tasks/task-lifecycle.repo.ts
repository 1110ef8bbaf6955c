import { prepared, type Db, type DbOrTrx } from '../db';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import { TASK_COLUMNS, type TaskRow } from './tasks.repo';
import type { InstitutionRow } from '../admin/institutions.repo';
import { SYSTEM_ACTOR } from '../auth/actor';

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
 * Tasks with their institution (secret included, for signing), for the partner workers: one
 * query for every delivery that starts at about the same time.
 */
export async function tasksForDispatch(db: DbOrTrx, ids: readonly string[]): Promise<Map<string, { task: TaskRow; institution: InstitutionRow | null }>> {
  const { rows } = await db.raw(
    `SELECT ${TASK_COLUMNS.map((c) => `t.${c}`).join(', ')}, r.case_number, to_jsonb(i) AS institution
       FROM tasks t LEFT JOIN institutions i ON i.id = t.institution_id LEFT JOIN reports r ON r.id = t.report_id
      WHERE t.id = ANY(?::uuid[])`,
    [[...ids]],
  ).options(prepared('tasks-for-dispatch'));
  return new Map((rows as (TaskRow & { institution: InstitutionRow | null })[]).map(({ institution, ...task }) => [task.id, { task, institution }]));
}

/**
 * queued → dispatched for many deliveries in one statement, with their `task.dispatched` events;
 * each only while the task is still queued at the institution that delivered it: a second copy of
 * a job changes nothing, and an unrelated change meanwhile (an overdue escalation bumping the
 * version) does not make a delivered task look undelivered. Rows are locked in id order, so two
 * such statements never wait on each other in a circle. Answers the ids it moved.
 */
export async function markManyDispatched(
  db: DbOrTrx, deliveries: readonly { id: string; institutionId: string; integration: string }[],
): Promise<Set<string>> {
  const { rows } = await db.raw(
    `WITH req AS (
       -- Two copies of one job in a batch ask once: the events join below must find one request per task.
       SELECT DISTINCT ON (id) * FROM unnest(?::uuid[], ?::text[], ?::text[]) AS r(id, institution_id, integration) ORDER BY id
     ), locked AS (
       -- By id, one primary-key probe each, whatever the statistics of the fast-changing table say.
       SELECT t.id FROM req CROSS JOIN LATERAL (
         SELECT id FROM tasks WHERE id = req.id AND institution_id = req.institution_id AND status = 'queued'
       ) t ORDER BY t.id FOR UPDATE OF t
     ), moved AS (
       UPDATE tasks t SET version = t.version + 1, updated_at = now(), status = 'dispatched', dispatched_at = now(),
                          delivery_failed_at = NULL, delivery_error = NULL
         FROM locked WHERE t.id = locked.id AND t.status = 'queued'
       RETURNING t.id, t.report_id, t.institution_id, t.version
     ), ev AS (
       INSERT INTO events (type, actor_type, actor_id, actor_name, report_id, task_id, data)
       SELECT 'task.dispatched', ?, NULL, ?, m.report_id, m.id,
              jsonb_build_object('institutionId', m.institution_id, 'integration', req.integration, 'version', m.version)
         FROM moved m JOIN req ON req.id = m.id
     )
     SELECT id FROM moved`,
    [deliveries.map((d) => d.id), deliveries.map((d) => d.institutionId), deliveries.map((d) => d.integration), SYSTEM_ACTOR.type, SYSTEM_ACTOR.name],
  ).options(prepared('mark-many-dispatched'));
  return new Set((rows as { id: string }[]).map((r) => r.id));
}

/** queued → delivery_failed after the last delivery attempt, while still routed to `institutionId`. */
export async function markDeliveryFailed(db: DbOrTrx, id: string, institutionId: string, error: string): Promise<TaskRow | undefined> {
  const [row] = await db('tasks')
    .where({ id, status: 'queued', institution_id: institutionId })
    .update({ ...bump(db), status: 'delivery_failed', delivery_failed_at: db.fn.now(), delivery_error: error.slice(0, 1000) })
    .returning('*');
  return row as TaskRow | undefined;
}

/**
 * delivery_failed → queued again, for a new round of deliveries: one task (`id`), the oldest
 * failure of an institution (`probeOf`, a probe of whether its endpoint answers again), or all of
 * an institution's (`allOf`). The last error stays on the row until a delivery succeeds. Two
 * racing calls move a task once: the second finds it queued and moves nothing.
 */
export async function requeueFailed(
  db: DbOrTrx, which: { id: string } | { probeOf: string } | { allOf: string },
): Promise<TaskRow[]> {
  const q = db('tasks').where('status', 'delivery_failed');
  if ('id' in which) q.where('id', which.id);
  else if ('allOf' in which) q.where('institution_id', which.allOf);
  else {
    q.where('id', db('tasks').select('id').where({ institution_id: which.probeOf, status: 'delivery_failed' })
      .orderBy([{ column: 'delivery_failed_at' }, { column: 'id' }]).limit(1).forUpdate().skipLocked());
  }
  return (await q.update({ ...bump(db), status: 'queued' }).returning('*')) as TaskRow[];
}

/** Institutions with failed deliveries, and when the last of them failed. */
export async function failedDeliveries(db: DbOrTrx): Promise<{ institutionId: string; tasks: number; lastFailedAt: Date }[]> {
  const rows: { institution_id: string; tasks: string | number; last_failed_at: Date | null }[] = await db('tasks')
    .select('institution_id')
    .count('* as tasks')
    .max('delivery_failed_at as last_failed_at')
    .where('status', 'delivery_failed')
    .groupBy('institution_id');
  return rows.map((r) => ({ institutionId: r.institution_id, tasks: Number(r.tasks), lastFailedAt: r.last_failed_at ?? new Date(0) }));
}

export async function closeTask(trx: DbOrTrx, id: string, version: number, status: 'done' | 'failed'): Promise<TaskRow | undefined> {
  const [row] = await trx('tasks')
    .where({ id, version })
    .whereIn('status', OPEN_TASK_STATUSES)
    // A task answered before its delivery was recorded was delivered all the same (task-engine.ts).
    .update({ ...bump(trx), status, closed_at: trx.fn.now(), dispatched_at: trx.raw('coalesce(dispatched_at, now())') })
    .returning('*');
  return row as TaskRow | undefined;
}

/**
 * An open task → cancelled. Its blocking key stops counting once it is not open (the unique index
 * covers open tasks only), so a later report on the same target opens a task again.
 */
export async function cancelTask(trx: DbOrTrx, id: string, version: number): Promise<TaskRow | undefined> {
  const [row] = await trx('tasks')
    .where({ id, version })
    .whereIn('status', OPEN_TASK_STATUSES)
    .update({ ...bump(trx), status: 'cancelled', closed_at: trx.fn.now() })
    .returning('*');
  return row as TaskRow | undefined;
}

/**
 * A report's open tasks, locked, when the report closes; a blocking task that another open report
 * joined (its indicator named the same target) is left open: that report still needs the block.
 */
export async function lockOpenTasksOfReport(trx: DbOrTrx, reportId: string): Promise<TaskRow[]> {
  return (await trx('tasks as t')
    .select('t.*')
    .where('t.report_id', reportId)
    .whereIn('t.status', OPEN_TASK_STATUSES)
    .whereNotExists(function joinedElsewhere() {
      this.select(trx.raw('1')).from('report_indicators as ri').join('reports as r', 'r.id', 'ri.report_id')
        .whereRaw('ri.blocking_task_id = t.id').whereNot('ri.report_id', reportId).where('r.status', 'open');
    })
    .orderBy([{ column: 't.created_at' }, { column: 't.id' }])
    .forUpdate('t')) as TaskRow[];
}

/**
 * unrouted → queued at `institutionId`. A blocking task takes its key there (`openBlockingKey`),
 * unless another open task already holds it: then it stays a task of its own, without a key.
 */
export async function assignTask(
  trx: DbOrTrx, id: string, version: number, from: 'unrouted' | 'delivery_failed', institutionId: string, openBlockingKey: string | null,
): Promise<TaskRow | undefined> {
  const key = openBlockingKey === null
    ? null
    : trx.raw(`CASE WHEN EXISTS (SELECT 1 FROM tasks WHERE open_blocking_key = ? AND id <> ? AND status IN (${OPEN_TASK_STATUSES.map(() => '?').join(',')})) THEN NULL ELSE ? END`,
      [openBlockingKey, id, ...OPEN_TASK_STATUSES, openBlockingKey]);
  const [row] = await trx('tasks')
    .where({ id, version, status: from })
    .update({
      ...bump(trx), status: 'queued', institution_id: institutionId, open_blocking_key: key,
      // Another institution's failures say nothing about the new one.
      ...(from === 'delivery_failed' ? { delivery_failed_at: null, delivery_error: null } : {}),
    })
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
    .whereIn('status', ['queued', 'dispatched', 'delivery_failed'])
    // Their blocking keys named the institution; unrouted, they no longer stand for its one open task.
    .update({ ...bump(trx), status: 'unrouted', institution_id: null, dispatched_at: null, open_blocking_key: null })
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
 * crash between commit and enqueue). A task whose deliveries ran out is `delivery_failed`, not
 * queued, so it is not among them: its retries are paced per institution (DeliveryRetrier).
 * Pages by (updated_at, id) after `after`, so a long backlog of tasks whose jobs are alive cannot
 * hide the newer ones behind it.
 */
export async function staleQueuedTasks(
  db: Db, minAgeMs: number, limit: number, after?: { updatedAt: string; id: string },
): Promise<PendingTask[]> {
  const q = db('tasks')
    .select('id', 'institution_id', db.raw('updated_at::text AS updated_at'))
    .where('status', 'queued')
    .whereNotNull('institution_id')
    .where('updated_at', '<', db.raw(`now() - make_interval(secs => ?)`, [minAgeMs / 1000]));
  if (after) q.whereRaw('(updated_at, id) > (?::timestamptz, ?::uuid)', [after.updatedAt, after.id]);
  const rows: { id: string; institution_id: string; updated_at: string }[] = await q.orderBy([{ column: 'updated_at' }, { column: 'id' }]).limit(limit);
  return rows.map((r) => ({ id: r.id, institutionId: r.institution_id, updatedAt: r.updated_at }));
}

/** Whether the task is still waiting for a delivery at `institutionId`, as of now. */
export async function isQueuedAt(db: DbOrTrx, id: string, institutionId: string): Promise<boolean> {
  return (await db('tasks').first('id').where({ id, institution_id: institutionId, status: 'queued' })) !== undefined;
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
