import { z } from 'zod';
import { TASK_KINDS, type TaskKind as TaskKindName } from './task-kinds';

// The vocabularies of the contract (API.md). Every schema, migration CHECK and view draws from these lists.

export const ROLES = ['admin', 'supervisor', 'desk_officer', 'liaison', 'partner_system'] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

export const INSTITUTION_KINDS = ['bank', 'carrier', 'platform', 'police'] as const;
export const InstitutionKind = z.enum(INSTITUTION_KINDS);
export type InstitutionKind = z.infer<typeof InstitutionKind>;

export const INTEGRATIONS = ['manual', 'webhook', 'simulated'] as const;
export const Integration = z.enum(INTEGRATIONS);
export type Integration = z.infer<typeof Integration>;

/** How a webhook institution's deliveries are written: AFRC's JSON task, or ISO 20022 messages. */
export const MESSAGE_FORMATS = ['json', 'iso20022'] as const;
export const MessageFormat = z.enum(MESSAGE_FORMATS);
export type MessageFormat = z.infer<typeof MessageFormat>;

export const CHANNELS = ['hotline', 'walk_in', 'online', 'referral'] as const;
export const Channel = z.enum(CHANNELS);
export type Channel = z.infer<typeof Channel>;

export const FRAUD_TYPES = [
  'impersonation', 'investment', 'romance', 'customer_service', 'part_time_job', 'loan', 'shopping', 'other',
] as const;
export const FraudType = z.enum(FRAUD_TYPES);
export type FraudType = z.infer<typeof FraudType>;

export const INDICATOR_KINDS = [
  'phone', 'sms_sender', 'url', 'domain', 'bank_account', 'payment_account', 'im_account',
] as const;
export const IndicatorKind = z.enum(INDICATOR_KINDS);
export type IndicatorKind = z.infer<typeof IndicatorKind>;

export { TASK_KINDS };
export const TaskKind = z.enum(TASK_KINDS);
export type TaskKind = TaskKindName;

export const TASK_STATUSES = ['unrouted', 'queued', 'dispatched', 'delivery_failed', 'done', 'failed', 'cancelled'] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;

// delivery_failed: its deliveries ran out; still open, waiting for a retry or another institution.
export const OPEN_TASK_STATUSES: readonly TaskStatus[] = ['unrouted', 'queued', 'dispatched', 'delivery_failed'];

export const OUTCOMES = [
  'frozen', 'partially_frozen', 'funds_moved', 'blocked', 'not_found', 'rejected',
  // warn_payer: the payer's bank called its customer before the payment left.
  'dissuaded', 'proceeded', 'not_reached',
  // return_funds: the holding bank paid the victim back.
  'returned',
] as const;
export const Outcome = z.enum(OUTCOMES);
export type Outcome = z.infer<typeof Outcome>;

export const REPORT_STATUSES = ['open', 'closed'] as const;
export const ReportStatus = z.enum(REPORT_STATUSES);
export type ReportStatus = z.infer<typeof ReportStatus>;

export const INDICATOR_STATUSES = ['suspected', 'confirmed', 'blocked'] as const;
export const IndicatorStatus = z.enum(INDICATOR_STATUSES);
export type IndicatorStatus = z.infer<typeof IndicatorStatus>;

/**
 * ISO 4217 codes that are not money anyone transfers: precious metals, bond-market units, drawing
 * rights, the test code and "no currency". ICU's list (below) still carries a few of them.
 */
const NOT_MONEY = new Set(['XAG', 'XAU', 'XBA', 'XBB', 'XBC', 'XBD', 'XDR', 'XPD', 'XPT', 'XSU', 'XTS', 'XUA', 'XXX']);

/** The active ISO 4217 currencies, as the ICU data in Node keeps them (updated with Node, not by hand). */
export const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency').filter((c) => !NOT_MONEY.has(c)));

export const Currency = z.string().refine((c) => CURRENCIES.has(c), 'must be an active ISO 4217 currency code such as CNY');
