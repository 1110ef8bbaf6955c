import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { activePartnerIds, loadRoutes, readRoutingVersion } from '../admin/institutions.repo';
import { recordEvent, recordEvents, type EventActor } from '../audit/events.repo';
import type { Outcome } from '../domain/kinds';
import { isBlockingTask, isMoneyTask } from '../domain/task-kinds';
import { statusAfterOutcome } from '../domain/tasks';
import { ConflictError } from '../errors';
import { closeTask, unrouteOpenTasks } from './task-lifecycle.repo';
import { insertLedgerFreeze, insertResult, markReportFirstFrozen, reportFraudType } from './task-results.repo';
import { toTask, type TaskRow } from './tasks.repo';
import type { OnwardTransfer } from './tasks.schemas';
import { buildRouter } from '../domain/routing';
import {
  planFromSightings, planOnward, planReport, planRequests, type Coverage, type Routing, type TaskRequest, type SightingFacts, type TaskDraft, type TransferToChase,
} from '../domain/task-planning';
import { appendResultDelta, markIndicatorBlocked, writeReportTasks, writeTasks, type CitedIndicator, type ReportFacts } from './task-writer.repo';
import type { Task } from './tasks.repo';


/**
 * The one public face for creating tasks: plans (pure, domain/task-planning.ts) and writes them
 * (one statement, task-writer.repo.ts) in the caller's transaction; enqueues after commit.
 * Reports, results and feeds create their tasks through it.
 */
/** A task result that passed the rules of its task (domain/tasks.ts checkResult). */
export type CheckedAnswer = {
  outcome: Outcome;
  frozenMinor: number;
  note: string | null;
  onward: OnwardTransfer[];
};

export class TaskEngine {
  private cached: { version: number; routing: Routing } | undefined;

  constructor(private readonly ctx: ServiceContext) {}

  /**
   * The routes of the active partners as of `version` (routing_version, bumped by any change to
   * institutions or routes). Kept in memory while the version stays the same; the intake
   * statement reads the version, so a report pays for reloading only after a change.
   */
  async routing(db: DbOrTrx, version?: number): Promise<Routing> {
    const current = version ?? (await readRoutingVersion(db));
    if (this.cached?.version === current) return this.cached.routing;
    const [routes, partners] = await Promise.all([loadRoutes(db), activePartnerIds(db)]);
    const routing: Routing = { route: buildRouter(routes), partners };
    this.cached = { version: current, routing };
    return routing;
  }

  private planning(routing: Routing, now: Date) {
    return { routing, now, dueMinutes: this.ctx.config.dueMinutes };
  }

  /**
   * A report's tasks, its indicators' links (each to the task that covers it) and its rollup
   * delta. An indicator that is already blocked, or has an open blocking task at the institution
   * it routes to, opens no task: the report is linked to the open one.
   */
  async fileReport(
    trx: DbOrTrx, actor: EventActor, routing: Routing, now: Date,
    report: Omit<ReportFacts, 'timeZone' | 'transfers' | 'indicators'>,
    transfers: TransferToChase[], indicators: CitedIndicator[],
  ): Promise<{ tasks: Task[]; coverage: Map<string, { state: Coverage; taskId: string | null }> }> {
    const drafts = planReport({ reportId: report.id, transfers, indicators }, this.planning(routing, now));
    return writeReportTasks(trx, actor, { ...report, timeZone: this.ctx.config.timeZone, transfers: transfers.length, indicators }, drafts);
  }

  /**
   * A checked answer to a locked, open task: closes it, keeps the result, books a money task's
   * frozen amount into the ledger once, appends the rollup delta, makes a blocked target's
   * indicator blocked, and chases onward transfers one layer down (enqueued after commit).
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
    const result = await insertResult(trx, {
      taskId: row.id, outcome: answer.outcome, frozenMinor: answer.frozenMinor, note: answer.note,
      onwardTransfers: answer.onward, actorType: actor.type, actorId: actor.id, source,
      institutionId: row.institution_id, taskCreatedAt: row.created_at,
    });

    const fraudType = (await reportFraudType(trx, row.report_id)) ?? 'other';
    const currency = row.currency ?? config.defaultCurrency;
    // Loss prevented is the victims' money stopped on its trail: only money tasks, which carry the
    // amount of a transfer, book it. A freeze of a flagged account keeps its figure on the result,
    // but the balance there is not known to be victims' money and could repeat an interception.
    const booked = isMoneyTask(row.kind) ? answer.frozenMinor : 0;
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
    if (answer.outcome === 'blocked' && isBlockingTask(row.kind)) {
      await markIndicatorBlocked(trx, { indicatorId: row.indicator_id, kind: row.target_kind, value: row.target_value });
    }

    await recordEvent(trx, actor, {
      type: 'task.result_recorded', reportId: row.report_id, taskId: row.id,
      data: { outcome: answer.outcome, status, frozenMinor: answer.frozenMinor, source, onwardTransfers: answer.onward.length, version: closed.version },
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
    return { tasks: await this.write(trx, actor, plan.drafts), depthReached: plan.depthReached };
  }

  /** Blocking tasks for what a feed's sightings made worth a partner's time. */
  async blockSighted(trx: DbOrTrx, actor: EventActor, facts: SightingFacts[]): Promise<Task[]> {
    if (facts.length === 0) return [];
    const drafts = planFromSightings(facts, this.ctx.config.blockingRule, this.planning(await this.routing(trx), new Date()));
    return this.write(trx, actor, drafts);
  }

  /** Tasks asked for by kind and target, routed and timed like any other; returns those opened. */
  async create(trx: DbOrTrx, actor: EventActor, requests: TaskRequest[]): Promise<Task[]> {
    if (requests.length === 0) return [];
    return this.write(trx, actor, planRequests(requests, this.planning(await this.routing(trx), new Date())));
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

  private async write(trx: DbOrTrx, actor: EventActor, drafts: TaskDraft[]): Promise<Task[]> {
    return (await writeTasks(trx, actor, drafts)).tasks;
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

