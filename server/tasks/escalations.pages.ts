import { Router, type RequestHandler } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { NotFoundError } from '../errors';
import { formatMinor } from '../domain/money';
import { formatDateTime } from '../pages/format';
import { localsOf, render } from '../pages/shell';
import { ESCALATION_ROLES } from './escalations.service';
import type { EscalationRow } from './escalations.repo';

const PAGE_SIZE = 50;
const ESCALATION_ID = /^[1-9]\d{0,17}$/;
const OPEN = new Set(['unrouted', 'queued', 'dispatched']);
const TASK_PAGE = /^\/tasks\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** The unread count beside "Escalations" in the header, on every page a supervisor sees. */
export function escalationBadge(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    if (req.method !== 'GET' || !req.user || req.user.type !== 'user' || !ESCALATION_ROLES.has(req.user.role)) return next();
    try {
      // Seeing a task's own page is seeing its escalations, however the supervisor got there.
      const onTask = TASK_PAGE.exec(req.path);
      if (onTask) await deps.services.escalations.readTask(actorOf(req), onTask[1]!);
      const unread = await deps.services.escalations.unreadCount(actorOf(req));
      res.locals.escalationsUnread = unread;
      const nav = res.locals.nav as { href: string; badge?: number }[] | undefined;
      const item = nav?.find((n) => n.href === '/escalations');
      if (item && unread > 0) item.badge = unread;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Supervisors' notifications of overdue tasks: newest first, each opened or acknowledged once per person. */
export function escalationsPages(deps: Deps): Router {
  const r = Router();
  const { escalations, admin } = deps.services;
  const guard = requireRole('supervisor');

  const idOf = (raw: unknown): string => {
    if (typeof raw !== 'string' || !ESCALATION_ID.test(raw)) throw new NotFoundError('No such escalation.');
    return raw;
  };

  r.get('/escalations', guard, async (req, res) => {
    const l = localsOf(res);
    const unreadOnly = req.query.show === 'unread';
    const before = typeof req.query.before === 'string' && ESCALATION_ID.test(req.query.before) ? req.query.before : undefined;
    const [rows, institutions] = await Promise.all([
      escalations.list(actorOf(req), { limit: PAGE_SIZE + 1, before, unreadOnly }),
      admin.listInstitutions(),
    ]);
    const names = new Map(institutions.items.map((i) => [i.id, i.name]));
    const shown = rows.slice(0, PAGE_SIZE);
    const more = rows.length > PAGE_SIZE ? shown[shown.length - 1]!.id : undefined;
    const done = req.query.done === 'acknowledged' ? 'escalations.acknowledged' : req.query.done === 'allRead' ? 'escalations.allRead' : undefined;
    render(res, 'pages/tasks/escalations', 'escalations.title', {
      rows: shown.map((e) => presentEscalation(e, names, l)),
      unreadOnly,
      unread: res.locals.escalationsUnread ?? 0,
      nextQuery: more ? new URLSearchParams({ ...(unreadOnly ? { show: 'unread' } : {}), before: more }).toString() : '',
      paged: Boolean(before),
      notice: done ? { text: l.t(done) } : undefined,
    });
  });

  // Opening an escalation is seeing it: read, then on to its task.
  r.get('/escalations/:id', guard, async (req, res) => {
    const taskId = await escalations.read(actorOf(req), idOf(req.params.id));
    res.redirect(303, `/tasks/${taskId}`);
  });

  r.post('/escalations/:id/acknowledge', guard, async (req, res) => {
    await escalations.read(actorOf(req), idOf(req.params.id));
    res.redirect(303, '/escalations?done=acknowledged');
  });

  r.post('/escalations/read-all', guard, async (req, res) => {
    await escalations.readAll(actorOf(req));
    res.redirect(303, '/escalations?done=allRead');
  });

  return r;
}

function presentEscalation(e: EscalationRow, names: Map<string, string>, l: ReturnType<typeof localsOf>) {
  return {
    id: e.id,
    taskId: e.taskId,
    reportId: e.reportId,
    caseNumber: e.caseNumber,
    kind: e.kind,
    status: e.status,
    open: OPEN.has(e.status),
    institution: e.institutionId ? names.get(e.institutionId) ?? e.institutionId : '',
    targetKind: e.targetKind,
    target: e.targetValue,
    amount: e.amountMinor === null ? '' : formatMinor(e.amountMinor, e.currency ?? l.currency, l.lang),
    dueText: formatDateTime(e.dueAt.toISOString(), l.lang, l.timeZone),
    escalatedText: formatDateTime(e.escalatedAt.toISOString(), l.lang, l.timeZone),
    read: e.read,
  };
}
