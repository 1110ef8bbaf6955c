import type { ServiceContext } from '../context';
import { dayNumber, dayText, localDate } from '../domain/dates';
import { FRAUD_TYPES, type FraudType } from '../domain/kinds';
import { basisPoints, formatMinorPlain, sumMinor, sumTotals, type MinorTotal } from '../domain/money';
import { heldNow } from '../holds/holds.repo';
import { ValidationError } from '../errors';
import { listInstitutions } from '../admin/institutions.repo';
import {
  dailyRollups, foldStatsDeltas, institutionRollups, medianMinutesReportToFirstFreeze, openTaskCounts, resultTimings,
  warningRollup, type OpenCounts, type Period,
} from './stats.repo';
import type { InstitutionStats, StatsQuery, StatsSummary } from './stats.schemas';

/** Beyond this many days the daily series lists only the days that have figures. */
const MAX_FILLED_DAYS = 1000;


/** A query's day as given, or the local day of a timestamp. */
const queryDay = (value: string, timeZone: string): string =>
  /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : localDate(new Date(value), timeZone);

/**
 * The CSV's columns: the first seven as they always were (consumers may read them by position),
 * then the funnel after the freeze. Money is in minor units, each beside the same in major units
 * (a column named without "Minor"); loss prevented, already in place, gets its major column first.
 */
type CsvColumn = { name: string; value: (r: InstitutionStats, currency: string) => string | number | bigint | null };
const minorColumn = (c: keyof InstitutionStats): CsvColumn => ({ name: c, value: (r) => r[c] });
// Major units are formatted from the integer's digits ("1234.56"): no float arithmetic.
const majorColumn = (c: 'lossPreventedMinor' | 'returnedMinor' | 'releasedMinor' | 'heldMinor'): CsvColumn => ({
  name: c.replace(/Minor$/, ''), value: (r, currency) => formatMinorPlain(r[c], currency),
});
const STATS_CSV_COLUMNS: CsvColumn[] = [
  ...(['institutionId', 'lossPreventedMinor', 'tasksDone', 'tasksFailed', 'tasksOpen', 'tasksOverdue', 'medianMinutesToResult'] as const).map(minorColumn),
  majorColumn('lossPreventedMinor'),
  minorColumn('returnedMinor'), majorColumn('returnedMinor'),
  minorColumn('releasedMinor'), majorColumn('releasedMinor'),
  minorColumn('heldMinor'), majorColumn('heldMinor'),
  minorColumn('returnRateBasisPoints'),
  // The league table's timing figures, after the funnel.
  ...(['p90MinutesToResult', 'results', 'resultsOnTime', 'onTimePercent'] as const).map(minorColumn),
];

/** part / whole as a whole percent, rounded half up, in integers only; null when there is no whole. */
export function wholePercent(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.floor((part * 200 + whole) / (whole * 2));
}

/** The supervisor's figures, read from the rollup tables and the small set of open tasks. */
export class StatsService {
  constructor(private readonly ctx: ServiceContext) {}

  async period(q: StatsQuery): Promise<Period> {
    const { timeZone, defaultCurrency } = this.ctx.config;
    // The process's clock, as the dashboard's headlines take it: one round trip less before the figures.
    const to = q.to ? queryDay(q.to, timeZone) : localDate(new Date(), timeZone);
    const from = q.from ? queryDay(q.from, timeZone) : `${to.slice(0, 8)}01`;
    if (dayNumber(from) > dayNumber(to)) throw new ValidationError([{ path: 'from', message: 'must not be after to' }]);
    return { from, to, timeZone, currency: q.currency ?? defaultCurrency };
  }

  /**
   * Folds the rollup deltas writers appended into the rollup tables, until none are left; the
   * figures read the same before and after. Returns how many it folded.
   */
  async fold(): Promise<number> {
    let total = 0;
    for (;;) {
      const moved = await foldStatsDeltas(this.ctx.db);
      total += moved;
      if (moved === 0) return total;
    }
  }

  /** Loss prevented per day of a period (a row per day and fraud type): the daily rollup alone. */
  async lossPreventedByDay(q: StatsQuery): Promise<{ date: string; lossPreventedMinor: MinorTotal }[]> {
    const rows = await dailyRollups(this.ctx.db, await this.period(q));
    return rows.map((r) => ({ date: r.date, lossPreventedMinor: r.lossPreventedMinor }));
  }

  async summary(q: StatsQuery): Promise<StatsSummary> {
    const p = await this.period(q);
    const db = this.ctx.db;
    const openCounts = openTaskCounts(db);
    const held = heldNow(db, p.currency);
    const [daily, byInstitution, open, firstFreeze, warnings, heldByInstitution] = await Promise.all([
      dailyRollups(db, p),
      this.institutions(p, openCounts, held),
      openCounts,
      medianMinutesReportToFirstFreeze(db, p),
      warningRollup(db, p),
      held,
    ]);

    const byFraud = new Map<FraudType, { reports: number[]; reported: MinorTotal[]; prevented: MinorTotal[] }>(
      FRAUD_TYPES.map((f) => [f, { reports: [], reported: [], prevented: [] }]),
    );
    const byDay = new Map<string, { reports: number[]; prevented: MinorTotal[]; returned: MinorTotal[]; released: MinorTotal[] }>();
    const from = dayNumber(p.from);
    const to = dayNumber(p.to);
    if (to - from < MAX_FILLED_DAYS) for (let d = from; d <= to; d++) byDay.set(dayText(d), { reports: [], prevented: [], returned: [], released: [] });
    for (const row of daily) {
      const f = byFraud.get(row.fraudType as FraudType);
      if (f) {
        f.reports.push(row.reports);
        f.reported.push(row.reportedLossMinor);
        f.prevented.push(row.lossPreventedMinor);
      }
      let d = byDay.get(row.date);
      if (!d) byDay.set(row.date, (d = { reports: [], prevented: [], returned: [], released: [] }));
      d.reports.push(row.reports);
      d.prevented.push(row.lossPreventedMinor);
      d.returned.push(row.returnedMinor);
      d.released.push(row.releasedMinor);
    }
    const lossPreventedMinor = sumTotals(daily.map((r) => r.lossPreventedMinor));
    const returnedMinor = sumTotals(daily.map((r) => r.returnedMinor));

    return {
      from: p.from,
      to: p.to,
      currency: p.currency,
      reports: sumMinor(daily.map((r) => r.reports)),
      reportedLossMinor: sumTotals(daily.map((r) => r.reportedLossMinor)),
      lossPreventedMinor,
      returnedMinor,
      releasedMinor: sumTotals(daily.map((r) => r.releasedMinor)),
      heldMinor: sumTotals([...heldByInstitution.values()]),
      returnRateBasisPoints: basisPoints(returnedMinor, lossPreventedMinor),
      tasks: {
        open: sumMinor(open.map((o) => o.queued + o.dispatched + o.deliveryFailed)),
        deliveryFailed: sumMinor(open.map((o) => o.deliveryFailed)),
        overdue: sumMinor(open.map((o) => o.overdue)),
        done: sumMinor(byInstitution.map((i) => i.tasksDone)),
        failed: sumMinor(byInstitution.map((i) => i.tasksFailed)),
        unrouted: sumMinor(open.map((o) => o.unrouted)),
      },
      medianMinutesReportToFirstFreeze: firstFreeze,
      warnings,
      byInstitution,
      byFraudType: [...byFraud].map(([fraudType, f]) => ({
        fraudType,
        reports: sumMinor(f.reports),
        reportedLossMinor: sumTotals(f.reported),
        lossPreventedMinor: sumTotals(f.prevented),
      })),
      daily: [...byDay]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([date, d]) => ({
          date, reports: sumMinor(d.reports), lossPreventedMinor: sumTotals(d.prevented),
          returnedMinor: sumTotals(d.returned), releasedMinor: sumTotals(d.released),
        })),
    };
  }

  /** Every partner institution, and any other that has figures in the period; most loss prevented first. */
  async institutions(
    p: Period,
    openCounts: Promise<OpenCounts[]> = openTaskCounts(this.ctx.db),
    heldCounts: Promise<Map<string, MinorTotal>> = heldNow(this.ctx.db, p.currency),
  ): Promise<InstitutionStats[]> {
    const db = this.ctx.db;
    const [institutions, rollups, open, timings, held] = await Promise.all([
      listInstitutions(db), institutionRollups(db, p), openCounts, resultTimings(db, p), heldCounts,
    ]);
    const ids = institutions.filter((i) => i.kind !== 'police').map((i) => i.id);
    const rollupOf = new Map(rollups.map((r) => [r.institutionId, r]));
    const openOf = new Map(open.filter((o) => o.institutionId).map((o) => [o.institutionId as string, o]));
    const all = new Set([...ids, ...rollupOf.keys(), ...openOf.keys(), ...held.keys()]);
    return [...all]
      .map((institutionId) => {
        const r = rollupOf.get(institutionId);
        const o = openOf.get(institutionId);
        const lossPreventedMinor = r?.lossPreventedMinor ?? 0n;
        const returnedMinor = r?.returnedMinor ?? 0n;
        const timing = timings.get(institutionId);
        return {
          institutionId,
          lossPreventedMinor,
          returnedMinor,
          releasedMinor: r?.releasedMinor ?? 0n,
          heldMinor: held.get(institutionId) ?? 0n,
          returnRateBasisPoints: basisPoints(returnedMinor, lossPreventedMinor),
          tasksDone: r?.tasksDone ?? 0,
          tasksFailed: r?.tasksFailed ?? 0,
          tasksOpen: o ? o.queued + o.dispatched + o.deliveryFailed : 0,
          tasksOverdue: o?.overdue ?? 0,
          medianMinutesToResult: timing?.medianMinutes ?? null,
          p90MinutesToResult: timing?.p90Minutes ?? null,
          results: timing?.results ?? 0,
          resultsOnTime: timing?.onTime ?? 0,
          onTimePercent: timing ? wholePercent(timing.onTime, timing.results) : null,
        };
      })
      .sort((a, b) => (b.lossPreventedMinor > a.lossPreventedMinor ? 1 : b.lossPreventedMinor < a.lossPreventedMinor ? -1 : a.institutionId < b.institutionId ? -1 : 1));
  }

  async exportCsv(q: StatsQuery): Promise<{ period: Period; csv: string }> {
    const period = await this.period(q);
    const rows = await this.institutions(period);
    const cell = (v: string | number | bigint | null) => {
      const s = v === null ? '' : String(v);
      return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const lines = [
      STATS_CSV_COLUMNS.map((c) => c.name).join(','),
      ...rows.map((r) => STATS_CSV_COLUMNS.map((c) => cell(c.value(r, period.currency))).join(',')),
    ];
    return { period, csv: `${lines.join('\r\n')}\r\n` };
  }
}
