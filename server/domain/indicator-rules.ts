import type { IndicatorStatus } from './kinds';

// When an indicator known from feeds deserves a blocking task at the institution that can act
// on it. A single suspected sighting is noise (call analytics flag many numbers); a confirmation,
// a second independent institution, or a victim's report is enough to spend a partner's time.

export type BlockingRule = {
  /** A partner confirmed it. */
  onConfirmed: boolean;
  /** Seen by at least this many distinct institutions; 0 turns the criterion off. */
  minInstitutions: number;
  /** Cited by at least one report (or a report's receiving account). */
  onReport: boolean;
};

export const DEFAULT_BLOCKING_RULE: Readonly<BlockingRule> = Object.freeze({
  onConfirmed: true,
  minInstitutions: 2,
  onReport: true,
});

export type IndicatorFacts = {
  status: IndicatorStatus | null;
  institutionCount: number;
  reportCount: number;
  /** A blocking task for it is unrouted, queued or dispatched. */
  hasOpenTask: boolean;
};

export type BlockingDecision = { create: false; reason: 'open_task' | 'already_blocked' | 'not_enough_evidence' } | {
  create: true;
  reason: 'confirmed' | 'institutions' | 'reported';
};

// applyIndicatorItems (feeds/feeds.repo.ts) repeats these criteria in SQL to pre-filter a chunk's
// indicators before they leave the database; a change here is a change there.
export function blockingDecision(facts: IndicatorFacts, rule: BlockingRule = DEFAULT_BLOCKING_RULE): BlockingDecision {
  if (facts.status === 'blocked') return { create: false, reason: 'already_blocked' };
  if (facts.hasOpenTask) return { create: false, reason: 'open_task' };
  if (rule.onConfirmed && facts.status === 'confirmed') return { create: true, reason: 'confirmed' };
  if (rule.minInstitutions > 0 && facts.institutionCount >= rule.minInstitutions) return { create: true, reason: 'institutions' };
  if (rule.onReport && facts.reportCount > 0) return { create: true, reason: 'reported' };
  return { create: false, reason: 'not_enough_evidence' };
}

export function needsBlockingTask(facts: IndicatorFacts, rule: BlockingRule = DEFAULT_BLOCKING_RULE): boolean {
  return blockingDecision(facts, rule).create;
}

/** The ladder an indicator's status climbs; the writer's SQL is generated from it (escalateStatusSql). */
export const STATUS_LADDER: readonly IndicatorStatus[] = ['suspected', 'confirmed', 'blocked'];

const RANK = Object.fromEntries(STATUS_LADDER.map((s, i) => [s, i + 1])) as Record<IndicatorStatus, number>;

/** Status only moves up: suspected → confirmed → blocked. A weaker sighting never downgrades. */
export function escalateStatus(current: IndicatorStatus | null, incoming: IndicatorStatus | null): IndicatorStatus | null {
  if (current === null) return incoming;
  if (incoming === null) return current;
  return RANK[incoming] > RANK[current] ? incoming : current;
}

/**
 * Parses the rule from its configuration spelling, e.g. "confirmed,institutions:2,reported".
 * An empty string turns every criterion off.
 */
export function parseBlockingRule(spec: string): BlockingRule {
  const rule: BlockingRule = { onConfirmed: false, minInstitutions: 0, onReport: false };
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [name, arg] = part.split(':', 2);
    if (name === 'confirmed' && arg === undefined) rule.onConfirmed = true;
    else if (name === 'reported' && arg === undefined) rule.onReport = true;
    else if (name === 'institutions' && arg !== undefined && /^\d+$/.test(arg)) rule.minInstitutions = Number(arg);
    else throw new RangeError(`"${part}" is not a blocking criterion (confirmed, institutions:N, reported)`);
  }
  return rule;
}
