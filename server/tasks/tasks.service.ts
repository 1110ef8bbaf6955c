import type { Actor } from '../auth/actor';
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

  list(actor: Actor, filters: TaskFilters) {
    return listVisibleTasks(this.ctx.db, actor, filters);
  }
}
