import type { DbOrTrx } from '../db';
import { toMinorNumber } from '../domain/money';
import type { ReportStatus } from '../domain/kinds';

/**
 * A case's access credentials by its number: one probe of the unique case-number index, the same
 * work whether or not the case exists.
 */
export async function findCaseCredentials(db: DbOrTrx, caseNumber: string): Promise<{ id: string; accessCodeHash: string | null } | undefined> {
  const row: { id: string; access_code_hash: string | null } | undefined = await db('reports')
    .where({ case_number: caseNumber }).first('id', 'access_code_hash');
  return row && { id: row.id, accessCodeHash: row.access_code_hash };
}

export type CaseFigures = {
  caseNumber: string; status: ReportStatus; filedAt: Date; currency: string; reportedLossMinor: number;
  frozenMinor: number; returnedMinor: number; worked: boolean;
};

/**
 * What the victim may see of a case. Frozen and returned money are the ledger's `freeze` and
 * `returned` entries of the report, read by entry type, so each kind of entry counts as soon as it
 * is booked; a partner has the case in hand once one of its tasks was delivered or answered.
 */
export async function caseFigures(db: DbOrTrx, reportId: string): Promise<CaseFigures | undefined> {
  const { rows } = await db.raw(
    `SELECT r.case_number, r.status, r.created_at, r.currency, r.reported_loss_minor,
            coalesce((SELECT sum(amount_minor) FROM loss_prevention_ledger
                       WHERE report_id = r.id AND entry_type = 'freeze' AND currency = r.currency), 0) AS frozen_minor,
            coalesce((SELECT sum(amount_minor) FROM loss_prevention_ledger
                       WHERE report_id = r.id AND entry_type = 'returned' AND currency = r.currency), 0) AS returned_minor,
            EXISTS (SELECT 1 FROM tasks WHERE report_id = r.id AND (dispatched_at IS NOT NULL OR closed_at IS NOT NULL)) AS worked
       FROM reports r WHERE r.id = ?`,
    [reportId],
  );
  const row = rows[0] as {
    case_number: string; status: ReportStatus; created_at: Date; currency: string; reported_loss_minor: number;
    frozen_minor: string | number; returned_minor: string | number; worked: boolean;
  } | undefined;
  if (!row) return undefined;
  return {
    caseNumber: row.case_number, status: row.status, filedAt: row.created_at, currency: row.currency,
    reportedLossMinor: row.reported_loss_minor, frozenMinor: toMinorNumber(row.frozen_minor),
    returnedMinor: toMinorNumber(row.returned_minor), worked: row.worked,
  };
}

/** A new code for a case: the old one stops working at once. */
export async function replaceAccessCodeHash(db: DbOrTrx, reportId: string, hash: string): Promise<boolean> {
  return (await db('reports').where({ id: reportId }).update({ access_code_hash: hash })) > 0;
}

/** What a receipt shows of a report, and the hash its access code is checked against. */
export async function findReceipt(db: DbOrTrx, reportId: string): Promise<{ id: string; caseNumber: string; filedAt: Date; accessCodeHash: string | null } | undefined> {
  const row: { id: string; case_number: string; created_at: Date; access_code_hash: string | null } | undefined = await db('reports')
    .where({ id: reportId }).first('id', 'case_number', 'created_at', 'access_code_hash');
  return row && { id: row.id, caseNumber: row.case_number, filedAt: row.created_at, accessCodeHash: row.access_code_hash };
}
