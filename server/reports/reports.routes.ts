import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { quota } from '../http/quotas';
import { describeRoute, jsonBody } from '../http/openapi';
import { parse } from '../http/validate';
import { NotFoundError } from '../errors';
import {
  CreateReportBody, IdempotencyKeyHeader, ReasonBody, ReportDetailView, ReportFiled, ReportIdParams, ReportListQuery, ReportSummaryView,
} from './reports.schemas';
import type { Report } from './reports.repo';
import { CASE_DECIDERS } from './case-closing.service';
import { z } from 'zod';

const REPORT_ROLES = ['admin', 'supervisor', 'desk_officer'] as const;

const summary = (rep: Report): z.infer<typeof ReportSummaryView> => ({
  id: rep.id, caseNumber: rep.caseNumber, status: rep.status, closedAt: rep.closedAt, closedReason: rep.closedReason,
  channel: rep.channel, fraudType: rep.fraudType, victimName: rep.victim.name, currency: rep.currency,
  reportedLossMinor: rep.reportedLossMinor, occurredAt: rep.occurredAt, createdAt: rep.createdAt,
});

describeRoute({
  method: 'post', path: '/reports', summary: 'File a fraud report', tags: ['reports'],
  request: { body: jsonBody(CreateReportBody), headers: z.object({ 'idempotency-key': IdempotencyKeyHeader }) },
  okStatus: 201, ok: ReportFiled,
  errors: { 429: 'rate_limited: this person\'s report quota (QUOTA_REPORTS_USER) is spent for now; Retry-After says when to try again' },
});
describeRoute({
  method: 'get', path: '/reports', summary: 'List reports', tags: ['reports'],
  request: { query: ReportListQuery },
  ok: z.object({ items: z.array(ReportSummaryView), nextCursor: z.string().nullable() }),
});
describeRoute({
  method: 'get', path: '/reports/:id', summary: 'A report with its transfers, indicators, tasks, linked reports and timeline', tags: ['reports'],
  request: { params: ReportIdParams }, ok: ReportDetailView,
});
describeRoute({
  method: 'post', path: '/reports/:id/close', tags: ['reports'],
  summary: 'Close a case with a reason (desk officer, supervisor); 409 holds_active while a hold of it still has a balance. Its open tasks are cancelled in the same transaction with the closing reason (not delivered again; a later result is 409 task_closed), except a blocking task another open report joined; reopening opens none again.',
  request: { params: ReportIdParams, body: jsonBody(ReasonBody) }, ok: ReportSummaryView,
});
describeRoute({
  method: 'post', path: '/reports/:id/reopen', tags: ['reports'],
  summary: 'Reopen a closed case with a reason (desk officer, supervisor)',
  request: { params: ReportIdParams, body: jsonBody(ReasonBody) }, ok: ReportSummaryView,
});

/** Ids are opaque: a malformed one names no report, so it is a 404 like any unknown id. */
function reportId(params: unknown): string {
  const parsed = ReportIdParams.safeParse(params);
  if (!parsed.success) throw new NotFoundError('No such report.');
  return parsed.data.id;
}

export function reportsRoutes(deps: Deps): Router {
  const r = Router();
  const { reports, caseClosing } = deps.services;

  r.post('/', requireRole(...REPORT_ROLES), quota(deps, 'reports'), async (req, res) => {
    const input = parse(CreateReportBody, req.body);
    const key = parse(IdempotencyKeyHeader, req.get('idempotency-key'), ['Idempotency-Key']);
    const created = await reports.create(actorOf(req), input, key);
    res.status(201).json(created);
  });

  r.get('/', requireRole(...REPORT_ROLES), async (req, res) => {
    const query = parse(ReportListQuery, req.query);
    const page = await reports.list(actorOf(req), query);
    res.json({ items: page.items.map(summary), nextCursor: page.nextCursor });
  });

  r.get('/:id', requireRole(...REPORT_ROLES), async (req, res) => {
    res.json(await reports.get(actorOf(req), reportId(req.params)));
  });

  r.post('/:id/close', requireRole(...CASE_DECIDERS), async (req, res) => {
    const id = reportId(req.params);
    const body = parse(ReasonBody, req.body);
    res.json(summary(await caseClosing.close(actorOf(req), id, body.reason)));
  });

  r.post('/:id/reopen', requireRole(...CASE_DECIDERS), async (req, res) => {
    const id = reportId(req.params);
    const body = parse(ReasonBody, req.body);
    res.json(summary(await caseClosing.reopen(actorOf(req), id, body.reason)));
  });

  return r;
}
