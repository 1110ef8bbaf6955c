import type { DbOrTrx } from '../db';
import { OPEN_TASK_STATUSES, type FraudType } from '../domain/kinds';
import { toMinorNumber, toTotal, type MinorTotal } from '../domain/money';

// Rollups: every writer appends its delta to stats_deltas in its own transaction (the task
// writer, server/tasks/task-writer.repo.ts), so no two writers wait on one row; foldStatsDeltas
// moves them into stats_daily, stats_institution_daily and stats_warnings_daily in the background.
// Readers add what is not folded yet, in the same snapshot, so a figure is exact whether or not a fold has run. The
// booking day is the center's local day of the transaction's clock, the clock the ledger's
// booked_at takes: a rollup day and a ledger row never disagree about their day.

const localToday = (db: DbOrTrx, timeZone: string) => db.raw('(now() AT TIME ZONE ?)::date', [timeZone]);

/**
 * Moves up to `limit` deltas into the rollups, in one statement: deleted and added together, so a
 * reader sees each delta in exactly one place. Two folds at once share nothing: a delta the other
 * deleted first is skipped. Returns how many it moved.
 */
export async function foldStatsDeltas(db: DbOrTrx, limit = 50000): Promise<number> {
  const { rows } = await db.raw(
    `WITH moved AS (
       DELETE FROM stats_deltas WHERE id IN (SELECT id FROM stats_deltas ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
       RETURNING *
     ), daily AS (
       INSERT INTO stats_daily AS s (day, currency, fraud_type, reports, reported_loss_minor, loss_prevented_minor, released_minor, returned_minor)
       SELECT day, currency, fraud_type, sum(reports), sum(reported_loss_minor), sum(loss_prevented_minor), sum(released_minor), sum(returned_minor)
         FROM moved WHERE fraud_type IS NOT NULL
        GROUP BY day, currency, fraud_type
        ORDER BY day, currency, fraud_type
       ON CONFLICT (day, currency, fraud_type) DO UPDATE SET
         reports = s.reports + excluded.reports,
         reported_loss_minor = s.reported_loss_minor + excluded.reported_loss_minor,
         loss_prevented_minor = s.loss_prevented_minor + excluded.loss_prevented_minor,
         released_minor = s.released_minor + excluded.released_minor,
         returned_minor = s.returned_minor + excluded.returned_minor
     ), institutions AS (
       INSERT INTO stats_institution_daily AS s (day, institution_id, currency, loss_prevented_minor, released_minor, returned_minor, tasks_done, tasks_failed)
       SELECT day, institution_id, currency, sum(loss_prevented_minor), sum(released_minor), sum(returned_minor), sum(tasks_done), sum(tasks_failed)
         FROM moved WHERE institution_id IS NOT NULL
        GROUP BY day, institution_id, currency
        ORDER BY day, institution_id, currency
       ON CONFLICT (day, institution_id, currency) DO UPDATE SET
         loss_prevented_minor = s.loss_prevented_minor + excluded.loss_prevented_minor,
         released_minor = s.released_minor + excluded.released_minor,
         returned_minor = s.returned_minor + excluded.returned_minor,
         tasks_done = s.tasks_done + excluded.tasks_done,
         tasks_failed = s.tasks_failed + excluded.tasks_failed
     ), warnings AS (
       INSERT INTO stats_warnings_daily AS s (day, currency, issued, dissuaded, dissuaded_minor)
       SELECT day, currency, sum(warnings_issued), sum(warnings_dissuaded), sum(warnings_dissuaded_minor)
         FROM moved WHERE warnings_issued <> 0 OR warnings_dissuaded <> 0
        GROUP BY day, currency
        ORDER BY day, currency
       ON CONFLICT (day, currency) DO UPDATE SET
         issued = s.issued + excluded.issued,
         dissuaded = s.dissuaded + excluded.dissuaded,
         dissuaded_minor = s.dissuaded_minor + excluded.dissuaded_minor
     )
     SELECT count(*)::int AS moved FROM moved`,
    [limit],
  );
  return (rows as { moved: number }[])[0]?.moved ?? 0;
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

export type DailyRollup = {
  date: string; fraudType: string; reports: number; reportedLossMinor: MinorTotal; lossPreventedMinor: MinorTotal;
  releasedMinor: MinorTotal; returnedMinor: MinorTotal;
};

export async function dailyRollups(db: DbOrTrx, p: Period): Promise<DailyRollup[]> {
  const { rows } = await db.raw(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, fraud_type,
            sum(reports) AS reports, sum(reported_loss_minor) AS reported_loss_minor, sum(loss_prevented_minor) AS loss_prevented_minor,
            sum(released_minor) AS released_minor, sum(returned_minor) AS returned_minor
       FROM (SELECT day, fraud_type, reports, reported_loss_minor, loss_prevented_minor, released_minor, returned_minor
               FROM stats_daily WHERE currency = :currency AND day BETWEEN :from AND :to
             UNION ALL
             SELECT day, fraud_type, reports, reported_loss_minor, loss_prevented_minor, released_minor, returned_minor
               FROM stats_deltas WHERE fraud_type IS NOT NULL AND currency = :currency AND day BETWEEN :from AND :to) r
      GROUP BY day, fraud_type
      ORDER BY day, fraud_type`,
    { currency: p.currency, from: p.from, to: p.to },
  ) as { rows: { day: string; fraud_type: string; reports: Num; reported_loss_minor: Num; loss_prevented_minor: Num; released_minor: Num; returned_minor: Num }[] };
  return rows.map((r) => ({
    date: r.day,
    fraudType: r.fraud_type,
    reports: toMinorNumber(r.reports),
    reportedLossMinor: toTotal(r.reported_loss_minor),
    lossPreventedMinor: toTotal(r.loss_prevented_minor),
    releasedMinor: toTotal(r.released_minor),
    returnedMinor: toTotal(r.returned_minor),
  }));
}

export type InstitutionRollup = {
  institutionId: string; lossPreventedMinor: MinorTotal; releasedMinor: MinorTotal; returnedMinor: MinorTotal; tasksDone: number; tasksFailed: number;
};

/** Money in the period's currency; task counts whatever the task's currency. */
export async function institutionRollups(db: DbOrTrx, p: Period): Promise<InstitutionRollup[]> {
  const inCurrency = (column: string) => `SUM(CASE WHEN currency = :currency THEN ${column} ELSE 0 END)`;
  const { rows } = await db.raw(
    `SELECT institution_id, ${inCurrency('loss_prevented_minor')} AS loss, ${inCurrency('released_minor')} AS released,
            ${inCurrency('returned_minor')} AS returned, SUM(tasks_done) AS done, SUM(tasks_failed) AS failed
       FROM (SELECT institution_id, currency, loss_prevented_minor, released_minor, returned_minor, tasks_done, tasks_failed
               FROM stats_institution_daily WHERE day BETWEEN :from AND :to
             UNION ALL
             SELECT institution_id, currency, loss_prevented_minor, released_minor, returned_minor, tasks_done, tasks_failed
               FROM stats_deltas WHERE institution_id IS NOT NULL AND day BETWEEN :from AND :to) r
      GROUP BY institution_id`,
    { currency: p.currency, from: p.from, to: p.to },
  ) as { rows: { institution_id: string; loss: Num; released: Num; returned: Num; done: Num; failed: Num }[] };
  return rows.map((r) => ({
    institutionId: r.institution_id,
    lossPreventedMinor: toTotal(r.loss),
    releasedMinor: toTotal(r.released),
    returnedMinor: toTotal(r.returned),
    tasksDone: toMinorNumber(r.done),
    tasksFailed: toMinorNumber(r.failed),
  }));
}

export type WarningRollup = { issued: number; dissuaded: number; dissuadedMinor: MinorTotal };

/** Early warnings of the period: counted whatever the payment's currency; the amount kept in the period's currency. */
export async function warningRollup(db: DbOrTrx, p: Period): Promise<WarningRollup> {
  const { rows } = await db.raw(
    `SELECT sum(issued) AS issued, sum(dissuaded) AS dissuaded,
            sum(CASE WHEN currency = :currency THEN dissuaded_minor ELSE 0 END) AS dissuaded_minor
       FROM (SELECT currency, issued, dissuaded, dissuaded_minor
               FROM stats_warnings_daily WHERE day BETWEEN :from AND :to
             UNION ALL
             SELECT currency, warnings_issued, warnings_dissuaded, warnings_dissuaded_minor
               FROM stats_deltas WHERE (warnings_issued <> 0 OR warnings_dissuaded <> 0) AND day BETWEEN :from AND :to) r`,
    { currency: p.currency, from: p.from, to: p.to },
  ) as { rows: { issued: Num; dissuaded: Num; dissuaded_minor: Num }[] };
  const r = rows[0];
  return {
    issued: toMinorNumber(r?.issued ?? null),
    dissuaded: toMinorNumber(r?.dissuaded ?? null),
    dissuadedMinor: toTotal(r?.dissuaded_minor ?? null),
  };
}

export type OpenCounts = { institutionId: string | null; queued: number; dispatched: number; deliveryFailed: number; unrouted: number; overdue: number };

/** The room as it is now: open work is a small set, read through the (institution, status, due) index. */
export async function openTaskCounts(db: DbOrTrx): Promise<OpenCounts[]> {
  const rows: { institution_id: string | null; queued: Num; dispatched: Num; delivery_failed: Num; unrouted: Num; overdue: Num }[] = await db('tasks')
    .select('institution_id')
    .select(db.raw(`COUNT(*) FILTER (WHERE status = 'queued') AS queued`))
    .select(db.raw(`COUNT(*) FILTER (WHERE status = 'dispatched') AS dispatched`))
    .select(db.raw(`COUNT(*) FILTER (WHERE status = 'delivery_failed') AS delivery_failed`))
    .select(db.raw(`COUNT(*) FILTER (WHERE status = 'unrouted') AS unrouted`))
    .select(db.raw(`COUNT(*) FILTER (WHERE due_at < now()) AS overdue`))
    .whereIn('status', OPEN_TASK_STATUSES)
    .groupBy('institution_id');
  return rows.map((r) => ({
    institutionId: r.institution_id,
    queued: toMinorNumber(r.queued),
    dispatched: toMinorNumber(r.dispatched),
    deliveryFailed: toMinorNumber(r.delivery_failed),
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

export type ResultTimings = {
  medianMinutes: number | null;
  p90Minutes: number | null;
  /** Results recorded in the period, and how many of them came before their task's due time. */
  results: number;
  onTime: number;
};

/**
 * Per institution, over results recorded in the period: median and 90th-percentile minutes from a
 * task's creation to its result, and how many results came before the task's due time.
 */
export async function resultTimings(db: DbOrTrx, p: Period): Promise<Map<string, ResultTimings>> {
  const { start, end } = bounds(db, p);
  const minutes = 'EXTRACT(EPOCH FROM r.created_at - r.task_created_at) / 60';
  const rows: { institution_id: string; median: Num; p90: Num; results: Num; on_time: Num }[] = await db('task_results as r')
    .select('r.institution_id')
    .select(db.raw(`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${minutes}) AS median`))
    .select(db.raw(`percentile_cont(0.9) WITHIN GROUP (ORDER BY ${minutes}) AS p90`))
    .select(db.raw('count(*) AS results'))
    .select(db.raw('count(*) FILTER (WHERE r.created_at < r.task_due_at) AS on_time'))
    .where('r.created_at', '>=', start)
    .where('r.created_at', '<', end)
    .whereNotNull('r.institution_id')
    .groupBy('r.institution_id');
  return new Map(rows.map((r) => [r.institution_id, {
    medianMinutes: roundMinutes(r.median),
    p90Minutes: roundMinutes(r.p90),
    results: toMinorNumber(r.results),
    onTime: toMinorNumber(r.on_time),
  }]));
}
