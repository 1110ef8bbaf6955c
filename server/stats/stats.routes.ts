import { Router } from 'express';
import type { Deps } from '../wiring';

export function statsRoutes(_deps: Deps): Router {
  const r = Router();
  return r;
}
