import type { DbOrTrx } from '../db';
import type { IndicatorKind, TaskStatus } from '../domain/kinds';
import type { TaskKind } from '../domain/task-kinds';

/** An overdue task's escalation as a supervisor's notification: the task as it stands now, and whether this person has read it. */
export type EscalationRow = {
  id: string;
  taskId: string;
  reportId: string | null;
  caseNumber: string | null;
  institutionId: string | null;
  kind: TaskKind;
  status: TaskStatus;
  targetKind: IndicatorKind;
  targetValue: string;
  amountMinor: number | null;
  currency: string | null;
  dueAt: Date;
  escalatedAt: Date;
  read: boolean;
};

/** One escalation per task the overdue scan marked, in the scan's transaction. */
export async function insertEscalations(
  trx: DbOrTrx, rows: { taskId: string; reportId: string | null; institutionId: string | null; dueAt: Date }[],
): Promise<void> {
  if (!rows.length) return;
  await trx('escalations').insert(rows.map((r) => ({ task_id: r.taskId, report_id: r.reportId, institution_id: r.institutionId, due_at: r.dueAt })));
}

/** Read: at or below the person's "read everything up to" mark, or marked one by one. */
const readSql = `(e.id <= coalesce(m.read_through, 0) OR r.escalation_id IS NOT NULL)`;

function withReads(db: DbOrTrx, userId: string) {
  return db('escalations as e')
    .leftJoin('escalation_read_marks as m', 'm.user_id', db.raw('?::uuid', [userId]))
    .leftJoin('escalation_reads as r', (j) => j.on('r.escalation_id', 'e.id').andOn('r.user_id', db.raw('?::uuid', [userId])));
}

export async function countUnread(db: DbOrTrx, userId: string): Promise<number> {
  const row = await withReads(db, userId).whereRaw(`NOT ${readSql}`).count<{ n: string }[]>({ n: '*' }).first();
  return Number(row?.n ?? 0);
}

/** Newest first, paged by id; `unreadOnly` leaves out what this person has read. */
export async function listEscalations(
  db: DbOrTrx, userId: string, opts: { limit: number; before?: string; unreadOnly?: boolean },
): Promise<EscalationRow[]> {
  const q = withReads(db, userId)
    .join('tasks as t', 't.id', 'e.task_id')
    .leftJoin('reports as rep', 'rep.id', 'e.report_id')
    .select(
      'e.id', 'e.task_id', 'e.report_id', 'rep.case_number', 't.institution_id', 't.kind', 't.status', 't.target_kind', 't.target_value',
      't.amount_minor', 't.currency', 'e.due_at', 'e.escalated_at', db.raw(`${readSql} AS read`),
    )
    .orderBy('e.id', 'desc')
    .limit(opts.limit);
  if (opts.before) q.where('e.id', '<', opts.before);
  if (opts.unreadOnly) q.whereRaw(`NOT ${readSql}`);
  const rows = (await q) as Record<string, unknown>[];
  return rows.map((r) => ({
    id: String(r.id),
    taskId: r.task_id as string,
    reportId: (r.report_id as string | null) ?? null,
    caseNumber: (r.case_number as string | null) ?? null,
    institutionId: (r.institution_id as string | null) ?? null,
    kind: r.kind as TaskKind,
    status: r.status as TaskStatus,
    targetKind: r.target_kind as IndicatorKind,
    targetValue: r.target_value as string,
    amountMinor: r.amount_minor === null ? null : Number(r.amount_minor),
    currency: (r.currency as string | null) ?? null,
    dueAt: r.due_at as Date,
    escalatedAt: r.escalated_at as Date,
    read: Boolean(r.read),
  }));
}

/** Marks one escalation read for this person; returns its task, or null when there is no such escalation. */
export async function markRead(db: DbOrTrx, userId: string, escalationId: string): Promise<string | null> {
  const row: { task_id: string } | undefined = await db('escalations').where({ id: escalationId }).first('task_id');
  if (!row) return null;
  await db('escalation_reads').insert({ user_id: userId, escalation_id: escalationId }).onConflict(['user_id', 'escalation_id']).ignore();
  return row.task_id;
}

/** Everything escalated so far is read for this person, in one write; single reads below the mark are no longer needed. */
export async function markAllRead(db: DbOrTrx, userId: string): Promise<void> {
  await db.raw(
    `WITH latest AS (SELECT coalesce(max(id), 0) AS id FROM escalations)
     INSERT INTO escalation_read_marks (user_id, read_through, updated_at)
     SELECT ?::uuid, latest.id, now() FROM latest
     ON CONFLICT (user_id) DO UPDATE SET read_through = GREATEST(escalation_read_marks.read_through, EXCLUDED.read_through), updated_at = now()`,
    [userId],
  );
  await db.raw(
    `DELETE FROM escalation_reads r USING escalation_read_marks m
      WHERE m.user_id = ?::uuid AND r.user_id = m.user_id AND r.escalation_id <= m.read_through`,
    [userId],
  );
}

/** Every escalation of a task is read for this person: they have the task itself in front of them. */
export async function markTaskRead(db: DbOrTrx, userId: string, taskId: string): Promise<void> {
  await db.raw(
    `INSERT INTO escalation_reads (user_id, escalation_id)
     SELECT ?::uuid, e.id FROM escalations e WHERE e.task_id = ?::uuid
     ON CONFLICT (user_id, escalation_id) DO NOTHING`,
    [userId, taskId],
  );
}
