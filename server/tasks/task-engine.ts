import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { activePartnerIds, loadRoutes, readRoutingVersion } from '../admin/institutions.repo';
import { recordEvent, recordEvents, type EventActor } from '../audit/events.repo';
import type { IndicatorKind, Outcome } from '../domain/kinds';
import { buildRouter } from '../domain/routing';
import type { HoldStage } from '../domain/holds';
import { isBlockingTask, isMoneyTask, isReturnTask, isWarningTask } from '../domain/task-kinds';
import { HoldBookings } from '../holds/hold-bookings';
import {
  planFromSightings, planOnward, planReport, planRequests, planWarnings, type PaymentToWarn, type Routing, type SightingFacts,
  type TaskRequest,
} from '../domain/task-planning';
import { statusAfterOutcome } from '../domain/tasks';
import { ConflictError } from '../errors';
import { closeTask, unrouteOpenTasks } from './task-lifecycle.repo';
import { SYSTEM_ACTOR } from '../auth/actor';
import { insertLedgerFreeze, insertResult, markReportFirstFrozen, reportFraudType } from './task-results.repo';
import { toTask, type Task, type TaskRow } from './tasks.repo';
import type { OnwardTransfer } from './tasks.schemas';
import {
  appendStatsDelta, fileReport, markIndicatorBlocked, STALE_SNAPSHOT, writeTasks, writeWarnings,
  type FiledIndicator, type NewReportRow, type NewTransferRow, type RecordedWarning,
} from './task-writer.repo';

export type { FiledIndicator, NewReportRow, NewTransferRow, RecordedWarning };

/** A task result that passed the rules of its task (domain/tasks.ts checkResult). */
export type CheckedAnswer = {
  outcome: Outcome;
  frozenMinor: number;
  note: string | null;
  onward: OnwardTransfer[];
  /** return_funds: what the bank paid back. */
  returnedMinor: number | null;
  /** A freeze's hold: stop-payment or freeze. */
  holdStage: HoldStage;
};

/** A report's statement is run again at most this often when it saw too old a snapshot. */
const MAX_FILING_ATTEMPTS = 5;

/**
 * The one public face for creating and closing tasks: plans (pure, domain/task-planning.ts) and
 * writes them (task-writer.repo.ts) in the caller's transaction; enqueues after commit. Reports,
 * results, feeds, admin and staff requests go through it.
 */
export class TaskEngine {
  private cached: { version: number; routing: Routing } | undefined;
  /** What results do to held money: a freeze opens a hold, a return task's answer pays out of one. */
  readonly holdBookings: HoldBookings;

  constructor(private readonly ctx: ServiceContext) {
    this.holdBookings = new HoldBookings(ctx.config);
  }

  /**
   * The routes of the active partners as of now (routing_version, bumped by any change to
   * institutions or routes). Kept in memory while the version stays the same.
   */
  async routing(db: DbOrTrx): Promise<Routing> {
    return (await this.currentRouting(db)).routing;
  }

  private async currentRouting(db: DbOrTrx): Promise<{ version: number; routing: Routing }> {
    const version = await readRoutingVersion(db);
    if (this.cached?.version === version) return this.cached;
    const [routes, partners] = await Promise.all([loadRoutes(db), activePartnerIds(db)]);
    this.cached = { version, routing: { route: buildRouter(routes), partners } };
    return this.cached;
  }

  private planning(routing: Routing, now: Date) {
    return { routing, now, dueMinutes: this.ctx.config.dueMinutes };
  }

  /**
   * A report with its tasks, in one statement (task-writer.repo.ts fileReport): on the pool it
   * commits by itself, in a transaction it is a savepoint. Planned with the routing in memory, which
   * the statement checks is still current; `check` sees that routing first (a named institution
   * must be a partner). An indicator that is already blocked, or has an open blocking task at the
   * institution it routes to, opens no task: the report is linked to the open one. When the
   * statement saw too old a snapshot it kept nothing, and is planned and run again.
   */
  async fileReport(
    db: DbOrTrx, actor: EventActor,
    report: NewReportRow, transfers: NewTransferRow[], indicators: { kind: IndicatorKind; value: string; rawValue: string }[],
    check: (routing: Routing) => void,
  ): Promise<{ createdAt: Date; tasks: Task[]; indicators: FiledIndicator[] }> {
    for (let attempt = 1; ; attempt++) {
      // The first attempt trusts the routing in memory (the statement checks its version); a retry
      // reads the version first, and so does a check that fails on it (a partner added since).
      const trusted = attempt === 1 ? this.cached : undefined;
      let current = trusted ?? (await this.currentRouting(db));
      try {
        check(current.routing);
      } catch (err) {
        if (!trusted) throw err;
        current = await this.currentRouting(db);
        check(current.routing);
      }
      const chased = transfers.map((t) => ({ ...t, transferId: t.id, transferredAt: t.transferredAt ? new Date(t.transferredAt) : null }));
      const drafts = planReport({ reportId: report.id, transfers: chased, indicators }, this.planning(current.routing, new Date()));
      const filing = { report, transfers, indicators, drafts, routingVersion: current.version, timeZone: this.ctx.config.timeZone };
      try {
        return db.isTransaction
          ? await db.transaction((savepoint) => fileReport(savepoint, actor, filing))
          : await fileReport(db, actor, filing);
      } catch (err) {
        if ((err as { code?: string }).code !== STALE_SNAPSHOT || attempt >= MAX_FILING_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * A checked answer to a locked, open task: closes it, keeps the result, books a money task's
   * frozen amount into the ledger once and opens its hold, pays a return task's answer out of its
   * hold, appends the rollup delta, makes a blocked target's indicator blocked, and chases onward
   * transfers one layer down (enqueued after commit).
   *
   * Beyond the trail depth cap the result is still recorded, with its onward transfers kept on the
   * result and a `task.trail_depth_reached` event, but no child tasks: the partner's answer is true
   * and must not be refused because the chase has gone deep.
   */
  async recordResult(trx: DbOrTrx, actor: EventActor, row: TaskRow, answer: CheckedAnswer, source: string): Promise<{ task: Task; childTasks: Task[] }> {
    const { config } = this.ctx;
    const status = statusAfterOutcome(answer.outcome);
    const closed = await closeTask(trx, row.id, row.version, status);
    if (!closed) throw new ConflictError('version_mismatch', 'The task changed while the result was being recorded.');
    if (row.institution_id && (row.status === 'queued' || row.status === 'delivery_failed')) {
      // Answered before its delivery was recorded (a worker died between handing it over and writing
      // so, or a liaison answered from the inbox first): the answer proves it arrived, so its delivery
      // is recorded now, once; the job that then finds the task closed changes nothing.
      await recordEvent(trx, SYSTEM_ACTOR, {
        type: 'task.dispatched',
        reportId: row.report_id,
        taskId: row.id,
        data: { institutionId: row.institution_id, recordedBy: 'result', version: closed.version },
      });
    }
    const result = await insertResult(trx, {
      taskId: row.id, outcome: answer.outcome, frozenMinor: answer.frozenMinor, returnedMinor: answer.returnedMinor, note: answer.note,
      onwardTransfers: answer.onward, actorType: actor.type, actorId: actor.id, source,
      institutionId: row.institution_id, taskCreatedAt: row.created_at, taskDueAt: row.due_at,
    });

    const currency = row.currency ?? config.defaultCurrency;
    // Loss prevented is the victims' money stopped on its trail: only money tasks, which carry the
    // amount of a transfer, book it. A freeze of a flagged account keeps its figure on the result,
    // but the balance there is not known to be victims' money and could repeat an interception.
    const booked = isMoneyTask(row.kind) ? answer.frozenMinor : 0;
    const fraudType = booked > 0 ? ((await reportFraudType(trx, row.report_id)) ?? 'other') : null;
    if (booked > 0) {
      // Frozen money is not yet returned money: it stays in a hold on the account, on a legal clock.
      const hold = await this.holdBookings.open(trx, actor, { task: row, taskResultId: result.id, frozenMinor: booked, currency, stage: answer.holdStage });
      await insertLedgerFreeze(trx, {
        taskId: row.id, taskResultId: result.id, reportId: row.report_id, institutionId: row.institution_id,
        fraudType, amountMinor: booked, currency, holdId: hold.id,
      });
      if (row.report_id) await markReportFirstFrozen(trx, row.report_id);
    }
    if (isReturnTask(row.kind)) {
      await this.holdBookings.settleReturnTask(trx, actor, row, {
        paidMinor: answer.outcome === 'returned' ? answer.returnedMinor : null, taskResultId: result.id, why: answer.outcome,
      });
    }
    // A payer talked out of a flagged payment kept that money from the fraudster: a figure of its
    // own, never loss prevented (nothing was frozen, and no victim has reported it).
    const dissuaded = isWarningTask(row.kind) && answer.outcome === 'dissuaded' ? { count: 1, amountMinor: row.amount_minor ?? 0 } : undefined;
    await appendStatsDelta(trx, {
      timeZone: config.timeZone, currency, fraudType, institutionId: row.institution_id, lossPreventedMinor: booked,
      done: status === 'done' ? 1 : 0, failed: status === 'failed' ? 1 : 0, dissuaded,
    });
    // A partner that blocked the number, URL or account makes it known-blocked for every lookup.
    if (answer.outcome === 'blocked' && isBlockingTask(row.kind)) {
      await markIndicatorBlocked(trx, { indicatorId: row.indicator_id, kind: row.target_kind, value: row.target_value });
    }

    await recordEvent(trx, actor, {
      type: 'task.result_recorded', reportId: row.report_id, taskId: row.id,
      data: {
        outcome: answer.outcome, status, frozenMinor: answer.frozenMinor, returnedMinor: answer.returnedMinor, source,
        onwardTransfers: answer.onward.length, version: closed.version,
      },
    });
    const chase = await this.chaseOnward(trx, actor, { id: row.id, reportId: row.report_id, depth: row.depth, currency }, answer.onward);
    if (chase.depthReached) {
      await recordEvent(trx, actor, {
        type: 'task.trail_depth_reached', reportId: row.report_id, taskId: row.id,
        data: { depth: row.depth, maxTrailDepth: config.maxTrailDepth, onwardTransfers: answer.onward.length },
      });
    }
    return { task: toTask(closed), childTasks: chase.tasks };
  }

  /** Onward transfers of a result, one layer down; `depthReached` when the trail may go no deeper. */
  async chaseOnward(
    trx: DbOrTrx, actor: EventActor,
    parent: { id: string; reportId: string | null; depth: number; currency: string },
    onward: OnwardTransfer[],
  ): Promise<{ tasks: Task[]; depthReached: boolean }> {
    if (onward.length === 0) return { tasks: [], depthReached: false };
    const plan = planOnward(parent, onward, this.ctx.config.maxTrailDepth, this.planning(await this.routing(trx), new Date()));
    return { tasks: await writeTasks(trx, actor, plan.drafts), depthReached: plan.depthReached };
  }

  /** Blocking tasks for what a feed's sightings made worth a partner's time. */
  async blockSighted(trx: DbOrTrx, actor: EventActor, facts: SightingFacts[]): Promise<Task[]> {
    if (facts.length === 0) return [];
    const drafts = planFromSightings(facts, this.ctx.config.blockingRule, this.planning(await this.routing(trx), new Date()));
    return writeTasks(trx, actor, drafts);
  }

  /** Tasks asked for by kind and target, routed and timed like any other; returns those opened. */
  async create(trx: DbOrTrx, actor: EventActor, requests: TaskRequest[]): Promise<Task[]> {
    if (requests.length === 0) return [];
    return writeTasks(trx, actor, planRequests(requests, this.planning(await this.routing(trx), new Date())));
  }

  /**
   * A warn_payer task per flagged payment, at the payer's bank, in one statement that commits on its
   * own on the pool: a payment already warned about (the same screening institution and reference)
   * opens nothing and answers its first warning in `recorded`. Enqueue `opened` after commit.
   */
  async warnPayers(db: DbOrTrx, actor: EventActor, payments: PaymentToWarn[]): Promise<{ opened: Task[]; recorded: Map<string, RecordedWarning> }> {
    if (payments.length === 0) return { opened: [], recorded: new Map() };
    const drafts = planWarnings(payments, this.planning(await this.routing(db), new Date()));
    return writeWarnings(db, actor, drafts, this.ctx.config.timeZone);
  }

  /**
   * Takes back the open tasks of an institution that leaves the center: they become unrouted, for a
   * supervisor to assign, with an event each.
   */
  async unrouteInstitution(trx: DbOrTrx, actor: EventActor, institutionId: string): Promise<number> {
    const unrouted = await unrouteOpenTasks(trx, institutionId);
    await recordEvents(trx, actor, unrouted.map((t) => ({
      type: 'task.unrouted',
      reportId: t.report_id,
      taskId: t.id,
      data: { reason: 'institution_deactivated', institutionId, version: t.version },
    })));
    return unrouted.length;
  }

  /**
   * After the creating transaction commits: count the tasks and hand the routed ones to their
   * queues. A failed enqueue leaves them queued for the reconciler, never lost.
   */
  async afterCommit(tasks: Task[]): Promise<void> {
    for (const t of tasks) this.ctx.metrics.tasksCreated.inc({ kind: t.kind, status: t.status });
    await this.ctx.dispatcher.enqueue(tasks);
  }
}

