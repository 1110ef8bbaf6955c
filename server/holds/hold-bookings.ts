import type { Config } from '../config';
import type { DbOrTrx } from '../db';
import { recordEvent, type EventActor } from '../audit/events.repo';
import { firstExpiry, type HoldStage, type ReleaseReason } from '../domain/holds';
import { reportFraudType } from '../tasks/task-results.repo';
import { appendStatsDelta } from '../tasks/task-writer.repo';
import type { TaskRow } from '../tasks/tasks.repo';
import {
  holdIdOfReturnTask, insertHold, insertHoldLedgerEntry, lockHold, lockReturnOfTask, settleReturn, updateHold,
  type HoldRow, type ReturnRow,
} from './holds.repo';

/**
 * The one writer of money in holds: opening a hold, releasing from it, paying a return out of it.
 * Each function runs in the caller's transaction on a hold the caller has locked (lockHold), or
 * locks it itself; each books its ledger entry once (by booking key), appends its rollup delta and
 * records its event, so the hold, the ledger and the figures never disagree.
 */
export class HoldBookings {
  constructor(private readonly config: Config) {}

  /**
   * Money leaving a hold, booked once as a ledger entry of its report's fraud type and institution,
   * and appended to the rollups in the same transaction.
   */
  private async book(
    trx: DbOrTrx, hold: HoldRow,
    e: { entryType: 'released' | 'returned'; amountMinor: number; taskId: string; taskResultId: string | null; bookingKey: string; note: string },
  ): Promise<void> {
    const fraudType = hold.report_id ? ((await reportFraudType(trx, hold.report_id)) ?? 'other') : null;
    await insertHoldLedgerEntry(trx, { ...e, hold, fraudType });
    await appendStatsDelta(trx, {
      timeZone: this.config.timeZone, currency: hold.currency, fraudType, institutionId: hold.institution_id,
      [e.entryType === 'released' ? 'releasedMinor' : 'returnedMinor']: e.amountMinor,
    });
  }

  /** A money task's freeze opens a hold on the receiving account, at the stage the bank gave. */
  async open(
    trx: DbOrTrx, actor: EventActor,
    f: { task: TaskRow; taskResultId: string; frozenMinor: number; currency: string; stage: HoldStage },
  ): Promise<HoldRow> {
    const { task } = f;
    if (!task.institution_id) throw new RangeError(`task ${task.id} froze money without an institution`);
    const hold = await insertHold(trx, {
      taskId: task.id, taskResultId: f.taskResultId, reportId: task.report_id, institutionId: task.institution_id,
      account: task.target_value, accountName: task.target_name, currency: f.currency, frozenMinor: f.frozenMinor,
      stage: f.stage, expiresAt: firstExpiry(f.stage, new Date(), this.config.holds),
    });
    await recordEvent(trx, actor, {
      type: 'hold.opened', reportId: hold.report_id, taskId: task.id, holdId: hold.id,
      data: { stage: hold.stage, frozenMinor: hold.frozen_minor, expiresAt: hold.expires_at.toISOString(), institutionId: hold.institution_id },
    });
    return hold;
  }

  /**
   * Releases `amountMinor` of a locked hold's unreserved balance: the hold closes when nothing is
   * left, or becomes `expired` when the law released it. The caller has checked the amount.
   */
  async release(
    trx: DbOrTrx, actor: EventActor, hold: HoldRow,
    r: { amountMinor: number; reason: ReleaseReason; bookingKey: string; text: string | null; expire?: boolean; data?: Record<string, unknown> },
  ): Promise<HoldRow> {
    const released = hold.released_minor + r.amountMinor;
    const left = hold.frozen_minor - released - hold.returned_minor;
    const status = r.expire ? 'expired' : hold.status === 'active' && left === 0 ? 'closed' : hold.status;
    const updated = await updateHold(trx, hold.id, { released_minor: released, status });
    if (r.amountMinor > 0) {
      await this.book(trx, hold, {
        entryType: 'released', amountMinor: r.amountMinor, taskId: hold.task_id, taskResultId: null, bookingKey: r.bookingKey, note: r.reason,
      });
    }
    await recordEvent(trx, actor, {
      type: r.expire ? 'hold.expired' : 'hold.released', reportId: hold.report_id, taskId: hold.task_id, holdId: hold.id,
      data: {
        amountMinor: r.amountMinor, reason: r.reason, text: r.text, balanceMinor: updated.balance_minor,
        status: updated.status, ...r.data,
      },
    });
    return updated;
  }

  /**
   * The bank's answer to a return task (locked by the caller): `returned` pays the return, booked
   * once as returned; anything else fails it. Either way the return's reservation is freed; on a
   * hold that expired meanwhile, what the return does not pay is released by law at once.
   * Answers the amount booked as returned.
   */
  async settleReturnTask(
    trx: DbOrTrx, actor: EventActor, task: TaskRow,
    answer: { paidMinor: number | null; taskResultId: string | null; why: string },
  ): Promise<{ returnedMinor: number; ret: ReturnRow | undefined }> {
    const holdId = await holdIdOfReturnTask(trx, task.id);
    if (!holdId) return { returnedMinor: 0, ret: undefined };
    const hold = await lockHold(trx, holdId);
    const ret = await lockReturnOfTask(trx, task.id);
    if (!hold || !ret || ret.status !== 'pending') return { returnedMinor: 0, ret };

    const paid = answer.paidMinor ?? 0;
    const settled = await settleReturn(trx, ret.id, paid > 0 ? 'paid' : 'failed', paid > 0 ? paid : null);
    const reserved = hold.reserved_minor - ret.amount_minor;
    const returned = hold.returned_minor + paid;
    // An expired hold keeps only what pending returns reserve: what this return does not pay is
    // released by law in the same write (the CHECK holds_expired_released holds after each statement).
    const lapsed = hold.status === 'expired' ? hold.frozen_minor - hold.released_minor - returned - reserved : 0;
    const left = hold.frozen_minor - hold.released_minor - lapsed - returned;
    const updated = await updateHold(trx, hold.id, {
      reserved_minor: reserved,
      returned_minor: returned,
      released_minor: hold.released_minor + lapsed,
      status: hold.status === 'active' && left === 0 ? 'closed' : hold.status,
    });
    if (paid > 0) {
      await this.book(trx, hold, {
        entryType: 'returned', amountMinor: paid, taskId: task.id, taskResultId: answer.taskResultId, bookingKey: `return:${ret.id}`, note: 'returned',
      });
    }
    await recordEvent(trx, actor, {
      type: paid > 0 ? 'hold.returned' : 'hold.return_failed', reportId: hold.report_id, taskId: task.id, holdId: hold.id,
      data: { returnId: ret.id, amountMinor: ret.amount_minor, returnedMinor: paid, why: answer.why, balanceMinor: updated.balance_minor },
    });
    if (lapsed > 0) {
      await this.book(trx, hold, {
        entryType: 'released', amountMinor: lapsed, taskId: hold.task_id, taskResultId: null, bookingKey: `return-expired:${ret.id}`, note: 'expired',
      });
      await recordEvent(trx, actor, {
        type: 'hold.released', reportId: hold.report_id, taskId: hold.task_id, holdId: hold.id,
        data: { amountMinor: lapsed, reason: 'expired', text: null, balanceMinor: updated.balance_minor, status: updated.status, returnId: ret.id },
      });
    }
    return { returnedMinor: paid, ret: settled };
  }
}
