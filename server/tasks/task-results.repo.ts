import { isMoneyTask } from '../domain/task-kinds';
import type { TaskKind } from '../domain/kinds';
import type { DbOrTrx } from '../db';
import type { Outcome } from '../domain/kinds';

export type NewTaskResult = {
  taskId: string;
  outcome: Outcome;
  frozenMinor: number;
  returnedMinor: number | null;
  note: string | null;
  onwardTransfers: unknown[];
  actorType: string;
  actorId: string | null;
  source: string;
  /** Who answered, and when the task was made: the period's "minutes to result" read them alone. */
  institutionId: string | null;
  taskCreatedAt: Date;
  /** The task's due time when it was answered: the league table's on-time share reads it alone. */
  taskDueAt: Date;
};

/** task_results.task_id is unique: a second result for a task cannot be written, whatever the code above does. */
export async function insertResult(trx: DbOrTrx, r: NewTaskResult): Promise<{ id: string }> {
  const [row] = await trx('task_results')
    .insert({
      task_id: r.taskId,
      outcome: r.outcome,
      frozen_minor: r.frozenMinor,
      returned_minor: r.returnedMinor,
      note: r.note,
      onward_transfers: JSON.stringify(r.onwardTransfers),
      actor_type: r.actorType,
      actor_id: r.actorId,
      source: r.source,
      institution_id: r.institutionId,
      task_created_at: r.taskCreatedAt,
      task_due_at: r.taskDueAt,
    })
    .returning(['id']);
  return row as { id: string };
}

/**
 * One freeze per task, guarded by the partial unique index ledger_one_freeze_per_task: a duplicate
 * raises 23505 and rolls the whole use case back. The ledger is append-only (rules drop UPDATE/DELETE).
 */
export async function insertLedgerFreeze(
  trx: DbOrTrx,
  e: {
    taskId: string; taskResultId: string; reportId: string | null; institutionId: string | null; fraudType: string | null;
    amountMinor: number; currency: string; holdId: string | null;
  },
): Promise<void> {
  await trx('loss_prevention_ledger').insert({
    entry_type: 'freeze',
    hold_id: e.holdId,
    task_id: e.taskId,
    task_result_id: e.taskResultId,
    report_id: e.reportId,
    institution_id: e.institutionId,
    fraud_type: e.fraudType,
    amount_minor: e.amountMinor,
    currency: e.currency,
  });
}

export async function reportFraudType(trx: DbOrTrx, reportId: string | null): Promise<string | null> {
  if (!reportId) return null;
  const row: { fraud_type: string } | undefined = await trx('reports').select('fraud_type').where({ id: reportId }).first();
  return row?.fraud_type ?? null;
}

/**
 * A result that may open a hold takes its report's row lock before the task's: closing a report
 * takes the same row (FOR UPDATE), so a freeze and a close take turns and a closed report never
 * ends up holding money. NO KEY UPDATE leaves the row free for inserts that only reference it
 * (a return ordered meanwhile writes a task of this report), so those never wait on it.
 */
export async function lockReportForResult(trx: DbOrTrx, taskId: string): Promise<void> {
  const task: { report_id: string | null; kind: string } | undefined = await trx('tasks').select('report_id', 'kind').where({ id: taskId }).first();
  if (!task?.report_id || !isMoneyTask(task.kind as TaskKind)) return;
  await trx('reports').select('id').where({ id: task.report_id }).forNoKeyUpdate().first();
}

/** The first freeze on any of a report's tasks; later freezes leave it as it is. */
export async function markReportFirstFrozen(trx: DbOrTrx, reportId: string): Promise<void> {
  await trx('reports').where({ id: reportId }).whereNull('first_frozen_at').update({ first_frozen_at: trx.fn.now() });
}
