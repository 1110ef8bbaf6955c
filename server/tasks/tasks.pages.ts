import { Router, type Request, type Response } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { AppError, NotFoundError, ValidationError } from '../errors';
import { field, fieldList, formBody, localsOf, render, switchingLanguage, type PageLocals } from '../pages/shell';
import { pageProblems, zodProblems } from '../pages/messages';
import { resultProblems } from './task-results.service';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import { isPartnerSide, type Actor } from '../auth/actor';
import { presentTimeline } from '../audit/timeline.presenter';
import type { Task } from './tasks.repo';
import { TaskIdParams, TaskResultBody } from './tasks.schemas';
import { presentPrintRequest } from './print-request.presenter';
import { presentHoldLine } from '../holds/holds.presenter';
import {
  byUrgency, canBulkBlock, DELIVERY_ACTION_ERRORS, emptyResultForm, presentDeliveryFailure, presentResultForm, presentTask, readResultForm, toResultBody, withAddedOnward, withSpareOnward,
} from './tasks.presenter';

const INBOX_LIMIT = 200;

/** Why bulk blocks failed: codes in the redirect, translated sentences on the page (never text from the link). */
const BULK_REASONS = ['task_closed', 'version_mismatch', 'not_found', 'validation_failed', 'other'] as const;

/** The liaison's inbox: their institution's open tasks only (the service scopes the query). */
export function tasksPages(deps: Deps): Router {
  const r = Router();
  const { tasks, taskResults, taskLifecycle, admin, holds } = deps.services;
  const guard = requireRole('liaison');
  // Center staff read any task with its timeline; only the institution's liaison answers it.
  const readers = requireRole('liaison', 'admin', 'supervisor', 'desk_officer');

  const taskId = (raw: unknown): string => {
    const p = TaskIdParams.safeParse({ id: raw });
    if (!p.success) throw new NotFoundError('No such task.');
    return p.data.id;
  };
  const banks = async () => (await admin.listInstitutions()).items.filter((i) => i.active && i.kind === 'bank');
  /** A money task's written request to its bank, shown on its page and printed alone (print.css). */
  const printRequest = async (task: Task) => {
    const institution = (await admin.listInstitutions()).items.find((i) => i.id === task.institutionId);
    return presentPrintRequest(task, institution?.name ?? task.institutionId ?? '', deps.config);
  };

  r.get('/tasks', guard, async (req, res) => {
    const l = localsOf(res);
    const actor = actorOf(req);
    const [queued, dispatched] = await Promise.all([
      tasks.list(actor, { status: 'queued', limit: INBOX_LIMIT }),
      tasks.list(actor, { status: 'dispatched', limit: INBOX_LIMIT }),
    ]);
    const now = new Date();
    const rows = byUrgency([...dispatched.items, ...queued.items]).map((t) => presentTask(t, l, now));
    const q = req.query as Record<string, unknown>;
    const num = (k: string) => (typeof q[k] === 'string' && /^\d{1,4}$/.test(q[k] as string) ? Number(q[k]) : 0);
    const notices = [];
    if (num('blocked')) notices.push({ text: l.t('task.bulkDone', { count: num('blocked') }) });
    if (num('failed')) {
      const codes = typeof q.reasons === 'string' ? q.reasons.split(',') : [];
      const reasons = BULK_REASONS.filter((c) => codes.includes(c)).map((c) => l.t(`task.bulkReason.${c}`));
      notices.push({ text: l.t('task.bulkFailed', { count: num('failed'), reasons: reasons.join(l.t('task.bulkReasonSeparator')) }), error: true });
    }
    if (q.none === '1') notices.push({ text: l.t('task.bulkNone'), error: true });
    render(res, 'pages/tasks/inbox', 'task.inboxTitle', { rows, notices, anyBulk: rows.some((t) => t.bulk) });
  });

  /** Several blocking tasks carried out at once: each is the same result use case, one by one. */
  r.post('/tasks/bulk-blocked', guard, async (req, res) => {
    const actor = actorOf(req);
    const picked = fieldList(formBody(req), 'task')
      .map((v) => /^([0-9a-f-]{36}):(\d+)$/i.exec(v))
      .filter((m): m is RegExpExecArray => m !== null);
    if (picked.length === 0) return res.redirect(303, '/tasks?none=1');
    let blocked = 0;
    const reasons = new Set<string>();
    const block = (id: string, version: number) =>
      taskResults.record(actor, id, TaskResultBody.parse({ outcome: 'blocked', version }), 'api');
    const retryBlock = async (id: string): Promise<boolean> => {
      const current = await tasks.get(actor, id).catch((e: unknown) => { if (e instanceof AppError) return undefined; throw e; });
      if (!current || !canBulkBlock(current)) return false;
      try {
        await block(id, current.version);
        return true;
      } catch (e) {
        if (e instanceof AppError) return false;
        throw e;
      }
    };
    for (const [, id, version] of picked) {
      try {
        await block(id!, Number(version));
        blocked++;
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // A version bumped by the overdue sweep or a redelivery does not change what was blocked; a task
        // that is closed, gone elsewhere or no longer a blocking task is reported instead of retried.
        const retried = err.code === 'version_mismatch' ? await retryBlock(id!) : false;
        if (retried) blocked++;
        else reasons.add(err.code);
      }
    }
    const failed = picked.length - blocked;
    const codes = [...reasons].map((c) => ((BULK_REASONS as readonly string[]).includes(c) ? c : 'other'));
    const qs = new URLSearchParams({ blocked: String(blocked), ...(failed ? { failed: String(failed), reasons: [...new Set(codes)].join(',') } : {}) });
    res.redirect(303, `/tasks?${qs.toString()}`);
  });

  /** What every view of the task page shows: the task, its timeline, who may answer it, and the money it holds. */
  const taskPage = async (actor: Actor, task: Task, l: PageLocals) => ({
    task: presentTask(task, l),
    heldMoney: await heldMoneyOf(actor, task, l),
    events: presentTimeline(await tasks.timeline(actor, task), l),
    answers: actor.role === 'liaison',
    staff: !isPartnerSide(actor),
    reportId: isPartnerSide(actor) ? null : task.reportId,
    delivery: isPartnerSide(actor) ? null : presentDeliveryFailure(task, actor, (await admin.listInstitutions()).items, l),
  });

  /** The outcome of a retry or reassignment, by code in the redirect (never text from the link). */
  const deliveryNotice = (q: Record<string, unknown>, l: PageLocals) => {
    if (q.done === 'retried') return { text: l.t('delivery.retried') };
    if (q.done === 'reassigned') return { text: l.t('delivery.reassigned') };
    if (typeof q.error === 'string' && (DELIVERY_ACTION_ERRORS as readonly string[]).includes(q.error)) {
      return { text: l.t(`delivery.error.${q.error}`), error: true };
    }
    return undefined;
  };

  /** Retry and reassign from the task page: the API's use cases, answered by a redirect back to the page. */
  const deliveryAction = (act: (actor: Actor, id: string, form: Record<string, string | string[]>) => Promise<unknown>, done: string) =>
    async (req: Request, res: Response) => {
      const id = taskId(req.params.id);
      try {
        await act(actorOf(req), id, formBody(req));
        res.redirect(303, `/tasks/${id}?done=${done}`);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 403) throw err;
        const code = (DELIVERY_ACTION_ERRORS as readonly string[]).includes(err.code) ? err.code : 'failed';
        res.redirect(303, `/tasks/${id}?error=${code}`);
      }
    };
  r.post('/tasks/:id/retry', requireRole('admin', 'supervisor', 'desk_officer'),
    deliveryAction((actor, id) => taskLifecycle.retry(actor, id), 'retried'));
  r.post('/tasks/:id/reassign', requireRole('admin', 'supervisor'),
    deliveryAction((actor, id, form) => taskLifecycle.assign(actor, id, field(form, 'institutionId')), 'reassigned'));

  /**
   * The hold a money task opened or a return task pays from: its balance and clock, and where to act
   * on it (the report page for staff; for the holding bank's liaison, the holds page, where an
   * account holder's dispute is opened).
   */
  const heldMoneyOf = async (actor: Actor, task: Task, l: PageLocals) => {
    if (task.family !== 'money' && task.family !== 'return') return null;
    const hold = await holds.ofTask(actor, task.id);
    if (!hold) return null;
    const line = presentHoldLine(hold, '', l, new Date());
    return { ...line, href: isPartnerSide(actor) ? `/holds#hold-${hold.id}` : hold.reportId ? `/reports/${hold.reportId}#hold-${hold.id}` : '' };
  };

  r.get('/tasks/:id', readers, async (req, res) => {
    const l = localsOf(res);
    const actor = actorOf(req);
    const task = await tasks.get(actor, taskId(req.params.id));
    const recorded = req.query.recorded === '1';
    const children = typeof req.query.children === 'string' && /^\d{1,3}$/.test(req.query.children) ? Number(req.query.children) : 0;
    render(res, 'pages/tasks/show', 'task.detailTitle', {
      ...(await taskPage(actor, task, l)),
      request: await printRequest(task),
      result: presentResultForm(task, emptyResultForm(task), await banks(), [], l),
      recorded,
      childrenNotice: children ? l.t('task.childTasks', { count: children }) : '',
      notice: deliveryNotice(req.query as Record<string, unknown>, l),
    });
  });

  r.post('/tasks/:id/result', guard, async (req, res) => {
    const l = localsOf(res);
    const actor = actorOf(req);
    const task = await tasks.get(actor, taskId(req.params.id));
    const raw = formBody(req);
    const form = readResultForm(raw);
    if (field(raw, 'addRow') === 'onward') {
      // "Add a row" without JavaScript: the same form back with one more onward row; nothing is recorded.
      const grown = withAddedOnward(form);
      return render(res, 'pages/tasks/show', 'task.detailTitle', {
        ...(await taskPage(actor, task, l)),
        request: await printRequest(task),
        result: presentResultForm(task, grown, await banks(), [], l, grown.onward.length - 1),
      });
    }
    const { body, problems, toFormPath } = toResultBody(form, task.currency ?? deps.config.defaultCurrency, deps.config.timeZone, l.t);
    const again = async (details: { path: string; message: string }[], status = 400, current = task, notice?: { text: string; error: boolean }) =>
      render(res, 'pages/tasks/show', 'task.detailTitle', {
        ...(await taskPage(actor, current, l)),
        request: await printRequest(current),
        result: presentResultForm(current, withSpareOnward(form), await banks(), details, l),
        notice,
        refusedForm: 'result-form',
      }, status);

    const parsed = TaskResultBody.safeParse(body);
    if (problems.length || !parsed.success) {
      const schema = parsed.success ? [] : zodProblems(parsed.error, l).map((d) => ({ ...d, path: toFormPath(d.path) }));
      const typed = new Set(problems.map((p) => p.path));
      return again([...problems, ...schema.filter((d) => !typed.has(d.path))]);
    }
    // A language switch shows the form again; it never records a result.
    if (switchingLanguage(res)) {
      const ruled = pageProblems(resultProblems(task, parsed.data, deps.config.inputLimits), l).map((d) => ({ ...d, path: toFormPath(d.path) }));
      return again(ruled, ruled.length ? 400 : 200);
    }
    try {
      const recorded = await taskResults.record(actor, task.id, parsed.data, 'api');
      res.redirect(303, `/tasks/${task.id}?recorded=1&children=${recorded.childTasks.length}`);
    } catch (err) {
      if (err instanceof ValidationError) return again(pageProblems(err.details, l).map((d) => ({ ...d, path: toFormPath(d.path) })));
      if (err instanceof AppError && err.status === 409) {
        // The overdue sweep, a redelivery or another liaison moved the task on: answer against what it is now,
        // keeping what was typed, and carrying the current version so the next submit can go through.
        const current = await tasks.get(actor, task.id);
        if (err.code === 'version_mismatch' && OPEN_TASK_STATUSES.includes(current.status)) {
          form.version = String(current.version);
          return again([], 409, current, { text: l.t('task.changedMeanwhile'), error: true });
        }
        return again([], 409, current, { text: l.t('task.closedMeanwhile'), error: true });
      }
      throw err;
    }
  });

  return r;
}
