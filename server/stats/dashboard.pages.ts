import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { AppError, ValidationError } from '../errors';
import { field, formBody, localsOf, render } from '../pages/shell';
import { sumTotals } from '../domain/money';
import { addDays, localDate } from '../domain/dates';
import { dayRange, hasErrors, type FilterErrors } from '../pages/filters';
import { presentTaskLine } from '../reports/reports.presenter';
import { TaskIdParams } from '../tasks/tasks.schemas';
import { figureLinks, LEAGUE_SORTS, presentDashboard, type LeagueOrder } from './dashboard.presenter';

/** ?sort=<column>&dir=asc|desc of the league table; anything else is the default order. */
function leagueOrder(raw: Record<string, unknown>): LeagueOrder {
  const sort = (LEAGUE_SORTS as readonly unknown[]).includes(raw.sort) ? (raw.sort as LeagueOrder['sort']) : 'prevented';
  const dir = raw.dir === 'asc' || raw.dir === 'desc' ? raw.dir : sort === 'name' || sort === 'median' || sort === 'p90' ? 'asc' : 'desc';
  return { sort, dir };
}

/**
 * Why an assignment failed travels in the redirect as a code only; the page shows its own translated
 * sentence, so nobody can make the dashboard display text of their choosing through a link.
 */
const ASSIGN_ERRORS = ['not_found', 'conflict', 'validation_failed', 'version_mismatch', 'failed'] as const;

/** The supervisor's room view. Every figure is what the stats summary use case answers for its period. */
export function dashboardPages(deps: Deps): Router {
  const r = Router();
  const { stats, tasks, admin, taskLifecycle } = deps.services;
  const guard = requireRole('supervisor', 'admin');

  r.get('/dashboard', guard, async (req, res) => {
    const l = localsOf(res);
    const raw = req.query as Record<string, unknown>;
    const day = (k: string) => (typeof raw[k] === 'string' && raw[k] !== '' ? (raw[k] as string) : undefined);
    // A bad period is shown beside its field and the dashboard answers for the default one instead.
    const typed = { from: day('from') ?? '', to: day('to') ?? '' };
    const range = dayRange(typed.from, typed.to, l.t);
    const errors: FilterErrors = { ...range.errors };
    const summaryOf = async () => {
      try {
        return await stats.summary({ from: range.from, to: range.to });
      } catch (err) {
        // e.g. only "from" given and later than today, the default "to"
        if (!(err instanceof ValidationError)) throw err;
        errors.from ??= l.t('form.fromAfterTo');
        return stats.summary({});
      }
    };
    const today = localDate(new Date(), deps.config.timeZone);
    const since = { today, last7: addDays(today, -6), last30: addDays(today, -29), year: `${today.slice(0, 4)}-01-01` };
    // One read of the daily rollup reaching back far enough for every headline; each sums its days.
    const [summary, recent, unrouted, institutions] = await Promise.all([
      summaryOf(),
      stats.lossPreventedByDay({ from: since.year < since.last30 ? since.year : since.last30, to: today }),
      tasks.list(actorOf(req), { status: 'unrouted', limit: 50 }),
      admin.listInstitutions(),
    ]);
    const preventedSince = (from: string) => sumTotals(recent.filter((d) => d.date >= from).map((d) => d.lossPreventedMinor));
    const headline = {
      today: preventedSince(since.today), last7: preventedSince(since.last7),
      last30: preventedSince(since.last30), year: preventedSince(since.year),
    };
    const names = new Map(institutions.items.map((i) => [i.id, i.name]));
    const partners = institutions.items.filter((i) => i.active && i.kind !== 'police');
    const now = new Date();
    const notice = typeof raw.assigned === 'string' && names.has(raw.assigned)
      ? { text: l.t('dashboard.assigned', { institution: names.get(raw.assigned) }) }
      : typeof raw.error === 'string' && (ASSIGN_ERRORS as readonly string[]).includes(raw.error)
        ? { text: l.t(`dashboard.assignError.${raw.error}`), error: true } : undefined;
    const order = leagueOrder(raw);
    const model = presentDashboard(summary, headline, names, l, order);
    // Each headline links to the money frozen from its first day to today.
    const headlineFrom: Record<string, string> = { today: since.today, last7: since.last7, last30: since.last30, year: since.year };
    const headlineLinks = figureLinks({ from: '', to: today });
    render(res, 'pages/dashboard/index', 'dashboard.title', {
      ...model,
      headline: model.headline.map((h) => ({ ...h, href: headlineLinks.tasks('prevented', { from: headlineFrom[h.id] ?? today, to: today }, false) })),
      leagueSorted: raw.sort !== undefined,
      unrouted: unrouted.items.map((t) => ({
        ...presentTaskLine(t, (id) => (id ? names.get(id) ?? id : ''), l, now),
        reportId: t.reportId,
        partners: partners.map((p) => ({ value: p.id, label: `${p.name} (${p.id})` })),
      })),
      notice: notice ?? (hasErrors(errors) ? { text: l.t('form.filterIgnored'), error: true } : undefined),
      errors,
      ...(hasErrors(errors) ? { inputFrom: typed.from, inputTo: typed.to } : {}),
    }, hasErrors(errors) ? 400 : 200);
  });

  r.post('/dashboard/tasks/:id/assign', guard, async (req, res) => {
    const id = TaskIdParams.safeParse({ id: req.params.id });
    const institutionId = field(formBody(req), 'institutionId');
    try {
      if (!id.success) throw new ValidationError([{ path: 'id', message: 'is not a task id' }]);
      await taskLifecycle.assign(actorOf(req), id.data.id, institutionId);
      res.redirect(303, `/dashboard?${new URLSearchParams({ assigned: institutionId }).toString()}`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500 || err.status === 403) throw err;
      const code = (ASSIGN_ERRORS as readonly string[]).includes(err.code) ? err.code : 'failed';
      res.redirect(303, `/dashboard?${new URLSearchParams({ error: code }).toString()}`);
    }
  });

  return r;
}
