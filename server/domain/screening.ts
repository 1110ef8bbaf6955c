import type { IndicatorKind, IndicatorStatus } from './kinds';

// Payment screening (API.md, "Early warning"): what a bank should do with a payment, from what the
// center knows of its payee. Pure; the screening use case reads the payees in one statement.

export const SCREENING_DECISIONS = ['allow', 'warn', 'hold'] as const;
export type ScreeningDecision = (typeof SCREENING_DECISIONS)[number];

/** What the center knows of a payee: its indicator status and the reports citing it. */
export type PayeeStanding = { status: IndicatorStatus | null; reportCount: number };

/**
 * The payee's status as screening weighs it. An account only ever named as a victim's receiving
 * account has no indicator row, but a report cites it: that is what makes any reported indicator
 * `suspected` at intake, so it is suspected here too.
 */
export function screenedStatus(p: PayeeStanding): IndicatorStatus | null {
  return p.status ?? (p.reportCount > 0 ? 'suspected' : null);
}

/** `hold` when the payee is blocked or confirmed, `warn` when suspected, else `allow`. */
export function screeningDecision(status: IndicatorStatus | null): ScreeningDecision {
  if (status === 'blocked' || status === 'confirmed') return 'hold';
  if (status === 'suspected') return 'warn';
  return 'allow';
}

/**
 * What a warn_payer task carries for the payer's bank: the payment (by the screening institution's
 * own reference) and why it was flagged. `screenedBy` and `ref` together name the payment once.
 */
export type ScreenedPayment = {
  ref: string;
  screenedBy: string;
  decision: Exclude<ScreeningDecision, 'allow'>;
  payee: { kind: IndicatorKind; value: string; status: IndicatorStatus; reportCount: number };
};
