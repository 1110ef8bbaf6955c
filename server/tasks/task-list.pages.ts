import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf } from '../http/auth';
import { ValidationError } from '../errors';
import { localsOf, render } from '../pages/shell';
import { localToIso } from '../pages/format';
import { addDays } from '../domain/dates';
import { dayRange, hasErrors, type FilterErrors } from '../pages/filters';
import { presentTaskLine } from '../reports/reports.presenter';
import { StaffTaskListQuery, type StaffTaskListQuery as StaffQuery } from './tasks.schemas';
import { taskListFilters, type TaskListForm } from './tasks.presenter';

/** Center staff who follow the work: every task, whoever it is with. Liaisons have their inbox instead. */
const STAFF_ROLES = new Set(['admin', 'supervisor', 'desk_officer']);
const PAGE_SIZE = 50;

/**
 * The task list behind the dashboard's figures: filtered by view (overdue, failed or
 * delivery-failed, unrouted…), institution, kind and closing period, paged. Every filter is a
 * query parameter, so each figure on the dashboard links straight to its rows.
 */
export function taskListPages(deps: Deps): Router {
  const r = Router();
  const { tasks, admin } = deps.services;

  r.get('/tasks', async (req, res, next) => {
    if (!req.user || !STAFF_ROLES.has(req.user.role)) return next();
    const l = localsOf(res);
    const raw = req.query as Record<string, unknown>;
    const text = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string).trim() : '');
    const form: TaskListForm = { view: text('view'), institutionId: text('institutionId'), kind: text('kind'), from: text('from'), to: text('to') };
    // A bad filter is shown beside its field and left out; the list still answers for the rest.
    const range = dayRange(form.from, form.to, l.t);
    const errors: FilterErrors = { ...range.errors };
    const candidate: Record<string, unknown> = {
      view: form.view || undefined,
      institutionId: form.institutionId || undefined,
      kind: form.kind || undefined,
      closedFrom: range.from ? localToIso(range.from, deps.config.timeZone) : undefined,
      // Up to the end of the "to" day: the start of the next one.
      closedTo: range.to ? localToIso(addDays(range.to, 1), deps.config.timeZone) : undefined,
      cursor: text('cursor') || undefined,
      limit: PAGE_SIZE,
    };
    const used = { ...form, from: range.from ?? '', to: range.to ?? '' };
    let parsed = StaffTaskListQuery.safeParse(candidate);
    if (!parsed.success) {
      for (const d of ValidationError.fromZod(parsed.error).details) {
        const key = d.path.split('.')[0]!;
        errors[key in form ? key : 'other'] ??= l.t('form.badFilter');
        delete candidate[key];
        if (key in used) used[key as keyof TaskListForm] = '';
      }
      parsed = StaffTaskListQuery.safeParse(candidate);
    }
    const query: StaffQuery = parsed.success ? parsed.data : { limit: PAGE_SIZE };
    const actor = actorOf(req);
    const [page, institutions] = await Promise.all([
      tasks.list(actor, query).catch((err: unknown) => {
        // A cursor this server did not issue (an edited link): start again from the first page.
        if (!(err instanceof ValidationError) || query.cursor === undefined) throw err;
        errors.other = l.t('form.badFilter');
        return tasks.list(actor, { ...query, cursor: undefined });
      }),
      admin.listInstitutions(),
    ]);
    const names = new Map(institutions.items.map((i) => [i.id, i.name]));
    const now = new Date();
    const kept = Object.entries(used).filter(([, v]) => v);
    render(res, 'pages/tasks/list', 'taskList.title', {
      ...taskListFilters(form, institutions.items.filter((i) => i.kind !== 'police'), l),
      rows: page.items.map((t) => ({ ...presentTaskLine(t, (id) => (id ? names.get(id) ?? id : ''), l, now), reportId: t.reportId })),
      nextQuery: page.nextCursor ? new URLSearchParams([...kept, ['cursor', page.nextCursor]]).toString() : '',
      paged: Boolean(text('cursor')),
      firstQuery: new URLSearchParams(kept).toString(),
      errors,
      notice: hasErrors(errors) ? { text: l.t('form.filterIgnored'), error: true } : undefined,
    }, hasErrors(errors) ? 400 : 200);
  });

  return r;
}
