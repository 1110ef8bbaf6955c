import { z } from 'zod';
import { IndicatorKind, IndicatorStatus } from '../domain/kinds';
import { ListQuery } from '../http/pagination';
import { TaskOut } from '../tasks/tasks.schemas';

export const MAX_LOOKUP_ITEMS = 1000;

export const LookupBody = z.object({
  items: z
    .array(z.object({ kind: IndicatorKind, value: z.string().max(2048) }))
    .max(MAX_LOOKUP_ITEMS, `At most ${MAX_LOOKUP_ITEMS} items per lookup.`),
});
export type LookupBody = z.infer<typeof LookupBody>;

export const LookupResult = z.object({
  kind: IndicatorKind,
  /** Normalized; as sent (trimmed) when it cannot be normalized. */
  value: z.string(),
  flagged: z.boolean(),
  status: IndicatorStatus.nullable(),
  reportCount: z.number().int(),
  lastSeenAt: z.string().nullable(),
  /** False when the value cannot be normalized (not a phone number, not a URL…): never flagged. */
  valid: z.boolean(),
});
export type LookupResult = z.infer<typeof LookupResult>;

export const LookupAnswer = z.object({ results: z.array(LookupResult) });

export const IndicatorListQuery = ListQuery.extend({
  kind: IndicatorKind.optional(),
  status: IndicatorStatus.optional(),
  q: z.string().trim().min(1).max(200).optional(),
});
export type IndicatorListQuery = z.infer<typeof IndicatorListQuery>;

export const IndicatorIdParams = z.object({ id: z.uuid() });

export const IndicatorOut = z.object({
  id: z.string(),
  kind: IndicatorKind,
  value: z.string(),
  status: IndicatorStatus.nullable(),
  reportCount: z.number().int(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
});
export type IndicatorOut = z.infer<typeof IndicatorOut>;

export const IndicatorPage = z.object({ items: z.array(IndicatorOut), nextCursor: z.string().nullable() });

export const SightingOut = z.object({
  institutionId: z.string(),
  confidence: z.enum(['suspected', 'confirmed']),
  observedAt: z.string(),
  note: z.string().nullable(),
  batchId: z.string().nullable(),
  externalId: z.string().nullable(),
  recordedAt: z.string(),
});
export type SightingOut = z.infer<typeof SightingOut>;

export const CitingReport = z.object({
  id: z.string(),
  caseNumber: z.string(),
  status: z.string(),
  fraudType: z.string(),
  currency: z.string(),
  reportedLossMinor: z.number().int(),
  createdAt: z.string(),
  /** How the report cites it: listed as an indicator, or as a transfer's receiving account. */
  via: z.enum(['indicator', 'transfer', 'both']),
});
export type CitingReport = z.infer<typeof CitingReport>;

export const IndicatorDetail = IndicatorOut.extend({
  institutionCount: z.number().int(),
  sightingCount: z.number().int(),
  /** The latest sightings (at most 200). */
  sightings: z.array(SightingOut),
  reports: z.array(CitingReport),
  tasks: z.array(TaskOut),
});
export type IndicatorDetail = z.infer<typeof IndicatorDetail>;

/** GET /indicators/export.stix and export.misp: every flagged indicator, or those of one status, seen since a time. */
export const IndicatorExportQuery = z.object({
  status: IndicatorStatus.optional(),
  since: z.iso.datetime({ offset: true }).optional().describe('only indicators last seen at or after this time'),
});
export type IndicatorExportQuery = z.infer<typeof IndicatorExportQuery>;

export const StixBundleOut = z.object({
  type: z.literal('bundle'),
  id: z.string(),
  objects: z.array(z.object({ type: z.enum(['identity', 'indicator']), spec_version: z.literal('2.1'), id: z.string() }).catchall(z.unknown())),
}).describe('STIX 2.1 bundle: the center\'s identity, then one indicator per AFRC indicator (id stable per kind and value)');

export const MispEventOut = z.object({
  Event: z.object({
    uuid: z.string(),
    info: z.string(),
    Attribute: z.array(z.object({ uuid: z.string(), type: z.string(), category: z.string(), value: z.string() }).catchall(z.unknown())),
  }).catchall(z.unknown()),
}).describe('one MISP event, one attribute per indicator (uuid stable per kind and value)');
