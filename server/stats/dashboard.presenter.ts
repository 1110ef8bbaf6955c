import { formatMinor, type MinorTotal } from '../domain/money';
import type { PageLocals } from '../pages/shell';
import type { StatsSummary } from './stats.schemas';
import { basisPointsText } from '../holds/holds.presenter';

const W = 720;
const H = 180;
const PAD_LEFT = 8;
const PAD_BOTTOM = 22;

/**
 * Loss prevented per day as bars, drawn on the server: an inline SVG with no script and no inline
 * style. Pixel geometry may be fractional; the amounts themselves stay integers.
 */
function trendChart(daily: StatsSummary['daily'], currency: string, l: PageLocals) {
  const money = (m: MinorTotal) => formatMinor(m, currency, l.lang);
  const max = daily.reduce((m, d) => (d.lossPreventedMinor > m ? d.lossPreventedMinor : m), 0n);
  const n = Math.max(daily.length, 1);
  const slot = (W - PAD_LEFT) / n;
  const barW = Math.max(1, slot * 0.7);
  const plotH = H - PAD_BOTTOM;
  const labelEvery = Math.max(1, Math.ceil(n / 10));
  const bars = daily.map((d, i) => {
    const value = d.lossPreventedMinor;
    // The bar's share of the tallest in thousandths, in integers: exact however large the amounts.
    const h = max === 0n ? 0 : Math.max(value > 0n ? 1 : 0, (Number((value * 1000n) / max) / 1000) * (plotH - 4));
    const x = PAD_LEFT + i * slot + (slot - barW) / 2;
    return {
      x: x.toFixed(1), y: (plotH - h).toFixed(1), w: barW.toFixed(1), h: h.toFixed(1),
      title: `${d.date}: ${money(d.lossPreventedMinor)} · ${d.reports}`,
      label: i % labelEvery === 0 ? d.date.slice(5) : '',
      labelX: (x + barW / 2).toFixed(1),
    };
  });
  return {
    width: W, height: H, baseline: plotH, labelY: H - 6, bars,
    caption: l.t('dashboard.trendCaption', {
      from: daily[0]?.date ?? '', to: daily[daily.length - 1]?.date ?? '', max: formatMinor(max, currency, l.lang),
    }),
  };
}

/** Loss prevented as a share of reported loss, to one decimal, by integer arithmetic. */
function interceptionRate(prevented: MinorTotal, reported: MinorTotal): string | null {
  if (reported <= 0n) return null;
  const perMille = (prevented * 1000n + reported / 2n) / reported;
  return `${perMille / 10n}.${perMille % 10n}%`;
}

/**
 * Where each dashboard figure's rows are: the task list (or the report list) with the figure's
 * own filters. Figures of "now" (open, overdue, unrouted) carry no period; figures of the period
 * carry its first and last day.
 */
export function figureLinks(period: { from: string; to: string }) {
  const tasks = (view: string, extra: Record<string, string> = {}, withPeriod = true) =>
    `/tasks?${new URLSearchParams({ view, ...(withPeriod ? period : {}), ...extra }).toString()}`;
  const reports = (extra: Record<string, string> = {}) => `/reports?${new URLSearchParams({ ...period, ...extra }).toString()}`;
  return {
    tasks,
    reports,
    period: {
      prevented: tasks('prevented'), reported: reports(), reports: reports(), rate: tasks('prevented'), median: tasks('prevented'),
      open: tasks('open', {}, false), overdue: tasks('overdue', {}, false), unrouted: tasks('unrouted', {}, false),
      done: tasks('done'), failed: tasks('failed'),
    } as Record<string, string>,
  };
}

/** The league table's columns that sort, and how; links carry ?sort=<column>&dir=asc|desc. */
export const LEAGUE_SORTS = ['name', 'prevented', 'done', 'open', 'overdue', 'median', 'p90', 'onTime'] as const;
export type LeagueSort = (typeof LEAGUE_SORTS)[number];
export type LeagueOrder = { sort: LeagueSort; dir: 'asc' | 'desc' };

type LeagueRow = StatsSummary['byInstitution'][number] & { name: string };

/** A column's value for sorting; a missing figure (no results yet) always sorts last. */
const leagueKey: Record<LeagueSort, (r: LeagueRow) => number | bigint | string | null> = {
  name: (r) => r.name.toLocaleLowerCase(),
  prevented: (r) => r.lossPreventedMinor,
  done: (r) => r.tasksDone,
  open: (r) => r.tasksOpen,
  overdue: (r) => r.tasksOverdue,
  median: (r) => r.medianMinutesToResult,
  p90: (r) => r.p90MinutesToResult,
  onTime: (r) => r.onTimePercent,
};

export function sortLeague(rows: LeagueRow[], order: LeagueOrder): LeagueRow[] {
  const key = leagueKey[order.sort];
  const sign = order.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return c * sign || (a.institutionId < b.institutionId ? -1 : 1);
  });
}

export function presentDashboard(
  s: StatsSummary,
  /** Loss prevented in minor units up to today, from today, the last 7 and 30 days and 1 January. */
  prevented: { today: MinorTotal; last7: MinorTotal; last30: MinorTotal; year: MinorTotal },
  names: Map<string, string>,
  l: PageLocals,
  order: LeagueOrder = { sort: 'prevented', dir: 'desc' },
) {
  const links = figureLinks({ from: s.from, to: s.to });
  const money = (m: MinorTotal) => formatMinor(m, s.currency, l.lang);
  const minutes = (m: number | null) => (m === null ? l.t('dashboard.noValue') : l.t('dashboard.minutesValue', { m: Math.round(m) }));
  return {
    from: s.from,
    to: s.to,
    // The period filter's fields; the page puts back what was typed when it could not be used.
    inputFrom: s.from,
    inputTo: s.to,
    headline: [
      { label: l.t('dashboard.today'), value: money(prevented.today), id: 'today' },
      { label: l.t('dashboard.last7'), value: money(prevented.last7), id: 'last7' },
      { label: l.t('dashboard.last30'), value: money(prevented.last30), id: 'last30' },
      { label: l.t('dashboard.thisYear'), value: money(prevented.year), id: 'year' },
    ],
    period: [
      { label: l.t('dashboard.lossPrevented'), value: money(s.lossPreventedMinor), id: 'prevented' },
      { label: l.t('dashboard.reportedLoss'), value: money(s.reportedLossMinor), id: 'reported' },
      { label: l.t('dashboard.reports'), value: String(s.reports), id: 'reports' },
      { label: l.t('dashboard.interception'), value: interceptionRate(s.lossPreventedMinor, s.reportedLossMinor) ?? l.t('dashboard.noValue'), id: 'rate' },
      { label: l.t('dashboard.medianFreeze'), value: minutes(s.medianMinutesReportToFirstFreeze), id: 'median' },
      { label: l.t('dashboard.tasksOpen'), value: String(s.tasks.open), id: 'open' },
      { label: l.t('dashboard.tasksOverdue'), value: String(s.tasks.overdue), id: 'overdue', alert: s.tasks.overdue > 0 },
      { label: l.t('dashboard.tasksUnrouted'), value: String(s.tasks.unrouted), id: 'unrouted', alert: s.tasks.unrouted > 0 },
      { label: l.t('dashboard.tasksDone'), value: String(s.tasks.done), id: 'done' },
      { label: l.t('dashboard.tasksFailed'), value: String(s.tasks.failed), id: 'failed' },
    ].map((f) => ({ ...f, href: links.period[f.id] })),
    // Early warning: dissuaded payments are money kept from fraudsters, a figure apart from loss prevented.
    warnings: [
      { label: l.t('warnings.issued'), value: String(s.warnings.issued), id: 'warnings-issued' },
      { label: l.t('warnings.dissuaded'), value: String(s.warnings.dissuaded), id: 'warnings-dissuaded' },
      { label: l.t('warnings.keptMinor'), value: money(s.warnings.dissuadedMinor), id: 'warnings-kept' },
    ],
    league: sortLeague(s.byInstitution.map((i) => ({ ...i, name: names.get(i.institutionId) ?? i.institutionId })), order).map((i) => ({
      id: i.institutionId,
      name: i.name,
      prevented: money(i.lossPreventedMinor),
      done: i.tasksDone,
      open: i.tasksOpen,
      overdue: i.tasksOverdue,
      median: i.medianMinutesToResult === null ? l.t('dashboard.noValue') : String(Math.round(i.medianMinutesToResult)),
      p90: i.p90MinutesToResult === null ? l.t('dashboard.noValue') : String(Math.round(i.p90MinutesToResult)),
      onTime: i.onTimePercent === null ? l.t('dashboard.noValue') : `${i.onTimePercent}%`,
      onTimeTitle: l.t('league.onTimeOf', { onTime: i.resultsOnTime, results: i.results }),
      links: {
        prevented: links.tasks('prevented', { institutionId: i.institutionId }),
        done: links.tasks('done', { institutionId: i.institutionId }),
        open: links.tasks('open', { institutionId: i.institutionId }, false),
        overdue: links.tasks('overdue', { institutionId: i.institutionId }, false),
        results: links.tasks('done', { institutionId: i.institutionId }),
      },
    })),
    leagueColumns: LEAGUE_SORTS.map((c) => {
      const current = order.sort === c;
      // The first click on a column shows its best first: names A–Z, times shortest, the rest largest.
      const firstDir = c === 'name' || c === 'median' || c === 'p90' ? 'asc' : 'desc';
      const dir = current ? (order.dir === 'asc' ? 'desc' : 'asc') : firstDir;
      return {
        id: c,
        label: l.t(`league.column.${c}`),
        num: c !== 'name',
        href: `/dashboard?${new URLSearchParams({ from: s.from, to: s.to, sort: c, dir }).toString()}#league`,
        ariaSort: current ? (order.dir === 'asc' ? 'ascending' : 'descending') : undefined,
        arrow: current ? (order.dir === 'asc' ? '▲' : '▼') : '',
      };
    }),
    fraudTypes: s.byFraudType
      .filter((f) => f.reports > 0 || f.lossPreventedMinor > 0n)
      .map((f) => ({
        fraudType: f.fraudType, reports: f.reports, reported: money(f.reportedLossMinor), prevented: money(f.lossPreventedMinor),
        reportsHref: links.reports({ fraudType: f.fraudType }),
      })),
    chart: trendChart(s.daily, s.currency, l),
    ...presentFunnel(s, names, l),
    exportQuery: new URLSearchParams({ from: s.from, to: s.to }).toString(),
  };
}

/**
 * After the freeze: reported → frozen (loss prevented) → returned, with released and held apart,
 * for the period and per institution. The return rate comes from basis points, never a float.
 */
function presentFunnel(s: StatsSummary, names: Map<string, string>, l: PageLocals) {
  const money = (m: MinorTotal) => formatMinor(m, s.currency, l.lang);
  const rate = (bp: bigint | null) => basisPointsText(bp) ?? l.t('dashboard.noValue');
  return {
    funnel: [
      { id: 'funnel-reported', label: l.t('holds.funnel.reported'), value: money(s.reportedLossMinor), step: true },
      { id: 'funnel-frozen', label: l.t('holds.funnel.frozen'), value: money(s.lossPreventedMinor), step: true },
      { id: 'funnel-returned', label: l.t('holds.funnel.returned'), value: money(s.returnedMinor), step: true },
      { id: 'funnel-released', label: l.t('holds.funnel.released'), value: money(s.releasedMinor) },
      { id: 'funnel-held', label: l.t('holds.funnel.held'), value: money(s.heldMinor) },
      { id: 'funnel-rate', label: l.t('holds.funnel.rate'), value: rate(s.returnRateBasisPoints) },
    ],
    funnelByInstitution: s.byInstitution
      .filter((i) => i.lossPreventedMinor > 0n || i.returnedMinor > 0n || i.releasedMinor > 0n || i.heldMinor > 0n)
      .map((i) => ({
        id: i.institutionId,
        name: names.get(i.institutionId) ?? i.institutionId,
        frozen: money(i.lossPreventedMinor),
        returned: money(i.returnedMinor),
        released: money(i.releasedMinor),
        held: money(i.heldMinor),
        rate: rate(i.returnRateBasisPoints),
      })),
  };
}
