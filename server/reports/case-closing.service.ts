import type { Actor } from '../auth/actor';
import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { recordEvent } from '../audit/events.repo';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import { lockReport, setReportStatus, type Report } from './reports.repo';

/** Center staff who decide about a case (API.md, the role table). */
export const CASE_DECIDERS = ['desk_officer', 'supervisor'] as const;

/**
 * How many active holds of a report still hold money: a report with a held balance cannot be
 * closed, or the money would sit frozen with nobody following it until its clock runs out.
 */
export type HeldBalanceCount = (trx: DbOrTrx, reportId: string) => Promise<number>;

/**
 * Cancels a report's open tasks in the closing transaction, with the closing reason; answers how
 * many (TaskLifecycleService.cancelOpenTasksOfReport).
 */
export type CancelOpenTasks = (trx: DbOrTrx, actor: Actor, reportId: string, reason: string) => Promise<number>;

export function mayDecideCases(actor: Pick<Actor, 'role'>): boolean {
  return (CASE_DECIDERS as readonly string[]).includes(actor.role);
}

/** Closing and reopening a case, each with its reason in the audit timeline. */
export class CaseClosingService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly heldBalances: HeldBalanceCount,
    private readonly cancelOpenTasks: CancelOpenTasks = async () => 0,
  ) {}

  /**
   * open → closed; refused while a hold of the report has a balance (409 holds_active). The
   * report's open tasks are cancelled with it, with the closing reason: an officer who closes a
   * case is done asking the partners for anything on it. Reopening opens no task again.
   */
  async close(actor: Actor, reportId: string, reason: string): Promise<Report> {
    return this.change(actor, reportId, 'closed', reason);
  }

  /** closed → open, for new facts (another victim, money found after all). */
  async reopen(actor: Actor, reportId: string, reason: string): Promise<Report> {
    return this.change(actor, reportId, 'open', reason);
  }

  private async change(actor: Actor, reportId: string, to: 'open' | 'closed', reason: string): Promise<Report> {
    if (!mayDecideCases(actor)) throw new ForbiddenError();
    return this.ctx.db.transaction(async (trx) => {
      // The lock makes a close and a reopen of one report take turns. A freeze takes the same row
      // before its task (task-results.repo lockReportForResult): one that came first has committed
      // its hold, which the count below sees; one that comes after finds its task cancelled.
      const report = await lockReport(trx, reportId);
      if (!report) throw new NotFoundError('No such report.');
      if (report.status === to) {
        throw new ConflictError('conflict', to === 'closed' ? 'This report is already closed.' : 'This report is already open.');
      }
      if (to === 'closed') {
        const held = await this.heldBalances(trx, reportId);
        if (held > 0) {
          throw new ConflictError('holds_active', `This report still has ${held} active hold(s) with a balance; release or return the money first.`);
        }
      }
      const cancelledTasks = to === 'closed' ? await this.cancelOpenTasks(trx, actor, reportId, reason) : 0;
      const changed = await setReportStatus(trx, reportId, to, reason);
      await recordEvent(trx, actor, {
        type: to === 'closed' ? 'report.closed' : 'report.reopened', reportId, data: to === 'closed' ? { reason, cancelledTasks } : { reason },
      });
      return changed;
    });
  }
}
