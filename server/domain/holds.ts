import { z } from 'zod';

// Holds on legal clocks, pure: how long a term lasts, whether a renewal is allowed and where it
// ends, and how a balance divides among victims. The database has the last word on amounts (its
// CHECKs keep frozen = released + returned + balance, nothing negative).

export const HOLD_STAGES = ['stop_payment', 'freeze'] as const;
export const HoldStage = z.enum(HOLD_STAGES);
export type HoldStage = z.infer<typeof HoldStage>;

export const HOLD_STATUSES = ['active', 'expired', 'closed'] as const;
export const HoldStatus = z.enum(HOLD_STATUSES);
export type HoldStatus = z.infer<typeof HoldStatus>;

export const RETURN_STATUSES = ['pending', 'paid', 'failed'] as const;
export const ReturnStatus = z.enum(RETURN_STATUSES);
export type ReturnStatus = z.infer<typeof ReturnStatus>;

export const DISPUTE_STATUSES = ['open', 'released', 'rejected'] as const;
export const DisputeStatus = z.enum(DISPUTE_STATUSES);
export type DisputeStatus = z.infer<typeof DisputeStatus>;

/** Why held money was released: an officer's release, a dispute's decision, or the law when the clock ran out. */
export const RELEASE_REASONS = ['release', 'dispute', 'expired'] as const;
export type ReleaseReason = (typeof RELEASE_REASONS)[number];

/** The clocks of config.holds. */
export type HoldClocks = {
  stopPaymentSeconds: number;
  stopPaymentRenewals: number;
  freezeSeconds: number;
  warningSeconds: number;
  disputeDueSeconds: number;
};

export function termSeconds(stage: HoldStage, clocks: HoldClocks): number {
  return stage === 'stop_payment' ? clocks.stopPaymentSeconds : clocks.freezeSeconds;
}

const addSeconds = (from: Date, seconds: number) => new Date(from.getTime() + seconds * 1000);

/** When a hold opened now at `stage` lapses. */
export function firstExpiry(stage: HoldStage, from: Date, clocks: HoldClocks): Date {
  return addSeconds(from, termSeconds(stage, clocks));
}

export type RenewableHold = { stage: HoldStage; status: HoldStatus; expiresAt: Date; renewals: number };

export type Renewal =
  | { ok: true; stage: HoldStage; expiresAt: Date; renewals: number }
  | { ok: false; code: 'hold_closed' | 'renewal_limit' | 'stage_backwards'; message: string };

/**
 * A renewal starts a new term from the old expiry, at the stage asked for (default: the same).
 * A stop-payment may be renewed `stopPaymentRenewals` times as a stop-payment; turning it into a
 * freeze is always allowed while it runs; a freeze may be renewed any number of times but never
 * turned back. A hold past its expiry has lapsed, whether or not the scan has marked it yet.
 */
export function renewal(hold: RenewableHold, asked: HoldStage | undefined, now: Date, clocks: HoldClocks): Renewal {
  if (hold.status !== 'active' || now.getTime() >= hold.expiresAt.getTime()) {
    return { ok: false, code: 'hold_closed', message: `The hold is ${hold.status === 'active' ? 'past its expiry' : hold.status} and cannot be renewed.` };
  }
  const stage = asked ?? hold.stage;
  if (hold.stage === 'freeze' && stage === 'stop_payment') {
    return { ok: false, code: 'stage_backwards', message: 'A freeze cannot be turned back into a stop-payment.' };
  }
  if (hold.stage === 'stop_payment' && stage === 'stop_payment' && hold.renewals >= clocks.stopPaymentRenewals) {
    return {
      ok: false, code: 'renewal_limit',
      message: `A stop-payment may be renewed ${clocks.stopPaymentRenewals} time(s); turn it into a freeze instead.`,
    };
  }
  return { ok: true, stage, expiresAt: addSeconds(hold.expiresAt, termSeconds(stage, clocks)), renewals: hold.renewals + 1 };
}

/** Renewals a hold has left at its stage: null for a freeze (no limit). */
export function renewalsLeft(hold: { stage: HoldStage; status: HoldStatus; renewals: number }, clocks: HoldClocks): number | null {
  if (hold.status !== 'active') return 0;
  if (hold.stage === 'freeze') return null;
  return Math.max(0, clocks.stopPaymentRenewals - hold.renewals);
}

/** An active hold within the warning window of its expiry (or past it, not yet marked by the scan). */
export function isExpiringSoon(hold: { status: HoldStatus; expiresAt: Date }, now: Date, clocks: HoldClocks): boolean {
  return hold.status === 'active' && hold.expiresAt.getTime() - now.getTime() <= clocks.warningSeconds * 1000;
}

/**
 * Divides `amount` minor units in proportion to `weights` (largest remainder): each share is the
 * floor of its exact part, and the units left over go one each to the largest remainders (ties:
 * the larger weight, then the earlier entry). The shares add up to `amount` exactly. Integer
 * arithmetic only (BigInt): no fen is lost or invented by rounding.
 */
export function proRata(amount: number, weights: readonly number[]): number[] {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`amount must be a non-negative safe integer, got ${amount}`);
  if (weights.some((w) => !Number.isSafeInteger(w) || w < 0)) throw new RangeError('weights must be non-negative safe integers');
  const total = weights.reduce((s, w) => s + BigInt(w), 0n);
  if (weights.length === 0) return [];
  if (total === 0n) return weights.map(() => 0);
  const a = BigInt(amount);
  const parts = weights.map((w, i) => ({ i, w: BigInt(w), share: (a * BigInt(w)) / total, rest: (a * BigInt(w)) % total }));
  let left = a - parts.reduce((s, p) => s + p.share, 0n);
  const order = [...parts].sort((x, y) => (x.rest !== y.rest ? (x.rest > y.rest ? -1 : 1) : x.w !== y.w ? (x.w > y.w ? -1 : 1) : x.i - y.i));
  for (const p of order) {
    if (left === 0n) break;
    p.share += 1n;
    left -= 1n;
  }
  return parts.map((p) => Number(p.share));
}
