import type { Actor } from '../auth/actor';
import { isPartnerSide, scopeOf } from '../auth/actor';
import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { normalizeAccount } from '../domain/normalize';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import { checkResult } from '../domain/tasks';
import { aheadOfClock } from '../domain/dates';
import { amountAboveLimit } from '../domain/money';
import type { Config } from '../config';
import type { EventActor } from '../audit/events.repo';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type ErrorDetail } from '../errors';
import { lockTask } from './task-lifecycle.repo';
import { lockReportForResult } from './task-results.repo';
import { findTask, type Task, type TaskRow } from './tasks.repo';
import type { TaskResultBody } from './tasks.schemas';
import type { CheckedAnswer, TaskEngine } from './task-engine';

export type ResultSource = 'api' | 'feed' | 'simulated';

/** A partner's person or machine client; or the system itself, for the simulated demo partners. */
export type ResultActor = Actor | { id: null; type: 'system'; name: string };

export type RecordedResult = { task: Task; childTasks: Task[] };

const isStaff = (actor: ResultActor): actor is Actor => actor.type !== 'system';

/** The answer, checked against the rules of its task, with its onward accounts normalized. */
function checkedAnswer(row: TaskRow, body: TaskResultBody, limits: Config['inputLimits']): CheckedAnswer {
  const problems: ErrorDetail[] = checkResult(
    { kind: row.kind, amountMinor: row.amount_minor, status: row.status },
    { outcome: body.outcome, frozenMinor: body.frozenMinor, onwardTransfers: body.onwardTransfers, returnedMinor: body.returnedMinor, holdStage: body.holdStage },
  );
  const onward = (body.onwardTransfers ?? []).map((t, i) => {
    const account = normalizeAccount(t.toAccount);
    if (!account.ok) problems.push({ path: `onwardTransfers.${i}.toAccount`, message: account.message });
    problems.push(
      ...amountAboveLimit(`onwardTransfers.${i}.amountMinor`, t.amountMinor, limits.maxAmountMinor),
      ...aheadOfClock(`onwardTransfers.${i}.transferredAt`, t.transferredAt, limits.maxClockSkewMs),
    );
    return { ...t, toAccount: account.ok ? account.value : t.toAccount };
  });
  if (problems.length > 0) throw new ValidationError(problems, 'The result breaks the rules of this task.');
  return {
    outcome: body.outcome, frozenMinor: body.frozenMinor ?? 0, note: body.note ?? null, onward,
    returnedMinor: body.returnedMinor ?? null, holdStage: body.holdStage ?? 'freeze',
  };
}

/** What recording this answer to this task would refuse, found without recording anything. */
export function resultProblems(task: { kind: TaskRow['kind']; amountMinor: number | null; status: TaskRow['status'] }, body: TaskResultBody, limits: Config['inputLimits']): ErrorDetail[] {
  try {
    checkedAnswer({ kind: task.kind, amount_minor: task.amountMinor, status: task.status } as TaskRow, body, limits);
    return [];
  } catch (err) {
    if (err instanceof ValidationError) return err.details;
    throw err;
  }
}

export class TaskResultsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly engine: TaskEngine,
  ) {}

  /**
   * Records a partner's answer to a task: closes it, books the frozen amount into the ledger once,
   * keeps the rollups, and turns onward transfers into child interception tasks (enqueued after commit).
   *
   * Beyond the trail depth cap (config.maxTrailDepth) the result is still recorded, with its onward
   * transfers kept on the result and a `task.trail_depth_reached` event, but no child tasks: the
   * partner's answer is true and must not be refused because the chase has gone deep.
   */
  /**
   * The task, locked for the rest of the transaction, while it is open and at the version the
   * partner saw. The lock serializes concurrent results for one task: the first commits, the rest
   * then read a closed task and answer task_closed.
   */
  private async lockOpen(trx: DbOrTrx, taskId: string, scope: string | undefined, version: number | undefined): Promise<TaskRow> {
    const row = await lockTask(trx, taskId, scope);
    if (!row) throw new NotFoundError('No such task.');
    if (!OPEN_TASK_STATUSES.includes(row.status)) throw new ConflictError('task_closed', 'This task already has a result.');
    if (version !== undefined && version !== row.version) {
      throw new ConflictError('version_mismatch', `The task is at version ${row.version}; reload it and answer again.`, [
        { path: 'version', message: `current version is ${row.version}` },
      ]);
    }
    return row;
  }

  async record(actor: ResultActor, taskId: string, body: TaskResultBody, source: ResultSource): Promise<RecordedResult> {
    if (isStaff(actor) && !isPartnerSide(actor)) throw new ForbiddenError('Only the partner institution answers its tasks.');
    if (!isStaff(actor) && source !== 'simulated') throw new ForbiddenError('Only the partner institution answers its tasks.');
    const { db, metrics } = this.ctx;
    const scope = isStaff(actor) ? scopeOf(actor) : undefined;

    const outcome = await db.transaction(async (trx) => {
      await lockReportForResult(trx, taskId);
      const row = await this.lockOpen(trx, taskId, scope, body.version);
      return this.engine.recordResult(trx, actor as EventActor, row, checkedAnswer(row, body, this.ctx.config.inputLimits), source);
    });

    metrics.tasksClosed.inc({ outcome: body.outcome });
    await this.engine.afterCommit(outcome.childTasks);
    const task = (await findTask(db, taskId)) ?? outcome.task;
    // Onward tasks chase the same report's money: they carry its case number too.
    return { task, childTasks: outcome.childTasks.map((c) => ({ ...c, caseNumber: task.caseNumber })) };
  }
}
