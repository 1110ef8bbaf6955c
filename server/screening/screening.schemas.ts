import { z } from 'zod';
import { IndicatorKind, IndicatorStatus } from '../domain/kinds';
import { SCREENING_DECISIONS } from '../domain/screening';
import { AmountMinor, Currency } from '../reports/reports.schemas';

/** As many payments as a lookup takes values: the same one round trip. */
export const MAX_SCREENING_ITEMS = 1000;

export const ScreeningItem = z.object({
  ref: z.string().trim().min(1).max(100).describe('the screening institution\'s own reference for the payment; one payment, one ref'),
  payer: z.object({
    account: z.string().trim().min(1).max(64).describe('the paying customer\'s account: routes the warning to the payer\'s bank'),
    name: z.string().trim().max(200).optional(),
  }),
  payee: z.object({ kind: IndicatorKind, value: z.string().max(2048) }),
  amountMinor: AmountMinor,
  currency: Currency.optional().describe('default: the configured currency'),
});
export type ScreeningItem = z.infer<typeof ScreeningItem>;

export const ScreeningBody = z.object({
  items: z.array(ScreeningItem).max(MAX_SCREENING_ITEMS, `At most ${MAX_SCREENING_ITEMS} items per screening.`),
});

export const ScreeningResult = z.object({
  ref: z.string(),
  decision: z.enum(SCREENING_DECISIONS).describe('hold: payee blocked or confirmed; warn: suspected; allow: not flagged'),
  indicator: z.object({
    kind: IndicatorKind,
    value: z.string().describe('normalized'),
    status: IndicatorStatus,
    reportCount: z.number().int(),
  }).nullable().describe('the payee as the center knows it; null when it is not flagged'),
  taskId: z.string().nullable().describe('the warn_payer task of a warn or hold (the same one when the payment is screened again); null for allow'),
});
export type ScreeningResult = z.infer<typeof ScreeningResult>;

export const ScreeningAnswer = z.object({ results: z.array(ScreeningResult) });
