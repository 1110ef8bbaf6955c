import type { Actor } from '../auth/actor';
import { SYSTEM_ACTOR } from '../auth/actor';
import { coalesced } from '../coalesce';
import type { ServiceContext } from '../context';
import { isBlockingTask, isReturnTask } from '../domain/task-kinds';
import type { TaskEngine } from './task-engine';
import { openBlockingKey } from '../domain/task-planning';
import { findInstitution, toInstitutionWithSecret, type InstitutionWithSecret } from '../admin/institutions.repo';
import { recordEvent, recordEvents, type EventActor } from '../audit/events.repo';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import { isPartnerSide } from '../auth/actor';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import { mayDecideCases } from '../reports/case-closing.service';
import {
  assignTask, cancelTask, escalateOverdue, lockOpenTasksOfReport, lockTask, markDeliveryFailed, markManyDispatched, requeueFailed, tasksForDispatch,
} from './task-lifecycle.repo';
import { findTask, toTask, type Task, type TaskRow } from './tasks.repo';
import type { DbOrTrx } from '../db';
import { insertEscalations } from './escalations.repo';

/** The moves of a task between creation and its end: assignment, dispatch, delivery failure, escalation, cancellation. */
export class TaskLifecycleService {
  // Every partner worker's jobs run in this process: their reads and writes of task rows are
  // coalesced, a round trip per batch instead of several per task.
  private readonly dispatchViews = coalesced(async (ids: readonly string[]) => {
    const found = await tasksForDispatch(this.ctx.db, ids);
    const now = new Date();
    return ids.map((id) => {
      const hit = found.get(id);
      return hit ? { task: toTask(hit.task, undefined, now), institution: hit.institution && toInstitutionWithSecret(hit.institution) } : null;
    });
  }, { maxBatchSize: 500 });

  private readonly dispatches = coalesced(async (deliveries: readonly { id: string; institutionId: string; integration: string }[]) => {
    // Two copies of one job can end in the same batch (a lost job enqueued again while a copy was in
    // hand): the first is the delivery, the others raced it.
    const first = new Map<string, (typeof deliveries)[number]>();
    for (const d of deliveries) if (!first.has(d.id)) first.set(d.id, d);
    const moved = await markManyDispatched(this.ctx.db, [...first.values()]);
    return deliveries.map((d) => first.get(d.id) === d && moved.has(d.id));
  }, { maxBatchSize: 500, keyOf: (d) => d.id });

  constructor(private readonly ctx: ServiceContext, private readonly engine: TaskEngine) {}

  /**
   * A supervisor sends an unrouted task to an institution, or a task whose deliveries ran out to
   * another institution of the same kind; it is queued there and enqueued after commit.
   */
  async assign(actor: Actor, taskId: string, institutionId: string): Promise<Task> {
    if (actor.role !== 'admin' && actor.role !== 'supervisor') throw new ForbiddenError();
    const task = await this.ctx.db.transaction(async (trx) => {
      const row = await lockTask(trx, taskId);
      if (!row) throw new NotFoundError('No such task.');
      if (row.status !== 'unrouted' && row.status !== 'delivery_failed') {
        throw new ConflictError('conflict', `Only an unrouted task or one whose delivery failed can be assigned; this one is ${row.status}.`);
      }
      const institution = await findInstitution(trx, institutionId);
      if (!institution || !institution.active || institution.kind === 'police') {
        throw new ValidationError([{ path: 'institutionId', message: 'is not an active partner institution' }]);
      }
      if (row.status === 'delivery_failed') {
        const current = row.institution_id ? await findInstitution(trx, row.institution_id) : undefined;
        if (institution.id === row.institution_id) {
          throw new ValidationError([{ path: 'institutionId', message: 'is the institution whose deliveries failed; retry the task instead' }]);
        }
        if (current && institution.kind !== current.kind) {
          throw new ValidationError([{ path: 'institutionId', message: `is not a ${current.kind}, like the institution the task was for` }]);
        }
      }
      const key = isBlockingTask(row.kind) ? openBlockingKey(row.kind, institution.id, { kind: row.target_kind, value: row.target_value }) : null;
      const updated = await assignTask(trx, row.id, row.version, row.status, institution.id, key);
      if (!updated) throw new ConflictError('version_mismatch', 'The task changed while it was being assigned.');
      await recordEvent(trx, actor, {
        type: 'task.assigned',
        reportId: row.report_id,
        taskId: row.id,
        data: {
          institutionId: institution.id, version: updated.version,
          ...(row.status === 'delivery_failed' ? { previousInstitutionId: row.institution_id, previousStatus: row.status } : {}),
        },
      });
      return toTask(updated);
    });
    // The task may have been with this institution before (a finished job under its id).
    await this.ctx.dispatcher.requeue([task]);
    return (await findTask(this.ctx.db, task.id)) ?? task;
  }

  /**
   * Center staff send a task whose deliveries ran out to its institution again: one new round of
   * deliveries. Racing clicks move it once; the second is 409, like a task that never failed.
   */
  async retry(actor: Actor, taskId: string): Promise<Task> {
    if (isPartnerSide(actor)) throw new ForbiddenError();
    const [moved] = await this.ctx.db.transaction(async (trx) => {
      const rows = await requeueFailed(trx, { id: taskId });
      if (rows.length === 0) {
        const row = await trx<TaskRow>('tasks').where({ id: taskId }).first();
        if (!row) throw new NotFoundError('No such task.');
        throw new ConflictError('conflict', `Only a task whose delivery failed can be retried; this one is ${row.status}.`);
      }
      await this.recordRetries(trx, actor, rows, 'staff');
      return rows;
    });
    await this.ctx.dispatcher.requeue([{ id: moved!.id, institutionId: moved!.institution_id, status: moved!.status }]);
    const task = await findTask(this.ctx.db, taskId);
    if (!task) throw new NotFoundError('No such task.');
    return task;
  }

  /**
   * The center's own retries of an institution's failed deliveries: `probe` sends its oldest one
   * alone, once (does the endpoint answer again?); `all` sends every one of them, after a
   * delivery there succeeded. Answers the tasks moved back to queued.
   */
  async retryInstitution(institutionId: string, how: 'probe' | 'all'): Promise<number> {
    const moved = await this.ctx.db.transaction(async (trx) => {
      const rows = await requeueFailed(trx, how === 'probe' ? { probeOf: institutionId } : { allOf: institutionId });
      await this.recordRetries(trx, SYSTEM_ACTOR, rows, how === 'probe' ? 'probe' : 'recovered');
      return rows;
    });
    await this.ctx.dispatcher.requeue(moved.map((r) => ({ id: r.id, institutionId: r.institution_id, status: r.status })), { probe: how === 'probe' });
    return moved.length;
  }

  private recordRetries(trx: Parameters<typeof recordEvents>[0], actor: EventActor, rows: TaskRow[], why: 'staff' | 'probe' | 'recovered') {
    return recordEvents(trx, actor, rows.map((r) => ({
      type: 'task.retried',
      reportId: r.report_id,
      taskId: r.id,
      data: { institutionId: r.institution_id, why, lastError: r.delivery_error, version: r.version },
    })));
  }

  /**
   * An officer calls off an open task (the money was recovered another way, the report was a
   * mistake). Nothing delivers it again: the partner worker, the reconciler and the simulated
   * partner act only on open tasks, and a job already on the queue finds it cancelled. A result that
   * comes later, by API or feed, is 409 task_closed, like any result for a closed task.
   */
  async cancel(actor: Actor, taskId: string, reason: string): Promise<Task> {
    if (!mayDecideCases(actor)) throw new ForbiddenError();
    await this.ctx.db.transaction(async (trx) => {
      // The same row lock a result takes: a cancel and a result racing for one task take turns, and
      // the second finds the task closed.
      const row = await lockTask(trx, taskId);
      if (!row) throw new NotFoundError('No such task.');
      if (!OPEN_TASK_STATUSES.includes(row.status)) throw new ConflictError('task_closed', `This task is already ${row.status}.`);
      await this.cancelLocked(trx, actor, row, { reason });
    });
    this.ctx.metrics.tasksClosed.inc({ outcome: 'cancelled' });
    const task = await findTask(this.ctx.db, taskId);
    if (!task) throw new NotFoundError('No such task.');
    return task;
  }

  /** Cancels an open task the caller has locked; `data` goes into its event beside the reason. */
  private async cancelLocked(trx: DbOrTrx, actor: Actor, row: TaskRow, data: { reason: string; caseClosed?: true }): Promise<void> {
    const cancelled = await cancelTask(trx, row.id, row.version);
    if (!cancelled) throw new ConflictError('version_mismatch', 'The task changed while it was being cancelled.');
    // A cancelled return will never be paid: its reservation on the hold is freed with it.
    if (isReturnTask(row.kind)) await this.engine.holdBookings.settleReturnTask(trx, actor, row, { paidMinor: null, taskResultId: null, why: 'cancelled' });
    await recordEvent(trx, actor, {
      type: 'task.cancelled',
      reportId: row.report_id,
      taskId: row.id,
      data: { ...data, previousStatus: row.status, institutionId: row.institution_id, version: cancelled.version },
    });
  }

  /**
   * Closing a report calls off its open tasks in the closing transaction (the report's row is
   * locked by the caller), each with the closing reason: nothing is delivered again, and a partner's
   * later answer is 409 task_closed. Answers how many were cancelled.
   */
  async cancelOpenTasksOfReport(trx: DbOrTrx, actor: Actor, reportId: string, reason: string): Promise<number> {
    const open = await lockOpenTasksOfReport(trx, reportId);
    for (const row of open) await this.cancelLocked(trx, actor, row, { reason, caseClosed: true });
    for (let i = 0; i < open.length; i++) this.ctx.metrics.tasksClosed.inc({ outcome: 'cancelled' });
    return open.length;
  }

  /**
   * A task with its institution, for delivery. Deliveries starting at about the same time share
   * one query (coalesced until the event loop's next turn).
   */
  forDispatch(taskId: string): Promise<{ task: Task; institution: InstitutionWithSecret | null } | null> {
    return this.dispatchViews.load(taskId);
  }

  /**
   * queued → dispatched while still routed to `institutionId`; false when another copy of the job
   * got there first. Deliveries ending at about the same time share one statement.
   */
  markDispatched(taskId: string, institutionId: string, integration: string): Promise<boolean> {
    return this.dispatches.load({ id: taskId, institutionId, integration });
  }

  /** After the last delivery attempt: the task is delivery_failed, with the error, for staff to retry or reassign. */
  async recordDeliveryFailure(taskId: string, institutionId: string, error: string, attempts: number): Promise<boolean> {
    return this.ctx.db.transaction(async (trx) => {
      const row = await markDeliveryFailed(trx, taskId, institutionId, error);
      if (!row) return false;
      await recordEvent(trx, SYSTEM_ACTOR, {
        type: 'task.delivery_failed',
        reportId: row.report_id,
        taskId: row.id,
        data: { institutionId: row.institution_id, error: error.slice(0, 500), attempts, version: row.version },
      });
      return true;
    });
  }

  /** Marks open tasks past their due time as escalated, once each; returns how many it marked. */
  async escalateOverdue(): Promise<number> {
    return this.ctx.db.transaction(async (trx) => {
      const rows = await escalateOverdue(trx);
      // The supervisors' notifications, in the same transaction: a task is escalated once, and told once.
      await insertEscalations(trx, rows.map((r) => ({ taskId: r.id, reportId: r.report_id, institutionId: r.institution_id, dueAt: r.due_at })));
      await recordEvents(
        trx,
        SYSTEM_ACTOR,
        rows.map((r) => ({
          type: 'task.overdue',
          reportId: r.report_id,
          taskId: r.id,
          data: { institutionId: r.institution_id, dueAt: r.due_at.toISOString(), status: r.status, version: r.version },
        })),
      );
      return rows.length;
    });
  }
}
