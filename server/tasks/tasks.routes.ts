import express, { Router, type Request, type Response } from 'express';
import type { Deps } from '../wiring';
import { describeRoute, jsonBody } from '../http/openapi';
import { actorOf, requireRole } from '../http/auth';
import { parse } from '../http/validate';
import { ConflictError, NotFoundError } from '../errors';
import { OPEN_TASK_STATUSES } from '../domain/kinds';
import { assertRecallTask, readCamt029, resultOfResolution } from '../standards/iso20022';
import {
  AssignBody, Camt029Body, ResolutionPending, TaskIdParams, TaskListQuery, TaskOut, TaskPage, TaskResultAnswer, TaskResultBody,
} from './tasks.schemas';

/** ISO 20022 institutions answer interceptions with a camt.029 in this media type. */
export const XML = 'application/xml';
import { ReasonBody } from '../reports/reports.schemas';
import { CASE_DECIDERS } from '../reports/case-closing.service';

const EVERY_ROLE = ['admin', 'supervisor', 'desk_officer', 'liaison', 'partner_system'] as const;

describeRoute({
  method: 'get', path: '/tasks', tags: ['tasks'],
  summary: 'Tasks, most urgent first; liaisons and partner systems see only their institution\'s.',
  request: { query: TaskListQuery }, ok: TaskPage,
});
describeRoute({
  method: 'get', path: '/tasks/:id', tags: ['tasks'],
  summary: 'One task with its result; another institution\'s task is 404.',
  request: { params: TaskIdParams }, ok: TaskOut,
});
describeRoute({
  method: 'post', path: '/tasks/:id/assign', tags: ['tasks'],
  summary: 'Send an unrouted task to an institution (admin, supervisor); it is queued there.',
  description: 'Also takes a delivery_failed task, to another active institution of the same kind as the one whose deliveries '
    + 'failed (the same institution is 400 validation_failed at institutionId: retry it instead). Any other status is 409 conflict.',
  request: { params: TaskIdParams, body: jsonBody(AssignBody) }, ok: TaskOut,
});
describeRoute({
  method: 'post', path: '/tasks/:id/retry', tags: ['tasks'],
  summary: 'Send a delivery_failed task to its institution again (admin, supervisor, desk officer): it is queued, with a new round of deliveries.',
  description: 'A task that is not delivery_failed is 409 conflict, so of two racing retries one queues the task and the other is 409. '
    + 'The center also retries on its own: after DELIVERY_RETRY_MS one failed task per institution is sent as a probe, and once a '
    + 'delivery there succeeds all its failed tasks are sent again.',
  request: { params: TaskIdParams }, ok: TaskOut,
});
describeRoute({
  method: 'post', path: '/tasks/:id/result', tags: ['tasks'],
  summary: 'The partner\'s answer: closes the task, books the frozen amount once, opens child tasks for onward transfers.',
  description: 'JSON, or for an interception a camt.029 as application/xml (see the README for the mapping). A camt.029 that is '
    + 'malformed, foreign or for another case is 400 validation_failed at its element path (Document.RsltnOfInvstgtn.Sts.Conf) and changes nothing.',
  request: { params: TaskIdParams, body: { content: { 'application/json': { schema: TaskResultBody }, [XML]: { schema: Camt029Body } } } },
  ok: TaskResultAnswer,
  alsoOk: { status: 202, description: 'a camt.029 PDCR (cancellation pending): nothing recorded yet', schema: ResolutionPending },
});
describeRoute({
  method: 'post', path: '/tasks/:id/cancel', tags: ['tasks'],
  summary: 'Call off an open task with a reason (desk officer, supervisor): it is not delivered again, and a later result is 409 task_closed.',
  request: { params: TaskIdParams, body: jsonBody(ReasonBody) }, ok: TaskOut,
});

/** A malformed id names no task: 404, like any other task the caller cannot see. */
function taskId(req: Request): string {
  const params = TaskIdParams.safeParse(req.params);
  if (!params.success) throw new NotFoundError('No such task.');
  return params.data.id;
}

export function tasksRoutes(deps: Deps): Router {
  const r = Router();
  const { tasks, taskLifecycle, taskResults } = deps.services;

  r.get('/', requireRole(...EVERY_ROLE), async (req, res) => {
    const query = parse(TaskListQuery, req.query);
    res.json(await tasks.list(actorOf(req), query));
  });

  r.get('/:id', requireRole(...EVERY_ROLE), async (req, res) => {
    res.json(await tasks.get(actorOf(req), taskId(req)));
  });

  r.post('/:id/assign', requireRole('admin', 'supervisor'), async (req, res) => {
    const id = taskId(req);
    const body = parse(AssignBody, req.body);
    res.json(await taskLifecycle.assign(actorOf(req), id, body.institutionId));
  });

  r.post('/:id/retry', requireRole('admin', 'supervisor', 'desk_officer'), async (req, res) => {
    res.json(await taskLifecycle.retry(actorOf(req), taskId(req)));
  });

  r.post('/:id/cancel', requireRole(...CASE_DECIDERS), async (req, res) => {
    const id = taskId(req);
    const body = parse(ReasonBody, req.body);
    res.json(await taskLifecycle.cancel(actorOf(req), id, body.reason));
  });

  const xmlBody = express.text({ type: XML, limit: deps.config.jsonBodyLimit });
  const readXml = (req: Request, res: Response) =>
    new Promise<string>((resolve, reject) => xmlBody(req, res, (err?: unknown) => (err ? reject(err) : resolve(typeof req.body === 'string' ? req.body : ''))));

  r.post('/:id/result', requireRole('liaison', 'partner_system'), async (req, res) => {
    const id = taskId(req);
    if (req.is(XML)) {
      // Another institution's task is 404 before its message is read.
      const actor = actorOf(req);
      const task = await tasks.get(actor, id);
      const resolution = readCamt029(await readXml(req, res), id);
      assertRecallTask(task.kind);
      if (resolution.kind === 'pending') {
        if (!OPEN_TASK_STATUSES.includes(task.status)) throw new ConflictError('task_closed', 'This task already has a result.');
        res.status(202).json({ taskId: id, resolution: 'PDCR', recorded: false, task });
        return;
      }
      const { task: closed, childTasks } = await taskResults.record(actor, id, resultOfResolution(resolution, task.amountMinor ?? 0), 'api');
      res.json({ ...closed, childTasks });
      return;
    }
    const body = parse(TaskResultBody, req.body);
    const { task, childTasks } = await taskResults.record(actorOf(req), id, body, 'api');
    res.json({ ...task, childTasks });
  });

  return r;
}
