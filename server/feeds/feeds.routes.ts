import express, { Router, type Request, type Response } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireAuth, requireRole } from '../http/auth';
import { describeRoute } from '../http/openapi';
import { parse } from '../http/validate';
import { BatchIdParams, FeedAccepted, FeedBatchOut, FeedBodyDoc, FeedItem, FeedJsonBody } from './feeds.schemas';

const NDJSON = 'application/x-ndjson';

describeRoute({
  method: 'post',
  path: '/feeds',
  tags: ['feeds'],
  summary: 'Submit a feed of fraud indicators and task results (JSON { items } or NDJSON, one item per line)',
  description:
    'Every item is stored, as it came, before the 202; items are idempotent per institution on externalId (a repeat is a duplicate). '
    + 'Each item is then checked and applied in the background: an invalid item is rejected alone, and duplicates, rejections '
    + 'and progress show in GET /feeds/{batchId}.',
  request: {
    body: { content: { 'application/json': { schema: FeedBodyDoc }, [NDJSON]: { schema: FeedItem } } },
  },
  okStatus: 202,
  ok: FeedAccepted,
});

describeRoute({
  method: 'get',
  path: '/feeds/:batchId',
  tags: ['feeds'],
  summary: "A feed batch's progress and its rejected items (the first 1000 by index)",
  request: { params: BatchIdParams },
  ok: FeedBatchOut,
});

export function feedsRoutes(deps: Deps): Router {
  const r = Router();
  // Feeds have their own, larger limit; app.ts leaves this path to us.
  const jsonFeed = express.json({ limit: deps.config.feedBodyLimit, strict: true });
  const readJson = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => jsonFeed(req, res, (err?: unknown) => (err ? reject(err) : resolve())));

  r.post('/', requireRole('liaison', 'partner_system'), async (req, res) => {
    const actor = actorOf(req);
    let batch;
    if (req.is(NDJSON)) {
      const length = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
      batch = await deps.services.feeds.submitStream(actor, req, length);
    } else {
      await readJson(req, res);
      const { items } = parse(FeedJsonBody, req.body);
      batch = await deps.services.feeds.submitItems(actor, items);
    }
    res.status(202).json({ batchId: batch.id, received: batch.received, status: batch.status });
  });

  r.get('/:batchId', requireAuth, async (req, res) => {
    const { batchId } = parse(BatchIdParams, req.params);
    res.json(await deps.services.feeds.get(actorOf(req), batchId));
  });
  return r;
}
