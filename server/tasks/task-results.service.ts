import type { Actor } from '../auth/actor';
import { isPartnerSide, scopeOf } from '../auth/actor';
import type { ServiceContext } from '../context';
import { normalizeAccount } from '../domain/normalize';
import { checkResult, statusAfterOutcome } from '../domain/tasks';
import { recordEvent, type EventActor } from '../audit/events.repo';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, type ErrorDetail } from '../errors';
import { closeTask, lockTask } from './task-lifecycle.repo';
import { insertLedgerFreeze, insertResult, markReportFirstFrozen, reportFraudType } from './task-results.repo';
import { findTask, toTask, type Task } from './tasks.repo';
import type { TaskResultBody } from './tasks.schemas';
import type { TaskEngine } from './task-engine';
import { appendResultDelta, markIndicatorBlocked } from './task-writer.repo';
import { isBlockingTask, isMoneyTask } from '../domain/task-kinds';

export type ResultSource = 'api' | 'feed' | 'simulated';

/** A partner's person or machine client; or the system itself, for the simulated demo partners. */
export type ResultActor = Actor | { id: null; type: 'system'; name: string };

export type RecordedResult = { task: Task; childTasks: Task[] };

const isStaff = (actor: ResultActor): actor is Actor => actor.type !== 'system';

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
  async record(actor: ResultActor, taskId: string, body: TaskResultBody, source: ResultSource): Promise<RecordedResult> {
    if (isStaff(actor) && !isPartnerSide(actor)) throw new ForbiddenError('Only the partner institution answers its tasks.');
    if (!isStaff(actor) && source !== 'simulated') throw new ForbiddenError('Only the partner institution answers its tasks.');
    const { config, db, metrics } = this.ctx;
    const scope = isStaff(actor) ? scopeOf(actor) : undefined;

    const outcome = await db.transaction(async (trx) => {
      // The row lock serializes concurrent results for one task: the first commits, the rest then
      // read a closed task and answer task_closed.
      const row = await lockTask(trx, taskId, scope);
      if (!row) throw new NotFoundError('No such task.');
      if (row.status === 'done' || row.status === 'failed' || row.status === 'cancelled') {
        throw new ConflictError('task_closed', 'This task already has a result.');
      }
      if (body.version !== undefined && body.version !== row.version) {
        throw new ConflictError('version_mismatch', `The task is at version ${row.version}; reload it and answer again.`, [
          { path: 'version', message: `current version is ${row.version}` },
        ]);
      }
      const problems: ErrorDetail[] = checkResult(
        { kind: row.kind, amountMinor: row.amount_minor, status: row.status },
        { outcome: body.outcome, frozenMinor: body.frozenMinor, onwardTransfers: body.onwardTransfers },
      );
      const onward = (body.onwardTransfers ?? []).map((t, i) => {
        const account = normalizeAccount(t.toAccount);
        if (!account.ok) problems.push({ path: `onwardTransfers.${i}.toAccount`, message: account.message });
        return { ...t, toAccount: account.ok ? account.value : t.toAccount };
      });
      if (problems.length > 0) throw new ValidationError(problems, 'The result breaks the rules of this task.');

      const status = statusAfterOutcome(body.outcome);
      const frozen = body.frozenMinor ?? 0;
      const closed = await closeTask(trx, row.id, row.version, status);
      if (!closed) throw new ConflictError('version_mismatch', 'The task changed while the result was being recorded.');
      const result = await insertResult(trx, {
        taskId: row.id,
        outcome: body.outcome,
        frozenMinor: frozen,
        note: body.note ?? null,
        onwardTransfers: onward,
        actorType: actor.type,
        actorId: actor.id,
        source,
      });

      const fraudType = (await reportFraudType(trx, row.report_id)) ?? 'other';
      const currency = row.currency ?? config.defaultCurrency;
      // Loss prevented is the victims' money stopped on its trail: only money tasks, which carry
      // the amount of a transfer, book it. A freeze of a flagged account keeps its figure on the
      // result, but the balance there is not known to be victims' money and could repeat an
      // interception of the same account.
      const booked = isMoneyTask(row.kind) ? frozen : 0;
      if (booked > 0) {
        await insertLedgerFreeze(trx, {
          taskId: row.id, taskResultId: result.id, reportId: row.report_id, institutionId: row.institution_id,
          fraudType, amountMinor: booked, currency,
        });
        if (row.report_id) await markReportFirstFrozen(trx, row.report_id);
      }
      await appendResultDelta(trx, {
        timeZone: config.timeZone, currency, fraudType, institutionId: row.institution_id, lossPreventedMinor: booked,
        done: status === 'done' ? 1 : 0, failed: status === 'failed' ? 1 : 0,
      });

      // A partner that blocked the number, URL or account makes it known-blocked for every lookup.
      if (body.outcome === 'blocked' && isBlockingTask(row.kind)) {
        await markIndicatorBlocked(trx, { indicatorId: row.indicator_id, kind: row.target_kind, value: row.target_value });
      }

      await recordEvent(trx, actor as EventActor, {
        type: 'task.result_recorded',
        reportId: row.report_id,
        taskId: row.id,
        data: { outcome: body.outcome, status, frozenMinor: frozen, source, onwardTransfers: onward.length, version: closed.version },
      });
      const parent = { id: row.id, reportId: row.report_id, depth: row.depth, currency };
      const chase = await this.engine.chaseOnward(trx, actor as EventActor, parent, onward);
      if (chase.depthReached) {
        await recordEvent(trx, actor as EventActor, {
          type: 'task.trail_depth_reached', reportId: row.report_id, taskId: row.id,
          data: { depth: row.depth, maxTrailDepth: config.maxTrailDepth, onwardTransfers: onward.length },
        });
      }
      return { task: toTask(closed), childTasks: chase.tasks };
    });

    metrics.tasksClosed.inc({ outcome: body.outcome });
    await this.engine.afterCommit(outcome.childTasks);
    const task = (await findTask(db, taskId)) ?? outcome.task;
    return { task, childTasks: outcome.childTasks };
  }
}
