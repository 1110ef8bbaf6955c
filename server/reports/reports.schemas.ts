import { z } from 'zod';
import { Channel, Currency as ActiveCurrency, FraudType, IndicatorKind, ReportStatus } from '../domain/kinds';
import { EventTime } from '../domain/dates';
import { ListQuery } from '../http/pagination';

/**
 * Money on the wire: an integer count of minor units, never a float or a string. A use case also
 * holds each amount to MAX_AMOUNT_MINOR.
 */
export const AmountMinor = z.number().int('must be a whole number of minor units').positive('must be greater than 0').max(Number.MAX_SAFE_INTEGER);
export const Timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 timestamp with a zone' });
export const Currency = ActiveCurrency;

export const TransferInput = z.object({
  toAccount: z.string().trim().min(1).max(64),
  toAccountName: z.string().trim().max(200).optional(),
  toInstitutionId: z.string().trim().min(1).max(40).optional(),
  amountMinor: AmountMinor,
  transferredAt: EventTime.optional(),
});

export const IndicatorInput = z.object({
  kind: IndicatorKind,
  value: z.string().trim().min(1).max(2048),
});

export const CreateReportBody = z.object({
  channel: Channel,
  fraudType: FraudType,
  occurredAt: EventTime,
  victim: z.object({
    name: z.string().trim().min(1).max(200),
    phone: z.string().trim().max(40).optional(),
    idNumber: z.string().trim().max(40).optional(),
  }),
  narrative: z.string().max(20000).default(''),
  currency: Currency.optional(),
  transfers: z.array(TransferInput).max(100).default([]),
  indicators: z.array(IndicatorInput).max(200).default([]),
});
export type CreateReportInput = z.input<typeof CreateReportBody>;
export type CreateReport = z.infer<typeof CreateReportBody>;

export const IdempotencyKeyHeader = z.string().trim().min(1).max(200).optional();

export const ReportIdParams = z.object({ id: z.uuid('is not a report id') });

export const ReportListQuery = ListQuery.extend({
  status: ReportStatus.optional(),
  fraudType: FraudType.optional(),
  q: z.string().trim().min(1).max(200).optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
});
export type ReportListQuery = z.infer<typeof ReportListQuery>;

const TaskView = z.object({
  id: z.string(),
  kind: z.string(),
  institutionId: z.string().nullable(),
  status: z.string(),
  amountMinor: z.number().int().nullable(),
  currency: z.string().nullable(),
  target: z.object({ kind: z.string(), value: z.string(), name: z.string().nullable() }),
  dueAt: z.string(),
  overdue: z.boolean(),
  parentTaskId: z.string().nullable(),
  depth: z.number().int(),
  version: z.number().int(),
});

export const ReportCreated = z.object({
  id: z.string(),
  caseNumber: z.string(),
  status: ReportStatus,
  currency: z.string(),
  reportedLossMinor: z.number().int(),
  createdAt: z.string(),
  tasks: z.array(TaskView),
});

/** The 201 of a filing: the report, and the victim's access code to its status, shown only here. */
export const ReportFiled = ReportCreated.extend({
  victimAccessCode: z.string().describe('for the victim\'s receipt (POST /public/case-status, /status); shown once, stored only as a hash. '
    + 'A retry with the same Idempotency-Key answers a new code, and the earlier one stops working'),
});

/** Why a case is closed or reopened, or a task cancelled: kept in the audit timeline. */
export const ReasonBody = z.object({ reason: z.string().trim().min(1, 'give a reason').max(2000) });
export type ReasonBody = z.infer<typeof ReasonBody>;

export const ReportSummaryView = z.object({
  id: z.string(),
  caseNumber: z.string(),
  status: ReportStatus,
  closedAt: z.string().nullable(),
  closedReason: z.string().nullable(),
  channel: Channel,
  fraudType: FraudType,
  victimName: z.string(),
  currency: z.string(),
  reportedLossMinor: z.number().int(),
  occurredAt: z.string(),
  createdAt: z.string(),
});

export const ReportDetailView = ReportCreated.extend({
  closedAt: z.string().nullable(),
  closedReason: z.string().nullable(),
  channel: Channel,
  fraudType: FraudType,
  occurredAt: z.string(),
  narrative: z.string(),
  victim: z.object({ name: z.string(), phone: z.string().nullable(), idNumber: z.string().nullable() }),
  transfers: z.array(z.object({
    id: z.string(), toAccount: z.string(), toAccountName: z.string().nullable(), toInstitutionId: z.string().nullable(),
    amountMinor: z.number().int(), currency: z.string(), transferredAt: z.string().nullable(),
  })),
  indicators: z.array(z.object({ id: z.string(), kind: IndicatorKind, value: z.string(), rawValue: z.string(), status: z.string().nullable() })),
  linkedReports: z.array(z.object({
    id: z.string(), caseNumber: z.string(), fraudType: FraudType, createdAt: z.string(),
    shared: z.array(z.object({ kind: IndicatorKind, value: z.string() })),
  })),
  events: z.array(z.object({
    id: z.number(), type: z.string(), occurredAt: z.string(),
    actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
    reportId: z.string().nullable(), taskId: z.string().nullable(), data: z.record(z.string(), z.unknown()),
  })),
});
