import { gunzipSync, inflateSync } from 'node:zlib';
import { Router } from 'express';
import { AppError } from '../errors';
import { closeAfterAnswer, stageBody } from '../http/body-stage';
import { quota } from '../http/quotas';
import type { Deps } from '../wiring';
import { actorOf, requireAuth, requireRole } from '../http/auth';
import { describeRoute } from '../http/openapi';
import { parse, refuseDeepJson } from '../http/validate';
import { feedDocumentItems, type FeedDocumentType } from '../standards/feed-documents';
import { FEED_DOCUMENT_TYPES, MISP, STIX, XARF } from '../standards/media-types';
import { BatchIdParams, FeedAccepted, FeedBatchOut, FeedBodyDoc, FeedItem, FeedJsonBody, MispEventDoc, StixBundleDoc, XarfReportDoc } from './feeds.schemas';

const NDJSON = 'application/x-ndjson';

/** An NDJSON feed is kept in memory up to this size while it arrives, in a temporary file past it. */
const STAGED_IN_MEMORY_BYTES = 4 * 1024 * 1024;

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
  errors: {
    408: 'request_timeout: the body took longer than BODY_TIMEOUT_MS to arrive, or sent nothing for BODY_IDLE_TIMEOUT_MS; nothing was stored',
    413: 'payload_too_large: the body is over FEED_BODY_LIMIT; nothing was stored',
    429: 'rate_limited: this account\'s feed quota (QUOTA_FEEDS_*) is spent for now; Retry-After says when to try again',
  },
});

describeRoute({
  method: 'get',
  path: '/feeds/:batchId',
  tags: ['feeds'],
  summary: "A feed batch's progress and its rejected items (the first 1000 by index)",
  request: { params: BatchIdParams },
  ok: FeedBatchOut,
});

/** A JSON body read in full (feeds, standard documents), as express.json would have parsed it. */
function parseJsonBody(body: Buffer, contentEncoding: string | undefined, limitBytes: number): unknown {
  let bytes = body;
  const encoding = (contentEncoding ?? 'identity').trim().toLowerCase();
  try {
    if (encoding === 'gzip') bytes = gunzipSync(body, { maxOutputLength: limitBytes });
    else if (encoding === 'deflate') bytes = inflateSync(body, { maxOutputLength: limitBytes });
    else if (encoding !== 'identity') throw new AppError('unsupported_media_type', 415, `The content encoding "${encoding}" is not supported.`);
  } catch (err) {
    if (err instanceof AppError) throw err;
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new AppError('payload_too_large', 413, 'The body is larger than the configured limit.');
    throw new AppError('malformed_json', 400, 'The body is not valid JSON.');
  }
  refuseDeepJson(undefined, undefined, bytes);
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  // As express.json's strict mode: an object or an array, nothing else.
  if (!/^[\s]*[[{]/.test(text)) throw new AppError('malformed_json', 400, 'The body is not valid JSON.');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError('malformed_json', 400, 'The body is not valid JSON.');
  }
}

export function feedsRoutes(deps: Deps): Router {
  const r = Router();
  const limits = {
    limitBytes: deps.services.feeds.bodyLimitBytes,
    limitLabel: deps.config.feedBodyLimit,
    timeoutMs: deps.config.http.bodyTimeoutMs,
    idleMs: deps.config.http.bodyIdleTimeoutMs,
  };

  r.post('/', requireRole('liaison', 'partner_system'), quota(deps, 'feeds'), async (req, res) => {
    const actor = actorOf(req);
    // The whole body is in before the submission takes a database connection: a partner sending
    // slowly (or a client that stalls) must never hold one while the rest of the center waits.
    // An NDJSON feed goes to a temporary file past a few MiB; a JSON document is parsed whole anyway.
    const ndjson = Boolean(req.is(NDJSON));
    let staged;
    try {
      staged = await stageBody(req, { ...limits, memoryBytes: ndjson ? STAGED_IN_MEMORY_BYTES : limits.limitBytes });
    } catch (err) {
      closeAfterAnswer(res, err);
      throw err;
    }
    let batch;
    try {
      if (ndjson) {
        batch = await deps.services.feeds.submitStream(actor, staged.stream(), staged.length);
      } else if (req.is([...FEED_DOCUMENT_TYPES])) {
        const type = req.is([...FEED_DOCUMENT_TYPES]) as FeedDocumentType;
        const document = parseJsonBody(staged.buffer(), req.headers['content-encoding'], limits.limitBytes);
        batch = await deps.services.feeds.submitItems(actor, feedDocumentItems(type, document), type);
      } else {
        const { items } = parse(FeedJsonBody, parseJsonBody(staged.buffer(), req.headers['content-encoding'], limits.limitBytes));
        batch = await deps.services.feeds.submitItems(actor, items);
      }
    } finally {
      await staged.dispose();
    }
    res.status(202).json({ batchId: batch.id, received: batch.received, status: batch.status });
  });

  r.get('/:batchId', requireAuth, async (req, res) => {
    const { batchId } = parse(BatchIdParams, req.params);
    res.json(await deps.services.feeds.get(actorOf(req), batchId));
  });
  return r;
}
