import { z } from 'zod';
import { IndicatorKind } from '../domain/kinds';
import { TaskResultBody } from '../tasks/tasks.schemas';
import { EventTime } from '../domain/dates';

// A feed item is validated alone: one bad line is rejected with its index, the rest go on.

const ExternalId = z.string().trim().min(1).max(200);

export const FraudIndicatorItem = z.object({
  type: z.literal('fraud_indicator'),
  externalId: ExternalId,
  indicator: z.object({ kind: IndicatorKind, value: z.string().min(1).max(2048) }),
  confidence: z.enum(['suspected', 'confirmed']),
  observedAt: EventTime,
  note: z.string().max(4000).optional(),
});
export type FraudIndicatorItem = z.infer<typeof FraudIndicatorItem>;

export const TaskResultItem = TaskResultBody.extend({
  type: z.literal('task_result'),
  externalId: ExternalId,
  taskId: z.uuid(),
});
export type TaskResultItem = z.infer<typeof TaskResultItem>;

/**
 * What a STIX bundle, MISP event or X-ARF report carried that AFRC cannot use, written as an item on
 * intake (server/standards/feed-documents.ts): the worker records it as rejected with its code, so
 * the batch accounts for every object of the document.
 */
export const UNUSABLE_CODES = [
  'unsupported_object', 'unsupported_pattern', 'unsupported_attribute_type', 'unsupported_kind', 'unsupported_category',
  'no_indicator', 'revoked', 'deleted', 'validation_failed',
] as const;
export const UnusableObjectItem = z.object({
  type: z.literal('unusable_object'),
  externalId: ExternalId.nullable(),
  code: z.enum(UNUSABLE_CODES),
  message: z.string().max(1000),
});
export type UnusableObjectItem = z.infer<typeof UnusableObjectItem>;

export const FeedItem = z.discriminatedUnion('type', [FraudIndicatorItem, TaskResultItem]);
export type FeedItem = z.infer<typeof FeedItem>;

/** JSON feeds: the envelope is checked as a whole; its items one by one. */
export const FeedJsonBody = z.object({ items: z.array(z.unknown()).max(1_000_000) });

export const FeedBodyDoc = z.object({ items: z.array(FeedItem) });

/** The standard documents POST /feeds takes, as the OpenAPI document shows them (read by server/standards). */
export const StixBundleDoc = z.object({
  type: z.literal('bundle'),
  id: z.string(),
  objects: z.array(z.object({ type: z.string(), id: z.string() }).catchall(z.unknown())),
}).describe('STIX 2.1 bundle (application/stix+json)');
export const MispEventDoc = z.object({
  Event: z.object({
    uuid: z.string().optional(),
    info: z.string().optional(),
    Attribute: z.array(z.object({ type: z.string(), value: z.string() }).catchall(z.unknown())).optional(),
    Object: z.array(z.object({ name: z.string() }).catchall(z.unknown())).optional(),
  }).catchall(z.unknown()),
}).describe('MISP event (application/vnd.misp+json), wrapped in Event or bare');
export const XarfReportDoc = z.object({
  xarf_version: z.string(),
  report_id: z.string(),
  timestamp: z.string(),
  category: z.string(),
  type: z.string(),
  source_identifier: z.string(),
}).catchall(z.unknown()).describe('X-ARF v4 report (application/vnd.xarf+json), checked against the X-ARF v4 schema');

export const FeedAccepted = z.object({
  batchId: z.string(),
  received: z.number().int(),
  status: z.enum(['processing', 'done']),
});

export const FeedItemError = z.object({
  index: z.number().int(),
  externalId: z.string().nullable(),
  code: z.string(),
  message: z.string(),
});
export type FeedItemError = z.infer<typeof FeedItemError>;

export const FeedBatchOut = z.object({
  batchId: z.string(),
  status: z.enum(['processing', 'done']),
  received: z.number().int(),
  processed: z.number().int(),
  accepted: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int(),
  errors: z.array(FeedItemError),
  /** More items were rejected than `errors` lists (it holds the first ones, by index). */
  errorsTruncated: z.boolean(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type FeedBatchOut = z.infer<typeof FeedBatchOut>;

export const BatchIdParams = z.object({ batchId: z.uuid() });
