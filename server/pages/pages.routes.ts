import { Router } from 'express';
import type { Deps } from '../wiring';
import { reportsPages } from '../reports/reports.pages';
import { tasksPages } from '../tasks/tasks.pages';
import { authPages } from './auth.pages';
import { pageLocals } from './shell';

/** Server-rendered pages for the people in the room. */
export function pageRoutes(deps: Deps): Router {
  const r = Router();
  r.use(pageLocals(deps.config));
  r.use(authPages(deps));
  r.use(reportsPages(deps));
  r.use(tasksPages(deps));
  return r;
}
