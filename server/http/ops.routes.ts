import { Router } from 'express';
import type { Deps } from '../wiring';
import { buildOpenApiDocument } from './openapi';

/** Liveness, readiness, metrics and the contract document. */
export function opsRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Ready when PostgreSQL and the queue store answer and the database has every migration of this
  // build; otherwise 503 with the reasons, in words an operator can act on.
  r.get('/readyz', async (_req, res) => {
    const readiness = await deps.health.readiness();
    res.status(readiness.status === 'ready' ? 200 : 503).json(readiness);
  });
  r.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  let doc: ReturnType<typeof buildOpenApiDocument> | undefined;
  r.get('/api/v1/openapi.json', (_req, res) => {
    doc ??= buildOpenApiDocument();
    res.json(doc);
  });
  return r;
}
