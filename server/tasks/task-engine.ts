import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { activePartnerIds, loadRoutes, readRoutingVersion } from '../admin/institutions.repo';
import { recordEvents, type EventActor } from '../audit/events.repo';
import { unrouteOpenTasks } from './task-lifecycle.repo';
import { buildRouter } from '../domain/routing';
import {
  planFromSightings, planOnward, planReport, planRequests, type Coverage, type Routing, type TaskRequest, type SightingFacts, type TaskDraft, type TransferToChase,
} from '../domain/task-planning';
import { writeReportTasks, writeTasks, type CitedIndicator, type ReportFacts } from './task-writer.repo';
import type { Task } from './tasks.repo';


/**
 * The one public face for creating tasks: plans (pure, domain/task-planning.ts) and writes them
 * (one statement, task-writer.repo.ts) in the caller's transaction; enqueues after commit.
 * Reports, results and feeds create their tasks through it.
 */
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

  /** Onward transfers of a result, one layer down; `depthReached` when the trail may go no deeper. */
  async chaseOnward(
    trx: DbOrTrx, actor: EventActor,
    parent: { id: string; reportId: string | null; depth: number; currency: string },
    onward: Parameters<typeof planOnward>[1],
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

