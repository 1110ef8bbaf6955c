import type { DbOrTrx } from '../db';
import { isExpiringSoon, renewalsLeft, type DisputeStatus, type HoldClocks, type HoldStage, type HoldStatus, type ReturnStatus } from '../domain/holds';
import { toMinorNumber, toTotal, type MinorTotal } from '../domain/money';
import { decodeCursor, toPage, type Page } from '../http/pagination';
import type { DisputeOut, HoldOut, ReturnOut } from './holds.schemas';

// Holds, their returns and disputes, and the hold entries of the ledger. Reads are scoped in the
// query: `scope` is the institution a partner-side viewer is confined to (undefined: center staff).

export type HoldRow = {
  id: string; task_id: string; task_result_id: string; report_id: string | null; institution_id: string;
  account: string; account_name: string | null; currency: string;
  frozen_minor: number; released_minor: number; returned_minor: number; reserved_minor: number; balance_minor: number;
  stage: HoldStage; status: HoldStatus; expires_at: Date; renewals: number; version: number;
  created_at: Date; updated_at: Date; ended_at: Date | null;
  /** Joined from the report, on reads. */
  case_number?: string | null;
};

export type ReturnRow = {
  id: string; hold_id: string; task_id: string; amount_minor: number; returned_minor: number | null;
  victim_account: string; victim_account_name: string | null; note: string | null; status: ReturnStatus;
  created_by: string | null; created_at: Date; settled_at: Date | null;
};

export type DisputeRow = {
  id: string; hold_id: string; institution_id: string; claimant_name: string; reason: string; amount_minor: number;
  status: DisputeStatus; due_at: Date; opened_by_type: string; opened_by_id: string | null;
  released_minor: number | null; decision_reason: string | null; decided_by_id: string | null; decided_at: Date | null;
  created_at: Date;
  /** Joined from the hold and its report, on reads. */
  case_number?: string | null; report_id?: string | null; currency?: string;
};

const HOLD_READ = ['h.*', 'r.case_number'];

function holdsVisible(db: DbOrTrx, scope: string | undefined) {
  const q = db('holds as h').leftJoin('reports as r', 'r.id', 'h.report_id').select(HOLD_READ);
  if (scope !== undefined) q.where('h.institution_id', scope);
  return q;
}

export async function insertHold(
  trx: DbOrTrx,
  h: {
    taskId: string; taskResultId: string; reportId: string | null; institutionId: string; account: string; accountName: string | null;
    currency: string; frozenMinor: number; stage: HoldStage; expiresAt: Date;
  },
): Promise<HoldRow> {
  const [row] = await trx('holds')
    .insert({
      task_id: h.taskId, task_result_id: h.taskResultId, report_id: h.reportId, institution_id: h.institutionId,
      account: h.account, account_name: h.accountName, currency: h.currency, frozen_minor: h.frozenMinor,
      stage: h.stage, expires_at: h.expiresAt,
    })
    .returning('*');
  return row as HoldRow;
}

/**
 * The hold, locked for the rest of the transaction (scoped when `scope` is given). Every writer of
 * a hold's amounts, stage or status takes this lock first, so racing writers run one after another
 * and each sees the amounts the one before it left.
 */
export async function lockHold(trx: DbOrTrx, id: string, scope?: string): Promise<HoldRow | undefined> {
  const q = trx('holds').where({ id }).forUpdate();
  if (scope !== undefined) q.andWhere('institution_id', scope);
  return (await q.first()) as HoldRow | undefined;
}

/** Writes a locked hold's new amounts, stage, clock or status, and bumps its version. */
export async function updateHold(
  trx: DbOrTrx, id: string,
  patch: Partial<Pick<HoldRow, 'released_minor' | 'returned_minor' | 'reserved_minor' | 'stage' | 'status' | 'expires_at' | 'renewals'>>,
): Promise<HoldRow> {
  const ending = patch.status === 'closed' || patch.status === 'expired';
  const [row] = await trx('holds')
    .where({ id })
    .update({
      ...patch,
      ...(ending ? { ended_at: trx.raw('coalesce(ended_at, now())') } : {}),
      version: trx.raw('version + 1'),
      updated_at: trx.fn.now(),
    })
    .returning('*');
  return row as HoldRow;
}

export async function findVisibleHold(db: DbOrTrx, scope: string | undefined, id: string): Promise<HoldRow | undefined> {
  return (await holdsVisible(db, scope).where('h.id', id).first()) as HoldRow | undefined;
}

/** The hold a task opened (its freeze) or pays from (a return task), as the viewer may see it. */
export async function findVisibleHoldOfTask(db: DbOrTrx, scope: string | undefined, taskId: string): Promise<HoldRow | undefined> {
  return (await holdsVisible(db, scope)
    .where((q) => q.where('h.task_id', taskId).orWhereIn('h.id', db('hold_returns').select('hold_id').where({ task_id: taskId })))
    .first()) as HoldRow | undefined;
}

export type HoldFilters = {
  status?: HoldStatus; institutionId?: string; reportId?: string; expiringSoon?: boolean; cursor?: string; limit: number;
};

/** Most urgent first: soonest expiry, then id for a stable cursor. */
export async function listVisibleHolds(db: DbOrTrx, scope: string | undefined, f: HoldFilters, warningSeconds: number): Promise<Page<HoldRow>> {
  const q = holdsVisible(db, scope);
  if (f.status) q.where('h.status', f.status);
  if (f.institutionId) q.where('h.institution_id', f.institutionId);
  if (f.reportId) q.where('h.report_id', f.reportId);
  if (f.expiringSoon !== undefined) {
    const soon = `h.status = 'active' AND h.expires_at <= now() + make_interval(secs => ?)`;
    q.whereRaw(f.expiringSoon ? `(${soon})` : `NOT (${soon})`, [warningSeconds]);
  }
  const after = decodeCursor(f.cursor, 2);
  if (after) q.whereRaw('(h.expires_at, h.id) > (?::timestamptz, ?::uuid)', after);
  const rows = (await q.orderBy([{ column: 'h.expires_at' }, { column: 'h.id' }]).limit(f.limit + 1)) as HoldRow[];
  return toPage(rows, f.limit, (r) => r, (r) => [r.expires_at.toISOString(), r.id]);
}

/** Active holds past their expiry, locked; one a racing writer holds is left for the next scan. */
export async function lockExpiredHolds(trx: DbOrTrx, limit: number): Promise<HoldRow[]> {
  return (await trx('holds')
    .where('status', 'active')
    .where('expires_at', '<=', trx.fn.now())
    .orderBy([{ column: 'expires_at' }, { column: 'id' }])
    .limit(limit)
    .forUpdate()
    .skipLocked()) as HoldRow[];
}

/** The balance of active holds now, per institution and currency: what is held today. */
export async function heldNow(db: DbOrTrx, currency: string): Promise<Map<string, MinorTotal>> {
  const rows: { institution_id: string; held: string | number | null }[] = await db('holds')
    .select('institution_id')
    .sum({ held: 'balance_minor' })
    .where({ status: 'active', currency })
    .groupBy('institution_id');
  return new Map(rows.map((r) => [r.institution_id, toTotal(r.held)]));
}

// Returns

export async function insertReturn(
  trx: DbOrTrx,
  r: { holdId: string; taskId: string; amountMinor: number; victimAccount: string; victimAccountName: string | null; note: string | null; createdBy: string | null },
): Promise<ReturnRow> {
  const [row] = await trx('hold_returns')
    .insert({
      hold_id: r.holdId, task_id: r.taskId, amount_minor: r.amountMinor, victim_account: r.victimAccount,
      victim_account_name: r.victimAccountName, note: r.note, created_by: r.createdBy,
    })
    .returning('*');
  return row as ReturnRow;
}

/** The hold a return task pays from, read without a lock: the caller locks the hold, then the return. */
export async function holdIdOfReturnTask(db: DbOrTrx, taskId: string): Promise<string | undefined> {
  const row: { hold_id: string } | undefined = await db('hold_returns').select('hold_id').where({ task_id: taskId }).first();
  return row?.hold_id;
}

export async function lockReturnOfTask(trx: DbOrTrx, taskId: string): Promise<ReturnRow | undefined> {
  return (await trx('hold_returns').where({ task_id: taskId }).forUpdate().first()) as ReturnRow | undefined;
}

export async function settleReturn(trx: DbOrTrx, id: string, status: 'paid' | 'failed', returnedMinor: number | null): Promise<ReturnRow> {
  const [row] = await trx('hold_returns')
    .where({ id, status: 'pending' })
    .update({ status, returned_minor: returnedMinor, settled_at: trx.fn.now() })
    .returning('*');
  return row as ReturnRow;
}

export async function returnsOfHold(db: DbOrTrx, holdId: string): Promise<ReturnRow[]> {
  return (await db('hold_returns').where({ hold_id: holdId }).orderBy([{ column: 'created_at' }, { column: 'id' }])) as ReturnRow[];
}

// Disputes

const DISPUTE_READ = ['d.*', 'h.report_id', 'h.currency', 'r.case_number'];

function disputesVisible(db: DbOrTrx, scope: string | undefined) {
  const q = db('hold_disputes as d')
    .join('holds as h', 'h.id', 'd.hold_id')
    .leftJoin('reports as r', 'r.id', 'h.report_id')
    .select(DISPUTE_READ);
  if (scope !== undefined) q.where('d.institution_id', scope);
  return q;
}

export async function insertDispute(
  trx: DbOrTrx,
  d: { holdId: string; institutionId: string; claimantName: string; reason: string; amountMinor: number; dueAt: Date; openedByType: string; openedById: string | null },
): Promise<DisputeRow> {
  const [row] = await trx('hold_disputes')
    .insert({
      hold_id: d.holdId, institution_id: d.institutionId, claimant_name: d.claimantName, reason: d.reason,
      amount_minor: d.amountMinor, due_at: d.dueAt, opened_by_type: d.openedByType, opened_by_id: d.openedById,
    })
    .returning('*');
  return row as DisputeRow;
}

export async function findVisibleDispute(db: DbOrTrx, scope: string | undefined, id: string): Promise<DisputeRow | undefined> {
  return (await disputesVisible(db, scope).where('d.id', id).first()) as DisputeRow | undefined;
}

export async function lockDispute(trx: DbOrTrx, id: string): Promise<DisputeRow | undefined> {
  return (await trx('hold_disputes').where({ id }).forUpdate().first()) as DisputeRow | undefined;
}

export async function decideDispute(
  trx: DbOrTrx, id: string,
  d: { status: 'released' | 'rejected'; releasedMinor: number | null; reason: string; decidedById: string },
): Promise<void> {
  await trx('hold_disputes')
    .where({ id, status: 'open' })
    .update({ status: d.status, released_minor: d.releasedMinor, decision_reason: d.reason, decided_by_id: d.decidedById, decided_at: trx.fn.now() });
}

export type DisputeFilters = { status?: DisputeStatus; institutionId?: string; holdId?: string; reportId?: string; cursor?: string; limit: number };

/** Soonest due first. */
export async function listVisibleDisputes(db: DbOrTrx, scope: string | undefined, f: DisputeFilters): Promise<Page<DisputeRow>> {
  const q = disputesVisible(db, scope);
  if (f.status) q.where('d.status', f.status);
  if (f.institutionId) q.where('d.institution_id', f.institutionId);
  if (f.holdId) q.where('d.hold_id', f.holdId);
  if (f.reportId) q.where('h.report_id', f.reportId);
  const after = decodeCursor(f.cursor, 2);
  if (after) q.whereRaw('(d.due_at, d.id) > (?::timestamptz, ?::uuid)', after);
  const rows = (await q.orderBy([{ column: 'd.due_at' }, { column: 'd.id' }]).limit(f.limit + 1)) as DisputeRow[];
  return toPage(rows, f.limit, (r) => r, (r) => [r.due_at.toISOString(), r.id]);
}

export async function disputesOfHold(db: DbOrTrx, holdId: string): Promise<DisputeRow[]> {
  return (await disputesVisible(db, undefined).where('d.hold_id', holdId).orderBy([{ column: 'd.created_at' }, { column: 'd.id' }])) as DisputeRow[];
}

// Ledger

/**
 * Money leaving a hold, booked once: the booking key names the act (a release, a dispute's
 * decision, an expiry, a return's result), and the unique index refuses the same act twice. The
 * ledger is append-only.
 */
export async function insertHoldLedgerEntry(
  trx: DbOrTrx,
  e: {
    entryType: 'released' | 'returned'; hold: HoldRow; taskId: string; taskResultId: string | null; fraudType: string | null;
    amountMinor: number; bookingKey: string; note: string;
  },
): Promise<void> {
  await trx('loss_prevention_ledger').insert({
    entry_type: e.entryType,
    task_id: e.taskId,
    task_result_id: e.taskResultId,
    report_id: e.hold.report_id,
    institution_id: e.hold.institution_id,
    fraud_type: e.fraudType,
    amount_minor: e.amountMinor,
    currency: e.hold.currency,
    hold_id: e.hold.id,
    booking_key: e.bookingKey,
    note: e.note,
  });
}

// Pro-rata split

/**
 * The reports whose victims paid into `account`, with how much each reported paying into it, in
 * the hold's currency; oldest report first.
 */
export async function reportedTransfersInto(db: DbOrTrx, account: string, currency: string): Promise<{ reportId: string; caseNumber: string; victimName: string; transferredMinor: number }[]> {
  const rows = (await db('transfers as t')
    .join('reports as r', 'r.id', 't.report_id')
    .select('t.report_id', 'r.case_number', 'r.victim_name')
    .sum({ transferred: 't.amount_minor' })
    .where({ 't.to_account': account, 't.currency': currency })
    .groupBy('t.report_id', 'r.case_number', 'r.victim_name', 'r.created_at')
    .orderBy([{ column: 'r.created_at' }, { column: 't.report_id' }])) as { report_id: string; case_number: string; victim_name: string; transferred: string | number }[];
  return rows.map((r) => ({ reportId: r.report_id, caseNumber: r.case_number, victimName: r.victim_name, transferredMinor: toMinorNumber(r.transferred) }));
}

export async function reportVictim(db: DbOrTrx, reportId: string): Promise<{ caseNumber: string; victimName: string } | undefined> {
  const row: { case_number: string; victim_name: string } | undefined = await db('reports').select('case_number', 'victim_name').where({ id: reportId }).first();
  return row && { caseNumber: row.case_number, victimName: row.victim_name };
}

export async function taskDepthAndAmount(db: DbOrTrx, taskId: string): Promise<{ depth: number; amountMinor: number | null }> {
  const row: { depth: number; amount_minor: number | null } = await db('tasks').select('depth', 'amount_minor').where({ id: taskId }).first();
  return { depth: row.depth, amountMinor: row.amount_minor };
}

// Rows to the API's objects

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toHold(row: HoldRow, clocks: HoldClocks, now = new Date()): HoldOut {
  return {
    id: row.id,
    taskId: row.task_id,
    reportId: row.report_id,
    caseNumber: row.case_number ?? null,
    institutionId: row.institution_id,
    account: row.account,
    accountName: row.account_name,
    currency: row.currency,
    frozenMinor: row.frozen_minor,
    releasedMinor: row.released_minor,
    returnedMinor: row.returned_minor,
    balanceMinor: row.balance_minor,
    reservedMinor: row.reserved_minor,
    availableMinor: row.balance_minor - row.reserved_minor,
    stage: row.stage,
    status: row.status,
    expiresAt: row.expires_at.toISOString(),
    renewals: row.renewals,
    renewalsLeft: renewalsLeft(row, clocks),
    expiringSoon: isExpiringSoon({ status: row.status, expiresAt: row.expires_at }, now, clocks),
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    endedAt: iso(row.ended_at),
  };
}

export function toReturn(row: ReturnRow): ReturnOut {
  return {
    id: row.id,
    holdId: row.hold_id,
    taskId: row.task_id,
    amountMinor: row.amount_minor,
    returnedMinor: row.returned_minor,
    status: row.status,
    victimAccount: row.victim_account,
    victimAccountName: row.victim_account_name,
    note: row.note,
    createdAt: row.created_at.toISOString(),
    settledAt: iso(row.settled_at),
  };
}

export function toDispute(row: DisputeRow, now = new Date()): DisputeOut {
  return {
    id: row.id,
    holdId: row.hold_id,
    reportId: row.report_id ?? null,
    caseNumber: row.case_number ?? null,
    institutionId: row.institution_id,
    currency: row.currency ?? '',
    claimantName: row.claimant_name,
    reason: row.reason,
    amountMinor: row.amount_minor,
    status: row.status,
    dueAt: row.due_at.toISOString(),
    overdue: row.status === 'open' && row.due_at.getTime() < now.getTime(),
    releasedMinor: row.released_minor,
    decisionReason: row.decision_reason,
    decidedAt: iso(row.decided_at),
    createdAt: row.created_at.toISOString(),
  };
}
