import { Router } from 'express';
import type { Deps } from '../wiring';
import { buildOpenApiDocument } from './openapi';

const READY_TIMEOUT_MS = 1500;

async function answers(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timeout')), READY_TIMEOUT_MS); }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness, readiness, metrics and the contract document. */
export function opsRoutes(deps: Deps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    // The queue store is Redis, or PostgreSQL itself on the PostgreSQL queue backend (then `redis`
    // is left out: there is none to ask).
    const [postgres, queues] = await Promise.all([
      answers(() => deps.db.raw('select 1')),
      answers(() => deps.queues.ping()),
    ]);
    const ready = postgres && queues;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'unavailable',
      postgres,
      ...(deps.queues.backend === 'redis' ? { redis: queues } : {}),
      queueBackend: deps.queues.backend,
    });
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
