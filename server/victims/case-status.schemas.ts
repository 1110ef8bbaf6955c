import { z } from 'zod';
import { CASE_STAGES } from '../domain/case-status';
import { ReportStatus } from '../domain/kinds';

export const CaseStatusBody = z.object({
  caseNumber: z.string().trim().min(1).max(40).describe('as printed on the receipt, e.g. FR-20261128-000042'),
  accessCode: z.string().trim().min(1).max(40).describe('as printed on the receipt; spaces, dashes and letter case do not matter'),
});
export type CaseStatusBody = z.infer<typeof CaseStatusBody>;

export const CaseStatus = z.object({
  caseNumber: z.string(),
  status: ReportStatus,
  filedAt: z.string(),
  currency: z.string(),
  reportedLossMinor: z.number().int(),
  frozenMinor: z.number().int().describe('money frozen on the case\'s trail'),
  returnedMinor: z.number().int().describe('money returned to the victim'),
  stage: z.enum(CASE_STAGES),
}).describe('nothing that names an account, an institution or a person');
export type CaseStatus = z.infer<typeof CaseStatus>;

export const ReissuedAccessCode = z.object({ caseNumber: z.string(), victimAccessCode: z.string() });
