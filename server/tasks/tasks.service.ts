import type { Actor } from '../auth/actor';
import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import type { IndicatorKind, TaskKind } from '../domain/kinds';
import { buildRouter, routeTransfer } from '../domain/routing';
import { dueAt } from '../domain/tasks';
import { activePartnerIds, loadRoutes } from '../admin/institutions.repo';
import { recordEvents, type EventActor } from '../audit/events.repo';
import { NotFoundError } from '../errors';
import { findVisibleTask, insertTasks, listVisibleTasks, type NewTask, type Task, type TaskFilters } from './tasks.repo';

/** A task to create, before routing: where it goes is decided here, the same way for every source. */
export type TaskDraft = Omit<NewTask, 'institutionId' | 'dueAt'> & {
  /** For intercept tasks: the receiving institution the reporter named, if any. */
  toInstitutionId?: string | null;
};

export class TasksService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * Routes and writes tasks inside the caller's transaction and records their events.
   * The caller enqueues the returned tasks after commit (ctx.dispatcher.enqueue).
   */
  async createTasks(trx: DbOrTrx, actor: EventActor, drafts: TaskDraft[], now = new Date()): Promise<Task[]> {
    if (drafts.length === 0) return [];
    const [routes, known] = await Promise.all([loadRoutes(trx), activePartnerIds(trx)]);
    const route = buildRouter(routes);
    const rows: NewTask[] = drafts.map(({ toInstitutionId, ...d }) => ({
      ...d,
      institutionId:
        d.kind === 'intercept_funds'
          ? routeTransfer(route, d.targetValue, toInstitutionId, known)
          : route(d.targetKind as IndicatorKind, d.targetValue),
      dueAt: dueAt(d.kind as TaskKind, now, this.ctx.config.dueMinutes),
    }));
    const tasks = await insertTasks(trx, rows);
    await recordEvents(
      trx,
      actor,
      tasks.map((t) => ({
        type: t.status === 'unrouted' ? 'task.unrouted' : 'task.queued',
        reportId: t.reportId,
        taskId: t.id,
        data: { kind: t.kind, institutionId: t.institutionId, depth: t.depth, parentTaskId: t.parentTaskId },
      })),
    );
    return tasks;
  }

  /**
   * After the creating transaction commits: count the tasks and hand the routed ones to their
   * queues. A failed enqueue leaves them queued for the reconciler, never lost.
   */
  async afterCommit(tasks: Task[]): Promise<void> {
    for (const t of tasks) this.ctx.metrics.tasksCreated.inc({ kind: t.kind, status: t.status });
    await this.ctx.dispatcher.enqueue(tasks);
  }

  async get(actor: Actor, id: string): Promise<Task> {
    const task = await findVisibleTask(this.ctx.db, actor, id);
    if (!task) throw new NotFoundError('No such task.');
    return task;
  }

  list(actor: Actor, filters: TaskFilters) {
    return listVisibleTasks(this.ctx.db, actor, filters);
  }
}
