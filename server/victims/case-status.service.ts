import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import type { EventActor } from '../audit/events.repo';
import { recordEvent } from '../audit/events.repo';
import { accessCodeMatches, hashAccessCode, newAccessCode } from '../domain/access-code';
import { caseStage } from '../domain/case-status';
import { NotFoundError } from '../errors';
import { caseFigures, findCaseCredentials, findReceipt, replaceAccessCodeHash } from './case-status.repo';
import type { CaseStatus, CaseStatusBody } from './case-status.schemas';

/** One answer for an unknown case and a wrong code alike: the same status, body and work. */
const noSuchCase = () => new NotFoundError('No case matches this case number and access code.');

/** What a victim may learn of their case with the code on their receipt, and the code's reissue by an officer. */
export class CaseStatusService {
  constructor(private readonly ctx: ServiceContext) {}

  async status(q: CaseStatusBody): Promise<CaseStatus> {
    const caseNumber = q.caseNumber.toUpperCase();
    const found = await findCaseCredentials(this.ctx.readDb, caseNumber);
    // The hash is computed and compared for an unknown case too (accessCodeMatches), so the two
    // answers cost the same.
    if (!accessCodeMatches(found?.accessCodeHash, caseNumber, q.accessCode) || !found) throw noSuchCase();
    const f = await caseFigures(this.ctx.readDb, found.id);
    if (!f) throw noSuchCase();
    return {
      caseNumber: f.caseNumber,
      status: f.status,
      filedAt: f.filedAt.toISOString(),
      currency: f.currency,
      reportedLossMinor: f.reportedLossMinor,
      frozenMinor: f.frozenMinor,
      returnedMinor: f.returnedMinor,
      stage: caseStage({ reportStatus: f.status, frozenMinor: f.frozenMinor, returnedMinor: f.returnedMinor, worked: f.worked }),
    };
  }

  /**
   * A report's receipt, with the access code an officer's browser carried from the filing when it is
   * still the case's current code (a stale or altered one is not shown).
   */
  async receipt(reportId: string, carriedCode: string | undefined): Promise<{ id: string; caseNumber: string; filedAt: string; accessCode: string | null }> {
    const r = await findReceipt(this.ctx.db, reportId);
    if (!r) throw new NotFoundError('No such report.');
    const current = carriedCode !== undefined && accessCodeMatches(r.accessCodeHash, r.caseNumber, carriedCode);
    return { id: r.id, caseNumber: r.caseNumber, filedAt: r.filedAt.toISOString(), accessCode: current ? carriedCode! : null };
  }

  /**
   * A new access code for a case (the printed receipt was lost, or an intake was retried): the old
   * code stops working. Recorded on the case's timeline; the code itself is never stored. In the
   * caller's transaction when given one.
   */
  async reissue(
    actor: EventActor, report: { id: string; caseNumber: string }, reason: 'requested' | 'intake_retried', db: DbOrTrx = this.ctx.db,
  ): Promise<string> {
    const code = newAccessCode();
    const write = async (trx: DbOrTrx) => {
      if (!(await replaceAccessCodeHash(trx, report.id, hashAccessCode(report.caseNumber, code)))) throw new NotFoundError('No such report.');
      await recordEvent(trx, actor, { type: 'report.access_code_issued', reportId: report.id, data: { reason } });
    };
    await (db.isTransaction ? write(db) : db.transaction(write));
    return code;
  }
}
