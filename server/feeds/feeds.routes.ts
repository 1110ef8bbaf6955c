import { Router } from 'express';
import type { Deps } from '../wiring';

export function feedsRoutes(_deps: Deps): Router {
  const r = Router();
  return r;
}
