import type { Actor } from '../auth/actor';
import { isPartnerSide } from '../auth/actor';
import { eventsForTask, type AuditEvent } from '../audit/events.repo';
import type { ServiceContext } from '../context';
import { NotFoundError } from '../errors';
import { findTask, findVisibleTask, listVisibleTasks, type Task, type TaskFilters } from './tasks.repo';

/** Reading tasks, as each viewer may see them. Creating them is the engine's (task-engine.ts). */
export class TasksService {
  constructor(private readonly ctx: ServiceContext) {}

  async get(actor: Actor, id: string): Promise<Task> {
    const task = await findVisibleTask(this.ctx.db, actor, id);
    if (!task) throw new NotFoundError('No such task.');
    return task;
  }

  /** A task as the system sees it (workers), whoever it belongs to. */
  find(id: string): Promise<Task | undefined> {
    return findTask(this.ctx.db, id);
  }

  /** The task's audit timeline as `actor` may see it (call after `get`, which checks the task is theirs). */
  timeline(actor: Actor, task: Pick<Task, 'id' | 'reportId'>): Promise<AuditEvent[]> {
    return eventsForTask(this.ctx.db, task, !isPartnerSide(actor));
  }

  list(actor: Actor, filters: TaskFilters) {
    return listVisibleTasks(this.ctx.db, actor, filters);
  }
}
