import { randomUUID } from 'node:crypto';
import type { Actor } from '../auth/actor';
import { isPartnerSide, scopeOf, SYSTEM_ACTOR } from '../auth/actor';
import type { ServiceContext } from '../context';
import type { DbOrTrx } from '../db';
import { eventsForHold } from '../audit/events.repo';
import { recordEvent } from '../audit/events.repo';
import { proRata, renewal } from '../domain/holds';
import { normalizeAccount } from '../domain/normalize';
import { RETURN_KIND } from '../domain/task-kinds';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors';
import type { Page } from '../http/pagination';
import type { TaskEngine } from '../tasks/task-engine';
import type { Task } from '../tasks/tasks.repo';
import {
  decideDispute, disputesOfHold, findVisibleDispute, findVisibleHold, findVisibleHoldOfTask, insertDispute, insertReturn, listVisibleDisputes,
  listVisibleHolds, lockDispute, lockExpiredHolds, lockHold, reportedTransfersInto, reportVictim, returnsOfHold,
  taskDepthAndAmount, toDispute, toHold, toReturn, updateHold, type HoldRow,
} from './holds.repo';
import type {
  DecisionBody, DisputeBody, DisputeListQuery, DisputeOut, HoldDetail, HoldListQuery, HoldOut, ReleaseBody, RenewBody,
  ReturnBody, ReturnOut, SplitOut,
} from './holds.schemas';

/** Officers and supervisors act on held money (API.md role table). */
const ACTS_ON_HOLDS = new Set(['desk_officer', 'supervisor']);
/** Who may open a dispute: the holding bank's people (scoped to it) and desk officers. */
const OPENS_DISPUTES = new Set(['desk_officer', 'liaison', 'partner_system']);
/** Holds expired per transaction of the scan. */
const EXPIRY_BATCH = 200;

function mayActOnHolds(actor: Actor): void {
  if (!ACTS_ON_HOLDS.has(actor.role)) throw new ForbiddenError('Only desk officers and supervisors act on held money.');
}

/**
 * Holds on frozen money, returns to victims and disputes by account holders. Each use case locks
 * the hold first (holds.repo lockHold), so racing releases, returns, decisions, renewals and the
 * expiry scan run one after another on a hold; the money moves through HoldBookings, which books
 * each movement once in the ledger and the rollups. Pages and the API call the same methods.
 */
export class HoldsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly engine: TaskEngine,
  ) {}

  private get clocks() {
    return this.ctx.config.holds;
  }

  private get bookings() {
    return this.engine.holdBookings;
  }

  private present(row: HoldRow, now = new Date()): HoldOut {
    return toHold(row, this.clocks, now);
  }

  /** The hold, locked, as the actor may see it: another institution's hold is not found. */
  private async lockVisible(trx: DbOrTrx, actor: Actor, id: string): Promise<HoldRow> {
    const row = await lockHold(trx, id, scopeOf(actor));
    if (!row) throw new NotFoundError('No such hold.');
    return row;
  }

  /** The hold as the caller reads it after a change (with its case number). */
  private async reread(db: DbOrTrx, id: string): Promise<HoldOut> {
    const row = await findVisibleHold(db, undefined, id);
    if (!row) throw new NotFoundError('No such hold.');
    return this.present(row);
  }

  async list(actor: Actor, q: HoldListQuery): Promise<Page<HoldOut>> {
    const page = await listVisibleHolds(this.ctx.db, scopeOf(actor), q, this.clocks.warningSeconds);
    const now = new Date();
    return { items: page.items.map((r) => this.present(r, now)), nextCursor: page.nextCursor };
  }

  async get(actor: Actor, id: string): Promise<HoldDetail> {
    const { db } = this.ctx;
    const row = await findVisibleHold(db, scopeOf(actor), id);
    if (!row) throw new NotFoundError('No such hold.');
    const [returns, disputes, events] = await Promise.all([returnsOfHold(db, id), disputesOfHold(db, id), eventsForHold(db, id)]);
    const now = new Date();
    return { ...this.present(row, now), returns: returns.map(toReturn), disputes: disputes.map((d) => toDispute(d, now)), events };
  }

  /** The hold a task opened or pays a return from, if the actor may see it; null when there is none. */
  async ofTask(actor: Actor, taskId: string): Promise<HoldOut | null> {
    const row = await findVisibleHoldOfTask(this.ctx.db, scopeOf(actor), taskId);
    return row ? this.present(row) : null;
  }

  /**
   * A new term from the old expiry, at the same stage or turned from a stop-payment into a
   * freeze. A stop-payment past its renewals is 409 renewal_limit; a hold that has ended or is past
   * its expiry (lapsed, even before the scan marks it) is 409 hold_closed.
   */
  async renew(actor: Actor, id: string, body: RenewBody): Promise<HoldOut> {
    mayActOnHolds(actor);
    return this.ctx.db.transaction(async (trx) => {
      const hold = await this.lockVisible(trx, actor, id);
      const next = renewal({ stage: hold.stage, status: hold.status, expiresAt: hold.expires_at, renewals: hold.renewals }, body.stage, new Date(), this.clocks);
      if (!next.ok) {
        if (next.code === 'stage_backwards') throw new ValidationError([{ path: 'stage', message: next.message }]);
        throw new ConflictError(next.code, next.message);
      }
      await updateHold(trx, hold.id, { stage: next.stage, expires_at: next.expiresAt, renewals: next.renewals });
      await recordEvent(trx, actor, {
        type: 'hold.renewed', reportId: hold.report_id, taskId: hold.task_id, holdId: hold.id,
        data: {
          reason: body.reason, fromStage: hold.stage, stage: next.stage, previousExpiresAt: hold.expires_at.toISOString(),
          expiresAt: next.expiresAt.toISOString(), renewals: next.renewals,
        },
      });
      return this.reread(trx, hold.id);
    });
  }

  /** Checks an amount leaving an active hold: within the balance (400), and not reserved for a return (409). */
  private checkRelease(hold: HoldRow, amountMinor: number, path: string): void {
    if (hold.status !== 'active') throw new ConflictError('hold_closed', `The hold is ${hold.status}; nothing more can be released from it.`);
    if (amountMinor > hold.balance_minor) {
      throw new ValidationError([{ path, message: `is more than the balance of the hold (${hold.balance_minor})` }]);
    }
    if (amountMinor > hold.balance_minor - hold.reserved_minor) {
      throw new ConflictError('insufficient_balance', `Pending returns reserve ${hold.reserved_minor} of the balance; at most ${hold.balance_minor - hold.reserved_minor} can be released.`, [
        { path, message: `at most ${hold.balance_minor - hold.reserved_minor}` },
      ]);
    }
  }

  /** Releases part or all of the balance to the account holder; a hold left with nothing is closed. */
  async release(actor: Actor, id: string, body: ReleaseBody): Promise<HoldOut> {
    mayActOnHolds(actor);
    return this.ctx.db.transaction(async (trx) => {
      const hold = await this.lockVisible(trx, actor, id);
      this.checkRelease(hold, body.amountMinor, 'amountMinor');
      await this.bookings.release(trx, actor, hold, {
        amountMinor: body.amountMinor, reason: 'release', bookingKey: `release:${randomUUID()}`, text: body.reason,
      });
      return this.reread(trx, hold.id);
    });
  }

  /**
   * Orders a return from the hold to a victim's account: a return_funds task at the holding bank,
   * dispatched like any task (enqueued after commit), and the amount reserved until the bank
   * answers. Pending returns never reserve more than the balance: 409 insufficient_balance.
   */
  async orderReturn(actor: Actor, id: string, body: ReturnBody): Promise<ReturnOut> {
    mayActOnHolds(actor);
    const account = normalizeAccount(body.victimAccount);
    if (!account.ok) throw new ValidationError([{ path: 'victimAccount', message: account.message }]);
    const { ret, tasks } = await this.ctx.db.transaction(async (trx) => {
      const hold = await this.lockVisible(trx, actor, id);
      if (hold.status !== 'active') throw new ConflictError('hold_closed', `The hold is ${hold.status}; no return can be ordered from it.`);
      const available = hold.balance_minor - hold.reserved_minor;
      if (body.amountMinor > available) {
        throw new ConflictError('insufficient_balance', `At most ${available} of the hold is free for a return.`, [
          { path: 'amountMinor', message: `at most ${available}` },
        ]);
      }
      const { depth } = await taskDepthAndAmount(trx, hold.task_id);
      // The task is the bank's order: pay this amount into the victim's account (its target), out
      // of the account frozen by the parent task.
      const opened = await this.engine.create(trx, actor, [{
        kind: RETURN_KIND, reportId: hold.report_id, targetKind: 'bank_account', targetValue: account.value,
        targetName: body.victimAccountName ?? null, amountMinor: body.amountMinor, currency: hold.currency,
        parentTaskId: hold.task_id, depth, atInstitutionId: hold.institution_id,
      }]);
      const task = opened[0];
      if (!task) throw new Error('the return task was not written');
      await updateHold(trx, hold.id, { reserved_minor: hold.reserved_minor + body.amountMinor });
      const ret = await insertReturn(trx, {
        holdId: hold.id, taskId: task.id, amountMinor: body.amountMinor, victimAccount: account.value,
        victimAccountName: body.victimAccountName ?? null, note: body.note ?? null, createdBy: actor.id,
      });
      await recordEvent(trx, actor, {
        type: 'hold.return_ordered', reportId: hold.report_id, taskId: task.id, holdId: hold.id,
        data: { returnId: ret.id, amountMinor: body.amountMinor, institutionId: task.institutionId },
      });
      return { ret, tasks: opened };
    });
    await this.engine.afterCommit(tasks as Task[]);
    return toReturn(ret);
  }

  /**
   * An account holder's claim that frozen money is theirs, opened by the holding bank (its liaison
   * or system, on their behalf) or a desk officer; due for a decision after DISPUTE_DUE_SECONDS.
   */
  async openDispute(actor: Actor, id: string, body: DisputeBody): Promise<DisputeOut> {
    if (!OPENS_DISPUTES.has(actor.role)) throw new ForbiddenError('Disputes are opened by the holding bank or a desk officer.');
    if (isPartnerSide(actor) && !actor.institutionId) throw new NotFoundError('No such hold.');
    const disputeId = await this.ctx.db.transaction(async (trx) => {
      const hold = await this.lockVisible(trx, actor, id);
      if (hold.status !== 'active') throw new ConflictError('hold_closed', `The hold is ${hold.status}; there is nothing held to dispute.`);
      if (body.amountMinor > hold.balance_minor) {
        throw new ValidationError([{ path: 'amountMinor', message: `is more than the balance of the hold (${hold.balance_minor})` }]);
      }
      const dispute = await insertDispute(trx, {
        holdId: hold.id, institutionId: hold.institution_id, claimantName: body.claimantName, reason: body.reason,
        amountMinor: body.amountMinor, dueAt: new Date(Date.now() + this.clocks.disputeDueSeconds * 1000),
        openedByType: actor.type, openedById: actor.id,
      });
      await recordEvent(trx, actor, {
        type: 'dispute.opened', reportId: hold.report_id, taskId: hold.task_id, holdId: hold.id,
        data: { disputeId: dispute.id, amountMinor: body.amountMinor, dueAt: dispute.due_at.toISOString() },
      });
      return dispute.id;
    });
    return this.getDispute(actor, disputeId);
  }

  async getDispute(actor: Actor, id: string): Promise<DisputeOut> {
    const row = await findVisibleDispute(this.ctx.db, scopeOf(actor), id);
    if (!row) throw new NotFoundError('No such dispute.');
    return toDispute(row);
  }

  async listDisputes(actor: Actor, q: DisputeListQuery): Promise<Page<DisputeOut>> {
    const page = await listVisibleDisputes(this.ctx.db, scopeOf(actor), q);
    const now = new Date();
    return { items: page.items.map((r) => toDispute(r, now)), nextCursor: page.nextCursor };
  }

  /**
   * An officer's decision: `release` releases the amount (default: the disputed amount) like a
   * release, `reject` keeps the money held. A dispute is decided once: 409 dispute_closed.
   */
  async decide(actor: Actor, disputeId: string, body: DecisionBody): Promise<DisputeOut & { hold: HoldOut }> {
    mayActOnHolds(actor);
    if (body.decision === 'reject' && body.amountMinor !== undefined) {
      throw new ValidationError([{ path: 'amountMinor', message: 'goes with a release only' }]);
    }
    const holdId = await this.ctx.db.transaction(async (trx) => {
      const seen = await findVisibleDispute(trx, undefined, disputeId);
      if (!seen) throw new NotFoundError('No such dispute.');
      // The hold first, then the dispute: the order every writer of a hold takes its locks in.
      const hold = await lockHold(trx, seen.hold_id);
      const dispute = await lockDispute(trx, disputeId);
      if (!hold || !dispute) throw new NotFoundError('No such dispute.');
      if (dispute.status !== 'open') throw new ConflictError('dispute_closed', `The dispute was already decided (${dispute.status}).`);
      let released: number | null = null;
      if (body.decision === 'release') {
        released = body.amountMinor ?? dispute.amount_minor;
        if (released > dispute.amount_minor) {
          throw new ValidationError([{ path: 'amountMinor', message: `is more than the disputed amount (${dispute.amount_minor})` }]);
        }
        this.checkRelease(hold, released, 'amountMinor');
        await this.bookings.release(trx, actor, hold, {
          amountMinor: released, reason: 'dispute', bookingKey: `dispute:${dispute.id}`, text: body.reason, data: { disputeId: dispute.id },
        });
      }
      await decideDispute(trx, dispute.id, {
        status: body.decision === 'release' ? 'released' : 'rejected', releasedMinor: released, reason: body.reason, decidedById: actor.id,
      });
      await recordEvent(trx, actor, {
        type: 'dispute.decided', reportId: hold.report_id, taskId: hold.task_id, holdId: hold.id,
        data: { disputeId: dispute.id, decision: body.decision, releasedMinor: released, reason: body.reason },
      });
      return hold.id;
    });
    const [dispute, hold] = await Promise.all([this.getDispute(actor, disputeId), this.reread(this.ctx.db, holdId)]);
    return { ...dispute, hold };
  }

  /**
   * How the hold's available balance divides among the victims who reported paying into the held
   * account, by what each reported paying into it (largest remainder: whole minor units that add up
   * exactly). The hold's own report is always among them: a freeze down the trail counts the
   * amount its interception chased into the account. A proposal: the officer confirms or edits it.
   */
  async split(actor: Actor, id: string): Promise<SplitOut> {
    if (isPartnerSide(actor)) throw new ForbiddenError('The split names victims: it is for center staff.');
    const { db } = this.ctx;
    const hold = await findVisibleHold(db, undefined, id);
    if (!hold) throw new NotFoundError('No such hold.');
    const victims = await reportedTransfersInto(db, hold.account, hold.currency);
    if (hold.report_id && !victims.some((v) => v.reportId === hold.report_id)) {
      const [own, task] = await Promise.all([reportVictim(db, hold.report_id), taskDepthAndAmount(db, hold.task_id)]);
      if (own) victims.unshift({ reportId: hold.report_id, ...own, transferredMinor: task.amountMinor ?? hold.frozen_minor });
    }
    const available = Math.max(0, hold.balance_minor - hold.reserved_minor);
    const shares = proRata(available, victims.map((v) => v.transferredMinor));
    return {
      holdId: hold.id, currency: hold.currency, availableMinor: available, basis: 'reported_transfers',
      shares: victims.map((v, i) => ({ ...v, shareMinor: shares[i]! })),
    };
  }

  /**
   * The scan: every active hold past its expiry lapses by law: status expired, its unreserved
   * balance released (reason `expired`), an event each. Money reserved by a pending return stays
   * until the bank answers it. Holds a racing writer has locked are left for the next scan, which
   * sees what that writer did (a renewal moves the expiry). Answers how many holds expired.
   */
  async expireDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const expired = await this.ctx.db.transaction(async (trx) => {
        const due = await lockExpiredHolds(trx, EXPIRY_BATCH);
        for (const hold of due) {
          await this.bookings.release(trx, SYSTEM_ACTOR, hold, {
            amountMinor: hold.balance_minor - hold.reserved_minor, reason: 'expired', bookingKey: `expiry:${hold.id}`, text: null, expire: true,
            data: { expiresAt: hold.expires_at.toISOString(), stage: hold.stage, reservedMinor: hold.reserved_minor },
          });
        }
        return due.length;
      });
      total += expired;
      if (expired < EXPIRY_BATCH) return total;
    }
  }
}
