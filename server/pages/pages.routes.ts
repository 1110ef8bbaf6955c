import { Router } from 'express';
import type { Deps } from '../wiring';
import { authPages } from './auth.pages';
import { pageLocals } from './shell';

/** Server-rendered pages for the people in the room. */
export function pageRoutes(deps: Deps): Router {
  const r = Router();
  r.use(pageLocals(deps.config));
  r.use(authPages(deps));
  return r;
}
