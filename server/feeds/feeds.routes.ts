import express, { Router, type Request, type Response } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireAuth, requireRole } from '../http/auth';
import { describeRoute } from '../http/openapi';
import { parse, refuseDeepJson } from '../http/validate';
import { feedDocumentItems, type FeedDocumentType } from '../standards/feed-documents';
import { FEED_DOCUMENT_TYPES, MISP, STIX, XARF } from '../standards/media-types';
import { BatchIdParams, FeedAccepted, FeedBatchOut, FeedBodyDoc, FeedItem, FeedJsonBody, MispEventDoc, StixBundleDoc, XarfReportDoc } from './feeds.schemas';

const NDJSON = 'application/x-ndjson';

describeRoute({
  method: 'post',
  path: '/feeds',
  tags: ['feeds'],
  summary: 'Submit a feed of fraud indicators and task results (JSON { items } or NDJSON, one item per line)',
  description:
    'Every item is stored, as it came, before the 202; items are idempotent per institution on externalId (a repeat is a duplicate). '
    + 'Each item is then checked and applied in the background: an invalid item is rejected alone, and duplicates, rejections '
    + 'and progress show in GET /feeds/{batchId}. A STIX 2.1 bundle, a MISP event or an X-ARF v4 report is turned into items on '
    + 'intake: one per STIX object, MISP attribute or thing an X-ARF report names. Indicators with a single equality pattern (STIX), '
    + 'attributes of a type AFRC knows (MISP) and the URLs, domains, numbers and accounts of fraud, phishing and messaging reports '
    + '(X-ARF) become fraud_indicator items; everything else is a rejected item with a code saying why (unsupported_object, '
    + 'unsupported_pattern, unsupported_attribute_type, unsupported_kind, unsupported_category, no_indicator, revoked, deleted). '
    + 'A document that is not a bundle, an event or a valid X-ARF v4 report is 400 validation_failed at its path.',
  request: {
    body: {
      content: {
        'application/json': { schema: FeedBodyDoc },
        [NDJSON]: { schema: FeedItem },
        [STIX]: { schema: StixBundleDoc },
        [MISP]: { schema: MispEventDoc },
        [XARF]: { schema: XarfReportDoc },
      },
    },
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
  const jsonFeed = express.json({ limit: deps.config.feedBodyLimit, strict: true, verify: refuseDeepJson });
  const readJson = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => jsonFeed(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
  const documentFeed = express.json({ limit: deps.config.feedBodyLimit, strict: true, type: [...FEED_DOCUMENT_TYPES] });
  const readDocument = (req: Request, res: Response) =>
    new Promise<void>((resolve, reject) => documentFeed(req, res, (err?: unknown) => (err ? reject(err) : resolve())));

  r.post('/', requireRole('liaison', 'partner_system'), async (req, res) => {
    const actor = actorOf(req);
    let batch;
    if (req.is(NDJSON)) {
      const length = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
      batch = await deps.services.feeds.submitStream(actor, req, length);
    } else if (req.is([...FEED_DOCUMENT_TYPES])) {
      const type = req.is([...FEED_DOCUMENT_TYPES]) as FeedDocumentType;
      await readDocument(req, res);
      batch = await deps.services.feeds.submitItems(actor, feedDocumentItems(type, req.body), type);
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
