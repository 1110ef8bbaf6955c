import type { DbOrTrx } from '../db';
import type { Actor } from '../auth/actor';

export type EventActor = Pick<Actor, 'type' | 'name'> & { id: string | null } | { type: 'system'; id: null; name: string };

export type AuditEvent = {
  id: number;
  type: string;
  occurredAt: string;
  actor: { type: string; id: string | null; name: string | null };
  reportId: string | null;
  taskId: string | null;
  holdId: string | null;
  data: Record<string, unknown>;
};

type EventRow = {
  id: number; type: string; occurred_at: Date; actor_type: string; actor_id: string | null; actor_name: string | null;
  report_id: string | null; task_id: string | null; hold_id: string | null; data: Record<string, unknown>;
};

export type NewEvent = { type: string; reportId?: string | null; taskId?: string | null; holdId?: string | null; data?: Record<string, unknown> };

/** Every state change is an event with who, what and when; written in the use case's transaction. */
export async function recordEvents(db: DbOrTrx, actor: EventActor, events: NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db('events').insert(
    events.map((e) => ({
      type: e.type,
      actor_type: actor.type,
      actor_id: actor.id,
      actor_name: actor.name,
      report_id: e.reportId ?? null,
      task_id: e.taskId ?? null,
      hold_id: e.holdId ?? null,
      data: JSON.stringify(e.data ?? {}),
    })),
  );
}

export async function recordEvent(db: DbOrTrx, actor: EventActor, event: NewEvent): Promise<void> {
  await recordEvents(db, actor, [event]);
}

export function toAuditEvent(row: EventRow): AuditEvent {
  return {
    id: row.id,
    type: row.type,
    occurredAt: row.occurred_at.toISOString(),
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    reportId: row.report_id,
    taskId: row.task_id,
    holdId: row.hold_id ?? null,
    data: row.data,
  };
}

// Timelines are in the order things were written: the events' sequence (id). Times alone tie
// within a statement and, before the clock default, within a transaction ("report filed" and its
// "task queued" are one statement).

/** A report's timeline: its own events and those of its tasks, oldest first. */
export async function eventsForReport(db: DbOrTrx, reportId: string): Promise<AuditEvent[]> {
  const rows: EventRow[] = await db('events')
    .where('report_id', reportId)
    .orWhereIn('task_id', db('tasks').select('id').where('report_id', reportId))
    .orderBy('id');
  return rows.map(toAuditEvent);
}

/**
 * A task's timeline: its own events, oldest first, and, with `withReportFiled`, the filing of the
 * report it came from (center staff see where the task began; partners see only the task).
 */
export async function eventsForTask(db: DbOrTrx, task: { id: string; reportId: string | null }, withReportFiled: boolean): Promise<AuditEvent[]> {
  const rows: EventRow[] = await db('events')
    .where('task_id', task.id)
    .modify((q) => {
      if (withReportFiled && task.reportId) q.orWhere((w) => w.where({ report_id: task.reportId, type: 'report.created' }).whereNull('task_id'));
    })
    .orderBy('id');
  return rows.map(toAuditEvent);
}

/** A hold's timeline: its own events (opened, renewed, released, returns, disputes), oldest first. */
export async function eventsForHold(db: DbOrTrx, holdId: string): Promise<AuditEvent[]> {
  const rows: EventRow[] = await db('events').where('hold_id', holdId).orderBy([{ column: 'occurred_at' }, { column: 'id' }]);
  return rows.map(toAuditEvent);
}
