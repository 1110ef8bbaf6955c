import type { ReportStatus } from './kinds';

// What a victim sees of their case: how far it has come, never who or which account.

export const CASE_STAGES = ['received', 'in_progress', 'money_frozen', 'money_returned', 'closed'] as const;
export type CaseStage = (typeof CASE_STAGES)[number];

export type CaseFacts = {
  reportStatus: ReportStatus;
  frozenMinor: number;
  returnedMinor: number;
  /** A partner has the case in hand: one of its tasks was delivered, or answered. */
  worked: boolean;
};

/** The furthest stage the case has reached; a closed report is closed whatever it reached before. */
export function caseStage(f: CaseFacts): CaseStage {
  if (f.reportStatus === 'closed') return 'closed';
  if (f.returnedMinor > 0) return 'money_returned';
  if (f.frozenMinor > 0) return 'money_frozen';
  if (f.worked) return 'in_progress';
  return 'received';
}
