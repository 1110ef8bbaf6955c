import { z } from 'zod';
import { FraudType } from '../domain/kinds';

/** A local date (YYYY-MM-DD) of the center, or an ISO timestamp whose local date is taken. */
const Day = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const StatsQuery = z.object({
  from: Day.optional().describe('first local day, included; default: the first day of the month of `to`'),
  to: Day.optional().describe('last local day, included; default: today in the center\'s time zone'),
  currency: z.string().regex(/^[A-Z]{3}$/).optional().describe('default: the configured currency'),
});
export type StatsQuery = z.infer<typeof StatsQuery>;

const count = z.number().int();

/**
 * A money total: exact however large (a bigint inside), written in the JSON as an integer number's
 * digits even past 2^53 (server/http/json.ts). A client that reads JSON numbers as doubles should
 * read these fields as big integers.
 */
const total = (description?: string) => z.bigint().meta({ type: 'integer', ...(description ? { description } : {}) });
const minutes = z.number().nullable();

/** The funnel after the freeze (API.md "After the freeze"): money returned, released and held. */
const funnel = {
  returnedMinor: total('booked as returned to victims in the period'),
  releasedMinor: total('released from holds in the period (by an officer, a dispute\'s decision or expiry)'),
  heldMinor: total('balance of active holds now, whatever the period'),
  returnRateBasisPoints: z.bigint().meta({ type: 'integer' }).nullable()
    .describe('returnedMinor × 10000 ÷ lossPreventedMinor of the same period, rounded down (basis points: 10000 = 100 %); null when nothing was frozen. Money frozen earlier and returned in the period counts, so it can exceed 10000'),
};

export const InstitutionStats = z.object({
  institutionId: z.string(),
  lossPreventedMinor: total(),
  ...funnel,
  tasksDone: count,
  tasksFailed: count,
  tasksOpen: count.describe('queued, dispatched or delivery_failed now'),
  tasksOverdue: count.describe('open now and past due'),
  medianMinutesToResult: minutes.describe('over results recorded in the period'),
  p90MinutesToResult: minutes.describe('90th percentile, over results recorded in the period'),
  results: count.describe('results recorded in the period'),
  resultsOnTime: count.describe('of those, results recorded before their task was due'),
  onTimePercent: z.number().int().min(0).max(100).nullable()
    .describe('resultsOnTime / results as a whole percent, rounded half up by integer arithmetic; null without results'),
});
export type InstitutionStats = z.infer<typeof InstitutionStats>;

export const StatsSummary = z.object({
  from: z.iso.date(),
  to: z.iso.date(),
  currency: z.string(),
  reports: count,
  reportedLossMinor: total(),
  lossPreventedMinor: total('sum of frozen amounts booked in the period'),
  ...funnel,
  tasks: z.object({
    open: count.describe('queued, dispatched or delivery_failed now'),
    deliveryFailed: count.describe('open and delivery_failed now: deliveries ran out, waiting for a retry or reassignment'),
    overdue: count.describe('open (including unrouted) now and past due'),
    done: count.describe('closed as done in the period'),
    failed: count.describe('closed as failed in the period'),
    unrouted: count.describe('waiting for a supervisor to assign them, now'),
  }),
  medianMinutesReportToFirstFreeze: minutes.describe('over reports whose first freeze fell in the period'),
  warnings: z.object({
    issued: count.describe('warn_payer tasks opened by payment screening in the period'),
    dissuaded: count.describe('warnings answered dissuaded in the period'),
    dissuadedMinor: total('amount of the dissuaded payments (in the period\'s currency): kept from fraudsters, apart from loss prevented'),
  }),
  byInstitution: z.array(InstitutionStats),
  byFraudType: z.array(z.object({ fraudType: FraudType, reports: count, reportedLossMinor: total(), lossPreventedMinor: total() })),
  daily: z.array(z.object({
    date: z.iso.date(), reports: count, lossPreventedMinor: total(), returnedMinor: total(), releasedMinor: total(),
  })),
});
export type StatsSummary = z.infer<typeof StatsSummary>;
