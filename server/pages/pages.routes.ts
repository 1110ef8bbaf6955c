import { Router } from 'express';
import type { Deps } from '../wiring';

/** Server-rendered pages for the people in the room. */
export function pageRoutes(_deps: Deps): Router {
  const r = Router();
  return r;
}
