import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { spendQuota } from '../http/quotas';
import { AppError, NotFoundError, ValidationError } from '../errors';
import type { Request, Response } from 'express';
import { mayDecideCases } from './case-closing.service';
import { TaskIdParams } from '../tasks/tasks.schemas';
import { parse } from '../http/validate';
import { field, formBody, localsOf, render, switchingLanguage } from '../pages/shell';
import { localToIso } from '../pages/format';
import { addDays } from '../domain/dates';
import { dayRange, hasErrors, type FilterErrors } from '../pages/filters';
import { CreateReportBody, ReasonBody, ReportIdParams, ReportListQuery } from './reports.schemas';
import { carryAccessCode } from '../victims/case-status.pages';
import { pageProblems, zodProblems } from '../pages/messages';
import { holdPermissions, loadReportHolds } from '../holds/report-holds';
import type { HoldFormState } from '../holds/holds.presenter';
import {
  emptyReportForm, isRowGroup, presentReportDetail, presentReportForm, presentReportRow, readReportForm, reportFilterOptions,
  toCreateReportInput, withAddedRow, withSpareRows,
} from './reports.presenter';

const REPORT_ROLES = ['admin', 'supervisor', 'desk_officer'] as const;

/** Desk officer pages: file a report, follow it, find it again. */
export function reportsPages(deps: Deps): Router {
  const r = Router();
  const { reports, admin, caseClosing, taskLifecycle } = deps.services;
  const showReport = reportPageRenderer(deps);
  const guard = requireRole(...REPORT_ROLES);

  const banks = async () => (await admin.listInstitutions()).items.filter((i) => i.active && i.kind === 'bank');

  r.get('/reports/new', guard, async (_req, res) => {
    const l = localsOf(res);
    render(res, 'pages/reports/new', 'report.newTitle', presentReportForm(emptyReportForm(randomUUID()), await banks(), [], l));
  });

  r.post('/reports/new', guard, async (req, res) => {
    const l = localsOf(res);
    const actor = actorOf(req);
    const body = formBody(req);
    const form = readReportForm(body);
    if (!form.idempotencyKey) form.idempotencyKey = randomUUID();
    const adding = field(body, 'addRow');
    if (isRowGroup(adding)) {
      // "Add a row" without JavaScript: the same form back with one more row; nothing is filed.
      const grown = withAddedRow(form, adding);
      return render(res, 'pages/reports/new', 'report.newTitle', presentReportForm(grown.form, await banks(), [], l, grown.focus));
    }
    const { input, problems, toFormPath } = toCreateReportInput(form, deps.config.defaultCurrency, deps.config.timeZone, l.t);

    const again = async (details: { path: string; message: string }[]) =>
      render(res, 'pages/reports/new', 'report.newTitle', { ...presentReportForm(withSpareRows(form), await banks(), details, l), refusedForm: 'report-form' }, 400);

    const parsed = CreateReportBody.safeParse(input);
    if (problems.length || !parsed.success) {
      // Both the typing problems (amounts, times) and the schema's, each beside its field, in one round.
      // The values intake would refuse (phone, accounts, indicators) too, though the schema already refused the form.
      const fromSchema = parsed.success ? [] : zodProblems(parsed.error, l);
      const schemaPaths = new Set(fromSchema.map((d) => d.path));
      const values = pageProblems(reports.valueProblems(input), l).filter((d) => !schemaPaths.has(d.path));
      const moneyRows = new Set(problems.map((p) => p.path.replace(/\.(amount|transferredAt)$/, '')));
      const schemaDetails = [...fromSchema, ...values]
        .map((d) => ({ ...d, path: toFormPath(d.path) }))
        .filter((d) => !(moneyRows.has(d.path.replace(/\.\w+$/, '')) && /\.(amount|transferredAt)$/.test(d.path)))
        .filter((d) => !(problems.some((p) => p.path === 'occurredAt') && d.path === 'occurredAt'));
      return again([...problems, ...schemaDetails]);
    }
    if (switchingLanguage(res)) {
      // A language switch is never a submission, even when everything typed is now right.
      const values = pageProblems(reports.valueProblems(parsed.data), l).map((d) => ({ ...d, path: toFormPath(d.path) }));
      if (values.length) return again(values);
      return render(res, 'pages/reports/new', 'report.newTitle', { ...presentReportForm(withSpareRows(form), await banks(), [], l), refusedForm: 'report-form' });
    }
    // The form files through the same per-person quota as POST /api/v1/reports.
    await spendQuota(deps, 'reports', req, res);
    try {
      const created = await reports.create(actor, parsed.data, `page:${form.idempotencyKey}`);
      // Straight to the victim's receipt, which shows the access code this once.
      carryAccessCode(res, deps.config, created.id, created.victimAccessCode);
      res.redirect(303, `/reports/${created.id}/receipt`);
    } catch (err) {
      if (err instanceof ValidationError) return again(pageProblems(err.details, l).map((d) => ({ ...d, path: toFormPath(d.path) })));
      throw err;
    }
  });

  r.get('/reports', guard, async (req, res) => {
    const l = localsOf(res);
    const raw = req.query as Record<string, unknown>;
    const text = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string).trim() : '');
    const filters = { q: text('q'), status: text('status'), fraudType: text('fraudType'), from: text('from'), to: text('to') };
    // A bad filter is shown beside its field and left out; the list still answers for the rest.
    const range = dayRange(filters.from, filters.to, l.t);
    const errors: FilterErrors = { ...range.errors };
    const used = { ...filters, from: range.from ?? '', to: range.to ?? '' };
    // Dates are the center's local days; "to" includes the whole day.
    const candidate = {
      q: used.q || undefined,
      status: used.status || undefined,
      fraudType: used.fraudType || undefined,
      from: used.from ? localToIso(used.from, deps.config.timeZone) : undefined,
      // Up to the end of the "to" day: the start of the next one, however long the day was.
      to: used.to ? localToIso(addDays(used.to, 1), deps.config.timeZone) : undefined,
      cursor: text('cursor') || undefined,
      limit: 50,
    };
    let parsed = ReportListQuery.safeParse(candidate);
    if (!parsed.success) {
      for (const d of ValidationError.fromZod(parsed.error).details) {
        const key = d.path.split('.')[0]!;
        if (key in candidate) {
          errors[key in filters ? key : 'other'] ??= l.t('form.badFilter');
          delete (candidate as Record<string, unknown>)[key];
          if (key in used) used[key as keyof typeof used] = '';
        }
      }
      parsed = ReportListQuery.safeParse(candidate);
    }
    const query = parsed.success ? parsed.data : parse(ReportListQuery, { limit: 50 });
    const page = await reports.list(actorOf(req), query).catch((err: unknown) => {
      // A cursor this server did not issue (an edited link): start again from the first page.
      if (!(err instanceof ValidationError) || query.cursor === undefined) throw err;
      errors.other = l.t('form.badFilter');
      return reports.list(actorOf(req), { ...query, cursor: undefined });
    });
    const nextQuery = page.nextCursor
      ? new URLSearchParams({ ...Object.fromEntries(Object.entries(used).filter(([, v]) => v)), cursor: page.nextCursor }).toString()
      : '';
    render(res, 'pages/reports/list', 'report.listTitle', {
      filters,
      ...reportFilterOptions(filters, l),
      rows: page.items.map((rep) => presentReportRow(rep, l)),
      nextQuery,
      paged: Boolean(text('cursor')),
      errors,
      notice: hasErrors(errors) ? { text: l.t('form.filterIgnored'), error: true } : undefined,
    }, hasErrors(errors) ? 400 : 200);
  });

  const reportIdOf = (raw: unknown): string => {
    const params = ReportIdParams.safeParse({ id: raw });
    if (!params.success) throw new NotFoundError('No such report.');
    return params.data.id;
  };

  r.get('/reports/:id', guard, async (req, res) => {
    await showReport(req, res, reportIdOf(req.params.id));
  });

  /** A reason typed into a form: the same schema as the API's, its problem beside the field. */
  const readReason = (req: Request, l: ReturnType<typeof localsOf>) => {
    const reason = field(formBody(req), 'reason');
    const parsed = ReasonBody.safeParse({ reason });
    return { reason, value: parsed.success ? parsed.data.reason : undefined, error: parsed.success ? '' : l.t('cases.reasonRequired') };
  };

  const decide = requireRole('desk_officer', 'supervisor');
  for (const action of ['close', 'reopen'] as const) {
    r.post(`/reports/:id/${action}`, decide, async (req, res) => {
      const l = localsOf(res);
      const id = reportIdOf(req.params.id);
      const { reason, value, error } = readReason(req, l);
      if (value === undefined) return showReport(req, res, id, { caseForm: { reason, error } }, 400);
      try {
        if (action === 'close') await caseClosing.close(actorOf(req), id, value);
        else await caseClosing.reopen(actorOf(req), id, value);
      } catch (err) {
        if (!(err instanceof AppError) || err.status !== 409) throw err;
        const text = err.code === 'holds_active' ? 'cases.holdsActive' : action === 'close' ? 'cases.alreadyClosed' : 'cases.alreadyOpen';
        return showReport(req, res, id, { caseForm: { reason }, notice: { text: l.t(text), error: true } }, 409);
      }
      res.redirect(303, `/reports/${id}?done=${action === 'close' ? 'closed' : 'reopened'}`);
    });
  }

  r.post('/reports/:id/tasks/:taskId/cancel', decide, async (req, res) => {
    const l = localsOf(res);
    const id = reportIdOf(req.params.id);
    const task = TaskIdParams.safeParse({ id: req.params.taskId });
    if (!task.success) throw new NotFoundError('No such task.');
    const { reason, value, error } = readReason(req, l);
    if (value === undefined) return showReport(req, res, id, { cancelForm: { taskId: task.data.id, reason, error } }, 400);
    try {
      await taskLifecycle.cancel(actorOf(req), task.data.id, value);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      return showReport(req, res, id, { cancelForm: { taskId: task.data.id, reason }, notice: { text: l.t('cases.taskClosedMeanwhile'), error: true } }, 409);
    }
    res.redirect(303, `/reports/${id}?done=cancelled`);
  });

  return r;
}

/** Notices after a redirect: codes in the link, sentences from the translations (never text from the link). */
const REPORT_NOTICES: Record<string, string> = {
  closed: 'cases.closed', reopened: 'cases.reopened', cancelled: 'cases.taskCancelled',
  renewed: 'holds.done.renewed', released: 'holds.done.released', returned: 'holds.done.returned', decided: 'holds.done.decided',
  split: 'holds.done.split', disputed: 'holds.done.disputed',
};

/**
 * The report page; after a refused form (closing the case, cancelling a task, a hold's forms), the
 * same page with what was typed and why it was refused: `extras` carries the refused form and its notice.
 */
export function reportPageRenderer(deps: Deps) {
  const { reports, admin } = deps.services;
  return async function showReport(req: Request, res: Response, id: string, extras: Record<string, unknown> = {}, status = 200): Promise<void> {
    const l = localsOf(res);
    const actor = actorOf(req);
    const [report, institutions, held] = await Promise.all([
      reports.get(actor, id), admin.listInstitutions(), loadReportHolds(deps, actor, id, l, extras.holdForm as HoldFormState | undefined),
    ]);
    const names = new Map(institutions.items.map((i) => [i.id, i.name]));
    const model = presentReportDetail(report, names, l);
    const done = typeof req.query.done === 'string' ? REPORT_NOTICES[req.query.done] : undefined;
    render(res, 'pages/reports/show', 'report.detailTitle', {
      report: model,
      title: l.t('report.detailTitle', { caseNumber: report.caseNumber }),
      canDecide: mayDecideCases(actor),
      ...held,
      ...holdPermissions(actor),
      notice: done ? { text: l.t(done) } : undefined,
      ...extras,
    }, status);
  };
}
