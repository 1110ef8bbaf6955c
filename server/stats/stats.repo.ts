import type { DbOrTrx } from '../db';
import { OPEN_TASK_STATUSES, type FraudType } from '../domain/kinds';
import { toMinorNumber } from '../domain/money';

// Rollups are written in the transaction of the use case that changes what they count, and the
// booking day is the center's local day of the transaction's clock, the same clock the ledger's
// booked_at takes: a rollup day and a ledger row can never disagree about which day they belong to.

const localToday = (db: DbOrTrx, timeZone: string) => db.raw('(now() AT TIME ZONE ?)::date', [timeZone]);

/** The report rollup the supervisor's figures read, bumped in the intake transaction. */
export async function addReportDaily(
  trx: DbOrTrx,
  at: { timeZone: string },
  r: { currency: string; fraudType: FraudType; reportedLossMinor: number },
): Promise<void> {
  await trx.raw(
    `INSERT INTO stats_daily (day, currency, fraud_type, reports, reported_loss_minor)
     VALUES ((now() AT TIME ZONE :tz)::date, :currency, :fraudType, 1, :loss)
     ON CONFLICT (day, currency, fraud_type) DO UPDATE
       SET reports = stats_daily.reports + 1,
           reported_loss_minor = stats_daily.reported_loss_minor + EXCLUDED.reported_loss_minor`,
    { tz: at.timeZone, currency: r.currency, fraudType: r.fraudType, loss: r.reportedLossMinor },
  );
}

export async function addLossPreventedDaily(
  trx: DbOrTrx,
  p: { timeZone: string; currency: string; fraudType: string; amountMinor: number },
): Promise<void> {
  await trx.raw(
    `INSERT INTO stats_daily (day, currency, fraud_type, loss_prevented_minor)
     VALUES ((now() AT TIME ZONE ?)::date, ?, ?, ?)
     ON CONFLICT (day, currency, fraud_type)
     DO UPDATE SET loss_prevented_minor = stats_daily.loss_prevented_minor + EXCLUDED.loss_prevented_minor`,
    [p.timeZone, p.currency, p.fraudType, p.amountMinor],
  );
}

export async function addInstitutionResult(
  trx: DbOrTrx,
  p: { timeZone: string; institutionId: string; currency: string; lossPreventedMinor: number; done: number; failed: number },
): Promise<void> {
  await trx.raw(
    `INSERT INTO stats_institution_daily (day, institution_id, currency, loss_prevented_minor, tasks_done, tasks_failed)
     VALUES ((now() AT TIME ZONE ?)::date, ?, ?, ?, ?, ?)
     ON CONFLICT (day, institution_id, currency) DO UPDATE SET
       loss_prevented_minor = stats_institution_daily.loss_prevented_minor + EXCLUDED.loss_prevented_minor,
       tasks_done = stats_institution_daily.tasks_done + EXCLUDED.tasks_done,
       tasks_failed = stats_institution_daily.tasks_failed + EXCLUDED.tasks_failed`,
    [p.timeZone, p.institutionId, p.currency, p.lossPreventedMinor, p.done, p.failed],
  );
}

export async function todayIn(db: DbOrTrx, timeZone: string): Promise<string> {
  const { rows } = await db.raw(`SELECT to_char(?, 'YYYY-MM-DD') AS day`, [localToday(db, timeZone)]);
  return rows[0].day as string;
}

/** A period of whole local days, both ends included. */
export type Period = { from: string; to: string; timeZone: string; currency: string };

/** [start, end) of the period as timestamptz expressions, index-friendly for timestamp columns. */
function bounds(db: DbOrTrx, p: Period) {
  return {
    start: db.raw('(?::date)::timestamp AT TIME ZONE ?', [p.from, p.timeZone]),
    end: db.raw('((?::date) + 1)::timestamp AT TIME ZONE ?', [p.to, p.timeZone]),
  };
}

type Num = string | number | null;

export type DailyRollup = { date: string; fraudType: string; reports: number; reportedLossMinor: number; lossPreventedMinor: number };

export async function dailyRollups(db: DbOrTrx, p: Period): Promise<DailyRollup[]> {
  const rows: { day: string; fraud_type: string; reports: Num; reported_loss_minor: Num; loss_prevented_minor: Num }[] = await db('stats_daily')
    .select(db.raw(`to_char(day, 'YYYY-MM-DD') AS day`), 'fraud_type', 'reports', 'reported_loss_minor', 'loss_prevented_minor')
    .where('currency', p.currency)
    .whereBetween('day', [p.from, p.to])
    .orderBy(['day', 'fraud_type']);
  return rows.map((r) => ({
    date: r.day,
    fraudType: r.fraud_type,
    reports: toMinorNumber(r.reports),
    reportedLossMinor: toMinorNumber(r.reported_loss_minor),
    lossPreventedMinor: toMinorNumber(r.loss_prevented_minor),
  }));
}

export type InstitutionRollup = { institutionId: string; lossPreventedMinor: number; tasksDone: number; tasksFailed: number };

/** Loss prevented in the period's currency; task counts whatever the task's currency. */
export async function institutionRollups(db: DbOrTrx, p: Period): Promise<InstitutionRollup[]> {
  const rows: { institution_id: string; loss: Num; done: Num; failed: Num }[] = await db('stats_institution_daily')
    .select('institution_id')
    .select(db.raw('SUM(CASE WHEN currency = ? THEN loss_prevented_minor ELSE 0 END) AS loss', [p.currency]))
    .select(db.raw('SUM(tasks_done) AS done'), db.raw('SUM(tasks_failed) AS failed'))
    .whereBetween('day', [p.from, p.to])
    .groupBy('institution_id');
  return rows.map((r) => ({
    institutionId: r.institution_id,
    lossPreventedMinor: toMinorNumber(r.loss),
    tasksDone: toMinorNumber(r.done),
    tasksFailed: toMinorNumber(r.failed),
  }));
}

export type OpenCounts = { institutionId: string | null; queued: number; dispatched: number; unrouted: number; overdue: number };

/** The room as it is now: open work is a small set, read through the (institution, status, due) index. */
export async function openTaskCounts(db: DbOrTrx): Promise<OpenCounts[]> {
  const rows: { institution_id: string | null; queued: Num; dispatched: Num; unrouted: Num; overdue: Num }[] = await db('tasks')
    .select('institution_id')
    .select(db.raw(`COUNT(*) FILTER (WHERE status = 'queued') AS queued`))
    .select(db.raw(`COUNT(*) FILTER (WHERE status = 'dispatched') AS dispatched`))
    .select(db.raw(`COUNT(*) FILTER (WHERE status = 'unrouted') AS unrouted`))
    .select(db.raw(`COUNT(*) FILTER (WHERE due_at < now()) AS overdue`))
    .whereIn('status', OPEN_TASK_STATUSES)
    .groupBy('institution_id');
  return rows.map((r) => ({
    institutionId: r.institution_id,
    queued: toMinorNumber(r.queued),
    dispatched: toMinorNumber(r.dispatched),
    unrouted: toMinorNumber(r.unrouted),
    overdue: toMinorNumber(r.overdue),
  }));
}

const roundMinutes = (v: Num): number | null => (v === null ? null : Math.round(Number(v) * 10) / 10);

/** Median over reports whose first freeze fell in the period (the period's rows only). */
export async function medianMinutesReportToFirstFreeze(db: DbOrTrx, p: Period): Promise<number | null> {
  const { start, end } = bounds(db, p);
  const row: { median: Num } | undefined = await db('reports')
    .select(db.raw('percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_frozen_at - created_at) / 60) AS median'))
    .where('first_frozen_at', '>=', start)
    .where('first_frozen_at', '<', end)
    .first();
  return roundMinutes(row?.median ?? null);
}

/** Per institution, median minutes from a task's creation to its result, over results recorded in the period. */
export async function medianMinutesToResult(db: DbOrTrx, p: Period): Promise<Map<string, number | null>> {
  const { start, end } = bounds(db, p);
  const rows: { institution_id: string; median: Num }[] = await db('task_results as r')
    .join('tasks as t', 't.id', 'r.task_id')
    .select('t.institution_id')
    .select(db.raw('percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM r.created_at - t.created_at) / 60) AS median'))
    .where('r.created_at', '>=', start)
    .where('r.created_at', '<', end)
    .whereNotNull('t.institution_id')
    .groupBy('t.institution_id');
  return new Map(rows.map((r) => [r.institution_id, roundMinutes(r.median)]));
}
