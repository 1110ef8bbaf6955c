import type { ServiceContext } from '../context';
import type { TasksService } from '../tasks/tasks.service';

export class ReportsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tasks: TasksService,
  ) {}
}
