import { z } from 'zod';
import { DisputeStatus, HoldStage, HoldStatus, ReturnStatus } from '../domain/holds';
import { ListQuery } from '../http/pagination';

const minor = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const reason = z.string().trim().min(1).max(2000);
const isoTime = z.string().describe('ISO 8601, UTC');
const booleanText = z.enum(['true', 'false']).transform((v) => v === 'true');

export const HoldIdParams = z.object({ id: z.uuid() });
export const DisputeIdParams = z.object({ id: z.uuid() });

export const HoldListQuery = ListQuery.extend({
  status: HoldStatus.optional(),
  institutionId: z.string().max(40).optional(),
  reportId: z.uuid().optional(),
  expiringSoon: booleanText.optional().describe('true: active holds within HOLD_WARNING_SECONDS of expiry (or past it)'),
});
export type HoldListQuery = z.infer<typeof HoldListQuery>;

export const DisputeListQuery = ListQuery.extend({
  status: DisputeStatus.optional(),
  institutionId: z.string().max(40).optional(),
  holdId: z.uuid().optional(),
  reportId: z.uuid().optional(),
});
export type DisputeListQuery = z.infer<typeof DisputeListQuery>;

export const RenewBody = z.object({
  reason,
  stage: HoldStage.optional().describe('"freeze" turns a stop-payment into a freeze term; default: the hold\'s stage'),
});
export type RenewBody = z.infer<typeof RenewBody>;

export const ReleaseBody = z.object({
  amountMinor: minor.describe('at most the balance; money reserved by pending returns cannot be released'),
  reason,
});
export type ReleaseBody = z.infer<typeof ReleaseBody>;

export const ReturnBody = z.object({
  amountMinor: minor.describe('with the other pending returns, at most the balance'),
  victimAccount: z.string().trim().min(1).max(64).describe('the victim\'s account the bank pays into'),
  victimAccountName: z.string().trim().max(200).optional(),
  note: z.string().trim().max(4000).optional(),
});
export type ReturnBody = z.infer<typeof ReturnBody>;

export const DisputeBody = z.object({
  claimantName: z.string().trim().min(1).max(200),
  reason,
  amountMinor: minor.describe('the amount the account holder claims; at most the balance'),
});
export type DisputeBody = z.infer<typeof DisputeBody>;

export const DecisionBody = z.object({
  decision: z.enum(['release', 'reject']),
  amountMinor: minor.optional().describe('release only: at most the disputed amount; default the disputed amount'),
  reason,
});
export type DecisionBody = z.infer<typeof DecisionBody>;

export const HoldOut = z.object({
  id: z.string(),
  taskId: z.string().describe('the interception whose freeze opened the hold'),
  reportId: z.string().nullable(),
  caseNumber: z.string().nullable(),
  institutionId: z.string().describe('the holding bank'),
  account: z.string(),
  accountName: z.string().nullable(),
  currency: z.string(),
  frozenMinor: z.number().int(),
  releasedMinor: z.number().int(),
  returnedMinor: z.number().int(),
  balanceMinor: z.number().int().describe('frozenMinor − releasedMinor − returnedMinor, never below zero'),
  reservedMinor: z.number().int().describe('set aside for pending returns'),
  availableMinor: z.number().int().describe('balanceMinor − reservedMinor: what can be released or ordered returned now'),
  stage: HoldStage,
  status: HoldStatus,
  expiresAt: isoTime,
  renewals: z.number().int(),
  renewalsLeft: z.number().int().nullable().describe('at this stage; null: no limit (a freeze)'),
  expiringSoon: z.boolean(),
  version: z.number().int(),
  createdAt: isoTime,
  updatedAt: isoTime,
  endedAt: isoTime.nullable(),
});
export type HoldOut = z.infer<typeof HoldOut>;

export const ReturnOut = z.object({
  id: z.string(),
  holdId: z.string(),
  taskId: z.string().describe('the return_funds task at the holding bank'),
  amountMinor: z.number().int(),
  returnedMinor: z.number().int().nullable(),
  status: ReturnStatus,
  victimAccount: z.string(),
  victimAccountName: z.string().nullable(),
  note: z.string().nullable(),
  createdAt: isoTime,
  settledAt: isoTime.nullable(),
});
export type ReturnOut = z.infer<typeof ReturnOut>;

export const DisputeOut = z.object({
  id: z.string(),
  holdId: z.string(),
  reportId: z.string().nullable(),
  caseNumber: z.string().nullable(),
  institutionId: z.string(),
  currency: z.string(),
  claimantName: z.string(),
  reason: z.string(),
  amountMinor: z.number().int(),
  status: DisputeStatus,
  dueAt: isoTime,
  overdue: z.boolean().describe('open and past dueAt'),
  releasedMinor: z.number().int().nullable(),
  decisionReason: z.string().nullable(),
  decidedAt: isoTime.nullable(),
  createdAt: isoTime,
});
export type DisputeOut = z.infer<typeof DisputeOut>;

const EventOut = z.object({
  id: z.number(), type: z.string(), occurredAt: z.string(),
  actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
  reportId: z.string().nullable(), taskId: z.string().nullable(), holdId: z.string().nullable(), data: z.record(z.string(), z.unknown()),
});

export const HoldDetail = HoldOut.extend({ returns: z.array(ReturnOut), disputes: z.array(DisputeOut), events: z.array(EventOut) });
export type HoldDetail = z.infer<typeof HoldDetail>;

export const HoldPage = z.object({ items: z.array(HoldOut), nextCursor: z.string().nullable() });
export const DisputePage = z.object({ items: z.array(DisputeOut), nextCursor: z.string().nullable() });
export const DecisionAnswer = DisputeOut.extend({ hold: HoldOut });

export const SplitOut = z.object({
  holdId: z.string(),
  currency: z.string(),
  availableMinor: z.number().int().describe('the amount divided: the balance less pending returns'),
  basis: z.literal('reported_transfers').describe('each victim\'s reported transfers into the held account'),
  shares: z.array(z.object({
    reportId: z.string(),
    caseNumber: z.string(),
    victimName: z.string(),
    transferredMinor: z.number().int().describe('what the victim reported paying into the account'),
    shareMinor: z.number().int().describe('largest-remainder share of availableMinor; the shares add up to it exactly'),
  })),
});
export type SplitOut = z.infer<typeof SplitOut>;
