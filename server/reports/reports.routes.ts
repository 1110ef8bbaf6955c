import { Router } from 'express';
import type { Deps } from '../wiring';
import { actorOf, requireRole } from '../http/auth';
import { describeRoute, jsonBody } from '../http/openapi';
import { parse } from '../http/validate';
import { NotFoundError } from '../errors';
import { CreateReportBody, IdempotencyKeyHeader, ReportDetailView, ReportFiled, ReportIdParams, ReportListQuery, ReportSummaryView } from './reports.schemas';
import { z } from 'zod';

const REPORT_ROLES = ['admin', 'supervisor', 'desk_officer'] as const;

describeRoute({
  method: 'post', path: '/reports', summary: 'File a fraud report', tags: ['reports'],
  request: { body: jsonBody(CreateReportBody), headers: z.object({ 'idempotency-key': IdempotencyKeyHeader }) },
  okStatus: 201, ok: ReportFiled,
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

export function reportsRoutes(deps: Deps): Router {
  const r = Router();
  const reports = deps.services.reports;

  r.post('/', requireRole(...REPORT_ROLES), async (req, res) => {
    const input = parse(CreateReportBody, req.body);
    const key = parse(IdempotencyKeyHeader, req.get('idempotency-key'), ['Idempotency-Key']);
    const created = await reports.create(actorOf(req), input, key);
    res.status(201).json(created);
  });

  r.get('/', requireRole(...REPORT_ROLES), async (req, res) => {
    const query = parse(ReportListQuery, req.query);
    const page = await reports.list(actorOf(req), query);
    res.json({
      items: page.items.map((rep) => ({
        id: rep.id, caseNumber: rep.caseNumber, status: rep.status, channel: rep.channel, fraudType: rep.fraudType,
        victimName: rep.victim.name, currency: rep.currency, reportedLossMinor: rep.reportedLossMinor,
        occurredAt: rep.occurredAt, createdAt: rep.createdAt,
      })),
      nextCursor: page.nextCursor,
    });
  });

  r.get('/:id', requireRole(...REPORT_ROLES), async (req, res) => {
    // Ids are opaque: a malformed one names no report, so it is a 404 like any unknown id.
    const params = ReportIdParams.safeParse(req.params);
    if (!params.success) throw new NotFoundError('No such report.');
    res.json(await reports.get(actorOf(req), params.data.id));
  });

  return r;
}
