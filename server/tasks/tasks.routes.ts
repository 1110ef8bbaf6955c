import { Router, type Request } from 'express';
import type { Deps } from '../wiring';
import { describeRoute, jsonBody } from '../http/openapi';
import { actorOf, requireRole } from '../http/auth';
import { parse } from '../http/validate';
import { NotFoundError } from '../errors';
import { AssignBody, TaskIdParams, TaskListQuery, TaskOut, TaskPage, TaskResultAnswer, TaskResultBody } from './tasks.schemas';

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
  request: { params: TaskIdParams, body: jsonBody(AssignBody) }, ok: TaskOut,
});
describeRoute({
  method: 'post', path: '/tasks/:id/result', tags: ['tasks'],
  summary: 'The partner\'s answer: closes the task, books the frozen amount once, opens child tasks for onward transfers.',
  request: { params: TaskIdParams, body: jsonBody(TaskResultBody) }, ok: TaskResultAnswer,
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

  r.post('/:id/result', requireRole('liaison', 'partner_system'), async (req, res) => {
    const id = taskId(req);
    const body = parse(TaskResultBody, req.body);
    const { task, childTasks } = await taskResults.record(actorOf(req), id, body, 'api');
    res.json({ ...task, childTasks });
  });

  return r;
}
