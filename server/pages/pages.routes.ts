import { Router } from 'express';
import type { Deps } from '../wiring';
import { requireRole } from '../http/auth';
import { QUEUE_BOARD_PATH, queueBoard } from '../queues/board';
import { reportsPages } from '../reports/reports.pages';
import { holdsPages } from '../holds/holds.pages';
import { tasksPages } from '../tasks/tasks.pages';
import { taskListPages } from '../tasks/task-list.pages';
import { escalationBadge, escalationsPages } from '../tasks/escalations.pages';
import { dashboardPages } from '../stats/dashboard.pages';
import { adminPages } from '../admin/admin.pages';
import { caseStatusPages } from '../victims/case-status.pages';
import { authPages } from './auth.pages';
import { pageLocals } from './shell';

/** Server-rendered pages for the people in the room. */
export function pageRoutes(deps: Deps): Router {
  const r = Router();
  const board = queueBoard({
    basePath: QUEUE_BOARD_PATH,
    queues: deps.queues,
    // Partners only: the center itself never has a queue.
    institutionIds: async () => (await deps.services.admin.listInstitutions()).items.filter((i) => i.kind !== 'police').map((i) => i.id),
  });
  r.use(QUEUE_BOARD_PATH, requireRole('admin'), board.refresh, board.router);

  r.use(pageLocals(deps.config));
  r.use(escalationBadge(deps));
  r.use(authPages(deps));
  r.use(reportsPages(deps));
  r.use(holdsPages(deps));
  r.use(taskListPages(deps));
  r.use(escalationsPages(deps));
  r.use(tasksPages(deps));
  r.use(dashboardPages(deps));
  r.use(adminPages(deps));
  r.use(caseStatusPages(deps));
  return r;
}
