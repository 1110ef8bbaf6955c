import { z } from 'zod';
import { IndicatorKind } from '../domain/kinds';
import { TaskResultBody } from '../tasks/tasks.schemas';

// A feed item is validated alone: one bad line is rejected with its index, the rest go on.

const ExternalId = z.string().trim().min(1).max(200);

export const FraudIndicatorItem = z.object({
  type: z.literal('fraud_indicator'),
  externalId: ExternalId,
  indicator: z.object({ kind: IndicatorKind, value: z.string().min(1).max(2048) }),
  confidence: z.enum(['suspected', 'confirmed']),
  observedAt: z.iso.datetime({ offset: true }),
  note: z.string().max(4000).optional(),
});
export type FraudIndicatorItem = z.infer<typeof FraudIndicatorItem>;

export const TaskResultItem = TaskResultBody.extend({
  type: z.literal('task_result'),
  externalId: ExternalId,
  taskId: z.uuid(),
});
export type TaskResultItem = z.infer<typeof TaskResultItem>;

export const FeedItem = z.discriminatedUnion('type', [FraudIndicatorItem, TaskResultItem]);
export type FeedItem = z.infer<typeof FeedItem>;

/** JSON feeds: the envelope is checked as a whole; its items one by one. */
export const FeedJsonBody = z.object({ items: z.array(z.unknown()).max(1_000_000) });

export const FeedBodyDoc = z.object({ items: z.array(FeedItem) });

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
